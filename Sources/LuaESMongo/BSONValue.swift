import LuaESCore
/// A BSON value read from a reply. Only the types the store writes and the server answers
/// with are told apart; the others are `.other(type)`.
indirect enum BSONValue: Sendable {
    case double(Double)
    case string(String)
    case document(BSONFields)
    case array([BSONValue])
    case bool(Bool)
    case int32(Int32)
    case int64(Int64)
    case objectID
    case binary([UInt8])
    case null
    case other(UInt8)

    var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// An integer of any of BSON's number types (a server may answer `n` as an int32 or a double).
    var int: Int64? {
        switch self {
        case .int32(let v): Int64(v)
        case .int64(let v): v
        case .double(let v) where v == v.rounded() && abs(v) < 9e15: Int64(v)
        default: nil
        }
    }

    /// A 16-byte binary as a UUID.
    var uuid: UUIDBits? {
        guard case .binary(let bytes) = self else { return nil }
        return bytes.withUnsafeBufferPointer { UUIDBits(blob: $0) }
    }

    var document: BSONFields? {
        if case .document(let d) = self { return d }
        return nil
    }

    var array: [BSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    var bool: Bool? {
        if case .bool(let b) = self { return b }
        return int.map { $0 != 0 }
    }
}

/// The elements of a BSON document, in order.
struct BSONFields: Sendable {
    var elements: [(String, BSONValue)]

    subscript(_ name: String) -> BSONValue? {
        elements.first { $0.0 == name }?.1
    }

    /// Parses one document; nil when the bytes are not well-formed BSON.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> BSONFields? {
        var reader = BSONReader(bytes: bytes)
        return reader.document()
    }
}

private struct BSONReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    mutating func take(_ n: Int) -> UnsafeRawBufferPointer? {
        guard n >= 0, offset + n <= bytes.count else { return nil }
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n])
    }

    mutating func int32() -> Int32? {
        take(4).map { Int32(littleEndian: $0.loadUnaligned(as: Int32.self)) }
    }

    mutating func int64() -> Int64? {
        take(8).map { Int64(littleEndian: $0.loadUnaligned(as: Int64.self)) }
    }

    mutating func cstring() -> String? {
        guard let end = bytes[offset...].firstIndex(of: 0) else { return nil }
        defer { offset = end + 1 }
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }

    mutating func document() -> BSONFields? {
        let start = offset
        guard let length = int32(), length >= 5, start + Int(length) <= bytes.count else { return nil }
        let end = start + Int(length) - 1
        var elements: [(String, BSONValue)] = []
        while offset < end {
            guard let type = take(1)?[0], let name = cstring(), let value = value(type) else { return nil }
            elements.append((name, value))
        }
        guard offset == end, take(1)?[0] == 0 else { return nil }
        return BSONFields(elements: elements)
    }

    mutating func value(_ type: UInt8) -> BSONValue? {
        switch type {
        case 0x01: return int64().map { .double(Double(bitPattern: UInt64(bitPattern: $0))) }
        case 0x02:
            guard let length = int32(), length >= 1, let raw = take(Int(length)) else { return nil }
            return .string(String(decoding: raw.prefix(Int(length) - 1), as: UTF8.self))
        case 0x03: return document().map { .document($0) }
        case 0x04: return document().map { .array($0.elements.map(\.1)) }
        case 0x07: return take(12).map { _ in .objectID }
        case 0x08: return take(1).map { .bool($0[0] != 0) }
        case 0x09, 0x11, 0x12: return int64().map { type == 0x12 ? .int64($0) : .other(type) }
        case 0x0A, 0x06, 0x7F, 0xFF: return .null
        case 0x10: return int32().map { .int32($0) }
        case 0x05:
            guard let length = int32(), take(1) != nil, let raw = take(Int(length)) else { return nil }
            return .binary(Array(raw))
        case 0x0B:
            guard cstring() != nil, cstring() != nil else { return nil }
            return .other(type)
        case 0x13: return take(16).map { _ in .other(type) }
        default: return nil
        }
    }
}
