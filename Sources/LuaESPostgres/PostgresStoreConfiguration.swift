import Foundation
import LuaESCore
import LuaESStore

/// Where a `PostgresEventStore` connects, read from a URL:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME&pool=N&connect_timeout=SECONDS]`.
///
/// `schema` (default `esrun`) is the PostgreSQL schema that holds the tables, created on
/// first use; `pool` (default 20) is the largest number of connections this process opens;
/// `connect_timeout` (default 5) is how long a call waits for a connection before it fails.
/// The connection is not encrypted (`sslmode=disable`, the only mode supported): run the
/// database on the same host or a private network, or tunnel it.
public struct PostgresStoreConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    /// The schema (namespace) of the tables: a lowercase SQL identifier.
    public var schema: String
    public var poolSize: Int
    public var connectTimeout: Duration

    /// A configuration with the defaults above.
    public init(host: String = "127.0.0.1", port: Int = 5432, username: String = "postgres", password: String? = nil,
                database: String = "postgres", schema: String = "esrun", poolSize: Int = 20,
                connectTimeout: Duration = .seconds(5)) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.schema = schema
        self.poolSize = poolSize
        self.connectTimeout = connectTimeout
    }

    /// Reads a `postgres://` (or `postgresql://`) URL.
    /// - Throws: `StoreError.invalid` naming what is wrong with it.
    public init(url text: String) throws {
        guard let url = URLComponents(string: text), let scheme = url.scheme,
              ["postgres", "postgresql"].contains(scheme.lowercased()) else {
            throw InputError("bad_url", "--postgres wants a URL like postgres://user@127.0.0.1:5432/database, not \"\(text)\"")
        }
        self.init()
        if let host = url.host, !host.isEmpty { self.host = host }
        if let port = url.port { self.port = port }
        if let user = url.user, !user.isEmpty { username = user.removingPercentEncoding ?? user }
        password = url.password.map { $0.removingPercentEncoding ?? $0 }
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
            case "sslmode":
                guard value == "disable" else {
                    throw InputError("bad_url", "sslmode=\(value) is not supported: esrun connects to PostgreSQL without TLS (sslmode=disable)")
                }
            default:
                throw InputError("bad_url", "unknown parameter \"\(item.name)\" in the PostgreSQL URL (known: schema, pool, connect_timeout, sslmode)")
            }
        }
        try Self.checkIdentifier(schema)
    }

    /// `host:port`, for messages.
    public var address: String { "\(host):\(port)" }

    /// The URL without the password, for logs and `/health`.
    public var displayName: String { "postgres://\(username)@\(address)/\(database)?schema=\(schema)" }

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
