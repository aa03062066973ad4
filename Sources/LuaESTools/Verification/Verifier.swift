import Logging
import LuaES
import LuaESCore
import LuaESScripting
import LuaESStore

/// Checks that every stream of a store replays to the same state every time (`esrun verify`).
///
/// Each stream is replayed from its first event in one fresh engine, then twice in a second
/// fresh engine (the first of those replays leaves behind whatever the script keeps between
/// replays: module-level tables, upvalues), and the states are compared. A stored snapshot
/// whose fingerprint matches the script is compared with a replay up to its version. The store
/// is only read.
public struct Verifier {
    public var domain: String
    public var store: EventStore
    public var options: EngineOptions
    public var logger: Logger

    public init(domain: String, store: EventStore, options: EngineOptions = EngineOptions(),
                logger: Logger = Logger(label: "esrun.verify")) {
        self.domain = domain
        self.store = store
        self.options = options
        self.logger = logger
    }

    /// Verifies every stream.
    /// - Parameters:
    ///   - progress: called after each stream with (streams done, streams in the store).
    ///   - onProblem: called with each problem as it is found.
    /// - Throws: `EngineError` when the domain does not load, `StoreError` when the store cannot be read.
    public func run(progress: (Int, Int) -> Void = { _, _ in },
                    onProblem: (VerifyProblem) -> Void = { _ in }) throws -> VerifyReport {
        var engineOptions = options
        engineOptions.cacheCapacity = 0 // every read replays from scratch
        let view = ReplayOnlyStore(store)
        let first = try Engine(store: view, options: engineOptions, logger: logger)
        let second = try Engine(store: view, options: engineOptions, logger: logger)
        for engine in [first, second] {
            engine.logSink = { _ in }
            try engine.load(script: domain, display: domain)
        }
        var report = VerifyReport()
        let streams = try store.streams(of: nil)
        for (index, stream) in streams.enumerated() {
            defer { progress(index + 1, streams.count) }
            guard let agg = first.domain.aggregate(named: stream.aggregate) else {
                report.skipped[stream.aggregate, default: 0] += 1
                continue
            }
            report.verified += 1
            let found = verify(stream, agg, first, second, &report)
            for problem in found {
                report.problems.append(problem)
                onProblem(problem)
            }
        }
        return report
    }

    private func verify(_ stream: StreamID, _ agg: AggregateInfo, _ first: Engine, _ second: Engine,
                        _ report: inout VerifyReport) -> [VerifyProblem] {
        let replayed: StateResult
        do {
            replayed = try first.state(aggregate: stream.aggregate, key: stream.key)
            _ = try second.state(aggregate: stream.aggregate, key: stream.key)
            let again = try second.state(aggregate: stream.aggregate, key: stream.key)
            if replayed != again {
                var lines = try SpecEvaluator(first).jsonDiff(replayed.state, again.state, root: "state",
                                               labels: ("first replay", "second replay"))
                if replayed.version != again.version {
                    lines.insert("version: first replay \(replayed.version), second replay \(again.version)", at: 0)
                }
                return [VerifyProblem(kind: .nondeterministic, stream: stream, version: replayed.version,
                                      details: lines.isEmpty ? ["the states' JSON texts differ"] : lines)]
            }
        } catch {
            let version = (try? store.version(of: stream)) ?? 0
            return [VerifyProblem(kind: .replayFailed, stream: stream, version: version,
                                  details: [errorLine(error)])]
        }
        return checkSnapshot(stream, agg, first, replayed, &report).map { [$0] } ?? []
    }

    /// Compares the stored snapshot (when made by this script's replay code) with a replay up to its version.
    private func checkSnapshot(_ stream: StreamID, _ agg: AggregateInfo, _ engine: Engine, _ latest: StateResult,
                               _ report: inout VerifyReport) -> VerifyProblem? {
        let snapshot: Snapshot?
        do {
            snapshot = try store.snapshot(of: stream)
        } catch {
            return VerifyProblem(kind: .wrongSnapshot, stream: stream, version: 0,
                                 details: ["the snapshot cannot be read: \(errorLine(error))"])
        }
        guard let snapshot else { return nil }
        guard snapshot.fingerprint == agg.fingerprint else {
            report.snapshotsIgnored += 1
            return nil
        }
        report.snapshotsChecked += 1
        func wrong(_ details: [String]) -> VerifyProblem {
            VerifyProblem(kind: .wrongSnapshot, stream: stream, version: snapshot.version, details: details)
        }
        if snapshot.version > latest.version || snapshot.version < 1 {
            return wrong(["the snapshot is at version \(snapshot.version), the stream has \(latest.version) events"])
        }
        do {
            let replayed = snapshot.version == latest.version
                ? latest : try engine.state(aggregate: stream.aggregate, key: stream.key, at: snapshot.version)
            let lines = try SpecEvaluator(engine).jsonDiff(replayed.state, snapshot.state, root: "state", labels: ("replay", "snapshot"))
            return lines.isEmpty ? nil : wrong(lines)
        } catch let error as EngineError where error.code == "bad_json" {
            return wrong(["the snapshot's state is not valid JSON: \(error.message)"])
        } catch {
            return wrong(["cannot compare: \(errorLine(error))"])
        }
    }
}
