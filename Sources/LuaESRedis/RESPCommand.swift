import NIOCore

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
