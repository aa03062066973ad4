/// The integer ids of streams (`streams`) and of event types and metadata templates (`names`)
/// that one connection has met, so that rows refer to them by a small number and reads and
/// appends rarely look one up. Used by the thread holding its connection only.
///
/// A committed id never changes meaning, so what a connection read stays true. What the writer
/// inserted itself is pending until its transaction commits: a rollback may give the id to
/// another stream or name later, so `forgetPending` drops those entries.
final class SQLiteInterned {
    private var streamIDs: [StreamID: Int64] = [:]
    private var streams: [Int64: StreamID] = [:]
    private var nameIDs: [String: Int64] = [:]
    private var names: [Int64: String] = [:]
    private var pendingStreams: [StreamID] = []
    private var pendingNames: [String] = []
    /// The templates this writer made last, tried first when packing (`MetaTemplates`).
    let templates = MetaTemplates()
    /// Templates met once and kept inline; met again, they get a name (`templateID`).
    private var seenTemplates: Set<String> = []

    static let streamIDSQL = #"SELECT id FROM streams WHERE aggregate = ?1 AND "key" = ?2"#
    static let streamSQL = #"SELECT aggregate, "key" FROM streams WHERE id = ?1"#
    static let insertStreamSQL = #"INSERT INTO streams (aggregate, "key") VALUES (?1, ?2)"#
    static let nameIDSQL = "SELECT id FROM names WHERE text = ?1"
    static let nameSQL = "SELECT text FROM names WHERE id = ?1"
    static let insertNameSQL = "INSERT INTO names (text) VALUES (?1)"

    /// The id of `stream`, nil when it has no events (and `create` is false).
    func streamID(_ stream: StreamID, on connection: SQLiteConnection, create: Bool = false) throws -> Int64? {
        if let id = streamIDs[stream] { return id }
        let found = try connection.withStatement(Self.streamIDSQL) { statement -> Int64? in
            try statement.bind(stream.aggregate, at: 1)
            try statement.bind(stream.key, at: 2)
            return try statement.step() ? statement.int64(at: 0) : nil
        }
        if let found {
            remember(stream, found)
            return found
        }
        guard create else { return nil }
        try connection.withStatement(Self.insertStreamSQL) { statement in
            try statement.bind(stream.aggregate, at: 1)
            try statement.bind(stream.key, at: 2)
            _ = try statement.step()
        }
        let id = connection.lastInsertedRowID
        remember(stream, id)
        pendingStreams.append(stream)
        return id
    }

    /// The stream with id `id`.
    func stream(_ id: Int64, on connection: SQLiteConnection) throws -> StreamID {
        if let stream = streams[id] { return stream }
        let stream = try connection.withStatement(Self.streamSQL) { statement -> StreamID? in
            try statement.bind(id, at: 1)
            return try statement.step() ? StreamID(aggregate: statement.string(at: 0), key: statement.string(at: 1)) : nil
        }
        guard let stream else { throw StoreError.io("\(connection.path): an event refers to stream \(id), which is missing") }
        remember(stream, id)
        return stream
    }

    /// The id of `name`, inserted when missing (an event type).
    func nameID(_ name: String, on connection: SQLiteConnection) throws -> Int64 {
        if let id = try existingNameID(name, on: connection) { return id }
        return try insertName(name, on: connection)
    }

    /// The id under which to store `template`, or nil to store it inline: a template gets an
    /// id the second time this connection meets it, so that one unique to a single commit
    /// (metadata with a value of its own) costs no index entry.
    func templateID(_ template: String, on connection: SQLiteConnection) throws -> Int64? {
        if let id = try existingNameID(template, on: connection) { return id }
        if seenTemplates.contains(template) { return try insertName(template, on: connection) }
        if seenTemplates.count >= 4096 { seenTemplates.removeAll(keepingCapacity: true) }
        seenTemplates.insert(template)
        return nil
    }

    /// The name with id `id`.
    func name(_ id: Int64, on connection: SQLiteConnection) throws -> String {
        if let name = names[id] { return name }
        let name = try connection.withStatement(Self.nameSQL) { statement -> String? in
            try statement.bind(id, at: 1)
            return try statement.step() ? statement.string(at: 0) : nil
        }
        guard let name else { throw StoreError.io("\(connection.path): an event refers to name \(id), which is missing") }
        nameIDs[name] = id
        names[id] = name
        return name
    }

    /// After a commit: what this connection inserted is now for good.
    func commitPending() {
        pendingStreams.removeAll(keepingCapacity: true)
        pendingNames.removeAll(keepingCapacity: true)
    }

    /// After a rollback (of the transaction or of a savepoint in it): forgets what may be gone.
    func forgetPending() {
        for stream in pendingStreams {
            if let id = streamIDs.removeValue(forKey: stream) { streams[id] = nil }
        }
        for name in pendingNames {
            if let id = nameIDs.removeValue(forKey: name) { names[id] = nil }
        }
        commitPending()
    }

    private func existingNameID(_ name: String, on connection: SQLiteConnection) throws -> Int64? {
        if let id = nameIDs[name] { return id }
        let found = try connection.withStatement(Self.nameIDSQL) { statement -> Int64? in
            try statement.bind(name, at: 1)
            return try statement.step() ? statement.int64(at: 0) : nil
        }
        if let found {
            nameIDs[name] = found
            names[found] = name
        }
        return found
    }

    private func insertName(_ name: String, on connection: SQLiteConnection) throws -> Int64 {
        try connection.withStatement(Self.insertNameSQL) { statement in
            try statement.bind(name, at: 1)
            _ = try statement.step()
        }
        let id = connection.lastInsertedRowID
        nameIDs[name] = id
        names[id] = name
        pendingNames.append(name)
        seenTemplates.remove(name)
        return id
    }

    private func remember(_ stream: StreamID, _ id: Int64) {
        streamIDs[stream] = id
        streams[id] = stream
    }
}
