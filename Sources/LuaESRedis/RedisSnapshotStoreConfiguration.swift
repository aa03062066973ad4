import Foundation
import LuaESCore

/// Where a `RedisSnapshotStore` connects, read from a URL:
/// `redis://[USER:PASSWORD@]HOST[:PORT][/DB][?prefix=NAME&ttl=SECONDS&connect_timeout=SECONDS&pool=N]`,
/// or `rediss://...` for TLS, which also takes `tls_ca=PATH` (a PEM file of the CAs to trust,
/// instead of the system's) and `tls_verify=full|none`.
///
/// `prefix` (default `esrun`) starts every key; `ttl` (default 0: never) makes each snapshot
/// expire that many seconds after its last save; `connect_timeout` (default 2) bounds both a
/// connection attempt and the wait for each reply; `pool` (default 2) is the number of
/// connections, each shared by many callers at once (RESP pipelining). With a password and
/// no user, `AUTH PASSWORD` is sent (the `default` user); with both, `AUTH USER PASSWORD`
/// (Redis 6 ACLs). `tls_verify=none` encrypts without checking the server's certificate.
public struct RedisSnapshotStoreConfiguration: Sendable, Equatable {
    public enum Verification: String, Sendable {
        case full, none
    }

    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int
    public var prefix: String
    /// Seconds a snapshot lives after its last save; nil: forever.
    public var ttl: Int?
    public var connectTimeout: Duration
    public var poolSize: Int
    public var tls: Bool
    /// A PEM file with the CAs that sign the server's certificate (`rediss://` only).
    public var tlsCAFile: String?
    public var tlsVerification: Verification

    /// A configuration with the defaults above.
    public init(host: String = "127.0.0.1", port: Int = 6379, username: String? = nil, password: String? = nil,
                database: Int = 0, prefix: String = "esrun", ttl: Int? = nil, connectTimeout: Duration = .seconds(2),
                poolSize: Int = 2, tls: Bool = false, tlsCAFile: String? = nil, tlsVerification: Verification = .full) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.prefix = prefix
        self.ttl = ttl
        self.connectTimeout = connectTimeout
        self.poolSize = poolSize
        self.tls = tls
        self.tlsCAFile = tlsCAFile
        self.tlsVerification = tlsVerification
    }

    /// Reads a `redis://` or `rediss://` URL.
    /// - Throws: `InputError` (`bad_url`) naming what is wrong with it.
    public init(url text: String) throws {
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(),
              scheme == "redis" || scheme == "rediss" else {
            throw InputError("bad_url", "--snapshots wants a URL like redis://127.0.0.1:6379/0?prefix=esrun, not \"\(text)\"")
        }
        self.init(tls: scheme == "rediss")
        if let host = url.host, !host.isEmpty { self.host = host.removingPercentEncoding ?? host }
        if let port = url.port {
            guard (1...65535).contains(port) else { throw InputError("bad_url", "port \(port): 1 to 65535") }
            self.port = port
        }
        if let user = url.user, !user.isEmpty { username = user.removingPercentEncoding ?? user }
        if let password = url.password, !password.isEmpty { self.password = password.removingPercentEncoding ?? password }
        let path = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        if !path.isEmpty {
            guard let number = Int(path), number >= 0 else {
                throw InputError("bad_url", "database \"\(path)\": the path of a Redis URL is a database number (0, 1, ...)")
            }
            database = number
        }
        for item in url.queryItems ?? [] {
            try apply(item.name, item.value ?? "")
        }
        if !tls && (tlsCAFile != nil || tlsVerification != .full) {
            throw InputError("bad_url", "tls_ca and tls_verify need TLS: use rediss://")
        }
    }

    private mutating func apply(_ name: String, _ value: String) throws {
        switch name {
        case "prefix":
            guard !value.isEmpty else { throw InputError("bad_url", "prefix=: give a name, or leave the default (esrun)") }
            prefix = value
        case "ttl":
            guard let seconds = Int(value), seconds >= 0 else { throw InputError("bad_url", "ttl=\(value): whole seconds, 0 for none") }
            ttl = seconds == 0 ? nil : seconds
        case "connect_timeout":
            guard let seconds = Double(value), seconds > 0, seconds <= 3600 else {
                throw InputError("bad_url", "connect_timeout=\(value): seconds, more than 0")
            }
            connectTimeout = .milliseconds(Int64(seconds * 1000))
        case "pool":
            guard let size = Int(value), (1...64).contains(size) else {
                throw InputError("bad_url", "pool=\(value): a number of connections from 1 to 64")
            }
            poolSize = size
        case "tls_ca":
            guard !value.isEmpty else { throw InputError("bad_url", "tls_ca=: the path of a PEM file") }
            tlsCAFile = value
        case "tls_verify":
            guard let mode = Verification(rawValue: value) else { throw InputError("bad_url", "tls_verify=\(value): full or none") }
            tlsVerification = mode
        default:
            throw InputError("bad_url", "unknown parameter \"\(name)\" in the Redis URL "
                + "(known: prefix, ttl, connect_timeout, pool, tls_ca, tls_verify)")
        }
    }

    /// `host:port`, for messages.
    public var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The URL without the password, for logs.
    public var displayName: String {
        let user = username.map { "\($0)@" } ?? ""
        return "\(tls ? "rediss" : "redis")://\(user)\(address)/\(database)?prefix=\(prefix)"
    }
}
