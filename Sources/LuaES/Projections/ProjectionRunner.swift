import Foundation
import Logging

/// Runs a `Projector` on a thread of its own: catch-up, then live, woken by `notify()`
/// after commits (in-process) and every `pollInterval` otherwise (commits of other
/// processes or nodes). The engine is made on that thread and only used there.
public final class ProjectionRunner: @unchecked Sendable {
    // @unchecked: `running`, `stopping`, `wakeups` and `reloads` are only touched while
    // `condition` is locked; the projector and its engine live on the runner's thread.
    private let makeEngine: @Sendable () throws -> Engine
    private let pageSize: Int
    private let pollInterval: TimeInterval
    private let logger: Logger
    private let condition = NSCondition()
    private let finished = DispatchSemaphore(value: 0)
    private var running = false
    private var stopping = false
    private var wakeups = 0
    private var reloads = 0

    /// - Parameters:
    ///   - makeEngine: loads the domain script into a new engine (called on the runner's thread, again on reload).
    ///   - pageSize: events per page.
    ///   - pollInterval: seconds between polls when nobody calls `notify`.
    public init(pageSize: Int = 500, pollInterval: TimeInterval = 0.2, logger: Logger = Logger(label: "luaes.projections"),
                makeEngine: @escaping @Sendable () throws -> Engine) {
        self.makeEngine = makeEngine
        self.pageSize = pageSize
        self.pollInterval = pollInterval
        self.logger = logger
    }

    public func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !running else { return }
        running = true
        stopping = false
        let thread = Thread { [self] in loop() }
        thread.name = "esrun-projections"
        thread.start()
    }

    /// Wakes the runner: events were committed.
    public func notify() {
        condition.lock()
        wakeups += 1
        condition.signal()
        condition.unlock()
    }

    /// Loads the script again before the next page (after a hot reload).
    public func reload() {
        condition.lock()
        reloads += 1
        condition.signal()
        condition.unlock()
    }

    /// Stops the thread after the page in progress.
    public func stop() {
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
        var projector: Projector?
        var needsLoad = true
        var delay = pollInterval
        while true {
            do {
                if needsLoad {
                    needsLoad = false
                    projector = nil
                    let engine = try makeEngine()
                    if !engine.projections.isEmpty {
                        let made = try Projector(engine: engine, pageSize: pageSize, logger: logger)
                        try made.prepare()
                        projector = made
                    }
                }
                var more = true
                while more, let projector, !shouldPause() {
                    more = try projector.pass()
                }
                delay = pollInterval
            } catch {
                delay = min(max(delay * 2, 0.05), 5)
                logger.error("projections failed, will retry", metadata: ["error": "\(error)", "retry_in_s": "\(delay)"])
                if projector == nil { needsLoad = true }
            }
            condition.lock()
            if wakeups == 0 && reloads == 0 && !stopping { _ = condition.wait(until: Date().addingTimeInterval(delay)) }
            wakeups = 0
            if reloads > 0 {
                reloads = 0
                needsLoad = true
            }
            let stop = stopping
            condition.unlock()
            if stop { return }
        }
    }

    /// True when a stop or reload is waiting: the catch-up loop yields between pages.
    private func shouldPause() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopping || reloads > 0
    }
}
