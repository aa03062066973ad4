#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Random (version 4) UUIDs for event and command ids, from 4 KiB of system randomness at a
/// time: one read of /dev/urandom per 256 ids instead of two per id (the per-event cost of a
/// command that emits many events). Confined like the engine that owns it.
struct UUIDSource {
    private var pool = [UInt64](repeating: 0, count: 512)
    private var next = 512

    /// A fresh id in lowercase, formatted by hand.
    mutating func make() -> String {
        if next + 2 > pool.count { refill() }
        var high = pool[next], low = pool[next + 1]
        next += 2
        high = (high & ~0xF000) | 0x4000                       // version 4
        low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000 // variant 10
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var i = 0
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
            return 36
        }
    }

    private mutating func refill() {
        pool.withUnsafeMutableBytes { raw in
            var filled = 0
            if Self.urandom >= 0 {
                while filled < raw.count {
                    let n = read(Self.urandom, raw.baseAddress! + filled, raw.count - filled)
                    if n > 0 { filled += n } else if n == 0 || errno != EINTR { break }
                }
            }
            if filled < raw.count {
                // no /dev/urandom (a sandbox without /dev): Swift's system generator, 8 bytes a call
                var generator = SystemRandomNumberGenerator()
                for i in filled..<raw.count { raw[i] = generator.next() }
            }
        }
        next = 0
    }

    /// Opened once for the process (getrandom(2) is not in Swift's Glibc module).
    private static let urandom: Int32 = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
}
