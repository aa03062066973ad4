import Foundation

/// A BSON document being written, as bytes (bsonspec.org): the store builds its commands and
/// documents with this and hands the bytes to libmongoc, never a `bson_t` (see CMongoc/shim.h).
/// Keys are the store's own ASCII names; string values may hold any UTF-8, NUL included.
struct BSONDocument: Sendable {
    private var body: [UInt8] = []

    init() {}

    init(_ build: (inout BSONDocument) -> Void) {
        build(&self)
    }

    /// The whole document: its length, the elements, the terminating zero.
    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count + 5)
        Self.int32(Int32(body.count + 5), into: &out)
        out += body
        out.append(0)
        return out
    }

    /// The encoded size in bytes.
    var count: Int { body.count + 5 }

    private mutating func key(_ type: UInt8, _ key: String) {
        body.append(type)
        body += Array(key.utf8)
        body.append(0)
    }

    private static func int32(_ value: Int32, into out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out += $0 }
    }

    mutating func append(_ name: String, _ value: String) {
        key(0x02, name)
        let utf8 = Array(value.utf8)
        Self.int32(Int32(utf8.count + 1), into: &body)
        body += utf8
        body.append(0)
    }

    /// Binary, subtype 0 (generic).
    mutating func append(_ name: String, binary value: [UInt8]) {
        key(0x05, name)
        Self.int32(Int32(value.count), into: &body)
        body.append(0)
        body += value
    }

    mutating func append(_ name: String, _ value: Int64) {
        key(0x12, name)
        withUnsafeBytes(of: value.littleEndian) { body += $0 }
    }

    mutating func append(_ name: String, int32 value: Int32) {
        key(0x10, name)
        Self.int32(value, into: &body)
    }

    mutating func append(_ name: String, _ value: Bool) {
        key(0x08, name)
        body.append(value ? 1 : 0)
    }

    mutating func append(_ name: String, _ document: BSONDocument) {
        key(0x03, name)
        body += document.bytes
    }

    mutating func append(_ name: String, array: [BSONDocument]) {
        key(0x04, name)
        var list = BSONDocument()
        for (index, element) in array.enumerated() { list.append(String(index), element) }
        body += list.bytes
    }

    mutating func append(_ name: String, strings: [String]) {
        key(0x04, name)
        var list = BSONDocument()
        for (index, element) in strings.enumerated() { list.append(String(index), element) }
        body += list.bytes
    }

    /// An array whose elements `list` holds under the keys "0", "1"...
    mutating func append(_ name: String, list: BSONDocument) {
        key(0x04, name)
        body += list.bytes
    }

    /// An ObjectId of this process: 4 bytes of seconds, 8 random bytes.
    mutating func appendObjectID(_ name: String) {
        key(0x07, name)
        withUnsafeBytes(of: UInt32(Date().timeIntervalSince1970).bigEndian) { body += $0 }
        withUnsafeBytes(of: UInt64.random(in: .min ... .max)) { body += $0 }
    }

    /// One `{name: {op: value}}` element, the shape of most filters (`{p: {$gt: 5}}`).
    mutating func append(_ name: String, _ op: String, _ value: Int64) {
        append(name, BSONDocument { $0.append(op, value) })
    }
}
