import LuaESCore

extension RecordedEvent {
    /// `{type, version, position, data, meta, recorded_at}` as JSON text.
    public var json: String {
        // Built in one string: this runs once per event in every HTTP reply.
        var out = "{\"aggregate\":"
        out.reserveCapacity(160 + data.utf8.count + meta.utf8.count)
        out += JSONText.quote(stream.aggregate)
        out += ",\"key\":"
        out += JSONText.quote(stream.key)
        out += ",\"type\":"
        out += JSONText.quote(type)
        out += ",\"version\":"
        out += String(version)
        out += ",\"position\":"
        out += String(position)
        out += ",\"schema\":"
        out += String(schema)
        out += ",\"data\":"
        out += data
        out += ",\"meta\":"
        out += meta
        out += ",\"recorded_at\":"
        out += String(recordedAt)
        out += "}"
        return out
    }
}
