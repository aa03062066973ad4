import Foundation

/// The ticks feed positions are made of: 10 µs steps of the wall clock, never repeating and
/// never going back in this process (a hybrid logical clock: it also moves forward past any
/// tick it sees stored, so a process whose clock is behind catches up instead of failing).
final class PositionClock: @unchecked Sendable {
    // @unchecked: `last` and `committed` are only read and written while `lock` is held.
    private let lock = NSLock()
    private var last: Int64 = 0
    /// The latest tick of a commit of this process that has returned.
    private var committed: Int64 = 0

    /// Ticks per second.
    static let perSecond: Int64 = 100_000

    static func wallTick() -> Int64 { Int64(Date().timeIntervalSince1970 * Double(perSecond)) }

    /// A tick later than every tick this clock gave or saw.
    func next() -> Int64 {
        let now = Self.wallTick()
        return lock.withLock {
            last = max(now, last + 1)
            return last
        }
    }

    /// Moves the clock past `tick`.
    func observe(_ tick: Int64) {
        lock.withLock { last = max(last, tick) }
    }

    /// Records that the commit of `tick` has returned.
    func committed(_ tick: Int64) {
        lock.withLock { committed = max(committed, tick) }
    }

    /// The tick a feed reader seals and reads through: `lag` ago, so that appends in flight
    /// (whose ticks are younger) are not made to retry, but never before a commit of this
    /// process that has returned, so a process always reads its own appends.
    func watermark(lag: Int64) -> Int64 {
        let now = Self.wallTick()
        return lock.withLock { max(committed, now - lag) }
    }
}
