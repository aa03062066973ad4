/// What a loaded script declares: its aggregates, commands and event types (the registry).
public struct DomainInfo: Sendable, Codable, Equatable {
    public var aggregates: [AggregateInfo]
    /// Read models built from the global feed (`projection(...)` in the script).
    public var projections: [ProjectionInfo]

    public init(aggregates: [AggregateInfo] = [], projections: [ProjectionInfo] = []) {
        self.aggregates = aggregates
        self.projections = projections
    }

    public func projection(named name: String) -> ProjectionInfo? {
        projections.first { $0.name == name }
    }

    public func aggregate(named name: String) -> AggregateInfo? {
        aggregates.first { $0.name == name }
    }

    /// Registry entries that cannot work: replay functions for undeclared event types
    /// (likely typos) and declared event types that nothing replays. Reloads refuse a
    /// script with any of these.
    public var consistencyProblems: [String] {
        var problems: [String] = []
        for agg in aggregates {
            for name in agg.undeclaredReplays {
                problems.append("\(agg.name).replay.\(name) replays an event type that is not declared (typo?)")
            }
            for event in agg.events where !event.replay && !agg.ignored.contains(event.name) {
                problems.append("\(agg.name) declares event type \(event.name) but has no replay function for it")
            }
        }
        for projection in projections {
            for name in projection.unknownEvents {
                problems.append("projection \(projection.name) handles \(name), an event type no aggregate declares (typo?)")
            }
        }
        return problems
    }
}

/// One aggregate of the registry.
public struct AggregateInfo: Sendable, Codable, Equatable {
    public var name: String
    /// Events between snapshots; 0 disables them, -1 means the engine's default.
    public var snapshotEvery: Int
    /// Hash of what determines state: `initial`, replay functions, upcasters (ARCHITECTURE.md, "Storage guarantees").
    public var fingerprint: String
    public var commands: [String]
    public var events: [EventTypeInfo]
    /// Replay functions for names that were never declared with `:event` (likely typos).
    public var undeclaredReplays: [String]
    /// Stored event types the aggregate skips on replay.
    public var ignored: [String]
    /// Replay code that can carry state from one replay to the next (captured tables,
    /// assigned upvalues), one readable line each; `esrun check` prints them.
    public var warnings: [String] = []
    /// `on_append` hooks that run for its commands (the script's and the aggregate's own).
    public var appendHooks: Int = 0
    /// `on_load` hooks that check its loaded events.
    public var loadHooks: Int = 0

    enum CodingKeys: String, CodingKey {
        case name, fingerprint, commands, events, ignored, warnings
        case appendHooks = "append_hooks"
        case loadHooks = "load_hooks"
        case snapshotEvery = "snapshot_every"
        case undeclaredReplays = "undeclared_replays"
    }
}

extension AggregateInfo {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        snapshotEvery = try c.decode(Int.self, forKey: .snapshotEvery)
        fingerprint = try c.decode(String.self, forKey: .fingerprint)
        commands = try c.decode([String].self, forKey: .commands)
        events = try c.decode([EventTypeInfo].self, forKey: .events)
        undeclaredReplays = try c.decode([String].self, forKey: .undeclaredReplays)
        ignored = try c.decode([String].self, forKey: .ignored)
        warnings = try c.decodeIfPresent([String].self, forKey: .warnings) ?? []
        appendHooks = try c.decodeIfPresent(Int.self, forKey: .appendHooks) ?? 0
        loadHooks = try c.decodeIfPresent(Int.self, forKey: .loadHooks) ?? 0
    }
}

/// One declared event type.
public struct EventTypeInfo: Sendable, Codable, Equatable {
    public var name: String
    /// Field name -> type ("integer", "string?", ...), when declared.
    public var fields: [String: String]?
    public var version: Int
    public var upcasters: [Int]
    /// Whether a replay function is wired for it.
    public var replay: Bool
    /// Former names of the type: stored events of these types replay as this one (ARCHITECTURE.md, "Evolution").
    public var renamedFrom: [String] = []

    enum CodingKeys: String, CodingKey {
        case name, fields, version, upcasters, replay
        case renamedFrom = "renamed_from"
    }
}

extension EventTypeInfo {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        fields = try c.decodeIfPresent([String: String].self, forKey: .fields)
        version = try c.decode(Int.self, forKey: .version)
        upcasters = try c.decode([Int].self, forKey: .upcasters)
        replay = try c.decode(Bool.self, forKey: .replay)
        renamedFrom = try c.decodeIfPresent([String].self, forKey: .renamedFrom) ?? []
    }
}
