import LuaES
import LuaESCore
import LuaESScripting
import LuaESStore

/// Tab completion for the REPL: meta commands and their aggregate and key arguments,
/// commands after `Agg("key"):`, event types after `Agg.`, fields of global tables
/// after `name.`, and Lua globals.
public struct REPLCompleter {
    /// The loaded aggregates.
    public var domain: DomainInfo
    /// Global names for `""`, else the fields of the table at a dotted path (`string`).
    public var names: (String) -> [String]
    /// Stream keys of an aggregate (for `.history Counter <tab>`).
    public var keys: (String) -> [String]

    /// A completer over `domain`, asking `names` for Lua names and `keys` for stream keys.
    public init(domain: DomainInfo, names: @escaping (String) -> [String], keys: @escaping (String) -> [String]) {
        self.domain = domain
        self.names = names
        self.keys = keys
    }

    /// Meta commands that take an aggregate and a key.
    static let streamCommands: Set<String> = [".history", ".state", ".step", ".diff"]

    /// Completes the word that ends `text` (the line up to the cursor).
    public func complete(_ text: String) -> Completion {
        if text.hasPrefix(".") { return completeMeta(text) }
        let word = String(text.reversed().prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }.reversed())
        let before = String(text.dropLast(word.count))
        return Completion(word: word, candidates: Self.filter(candidates(before: before), word))
    }

    private func candidates(before: String) -> [String] {
        if let m = before.firstMatch(of: /([A-Za-z_][A-Za-z0-9_]*)\s*\([^()]*\)\s*:\z/) {
            return domain.aggregate(named: String(m.1))?.commands ?? []
        }
        if let m = before.firstMatch(of: /(?:^|[^A-Za-z0-9_.])([A-Za-z_][A-Za-z0-9_]*)\s*:\z/) {
            return domain.aggregate(named: String(m.1)) != nil ? ["command", "event", "on"] : []
        }
        if let m = before.firstMatch(of: /(?:^|[^A-Za-z0-9_.])([A-Za-z_][A-Za-z0-9_.]*)\.\z/) {
            let path = String(m.1)
            let parts = path.split(separator: ".").map(String.init)
            if let agg = domain.aggregate(named: parts[0]) {
                switch parts.count {
                case 1: return agg.events.map(\.name) + ["handle", "name", "replay"]
                case 2 where parts[1] == "handle": return agg.commands
                case 2 where parts[1] == "replay": return agg.events.map(\.name)
                default: return []
                }
            }
            return names(path)
        }
        if before.last == "." || before.last?.isNumber == true { return [] }
        return names("") + domain.aggregates.map(\.name)
    }

    private func completeMeta(_ text: String) -> Completion {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let endsWithSpace = text.last == " "
        let word = endsWithSpace ? "" : parts.last ?? ""
        let index = endsWithSpace ? parts.count : parts.count - 1
        if index == 0 { return Completion(word: word, candidates: Self.filter(REPLSession.metaCommands.map(\.name), word)) }
        if parts[0] == ".view" && index == 1 {
            return Completion(word: word, candidates: Self.filter(domain.projections.map(\.name), word))
        }
        guard Self.streamCommands.contains(parts[0]) else { return Completion(word: word, candidates: []) }
        switch index {
        case 1: return Completion(word: word, candidates: Self.filter(domain.aggregates.map(\.name), word))
        case 2: return Completion(word: word, candidates: Self.filter(keys(parts[1]), word))
        default: return Completion(word: word, candidates: [])
        }
    }

    private static func filter(_ names: [String], _ word: String) -> [String] {
        Array(Set(names.filter { $0.hasPrefix(word) })).sorted()
    }
}
