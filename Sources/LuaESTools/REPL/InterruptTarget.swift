import Foundation
import LuaES
import LuaESCore
import LuaESScripting
import LuaESStore

/// The engine Ctrl-C should stop: the REPL swaps it on `.reload`, a signal handler
/// thread calls `interrupt()`.
public final class InterruptTarget: @unchecked Sendable {
    // @unchecked: `current` is only read or written while holding `lock`, and
    // `Interrupter` itself is safe to call from any thread.
    private let lock = NSLock()
    private var current: Interrupter?

    /// A target with no engine yet.
    public init() {}

    /// Makes `interrupter` the one `interrupt()` calls.
    public func set(_ interrupter: Interrupter?) {
        lock.lock()
        current = interrupter
        lock.unlock()
    }

    /// Stops the current engine's running call, if any.
    public func interrupt() {
        lock.lock()
        let target = current
        lock.unlock()
        target?.interrupt()
    }
}
