import Foundation
import Logging

/// A thread that runs `pass` when woken (`wake()`) and at least every `interval` seconds.
/// A failing pass is logged and retried with a growing delay (at most 5 s). Used by the
/// publisher and the projection runner, which both follow the global feed.
final class WakeableLoop: @unchecked Sendable {
    // @unchecked: `running`, `stopping` and `wakeups` are only touched while `condition` is
    // locked; `pass` runs on the loop's thread only.
    private let name: String
    private let interval: TimeInterval
    private let failure: String
    private let logger: Logger
    private let pass: () throws -> Void
    private let condition = NSCondition()
    private let finished = DispatchSemaphore(value: 0)
    private var running = false
    private var stopping = false
    private var wakeups = 0

    /// - Parameters:
    ///   - name: the thread's name.
    ///   - interval: seconds between passes when nobody wakes the loop.
    ///   - failure: what the log says when a pass fails ("publishing failed").
    init(name: String, interval: TimeInterval, failure: String, logger: Logger, pass: @escaping () throws -> Void) {
        self.name = name
        self.interval = interval
        self.failure = failure
        self.logger = logger
        self.pass = pass
    }

    func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !running else { return }
        running = true
        stopping = false
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.start()
    }

    /// Runs another pass as soon as the current one ends.
    func wake() {
        condition.lock()
        wakeups += 1
        condition.signal()
        condition.unlock()
    }

    /// True once `stop` was called: a long pass may end early.
    var isStopping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopping
    }

    /// Stops the thread after the pass in progress and waits for it.
    func stop() {
        condition.lock()
        let wasRunning = running
        stopping = true
        condition.signal()
        condition.unlock()
        if wasRunning { finished.wait() }
    }

    private func loop() {
        defer {
            condition.lock()
            running = false
            condition.unlock()
            finished.signal()
        }
        var delay = interval
        while true {
            do {
                try pass()
                delay = interval
            } catch {
                delay = min(max(delay * 2, 0.05), 5)
                logger.error("\(failure), will retry", metadata: ["error": "\(error)", "retry_in_s": "\(delay)"])
            }
            condition.lock()
            if wakeups == 0 && !stopping { _ = condition.wait(until: Date().addingTimeInterval(delay)) }
            wakeups = 0
            let stop = stopping
            condition.unlock()
            if stop { return }
        }
    }
}
