import CMongoc
import LuaESStore

/// Why one MongoDB command failed, by libmongoc's error domain and code (never its message).
struct MongoFailure: Error, Sendable {
    enum Kind: Sendable {
        /// No server could be selected, or the connection broke: see `mayHaveWritten`.
        case unreachable
        /// The server refused the credentials (or the user may not do this).
        case authentication
        /// The server answered with an error code (`11000` for a duplicate key).
        case server(code: Int32)
        case other
    }

    let kind: Kind
    let message: String
    /// True when a write may have reached the server before the connection broke.
    var mayHaveWritten = false

    static let duplicateKey: Int32 = 11000

    init(kind: Kind, message: String, mayHaveWritten: Bool = false) {
        self.kind = kind
        self.message = message
        self.mayHaveWritten = mayHaveWritten
    }

    /// Classifies a libmongoc error of a command that was (`wrote`) or was not a write.
    init(_ error: bson_error_t, wrote: Bool) {
        var copy = error
        let text = withUnsafeBytes(of: &copy.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        message = text
        switch error.domain {
        case MONGOC_ERROR_SERVER_SELECTION.rawValue:
            kind = .unreachable  // nothing was sent
        case MONGOC_ERROR_STREAM.rawValue:
            kind = .unreachable
            // a connect failure sent nothing; a socket error may come after the command was sent
            mayHaveWritten = wrote && error.code != MONGOC_ERROR_STREAM_CONNECT.rawValue
                && error.code != MONGOC_ERROR_STREAM_NAME_RESOLUTION.rawValue
        case MONGOC_ERROR_CLIENT.rawValue where error.code == MONGOC_ERROR_CLIENT_AUTHENTICATE.rawValue:
            kind = .authentication
        case MONGOC_ERROR_SERVER.rawValue, MONGOC_ERROR_WRITE_CONCERN.rawValue, MONGOC_ERROR_QUERY.rawValue:
            // AuthenticationFailed, Unauthorized
            kind = error.code == 18 || error.code == 13 ? .authentication : .server(code: Int32(bitPattern: error.code))
        default:
            kind = .other
        }
    }

    var isDuplicateKey: Bool {
        if case .server(let code) = kind { return code == Self.duplicateKey }
        return false
    }

    /// What the store reports: `unavailable` when nothing was written and trying later is
    /// safe, `io` otherwise; `while` says what the store was doing, `server` where (no password).
    func storeError(while what: String, server: String) -> StoreError {
        switch kind {
        case .unreachable where mayHaveWritten:
            return .io("MongoDB at \(server): the connection broke while \(what); the write may or may not have been applied (\(message))")
        case .unreachable:
            return .unavailable("cannot reach MongoDB at \(server) while \(what): \(message)")
        case .authentication:
            return .io("MongoDB at \(server) refused the credentials of the URL (\(message)); check the user, password and authSource")
        case .server(let code):
            return .io("MongoDB at \(server), \(what): \(message) (code \(code))")
        case .other:
            return .io("MongoDB at \(server), \(what): \(message)")
        }
    }
}
