import Foundation

/// Decides between "the leased body starts" and "the lease wait timed out": the first wins.
final class LeaseGate: @unchecked Sendable {
    // @unchecked: `state` is only read and written while `lock` is held.
    private let lock = NSLock()
    private var state = 0  // 0 waiting, 1 started, 2 timed out

    func start() -> Bool { transition(to: 1) }
    func timeOut() -> Bool { transition(to: 2) }

    private func transition(to next: Int) -> Bool {
        lock.withLock {
            guard state == 0 else { return false }
            state = next
            return true
        }
    }
}

enum LeaseOutcome<T: Sendable>: Sendable {
    case value(T)
    case timerDone
}

struct LeaseTimedOut: Error {}
