/// Where snapshots live: the event store itself by default (every `EventStore` is one), or a
/// store of their own (`esrun --snapshots URL`: Redis, DynamoDB) that any event store can use.
///
/// The rule is the same everywhere (the snapshot contract suite in the tests checks it):
/// a saved snapshot with another fingerprint replaces the stored one; one with the same
/// fingerprint replaces it only when its version is higher, atomically (two savers racing
/// never leave the older one stored). Snapshots are a cache: a snapshot store that fails or is
/// down must never fail a command; the engine logs it and replays from the events.
/// Calls are synchronous and may come from several threads.
public protocol SnapshotStore: AnyObject, Sendable {
    /// The stored snapshot of `stream`, if any.
    func snapshot(of stream: StreamID) throws -> Snapshot?

    /// Stores `snapshot` unless a snapshot of a higher version with the same
    /// fingerprint is already stored. A snapshot with another fingerprint is replaced.
    func saveSnapshot(_ snapshot: Snapshot) throws

    /// Releases resources; later calls throw.
    func close() throws
}
