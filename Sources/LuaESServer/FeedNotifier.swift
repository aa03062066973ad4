import Foundation

/// Wakes long-polling feed readers when commands commit. A reader takes the generation
/// before it reads the store and waits only if nothing was committed since, so a commit
/// between its read and its wait is never missed.
final class FeedNotifier: @unchecked Sendable {
    // @unchecked: `generation` and `waiters` are read and written only while `lock` is held.
    private let lock = NSLock()
    private var generation: UInt64 = 0
    private var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    private var nextID: UInt64 = 0
    private var expired: Set<UInt64> = []   // timeouts that fired before their waiter registered

    var current: UInt64 { lock.withLock { generation } }

    func notify() {
        let woken: [CheckedContinuation<Void, Never>] = lock.withLock {
            generation &+= 1
            defer { waiters.removeAll() }
            return Array(waiters.values)
        }
        for waiter in woken { waiter.resume() }
    }

    /// Returns when a commit happens after `seen`, or after `seconds`.
    func wait(after seen: UInt64, seconds: Double) async {
        let id: UInt64 = lock.withLock {
            nextID &+= 1
            return nextID
        }
        let timeout = Task {
            try? await Task.sleep(nanoseconds: UInt64(max(seconds, 0) * 1e9))
            if !Task.isCancelled { self.resume(id) }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            // registered under the lock, so a notify or a timeout cannot slip between check and wait
            let ready: Bool = lock.withLock {
                if generation != seen || expired.remove(id) != nil { return true }
                waiters[id] = continuation
                return false
            }
            if ready { continuation.resume() }
        }
        timeout.cancel()
        lock.withLock { _ = expired.remove(id) }
    }

    private func resume(_ id: UInt64) {
        let waiter: CheckedContinuation<Void, Never>? = lock.withLock {
            guard let waiter = waiters.removeValue(forKey: id) else {
                expired.insert(id)
                return nil
            }
            return waiter
        }
        waiter?.resume()
    }
}
