import Foundation

/// The Redis server of the tests: `ESRUN_TEST_REDIS_URL` (plain), `ESRUN_TEST_REDISS_URL`
/// (TLS, its CA in `ESRUN_TEST_REDIS_CA`), which scripts/test.sh sets after starting a
/// throwaway server (scripts/redis-test-server.sh). Without them the Redis tests are
/// skipped, and this says so on stderr once.
public enum RedisTestServer {
    public static let url: String? = {
        let value = environment("ESRUN_TEST_REDIS_URL")
        if value == nil {
            FileHandle.standardError.write(Data(("Redis tests SKIPPED: ESRUN_TEST_REDIS_URL is not set "
                + "(scripts/test.sh starts a server with scripts/redis-test-server.sh)\n").utf8))
        }
        return value
    }()

    public static var tlsURL: String? { url == nil ? nil : environment("ESRUN_TEST_REDISS_URL") }
    public static var caFile: String? { environment("ESRUN_TEST_REDIS_CA") }
    public static var isAvailable: Bool { url != nil }

    /// A key prefix of its own for each test, so that tests running at once do not meet.
    public static func freshPrefix() -> String { "t" + UUID().uuidString.prefix(12).lowercased() }

    /// `url` with one more query parameter.
    public static func adding(_ parameter: String, to url: String) -> String {
        url + (url.contains("?") ? "&" : "?") + parameter
    }

    private static func environment(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }
}
