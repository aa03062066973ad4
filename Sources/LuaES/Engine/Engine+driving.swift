import Foundation
import LuaESCore
import LuaESScripting
import LuaESStore

/// The driving API of driver scripts: `Counter("c1"):increment{}`, `.state`,
/// `history(...)`, `state(...)`, and `ctx.log` lines.
extension Engine: HostCallbacks {
    private struct ExecuteCall: Decodable {
        var aggregate: String
        var key: String
        var command: String
        var args: String
        var expected_version: Int64?
        var meta: String?
    }

    private struct ReadCall: Decodable {
        var aggregate: String
        var key: String
        var at: Int64?
    }

    private struct LogCall: Decodable {
        var message: String
        var `where`: String?
    }

    public func hostCall(_ operation: String, argument: String) -> Result<String, ScriptError> {
        do {
            let data = Data(argument.utf8)
            switch operation {
            case "execute":
                let call = try JSONDecoder().decode(ExecuteCall.self, from: data)
                let result = try execute(aggregate: call.aggregate, key: call.key, command: call.command,
                                         args: call.args, meta: call.meta, expectedVersion: call.expected_version)
                return .success(JSONText.array(result.events.map(\.json)))
            case "state":
                let call = try JSONDecoder().decode(ReadCall.self, from: data)
                let result = try state(aggregate: call.aggregate, key: call.key, at: call.at)
                return .success(JSONText.object([("version", String(result.version)), ("state", result.state)]))
            case "version":
                let call = try JSONDecoder().decode(ReadCall.self, from: data)
                return .success(String(try version(aggregate: call.aggregate, key: call.key)))
            case "history":
                let call = try JSONDecoder().decode(ReadCall.self, from: data)
                return .success(JSONText.array(try history(aggregate: call.aggregate, key: call.key).map(\.json)))
            case "view_get":
                return .failure(ScriptError(kind: .invalid, code: "view_closed",
                                            message: "views are only readable while a projection handler runs"))
            case "log":
                let call = try JSONDecoder().decode(LogCall.self, from: data)
                let line = (call.where.map { $0.isEmpty ? "" : $0 + ": " } ?? "") + call.message
                if let logSink { logSink(line) } else { logger.info("\(line)") }
                return .success("null")
            default:
                return .failure(ScriptError(kind: .invalid, code: "unknown_operation", message: "the host has no operation \(operation)"))
            }
        } catch let error as any ClassifiedError {
            // the error reaches the driver script with its kind and code, as every edge reports it
            return .failure(ScriptError(kind: error.kind, code: error.code, message: error.message))
        } catch {
            return .failure(ScriptError(kind: .invalid, code: "bad_call", message: "\(error)"))
        }
    }
}
