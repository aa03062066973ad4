import Foundation
import LuaES
import LuaESCore
import LuaESTools
import LuaESStore
import LuaESScripting
import Testing

/// `esrun bench --quick` as CI runs it: every workload prints its line; nothing about speed.
@Suite struct BenchCommandTests {
    @Test func quickBenchPrintsEveryWorkload() throws {
        let dir = try ESRunProcess.workspace()
        let r = try ESRunProcess.run(["bench", "--quick"], in: dir, seconds: 300)
        #expect(!r.timedOut)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        for name in Benchmark.workloads {
            let line = lines.first { $0.hasPrefix(name.padding(toLength: 40, withPad: " ", startingAt: 0)) }
            #expect(line != nil, "no line for \(name) in:\n\(r.stdout)")
            // a positive figure and a unit (wrk is installed by scripts/install-deps.sh), then the details
            let figure = line.map { $0.dropFirst(41).prefix { $0 != "(" } } ?? ""
            #expect(figure.range(of: #"^[0-9.]+ [A-Za-z/]+  $"#, options: .regularExpression) != nil, "\(line ?? "")")
            #expect((Double(figure.prefix { $0 != " " }) ?? 0) > 0, "\(line ?? "")")
        }
        #expect(lines.first?.hasPrefix("store") == true, "\(r.stdout)")  // which store was measured
        #expect(lines.count == Benchmark.workloads.count + 1, "\(r.stdout)")
    }

    static let postgres = ProcessInfo.processInfo.environment["ESRUN_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

    /// `esrun bench --postgres`: says which store it measured, skips the engine-only workloads
    /// with a reason, measures the rest, and drops the schemas it made.
    @Test(.enabled(if: postgres != nil, "needs ESRUN_TEST_POSTGRES_URL (a PostgreSQL server); scripts/test.sh starts one"))
    func quickBenchOnPostgres() throws {
        let dir = try ESRunProcess.workspace()
        let r = try ESRunProcess.run(["bench", "--quick", "--postgres", Self.postgres!], in: dir, seconds: 600)
        #expect(!r.timedOut)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let store = lines.first ?? ""
        #expect(store.hasPrefix("store") && store.contains("PostgreSQL"), "\(r.stdout)")
        let skipped = lines.filter { $0.dropFirst(41).hasPrefix("skipped") }.map { String($0.prefix(40)).trimmingCharacters(in: .whitespaces) }
        #expect(Set(skipped) == ["VM-bound replay, watchdog", "VM-bound replay, instruction budget",
                                 "sequential commands, in-memory store", "commands emitting 1000 events, in memory",
                                 "bytes per event on disk"], "\(r.stdout)")
        for name in Benchmark.workloads where !skipped.contains(name) {
            let line = lines.first { $0.hasPrefix(name.padding(toLength: 40, withPad: " ", startingAt: 0)) }
            #expect((line.flatMap { Double($0.dropFirst(41).prefix { $0 != " " }) } ?? 0) > 0, "\(name): \(line ?? "none")")
        }
        #expect(!r.stderr.contains("dropping schema"), "the bench drops its schemas or says why not: \(r.stderr)")
    }
}
