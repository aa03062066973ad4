import Foundation
import Logging
import LuaESCore
import LuaESScripting
import LuaESStore

/// Keeps a domain's projections up to date with the global feed, a page at a time.
///
/// Each page's view changes and the checkpoint after it commit in one transaction, so a
/// crash anywhere repeats no event and loses none. A projection whose code changed gets a
/// new generation, built beside the active one; its last catch-up commit makes it active
/// (blue/green), and the old generation is then deleted a slice at a time.
///
/// A failing handler stops its projection only: the failing event is found (the page is
/// replayed one event at a time, committing the ones before it), the failure is stored
/// for status, and the projection waits for a reload (`prepare()`) to try again.
///
/// Not thread-safe: it drives its engine, which is confined to one thread at a time.
public final class Projector {
    public let engine: Engine
    public let views: ProjectionStore
    /// Events per feed read, per Lua call and per commit.
    public var pageSize: Int
    /// Documents per delete when an old generation is removed.
    public var dropSlice = 5_000
    /// Run a projection only while holding its lease (`ProjectionStore.leaseProjection`), as
    /// this owner, renewed every third of `seconds`. Nil runs every projection regardless:
    /// the compare-and-set on checkpoints keeps that exact, at the cost of repeated work.
    public var lease: (owner: String, seconds: Double)?
    /// When each held lease is due for renewal.
    private var renewals: [String: Date] = [:]
    let logger: Logger

    /// - Throws: `EngineError` when the engine's store keeps no views.
    public init(engine: Engine, pageSize: Int = 500, logger: Logger = Logger(label: "luaes.projections")) throws {
        guard let views = engine.store.projections else {
            throw EngineError.invalid("no_views", "this store keeps no projection views")
        }
        self.engine = engine
        self.views = views
        self.pageSize = max(pageSize, 1)
        self.logger = logger
    }

    /// Matches stored generations to the loaded script: a generation for every new
    /// fingerprint (active at once when the projection has none), and a fresh try for
    /// failed ones whose code is loaded again. Call after loading or reloading the script.
    public func prepare() throws {
        for projection in engine.projections {
            let generations = try views.projectionGenerations(named: projection.name)
            if let current = Self.current(projection, in: generations) {
                if current.failure != nil {
                    try views.setProjectionFailure(name: projection.name, generation: current.generation, failure: nil)
                    logger.info("retrying a failed projection", metadata: ["projection": "\(projection.name)"])
                }
            } else {
                let created = try views.createProjectionGeneration(
                    name: projection.name, fingerprint: projection.fingerprint, activate: !generations.contains(where: \.isActive))
                logger.info(created.isActive ? "building a projection" : "rebuilding a projection beside the active one",
                            metadata: ["projection": "\(projection.name)", "generation": "\(created.generation)"])
            }
        }
    }

    /// One page of work for each projection (or only `name`).
    /// - Returns: true when more is waiting (a full page was read, or an old generation is still being deleted).
    /// - Throws: store failures; handler failures are recorded, not thrown.
    @discardableResult
    public func pass(only name: String? = nil) throws -> Bool {
        var more = false
        for projection in engine.projections where name == nil || projection.name == name {
            if try step(projection) { more = true }
        }
        return more
    }

    /// Runs passes until every projection (or `name`) has caught up with the feed or stopped.
    public func catchUp(only name: String? = nil) throws {
        while try pass(only: name) {}
    }

    /// Rebuilds `name` from the start of the feed beside its active generation, as a code
    /// change would (blue/green): the new generation takes over once caught up.
    /// - Throws: `EngineError` when the script has no such projection.
    @discardableResult
    public func rebuild(_ name: String) throws -> ProjectionGeneration {
        guard let projection = engine.domain.projection(named: name) else {
            throw EngineError.invalid("unknown_projection", "the script has no projection named \(name)")
        }
        let generations = try views.projectionGenerations(named: name)
        let created = try views.createProjectionGeneration(
            name: name, fingerprint: projection.fingerprint, activate: !generations.contains(where: \.isActive))
        logger.info("rebuilding a projection on request", metadata: ["projection": "\(name)", "generation": "\(created.generation)"])
        return created
    }

    /// Deletes every generation and document of a projection the script no longer defines.
    /// - Returns: how many generations and documents were deleted.
    /// - Throws: `EngineError` when the script still defines it (rebuild it instead).
    public func drop(_ name: String) throws -> (generations: Int, documents: Int) {
        if engine.domain.projection(named: name) != nil {
            throw EngineError.invalid("projection_in_script", "the script still defines projection \(name): "
                + "remove it from the script first, or rebuild it instead")
        }
        var documents = 0
        let generations = try views.projectionGenerations(named: name)
        for generation in generations {
            while true {
                let deleted = try views.dropProjectionGeneration(name: name, generation: generation.generation, limit: dropSlice)
                documents += deleted
                if deleted < dropSlice { break }
            }
        }
        return (generations.count, documents)
    }

    /// Gives up the leases this projector holds (a clean stop), so another runner takes over at once.
    public func releaseLeases() throws {
        guard let lease else { return }
        for name in renewals.keys.sorted() { try views.releaseProjection(name: name, owner: lease.owner) }
        renewals.removeAll()
    }

    /// True while this projector may run `name`: no leasing, or a lease held (renewed when due).
    private func holdsLease(_ name: String) throws -> Bool {
        guard let lease else { return true }
        let now = Date()
        if let due = renewals[name], due > now { return true }
        guard try views.leaseProjection(name: name, owner: lease.owner, seconds: lease.seconds) else {
            if renewals.removeValue(forKey: name) != nil {
                logger.warning("projection lease taken over by another runner", metadata: ["projection": "\(name)"])
            }
            return false
        }
        renewals[name] = now.addingTimeInterval(lease.seconds / 3)
        return true
    }

    private func step(_ projection: ProjectionInfo) throws -> Bool {
        guard try holdsLease(projection.name) else { return false }
        let generations = try views.projectionGenerations(named: projection.name)
        guard let current = Self.current(projection, in: generations), current.failure == nil else { return false }
        let events = try engine.store.events(after: current.position, limit: pageSize)
        let caughtUp = events.count < pageSize
        let activate = caughtUp && !current.isActive
        if !events.isEmpty || activate {
            do {
                let changes = try ProjectionHandlers(engine).project(projection, generation: current.generation, views: views, events: events)
                try views.commitProjection(ProjectionCommit(
                    name: projection.name, generation: current.generation, from: current.position,
                    to: events.last?.position ?? current.position, changes: changes, activate: activate))
                if activate {
                    logger.info("projection caught up and active", metadata: [
                        "projection": "\(projection.name)", "generation": "\(current.generation)"])
                }
            } catch let error as EngineError {
                try isolateFailure(projection, current, events, error)
                return false
            } catch let error as StoreError where error.isCheckpointMoved {
                logger.debug("projection moved by another runner", metadata: ["projection": "\(projection.name)", "error": "\(error)"])
                return true
            }
        }
        var dropping = false
        if current.isActive || activate {
            for old in generations where old.generation != current.generation {
                if try views.dropProjectionGeneration(name: projection.name, generation: old.generation, limit: dropSlice) > 0 {
                    dropping = true
                }
            }
        }
        return !caughtUp || dropping
    }

    /// Replays the page one event at a time, committing each, to find the event that fails;
    /// stores that failure. When every event passes alone, the page simply went through.
    private func isolateFailure(_ projection: ProjectionInfo, _ generation: ProjectionGeneration,
                                _ events: [RecordedEvent], _ pageError: EngineError) throws {
        var position = generation.position
        for event in events {
            let changes: [ViewChange]
            do {
                changes = try ProjectionHandlers(engine).project(projection, generation: generation.generation, views: views, events: [event])
            } catch let error as EngineError {
                let failure = Self.failure(event, error)
                try views.setProjectionFailure(name: projection.name, generation: generation.generation, failure: failure)
                logger.error("projection stopped: a handler failed", metadata: [
                    "projection": "\(projection.name)", "position": "\(event.position)",
                    "event": "\(event.stream)#\(event.version) \(event.type)", "error": "\(error)"])
                return
            }
            try views.commitProjection(ProjectionCommit(
                name: projection.name, generation: generation.generation, from: position, to: event.position, changes: changes))
            position = event.position
        }
        logger.warning("a page failed but each of its events passed alone", metadata: [
            "projection": "\(projection.name)", "error": "\(pageError)"])
    }

    /// The generation the loaded code builds: the newest one with its fingerprint.
    static func current(_ projection: ProjectionInfo, in generations: [ProjectionGeneration]) -> ProjectionGeneration? {
        generations.last { $0.fingerprint == projection.fingerprint }
    }

    static func failure(_ event: RecordedEvent, _ error: EngineError) -> String {
        JSONText.object([
            ("position", String(event.position)), ("aggregate", JSONText.quote(event.stream.aggregate)),
            ("key", JSONText.quote(event.stream.key)), ("version", String(event.version)),
            ("type", JSONText.quote(event.type)),
            ("error", JSONText.object([("kind", JSONText.quote(error.kind.rawValue)), ("code", JSONText.quote(error.code.rawValue)),
                                       ("message", JSONText.quote(error.message))])),
            ("at", String(Int64(Date().timeIntervalSince1970 * 1000))),
        ])
    }
}
