import LuaESCore
import LuaESScripting
import LuaESStore

/// Where a projection stands, computed from the store and the loaded script: for
/// `/health`, `esrun check` and the REPL. Any process can compute it; no runner is asked.
public struct ProjectionStatus: Sendable, Equatable {
    public enum State: String, Sendable {
        /// Active, at the head of the feed.
        case live
        /// Active, behind the head (catching up, or following a busy feed).
        case catchingUp = "catching_up"
        /// The loaded code builds a new generation beside the active one.
        case rebuilding
        /// A handler failed; the projection waits for a reload.
        case failed
        /// Nothing stored yet for the loaded code (no runner has prepared it).
        case notStarted = "not_started"
    }

    public var name: String
    public var state: State
    /// The generation queries read, and its position and lag behind the head.
    public var active: ProjectionGeneration?
    /// The generation the loaded code builds, when it is not the active one.
    public var building: ProjectionGeneration?
    public var head: Int64
    /// The stored failure (JSON text), when `state` is `failed`.
    public var failure: String?

    public var lag: Int64 { max(head - (active?.position ?? 0), 0) }

    /// The status of every projection of `domain`.
    public static func all(domain: DomainInfo, store: ProjectionStore) throws -> [ProjectionStatus] {
        let head = try store.headPosition()
        let generations = try store.projectionGenerations(named: nil)
        return domain.projections.map { projection in
            let mine = generations.filter { $0.name == projection.name }
            let current = Projector.current(projection, in: mine)
            let active = mine.first(where: \.isActive)
            let state: State
            if current == nil {
                state = .notStarted
            } else if current?.failure != nil {
                state = .failed
            } else if current?.isActive == true {
                state = (current?.position ?? 0) >= head ? .live : .catchingUp
            } else {
                state = .rebuilding
            }
            return ProjectionStatus(name: projection.name, state: state, active: active,
                                    building: current?.isActive == false ? current : nil, head: head, failure: current?.failure)
        }
    }

    /// `{"name", "state", "generation", "position", "head", "lag", "rebuilding", "failure"}` as JSON text.
    public var json: String {
        var members: [(String, String)] = [
            ("name", JSONText.quote(name)), ("state", JSONText.quote(state.rawValue)),
            ("generation", active.map { String($0.generation) } ?? "null"),
            ("position", String(active?.position ?? 0)), ("head", String(head)), ("lag", String(lag)),
        ]
        members.append(("rebuilding", building.map { b in
            JSONText.object([("generation", String(b.generation)), ("position", String(b.position)),
                             ("lag", String(max(head - b.position, 0)))])
        } ?? "null"))
        members.append(("failure", failure ?? "null"))
        return JSONText.object(members)
    }

    /// One line for people: `Balances: live at 1200 (lag 0)`.
    public var summary: String {
        var line = "\(name): \(state.rawValue.replacingOccurrences(of: "_", with: " "))"
        if let active { line += " at \(active.position) of \(head) (lag \(lag), generation \(active.generation))" }
        if let building { line += "; building generation \(building.generation) at \(building.position)" }
        if let failure { line += "; failure: \(failure)" }
        return line
    }
}
