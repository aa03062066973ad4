import Foundation
import LuaESCore

/// Where a DynamoDB store lives, read from a URL:
/// `dynamodb://TABLE[?region=R&endpoint=URL&create=true&feed_shards=N&timeout=SECONDS]`.
///
/// `region` defaults to `AWS_REGION`, then `AWS_DEFAULT_REGION`; `endpoint` to
/// `https://dynamodb.REGION.amazonaws.com` (give `http://127.0.0.1:PORT` for moto or DynamoDB
/// Local). `create=true` creates the table (on-demand billing) when it is missing; without it a
/// missing table is an error. `feed_shards` (1...16, default 4) is read only when the table is
/// first set up: how many partitions the global feed spreads its writes over (see
/// `DynamoEventStore`). Credentials come from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
/// `AWS_SESSION_TOKEN`.
public struct DynamoStoreConfiguration: Sendable, Equatable {
    public var table: String
    public var region: String
    public var endpoint: URL
    public var create: Bool
    public var feedShards: Int
    /// How long one HTTP request may take before it fails (and is retried when safe).
    public var timeout: Duration
    public var credentials: AWSCredentials

    public static let maxFeedShards = 16

    public init(table: String, region: String, endpoint: URL? = nil, create: Bool = false, feedShards: Int = 4,
                timeout: Duration = .seconds(10), credentials: AWSCredentials) throws {
        try Self.checkTable(table)
        guard (1...Self.maxFeedShards).contains(feedShards) else {
            throw InputError("bad_url", "feed_shards=\(feedShards): a number from 1 to \(Self.maxFeedShards)")
        }
        self.table = table
        self.region = region
        self.endpoint = endpoint ?? URL(string: "https://dynamodb.\(region).amazonaws.com")!
        self.create = create
        self.feedShards = feedShards
        self.timeout = timeout
        self.credentials = credentials
    }

    /// Reads a `dynamodb://` URL; region and credentials not in it come from `environment`.
    /// - Throws: `InputError` (`bad_url`) naming what is wrong or missing.
    public init(url text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let prefix = "dynamodb://"
        guard text.lowercased().hasPrefix(prefix) else {
            throw InputError("bad_url", "--dynamodb wants a URL like dynamodb://TABLE?region=eu-west-1, not \(JSONText.quote(text))")
        }
        let rest = text.dropFirst(prefix.count)
        let table = String(rest.prefix { $0 != "?" && $0 != "/" })
        try Self.checkTable(table)  // first: a wrong name is the likelier mistake than a missing region
        let after = rest.dropFirst(table.count)
        guard after.isEmpty || after.first == "?" else {
            throw InputError("bad_url", "a DynamoDB URL has no path: dynamodb://TABLE?parameters, not \(JSONText.quote(text))")
        }
        var region = environment["AWS_REGION"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["AWS_DEFAULT_REGION"].flatMap { $0.isEmpty ? nil : $0 }
        var endpoint: URL?
        var create = false
        var shards = 4
        var timeout = Duration.seconds(10)
        let query = after.isEmpty ? "" : String(after.dropFirst())
        guard let items = URLComponents(string: "x://h?" + query)?.queryItems ?? (query.isEmpty ? [] : nil) else {
            throw InputError("bad_url", "the parameters of \(JSONText.quote(text)) are not a query string")
        }
        for item in items {
            let value = item.value ?? ""
            switch item.name {
            case "region":
                guard !value.isEmpty else { throw InputError("bad_url", "region= is empty") }
                region = value
            case "endpoint":
                guard let url = URL(string: value), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
                      url.host?.isEmpty == false else {
                    throw InputError("bad_url", "endpoint=\(value): an http:// or https:// URL such as http://127.0.0.1:8000")
                }
                endpoint = url
            case "create":
                guard let flag = ["true": true, "false": false, "1": true, "0": false][value.lowercased()] else {
                    throw InputError("bad_url", "create=\(value): true or false")
                }
                create = flag
            case "feed_shards":
                guard let n = Int(value) else { throw InputError("bad_url", "feed_shards=\(value): a number from 1 to 16") }
                shards = n
            case "timeout":
                guard let seconds = Double(value), seconds > 0, seconds <= 3600 else {
                    throw InputError("bad_url", "timeout=\(value): seconds, more than 0")
                }
                timeout = .milliseconds(Int64(seconds * 1000))
            default:
                throw InputError("bad_url", "unknown parameter \(JSONText.quote(item.name)) in the DynamoDB URL "
                                 + "(known: region, endpoint, create, feed_shards, timeout)")
            }
        }
        guard let region else {
            throw InputError("bad_url", "no AWS region: add ?region=R to the DynamoDB URL or set AWS_REGION")
        }
        guard let credentials = AWSCredentials.fromEnvironment(environment) else {
            throw InputError("bad_url", "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                             + "(and AWS_SESSION_TOKEN for temporary ones)")
        }
        try self.init(table: table, region: region, endpoint: endpoint, create: create, feedShards: shards,
                      timeout: timeout, credentials: credentials)
    }

    /// The URL without credentials, for logs and `/health`.
    public var displayName: String { "dynamodb://\(table)?region=\(region)&endpoint=\(endpoint.absoluteString)" }

    /// DynamoDB's rule for table names: 3 to 255 of `a-z A-Z 0-9 _ - .`.
    static func checkTable(_ name: String) throws {
        let valid = (3...255).contains(name.utf8.count) && name.utf8.allSatisfy {
            ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2D || $0 == 0x2E
        }
        guard valid else {
            throw InputError("bad_url", "table name \(JSONText.quote(name)): 3 to 255 letters, digits, _ - or . "
                             + "(dynamodb://TABLE?region=R)")
        }
    }
}
