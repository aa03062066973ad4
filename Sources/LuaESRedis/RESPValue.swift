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
