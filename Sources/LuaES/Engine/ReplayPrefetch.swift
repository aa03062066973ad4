import Dispatch
import LuaESCore
import LuaESStore

/// The next page of a long replay, read on another thread while Lua replays the current one:
/// a cold load then takes about as long as the slower of the two, not their sum.
///
/// One read at a time into its own buffer; `finish` swaps that buffer with the caller's page, so
/// the two buffers alternate and a long load allocates them once. The engine's thread is the
/// only caller.
final class ReplayPrefetch: @unchecked Sendable {
    // @unchecked: `page` and `failure` are written only by the read job between `start` and
    // its `done.signal()`, and read only by the engine thread after `done.wait()` (which
    // orders the two); `start` is never called again before `finish`.
    private var page = ReplayPage()
    private var failure: (any Error)?
    private let done = DispatchSemaphore(value: 0)
    private var running = false
    private static let queue = DispatchQueue(label: "luaes.replay-prefetch", qos: .userInitiated, attributes: .concurrent)

    /// Starts reading the page of `stream` after `after`.
    func start(store: EventStore, stream: StreamID, after: Int64, upTo: Int64?, limit: Int) {
        precondition(!running, "one prefetch at a time")
        running = true
        Self.queue.async { [self] in
            do {
                try store.readReplayPage(&page, of: stream, after: after, upTo: upTo, limit: limit)
            } catch {
                failure = error
            }
            done.signal()
        }
    }

    /// Waits for the read and swaps its page with `page`.
    func finish(into page: inout ReplayPage) throws {
        join()
        swap(&self.page, &page)
        if let failure {
            self.failure = nil
            throw failure
        }
    }

    /// Waits for a running read (whose page is then dropped): after a failed replay.
    func wait() {
        join()
        failure = nil
    }

    private func join() {
        guard running else { return }
        done.wait()
        running = false
    }
}
