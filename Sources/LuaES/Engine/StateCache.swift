import LuaESCore
import LuaESScripting
import LuaESStore

/// Hydrated states of one worker, bounded by count (LRU). A state dropped from the
/// cache releases its Lua table by itself (`StateRef`).
struct StateCache {
    struct Entry {
        var state: StateRef
        var version: Int64
        var lastUse: UInt64
    }

    let capacity: Int
    private(set) var entries: [StreamID: Entry] = [:]
    private var clock: UInt64 = 0

    init(capacity: Int) { self.capacity = max(capacity, 0) }

    var count: Int { entries.count }

    /// Removes and returns the state of `stream`, if cached.
    mutating func take(_ stream: StreamID) -> (state: StateRef, version: Int64)? {
        guard let e = entries.removeValue(forKey: stream) else { return nil }
        return (e.state, e.version)
    }

    /// Stores a state, evicting the least recently used tenth when over capacity.
    mutating func put(_ stream: StreamID, state: StateRef, version: Int64) {
        guard capacity > 0 else { return }
        clock &+= 1
        entries[stream] = Entry(state: state, version: version, lastUse: clock)
        if entries.count > capacity {
            // evict a tenth at once, so eviction is rare
            let excess = entries.count - capacity + max(capacity / 10, 1) - 1
            let victims = entries.sorted { $0.value.lastUse < $1.value.lastUse }.prefix(excess)
            for (key, _) in victims where key != stream { entries.removeValue(forKey: key) }
        }
    }

    /// Removes the least recently used `fraction` of the entries.
    mutating func evictOldest(fraction: Double) {
        let n = max(Int(Double(entries.count) * fraction), 1)
        let victims = entries.sorted { $0.value.lastUse < $1.value.lastUse }.prefix(n)
        for (key, _) in victims { entries.removeValue(forKey: key) }
    }

    mutating func removeAll() { entries.removeAll() }
}
