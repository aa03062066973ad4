import Foundation
import Logging

/// Logs every append and load through swift-log: start and end at `level` (debug by
/// default), failures at `.error`, each with aggregate, key, versions, count and duration.
public struct LoggingStoreMiddleware: StoreMiddleware {
    public let logger: Logger
    public let level: Logger.Level

    /// - Parameters:
    ///   - logger: where the lines go (its own log level filters them as usual).
    ///   - level: the level of the start and end lines.
    public init(logger: Logger, level: Logger.Level = .debug) {
        self.logger = logger
        self.level = level
    }

    public func append(_ batches: [AppendBatch], next: ([AppendBatch]) throws -> [Result<[RecordedEvent], StoreError>]) throws
        -> [Result<[RecordedEvent], StoreError>] {
        for batch in batches {
            logger.log(level: level, "append start", metadata: metadata(batch))
        }
        let started = DispatchTime.now().uptimeNanoseconds
        let results: [Result<[RecordedEvent], StoreError>]
        do {
            results = try next(batches)
        } catch {
            var m = metadata(batches.first)
            m["batches"] = "\(batches.count)"
            m["duration_ms"] = "\(Self.milliseconds(since: started))"
            m["error"] = "\(error)"
            logger.error("append failed", metadata: m)
            throw error
        }
        let duration = Self.milliseconds(since: started)
        for (batch, result) in zip(batches, results) {
            var m = metadata(batch)
            m["duration_ms"] = "\(duration)"
            switch result {
            case .success(let recorded):
                m["positions"] = "\(recorded.first?.position ?? 0)...\(recorded.last?.position ?? 0)"
                logger.log(level: level, "append end", metadata: m)
            case .failure(let error):
                m["error"] = "\(error)"
                logger.error("append failed", metadata: m)
            }
        }
        return results
    }

    public func load(_ query: LoadQuery, next: (LoadQuery) throws -> [RecordedEvent]) throws -> [RecordedEvent] {
        var m: Logger.Metadata = ["after": "\(query.after)"]
        switch query.scope {
        case .stream(let s):
            m["aggregate"] = "\(s.aggregate)"
            m["key"] = "\(s.key)"
            if let upTo = query.upTo { m["up_to"] = "\(upTo)" }
        case .feed: m["feed"] = "global"
        case .command(let id): m["command_id"] = "\(id)"
        }
        if query.forReplay { m["replay"] = "true" }
        logger.log(level: level, "load start", metadata: m)
        let started = DispatchTime.now().uptimeNanoseconds
        do {
            let events = try next(query)
            m["duration_ms"] = "\(Self.milliseconds(since: started))"
            m["count"] = "\(events.count)"
            if let first = events.first, let last = events.last { m["versions"] = "\(first.version)...\(last.version)" }
            logger.log(level: level, "load end", metadata: m)
            return events
        } catch {
            m["duration_ms"] = "\(Self.milliseconds(since: started))"
            m["error"] = "\(error)"
            logger.error("load failed", metadata: m)
            throw error
        }
    }

    private func metadata(_ batch: AppendBatch?) -> Logger.Metadata {
        guard let batch else { return [:] }
        return [
            "aggregate": "\(batch.stream.aggregate)", "key": "\(batch.stream.key)", "count": "\(batch.events.count)",
            "versions": "\(batch.expectedVersion + 1)...\(batch.expectedVersion + Int64(batch.events.count))",
        ]
    }

    static func milliseconds(since start: UInt64) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000
    }
}
