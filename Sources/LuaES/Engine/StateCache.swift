/// Hydrated states of one worker, as Lua registry refs, bounded by count (LRU).
/// The cache owns the refs it holds; `take` hands one over to the caller.
struct StateCache {
    struct Entry {
        var ref: Int32
        var version: Int64
        var lastUse: UInt64
    }

    let capacity: Int
    private(set) var entries: [StreamID: Entry] = [:]
    private var clock: UInt64 = 0

    init(capacity: Int) { self.capacity = max(capacity, 0) }

    var count: Int { entries.count }

    /// Removes and returns the state of `stream`, if cached.
    mutating func take(_ stream: StreamID) -> (ref: Int32, version: Int64)? {
        guard let e = entries.removeValue(forKey: stream) else { return nil }
        return (e.ref, e.version)
    }

    /// Stores a state; returns refs that no longer fit (the caller releases them).
    mutating func put(_ stream: StreamID, ref: Int32, version: Int64) -> [Int32] {
        var released: [Int32] = []
        guard capacity > 0 else { return [ref] }
        clock &+= 1
        if let old = entries.updateValue(Entry(ref: ref, version: version, lastUse: clock), forKey: stream), old.ref != ref {
            released.append(old.ref)
        }
        if entries.count > capacity {
            // evict the least recently used tenth at once, so eviction is rare
            let excess = entries.count - capacity + max(capacity / 10, 1) - 1
            let victims = entries.sorted { $0.value.lastUse < $1.value.lastUse }.prefix(excess)
            for (key, entry) in victims where key != stream {
                entries.removeValue(forKey: key)
                released.append(entry.ref)
            }
        }
        return released
    }

    /// Removes the least recently used `fraction` of the entries; returns their refs.
    mutating func evictOldest(fraction: Double) -> [Int32] {
        let n = max(Int(Double(entries.count) * fraction), 1)
        let victims = entries.sorted { $0.value.lastUse < $1.value.lastUse }.prefix(n)
        for (key, _) in victims { entries.removeValue(forKey: key) }
        return victims.map(\.value.ref)
    }

    /// Empties the cache; returns every ref it held.
    mutating func removeAll() -> [Int32] {
        defer { entries.removeAll() }
        return entries.values.map(\.ref)
    }
}
