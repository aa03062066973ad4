import Foundation
import Logging
import LuaESCore
import LuaESScripting
import LuaESStore

/// Where `--publish` sends committed events: `stdout`, `file:PATH` or an `http(s)://` URL.
public enum PublishTarget: Sendable, Equatable {
    case standardOutput
    case file(String)
    case webhook(URL)

    /// Parses `stdout`, `file:PATH` or `http://...` / `https://...`.
    /// - Throws: `PublishError.invalid` for anything else.
    public init(parsing text: String) throws {
        if text == "stdout" {
            self = .standardOutput
        } else if text.hasPrefix("file:"), text.count > 5 {
            self = .file(String(text.dropFirst(5)))
        } else if text.hasPrefix("http://") || text.hasPrefix("https://"), let url = URL(string: text) {
            self = .webhook(url)
        } else {
            throw PublishError.invalid("bad_publish_target", "--publish takes stdout, file:PATH or an http(s):// URL, not '\(text)'")
        }
    }

    /// Opens the sink.
    public func makeSink() throws -> EventSink {
        switch self {
        case .standardOutput: return NDJSONSink.standardOutput()
        case .file(let path): return try NDJSONSink(appendingTo: path)
        case .webhook(let url): return HTTPSink(url: url)
        }
    }

    /// The checkpoint file used when none is named: beside the sink's file, else beside the
    /// database (`esrun.db.publish-stdout`, `esrun.db.publish-<host>-<port>`); nil for a memory store.
    public func defaultCheckpointPath(database: String?) -> String? {
        switch self {
        case .file(let path): return path + ".checkpoint"
        case .standardOutput: return database.map { $0 + ".publish-stdout" }
        case .webhook(let url):
            let name = [url.host ?? "webhook", url.port.map(String.init)].compactMap { $0 }.joined(separator: "-")
            return database.map { $0 + ".publish-" + name }
        }
    }

    /// A publisher for `store` with this target's sink and a checkpoint at `checkpointPath`
    /// (or the default one; in memory when there is none).
    public func makePublisher(store: EventStore, checkpointPath: String?, database: String?,
                              logger: Logger = Logger(label: "luaes.publish")) throws -> EventPublisher {
        let path = checkpointPath ?? defaultCheckpointPath(database: database)
        let checkpoint: PublishCheckpoint = path.map { FileCheckpoint(path: $0) } ?? MemoryCheckpoint()
        return EventPublisher(store: store, sink: try makeSink(), checkpoint: checkpoint, logger: logger)
    }
}
