import ArgumentParser
import Logging
import LuaES
import LuaESScripting
import LuaESCore
import LuaESStore
import LuaESTools

/// `--publish` and `--publish-checkpoint`, for `run` and `serve`.
struct PublishOptions: ParsableArguments {
    @Option(help: "Publish committed events, at least once, as NDJSON: stdout, file:PATH or an http(s):// webhook.")
    var publish: String?

    @Option(help: "The publisher's checkpoint file (default: PATH.checkpoint for file:PATH, else beside the database).")
    var publishCheckpoint: String?

    var target: PublishTarget? {
        get throws { try publish.map { try PublishTarget(parsing: $0) } }
    }

    func validate() throws {
        do { _ = try target } catch { throw ValidationError("\(error)") }
    }

    /// A started publisher over `store`, when `--publish` was given.
    func startPublisher(store: EventStore, location: StoreLocation) throws -> EventPublisher? {
        guard let target = try target else { return nil }
        let publisher = try target.makePublisher(store: store, checkpointPath: publishCheckpoint,
                                                 database: location.databasePath, logger: Logger(label: "esrun.publish"))
        publisher.start()
        return publisher
    }
}
