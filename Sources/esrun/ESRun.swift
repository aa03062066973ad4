import ArgumentParser
import LuaES
import LuaESScripting
import LuaESCore
import LuaESStore
import LuaESTools

@main
struct ESRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "esrun",
        abstract: "Event sourcing with domain rules in Lua.",
        discussion: """
            esrun SCRIPT.lua runs a driver script (the same as esrun run SCRIPT.lua).
            Events live in ./esrun.db unless --db PATH or --memory says otherwise.
            Exit codes: 0 ok, 2 invalid input, 3 fault, 4 conflict, 5 script error,
            6 limit exceeded, 7 forbidden call, 8 storage error; `test` and `verify`
            exit 1 when a scenario fails or a stream does not verify.
            """,
        version: LuaES.version,
        subcommands: [Run.self, Exec.self, State.self, History.self, Check.self, Serve.self, Repl.self, Test.self,
                      Verify.self, Bench.self, ProjectionCommand.self, Tail.self],
        defaultSubcommand: Run.self
    )
}
