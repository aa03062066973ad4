import NIOCore

/// A reply that is not RESP2: the connection is closed, since what follows cannot be trusted.
struct RESPProtocolError: Error, CustomStringConvertible {
    let description: String
}

/// Parses RESP2 replies from the bytes a connection receives, however they are split.
///
/// Bounds keep bad input from costing unbounded memory or stack: a bulk string of at most
/// 512 MB (Redis's own limit), arrays of at most 1M elements, nested at most 8 deep.
struct RESPDecoder: ByteToMessageDecoder {
    typealias InboundOut = RESPValue

    static let maxBulk = 512 * 1024 * 1024
    static let maxElements = 1 << 20
    static let maxDepth = 8
    /// A line (`+`, `-`, `:`, a length) longer than this without CRLF is refused.
    static let maxLine = 64 * 1024

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let value = try Self.parse(&buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(value))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }

    /// One whole value from the front of `buffer`, consuming it; nil (consuming nothing)
    /// when the value is not complete yet.
    static func parse(_ buffer: inout ByteBuffer) throws -> RESPValue? {
        var copy = buffer
        guard let value = try parse(&copy, depth: 0) else { return nil }
        buffer = copy
        return value
    }

    private static func parse(_ buffer: inout ByteBuffer, depth: Int) throws -> RESPValue? {
        guard let type = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
        guard let line = try readLine(&buffer, after: 1) else { return nil }
        switch type {
        case UInt8(ascii: "+"): return .simple(line)
        case UInt8(ascii: "-"): return .error(line)
        case UInt8(ascii: ":"):
            guard let number = Int64(line) else { throw RESPProtocolError(description: "bad integer reply \"\(line.prefix(40))\"") }
            return .integer(number)
        case UInt8(ascii: "$"):
            let length = try count(line, max: maxBulk, what: "bulk string")
            guard length >= 0 else { return .bulk(nil) }
            guard buffer.readableBytes >= length + 2 else { return nil }
            let bytes = buffer.readSlice(length: length)!
            guard buffer.readInteger(as: UInt16.self) == 0x0D0A else {
                throw RESPProtocolError(description: "bulk string not ended by CRLF")
            }
            return .bulk(bytes)
        case UInt8(ascii: "*"):
            let elements = try count(line, max: maxElements, what: "array")
            guard elements >= 0 else { return .array(nil) }
            guard depth < maxDepth else { throw RESPProtocolError(description: "arrays nested more than \(maxDepth) deep") }
            var values: [RESPValue] = []
            values.reserveCapacity(min(elements, 1024))
            for _ in 0..<elements {
                guard let value = try parse(&buffer, depth: depth + 1) else { return nil }
                values.append(value)
            }
            return .array(values)
        default:
            throw RESPProtocolError(description: "unknown reply type byte \(type)")
        }
    }

    /// The text between the type byte and CRLF, consuming both; nil when CRLF has not arrived.
    private static func readLine(_ buffer: inout ByteBuffer, after skip: Int) throws -> String? {
        let view = buffer.readableBytesView.dropFirst(skip)
        guard let cr = view.firstIndex(of: 0x0D) else {
            if view.count > maxLine { throw RESPProtocolError(description: "a reply line over \(maxLine) bytes") }
            return nil
        }
        guard cr + 1 < view.endIndex else { return nil }
        guard view[cr + 1] == 0x0A else { throw RESPProtocolError(description: "CR not followed by LF") }
        let text = String(decoding: view[view.startIndex..<cr], as: UTF8.self)
        buffer.moveReaderIndex(forwardBy: cr + 2 - buffer.readerIndex)
        return text
    }

    /// A length or element count: -1 (null) up to `max`.
    private static func count(_ line: String, max: Int, what: String) throws -> Int {
        guard let value = Int(line), value >= -1, value <= max else {
            throw RESPProtocolError(description: "bad \(what) length \"\(line.prefix(40))\"")
        }
        return value
    }
}
