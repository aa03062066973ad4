import Foundation

/// Bearer tokens from `--token-file`: one per line, `TOKEN read|write [Aggregate ...]`
/// (`#` starts a comment). `write` implies `read`; listed aggregates limit the token to them.
public struct TokenList: Sendable {
    public enum Scope: String, Sendable { case read, write }

    struct Entry: Sendable {
        var token: [UInt8]
        var scope: Scope
        var aggregates: Set<String>?
    }

    private let entries: [Entry]

    /// - Throws: a message naming the line when the file is malformed.
    public init(contentsOf path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var entries: [Entry] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if words.isEmpty { continue }
            guard words.count >= 2, let scope = Scope(rawValue: String(words[1])) else {
                throw TokenFileError(message: "\(path):\(n + 1): expected `TOKEN read|write [Aggregate ...]`")
            }
            guard words[0].utf8.count >= 16 else {
                throw TokenFileError(message: "\(path):\(n + 1): tokens must be at least 16 characters")
            }
            let aggregates = words.count > 2 ? Set(words.dropFirst(2).map(String.init)) : nil
            entries.append(Entry(token: Array(words[0].utf8), scope: scope, aggregates: aggregates))
        }
        self.entries = entries
    }

    /// The entry of `token`, compared in constant time against every entry.
    func entry(for token: Substring) -> Entry? {
        let given = Array(token.utf8)
        var found: Entry?
        for entry in entries where Self.constantTimeEqual(entry.token, given) {
            found = entry
        }
        return found
    }

    /// Whether `token` may do `scope` on `aggregate` (nil: any aggregate, e.g. the feed).
    enum Decision { case allowed, unauthenticated, forbidden }

    func decide(authorization: String?, scope: Scope, aggregate: String?) -> Decision {
        guard let authorization, authorization.hasPrefix("Bearer "),
              let entry = entry(for: authorization.dropFirst("Bearer ".count)) else { return .unauthenticated }
        if scope == .write && entry.scope != .write { return .forbidden }
        if let allowed = entry.aggregates {
            guard let aggregate, allowed.contains(aggregate) else { return .forbidden }
        }
        return .allowed
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}

public struct TokenFileError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
