import Foundation

/// Projection generations and their views held in memory: the in-memory store's side of
/// `ProjectionStore`. A value type: its owner guards it with its own lock.
struct ProjectionTables {
    private var generations: [String: [Int64: ProjectionGeneration]] = [:]
    /// The highest generation number each projection ever had (numbers are never reused).
    private var highest: [String: Int64] = [:]
    /// Documents by the bytes of their keys: Swift's `String` equality is canonical
    /// equivalence, while SQLite and PostgreSQL keep "é" and "e\u{301}" apart.
    private var views: [String: [Int64: [[UInt8]: ViewDocument]]] = [:]
    private var leases: [String: (owner: String, until: Date)] = [:]

    func list(named name: String?) -> [ProjectionGeneration] {
        generations.filter { name == nil || $0.key == name }
            .flatMap { $0.value.values }
            .sorted { ($0.name, $0.generation) < ($1.name, $1.generation) }
    }

    mutating func create(name: String, fingerprint: String, activate: Bool) -> ProjectionGeneration {
        let number = (highest[name] ?? 0) + 1
        highest[name] = number
        let created = ProjectionGeneration(name: name, generation: number, fingerprint: fingerprint, position: 0,
                                           isActive: activate, failure: nil)
        if activate { deactivateAll(name) }
        generations[name, default: [:]][number] = created
        return created
    }

    mutating func commit(_ commit: ProjectionCommit) throws {
        guard let current = generations[commit.name]?[commit.generation] else {
            throw StoreError.checkpointMoved("projection \(commit.name) has no generation \(commit.generation) any more")
        }
        guard current.position == commit.from else {
            throw StoreError.checkpointMoved("projection \(commit.name) generation \(commit.generation) is at position "
                + "\(current.position), not \(commit.from): another runner moved it")
        }
        var documents = views[commit.name]?[commit.generation] ?? [:]
        for change in commit.changes {
            documents[Array(change.key.utf8)] = change.document.map { ViewDocument(key: change.key, document: $0) }
        }
        views[commit.name, default: [:]][commit.generation] = documents
        if commit.activate { deactivateAll(commit.name) }
        generations[commit.name]?[commit.generation]?.position = commit.to
        if commit.activate { generations[commit.name]?[commit.generation]?.isActive = true }
    }

    mutating func setFailure(name: String, generation: Int64, failure: String?) {
        generations[name]?[generation]?.failure = failure
    }

    func document(name: String, generation: Int64, key: String) -> String? {
        views[name]?[generation]?[Array(key.utf8)]?.document
    }

    func documents(name: String, generation: Int64, prefix: String, after: String?, limit: Int) -> [ViewDocument] {
        guard limit > 0, let all = views[name]?[generation] else { return [] }
        // byte order, as SQLite's BINARY collation and PostgreSQL's "C" collation sort
        let low = Array(prefix.utf8), above = after.map { Array($0.utf8) }
        return all.filter { $0.key.starts(with: low) && (above == nil || above!.lexicographicallyPrecedes($0.key)) }
            .sorted { $0.key.lexicographicallyPrecedes($1.key) }
            .prefix(limit)
            .map(\.value)
    }

    mutating func drop(name: String, generation: Int64, limit: Int) -> Int {
        guard generations[name]?[generation] != nil else { return 0 }
        let keys = Array((views[name]?[generation] ?? [:]).keys.prefix(max(limit, 0)))
        for key in keys { views[name]?[generation]?[key] = nil }
        if views[name]?[generation]?.isEmpty ?? true {
            views[name]?[generation] = nil
            generations[name]?[generation] = nil
        }
        return keys.count
    }

    mutating func lease(name: String, owner: String, seconds: Double) -> Bool {
        let now = Date()
        if let held = leases[name], held.owner != owner, held.until > now { return false }
        leases[name] = (owner, now.addingTimeInterval(seconds))
        return true
    }

    mutating func release(name: String, owner: String) {
        if leases[name]?.owner == owner { leases[name] = nil }
    }

    private mutating func deactivateAll(_ name: String) {
        guard let numbers = generations[name]?.keys else { return }
        for number in Array(numbers) { generations[name]?[number]?.isActive = false }
    }
}
