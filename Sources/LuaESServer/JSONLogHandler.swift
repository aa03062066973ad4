import Foundation
import Logging
import LuaES
import LuaESScripting
import LuaESCore
import LuaESStore

/// One JSON object per line on stderr (`--log-format json`), for log collectors.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("time", JSONText.quote(ISO8601DateFormatter().string(from: Date()))),
            ("level", JSONText.quote(event.level.rawValue)), ("logger", JSONText.quote(label)),
            ("message", JSONText.quote(event.message.description)),
        ]
        if let error = event.error { fields.append(("error", JSONText.quote("\(error)"))) }
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key }) {
            fields.append((key, JSONText.quote(value.description)))
        }
        FileHandle.standardError.write(Data((JSONText.object(fields) + "\n").utf8))
    }
}
