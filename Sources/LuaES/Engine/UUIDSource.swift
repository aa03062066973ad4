#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LuaESCore

/// Random (version 4) UUIDs for event and command ids, from 4 KiB of system randomness at a
/// time: one read of /dev/urandom per 256 ids instead of two per id (the per-event cost of a
/// command that emits many events). Confined like the engine that owns it.
struct UUIDSource {
    private var pool = [UInt64](repeating: 0, count: 512)
    private var cursor = 512

    /// The 128 bits of a fresh id, version and variant set.
    mutating func next() -> UUIDBits {
        if cursor + 2 > pool.count { refill() }
        let high = (pool[cursor] & ~0xF000) | 0x4000                                     // version 4
        let low = (pool[cursor + 1] & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000     // variant 10
        cursor += 2
        return UUIDBits(high: high, low: low)
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
        cursor = 0
    }

    /// Opened once for the process (getrandom(2) is not in Swift's Glibc module).
    private static let urandom: Int32 = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
}
