import CLuaShim

/// Stops whatever a host is running, from any thread (Ctrl-C in the REPL, shutdown).
public final class Interrupter: @unchecked Sendable {
    // @unchecked: the only thing done with `host` from other threads is
    // esr_interrupt, which takes the watchdog's mutex and only arms a hook
    // (lua_sethook is documented as safe to call asynchronously).
    private let host: LuaHost

    init(_ host: LuaHost) { self.host = host }

    public func interrupt() { host.interrupt() }
}
