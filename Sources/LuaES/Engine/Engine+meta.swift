import Foundation
import LuaESCore
import LuaESScripting
import LuaESStore

/// Event metadata: what the engine stores in every event's `meta` (ARCHITECTURE.md, "Storage guarantees").
///
/// ```json
/// {"event_id":"…uuid…","command":"deposit","command_id":"…","correlation_id":"…","causation_id":"…",
///  "script_version":"<aggregate fingerprint>", …caller's members…, …on_append hooks' members…}
/// ```
/// - `event_id`: a UUID per event (for de-duplication by consumers of the feed), derived from one
///   fresh UUID per command, the base: the i-th event's id is `base.event(i)` (`UUIDBits`), so a
///   store keeps the base once per commit instead of an id per event.
/// - `command_id`: the command's idempotency key when given, else the base.
/// - `correlation_id`: the caller's `correlation_id`, else its `request_id`, else `command_id`.
/// - `causation_id`: the caller's `causation_id`, else `command_id`.
/// - `script_version`: the aggregate's fingerprint (its replay code and upcasters).
/// The recorded time is the event's `recorded_at`. Callers cannot set `event_id`, `command`,
/// `command_id` or `script_version`.
extension Engine {
    static let engineMetaKeys: Set<String> = ["event_id", "command", "command_id", "script_version"]

    /// The members shared by every event of one command (all but `event_id`), as JSON object
    /// members, and the base of the command's event ids.
    /// - Throws: `EngineError.invalid` when the caller's metadata is not a JSON object or sets an engine key.
    func commandMetaMembers(_ agg: AggregateInfo, _ request: CommandRequest) throws -> (members: String, base: UUIDBits) {
        let base = ids.next()
        return (try commandMetaMembers(agg, request, base: base), base)
    }

    private func commandMetaMembers(_ agg: AggregateInfo, _ request: CommandRequest, base: UUIDBits) throws -> String {
        let cacheKey = agg.name + "\u{0}" + request.command
        var members: String
        if let fixed = fixedMeta[cacheKey], fixed.fingerprint == agg.fingerprint {
            members = fixed.members
        } else {
            members = "\"command\":" + JSONText.quote(request.command) + ",\"script_version\":" + JSONText.quote(agg.fingerprint)
            fixedMeta[cacheKey] = (agg.fingerprint, members)
        }
        let commandID = request.idempotencyKey.map(JSONText.quote) ?? "\"" + base.text + "\""
        members += ",\"command_id\":" + commandID
        guard let extra = request.meta else {
            if let requestID = request.requestID.map(JSONText.quote) {
                return members + ",\"correlation_id\":" + requestID + ",\"causation_id\":" + commandID
                    + ",\"request_id\":" + requestID
            }
            return members + ",\"correlation_id\":" + commandID + ",\"causation_id\":" + commandID
        }
        let object = try? JSONSerialization.jsonObject(with: Data(extra.utf8)) as? [String: Any]
        guard let object else {
            throw EngineError.invalid("bad_meta", "command metadata must be a JSON object")
        }
        if let reserved = Self.engineMetaKeys.first(where: { object[$0] != nil }) {
            throw EngineError.invalid("reserved_meta", "metadata '\(reserved)' is set by the engine, not by the caller")
        }
        if object["correlation_id"] == nil {
            let requestID = (object["request_id"] as? String ?? request.requestID).map(JSONText.quote) ?? commandID
            members += ",\"correlation_id\":" + requestID
        }
        if object["request_id"] == nil, let requestID = request.requestID {
            members += ",\"request_id\":" + JSONText.quote(requestID)
        }
        if object["causation_id"] == nil { members += ",\"causation_id\":" + commandID }
        let inner = JSONText.trimmed(extra[...]).dropFirst().dropLast()
        if !JSONText.trimmed(inner).isEmpty { members += "," + inner }
        return members
    }

    /// The metadata of a command's `ordinal`-th event: its `event_id` and the command's members
    /// (the form `SharedMeta` packs).
    func eventMeta(members: String, base: UUIDBits, ordinal: Int) -> String {
        SharedMeta.eventMeta(id: base.event(ordinal), members: members)
    }
}
