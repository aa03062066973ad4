import LuaESCore
import LuaESTestSupport
@testable import LuaESStore
import Testing

/// Every store gives back each event's metadata byte for byte, whatever form it has, on every
/// read path, however the events were grouped into appends.
@Suite("Metadata contract")
struct MetaContract {
    @Test(arguments: StoreFactory.all)
    func metadataReadsBackByteForByte(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let store = fixture.store
        var recorded: [RecordedEvent] = []
        for (i, (name, events)) in metadataShapes().enumerated() {
            let stream = StreamID(aggregate: "Shapes", key: "s\(i)")
            let appended = try store.append(events, to: stream, expectedVersion: 0)
            #expect(appended.map(\.meta) == events.map(\.meta), "\(name)")
            #expect(try store.events(of: stream) == appended, "\(name)")
            // reads that start inside a command's run of events
            for after in 1..<max(events.count, 1) {
                #expect(try store.events(of: stream, after: Int64(after), upTo: nil, limit: nil) == Array(appended.dropFirst(after)),
                        "\(name), after \(after)")
                #expect(try store.events(after: appended[after - 1].position, limit: 1) == [appended[after]], "\(name)")
            }
            if let key = events.first?.commandID {
                #expect(try store.events(forCommand: key) == appended, "\(name)")
            }
            recorded += appended
        }
        #expect(try store.events(after: 0, limit: 1000) == recorded)
    }

    @Test(arguments: StoreFactory.all)
    func commandsOfOneGroupCommitKeepTheirOwnMetadata(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let store = fixture.store
        let stream = StreamID(aggregate: "Shapes", key: "group")
        // three commands on one stream in one append, as `esrun serve` groups them; the second keyed
        let commands = [EngineMetaCommand(base: EngineMetaCommand.base(10)),
                        EngineMetaCommand(base: EngineMetaCommand.base(11), key: "k-11"),
                        EngineMetaCommand(base: EngineMetaCommand.base(12), requestID: "r-12")]
        let events = commands.flatMap { $0.events(3) }
        let other = StreamID(aggregate: "Shapes", key: "other")
        let results = try store.append(batches: [
            AppendBatch(stream: stream, expectedVersion: 0, events: events),
            AppendBatch(stream: other, expectedVersion: 0, events: EngineMetaCommand(base: EngineMetaCommand.base(13)).events(2)),
        ])
        let appended = try results[0].get()
        #expect(appended.map(\.meta) == events.map(\.meta))
        #expect(try store.events(of: stream) == appended)
        #expect(try store.events(forCommand: "k-11") == Array(appended[3..<6]))
        #expect(try store.events(after: 0, limit: 100) == appended + (try results[1].get()))
    }
}
