/// A store that can tell when events were committed by any process or node, not only this
/// one (PostgreSQL's LISTEN/NOTIFY). `esrun serve` uses it to wake long polls, the publisher
/// and projections at once instead of at their next poll.
public protocol CommitNotifying: AnyObject, Sendable {
    /// Calls `handler` (on some thread of the store's) after commits by anyone, until the store
    /// closes. Wake-ups may be coalesced, and may come without a new event (after a
    /// reconnection, when one may have been missed): handlers read the feed to see.
    func onCommits(_ handler: @escaping @Sendable () -> Void)
}
