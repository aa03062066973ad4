import Foundation
import LuaESStore

/// Checks (and with `create=true` creates) the table both DynamoDB stores use, and turns
/// failed calls into `StoreError`s that say what was being done where.
struct DynamoTable: Sendable {
    let client: DynamoClient
    var name: String { client.configuration.table }

    /// Makes sure the table exists with esrun's key schema (`p` string, `s` number), creating it
    /// on demand when the configuration says `create`, and waits until it is active.
    /// - Throws: `StoreError.invalid` when it is missing without `create=true` or has another key;
    ///   `StoreError.io` when DynamoDB cannot be reached.
    func prepare() throws(StoreError) {
        var description: [String: Any]
        do {
            description = try client.call("DescribeTable", ["TableName": name])
        } catch let failure where failure.code == "ResourceNotFoundException" {
            guard client.configuration.create else {
                throw StoreError.invalid("DynamoDB table \(name) does not exist (region \(client.configuration.region), "
                    + "endpoint \(client.configuration.endpoint.absoluteString)): create it, or add create=true to the "
                    + "URL (dynamodb://\(name)?create=true) to have esrun create it")
            }
            description = try create()
        } catch {
            throw self.error(error, while: "opening table \(name)")
        }
        var table = description["Table"] as? [String: Any] ?? [:]
        let keys = (table["KeySchema"] as? [[String: Any]] ?? []).map { "\($0["AttributeName"] ?? "")/\($0["KeyType"] ?? "")" }
        guard keys.sorted() == ["p/HASH", "s/RANGE"] else {
            throw StoreError.invalid("DynamoDB table \(name) is not an esrun table: its key is \(keys.joined(separator: ", ")), "
                + "esrun's is p (string, partition) and s (number, sort)")
        }
        let deadline = Date().addingTimeInterval(120)
        while (table["TableStatus"] as? String) != "ACTIVE" {
            guard Date() < deadline else { throw StoreError.io("DynamoDB table \(name) did not become ACTIVE within 120 s") }
            Thread.sleep(forTimeInterval: 0.5)
            do { table = try client.call("DescribeTable", ["TableName": name])["Table"] as? [String: Any] ?? [:] } catch {
                throw self.error(error, while: "waiting for table \(name)")
            }
        }
    }

    private func create() throws(StoreError) -> [String: Any] {
        let request: [String: Any] = [
            "TableName": name, "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [["AttributeName": "p", "AttributeType": "S"], ["AttributeName": "s", "AttributeType": "N"]],
            "KeySchema": [["AttributeName": "p", "KeyType": "HASH"], ["AttributeName": "s", "KeyType": "RANGE"]],
        ]
        do {
            return ["Table": try client.call("CreateTable", request)["TableDescription"] as? [String: Any] ?? [:]]
        } catch let failure where failure.code == "ResourceInUseException" {
            // Another process created it first.
            do { return try client.call("DescribeTable", ["TableName": name]) } catch { throw self.error(error, while: "opening table \(name)") }
        } catch {
            throw self.error(error, while: "creating table \(name)")
        }
    }

    /// A consistent read of one item; nil when there is none.
    func item(_ p: String, _ s: Int64, while what: String) throws(StoreError) -> [String: Any]? {
        do {
            let answer = try client.call("GetItem", ["TableName": name, "Key": DynamoValue.key(p, s), "ConsistentRead": true])
            return answer["Item"] as? [String: Any]
        } catch {
            throw self.error(error, while: what)
        }
    }

    /// Every item of a consistent query, page after page (`body` holds the key condition).
    func query(_ body: [String: Any], while what: String, stopWhen done: ([[String: Any]]) -> Bool = { _ in false })
        throws(StoreError) -> [[String: Any]] {
        var request = body
        request["TableName"] = name
        request["ConsistentRead"] = true
        var items: [[String: Any]] = []
        while true {
            let answer: [String: Any]
            do { answer = try client.call("Query", request) } catch { throw self.error(error, while: what) }
            items += answer["Items"] as? [[String: Any]] ?? []
            guard let next = answer["LastEvaluatedKey"] as? [String: Any], !done(items) else { return items }
            request["ExclusiveStartKey"] = next
        }
    }

    /// A `StoreError` for a failed call: the place, what was being done, AWS's code and message.
    func error(_ failure: DynamoFailure, while what: String) -> StoreError {
        let endpoint = client.configuration.endpoint.absoluteString
        switch failure {
        case .closed: return .closed
        case .transport(let why):
            return .io("cannot reach DynamoDB at \(endpoint) while \(what): \(why)")
        case .aws:
            return .io("DynamoDB (table \(name) at \(endpoint)): \(what) failed: \(failure.description)")
        }
    }
}
