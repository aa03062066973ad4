import Foundation
import Testing
@testable import LuaES
import LuaESCore
@testable import LuaESScripting
import LuaESTestSupport

/// The prelude is compiled into the binary as named chunks, one a file of Sources/CLuaShim/prelude.
@Suite struct PreludeTests {
    static let preludeDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/CLuaShim/prelude")

    /// The line of `file` in the prelude's sources that holds `text` (once).
    static func line(of text: String, in file: String) throws -> Int {
        let source = try String(contentsOf: preludeDirectory.appendingPathComponent(file), encoding: .utf8)
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        let hits = lines.indices.filter { lines[$0].contains(text) }
        try #require(hits.count == 1, "\(text) should occur once in \(file)")
        return hits[0] + 1
    }

    @Test func chunksLoadInOrder() {
        #expect(LuaHost.preludeChunkNames == [
            "prelude/sandbox.lua", "prelude/domain.lua", "prelude/hooks.lua", "prelude/engine.lua",
            "prelude/projections.lua", "prelude/spec.lua", "prelude/warnings.lua", "prelude/repl.lua",
        ])
    }

    @Test func everyChunkIsAFileOfThePreludeFolder() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.preludeDirectory.path)
            .filter { $0.hasSuffix(".lua") }
        #expect(Set(files.map { "prelude/" + $0 }) == Set(LuaHost.preludeChunkNames))
    }

    /// A script error's traceback names the prelude frame it passed through by file and line,
    /// while the error's location stays the script's own line.
    @Test func tracebacksNamePreludeFilesAndLines() throws {
        let engine = try makeEngine("""
            local A = aggregate('A')
            A:event('E', {})
            function A.handle.bug(state) local x = nil return x.field end
            function A.handle.chatty(state) print('hi') end
            """)
        let bug = try #require(engineError { _ = try engine.execute(aggregate: "A", key: "k", command: "bug") })
        #expect(bug.message == "handler A.bug: domain.lua:3: attempt to index a nil value (local 'x')")
        let call = try Self.line(of: "local out = fn(readonly(state), args, ctx)", in: "engine.lua")
        #expect(bug.traceback.contains("prelude/engine.lua:\(call):"), "\(bug.traceback)")

        let chatty = try #require(engineError { _ = try engine.execute(aggregate: "A", key: "k", command: "chatty") })
        #expect(chatty.kind == .forbidden)
        #expect(chatty.message.hasPrefix("handler A.chatty (domain.lua:4): print is not available"), "\(chatty.message)")
        let cap = try Self.line(of: "cap(\"print\", M_LOAD | M_HOST)", in: "sandbox.lua")
        #expect(chatty.traceback.contains("prelude/sandbox.lua:\(cap):"), "\(chatty.traceback)")
    }
}
