import Foundation
import LuaESCore
import LuaESTestSupport
@testable import LuaESPostgres
@testable import LuaESStore
import Testing

/// TLS modes and password authentication against the TLS-only, SCRAM-SHA-256 test cluster
/// (`scripts/postgres-test-server.sh start-tls`: its URL in `ESRUN_TEST_POSTGRES_TLS_URL`, its
/// folder with `ca.crt` and `other-ca.crt` in `ESRUN_TEST_POSTGRES_TLS_DIR`), and a server
/// without TLS (the plain test cluster).
@Suite("PostgreSQL TLS and passwords")
struct PostgresTLSTests {
    static let url = ProcessInfo.processInfo.environment["ESRUN_TEST_POSTGRES_TLS_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let folder = ProcessInfo.processInfo.environment["ESRUN_TEST_POSTGRES_TLS_DIR"] ?? ""
    static let isAvailable: Bool = {
        if url == nil {
            FileHandle.standardError.write(Data(("PostgreSQL TLS tests SKIPPED: ESRUN_TEST_POSTGRES_TLS_URL is not set "
                + "(scripts/test.sh starts one with scripts/postgres-test-server.sh start-tls)\n").utf8))
        }
        return url != nil
    }()
    static let password = "esrun-test-secret"

    /// The TLS server's URL with `host` (localhost or 127.0.0.1), a password or none, and `query`.
    static func url(host: String = "localhost", password: String? = Self.password, _ query: String) -> String {
        var components = URLComponents(string: url!)!
        components.host = host
        components.password = password
        return components.string! + "?schema=" + PostgresTestServer.freshSchema("tls") + "&connect_timeout=5&" + query
    }

    /// Opens a store at `url`, appends two events and reads them back. Schemas on the TLS
    /// cluster are left to go with it (it is deleted after the tests); on the plain one they are dropped.
    static func roundTrip(_ url: String, environment: [String: String] = [:], onPlainCluster: Bool = false) throws {
        let configuration = try PostgresStoreConfiguration(url: url, environment: environment)
        let store = try PostgresEventStore(configuration: configuration)
        defer {
            try? store.close()
            if onPlainCluster { PostgresTestServer.drop(schema: configuration.schema) }
        }
        let stream = StreamID(aggregate: "Counter", key: "tls")
        try store.append(makeEvents(2), to: stream, expectedVersion: 0)
        #expect(try store.events(of: stream).map(\.version) == [1, 2])
    }

    /// The error of opening a store at `url`, which must fail.
    static func failure(_ url: String, environment: [String: String] = [:]) throws -> String {
        let configuration = try PostgresStoreConfiguration(url: url, environment: environment)
        do {
            let store = try PostgresEventStore(configuration: configuration)
            try? store.close()
            Issue.record("\(url) must not connect")
            return ""
        } catch let error as StoreError {
            #expect(error.kind == .store, "a refusal that trying again cannot fix is not \"unavailable\": \(error)")
            #expect(!error.description.contains(password), "the password must never appear in an error: \(error)")
            return error.description
        }
    }

    @Test(.enabled(if: isAvailable, "needs ESRUN_TEST_POSTGRES_TLS_URL"))
    func everyModeThatCanConnectDoes() throws {
        let ca = Self.folder + "/ca.crt"
        try Self.roundTrip(Self.url("sslmode=prefer"))
        try Self.roundTrip(Self.url("sslmode=require"))
        try Self.roundTrip(Self.url("sslmode=require&sslrootcert=\(ca)"))
        // verify-ca checks the signature, not the name: 127.0.0.1 is not in the certificate
        try Self.roundTrip(Self.url(host: "127.0.0.1", "sslmode=verify-ca&sslrootcert=\(ca)"))
        try Self.roundTrip(Self.url("sslmode=verify-full&sslrootcert=\(ca)"))
    }

    @Test(.enabled(if: isAvailable, "needs ESRUN_TEST_POSTGRES_TLS_URL"))
    func thePasswordMayComeFromPGPASSWORD() throws {
        try Self.roundTrip(Self.url(password: nil, "sslmode=require"), environment: ["PGPASSWORD": Self.password])
        let message = try Self.failure(Self.url(password: nil, "sslmode=require"))
        #expect(message.contains("asks for a password and none was given"), "\(message)")
    }

    @Test(.enabled(if: isAvailable, "needs ESRUN_TEST_POSTGRES_TLS_URL"))
    func aWrongPasswordIsAClearError() throws {
        let message = try Self.failure(Self.url(password: "not-the-password", "sslmode=require"))
        #expect(message.contains("28P01") && message.contains("password authentication failed"), "\(message)")
        #expect(!message.contains("not-the-password"))
    }

    @Test(.enabled(if: isAvailable, "needs ESRUN_TEST_POSTGRES_TLS_URL"))
    func aCertificateOfAnotherCAIsRefused() throws {
        let message = try Self.failure(Self.url("sslmode=verify-ca&sslrootcert=\(Self.folder)/other-ca.crt"))
        #expect(message.contains("TLS handshake failed") && message.contains("CERTIFICATE_VERIFY_FAILED"), "\(message)")
        #expect(message.contains("localhost:"), "the error names the server: \(message)")
    }

    @Test(.enabled(if: isAvailable, "needs ESRUN_TEST_POSTGRES_TLS_URL"))
    func verifyFullChecksTheHostName() throws {
        let message = try Self.failure(Self.url(host: "127.0.0.1", "sslmode=verify-full&sslrootcert=\(Self.folder)/ca.crt"))
        #expect(message.contains("certificate") && message.contains("127.0.0.1"), "\(message)")
    }

    @Test(.enabled(if: isAvailable, "needs ESRUN_TEST_POSTGRES_TLS_URL"))
    func withoutTLSTheServerRefuses() throws {
        let message = try Self.failure(Self.url("sslmode=disable"))
        #expect(message.contains("no encryption"), "the server's reason (pg_hba.conf): \(message)")
    }

    @Test(.enabled(if: PostgresTestServer.isAvailable, "needs ESRUN_TEST_POSTGRES_URL (a server without TLS)"))
    func requiringTLSFromAServerWithoutItIsAClearError() throws {
        let plain = PostgresTestServer.url(schema: PostgresTestServer.freshSchema("notls"))
        for mode in ["require", "verify-ca", "verify-full"] {
            let message = try Self.failure(plain + "&sslmode=" + mode)
            #expect(message.contains("does not support TLS"), "\(mode): \(message)")
        }
        // prefer falls back to a plain connection, as libpq does
        try Self.roundTrip(PostgresTestServer.url(schema: PostgresTestServer.freshSchema("notls")) + "&sslmode=prefer",
                           onPlainCluster: true)
    }

    @Test(.enabled(if: PostgresTestServer.isAvailable, "needs ESRUN_TEST_POSTGRES_URL"))
    func aStatementTimeoutCancelsAndWritesNothing() throws {
        let url = PostgresTestServer.url(schema: PostgresTestServer.freshSchema("timeout")) + "&statement_timeout=0.3"
        let configuration = try PostgresStoreConfiguration(url: url)
        let store = try PostgresEventStore(configuration: configuration)
        defer {
            try? store.close()
            PostgresTestServer.drop(schema: configuration.schema)
        }
        let stream = StreamID(aggregate: "Counter", key: "slow")
        store.hooks.pauseBeforeCommit = { .seconds(2) }
        let error = #expect(throws: StoreError.self) { try store.append(makeEvents(1), to: stream, expectedVersion: 0) }
        #expect(error?.description.contains("57014") == true, "query_canceled: \(String(describing: error))")
        store.hooks.pauseBeforeCommit = nil
        #expect(try store.events(of: stream).isEmpty, "a cancelled append commits nothing")
        try store.append(makeEvents(1), to: stream, expectedVersion: 0)  // and the store goes on
        #expect(try store.version(of: stream) == 1)
    }
}
