import LuaESCore

/// A page of feed events as projections.lua reads them: one JSON array of objects with
/// one-letter names, `{"p","a","k","v","t","s","r","d","m"}` (position, aggregate, key,
/// version, type, schema, recorded_at, data, meta), written into one buffer because this
/// runs once per event of a catch-up.
public struct FeedRows {
    private var bytes: [UInt8] = [UInt8(ascii: "[")]
    public private(set) var count = 0

    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity * 256) }

    public mutating func append(position: Int64, aggregate: String, key: String, version: Int64, type: String,
                                schema: Int, recordedAt: Int64, data: String, meta: String) {
        raw(count == 0 ? "{\"p\":" : ",{\"p\":")
        integer(position)
        raw(",\"a\":")
        quoted(aggregate)
        raw(",\"k\":")
        quoted(key)
        raw(",\"v\":")
        integer(version)
        raw(",\"t\":")
        quoted(type)
        raw(",\"s\":")
        integer(Int64(schema))
        raw(",\"r\":")
        integer(recordedAt)
        raw(",\"d\":")
        raw(data)
        raw(",\"m\":")
        raw(meta.isEmpty ? "{}" : meta)
        bytes.append(UInt8(ascii: "}"))
        count += 1
    }

    // Straight into the buffer: this runs for every event of a catch-up, and a String per
    // number or quoted name was a tenth of it.
    private mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    private mutating func quoted(_ text: String) {
        let utf8 = text.utf8
        guard !utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F }) else {
            return raw(JSONText.quote(text))
        }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: utf8)
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func integer(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var width = 1
        var probe = magnitude
        while probe >= 10 { probe /= 10; width += 1 }
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width))
        var i = bytes.count - 1
        repeat {
            bytes[i] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
            i -= 1
        } while magnitude > 0
    }

    var json: String { String(decoding: bytes, as: UTF8.self) + "]" }
}
