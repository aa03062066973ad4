import CLuaShim

/// A state table held in one host's Lua registry. It releases itself when dropped.
///
/// Confined to its host's thread like the host itself: the engine that holds it (in its
/// cache or in a command under way) runs on that thread only, so `deinit` does too.
public final class StateRef {
    let host: LuaHost
    /// The registry slot; a replay that returns a new table moves the state to a new slot.
    var ref: Int32

    init(_ host: LuaHost, _ ref: Int32) {
        self.host = host
        self.ref = ref
    }

    deinit { esr_unref(host.raw, ref) }
}

/// An event a command handler returned, checked against the registry and encoded as JSON.
public struct ProducedEvent: Sendable, Equatable {
    public var type: String
    public var schema: Int
    public var data: String
}
