import LuaES
import LuaESCore
import LuaESScripting
import LuaESStore

/// What tab completion found for the word before the cursor.
public struct Completion: Equatable, Sendable {
    /// The partial word being completed (a suffix of the text before the cursor).
    public var word: String
    /// Full words that start with `word`, sorted.
    public var candidates: [String]

    /// A completion of `word` by `candidates`.
    public init(word: String, candidates: [String]) {
        self.word = word
        self.candidates = candidates
    }
}
