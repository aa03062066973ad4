import LuaESCore
import LuaESScripting
import LuaESStore

/// A store middleware that wakes a publisher after every successful append, so events go
/// out as soon as they are committed rather than at the next poll. It does not touch loads.
public struct PublishNotifier: StoreMiddleware {
    public let publisher: EventPublisher

    public init(publisher: EventPublisher) { self.publisher = publisher }

    public var interceptsLoads: Bool { false }

    public func append(_ batches: [AppendBatch], next: ([AppendBatch]) throws -> [Result<[RecordedEvent], StoreError>]) throws
        -> [Result<[RecordedEvent], StoreError>] {
        let results = try next(batches)
        if results.contains(where: { if case .success = $0 { true } else { false } }) { publisher.notify() }
        return results
    }
}
