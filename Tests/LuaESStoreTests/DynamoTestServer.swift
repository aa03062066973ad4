import Foundation
import Logging
import LuaESCore
@testable import LuaESDynamo
@testable import LuaESStore
import LuaESTestSupport

/// The DynamoDB of the tests: moto's server at `ESRUN_TEST_DYNAMODB_ENDPOINT`, which
/// scripts/test.sh sets after starting one (scripts/moto-test-server.sh). Without it the
/// DynamoDB tests are skipped, and this says so on stderr once.
enum DynamoTestServer {
    static let endpoint: String? = {
        let value = ProcessInfo.processInfo.environment["ESRUN_TEST_DYNAMODB_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 }
        if value == nil {
            FileHandle.standardError.write(Data(("DynamoDB tests SKIPPED: ESRUN_TEST_DYNAMODB_ENDPOINT is not set "
                + "(scripts/test.sh starts moto with scripts/moto-test-server.sh)\n").utf8))
        }
        return value
    }()

    static let credentials = AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing")

    /// A table name of its own for each test.
    static func freshTable(_ hint: String = "t") -> String {
        hint + "-" + UUID().uuidString.lowercased()
    }

    static func configuration(table: String, create: Bool = true, shards: Int = 4) throws -> DynamoStoreConfiguration {
        try DynamoStoreConfiguration(table: table, region: "us-east-1", endpoint: URL(string: endpoint ?? "http://127.0.0.1:1"),
                                     create: create, feedShards: shards, timeout: .seconds(5), credentials: credentials)
    }

    /// Deletes a test's table (moto keeps everything in memory until it stops).
    static func drop(table: String) {
        guard let configuration = try? configuration(table: table) else { return }
        let client = DynamoClient(configuration: configuration, logger: Logger(label: "test"))
        defer { client.close() }
        do { _ = try client.call("DeleteTable", ["TableName": table]) } catch {
            if error.code != "ResourceNotFoundException" {
                FileHandle.standardError.write(Data("dropping test table \(table) failed: \(error.description)\n".utf8))
            }
        }
    }
}

extension StoreFactory {
    /// A `DynamoEventStore` on a table named after the test's folder: reopening finds it again.
    static let dynamo = StoreFactory(name: "DynamoEventStore", persists: true, open: { directory in
        try DynamoEventStore(configuration: DynamoTestServer.configuration(table: table(of: directory)))
    }, dispose: { directory in
        DynamoTestServer.drop(table: table(of: directory))
    }, maxAppendBytes: 320_000, keepsViews: false)

    private static func table(of directory: TemporaryDirectory) -> String {
        "t-" + directory.url.lastPathComponent.replacingOccurrences(of: "luaes-tests-", with: "").lowercased()
    }
}
