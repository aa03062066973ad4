import Foundation

/// Projections seen from the engine: running a page of the global feed through one
/// projection's Lua handlers (replay phase), and the `view:get` reads they make.
extension Engine {
    /// Runs `events` (in position order) through `projection`, reading the views of
    /// `generation` in `views`, and returns the changes to commit with the page.
    /// Events no handler takes are not sent to Lua at all.
    /// - Throws: `EngineError` when a handler fails (nothing of the page is kept then); the
    ///   store's error when reading a view failed (the page can be tried again later).
    public func project(_ projection: ProjectionInfo, generation: Int64, views: ProjectionStore,
                        events: [RecordedEvent]) throws -> [ViewChange] {
        // "Aggregate.Type" names grouped by aggregate, so the filter allocates nothing per event
        var wanted: [String: Set<String>] = [:]
        for name in projection.events {
            guard let dot = name.firstIndex(of: ".") else { continue }
            wanted[String(name[..<dot]), default: []].insert(String(name[name.index(after: dot)...]))
        }
        // The page as one JSON array, written into one buffer (this runs once per event of a catch-up).
        var page: [UInt8] = [UInt8(ascii: "[")]
        page.reserveCapacity(events.count * 256)
        var rows = 0
        for event in events where wanted[event.stream.aggregate]?.contains(event.type) == true {
            if rows > 0 { page.append(UInt8(ascii: ",")) }
            Self.appendFeedRow(event, to: &page)
            rows += 1
        }
        guard rows > 0 else { return [] }
        page.append(UInt8(ascii: "]"))
        let rowsJSON = String(decoding: page, as: UTF8.self)
        projectionReads = (views, projection.name, generation)
        projectionReadFailure = nil
        defer { projectionReads = nil }
        let result: [LuaHost.Value]
        do {
            result = try host.invoke("project", phase: .replay, label: "projection \(projection.name)",
                                     args: [.string(projection.name), .json(rowsJSON)], results: [.string])
        } catch {
            if let storeFailure = projectionReadFailure { throw storeFailure }
            throw error
        }
        guard case .string(let framed) = result[0] else { return [] }
        return try Self.viewChanges(framed)
    }

    /// The current projections of the loaded script (after a reload too).
    public var projections: [ProjectionInfo] { domain.projections }

    /// `view:get(key)` from Lua: the stored document as a JSON string literal holding its text, or null.
    func viewDocumentForLua(_ argument: String) -> Result<String, EngineError> {
        guard let reads = projectionReads else {
            return .failure(.invalid("view_closed", "views are only readable while a projection handler runs"))
        }
        do {
            let key = try Self.unquote(argument)
            let document = try reads.store.viewDocument(projection: reads.name, generation: reads.generation, key: key)
            return .success(document.map(JSONText.quote) ?? "null")
        } catch let error as EngineError {
            return .failure(error)
        } catch {
            projectionReadFailure = error
            return .failure(EngineError(kind: .script, code: "store", message: "reading view \(reads.name): \(error)"))
        }
    }

    /// One feed row as the Lua side reads it: `{"p","a","k","v","t","s","r","d","m"}` (short names).
    static func appendFeedRow(_ e: RecordedEvent, to out: inout [UInt8]) {
        func raw(_ text: String) { out.append(contentsOf: text.utf8) }
        raw("{\"p\":")
        raw(String(e.position))
        raw(",\"a\":")
        raw(JSONText.quote(e.stream.aggregate))
        raw(",\"k\":")
        raw(JSONText.quote(e.stream.key))
        raw(",\"v\":")
        raw(String(e.version))
        raw(",\"t\":")
        raw(JSONText.quote(e.type))
        raw(",\"s\":")
        raw(String(e.schema))
        raw(",\"r\":")
        raw(String(e.recordedAt))
        raw(",\"d\":")
        raw(e.data)
        raw(",\"m\":")
        raw(e.meta.isEmpty ? "{}" : e.meta)
        out.append(UInt8(ascii: "}"))
    }

    /// Parses the records `engine.project` returns: `<key length>:<document length or -1>:<key><document>`.
    static func viewChanges(_ framed: String) throws -> [ViewChange] {
        var changes: [ViewChange] = []
        let bytes = Array(framed.utf8)
        var i = 0
        func number() throws -> Int {
            var negative = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
            var n = 0
            let start = i
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39, i - start < 12 {
                n = n * 10 + Int(bytes[i] - 0x30)
                i += 1
            }
            guard i > start, i < bytes.count, bytes[i] == UInt8(ascii: ":") else {
                throw EngineError(kind: .script, code: "bad_view_changes", message: "malformed view changes at byte \(i)")
            }
            i += 1
            return negative ? -n : n
        }
        while i < bytes.count {
            let keyLength = try number()
            let documentLength = try number()
            let documentBytes = max(documentLength, 0)
            guard keyLength >= 0, i + keyLength + documentBytes <= bytes.count else {
                throw EngineError(kind: .script, code: "bad_view_changes", message: "truncated view changes at byte \(i)")
            }
            let key = String(decoding: bytes[i..<(i + keyLength)], as: UTF8.self)
            i += keyLength
            let document = documentLength < 0 ? nil : String(decoding: bytes[i..<(i + documentBytes)], as: UTF8.self)
            i += documentBytes
            changes.append(ViewChange(key: key, document: document))
        }
        return changes
    }

    /// The string of a JSON string literal.
    static func unquote(_ literal: String) throws -> String {
        let utf8 = literal.utf8
        if utf8.count >= 2, utf8.first == 0x22, utf8.last == 0x22, !utf8.contains(0x5C) {
            return String(literal.dropFirst().dropLast())
        }
        guard let value = try JSONSerialization.jsonObject(with: Data(utf8), options: .fragmentsAllowed) as? String else {
            throw EngineError.invalid("bad_view_key", "a view key must be a string")
        }
        return value
    }
}
