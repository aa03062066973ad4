import Foundation
import LuaESCore

/// The templates a writer made last (`SharedMeta`), tried first on the next runs: one pass over
/// the members against a known template, with no allocation but the request id, instead of
/// finding and replacing the ids again. A hit is exact by construction: the members equal
/// the template with its markers expanded. Used by the thread holding its owner (a writer).
public final class MetaTemplates {
    private var recent: [String] = []
    private var next = 0
    static let capacity = 8

    public init() {}

    /// The run's shared metadata when `members` is one of the recent templates with values in it.
    func match(_ members: Substring, id: UUIDBits, commandKey: String?) -> SharedMeta? {
        var members = members
        return members.withUTF8 { bytes in
            var quotedKey = commandKey.map(JSONText.quote) ?? ""
            return quotedKey.withUTF8 { key in
                for index in recent.indices.reversed() {
                    if let shared = Self.match(bytes, recent[index], id: id, key: commandKey == nil ? nil : key) {
                        return shared
                    }
                }
                return nil
            }
        }
    }

    func remember(_ template: String) {
        if recent.count < Self.capacity {
            recent.append(template)
        } else {
            recent[next] = template
            next = (next + 1) % Self.capacity
        }
    }

    private static func match(_ members: UnsafeBufferPointer<UInt8>, _ template: String, id: UUIDBits,
                              key: UnsafeBufferPointer<UInt8>?) -> SharedMeta? {
        var template = template
        var base: UUIDBits?
        var request: UnsafeBufferPointer<UInt8>?
        let matched = template.withUTF8 { pattern -> Bool in
            var i = 0
            let quote = UInt8(ascii: "\"")
            for byte in pattern {
                switch byte {
                case SharedMeta.commandMarker:
                    if let key {
                        guard members.count - i >= key.count,
                              memcmp(members.baseAddress! + i, key.baseAddress!, key.count) == 0 else { return false }
                        i += key.count
                    } else {
                        guard members.count - i >= 38, members[i] == quote, members[i + 37] == quote,
                              let command = UUIDBits(text: UnsafeBufferPointer(rebasing: members[(i + 1)..<(i + 37)])),
                              base == nil || base == command else { return false }
                        base = command
                        i += 38
                    }
                case SharedMeta.requestMarker:
                    guard i < members.count, members[i] == quote else { return false }
                    var end = i + 1
                    while end < members.count, members[end] != quote, members[end] != UInt8(ascii: "\\") { end += 1 }
                    guard end < members.count, members[end] == quote else { return false }
                    let value = UnsafeBufferPointer(rebasing: members[(i + 1)..<end])
                    if let request {
                        guard request.count == value.count,
                              value.isEmpty || memcmp(request.baseAddress!, value.baseAddress!, value.count) == 0 else { return false }
                    } else {
                        request = value
                    }
                    i = end + 1
                default:
                    guard i < members.count, members[i] == byte else { return false }
                    i += 1
                }
            }
            return i == members.count
        }
        guard matched else { return nil }
        // without a key, a command id in the template is the base (as `MetaRunPacker.share` chooses)
        let runBase: UUIDBits
        if key == nil, let base {
            runBase = base
        } else {
            runBase = id.base(ofEvent: 0)
        }
        return SharedMeta(template: template, base: runBase,
                          request: request.map { String(decoding: $0, as: UTF8.self) })
    }
}
