import ArgumentParser
import Foundation
import LuaES
import LuaESScripting
import LuaESCore

/// Turns an error into one line on stderr (plus a traceback for script bugs) and the exit
/// code `ErrorKind` gives it.
func report(_ error: Error) -> Error {
    if error is ExitCode || error is ValidationError || error is CleanExit { return error }
    let kind = (error as? any ClassifiedError)?.kind ?? .internal
    var traceback = ""
    if let e = error as? EngineError, e.kind == .script || e.kind == .limit { traceback = e.traceback }
    FileHandle.standardError.write(Data(("esrun: " + errorLine(error) + "\n").utf8))
    if !traceback.isEmpty { FileHandle.standardError.write(Data((traceback + "\n").utf8)) }
    return ExitCode(kind.exitCode)
}

/// Runs `body`, reporting any failure as esrun does.
func reporting(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch {
        fflush(nil) // everything the script printed goes out before the error
        throw report(error)
    }
}

func output(_ text: String) {
    print(text)
}

/// Runs input checks inside an ArgumentParser `validate()`: a violation is a usage error,
/// which exits with invalid input's code (ESRun.main).
func checkingInput(_ body: () throws(InputError) -> Void) throws {
    do { try body() } catch { throw ValidationError(error.line) }
}
