import NIOCore

/// A RESP2 reply (https://redis.io/docs/reference/protocol-spec/): what the server answers.
enum RESPValue: Sendable, Equatable {
    case simple(String)
    case error(String)
    case integer(Int64)
    /// nil: the null bulk string (`$-1`), e.g. a missing hash field.
    case bulk(ByteBuffer?)
    /// nil: the null array (`*-1`).
    case array([RESPValue]?)

    /// The text of a simple or bulk string; nil for anything else and for a null.
    var string: String? {
        switch self {
        case .simple(let text): text
        case .bulk(let buffer?): String(buffer: buffer)
        default: nil
        }
    }

    var isNull: Bool {
        switch self {
        case .bulk(nil), .array(nil): true
        default: false
        }
    }
}

/// A command as RESP sends it: an array of bulk strings, binary-safe (any UTF-8 goes as is).
struct RESPCommand: Sendable {
    let arguments: [String]

    init(_ arguments: String...) { self.arguments = arguments }
    init(_ arguments: [String]) { self.arguments = arguments }

    /// `*N\r\n` then `$LEN\r\nBYTES\r\n` for each argument.
    func encode(into buffer: inout ByteBuffer) {
        buffer.writeStaticString("*")
        buffer.writeString(String(arguments.count))
        buffer.writeStaticString("\r\n")
        for argument in arguments {
            buffer.writeStaticString("$")
            buffer.writeString(String(argument.utf8.count))
            buffer.writeStaticString("\r\n")
            buffer.writeString(argument)
            buffer.writeStaticString("\r\n")
        }
    }

    /// The command's name, for messages (never its arguments: they may hold a password or a state).
    var name: String { arguments.first ?? "" }
}
