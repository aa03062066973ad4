import Foundation
@testable import LuaESScripting
import Testing

/// The feed rows projections read are valid JSON with every field exactly as given.
@Suite struct FeedRowsTests {
    @Test func rowsHoldEveryFieldExactly() throws {
        var rows = FeedRows()
        rows.append(position: 0, aggregate: "Account", key: "a \"quoted\"\\ key\n", version: Int64.max, type: "Opened",
                    schema: 1, recordedAt: -1, data: #"{"n":1}"#, meta: "")
        rows.append(position: 9_007_199_254_740_993, aggregate: "Ä", key: "k", version: 10, type: "T", schema: 12,
                    recordedAt: 1_733_000_000_000, data: "[]", meta: #"{"command":"x"}"#)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(rows.json.utf8)) as? [[String: Any]])
        #expect(parsed.count == 2)
        #expect((parsed[0]["p"] as? NSNumber)?.int64Value == 0)
        #expect(parsed[0]["k"] as? String == "a \"quoted\"\\ key\n")
        #expect((parsed[0]["v"] as? NSNumber)?.int64Value == Int64.max)
        #expect((parsed[0]["r"] as? NSNumber)?.int64Value == -1)
        #expect((parsed[0]["m"] as? [String: Any])?.isEmpty == true)
        #expect((parsed[1]["p"] as? NSNumber)?.int64Value == 9_007_199_254_740_993)
        #expect(parsed[1]["a"] as? String == "Ä")
        #expect((parsed[1]["s"] as? NSNumber)?.intValue == 12)
        #expect((parsed[1]["m"] as? [String: Any])?["command"] as? String == "x")
        #expect(rows.count == 2)
    }
}
