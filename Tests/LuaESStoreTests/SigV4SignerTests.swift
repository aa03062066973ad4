import Foundation
import LuaESCore
@testable import LuaESDynamo
import Testing

/// SigV4 against published signatures: AWS's test suite vector `get-vanilla`, and a DynamoDB
/// POST with a session token signed by botocore (`SigV4Auth`, same credentials and time).
@Suite("SigV4 signing")
struct SigV4SignerTests {
    let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    let date = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z

    @Test func awsGetVanillaVector() {
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "service")
        let added = signer.sign(method: "GET", path: "/", headers: [("Host", "example.amazonaws.com")], body: Data(), date: date)
        #expect(added.first { $0.0 == "x-amz-date" }?.1 == "20150830T123600Z")
        #expect(added.first { $0.0 == "authorization" }?.1 == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            + "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    @Test func dynamoPostWithSessionTokenMatchesBotocore() {
        var withToken = credentials
        withToken.sessionToken = "TOKEN"
        let signer = SigV4Signer(credentials: withToken, region: "us-east-1", service: "dynamodb")
        let headers = [("Host", "dynamodb.us-east-1.amazonaws.com"), ("Content-Type", "application/x-amz-json-1.0"),
                       ("X-Amz-Target", "DynamoDB_20120810.DescribeTable")]
        let added = signer.sign(method: "POST", path: "/", headers: headers, body: Data(#"{"TableName":"t"}"#.utf8), date: date)
        #expect(added.first { $0.0 == "x-amz-security-token" }?.1 == "TOKEN")
        #expect(added.first { $0.0 == "authorization" }?.1 == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/dynamodb/aws4_request, "
            + "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, "
            + "Signature=80f2b22a0580a8047e77de585198a21b1773f4b450f5d534ccb0a5f0c2072ce1")
    }

    @Test func anotherBodyOrKeyChangesTheSignature() {
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "dynamodb")
        func signature(_ signer: SigV4Signer, _ body: String) -> String? {
            signer.sign(method: "POST", path: "/", headers: [("host", "h")], body: Data(body.utf8), date: date)
                .first { $0.0 == "authorization" }?.1
        }
        var other = signer
        other.credentials.secretAccessKey = "different"
        #expect(signature(signer, "{}") != signature(signer, "{ }"))
        #expect(signature(signer, "{}") != signature(other, "{}"))
    }
}

@Suite("DynamoDB URLs")
struct DynamoURLTests {
    let environment = ["AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "eu-west-1"]

    @Test func readsEveryParameter() throws {
        let configuration = try DynamoStoreConfiguration(
            url: "dynamodb://My.Events-1?region=us-east-2&endpoint=http://127.0.0.1:8000&create=true&feed_shards=8&timeout=2.5",
            environment: environment)
        #expect(configuration.table == "My.Events-1")
        #expect(configuration.region == "us-east-2")
        #expect(configuration.endpoint.absoluteString == "http://127.0.0.1:8000")
        #expect(configuration.create)
        #expect(configuration.feedShards == 8)
        #expect(configuration.timeout == .milliseconds(2500))
        #expect(configuration.credentials == AWSCredentials(accessKeyID: "id", secretAccessKey: "secret"))
        #expect(!configuration.displayName.contains("secret"))
    }

    @Test func regionAndEndpointDefaults() throws {
        let plain = try DynamoStoreConfiguration(url: "dynamodb://events", environment: environment)
        #expect(plain.region == "eu-west-1")
        #expect(plain.endpoint.absoluteString == "https://dynamodb.eu-west-1.amazonaws.com")
        #expect(!plain.create)
        var fallback = environment
        fallback["AWS_REGION"] = nil
        fallback["AWS_DEFAULT_REGION"] = "ap-south-1"
        fallback["AWS_SESSION_TOKEN"] = "tok"
        let other = try DynamoStoreConfiguration(url: "dynamodb://events", environment: fallback)
        #expect(other.region == "ap-south-1")
        #expect(other.credentials.sessionToken == "tok")
    }

    @Test(arguments: [
        "postgres://x/y", "dynamodb://", "dynamodb://ab", "dynamodb://bad name", "dynamodb://t_1/path",
        "dynamodb://events?colour=blue", "dynamodb://events?create=maybe", "dynamodb://events?feed_shards=0",
        "dynamodb://events?feed_shards=17", "dynamodb://events?endpoint=ftp://x", "dynamodb://events?endpoint=nothing",
        "dynamodb://events?region=", "dynamodb://events?timeout=-1", "not a url",
    ])
    func badURLsAreBadURL(_ url: String) {
        let error = #expect(throws: InputError.self) { try DynamoStoreConfiguration(url: url, environment: environment) }
        #expect(error?.code == "bad_url")
    }

    @Test func missingRegionOrCredentialsSayWhichVariable() {
        var noRegion = environment
        noRegion["AWS_REGION"] = nil
        let region = #expect(throws: InputError.self) { try DynamoStoreConfiguration(url: "dynamodb://events", environment: noRegion) }
        #expect(region?.message.contains("AWS_REGION") == true)
        var noKey = environment
        noKey["AWS_SECRET_ACCESS_KEY"] = nil
        let key = #expect(throws: InputError.self) { try DynamoStoreConfiguration(url: "dynamodb://events", environment: noKey) }
        #expect(key?.message.contains("AWS_SECRET_ACCESS_KEY") == true)
    }
}
