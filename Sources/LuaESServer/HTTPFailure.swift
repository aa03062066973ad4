import Foundation
import HTTPTypes
import Hummingbird
import LuaES
import LuaESScripting
import LuaESCore

/// An error answer: `{"error":{"kind","code","message"}}` with the status `ErrorKind` gives it.
struct HTTPFailure: Error {
    var kind: ErrorKind
    var code: ErrorCode
    var message: String

    init(_ kind: ErrorKind, code: ErrorCode, _ message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    /// Maps what the engine, the scripts and the stores throw, through the one table.
    init(_ error: any Error) {
        switch error {
        case let failure as HTTPFailure: self = failure
        case let e as any ClassifiedError: self.init(e.kind, code: e.code, e.message)
        default: self.init(.internal, code: "internal", "\(error)")
        }
    }

    var status: HTTPResponse.Status { HTTPResponse.Status(code: kind.httpStatus) }

    var response: Response {
        let body = JSONText.object([("error", JSONText.object([
            ("kind", JSONText.quote(kind.luaKind)), ("code", JSONText.quote(code.rawValue)),
            ("message", JSONText.quote(message)),
        ]))])
        var response = Response.json(body, status: status)
        // 503s pass (a store that cannot be reached, shutting down): say when to try again
        if kind == .unavailable { response.headers[.retryAfter] = "1" }
        return response
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
