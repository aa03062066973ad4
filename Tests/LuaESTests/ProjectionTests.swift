import Foundation
@testable import LuaES
import LuaESCore
@testable import LuaESScripting
@testable import LuaESStore
import LuaESTestSupport
import Testing

/// Projections (read models) over the global feed: the Lua API, catch-up, rebuilds, failures.
@Suite struct ProjectionTests {
    /// The owners' balances and open-account counts, recomputed from the full history.
    static func recomputeBalances(_ store: EventStore) throws -> [String: (balance: Int, accounts: Int)] {
        var owners: [String: String] = [:]
        var out: [String: (balance: Int, accounts: Int)] = [:]
        var position: Int64 = 0
        while true {
            let page = try store.events(after: position, limit: 1000)
            guard let last = page.last else { break }
            position = last.position
            for e in page where e.stream.aggregate == "Account" {
                let data = parse(e.data) as? [String: Any] ?? [:]
                switch e.type {
                case "Opened":
                    let owner = data["owner"] as! String
                    owners[e.stream.key] = owner
                    out["owner:" + owner, default: (0, 0)].accounts += 1
                case "Deposited": out["owner:" + owners[e.stream.key]!, default: (0, 0)].balance += data["amount"] as! Int
                case "Withdrawn": out["owner:" + owners[e.stream.key]!, default: (0, 0)].balance -= data["amount"] as! Int
                case "Closed": out["owner:" + owners[e.stream.key]!, default: (0, 0)].accounts -= 1
                default: break
                }
            }
        }
        return out
    }

    static func storedBalances(_ views: ProjectionStore) throws -> [String: (balance: Int, accounts: Int)] {
        let active = try #require(try views.projectionGenerations(named: "Balances").first(where: \.isActive))
        var out: [String: (balance: Int, accounts: Int)] = [:]
        for doc in try views.viewDocuments(projection: "Balances", generation: active.generation, prefix: "owner:", after: nil, limit: 100_000) {
            let object = parse(doc.document) as? [String: Any] ?? [:]
            out[doc.key] = (object["balance"] as! Int, object["accounts"] as! Int)
        }
        return out
    }

    /// Random bank traffic: opens, deposits, withdrawals (some refused), closes.
    static func randomTraffic(_ engine: Engine, commands: Int, accounts: Int, seed: UInt64) {
        var rng = SplitMix(seed: seed)
        let owners = ["alice", "bob", "carol", "dave", "erin", "frank", "grace"]
        for _ in 0..<commands {
            let key = "acct-\(rng.next() % UInt64(accounts))"
            let roll = rng.next() % 100
            let (command, args): (String, String) = switch roll {
            case 0..<8: ("open", #"{"owner":"\#(owners[Int(rng.next() % UInt64(owners.count))])","overdraft":\#(rng.next() % 50)}"#)
            case 8..<60: ("deposit", #"{"amount":\#(1 + rng.next() % 500)}"#)
            case 60..<98: ("withdraw", #"{"amount":\#(1 + rng.next() % 400)}"#)
            default: ("close", "{}")
            }
            _ = try? engine.execute(aggregate: "Account", key: key, command: command, args: args)
        }
    }

    @Test func balancesEqualARecomputationAfterThousandsOfRandomCommands() throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteEventStore(path: directory.path("bank.db"))
        defer { try? store.close() }
        let engine = try loadExample("bank.lua", store: store)
        // a runner follows live while the commands run, with small pages to cross many commits
        let runner = ProjectionRunner(pageSize: 37, pollInterval: 0.01) { try loadExample("bank.lua", store: store) }
        runner.start()
        Self.randomTraffic(engine, commands: 4000, accounts: 60, seed: 7)
        runner.stop()
        let followed = try #require(store.projections).projectionGenerations(named: "Balances").first?.position ?? 0
        #expect(followed > 0, "the runner followed the feed while commands ran")
        // whatever the runner had not reached yet, a catch-up finishes
        let projector = try Projector(engine: try loadExample("bank.lua", store: store), pageSize: 37)
        try projector.prepare()
        try projector.catchUp()
        let expected = try Self.recomputeBalances(store)
        let stored = try Self.storedBalances(try #require(store.projections))
        #expect(expected.count > 3)
        #expect(stored.keys.sorted() == expected.keys.sorted())
        for (owner, value) in expected {
            #expect(stored[owner]?.balance == value.balance, "balance of \(owner)")
            #expect(stored[owner]?.accounts == value.accounts, "accounts of \(owner)")
        }
        let status = try ProjectionStatus.all(domain: engine.domain, store: try #require(store.projections))
        #expect(status.map(\.state) == [.live])
        #expect(status.first?.lag == 0)
    }
}

/// A small deterministic generator for test traffic.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
