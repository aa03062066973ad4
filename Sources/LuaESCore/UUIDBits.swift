/// The 128 bits of a UUID, read from and written as its canonical lowercase text
/// (`8-4-4-4-12` hex digits), the only form the engine writes.
public struct UUIDBits: Hashable, Sendable {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The id of the `ordinal`-th event (0, 1, 2…) of a commit whose base is `self`.
    ///
    /// Event ids need no storage of their own: the engine gives the events of one command the
    /// ids `base.event(0)`, `base.event(1)`…, and a store keeps only the base. The low 62
    /// bits are XORed with a bijection of `ordinal + 1` on 62 bits, so the version and variant
    /// bits of a version 4 base survive, no event id equals its base (the bijection maps only
    /// 0 to 0), and two ordinals of one base never share an id. Ids of different random bases
    /// collide no more often than random UUIDs (122 random bits each).
    @inline(__always)
    public func event(_ ordinal: Int) -> UUIDBits {
        UUIDBits(high: high, low: low ^ Self.mix(UInt64(ordinal) + 1))
    }

    /// The base whose `ordinal`-th event id is `self` (`event` undone).
    public func base(ofEvent ordinal: Int) -> UUIDBits {
        UUIDBits(high: high, low: low ^ Self.mix(UInt64(ordinal) + 1))
    }

    /// A bijection on 62-bit values: multiplications by odd constants and right xorshifts,
    /// each invertible modulo 2^62.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        let mask: UInt64 = 0x3FFF_FFFF_FFFF_FFFF
        var x = (value &* 0x9E37_79B9_7F4A_7C15) & mask
        x ^= x >> 29
        x = (x &* 0xBF58_476D_1CE4_E5B9) & mask
        x ^= x >> 32
        return x
    }

    /// Parses exactly 36 bytes of canonical lowercase UUID text; nil for anything else
    /// (upper case included: the text must come back byte for byte from `write`).
    public init?<C: Collection>(text: C) where C.Element == UInt8 {
        let parsed = text.withContiguousStorageIfAvailable { Self.parse($0) } ?? Self.parse(Array(text))
        guard let parsed else { return nil }
        self = parsed
    }

    private static func parse(_ bytes: [UInt8]) -> UUIDBits? {
        bytes.withUnsafeBufferPointer { parse($0) }
    }

    /// Runs once per event an append gets: a plain loop over the bytes.
    private static func parse(_ text: UnsafeBufferPointer<UInt8>) -> UUIDBits? {
        guard text.count == 36, text[8] == 45, text[13] == 45, text[18] == 45, text[23] == 45 else { return nil }
        var words: (UInt64, UInt64) = (0, 0)
        var digits = 0
        for i in 0..<36 where i != 8 && i != 13 && i != 18 && i != 23 {
            let byte = text[i]
            let nibble: UInt8
            if byte &- 48 < 10 {
                nibble = byte &- 48
            } else if byte &- 97 < 6 {
                nibble = byte &- 87
            } else {
                return nil
            }
            if digits < 16 { words.0 = words.0 << 4 | UInt64(nibble) } else { words.1 = words.1 << 4 | UInt64(nibble) }
            digits += 1
        }
        return UUIDBits(high: words.0, low: words.1)
    }

    /// Parses a 16-byte big-endian blob.
    public init?(blob: UnsafeBufferPointer<UInt8>) {
        guard blob.count == 16 else { return nil }
        var high: UInt64 = 0, low: UInt64 = 0
        for i in 0..<8 { high = high << 8 | UInt64(blob[i]) }
        for i in 8..<16 { low = low << 8 | UInt64(blob[i]) }
        self.init(high: high, low: low)
    }

    /// The 16 bytes, big-endian (the order of the text's digits).
    public var blob: [UInt8] {
        (0..<16).map { i in UInt8(truncatingIfNeeded: (i < 8 ? high >> (56 - 8 * i) : low >> (120 - 8 * i))) }
    }

    /// Writes the 36 characters at `offset`.
    @inline(__always)
    public func write(into buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        var i = offset
        func put(_ value: UInt64, _ nibbles: Int) {
            for shift in stride(from: (nibbles - 1) * 4, through: 0, by: -4) {
                let digit = UInt8((value >> UInt64(shift)) & 0xF)
                buffer[i] = digit < 10 ? 48 + digit : 87 + digit
                i += 1
            }
        }
        func dash() { buffer[i] = UInt8(ascii: "-"); i += 1 }
        put(high >> 32, 8); dash(); put((high >> 16) & 0xFFFF, 4); dash(); put(high & 0xFFFF, 4); dash()
        put(low >> 48, 4); dash(); put(low & 0xFFFF_FFFF_FFFF, 12)
    }

    /// The canonical lowercase text.
    public var text: String {
        String(unsafeUninitializedCapacity: 36) { buffer in
            write(into: buffer, at: 0)
            return 36
        }
    }
}
