import NIOCore
import NIOPosix

/// Runs the jobs of the store's tasks on SwiftNIO's event-loop threads instead of Swift
/// concurrency's cooperative pool.
///
/// Why: the store blocks its callers until a task finishes (`PostgresEventStore.blocking`).
/// Callers may themselves be on the cooperative pool (Swift Testing runs synchronous tests
/// there; `esrun serve` opens its store from an async command), and that pool has one
/// thread per core: with every thread blocked waiting, a task that needs one of them would
/// never run. Event-loop threads are never blocked by the store (that is checked), so the
/// tasks always make progress.
@available(macOS 15.0, *)
///
/// All jobs go to one event loop: a task's steps then never hop between threads (measured:
/// spreading them over the loops costs a cross-thread wake-up per step).
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(loop: any EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// The executor on one of postgres-nio's default event loops (`MultiThreadedEventLoopGroup.singleton`).
    static let shared = EventLoopTaskExecutor(loop: MultiThreadedEventLoopGroup.singleton.next())
}

/// Starts a detached task on the event loops (`EventLoopTaskExecutor.shared`) where the
/// platform allows a task executor preference, else on the cooperative pool.
@discardableResult
func detachedOnEventLoops(_ operation: @escaping @Sendable () async -> Void) -> Task<Void, Never> {
    if #available(macOS 15.0, *) {
        return Task.detached(executorPreference: EventLoopTaskExecutor.shared, operation: operation)
    }
    return Task.detached(operation: operation)
}
