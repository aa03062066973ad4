import Foundation
import LuaESCore
import LuaESStore

/// Where a `PostgresEventStore` connects, read from a URL:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME&pool=N&connect_timeout=SECONDS`
/// `&statement_timeout=SECONDS&sslmode=MODE&sslrootcert=PATH]`.
///
/// `schema` (default `esrun`) is the PostgreSQL schema that holds the tables, created on
/// first use; `pool` (default 20) is the largest number of connections this process opens;
/// `connect_timeout` (default 5) is how long a call waits for a connection before it fails;
/// `statement_timeout` (default none) is how long the server lets one statement run.
/// `sslmode` and `sslrootcert` mean what they mean to libpq (see `SSLMode`). The password
/// comes from the URL or, when the URL has none, from `PGPASSWORD`; SCRAM-SHA-256, MD5 and
/// clear-text password authentication are all answered (postgres-nio), and the password is
/// never logged (`displayName`).
public struct PostgresStoreConfiguration: Sendable, Equatable {
    /// How the connection uses TLS, as libpq's `sslmode`.
    public enum SSLMode: String, Sendable, CaseIterable {
        /// Never TLS.
        case disable
        /// TLS when the server offers it, else plain; the certificate is not checked (libpq's default).
        case prefer
        /// TLS or no connection; the certificate is not checked, unless `sslrootcert` is given
        /// (then as `verify-ca`, as libpq does).
        case require
        /// TLS, with a certificate signed by `sslrootcert` (or a CA the system trusts).
        case verifyCA = "verify-ca"
        /// As `verify-ca`, and the certificate must name the host of the URL.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    /// The schema (namespace) of the tables: a lowercase SQL identifier.
    public var schema: String
    public var poolSize: Int
    public var connectTimeout: Duration
    /// The server's `statement_timeout` for the store's connections; nil leaves the server's setting.
    public var statementTimeout: Duration?
    public var sslMode: SSLMode
    /// A PEM file of the CAs that may sign the server's certificate; nil: the system's.
    public var sslRootCertificate: String?

    /// A configuration with the defaults above.
    public init(host: String = "127.0.0.1", port: Int = 5432, username: String = "postgres", password: String? = nil,
                database: String = "postgres", schema: String = "esrun", poolSize: Int = 20,
                connectTimeout: Duration = .seconds(5), statementTimeout: Duration? = nil,
                sslMode: SSLMode = .prefer, sslRootCertificate: String? = nil) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.schema = schema
        self.poolSize = poolSize
        self.connectTimeout = connectTimeout
        self.statementTimeout = statementTimeout
        self.sslMode = sslMode
        self.sslRootCertificate = sslRootCertificate
    }

    /// Reads a `postgres://` (or `postgresql://`) URL; `environment` supplies `PGPASSWORD`.
    /// - Throws: `InputError` (`bad_url`) naming what is wrong with it.
    public init(url text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard let url = URLComponents(string: text), let scheme = url.scheme,
              ["postgres", "postgresql"].contains(scheme.lowercased()) else {
            throw InputError("bad_url", "--postgres wants a URL like postgres://user@127.0.0.1:5432/database, not \"\(text)\"")
        }
        self.init()
        if let host = url.host, !host.isEmpty { self.host = host }
        if let port = url.port { self.port = port }
        if let user = url.user, !user.isEmpty { username = user.removingPercentEncoding ?? user }
        password = url.password.map { $0.removingPercentEncoding ?? $0 } ?? environment["PGPASSWORD"]
        let path = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        if !path.isEmpty { database = path.removingPercentEncoding ?? path }
        for item in url.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "schema": schema = value
            case "pool":
                guard let size = Int(value), size > 0 else { throw InputError("bad_url", "pool=\(value): a positive number of connections") }
                poolSize = size
            case "connect_timeout":
                guard let seconds = Double(value), seconds > 0 else { throw InputError("bad_url", "connect_timeout=\(value): seconds, more than 0") }
                connectTimeout = .milliseconds(Int64(seconds * 1000))
            case "statement_timeout":
                guard let seconds = Double(value), seconds > 0 else { throw InputError("bad_url", "statement_timeout=\(value): seconds, more than 0") }
                statementTimeout = .milliseconds(Int64(seconds * 1000))
            case "sslmode":
                guard let mode = SSLMode(rawValue: value) else {
                    throw InputError("bad_url", "sslmode=\(value): one of " + SSLMode.allCases.map(\.rawValue).joined(separator: ", "))
                }
                sslMode = mode
            case "sslrootcert":
                guard !value.isEmpty else { throw InputError("bad_url", "sslrootcert= needs the path of a PEM file of CA certificates") }
                sslRootCertificate = value
            default:
                throw InputError("bad_url", "unknown parameter \"\(item.name)\" in the PostgreSQL URL (known: schema, pool, "
                    + "connect_timeout, statement_timeout, sslmode, sslrootcert)")
            }
        }
        try Self.checkIdentifier(schema)
        if sslRootCertificate != nil, sslMode == .disable || sslMode == .prefer {
            throw InputError("bad_url", "sslrootcert is only used to verify the server: add sslmode=verify-full (or verify-ca)")
        }
        _ = try tlsConfiguration()  // an unreadable CA file is a URL error, before anything connects
    }

    /// `host:port`, for messages.
    public var address: String { "\(host):\(port)" }

    /// The URL without the password, for logs and `/health`.
    public var displayName: String {
        "postgres://\(username)@\(address)/\(database)?schema=\(schema)" + (sslMode == .prefer ? "" : "&sslmode=\(sslMode.rawValue)")
    }

    /// The schema name goes into SQL text (identifiers cannot be bound), so only plain
    /// lowercase identifiers are accepted.
    static func checkIdentifier(_ name: String) throws {
        let valid = !name.isEmpty && name.utf8.count <= 63 && name.utf8.allSatisfy {
            ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                || $0 == UInt8(ascii: "_")
        } && !(name.utf8.first.map { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } ?? true)
        guard valid else {
            throw InputError("bad_url", "schema \"\(name)\": use lowercase letters, digits and _ (at most 63, not starting with a digit)")
        }
    }
}
