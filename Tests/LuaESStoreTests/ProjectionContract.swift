import Foundation
import LuaESCore
import LuaESTestSupport
@testable import LuaESStore
import Testing

/// The contract every `ProjectionStore` keeps, run against each kind in `StoreFactory.withViews`
/// (every store but DynamoDB's, which keeps no views yet).
@Suite("Projection store contract")
struct ProjectionContract {
    private func views(_ fixture: StoreFixture) throws -> ProjectionStore {
        try #require(fixture.store.projections, "\(fixture.factory.name) keeps no projection views")
    }

    @Test(arguments: StoreFactory.withViews)
    func generationsAreNumberedAndOneIsActive(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let store = try views(fixture)
        #expect(try store.projectionGenerations(named: nil).isEmpty)
        let first = try store.createProjectionGeneration(name: "Balances", fingerprint: "f1", activate: true)
        let second = try store.createProjectionGeneration(name: "Balances", fingerprint: "f2", activate: false)
        let other = try store.createProjectionGeneration(name: "Audit", fingerprint: "f9", activate: true)
        #expect(first.generation == 1 && second.generation == 2 && other.generation == 1)
        #expect(first.position == 0 && first.isActive && !second.isActive && first.failure == nil)
        let listed = try store.projectionGenerations(named: nil)
        #expect(listed.map { "\($0.name)#\($0.generation)" } == ["Audit#1", "Balances#1", "Balances#2"])
        #expect(try store.projectionGenerations(named: "Balances") == [first, second])

        let third = try store.createProjectionGeneration(name: "Balances", fingerprint: "f3", activate: true)
        #expect(try store.projectionGenerations(named: "Balances").filter(\.isActive).map(\.generation) == [third.generation])
    }

    @Test(arguments: StoreFactory.withViews)
    func aCommitWritesViewsAndCheckpointTogether(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let store = try views(fixture)
        let g = try store.createProjectionGeneration(name: "Balances", fingerprint: "f1", activate: true).generation
        try store.commitProjection(ProjectionCommit(name: "Balances", generation: g, from: 0, to: 7, changes: [
            ViewChange(key: "alice", document: #"{"balance":10}"#),
            ViewChange(key: "bob", document: #"{"balance":5}"#),
            ViewChange(key: "alice", document: #"{"balance":12}"#),
        ]))
        #expect(try store.viewDocument(projection: "Balances", generation: g, key: "alice") == #"{"balance":12}"#)
        #expect(try store.projectionGenerations(named: "Balances").first?.position == 7)

        try store.commitProjection(ProjectionCommit(name: "Balances", generation: g, from: 7, to: 9, changes: [
            ViewChange(key: "bob", document: nil), ViewChange(key: "carol", document: "[1,2]"),
        ]))
        #expect(try store.viewDocument(projection: "Balances", generation: g, key: "bob") == nil)
        #expect(try store.viewDocument(projection: "Balances", generation: g, key: "carol") == "[1,2]")
        // deleting what is not there is fine
        try store.commitProjection(ProjectionCommit(name: "Balances", generation: g, from: 9, to: 10, changes: [
            ViewChange(key: "nobody", document: nil),
        ]))
    }

    @Test(arguments: StoreFactory.withViews)
    func aCommitFromAMovedCheckpointWritesNothing(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let store = try views(fixture)
        let g = try store.createProjectionGeneration(name: "P", fingerprint: "f", activate: true).generation
        try store.commitProjection(ProjectionCommit(name: "P", generation: g, from: 0, to: 5,
                                                    changes: [ViewChange(key: "k", document: "1")]))
        let stale = ProjectionCommit(name: "P", generation: g, from: 0, to: 6, changes: [ViewChange(key: "k", document: "2")])
        let error = try #require(throws: StoreError.self) { try store.commitProjection(stale) }
        #expect(error.isCheckpointMoved)
        #expect(try store.viewDocument(projection: "P", generation: g, key: "k") == "1")
        #expect(try store.projectionGenerations(named: "P").first?.position == 5)

        let missing = ProjectionCommit(name: "P", generation: g + 5, from: 0, to: 1, changes: [])
        #expect((try #require(throws: StoreError.self) { try store.commitProjection(missing) }).isCheckpointMoved)
        #expect(try store.viewDocument(projection: "P", generation: g + 5, key: "k") == nil)
    }

    @Test(arguments: StoreFactory.withViews)
    func activationSwitchesWithTheLastCommit(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let store = try views(fixture)
        let old = try store.createProjectionGeneration(name: "P", fingerprint: "old", activate: true).generation
        let new = try store.createProjectionGeneration(name: "P", fingerprint: "new", activate: false).generation
        try store.commitProjection(ProjectionCommit(name: "P", generation: new, from: 0, to: 3, changes: []))
        #expect(try store.projectionGenerations(named: "P").filter(\.isActive).map(\.generation) == [old])
        try store.commitProjection(ProjectionCommit(name: "P", generation: new, from: 3, to: 4,
                                                    changes: [ViewChange(key: "x", document: "{}")], activate: true))
        let after = try store.projectionGenerations(named: "P")
        #expect(after.filter(\.isActive).map(\.generation) == [new])
        #expect(after.first { $0.generation == new }?.position == 4)
    }

    @Test(arguments: StoreFactory.withViews)
    func listsDocumentsByPrefixInByteOrder(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let store = try views(fixture)
        let g = try store.createProjectionGeneration(name: "P", fingerprint: "f", activate: true).generation
        let keys = ["b", "a", "ab", "a/2", "a/10", "é", "Z", "a\u{0}", "aé", "abc"]
        try store.commitProjection(ProjectionCommit(name: "P", generation: g, from: 0, to: 1,
                                                    changes: keys.map { ViewChange(key: $0, document: JSONText.quote($0)) }))
        func list(_ prefix: String, after: String? = nil, limit: Int = 100) throws -> [String] {
            try store.viewDocuments(projection: "P", generation: g, prefix: prefix, after: after, limit: limit).map(\.key)
        }
        let sorted = keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        #expect(try list("") == sorted)
        #expect(try list("a") == ["a", "a\u{0}", "a/10", "a/2", "ab", "abc", "aé"])
        #expect(try list("a", limit: 2) == ["a", "a\u{0}"])
        #expect(try list("a", after: "a/2") == ["ab", "abc", "aé"])
        #expect(try list("ab") == ["ab", "abc"])
        #expect(try list("c").isEmpty)
        #expect(try list("", limit: 0).isEmpty)
        let docs = try store.viewDocuments(projection: "P", generation: g, prefix: "é", after: nil, limit: 5)
        #expect(docs == [ViewDocument(key: "é", document: "\"é\"")])
        // another generation's documents are not mixed in
        #expect(try store.viewDocuments(projection: "P", generation: g + 1, prefix: "", after: nil, limit: 5).isEmpty)
    }

    /// Keys are bytes: "é" composed and decomposed (equal as Swift strings) are two documents,
    /// and a page that puts both keeps both.
    @Test(arguments: StoreFactory.withViews)
    func keysAreComparedAsBytes(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let store = try views(fixture)
        let g = try store.createProjectionGeneration(name: "P", fingerprint: "f", activate: true).generation
        let (composed, decomposed) = ("\u{E9}", "e\u{301}")
        try store.commitProjection(ProjectionCommit(name: "P", generation: g, from: 0, to: 1, changes: [
            ViewChange(key: composed, document: "1"), ViewChange(key: decomposed, document: "2"),
        ]))
        let documents = try store.viewDocuments(projection: "P", generation: g, prefix: "", after: nil, limit: 10)
        #expect(documents.map { Array($0.key.utf8) } == [Array(decomposed.utf8), Array(composed.utf8)])
        #expect(documents.map(\.document) == ["2", "1"])
        #expect(try store.viewDocument(projection: "P", generation: g, key: composed) == "1")
        #expect(try store.viewDocument(projection: "P", generation: g, key: decomposed) == "2")
    }

    @Test(arguments: StoreFactory.withViews)
    func dropsAGenerationInSlices(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let store = try views(fixture)
        let old = try store.createProjectionGeneration(name: "P", fingerprint: "old", activate: true).generation
        let keep = try store.createProjectionGeneration(name: "P", fingerprint: "new", activate: false).generation
        let changes = (0..<25).map { ViewChange(key: "k\($0)", document: String($0)) }
        try store.commitProjection(ProjectionCommit(name: "P", generation: old, from: 0, to: 1, changes: changes))
        try store.commitProjection(ProjectionCommit(name: "P", generation: keep, from: 0, to: 1, changes: changes))
        #expect(try store.dropProjectionGeneration(name: "P", generation: old, limit: 10) == 10)
        #expect(try store.dropProjectionGeneration(name: "P", generation: old, limit: 10) == 10)
        #expect(try store.projectionGenerations(named: "P").count == 2)
        #expect(try store.dropProjectionGeneration(name: "P", generation: old, limit: 10) == 5)
        #expect(try store.projectionGenerations(named: "P").map(\.generation) == [keep])
        #expect(try store.dropProjectionGeneration(name: "P", generation: old, limit: 10) == 0)
        #expect(try store.viewDocuments(projection: "P", generation: keep, prefix: "", after: nil, limit: 100).count == 25)
        // numbers are not reused
        #expect(try store.createProjectionGeneration(name: "P", fingerprint: "x", activate: false).generation == keep + 1)
    }

    @Test(arguments: StoreFactory.withViews)
    func recordsAndClearsAFailure(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let store = try views(fixture)
        let g = try store.createProjectionGeneration(name: "P", fingerprint: "f", activate: true).generation
        try store.setProjectionFailure(name: "P", generation: g, failure: #"{"position":3}"#)
        #expect(try store.projectionGenerations(named: "P").first?.failure == #"{"position":3}"#)
        try store.setProjectionFailure(name: "P", generation: g, failure: nil)
        #expect(try store.projectionGenerations(named: "P").first?.failure == nil)
    }

    @Test(arguments: StoreFactory.withViews)
    func aLeaseHasOneOwnerUntilItExpiresOrIsReleased(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let store = try views(fixture)
        #expect(try store.leaseProjection(name: "P", owner: "a", seconds: 30))
        #expect(try !store.leaseProjection(name: "P", owner: "b", seconds: 30))
        #expect(try store.leaseProjection(name: "P", owner: "a", seconds: 30), "the owner renews")
        #expect(try store.leaseProjection(name: "Q", owner: "b", seconds: 30), "leases are per projection")
        try store.releaseProjection(name: "P", owner: "b")  // not b's: nothing happens
        #expect(try !store.leaseProjection(name: "P", owner: "b", seconds: 30))
        try store.releaseProjection(name: "P", owner: "a")
        #expect(try store.leaseProjection(name: "P", owner: "b", seconds: 0.2), "released: taken at once")
        #expect(try !store.leaseProjection(name: "P", owner: "a", seconds: 30))
        Thread.sleep(forTimeInterval: 0.4)
        #expect(try store.leaseProjection(name: "P", owner: "a", seconds: 30), "expired: taken over")
        // a lease taken before the projection's first generation does not disturb the numbering
        #expect(try store.createProjectionGeneration(name: "P", fingerprint: "f", activate: true).generation == 1)
        #expect(try !store.leaseProjection(name: "P", owner: "b", seconds: 30), "creating a generation keeps the lease")
    }

    @Test(arguments: StoreFactory.withViews)
    func headIsTheNewestPosition(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let store = try views(fixture)
        #expect(try store.headPosition() == 0)
        let recorded = try fixture.store.append([NewEvent(type: "A", data: "{}"), NewEvent(type: "B", data: "{}")],
                                                to: StreamID(aggregate: "X", key: "1"), expectedVersion: 0)
        #expect(try store.headPosition() == recorded.last?.position)
    }

    @Test(arguments: StoreFactory.withViews.filter(\.persists))
    func viewsSurviveAReopen(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let g = try views(fixture).createProjectionGeneration(name: "P", fingerprint: "f", activate: true).generation
        try views(fixture).commitProjection(ProjectionCommit(name: "P", generation: g, from: 0, to: 2,
                                                             changes: [ViewChange(key: "k", document: #"{"n":1}"#)]))
        try fixture.reopen()
        #expect(try views(fixture).viewDocument(projection: "P", generation: g, key: "k") == #"{"n":1}"#)
        #expect(try views(fixture).projectionGenerations(named: "P").first?.position == 2)
    }
}
