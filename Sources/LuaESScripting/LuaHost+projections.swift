import Foundation
import LuaESCore

/// Projections seen from the host: a page of feed rows through one projection's handlers
/// (replay phase), with `view:get` answered by the caller.
extension LuaHost {
    /// Runs `rows` through projection `name`'s handlers; `view:get` calls `readView(key)`.
    /// - Returns: the documents the handlers wrote (nil: deleted), in the order they were last written.
    /// - Throws: `ScriptError` when a handler fails; the error `readView` threw when reading a view
    ///   failed (the page can be tried again later).
    public func project(_ name: String, rows: FeedRows,
                        readView: @escaping (String) throws -> String?) throws -> [ProjectedWrite] {
        guard rows.count > 0 else { return [] }
        let reader = ViewReader(readView, forwardingTo: callbackHandler)
        setCallbacks(reader)
        defer { setCallbacks(reader.next) }
        let framed: String
        do {
            framed = try call("project", phase: .replay, label: "projection \(name)",
                              [.string(name), .json(rows.json)], results: [.string]).text(0)
        } catch {
            if let failure = reader.failure { throw failure }
            throw error
        }
        return try ViewChangeFraming.parse(framed)
    }
}

/// One view document a projection handler wrote (`document` nil: deleted).
public struct ProjectedWrite: Sendable, Equatable {
    public var key: String
    public var document: String?
}

/// Answers `view:get` during one `project` call; anything else goes to the host's handler.
private final class ViewReader: HostCallbacks {
    let read: (String) throws -> String?
    let next: HostCallbacks?
    /// A failure of the store while reading a view: the page failed because of it, not the script.
    var failure: (any Error)?

    init(_ read: @escaping (String) throws -> String?, forwardingTo next: HostCallbacks?) {
        self.read = read
        self.next = next
    }

    func hostCall(_ operation: String, argument: String) -> Result<String, ScriptError> {
        guard operation == "view_get" else {
            return next?.hostCall(operation, argument: argument)
                ?? .failure(ScriptError(kind: .script, code: "no_host", message: "no engine is attached to this script"))
        }
        let key: String
        do {
            key = try Self.unquote(argument)
        } catch {
            return .failure(ScriptError(kind: .invalid, code: "bad_view_key", message: "a view key must be a string"))
        }
        do {
            return .success(try read(key).map(JSONText.quote) ?? "null")
        } catch {
            failure = error
            return .failure(ScriptError(kind: .store, code: "store", message: "reading view: \(error)"))
        }
    }

    /// The string of a JSON string literal.
    static func unquote(_ literal: String) throws -> String {
        let utf8 = literal.utf8
        if utf8.count >= 2, utf8.first == 0x22, utf8.last == 0x22, !utf8.contains(0x5C) {
            return String(literal.dropFirst().dropLast())
        }
        guard let value = try JSONSerialization.jsonObject(with: Data(utf8), options: .fragmentsAllowed) as? String else {
            throw ScriptError(kind: .invalid, code: "bad_view_key", message: "a view key must be a string")
        }
        return value
    }
}
