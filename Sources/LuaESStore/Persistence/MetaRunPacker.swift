import Foundation
import LuaESCore

/// Finds the longest run at the start of an append whose metadata can be stored once
/// (`SharedMeta`), checking that what would be read back equals what was given.
enum MetaRunPacker {
    /// The run that starts with `events.first` (never empty).
    static func run(of events: ArraySlice<NewEvent>, templates: MetaTemplates?, headOwnIDs: Bool = true) -> MetaRun {
        let first = events[events.startIndex]
        let verbatim = MetaRun(count: 1, shared: nil, ownIDs: [])
        guard let (id, members) = split(first.meta) else { return verbatim }
        let shared: SharedMeta
        if let known = templates?.match(members, id: id, commandKey: first.commandID),
           headOwnIDs || known.base.event(0) == id {
            shared = known
        } else {
            guard let made = share(members, id: id, commandKey: first.commandID, headOwnIDs: headOwnIDs) else {
                return verbatim
            }
            templates?.remember(made.template)
            shared = made
        }
        var ownIDs: [UUIDBits?] = [id == shared.base.event(0) ? nil : id]
        var ordinal = 1
        var index = events.index(after: events.startIndex)
        while index < events.endIndex {
            let event = events[index]
            guard event.commandID == first.commandID, let (next, rest) = split(event.meta),
                  sameBytes(rest, members) else { break }
            let derived = shared.base.event(ordinal)
            ownIDs.append(next == derived ? nil : next)
            ordinal += 1
            index = events.index(after: index)
        }
        return MetaRun(count: ordinal, shared: shared, ownIDs: ownIDs)
    }

    /// `{"event_id":"<uuid>",<members>}` split into the id and the members (a Substring of `meta`).
    static func split(_ meta: String) -> (UUIDBits, Substring)? {
        let utf8 = meta.utf8
        let prefix = SharedMeta.eventIDPrefix
        guard utf8.count >= prefix.count + 36 + 3, utf8.starts(with: prefix), utf8.last == UInt8(ascii: "}") else {
            return nil
        }
        let idStart = utf8.index(utf8.startIndex, offsetBy: prefix.count)
        let idEnd = utf8.index(idStart, offsetBy: 36)
        guard let id = UUIDBits(text: utf8[idStart..<idEnd]) else { return nil }
        let comma = utf8.index(after: idEnd)
        guard utf8[idEnd] == UInt8(ascii: "\""), utf8[comma] == UInt8(ascii: ",") else { return nil }
        let membersStart = utf8.index(after: comma)
        let membersEnd = utf8.index(before: utf8.endIndex)
        // both ends are next to ASCII bytes, so on character boundaries
        return (id, Substring(utf8[membersStart..<membersEnd]))
    }

    /// Byte equality (String's `==` compares canonical equivalence, which is not enough here).
    static func sameBytes(_ a: Substring, _ b: Substring) -> Bool {
        let fast = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in
                x.count == y.count && (x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0)
            }
        }
        return (fast ?? nil) ?? a.utf8.elementsEqual(b.utf8)
    }

    /// The template of `members`, or nil when they hold a marker byte or the template does not
    /// give them back exactly.
    static func share(_ members: Substring, id: UUIDBits, commandKey: String?, headOwnIDs: Bool = true) -> SharedMeta? {
        let bytes = Array(members.utf8)
        guard !bytes.contains(SharedMeta.commandMarker), !bytes.contains(SharedMeta.requestMarker) else { return nil }
        // The base: without an idempotency key, the command id when it is a UUID (the engine's
        // event ids derive from it; older ones did not, and are kept as the events' own ids), so
        // that the template does not hold it; else whatever base derives the first id.
        var base = id.base(ofEvent: 0)
        var commandValue: [UInt8]?
        if let value = stringValue(of: "command_id", in: bytes) {
            commandValue = value
            if commandKey == nil, let command = UUIDBits(text: value), headOwnIDs || command.event(0) == id { base = command }
        }
        var template = bytes
        let command = commandKey.map { Array(JSONText.quote($0).utf8) } ?? quoted(Array(base.text.utf8))
        if let commandValue, quoted(commandValue) == command {
            template = replacing(quoted(commandValue), with: SharedMeta.commandMarker, in: template)
        }
        var request: String?
        if let value = stringValue(of: "request_id", in: bytes), !value.contains(UInt8(ascii: "\\")) {
            let replaced = replacing(quoted(value), with: SharedMeta.requestMarker, in: template)
            if replaced != template {
                template = replaced
                request = String(decoding: value, as: UTF8.self)
            }
        }
        let shared = SharedMeta(template: String(decoding: template, as: UTF8.self), base: base, request: request)
        guard shared.memberBytes(commandKey: commandKey) == bytes else { return nil }
        return shared
    }

    /// The bytes between the quotes of the first `"name":"…"` in `members`, up to the next quote.
    static func stringValue(of name: String, in members: [UInt8]) -> [UInt8]? {
        let needle = Array("\"\(name)\":\"".utf8)
        guard let start = firstIndex(of: needle, in: members, from: 0) else { return nil }
        let valueStart = start + needle.count
        guard let end = members[valueStart...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        return Array(members[valueStart..<end])
    }

    static func quoted(_ bytes: [UInt8]) -> [UInt8] {
        [UInt8(ascii: "\"")] + bytes + [UInt8(ascii: "\"")]
    }

    /// `bytes` with every non-overlapping occurrence of `pattern`, left to right, replaced by `marker`.
    static func replacing(_ pattern: [UInt8], with marker: UInt8, in bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if let found = firstIndex(of: pattern, in: bytes, from: i) {
                out.append(contentsOf: bytes[i..<found])
                out.append(marker)
                i = found + pattern.count
            } else {
                out.append(contentsOf: bytes[i...])
                break
            }
        }
        return out
    }

    static func firstIndex(of needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, bytes.count - start >= needle.count else { return nil }
        return bytes.withUnsafeBufferPointer { haystack in
            needle.withUnsafeBufferPointer { pattern in
                let first = pattern[0], last = haystack.count - pattern.count
                var i = start
                while i <= last {
                    if haystack[i] == first, memcmp(haystack.baseAddress! + i, pattern.baseAddress!, pattern.count) == 0 {
                        return i
                    }
                    i += 1
                }
                return nil
            }
        }
    }
}
