import Foundation
import LuaESTools
import Testing

/// Two `esrun serve` nodes on one PostgreSQL database receive the same `Idempotency-Key` at
/// the same moment: the command runs once (the database's `commands` key decides, not a
/// node), and both callers get the committed result.
@Suite("Idempotency keys across nodes")
struct IdempotencyAcrossNodesTests {
    @Test(.enabled(if: ServeOnPostgresTests.url != nil, "needs ESRUN_TEST_POSTGRES_URL (a PostgreSQL server); scripts/test.sh starts one"))
    func twoNodesRunOneKeyOnce() throws {
        let directory = try ESRunProcess.workspace()
        defer { try? FileManager.default.removeItem(at: directory) }  // only litter in the temporary directory is at stake
        try ServeOnPostgresTests.tally.write(to: directory.appendingPathComponent("tally.lua"), atomically: true, encoding: .utf8)
        let database = ServeOnPostgresTests.url! + "?schema=idem_"
            + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        let nodes = try (0..<2).map { _ in
            try RunningServer(executable: ESRunProcess.binary, arguments: ["serve", "tally.lua", "--postgres", database, "--port", "0",
                                                                           "--workers", "2"],
                              directory: directory, log: directory.appendingPathComponent("serve-\(UUID().uuidString).log"))
        }
        defer { for node in nodes { node.stop() } }

        let rounds = 40
        let keys = ["a", "b"]  // two streams, so some rounds meet a conflict first and some a taken key
        var bodies: [[String]] = []
        for round in 0..<rounds {
            let replies = Locked<[Int: HTTP.Response]>([:])
            let start = DispatchSemaphore(value: 0)
            let group = DispatchGroup()
            for node in 0..<2 {
                DispatchQueue.global().async(group: group) {
                    start.wait()
                    let reply = try? HTTP.request("POST", nodes[node].base + "/Tally/\(keys[round % 2])/add",
                                                  body: #"{"n":\#(round)}"#, headers: ["Idempotency-Key": "round-\(round)"])
                    replies.withLock { $0[node] = reply }
                }
            }
            start.signal()
            start.signal()
            group.wait()
            let both = replies.current
            #expect(both[0]?.status == 200 && both[1]?.status == 200, "round \(round): \(both.mapValues(\.status))")
            bodies.append((0..<2).map { String(decoding: both[$0]?.body ?? Data(), as: UTF8.self) })
        }
        for (round, pair) in bodies.enumerated() {
            let versions = pair.map { body in
                ((try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any])?["version"] as? NSNumber
            }
            #expect(versions[0] != nil && versions[0] == versions[1], "round \(round): both callers get one result: \(pair)")
        }
        for key in keys {
            let reply = try HTTP.request("GET", nodes[0].base + "/Tally/\(key)/events?limit=10000")
            let events = (try JSONSerialization.jsonObject(with: reply.body) as? [String: Any])?["events"] as? [[String: Any]] ?? []
            let stored = events.compactMap { (($0["data"] as? [String: Any])?["n"] as? NSNumber)?.intValue }
            let sent = (0..<rounds).filter { keys[$0 % 2] == key }
            #expect(stored == sent, "\(key): each round's command once, in order")
        }
    }
}
