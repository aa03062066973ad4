import Foundation
import LuaESStore

/// Command ids held by claims (the type's doc comment, "Command ids").
extension MongoEventStore {
    enum Holder: Equatable {
        /// A commit holds the id.
        case committed
        /// Nothing holds it (any more): a dead claim was deleted, or there was nothing.
        case free
    }

    /// Claims `id` for the commit at `sequence`; false when a dead claim was in the way (the
    /// caller starts over), throws `duplicateCommand` when a commit holds it.
    func claim(_ id: String, sequence: Int64, index: Int) throws -> Bool {
        for _ in 0..<3 {
            let written = try connection.insert(MongoLayout.claim(id: id, sequence: sequence, index: index), into: MongoLayout.commits)
            if written == .done { return true }
            if try resolve(id) == .committed { throw StoreError.duplicateCommand(id) }
        }
        return false
    }

    /// Who holds `id`: a commit with it as `_id`, or a claim whose sequence number holds its
    /// commit. A claim whose number holds a gap fill is dead and deleted; one whose number
    /// holds nothing yet is waited for, then its number is filled.
    func resolve(_ id: String) throws -> Holder {
        while true {
            guard let holder = try connection.findOne(MongoLayout.commits, filter: BSONDocument { $0.append("_id", id) },
                                                      projection: BSONDocument { $0.append("cs", int32: 1); $0.append("f", int32: 1) })
            else { return .free }
            guard let sequence = holder["cs"]?.int else { return .committed }  // a commit itself
            switch try occupant(of: sequence, waiting: true) {
            case .commit: return .committed
            case .fill:
                try connection.deleteOne(MongoLayout.commits, filter: BSONDocument {
                    $0.append("_id", id)
                    $0.append("cs", sequence)
                })
                return .free
            case .none: continue  // filled meanwhile or not: look again
            }
        }
    }

    enum Occupant { case commit, fill, none }

    /// What is at feed sequence `sequence`; with `waiting`, an empty number is waited for
    /// (`gapWait`) and then filled, so the answer is `.commit` or `.fill` for good.
    func occupant(of sequence: Int64, waiting: Bool) throws -> Occupant {
        let deadline = Date().addingTimeInterval(gapWait)
        var filled = false
        while true {
            if let found = try connection.findOne(MongoLayout.commits, filter: BSONDocument { $0.append("p", sequence) },
                                                  projection: BSONDocument { $0.append("a", int32: 1) }) {
                return found["a"]?.string?.isEmpty == false ? .commit : .fill
            }
            guard waiting else { return .none }
            if filled { return .none }  // a fill went in and is not visible yet: the caller looks again
            if Date() >= deadline {
                fill(sequence)
                filled = true
            } else {
                Thread.sleep(forTimeInterval: 0.002)
            }
        }
    }

    public func events(forCommand commandID: String) throws -> [RecordedEvent] {
        try checkOpen()
        do {
            guard let holder = try connection.findOne(MongoLayout.commits, filter: BSONDocument { $0.append("_id", commandID) })
            else { return [] }
            var commit = CommitDocument(holder)
            if commit == nil, let sequence = holder["cs"]?.int {
                commit = try connection.findOne(MongoLayout.commits, filter: BSONDocument { $0.append("p", sequence) })
                    .flatMap(CommitDocument.init)
            }
            return commit?.events.filter { $0.commandID == commandID }.map(\.0) ?? []
        } catch {
            throw fail(error, while: "looking up command \(commandID)")
        }
    }
}
