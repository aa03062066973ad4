import Foundation
import LuaES
import LuaESCore
import LuaESScripting
import LuaESStore

/// Meta commands: lines starting with `.` (`.help` lists them).
extension REPLSession {
    /// A meta command's name, arguments and one-line help.
    public struct MetaCommand: Sendable {
        /// `.history`
        public var name: String
        /// `AGG KEY`, as `.help` shows them.
        public var arguments: String
        /// What it does, in one line.
        public var help: String
    }

    /// Every meta command, in the order `.help` shows them.
    public static let metaCommands: [MetaCommand] = [
        MetaCommand(name: ".help", arguments: "", help: "this list"),
        MetaCommand(name: ".aggregates", arguments: "", help: "the loaded aggregates: commands and event types"),
        MetaCommand(name: ".history", arguments: "AGG KEY", help: "stored events of one aggregate"),
        MetaCommand(name: ".state", arguments: "AGG KEY [VERSION]", help: "state now, or at a version"),
        MetaCommand(name: ".step", arguments: "AGG KEY", help: "replay one event at a time, with the state diff after each"),
        MetaCommand(name: ".diff", arguments: "AGG KEY V1 V2", help: "how the state changed from version V1 to V2"),
        MetaCommand(name: ".events", arguments: "[AFTER]", help: "the global feed, after a position"),
        MetaCommand(name: ".view", arguments: "NAME [KEY|PREFIX*]", help: "a projection's document (or those under a prefix), brought up to date"),
        MetaCommand(name: ".projections", arguments: "", help: "the projections and where they stand"),
        MetaCommand(name: ".reload", arguments: "", help: "re-read the domain script (kept only if it loads)"),
        MetaCommand(name: ".quit", arguments: "", help: "leave (or Ctrl-D)"),
    ]

    /// Most events `.events` prints at once.
    static let feedPage = 50

    private var console: REPLEvaluator { REPLEvaluator(engine) }

    func runMeta(_ line: String) {
        let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
        let args = Array(words.dropFirst())
        do {
            switch words[0] {
            case ".help": help()
            case ".aggregates": aggregates()
            case ".history": try history(args)
            case ".state": try state(args)
            case ".step": try step(args)
            case ".diff": try diff(args)
            case ".events": try events(args)
            case ".view": try view(args)
            case ".projections": try projections()
            case ".reload": reload()
            case ".quit", ".exit": finished = true
            default: write("unknown command \(words[0]) (.help lists them)")
            }
        } catch let usage as Usage {
            write("usage: \(usage.command) \(usage.arguments)")
        } catch {
            write(errorLine(error))
        }
    }

    private struct Usage: Error {
        var command: String
        var arguments: String
    }

    private func expect(_ name: String, _ args: [String], _ counts: ClosedRange<Int>) throws {
        guard counts.contains(args.count) else {
            throw Usage(command: name, arguments: Self.metaCommands.first { $0.name == name }?.arguments ?? "")
        }
    }

    private func version(_ text: String, _ name: String) throws -> Int64 {
        guard let v = Int64(text.hasPrefix("v") ? String(text.dropFirst()) : text), v >= 0 else {
            throw EngineError.invalid("bad_version", "\(name): '\(text)' is not a version (0, 1, 2...)")
        }
        return v
    }

    private func help() {
        write("Lua runs in the host phase with the domain loaded, e.g. Counter(\"c1\"):increment{ by = 2 },")
        write("history(Counter, \"c1\"), state(Counter, \"c1\", 1); `= expr` or a bare expression prints its value.")
        let width = Self.metaCommands.map { $0.name.count + $0.arguments.count + 1 }.max() ?? 0
        for c in Self.metaCommands {
            let usage = c.arguments.isEmpty ? c.name : c.name + " " + c.arguments
            write("  " + usage.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + c.help)
        }
        write("Tab completes names; Ctrl-C cancels the line or stops a running command; Ctrl-D quits.")
    }

    private func aggregates() {
        let aggregates = engine.domain.aggregates
        if aggregates.isEmpty { write("no aggregates loaded") }
        for a in aggregates {
            write(a.name)
            write("  commands: " + (a.commands.isEmpty ? "(none)" : a.commands.joined(separator: ", ")))
            let events = a.events.map { e in
                e.fields.map { f in e.name + " { " + f.keys.sorted().map { "\($0): \(f[$0]!)" }.joined(separator: ", ") + " }" }
                    ?? e.name
            }
            write("  events:   " + (events.isEmpty ? "(none)" : events.joined(separator: ", ")))
        }
    }

    /// Catches the projections up with the store, then shows a document (or the documents under a prefix).
    private func view(_ args: [String]) throws {
        try expect(".view", args, 1...2)
        let name = args[0]
        guard engine.domain.projection(named: name) != nil else {
            throw EngineError.invalid("unknown_projection", "no projection named \(name) (.projections lists them)")
        }
        let projector = try Projector(engine: engine)
        try projector.prepare()
        try projector.catchUp(only: name)
        if let status = try ProjectionStatus.all(domain: engine.domain, store: projector.views).first(where: { $0.name == name }),
           status.state == .failed {
            write("warning: " + status.summary)
        }
        guard let active = try projector.views.activeGeneration(of: name) else {
            write("\(name) has no views yet")
            return
        }
        let key = args.count == 2 ? args[1] : "*"
        if key.hasSuffix("*") {
            let documents = try projector.views.viewDocuments(projection: name, generation: active.generation,
                                                               prefix: String(key.dropLast()), after: nil, limit: Self.feedPage)
            if documents.isEmpty { write("\(name) has no documents under \"\(key.dropLast())\"") }
            for d in documents { write("  \(d.key): " + (try console.render(json: d.document))) }
            return
        }
        guard let document = try projector.views.viewDocument(projection: name, generation: active.generation, key: key) else {
            write("\(name) has no document \(key)")
            return
        }
        write("\(name)[\(key)] at position \(active.position): " + (try console.render(json: document)))
    }

    private func projections() throws {
        guard !engine.projections.isEmpty else {
            write("no projections loaded")
            return
        }
        guard let views = engine.store.projections else { throw EngineError.invalid("no_views", "this store keeps no views") }
        for status in try ProjectionStatus.all(domain: engine.domain, store: views) { write("  " + status.summary) }
    }

    private func history(_ args: [String]) throws {
        try expect(".history", args, 2...2)
        let events = try engine.history(aggregate: args[0], key: args[1])
        if events.isEmpty { write("\(handle(args)) has no events") }
        for e in events { write("  v\(e.version) \(e.type) " + (try console.render(json: e.data))) }
    }

    private func state(_ args: [String]) throws {
        try expect(".state", args, 2...3)
        let at = try args.count == 3 ? version(args[2], ".state") : nil
        let r = try engine.state(aggregate: args[0], key: args[1], at: at)
        write("\(handle(args)) at v\(r.version): " + (try console.render(json: r.state)))
    }

    private func step(_ args: [String]) throws {
        try expect(".step", args, 2...2)
        var previous = ""
        var count = 0
        try console.replaySteps(aggregate: args[0], key: args[1]) { event, state in
            defer { previous = state }
            guard let event else {
                write("\(handle(args)) initial state: " + (try console.render(json: state)))
                return
            }
            count += 1
            write("v\(event.version) \(event.type) " + (try console.render(json: event.data)))
            write(try console.diff(previous, state))
        }
        write(count == 0 ? "(no events)" : "(\(count) event\(count == 1 ? "" : "s") replayed)")
    }

    private func diff(_ args: [String]) throws {
        try expect(".diff", args, 4...4)
        let from = try version(args[2], ".diff"), to = try version(args[3], ".diff")
        let a = try engine.state(aggregate: args[0], key: args[1], at: from)
        let b = try engine.state(aggregate: args[0], key: args[1], at: to)
        write("\(handle(args)) v\(from) -> v\(to):")
        write(try console.diff(a.state, b.state))
    }

    private func events(_ args: [String]) throws {
        try expect(".events", args, 0...1)
        let after = try args.first.map { text -> Int64 in
            guard let p = Int64(text), p >= 0 else {
                throw EngineError.invalid("bad_position", ".events: '\(text)' is not a position")
            }
            return p
        } ?? 0
        let page = try engine.store.events(after: after, limit: Self.feedPage + 1)
        if page.isEmpty { write("no events after position \(after)") }
        for e in page.prefix(Self.feedPage) {
            write("#\(e.position) \(e.stream.aggregate)(\(JSONText.quote(e.stream.key))) v\(e.version) \(e.type) "
                  + (try console.render(json: e.data)))
        }
        if page.count > Self.feedPage, let last = page.prefix(Self.feedPage).last {
            write("(more: .events \(last.position))")
        }
    }

    private func handle(_ args: [String]) -> String { "\(args[0])(\(JSONText.quote(args[1])))" }
}
