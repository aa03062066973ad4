import LuaES
import LuaESCore
import LuaESScripting
import LuaESStore

/// Something `esrun verify` found wrong with one stream.
public struct VerifyProblem: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// Two replays from scratch gave different states: replay depends on something besides the events.
        case nondeterministic = "replays disagree"
        /// A snapshot made by this script's replay code holds another state than a replay from scratch.
        case wrongSnapshot = "wrong snapshot"
        /// Replay itself failed (a script error, a missing replay function...).
        case replayFailed = "replay failed"
    }

    public var kind: Kind
    public var stream: StreamID
    /// The version the states were compared at.
    public var version: Int64
    /// A readable diff or the error, one line each.
    public var details: [String]

    /// `wrong snapshot: Counter/c1 at version 10`.
    public var headline: String {
        "\(kind.rawValue): aggregate \(stream.aggregate), key \(stream.key), at version \(version)"
    }
}

/// What a run of `esrun verify` covered and found.
public struct VerifyReport: Sendable, Equatable {
    /// Streams replayed and compared.
    public var verified = 0
    /// Snapshots whose fingerprint matches the script, compared with a replay.
    public var snapshotsChecked = 0
    /// Snapshots made by other replay code (the engine ignores them too).
    public var snapshotsIgnored = 0
    /// Streams of aggregates the script does not define, by aggregate.
    public var skipped: [String: Int] = [:]
    public var problems: [VerifyProblem] = []

    /// `12 streams verified, 0 problems (3 snapshots checked)`.
    public var summary: String {
        var notes = ["\(snapshotsChecked) snapshot\(snapshotsChecked == 1 ? "" : "s") checked"]
        if snapshotsIgnored > 0 { notes.append("\(snapshotsIgnored) from other replay code ignored") }
        let skippedCount = skipped.values.reduce(0, +)
        if skippedCount > 0 {
            notes.append("\(skippedCount) stream\(skippedCount == 1 ? "" : "s") of unknown aggregates skipped: "
                + skipped.keys.sorted().joined(separator: ", "))
        }
        return "\(verified) streams verified, \(problems.count) problem\(problems.count == 1 ? "" : "s") (\(notes.joined(separator: "; ")))"
    }
}
