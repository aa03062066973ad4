import Foundation
import LuaESPostgres
import LuaESStore

/// `store-probe pg-writers POSTGRES_URL THREADS APPENDS`: THREADS writers sharing one store
/// (one connection pool), each making APPENDS appends of 1...3 events to a stream of its
/// own with random pauses between them; every fifth is a group commit that also appends
/// to the contended stream `shared` (whose conflicts are expected). Prints `ack POSITION`
/// for every acknowledged event and `done EVENTS` at the end; exits 2 on any other error.
func postgresWriters(url: String, threads: Int, appends: Int) throws {
    let store = try PostgresEventStore(url: url)
    let pid = ProcessInfo.processInfo.processIdentifier
    let shared = StreamID(aggregate: probeAggregate, key: "shared")
    let tally = WriterTally()
    let group = DispatchGroup()
    for thread in 0..<threads {
        group.enter()
        Thread {
            defer { group.leave() }
            let own = StreamID(aggregate: probeAggregate, key: "\(pid)-\(thread)")
            var version: Int64 = 0
            do {
                for round in 0..<appends {
                    usleep(UInt32.random(in: 0...3_000))
                    let events = (0...(round % 3)).map { NewEvent(type: "Written", data: #"{"pid":\#(pid),"round":\#(round),"i":\#($0)}"#) }
                    var recorded: [RecordedEvent] = []
                    if round % 5 == 4 {
                        let results = try store.append(batches: [
                            AppendBatch(stream: own, expectedVersion: version, events: events),
                            AppendBatch(stream: shared, expectedVersion: try store.version(of: shared), events: [events[0]]),
                        ])
                        recorded = try results[0].get()
                        if case .success(let more) = results[1] { recorded += more }
                    } else {
                        recorded = try store.append(events, to: own, expectedVersion: version)
                    }
                    version = recorded.filter { $0.stream == own }.last!.version
                    for event in recorded { emit("ack \(event.position)") }
                    tally.add(recorded.count)
                }
            } catch {
                tally.fail(error)
            }
        }.start()
    }
    group.wait()
    try store.close()
    emit("done \(try tally.total())")
}

/// The writers' count of acknowledged events, and their first error.
private final class WriterTally: @unchecked Sendable {
    // @unchecked: `count` and `error` are only read and written while `lock` is held.
    private let lock = NSLock()
    private var count = 0
    private var error: (any Error)?

    func add(_ events: Int) { lock.withLock { count += events } }
    func fail(_ error: any Error) { lock.withLock { if self.error == nil { self.error = error } } }
    func total() throws -> Int {
        try lock.withLock {
            if let error { throw error }
            return count
        }
    }
}
