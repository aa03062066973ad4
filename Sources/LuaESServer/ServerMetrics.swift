import Foundation
import LuaES
import LuaESScripting
import LuaESCore
import LuaESStore

/// Counters and a latency histogram, written as Prometheus text by `/metrics`.
/// Our own few lines rather than a metrics backend: one lock, no allocation per command.
final class ServerMetrics: @unchecked Sendable {
    // @unchecked: every stored property is read and written only while `lock` is held.
    static let buckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

    private let lock = NSLock()
    private var outcomes: [String: Int64] = [:]   // "ok", "fault", "conflict", "invalid", "script", ...
    private var bucketCounts = [Int64](repeating: 0, count: ServerMetrics.buckets.count)
    private var count: Int64 = 0
    private var sum: Double = 0
    private var reloads: [String: Int64] = [:]
    private var commits: Int64 = 0
    private var committedCommands: Int64 = 0
    let statistics: EngineStatistics
    let snapshotStore: SnapshotStoreStatistics

    init(statistics: EngineStatistics, snapshotStore: SnapshotStoreStatistics = SnapshotStoreStatistics()) {
        self.statistics = statistics
        self.snapshotStore = snapshotStore
    }

    func command(outcome: String, seconds: Double) {
        lock.withLock {
            outcomes[outcome, default: 0] += 1
            count += 1
            sum += seconds
            if let i = Self.buckets.firstIndex(where: { seconds <= $0 }) { bucketCounts[i] += 1 }
        }
    }

    /// A worker's batch went to the store in one transaction with `commands` commands that appended.
    func groupCommit(commands: Int) {
        lock.withLock {
            commits += 1
            committedCommands += Int64(commands)
        }
    }

    func reload(succeeded: Bool) {
        lock.withLock { reloads[succeeded ? "ok" : "failed", default: 0] += 1 }
    }

    /// The Prometheus text exposition format.
    func render() -> String {
        lock.withLock {
            var out = "# HELP esrun_commands_total Commands by outcome.\n# TYPE esrun_commands_total counter\n"
            for (outcome, n) in outcomes.sorted(by: { $0.key < $1.key }) {
                out += "esrun_commands_total{outcome=\"\(outcome)\"} \(n)\n"
            }
            out += "# HELP esrun_faults_total Commands rejected by a domain fault.\n# TYPE esrun_faults_total counter\n"
            out += "esrun_faults_total \(outcomes["fault"] ?? 0)\n"
            out += "# HELP esrun_conflicts_total Commands that ended in a concurrency conflict.\n# TYPE esrun_conflicts_total counter\n"
            out += "esrun_conflicts_total \(outcomes["conflict"] ?? 0)\n"
            out += "# HELP esrun_command_seconds Command latency, queueing included.\n# TYPE esrun_command_seconds histogram\n"
            var cumulative: Int64 = 0
            for (bound, n) in zip(Self.buckets, bucketCounts) {
                cumulative += n
                out += "esrun_command_seconds_bucket{le=\"\(bound)\"} \(cumulative)\n"
            }
            out += "esrun_command_seconds_bucket{le=\"+Inf\"} \(count)\n"
            out += "esrun_command_seconds_sum \(sum)\nesrun_command_seconds_count \(count)\n"
            out += "# HELP esrun_replayed_events_total Events replayed to hydrate states.\n# TYPE esrun_replayed_events_total counter\n"
            out += "esrun_replayed_events_total \(statistics.replayedEvents)\n"
            out += "# HELP esrun_snapshots_total Snapshots written.\n# TYPE esrun_snapshots_total counter\n"
            out += "esrun_snapshots_total \(statistics.snapshots)\n"
            out += "# HELP esrun_store_commits_total Store transactions of the workers' batches that appended events.\n"
                + "# TYPE esrun_store_commits_total counter\nesrun_store_commits_total \(commits)\n"
            out += "# HELP esrun_store_commit_commands_total Commands whose events those transactions appended.\n"
                + "# TYPE esrun_store_commit_commands_total counter\nesrun_store_commit_commands_total \(committedCommands)\n"
            out += "# HELP esrun_snapshot_store_failures_total Snapshot reads and saves that failed in a separate "
                + "snapshot store (--snapshots); loads replayed the events instead.\n"
            out += "# TYPE esrun_snapshot_store_failures_total counter\n"
            out += "esrun_snapshot_store_failures_total \(snapshotStore.failures)\n"
            out += "# HELP esrun_snapshot_store_skipped_total Snapshot reads and saves not tried: the snapshot store "
                + "had failed within the last second.\n"
            out += "# TYPE esrun_snapshot_store_skipped_total counter\n"
            out += "esrun_snapshot_store_skipped_total \(snapshotStore.skips)\n"
            out += "# HELP esrun_reloads_total Script reloads by result.\n# TYPE esrun_reloads_total counter\n"
            for (result, n) in reloads.sorted(by: { $0.key < $1.key }) {
                out += "esrun_reloads_total{result=\"\(result)\"} \(n)\n"
            }
            return out
        }
    }
}
