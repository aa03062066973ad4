extension InMemoryEventStore: ProjectionStore {
    public var projections: ProjectionStore? { self }
    /// Other processes' commits are seen by polling.
    public var commitNotifier: CommitNotifying? { nil }

    public func projectionGenerations(named name: String?) throws -> [ProjectionGeneration] {
        try locked { $0.list(named: name) }
    }

    public func createProjectionGeneration(name: String, fingerprint: String, activate: Bool) throws -> ProjectionGeneration {
        try locked { $0.create(name: name, fingerprint: fingerprint, activate: activate) }
    }

    public func commitProjection(_ commit: ProjectionCommit) throws {
        try locked { try $0.commit(commit) }
    }

    public func setProjectionFailure(name: String, generation: Int64, failure: String?) throws {
        try locked { $0.setFailure(name: name, generation: generation, failure: failure) }
    }

    public func viewDocument(projection name: String, generation: Int64, key: String) throws -> String? {
        try locked { $0.document(name: name, generation: generation, key: key) }
    }

    public func viewDocuments(projection name: String, generation: Int64, prefix: String, after: String?, limit: Int) throws
        -> [ViewDocument] {
        try locked { $0.documents(name: name, generation: generation, prefix: prefix, after: after, limit: limit) }
    }

    @discardableResult
    public func dropProjectionGeneration(name: String, generation: Int64, limit: Int) throws -> Int {
        try locked { $0.drop(name: name, generation: generation, limit: limit) }
    }

    public func headPosition() throws -> Int64 {
        try lock.withLock {
            try checkOpen()
            return Int64(all.count)
        }
    }

    public func leaseProjection(name: String, owner: String, seconds: Double) throws -> Bool {
        try locked { $0.lease(name: name, owner: owner, seconds: seconds) }
    }

    public func releaseProjection(name: String, owner: String) throws {
        try locked { $0.release(name: name, owner: owner) }
    }

    private func locked<T>(_ body: (inout ProjectionTables) throws -> T) throws -> T {
        try lock.withLock {
            try checkOpen()
            return try body(&projectionTables)
        }
    }
}
