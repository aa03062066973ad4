import LuaESCore
@testable import LuaESRedis
import Testing

@Suite struct RedisConfigurationTests {
    @Test func readsEveryPartOfTheURL() throws {
        let c = try RedisSnapshotStoreConfiguration(
            url: "rediss://app:s%40cret@cache.example:6380/3?prefix=my%20app&ttl=3600&connect_timeout=0.5&pool=4&tls_ca=/etc/ca.pem&tls_verify=full")
        #expect(c.host == "cache.example")
        #expect(c.port == 6380)
        #expect(c.username == "app")
        #expect(c.password == "s@cret")
        #expect(c.database == 3)
        #expect(c.prefix == "my app")
        #expect(c.ttl == 3600)
        #expect(c.connectTimeout == .milliseconds(500))
        #expect(c.poolSize == 4)
        #expect(c.tls)
        #expect(c.tlsCAFile == "/etc/ca.pem")
        #expect(c.displayName == "rediss://app@cache.example:6380/3?prefix=my app")
        #expect(!c.displayName.contains("s@cret"))
    }

    @Test func defaults() throws {
        let c = try RedisSnapshotStoreConfiguration(url: "redis://localhost")
        #expect(c == RedisSnapshotStoreConfiguration(host: "localhost"))
        #expect(c.port == 6379 && c.database == 0 && c.prefix == "esrun" && c.ttl == nil && !c.tls && c.password == nil)
        let passwordOnly = try RedisSnapshotStoreConfiguration(url: "redis://:pw@127.0.0.1:7000?ttl=0")
        #expect(passwordOnly.username == nil && passwordOnly.password == "pw" && passwordOnly.ttl == nil)
    }

    @Test(arguments: [
        "postgres://localhost", "localhost:6379", "redis://h/db1", "redis://h/-1", "redis://h?ttl=-5", "redis://h?ttl=x",
        "redis://h?connect_timeout=0", "redis://h?pool=0", "redis://h?pool=1000", "redis://h?prefix=", "redis://h?nope=1",
        "redis://h?tls_ca=/x.pem", "redis://h?tls_verify=none", "rediss://h?tls_verify=maybe", "redis://h:99999", "",
    ])
    func badURLsAreClearInputErrors(_ url: String) {
        #expect {
            _ = try RedisSnapshotStoreConfiguration(url: url)
        } throws: { error in
            guard let error = error as? InputError else { return false }
            return error.code == "bad_url" && error.kind == .invalid && !error.message.isEmpty
        }
    }

    @Test func anUnreadableCAFileIsAnInvalidErrorAtOpen() throws {
        let configuration = try RedisSnapshotStoreConfiguration(url: "rediss://127.0.0.1:1?tls_ca=/nonexistent/ca.pem")
        #expect {
            _ = try RedisSnapshotStore(configuration: configuration)
        } throws: { error in
            "\(error)".contains("/nonexistent/ca.pem")
        }
    }

    @Test func keysSayTheAggregateLengthSoNamesWithColonsStayApart() throws {
        let store = try RedisSnapshotStore(configuration: RedisSnapshotStoreConfiguration(prefix: "p"))
        #expect(store.key(of: .init(aggregate: "Counter", key: "c1")) == "p:snap:7:Counter:c1")
        #expect(store.key(of: .init(aggregate: "a:b", key: "c")) != store.key(of: .init(aggregate: "a", key: "b:c")))
        #expect(store.key(of: .init(aggregate: "🧾", key: "k")) == "p:snap:4:🧾:k")
        try store.close()
    }
}
