import Foundation
import Logging
import LuaES
import LuaESCore
import LuaESScripting
import LuaESStore

/// Projection catch-up: a read model built from the whole feed the other workloads wrote.
extension Benchmark {
    static let projection = ToolScript.text("bench_projection")

    /// Builds `Totals` (one document per counter) from position 0 of `store`'s feed, in pages
    /// of 500 committed with their checkpoint, and checks the result against the feed.
    func projectionCatchUp(store: EventStore, script: String) throws {
        guard let views = store.projections else {
            return report(Figure(name: "projection catch-up", value: 0, unit: "skipped", detail: "the store keeps no projections"))
        }
        let withProjection = (script as NSString).deletingPathExtension + "-projection.lua"
        try (Self.domain + "\n" + Self.projection).write(toFile: withProjection, atomically: true, encoding: .utf8)
        let engine = try Engine(store: store)
        try engine.load(script: withProjection, display: "bench-projection.lua")
        var quiet = Logger(label: "luaes.bench")
        quiet.logLevel = .warning
        let projector = try Projector(engine: engine, pageSize: 500, logger: quiet)
        try projector.prepare()
        let head = try views.headPosition()
        let time = try Self.seconds {
            while try projector.pass(only: "Totals") {
                let at = try views.projectionGenerations(named: "Totals").first?.position ?? 0
                if at % 100_000 < 500 { progress("projection catch-up", Double(at) / Double(max(head, 1))) }
            }
        }
        let generation = try require(views.projectionGenerations(named: "Totals").first)
        guard generation.position == head, generation.failure == nil,
              let big = try views.viewDocument(projection: "Totals", generation: generation.generation, key: "big"),
              big == #"{"n":\#(settings.events)}"# else {
            throw EngineError.invalid("bench", "projection catch-up ended wrong: \(generation)")
        }
        let matched = try views.viewDocuments(projection: "Totals", generation: generation.generation, prefix: "",
                                              after: nil, limit: 1_000).count
        report(Figure(name: "projection catch-up", value: Double(head) / time, unit: "events/s",
                      detail: "\(head) feed events (\(settings.events + settings.commands) handled) into \(matched) documents "
                        + "in \(Self.format(time)) s, pages of 500"))
    }
}

private struct BenchFailure: Error {}

private func require<T>(_ value: T?) throws -> T {
    guard let value else { throw BenchFailure() }
    return value
}
