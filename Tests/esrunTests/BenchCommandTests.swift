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
        #expect(lines.count == Benchmark.workloads.count, "\(r.stdout)")
    }
}
