import LuaESCore
import LuaESScripting
import LuaESStore

/// Group commit: several commands decided one after another, appended in one transaction.
extension Engine {
    /// Runs `requests` in order with one store transaction for all their appends.
    ///
    /// Each command sees the state its predecessors in the batch left (their events are
    /// replayed before the commit); each command's append succeeds or fails on its own. A
    /// command whose append conflicts (with another process, or because an earlier command
    /// of the batch on the same stream failed) runs again alone, with the usual retries.
    /// - Returns: one result per request, in order.
    public func execute(batch requests: [CommandRequest]) -> [Result<CommandResult, any Error>] {
        var results = [Result<CommandResult, any Error>?](repeating: nil, count: requests.count)
        var staged: [(index: Int, command: PreparedCommand)] = []
        var again: [Int] = []
        var keys = Set<String>()
        for (i, request) in requests.enumerated() {
            if let id = request.idempotencyKey {
                // a repeat of a key staged in this batch waits until that one is committed
                guard keys.insert(id).inserted else { again.append(i); continue }
            }
            do {
                try Self.check(request)
                if let id = request.idempotencyKey, let earlier = try earlierResult(of: id, request) {
                    results[i] = .success(earlier)
                    continue
                }
                let prepared = try prepare(request)
                if prepared.events.isEmpty {
                    results[i] = .success(finishWithoutEvents(prepared))
                    continue
                }
                // Cached at once, so later commands of the batch on this stream build on it.
                putState(prepared.stream, prepared.state,
                         version: prepared.baseVersion + Int64(prepared.events.count))
                staged.append((i, prepared))
            } catch {
                results[i] = .failure(error)
            }
        }
        if !staged.isEmpty { commit(staged, into: &results, retrying: &again) }
        for index in again.sorted() {
            results[index] = Result { try execute(requests[index]) }
        }
        return results.map { $0! }
    }

    /// Appends the staged commands in one transaction. The commands of one stream go in
    /// one append (all or none): a later command was decided on the state an earlier one
    /// left, so it must not commit without it.
    private func commit(_ staged: [(index: Int, command: PreparedCommand)],
                        into results: inout [Result<CommandResult, any Error>?], retrying again: inout [Int]) {
        var groups: [[(index: Int, command: PreparedCommand)]] = []
        var groupOf: [StreamID: Int] = [:]
        for item in staged {
            if let g = groupOf[item.command.stream] {
                groups[g].append(item)
            } else {
                groupOf[item.command.stream] = groups.count
                groups.append([item])
            }
        }
        let batches = groups.map { group in
            AppendBatch(stream: group[0].command.stream, expectedVersion: group[0].command.baseVersion,
                        events: group.flatMap(\.command.events))
        }
        do {
            let outcomes = try store.append(batches: batches)
            for (group, outcome) in zip(groups, outcomes) {
                switch outcome {
                case .success(let recorded):
                    var rest = recorded[...]
                    for (index, command) in group {
                        let mine = Array(rest.prefix(command.events.count))
                        rest = rest.dropFirst(command.events.count)
                        results[index] = .success(finish(command, mine, caching: false))
                    }
                case .failure(let error):
                    dropState(group[0].command.stream)
                    for (index, _) in group {
                        // a conflict or a command committed meanwhile: alone, it retries or finds that result
                        if error.isConflict || error.duplicateCommandID != nil {
                            again.append(index)
                        } else {
                            results[index] = .failure(error)
                        }
                    }
                }
            }
        } catch {
            for (index, command) in staged {
                dropState(command.stream)
                results[index] = .failure(error)
            }
        }
    }

    /// Forgets the cached state of `stream` (its next use reloads it from the store).
    func dropState(_ stream: StreamID) {
        _ = cache.take(stream)
    }
}
