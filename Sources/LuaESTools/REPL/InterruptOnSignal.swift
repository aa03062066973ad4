import Dispatch
import Foundation
import LuaES
import LuaESCore
import LuaESScripting
import LuaESStore

/// Turns SIGINT (Ctrl-C while a command runs) into a call of `action` on a dispatch
/// queue, never inside a signal handler: stopping Lua takes a mutex, which a handler must not.
public final class InterruptOnSignal {
    private let source: DispatchSourceSignal

    /// Starts catching SIGINT; the default disposition comes back when this is released.
    public init(_ action: @escaping @Sendable () -> Void) {
        signal(SIGINT, SIG_IGN) // the dispatch source receives it instead of the default handler
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler(handler: action)
        source.resume()
    }

    deinit {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
