import Foundation
import HTTPTypes
import Hummingbird
import LuaES

/// An error answer: `{"error":{"kind","code","message"}}` with the status DESIGN §6 gives it.
struct HTTPFailure: Error {
    var status: HTTPResponse.Status
    var kind: String
    var code: String
    var message: String

    init(_ status: HTTPResponse.Status, kind: String = "invalid", code: String, _ message: String) {
        self.status = status
        self.kind = kind
        self.code = code
        self.message = message
    }

    /// Maps what the engine and the store throw.
    init(_ error: any Error) {
        switch error {
        case let failure as HTTPFailure:
            self = failure
        case let e as EngineError:
            let status: HTTPResponse.Status = switch e.kind {
            case .invalid: ["unknown_aggregate", "unknown_command"].contains(e.code) ? .notFound : .badRequest
            case .fault: .unprocessableContent
            case .conflict: .conflict
            case .limit: e.code == "shutting_down" ? .serviceUnavailable : .internalServerError
            case .script, .forbidden: .internalServerError
            }
            self.init(status, kind: e.kind.rawValue, code: e.code, e.message)
        case let e as StoreError:
            if let c = e.conflict {
                self.init(.conflict, kind: "conflict", code: "conflict",
                          "\(c.stream) is at version \(c.actual), the command expected \(c.expected)")
            } else if e.isRefusal {
                // a store middleware said no: the request is understood but not allowed
                self.init(.unprocessableContent, kind: "refused", code: "refused", e.description)
            } else {
                self.init(.internalServerError, kind: "store", code: "store", e.description)
            }
        default:
            self.init(.internalServerError, kind: "server", code: "internal", "\(error)")
        }
    }

    var response: Response {
        let body = JSONText.object([("error", JSONText.object([
            ("kind", JSONText.quote(kind)), ("code", JSONText.quote(code)), ("message", JSONText.quote(message)),
        ]))])
        return Response.json(body, status: status)
    }
}

extension Response {
    /// A JSON response from text that is already JSON.
    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var buffer = ByteBuffer()
        buffer.writeString(text)
        buffer.writeString("\n")
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: buffer))
    }
}
