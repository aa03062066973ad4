import LuaES
import LuaESScripting
import LuaESCore
import LuaESStore

/// How `esrun serve` runs.
public struct ServerConfiguration: Sendable {
    /// The domain script.
    public var script: String
    public var store: StoreLocation
    /// Where snapshots are kept (`--snapshots`): the event store unless told otherwise.
    public var snapshots: SnapshotLocation = .eventStore
    /// 127.0.0.1 unless told otherwise: the API has no TLS of its own.
    public var host = "127.0.0.1"
    /// 0 picks a free port (printed at start).
    public var port = 8080
    /// Engine threads, each with its own Lua state.
    public var workers = 2
    /// Reload the script when a .lua file in its folder changes.
    public var watch = false
    /// Bearer tokens, one per line: `TOKEN read|write [Aggregate ...]`.
    public var tokenFile: String?
    /// Largest request body accepted (413 above).
    public var maxBodyBytes = 1 << 20
    /// How long `GET /events?follow=true` waits for new events, at most.
    public var maxWaitSeconds = 30.0
    public var engine = EngineOptions()
    /// Store middleware around the store, outermost first (logging, metrics, your own).
    public var storeMiddleware: [any StoreMiddleware] = []
    /// Where committed events are published (`--publish`), if anywhere.
    public var publish: PublishTarget?
    /// The publisher's checkpoint file; the target's default when nil.
    public var publishCheckpoint: String?
    /// Run the script's projections on this node (`--no-projections` leaves them to another).
    public var runProjections = true
    /// Events per projection page (per Lua call and per commit).
    public var projectionPageSize = 500

    public init(script: String, store: StoreLocation) {
        self.script = script
        self.store = store
    }
}
