import CMongoc
import Foundation
import LuaESCore

/// Where a MongoDB store lives: a MongoDB connection string naming the database,
/// `mongodb://[USER:PASSWORD@]HOST[:PORT][,HOST...]/DATABASE[?OPTIONS]` (or `mongodb+srv://`).
/// libmongoc parses it, so TLS (`tls=true&tlsCAFile=...`), credentials, `authSource`,
/// `replicaSet`, `maxPoolSize`, `w` and the timeouts work as the MongoDB manual says.
/// `serverSelectionTimeoutMS` defaults to 5000 here (libmongoc's is 30 s).
public struct MongoStoreConfiguration: Sendable, Equatable {
    public var url: String
    public var database: String
    /// The URL without password and options, for logs, errors and `/health`.
    public var displayName: String

    static let defaultSelectionTimeoutMS: Int32 = 5000

    /// - Throws: `InputError` (`bad_url`) for a URL libmongoc refuses or one without a database.
    public init(url: String) throws {
        MongoConnection.initializeLibrary()
        var error = bson_error_t()
        var database = [CChar](repeating: 0, count: 256)
        var user = [CChar](repeating: 0, count: 256)
        guard url.hasPrefix("mongodb://") || url.hasPrefix("mongodb+srv://") else {
            throw InputError("bad_url", "--mongodb wants a URL like mongodb://HOST:PORT/DATABASE, not \(JSONText.quote(Self.display(url)))")
        }
        guard esm_uri_check(url, &database, database.count, &user, user.count, &error) else {
            let failure = MongoFailure(error, wrote: false)
            throw InputError("bad_url", "the MongoDB URL \(Self.display(url)) is not valid: \(failure.message)")
        }
        let name = String(decoding: database.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard !name.isEmpty else {
            throw InputError("bad_url", "the MongoDB URL \(Self.display(url)) names no database: mongodb://HOST:PORT/DATABASE")
        }
        self.url = url
        self.database = name
        displayName = Self.display(url)
    }

    /// `url` without the password and without the options (which may carry key passwords).
    static func display(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return "mongodb://…" }
        let scheme = url[..<schemeEnd.upperBound]
        var rest = url[schemeEnd.upperBound...]
        if let query = rest.firstIndex(of: "?") { rest = rest[..<query] }
        // the user info ends at the last "@" before the path (a password may hold "/", escaped or not)
        if let at = rest.lastIndex(of: "@") {
            let user = rest[..<at].split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
            rest = Substring(user + "@") + rest[rest.index(after: at)...]
        }
        return String(scheme) + String(rest)
    }
}
