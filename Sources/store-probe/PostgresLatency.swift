import Foundation
import Logging
import LuaESPostgres
import LuaESStore
import NIOPosix
import PostgresNIO

/// `store-probe pg-latency POSTGRES_URL [N]`: where one append's time goes on one connection.
/// Each step N times, one after another, mean microseconds per call:
///   `SELECT 1` on one postgres-nio connection, awaited in one task (the client's round trip);
///   the same `SELECT max(version)` the store runs, on that connection, and through the store
///   (`version(of:)`: pool lease, detached task, semaphore);
///   an empty operation through the same kind of bridge (detached task + semaphore, no query);
///   one-event appends through the store (one CALL of append_events_v5 each), and the time the
///   server spent inside the procedure per CALL (pg_stat_user_functions; needs track_functions = 'pl').
/// The schema is made afresh and dropped at the end.
func postgresLatency(url: String, count: Int) throws {
    let schema = "latency_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12)
    let store = try PostgresEventStore(url: url + (url.contains("?") ? "&" : "?") + "schema=" + schema)
    defer {
        // After a failure (the normal path drops the schema at the end, the store closed by then).
        try? store.dropSchema()  // a failed drop leaves a throwaway schema; the measuring error matters more
        try? store.close()
    }
    let configuration = store.configuration
    let connect: @Sendable () async throws -> PostgresConnection = {
        try await PostgresConnection.connect(
            configuration: PostgresConnection.Configuration(
                host: configuration.host, port: configuration.port, username: configuration.username,
                password: configuration.password, database: configuration.database, tls: .disable),
            id: 1, logger: Logger(label: "store-probe"))
    }
    let stream = StreamID(aggregate: "Bench", key: "latency")
    let versionSQL = "SELECT coalesce(max(version), 0) FROM \"\(schema)\".events WHERE aggregate = 'Bench' AND \"key\" = 'latency'"
    let direct = try onThread { () async throws -> (Double, Double) in
        let connection = try await connect()
        let logger = Logger(label: "store-probe")
        func mean(_ sql: String) async throws -> Double {
            let start = ContinuousClock.now
            for _ in 0..<count { try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger) }
            return microseconds(ContinuousClock.now - start) / Double(count)
        }
        let means = (try await mean("SELECT 1"), try await mean(versionSQL))
        try await connection.close()
        return means
    }
    emit(String(format: "SELECT 1, postgres-nio, one task:          %7.1f µs", direct.0))
    emit(String(format: "SELECT max(version), postgres-nio:         %7.1f µs", direct.1))
    let throughStore = try seconds { for _ in 0..<count { _ = try store.version(of: stream) } }
    emit(String(format: "SELECT max(version), store.version(of:):   %7.1f µs", throughStore.wall / Double(count) * 1e6))
    let bridge = seconds { for _ in 0..<count { _ = try? onThread { () async throws -> Int in 0 } } }
    emit(String(format: "empty detached task + semaphore:           %7.1f µs", bridge.wall / Double(count) * 1e6))
    let event = NewEvent(type: "Incremented", data: #"{"by":1}"#)
    let appends = try seconds {
        for version in 0..<count { try store.append([event], to: stream, expectedVersion: Int64(version)) }
    }
    emit(String(format: "append of one event (CALL append_events):  %7.1f µs (%.1f µs CPU of this process)",
                appends.wall / Double(count) * 1e6, appends.cpu / Double(count) * 1e6))
    // A backend reports its function statistics when it ends or idles; the pool's stay open.
    try store.close()
    Thread.sleep(forTimeInterval: 0.5)
    let inside = try onThread { () async throws -> Double? in
        let connection = try await connect()
        var mean: Double?
        for try await (calls, total) in try await connection.query(
            "SELECT calls, total_time FROM pg_stat_user_functions WHERE schemaname = \(schema) AND funcname = 'append_events_v5'",
            logger: Logger(label: "store-probe")).decode((Int64, Double).self) where calls > 0 {
            mean = total * 1000 / Double(calls)
        }
        try await connection.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \"\(schema)\" CASCADE"), logger: Logger(label: "store-probe"))
        try await connection.close()
        return mean
    }
    emit(inside.map { String(format: "inside append_events (server, per CALL):   %7.1f µs", $0) }
        ?? "inside append_events: no statistics (SET track_functions = 'pl' on the server to see them)")
}

private func microseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
}

/// Runs `body` in a detached task and blocks this thread until it ends: the kind of bridge the
/// store uses (`PostgresEventStore.blocking`), here on Swift's default executor.
private func onThread<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let done = DispatchSemaphore(value: 0)
    let box = ResultBox<T>()
    Task.detached {
        do { box.set(.success(try await body())) } catch { box.set(.failure(error)) }
        done.signal()
    }
    done.wait()
    return try box.get()
}

private final class ResultBox<T: Sendable>: @unchecked Sendable {
    // @unchecked: `result` is only read and written while `lock` is held.
    private let lock = NSLock()
    private var result: Result<T, any Error>?
    func set(_ value: Result<T, any Error>) { lock.withLock { result = value } }
    func get() throws -> T { try lock.withLock { result! }.get() }
}
