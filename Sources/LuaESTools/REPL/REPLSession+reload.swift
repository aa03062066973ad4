import LuaES
import LuaESCore
import LuaESScripting
import LuaESStore

/// `.reload`: the domain script is read into a fresh engine (a new Lua state), checked,
/// and only then replaces the running one; a broken script keeps the old rules (ARCHITECTURE.md, "Evolution").
extension REPLSession {
    /// Loads `path` into a new engine over the same store and checks its registry.
    /// - Returns: the engine and warnings (consistency problems) about its registry.
    /// - Throws: `EngineError` when the script does not load.
    func loadDomain(_ path: String) throws -> (Engine, [String]) {
        let fresh = try engine.makeSibling()
        try fresh.load(script: path, display: path)
        try REPLEvaluator(fresh).prepare()
        return (fresh, fresh.domain.consistencyProblems)
    }

    /// Re-reads the domain script; replaces the engine only when it loads and is consistent.
    func reload() {
        guard let path = domainPath else {
            write("no domain script to reload (start with esrun repl DOMAIN.lua)")
            return
        }
        let old = engine.domain
        let loaded: Engine
        let problems: [String]
        do {
            (loaded, problems) = try loadDomain(path)
        } catch {
            write("reload failed, keeping the previous rules: " + errorLine(error))
            return
        }
        guard problems.isEmpty else {
            write("reload refused, keeping the previous rules:")
            for problem in problems { write("  " + problem) }
            return
        }
        adopt(loaded)
        let names = loaded.domain.aggregates.map(\.name)
        write("reloaded \(path): " + (names.isEmpty ? "no aggregates" : names.joined(separator: ", ")))
        for gone in old.aggregates where loaded.domain.aggregate(named: gone.name) == nil {
            write("note: \(gone.name) is no longer defined (its stored events stay)")
        }
        write("(a new Lua state: globals set at the prompt are gone)")
    }
}
