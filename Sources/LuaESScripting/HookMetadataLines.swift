/// The private format in which the prelude's `handle` returns the `on_append` hooks'
/// metadata: one JSON object per produced event, a line each, in event order (hooks.lua).
enum HookMetadataLines {
    /// Each event's metadata as object members (`{...}` without its braces, so the engine
    /// can put `event_id` first), or nil when no hook ran or the lines do not match the events.
    static func members(_ text: String, count: Int) -> [String]? {
        guard !text.isEmpty else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == count else { return nil }
        return lines.map { String($0.dropFirst().dropLast()) }
    }
}
