import Foundation
import Testing

/// A database written by the previous release opens in this one, is upgraded in place, and
/// reads back byte for byte as that release printed it (Fixtures/README.md).
@Suite struct SchemaUpgradeTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    @Test func aSchemaTwoFileReadsTheSameAfterTheUpgrade() async throws {
        let dir = try ESRunProcess.workspace()
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("bank-schema2.db"),
                                         to: dir.appendingPathComponent("esrun.db"))
        let feed = try ESRunProcess.run(["tail"], in: dir, seconds: 60)
        #expect(feed.status == 0, "\(feed.stderr)")
        let expectedFeed = try String(contentsOf: Self.fixtures.appendingPathComponent("bank-schema2-feed.ndjson"), encoding: .utf8)
        #expect(feed.stdout == expectedFeed)
        let history = try ESRunProcess.run(["history", "bank.lua", "Account", "a2"], in: dir, seconds: 60)
        let expectedHistory = try String(contentsOf: Self.fixtures.appendingPathComponent("bank-schema2-a2-history.json"),
                                         encoding: .utf8)
        #expect(history.stdout == expectedHistory, "\(history.stderr)")
        // the upgraded file takes commands and keeps its keys: a repeated key answers with the first
        // commit's events, metadata included, and writes nothing
        let server = try ServerProcess(script: "bank.lua", in: dir)
        let repeated = try await server.post("/Account/a1/open", #"{"owner":"o1","overdraft":100}"#,
                                             headers: ["Idempotency-Key": "open-a1"])
        let first = try #require(expectedFeed.split(separator: "\n").first)
        #expect(repeated.status == 200 && repeated.body.contains(String(first)), "\(repeated.body)")
        let new = try await server.post("/Account/a9/open", #"{"owner":"z"}"#, headers: ["Idempotency-Key": "open-a9"])
        #expect(new.status == 200, "\(new.body)")
        #expect(server.stop() == 0)
        let after = try ESRunProcess.run(["tail"], in: dir, seconds: 60)
        #expect(after.stdout.hasPrefix(expectedFeed) && after.stdout.split(separator: "\n").count == 74)
        let verify = try ESRunProcess.run(["verify", "bank.lua"], in: dir, seconds: 60)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }
}
