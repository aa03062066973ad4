import Foundation
import Logging
import LuaESCore
import LuaESStore

/// Snapshots in Redis (`esrun --snapshots redis://...`), for any event store
/// (`SeparateSnapshotsEventStore`).
///
/// The client is our own small RESP2 one on SwiftNIO and NIOSSL (`RESPConnection`), not
/// hiredis: Debian's libhiredis-dev (0.14) has no TLS, a snapshot read is on the load path
/// of every cold command, and two commands (HMGET, EVALSHA) need very little protocol.
///
/// Key layout: one hash per stream, `PREFIX:snap:N:AGGREGATE:KEY`, where N is the byte
/// length of the aggregate name, so that any UTF-8 names (colons included) map to distinct
/// keys; fields `v` (version, decimal), `f` (fingerprint), `s` (the state's JSON text).
/// A save is one script (`RedisSnapshotScript`) run with EVALSHA, falling back to EVAL when
/// the server has not the script cached (NOSCRIPT, after a restart or SCRIPT FLUSH).
public final class RedisSnapshotStore: SnapshotStore, @unchecked Sendable {
    // @unchecked: `scriptSHA` is read and written only while `lock` is held; the pool is
    // thread-safe (its own locks), the rest is immutable.
    public let configuration: RedisSnapshotStoreConfiguration
    private let pool: RedisConnectionPool
    private let lock = NSLock()
    private var scriptSHA: String?

    /// Makes the store; it connects on first use (a server that is down fails calls, not this).
    /// - Throws: `StoreError.invalid` when the TLS settings cannot be used (an unreadable CA file).
    public init(configuration: RedisSnapshotStoreConfiguration, logger: Logger = Logger(label: "esrun.redis")) throws {
        self.configuration = configuration
        self.pool = try RedisConnectionPool(configuration: configuration, logger: logger)
    }

    /// The Redis key of `stream`'s snapshot.
    public func key(of stream: StreamID) -> String {
        "\(configuration.prefix):snap:\(stream.aggregate.utf8.count):\(stream.aggregate):\(stream.key)"
    }

    /// Checks that the server answers (connecting, logging in, selecting the database).
    /// - Throws: `StoreError.io` saying why not.
    public func ping() throws {
        let reply = try pool.send(RESPCommand("PING"), while: "pinging")
        try check(reply, while: "pinging")
    }

    public func snapshot(of stream: StreamID) throws -> Snapshot? {
        let what = "reading the snapshot of \(stream)"
        let reply = try pool.send(RESPCommand("HMGET", key(of: stream), "v", "f", "s"), while: what)
        try check(reply, while: what)
        guard case .array(let fields?) = reply, fields.count == 3 else {
            throw StoreError.io("Redis at \(configuration.address): \(what): unexpected reply \(reply)")
        }
        if fields.allSatisfy(\.isNull) { return nil }
        guard let versionText = fields[0].string, let version = Int64(versionText),
              let fingerprint = fields[1].string, let state = fields[2].string else {
            throw StoreError.io("Redis at \(configuration.address): the hash \(key(of: stream)) is not an esrun snapshot")
        }
        return Snapshot(stream: stream, version: version, state: state, fingerprint: fingerprint)
    }

    public func saveSnapshot(_ snapshot: Snapshot) throws {
        guard snapshot.version >= 0 else { throw StoreError.invalid("snapshot version \(snapshot.version) is negative") }
        let what = "saving the snapshot of \(snapshot.stream)"
        let arguments = ["1", key(of: snapshot.stream), String(snapshot.version), snapshot.fingerprint, snapshot.state,
                         String(configuration.ttl ?? 0)]
        let sha = try loadedScript(while: what)
        var reply = try pool.send(RESPCommand(["EVALSHA", sha] + arguments), while: what)
        if case .error(let message) = reply, message.hasPrefix("NOSCRIPT") {
            reply = try pool.send(RESPCommand(["EVAL", RedisSnapshotScript.source] + arguments), while: what)
        }
        try check(reply, while: what)
        guard case .integer = reply else {
            throw StoreError.io("Redis at \(configuration.address): \(what): unexpected reply \(reply)")
        }
    }

    public func close() throws {
        pool.close()
    }

    /// The SHA1 of the save script, which the server computes (SCRIPT LOAD) once per store.
    private func loadedScript(while what: String) throws -> String {
        if let sha = lock.withLock({ scriptSHA }) { return sha }
        let reply = try pool.send(RESPCommand("SCRIPT", "LOAD", RedisSnapshotScript.source), while: what)
        try check(reply, while: what)
        guard let sha = reply.string else {
            throw StoreError.io("Redis at \(configuration.address): SCRIPT LOAD answered \(reply)")
        }
        lock.withLock { scriptSHA = sha }
        return sha
    }

    /// Turns an error reply into a `StoreError.io` that says what to do when it can.
    private func check(_ reply: RESPValue, while what: String) throws {
        guard case .error(let message) = reply else { return }
        let place = "Redis at \(configuration.address)"
        if message.hasPrefix("NOAUTH") {
            throw StoreError.io("\(place) wants a password (\(message)): give it in the URL, redis://:PASSWORD@\(configuration.address)")
        }
        if message.hasPrefix("WRONGTYPE") {
            throw StoreError.io("\(place): \(what): the key is not an esrun snapshot hash (\(message)); is another program using prefix \(configuration.prefix)?")
        }
        throw StoreError.io("\(place): \(what) failed: \(message)")
    }
}

extension RedisSnapshotStore {
    /// Sends any command on the store's connections (for tests and tools).
    func send(_ command: RESPCommand, while what: String) throws -> RESPValue {
        try pool.send(command, while: what)
    }
}
