import Foundation
import Logging
import LuaESCore
@testable import LuaESRedis
import LuaESStore
import LuaESTestSupport
import Testing

/// The Redis store against the tests' server: logins, TLS, TTL, the script cache, errors.
@Suite(.enabled(if: RedisTestServer.isAvailable, "needs ESRUN_TEST_REDIS_URL (scripts/test.sh)"))
struct RedisSnapshotStoreTests {
    let stream = StreamID(aggregate: "Counter", key: "c1")

    func store(_ url: String, _ parameters: String...) throws -> RedisSnapshotStore {
        var url = RedisTestServer.adding("prefix=\(RedisTestServer.freshPrefix())", to: url)
        for parameter in parameters { url = RedisTestServer.adding(parameter, to: url) }
        return try RedisSnapshotStore(configuration: RedisSnapshotStoreConfiguration(url: url))
    }

    /// The test server's URL with another password (or none).
    func url(password: String?) throws -> String {
        let configuration = try RedisSnapshotStoreConfiguration(url: RedisTestServer.url!)
        return "redis://" + (password.map { ":\($0)@" } ?? "") + configuration.address + "/0"
    }

    /// The message of the `StoreError` that `body` throws.
    func failure(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "(no error)"
        } catch let error as StoreError {
            #expect(error.kind == .store || error.kind == .invalid, "\(error)")
            return error.message
        } catch {
            return "not a StoreError: \(error)"
        }
    }

    @Test func aWrongPasswordIsAClearError() throws {
        let address = try RedisSnapshotStoreConfiguration(url: RedisTestServer.url!).address
        let wrong = try store(url(password: "not-the-password"))
        let message = failure { _ = try wrong.snapshot(of: stream) }
        #expect(message.contains("Redis at \(address) refused the login"), "\(message)")
        #expect(message.contains("WRONGPASS"), "\(message)")
        #expect(!message.contains("not-the-password"), "never the password")
        #expect(throws: StoreError.self) { try wrong.ping() }
        let none = try store(url(password: nil))
        let noAuth = failure { try none.saveSnapshot(Snapshot(stream: stream, version: 1, state: "{}", fingerprint: "f")) }
        #expect(noAuth.contains("wants a password") && noAuth.contains(address), "\(noAuth)")
    }

    @Test func aServerThatIsNotThereIsNamed() throws {
        let down = try store("redis://127.0.0.1:1/0", "connect_timeout=1")
        let message = failure { _ = try down.snapshot(of: stream) }
        #expect(message.contains("cannot connect to Redis at 127.0.0.1:1"), "\(message)")
        #expect(message.contains("reading the snapshot of Counter/c1"), "\(message)")
    }

    @Test(.enabled(if: RedisTestServer.tlsURL != nil)) func tlsWithTheRightCAWorksAndAWrongOneIsAClearError() throws {
        let good = try store(RedisTestServer.tlsURL!)
        try good.ping()
        let snapshot = Snapshot(stream: stream, version: 3, state: #"{"tls":true}"#, fingerprint: "f")
        try good.saveSnapshot(snapshot)
        #expect(try good.snapshot(of: snapshot.stream) == snapshot)

        let otherCA = URL(fileURLWithPath: RedisTestServer.caFile!).deletingLastPathComponent().appendingPathComponent("other-ca.pem").path
        let tlsURL = RedisTestServer.tlsURL!.replacingOccurrences(of: RedisTestServer.caFile!, with: otherCA)
        let wrong = try store(tlsURL)
        let message = failure { _ = try wrong.snapshot(of: stream) }
        #expect(message.contains("TLS with Redis at 127.0.0.1:"), "\(message)")
        #expect(message.contains(otherCA), "says which CA file: \(message)")

        let systemCAs = try store(tlsURL.components(separatedBy: "?")[0])
        #expect(failure { _ = try systemCAs.snapshot(of: stream) }.contains("TLS with Redis"))
        let unverified = try store(tlsURL.components(separatedBy: "?")[0], "tls_verify=none")
        #expect(try unverified.snapshot(of: stream) == nil, "another prefix: no snapshot, but a working connection")
    }

    @Test(.enabled(if: RedisTestServer.tlsURL != nil)) func plainTextToTheTLSPortSaysSo() throws {
        let plain = RedisTestServer.tlsURL!.replacingOccurrences(of: "rediss://", with: "redis://").components(separatedBy: "?")[0]
        let message = failure { _ = try store(plain, "connect_timeout=2").snapshot(of: stream) }
        #expect(message.contains("Redis at 127.0.0.1:"), "\(message)")
    }

    @Test func aTTLMakesSnapshotsExpire() throws {
        let store = try store(RedisTestServer.url!, "ttl=100")
        try store.saveSnapshot(Snapshot(stream: stream, version: 1, state: "{}", fingerprint: "f"))
        let ttl = try raw(store, RESPCommand("TTL", store.key(of: stream)))
        guard case .integer(let seconds) = ttl else { Issue.record("TTL answered \(ttl)"); return }
        #expect((1...100).contains(seconds))
        let forever = try self.store(RedisTestServer.url!)
        try forever.saveSnapshot(Snapshot(stream: stream, version: 1, state: "{}", fingerprint: "f"))
        #expect(try raw(forever, RESPCommand("TTL", forever.key(of: stream))) == .integer(-1))
    }

    @Test func aFlushedScriptCacheFallsBackToEval() throws {
        let store = try store(RedisTestServer.url!)
        try store.saveSnapshot(Snapshot(stream: stream, version: 1, state: "{}", fingerprint: "f"))
        #expect(try raw(store, RESPCommand("SCRIPT", "FLUSH")) == .simple("OK"))
        let two = Snapshot(stream: stream, version: 2, state: #"{"n":2}"#, fingerprint: "f")
        try store.saveSnapshot(two)
        #expect(try store.snapshot(of: stream) == two)
    }

    @Test func aHashThatIsNotASnapshotIsAnErrorNotACrash() throws {
        let store = try store(RedisTestServer.url!)
        _ = try raw(store, RESPCommand("HSET", store.key(of: stream), "v", "twelve", "f", "x", "s", "{}"))
        #expect(failure { _ = try store.snapshot(of: stream) }.contains("is not an esrun snapshot"))
        let other = StreamID(aggregate: "Counter", key: "c2")
        _ = try raw(store, RESPCommand("SET", store.key(of: other), "plain"))
        #expect(failure { _ = try store.snapshot(of: other) }.contains("WRONGTYPE"))
    }

    @Test func closedStoresThrow() throws {
        let store = try store(RedisTestServer.url!)
        try store.close()
        #expect(throws: StoreError.closed) { _ = try store.snapshot(of: stream) }
    }

    /// One command on the store's own connections (the tests' window into the server).
    func raw(_ store: RedisSnapshotStore, _ command: RESPCommand) throws -> RESPValue {
        try store.send(command, while: "testing")
    }
}
