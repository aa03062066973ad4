import ArgumentParser
import Foundation
import LuaES

/// Turns an error into one line on stderr (plus a traceback for script bugs) and an exit code.
func report(_ error: Error) -> Error {
    if error is ExitCode || error is ValidationError || error is CleanExit { return error }
    var line: String
    var code: Int32
    var traceback = ""
    switch error {
    case let e as EngineError:
        line = (e.location.isEmpty ? "" : e.location + ": ") + e.description
        code = exitCode(for: e.kind)
        if e.kind == .script || e.kind == .limit { traceback = e.traceback }
    case let e as StoreError:
        line = "store: " + e.description
        code = e.isConflict ? 4 : 8
    default:
        line = "\(error)"
        code = 1
    }
    FileHandle.standardError.write(Data(("esrun: " + line + "\n").utf8))
    if !traceback.isEmpty { FileHandle.standardError.write(Data((traceback + "\n").utf8)) }
    return ExitCode(code)
}

func exitCode(for kind: EngineError.Kind) -> Int32 {
    switch kind {
    case .invalid: return 2
    case .fault: return 3
    case .conflict: return 4
    case .script: return 5
    case .limit: return 6
    case .forbidden: return 7
    }
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
