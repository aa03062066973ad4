/// What a key, an aggregate or command name, a command body, a cursor, a version and a page
/// limit may be: written once here and applied by every edge (HTTP, the CLI, and through the
/// engine driver scripts, the REPL and specs). A violation is an `invalid` error naming what
/// was wrong; nothing is stored, and no byte a client sent is changed on its way in.
public enum InputRules {
    /// Keys (of streams and of projection views) are 1 to 512 bytes of UTF-8.
    public static let maxKeyBytes = 512
    /// Aggregate and command names are identifiers of at most 128 bytes.
    public static let maxNameBytes = 128
    /// A page holds 1 to 10,000 items.
    public static let maxPageLimit = 10_000

    /// A stream key: 1 to 512 bytes of UTF-8 without control characters (U+0000–U+001F,
    /// U+007F) or U+FFFD (which marks bytes that were not UTF-8 before a lossy conversion).
    public static func checkKey(_ key: String, what: String = "key") throws(InputError) {
        let bytes = key.utf8.count
        guard bytes > 0 else { throw InputError("bad_key", "a \(what) may not be empty") }
        guard bytes <= maxKeyBytes else {
            throw InputError("bad_key", "a \(what) is at most \(maxKeyBytes) bytes, this one has \(bytes)")
        }
        if let bad = key.unicodeScalars.first(where: isRefused) {
            throw InputError("bad_key", "a \(what) may not hold \(describe(bad)): \(JSONText.quote(key))")
        }
    }

    /// An aggregate or command name: an identifier (`[A-Za-z_][A-Za-z0-9_]*`) of at most 128 bytes.
    public static func checkName(_ name: String, what: String) throws(InputError) {
        let utf8 = name.utf8
        func letter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A || b == 0x5F }
        guard let first = utf8.first, letter(first), utf8.count <= maxNameBytes,
              utf8.allSatisfy({ letter($0) || ($0 >= 0x30 && $0 <= 0x39) }) else {
            throw InputError("bad_name", "\(what) names are identifiers of at most \(maxNameBytes) bytes "
                             + "(letters, digits, _), not \(JSONText.quote(name))")
        }
    }

    /// A command body: the bytes as sent, which must be UTF-8 holding one JSON object
    /// (empty means `{}`). The JSON itself is decoded exactly by the Lua codec.
    public static func commandBody<Bytes: Collection>(_ bytes: Bytes) throws(InputError) -> String
    where Bytes.Element == UInt8 {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw InputError("bad_body", "the command body is not valid UTF-8")
        }
        if JSONText.trimmed(text[...]).isEmpty { return "{}" }
        try checkArguments(text)
        return text
    }

    /// Command arguments: the text of one JSON object.
    public static func checkArguments(_ text: String) throws(InputError) {
        let trimmed = JSONText.trimmed(text[...]).utf8
        guard trimmed.first == UInt8(ascii: "{"), trimmed.last == UInt8(ascii: "}") else {
            throw InputError("bad_body", "command arguments must be a JSON object, not \(preview(text))")
        }
    }

    /// A global position or a stream version to read after: an integer, 0 or more.
    public static func cursor(_ text: Substring?, name: String) throws(InputError) -> Int64? {
        guard let text else { return nil }
        guard let value = Int64(text), value >= 0 else {
            throw InputError("bad_cursor", "\(name) is a position or version, 0 or more, not \(preview(String(text)))")
        }
        return value
    }

    /// A cursor given as a number (CLI options).
    public static func checkCursor(_ value: Int64, name: String) throws(InputError) {
        guard value >= 0 else { throw InputError("bad_cursor", "\(name) is a position or version, 0 or more, not \(value)") }
    }

    /// A page limit: an integer from 1 to 10,000.
    public static func limit(_ text: Substring?, name: String) throws(InputError) -> Int? {
        guard let text else { return nil }
        guard let value = Int(text), value >= 1, value <= maxPageLimit else {
            throw InputError("bad_limit", "\(name) is a number of items from 1 to \(maxPageLimit), not \(preview(String(text)))")
        }
        return value
    }

    /// A page limit given as a number (CLI options).
    public static func checkLimit(_ value: Int, name: String) throws(InputError) {
        guard value >= 1, value <= maxPageLimit else {
            throw InputError("bad_limit", "\(name) is a number of items from 1 to \(maxPageLimit), not \(value)")
        }
    }

    /// A version to read a state at: an integer, 0 or more.
    public static func version(_ text: Substring?, name: String) throws(InputError) -> Int64? {
        guard let text else { return nil }
        guard let value = Int64(text), value >= 0 else {
            throw InputError("bad_version", "\(name) is a stream version, 0 or more, not \(preview(String(text)))")
        }
        return value
    }

    /// A version given as a number.
    public static func checkVersion(_ value: Int64, name: String) throws(InputError) {
        guard value >= 0 else { throw InputError("bad_version", "\(name) is a stream version, 0 or more, not \(value)") }
    }

    static func isRefused(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0xFFFD
    }

    static func describe(_ scalar: Unicode.Scalar) -> String {
        scalar.value == 0xFFFD ? "U+FFFD (bytes that were not UTF-8)" : "control characters (U+\(hex(scalar.value)))"
    }

    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(4 - digits.count, 0)) + digits
    }

    /// The start of a value for a message, quoted.
    static func preview(_ text: String) -> String {
        JSONText.quote(text.utf8.count > 40 ? String(decoding: text.utf8.prefix(40), as: UTF8.self) + "…" : text)
    }
}

/// Input that breaks `InputRules`: always kind `invalid`.
public struct InputError: ClassifiedError, Sendable, Equatable {
    public var code: ErrorCode
    public var message: String
    public var kind: ErrorKind { .invalid }

    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { line }
}
