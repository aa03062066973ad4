import ArgumentParser
import Foundation
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
            Exit codes: 0 ok, 2 invalid input (usage errors included), 3 fault, 4 conflict,
            5 script error, 6 limit exceeded, 7 forbidden call, 8 storage error or unavailable,
            9 refused by a store middleware, 1 internal error; `test` and `verify` exit 1 when
            a scenario fails or a stream does not verify.
            """,
        version: LuaES.version,
        subcommands: [Run.self, Exec.self, State.self, History.self, Check.self, Serve.self, Repl.self, Test.self,
                      Verify.self, Bench.self, ProjectionCommand.self, Tail.self, BareRoute.self],
        defaultSubcommand: Run.self
    )

    /// Parses and runs like ArgumentParser's own `main`, except that a usage error exits
    /// with the code of invalid input (ErrorKind's table), as every other invalid input does.
    static func main() async {
        do {
            try checkArgumentsAreUTF8()
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if let error = error as? InputError {
                _ = report(error) // one line on stderr, as every command's errors
                Foundation.exit(error.kind.exitCode)
            }
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(ErrorKind.invalid.exitCode)
            }
            exit(withError: error)
        }
    }

    /// Swift turns argv into strings lossily (bytes that are not UTF-8 become U+FFFD): an
    /// argument that is not UTF-8 is refused before it can reach a key, a name or a body.
    static func checkArgumentsAreUTF8() throws(InputError) {
        for index in 1..<Int(CommandLine.argc) {
            guard let pointer = CommandLine.unsafeArgv[index] else { continue }
            let bytes = UnsafeRawBufferPointer(start: pointer, count: strlen(pointer))
            if String(validating: bytes, as: UTF8.self) == nil {
                throw InputError("bad_utf8", "argument \(index) is not valid UTF-8")
            }
        }
    }
}
