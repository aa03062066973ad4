/// A page of events as replay needs them: type and data bytes back to back, no
/// `String` per field. Stores fill it straight from their rows (the hot path of a cold load)
/// and the Lua host replays it without copying (LuaHost.replay).
public struct ReplayPage: Sendable {
    public struct Entry: Sendable {
        public var typeOffset: Int
        public var typeLength: Int
        public var dataOffset: Int
        public var dataLength: Int
        public var schema: Int
        public var version: Int64
    }

    public private(set) var bytes: [UInt8] = []
    public private(set) var entries: [Entry] = []

    public init() {}

    public var count: Int { entries.count }
    public var lastVersion: Int64? { entries.last?.version }

    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
    }

    /// The row-reading stores' overload: a non-generic copy of two byte spans (the generic one
    /// below, called across modules, runs unspecialised: witness tables and metadata per row).
    public mutating func append(type: UnsafeBufferPointer<UInt8>, data: UnsafeBufferPointer<UInt8>, schema: Int, version: Int64) {
        let t = bytes.count
        bytes.append(contentsOf: type)
        let d = bytes.count
        bytes.append(contentsOf: data)
        entries.append(Entry(typeOffset: t, typeLength: d - t, dataOffset: d, dataLength: bytes.count - d,
                             schema: schema, version: version))
    }

    public mutating func append<T: Collection, D: Collection>(type: T, data: D, schema: Int, version: Int64)
    where T.Element == UInt8, D.Element == UInt8 {
        let t = bytes.count
        bytes.append(contentsOf: type)
        let d = bytes.count
        bytes.append(contentsOf: data)
        entries.append(Entry(typeOffset: t, typeLength: d - t, dataOffset: d, dataLength: bytes.count - d,
                             schema: schema, version: version))
    }
}
