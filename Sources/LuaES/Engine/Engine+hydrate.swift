import LuaESCore
import LuaESScripting
import LuaESStore

/// Hydration: cache, else snapshot plus later events, else all events (ARCHITECTURE.md, "The engine").
extension Engine {
    /// Takes the current state of `stream` out of the cache, or loads it.
    func takeState(_ agg: AggregateInfo, _ stream: StreamID) throws -> (state: StateRef, version: Int64) {
        if let cached = cache.take(stream) { return cached }
        return try loadState(agg, stream, upTo: nil)
    }

    /// Hands a state back to the cache.
    func putState(_ stream: StreamID, _ state: StateRef, version: Int64) {
        cache.put(stream, state: state, version: version)
        puts &+= 1
        if puts % 256 == 0 { keepCacheWithinMemory() }
    }

    /// Evicts the oldest states while the Lua state holds more than the memory budget.
    func keepCacheWithinMemory() {
        guard host.memoryInUse > options.cacheMemoryBytes else { return }
        var used = host.collectGarbage()
        while used > options.cacheMemoryBytes && cache.count > 0 {
            cache.evictOldest(fraction: 0.25)
            used = host.collectGarbage()
        }
    }

    /// Builds the state of `stream` from the store (up to `upTo` when given).
    package func loadState(_ agg: AggregateInfo, _ stream: StreamID, upTo: Int64?) throws -> (state: StateRef, version: Int64) {
        let state: StateRef
        var version: Int64 = 0
        if let snap = usableSnapshot(agg, stream, upTo: upTo) {
            (state, version) = snap
        } else {
            state = try asEngineError { () throws(ScriptError) in try host.initialState(of: agg.name) }
        }
        version = try replayStored(agg, stream, onto: state, after: version, upTo: upTo)
        return (state, version)
    }

    /// Replays the stored events of `stream` after `version` (up to `upTo`) onto `state`,
    /// page by page; returns the version reached. While Lua replays a full page, the next
    /// one is read on another thread (`ReplayPrefetch`).
    func replayStored(_ agg: AggregateInfo, _ stream: StreamID, onto state: StateRef, after version: Int64,
                      upTo: Int64?) throws -> Int64 {
        var version = version
        func limit(after version: Int64) -> Int {
            guard let upTo else { return options.replayPageSize }
            return Int(min(Int64(options.replayPageSize), max(upTo - version, 0)))
        }
        var pageLimit = limit(after: version)
        guard pageLimit > 0 else { return version }
        try store.readReplayPage(&replayPage, of: stream, after: version, upTo: upTo, limit: pageLimit)
        while let last = replayPage.lastVersion {
            // A full page: more may follow, so read them meanwhile.
            let nextLimit = limit(after: last)
            let more = replayPage.count == pageLimit && nextLimit > 0
            if more {
                prefetch.start(store: store, stream: stream, after: last, upTo: upTo, limit: nextLimit)
            }
            do {
                try checkLoaded(agg, stream, page: replayPage)
                try asEngineError { () throws(ScriptError) in try host.replay(replayPage, onto: state, aggregate: agg.name) }
            } catch {
                prefetch.wait()
                throw error
            }
            options.statistics?.addReplayed(replayPage.count)
            version = last
            guard more else { break }
            try prefetch.finish(into: &replayPage)
            pageLimit = nextLimit
        }
        return version
    }

    /// The stored snapshot as a state, when it exists, matches the script's fingerprint and decodes.
    private func usableSnapshot(_ agg: AggregateInfo, _ stream: StreamID, upTo: Int64?) -> (state: StateRef, version: Int64)? {
        let snap: Snapshot?
        do {
            snap = try store.snapshot(of: stream)
        } catch {
            logger.warning("cannot read snapshot, replaying from the start", metadata: ["stream": "\(stream)", "error": "\(error)"])
            return nil
        }
        guard let snap, upTo == nil || snap.version <= upTo! else { return nil }
        guard snap.fingerprint == agg.fingerprint else {
            logger.info("snapshot made by other replay code, ignored",
                        metadata: ["stream": "\(stream)", "stored": "\(snap.fingerprint)", "script": "\(agg.fingerprint)"])
            return nil
        }
        do {
            return (try host.decodeState(snap.state, label: "snapshot of \(stream)"), snap.version)
        } catch {
            logger.warning("unreadable snapshot ignored", metadata: ["stream": "\(stream)", "error": "\(error)"])
            return nil
        }
    }

    package func encodeState(_ state: StateRef) throws -> String {
        try asEngineError { () throws(ScriptError) in try host.encodeState(state) }
    }

    /// Writes a snapshot when the command crossed a multiple of the interval. Never throws:
    /// the command's events are committed already.
    func snapshotIfDue(_ agg: AggregateInfo, _ stream: StreamID, from: Int64, to: Int64, encoded: String?) {
        let every = Int64(agg.snapshotEvery < 0 ? options.snapshotEvery : agg.snapshotEvery)
        guard every > 0, to / every > from / every, let state = encoded else { return }
        do {
            try store.saveSnapshot(Snapshot(stream: stream, version: to, state: state, fingerprint: agg.fingerprint))
            options.statistics?.addSnapshot()
        } catch {
            logger.warning("snapshot not written", metadata: ["stream": "\(stream)", "version": "\(to)", "error": "\(error)"])
        }
    }
}
