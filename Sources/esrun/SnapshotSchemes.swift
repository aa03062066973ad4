import LuaESCore
import LuaESDynamo
import LuaESMongo
import LuaESRedis
import LuaESStore

/// The snapshot stores `--snapshots URL` knows, by URL scheme: another store is one entry.
enum SnapshotSchemes {
    static let locations: [String: @Sendable (String) throws -> SnapshotLocation] = [
        "redis": { try SnapshotLocation.redis(url: $0) },
        "rediss": { try SnapshotLocation.redis(url: $0) },
        "dynamodb": { try SnapshotLocation.dynamodb(url: $0) },
        "mongodb": { try SnapshotLocation.mongodb(url: $0) },
        "mongodb+srv": { try SnapshotLocation.mongodb(url: $0) },
    ]

    /// Where `--snapshots URL` keeps snapshots.
    /// - Throws: `InputError` (`bad_url`) for an unknown scheme or a malformed URL.
    static func location(url: String) throws -> SnapshotLocation {
        let scheme = url.split(separator: ":", maxSplits: 1).first.map { $0.lowercased() } ?? ""
        guard url.contains("://"), let location = locations[scheme] else {
            let known = locations.keys.sorted().map { $0 + "://" }.joined(separator: ", ")
            throw InputError("bad_url", "--snapshots wants a URL starting with \(known), not \"\(url)\"")
        }
        do {
            return try location(url)
        } catch let error as InputError where !error.message.hasPrefix("--snapshots") {
            // say which option is wrong; never echo the URL, it may carry a password
            throw InputError(error.code, "--snapshots: " + error.message)
        }
    }
}
