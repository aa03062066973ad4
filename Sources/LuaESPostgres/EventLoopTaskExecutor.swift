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
final class EventLoopTaskExecutor: TaskExecutor {
    let group: any EventLoopGroup

    init(group: any EventLoopGroup) {
        self.group = group
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        group.next().execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// The executor over postgres-nio's default event loops (`MultiThreadedEventLoopGroup.singleton`).
    static let shared = EventLoopTaskExecutor(group: MultiThreadedEventLoopGroup.singleton)
}
