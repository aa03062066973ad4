import LuaESCore

/// A page of feed events as projections.lua reads them: one JSON array of objects with
/// one-letter names, `{"p","a","k","v","t","s","r","d","m"}` (position, aggregate, key,
/// version, type, schema, recorded_at, data, meta), written into one buffer because this
/// runs once per event of a catch-up.
public struct FeedRows {
    private var bytes: [UInt8] = [UInt8(ascii: "[")]
    public private(set) var count = 0

    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity * 256) }

    public mutating func append(position: Int64, aggregate: String, key: String, version: Int64, type: String,
                                schema: Int, recordedAt: Int64, data: String, meta: String) {
        func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }
        raw(count == 0 ? "{\"p\":" : ",{\"p\":")
        raw(String(position))
        raw(",\"a\":")
        raw(JSONText.quote(aggregate))
        raw(",\"k\":")
        raw(JSONText.quote(key))
        raw(",\"v\":")
        raw(String(version))
        raw(",\"t\":")
        raw(JSONText.quote(type))
        raw(",\"s\":")
        raw(String(schema))
        raw(",\"r\":")
        raw(String(recordedAt))
        raw(",\"d\":")
        raw(data)
        raw(",\"m\":")
        raw(meta.isEmpty ? "{}" : meta)
        bytes.append(UInt8(ascii: "}"))
        count += 1
    }

    var json: String { String(decoding: bytes, as: UTF8.self) + "]" }
}
