import LuaESCore

/// Where projections keep their views and checkpoints: in the same database as the events,
/// so a page of view changes and the checkpoint that covers it commit in one transaction
/// (exactly-once effect on stored views, whatever crashes in between).
///
/// A projection has generations: one per version of its code (fingerprint). The active
/// generation answers queries; a new one is built beside it and takes over, in the same
/// transaction as its last catch-up commit, only once it has caught up (blue/green).
///
/// Every store passes the projection contract suite (`ProjectionContract` in the tests).
/// Calls are synchronous and may come from several threads.
public protocol ProjectionStore: AnyObject, Sendable {
    /// Every generation of the projection `name` (all projections when nil), ordered by
    /// name, then generation.
    func projectionGenerations(named name: String?) throws -> [ProjectionGeneration]

    /// Adds a generation of `name` for `fingerprint`, at position 0, numbered one above the
    /// highest generation `name` ever had. It is active when `activate` is true (the other
    /// generations of `name` then stop being active), in one transaction.
    func createProjectionGeneration(name: String, fingerprint: String, activate: Bool) throws -> ProjectionGeneration

    /// Applies `changes` to the views of a generation and moves its checkpoint from `from`
    /// to `to`, all in one transaction. With `activate`, the generation becomes the active
    /// one of its projection in that same transaction.
    /// - Throws: `StoreError.checkpointMoved` when the generation's position is not `from`
    ///   or the generation no longer exists (another runner got there first); nothing is written then.
    func commitProjection(_ commit: ProjectionCommit) throws

    /// Records why a generation stopped (JSON text), or clears it with nil.
    func setProjectionFailure(name: String, generation: Int64, failure: String?) throws

    /// One document of a generation's view, as JSON text.
    func viewDocument(projection name: String, generation: Int64, key: String) throws -> String?

    /// Documents of a generation whose keys start with `prefix` and sort after `after`
    /// (byte order), in key order, at most `limit`.
    func viewDocuments(projection name: String, generation: Int64, prefix: String, after: String?, limit: Int) throws
        -> [ViewDocument]

    /// Deletes up to `limit` documents of a generation, then the generation itself once it
    /// holds none. Returns the number of documents deleted (0 when the generation is gone).
    /// Deleting in slices keeps each write transaction short.
    @discardableResult
    func dropProjectionGeneration(name: String, generation: Int64, limit: Int) throws -> Int

    /// The position of the newest committed event, 0 when there is none.
    func headPosition() throws -> Int64

    /// Claims or renews the right to run projection `name` for `seconds`: true when `owner`
    /// holds it now (it was free, had expired, or was `owner`'s already). Runners on several
    /// processes or nodes use it so that one of them builds each projection, and another
    /// takes over when that one stops renewing. The compare-and-set of `commitProjection`
    /// keeps views exact whatever the leases say: a lease saves work, it guards nothing.
    func leaseProjection(name: String, owner: String, seconds: Double) throws -> Bool

    /// Gives up `owner`'s lease on `name` (a clean stop), so another runner takes over at once.
    func releaseProjection(name: String, owner: String) throws
}

/// One generation of a projection: the views one version of its code built.
public struct ProjectionGeneration: Sendable, Equatable {
    public var name: String
    public var generation: Int64
    /// The fingerprint of the projection's code that builds it.
    public var fingerprint: String
    /// The global position of the last event it has taken into account.
    public var position: Int64
    /// True for the generation queries read.
    public var isActive: Bool
    /// Why it stopped (JSON text: position, event, error), nil while it runs.
    public var failure: String?

    public init(name: String, generation: Int64, fingerprint: String, position: Int64, isActive: Bool, failure: String?) {
        self.name = name
        self.generation = generation
        self.fingerprint = fingerprint
        self.position = position
        self.isActive = isActive
        self.failure = failure
    }
}

/// A page of a projection's work: view changes plus the checkpoint move that covers them.
public struct ProjectionCommit: Sendable, Equatable {
    public var name: String
    public var generation: Int64
    /// The checkpoint the changes were computed from; the commit fails if it moved.
    public var from: Int64
    /// The new checkpoint: the position of the last event the page covered.
    public var to: Int64
    public var changes: [ViewChange]
    /// Make this generation the active one in the same transaction.
    public var activate: Bool

    public init(name: String, generation: Int64, from: Int64, to: Int64, changes: [ViewChange], activate: Bool = false) {
        self.name = name
        self.generation = generation
        self.from = from
        self.to = to
        self.changes = changes
        self.activate = activate
    }
}

/// A document put (JSON text) or deleted (nil) in a view.
public struct ViewChange: Sendable, Equatable {
    public var key: String
    public var document: String?

    public init(key: String, document: String?) {
        self.key = key
        self.document = document
    }
}

/// A stored view document.
public struct ViewDocument: Sendable, Equatable {
    public var key: String
    /// JSON text.
    public var document: String

    public init(key: String, document: String) {
        self.key = key
        self.document = document
    }

    /// `{"key": ..., "document": ...}`, as the HTTP API and `esrun projection` list documents.
    public var json: String { JSONText.object([("key", JSONText.quote(key)), ("document", document)]) }
}

extension ProjectionStore {
    /// The generation of `name` that queries read, nil before the first one exists.
    public func activeGeneration(of name: String) throws -> ProjectionGeneration? {
        try projectionGenerations(named: name).first(where: \.isActive)
    }
}
