import NIOCore
@testable import LuaESRedis
import Testing

@Suite struct RESPDecoderTests {
    private func parseAll(_ text: String) throws -> [RESPValue] {
        var buffer = ByteBuffer(string: text)
        var values: [RESPValue] = []
        while let value = try RESPDecoder.parse(&buffer) { values.append(value) }
        #expect(buffer.readableBytes == 0, "everything consumed")
        return values
    }

    @Test func everyReplyType() throws {
        let values = try parseAll("+OK\r\n-ERR bad\r\n:42\r\n:-7\r\n$5\r\nh\r\nlo\r\n$-1\r\n*-1\r\n*0\r\n*2\r\n$1\r\na\r\n*1\r\n:1\r\n")
        #expect(values == [.simple("OK"), .error("ERR bad"), .integer(42), .integer(-7), .bulk(ByteBuffer(string: "h\r\nlo")),
                           .bulk(nil), .array(nil), .array([]),
                           .array([.bulk(ByteBuffer(string: "a")), .array([.integer(1)])])])
    }

    @Test func aReplySplitAnywhereWaitsForTheRest() throws {
        let whole = "*3\r\n$4\r\n🧾\r\n$-1\r\n+done\r\n"
        let bytes = Array(whole.utf8)
        for cut in 1..<bytes.count {
            var buffer = ByteBuffer(bytes: bytes[..<cut])
            #expect(try RESPDecoder.parse(&buffer) == nil, "cut at \(cut)")
            #expect(buffer.readableBytes == cut, "nothing consumed at \(cut)")
            buffer.writeBytes(bytes[cut...])
            #expect(try RESPDecoder.parse(&buffer) == .array([.bulk(ByteBuffer(string: "🧾")), .bulk(nil), .simple("done")]))
        }
    }

    @Test(arguments: ["?x\r\n", ":abc\r\n", "$-2\r\n", "$3\r\nabcde", "*-5\r\n", "$999999999999\r\n", "+a\rb\r\n",
                      String(repeating: "*1\r\n", count: 20) + ":1\r\n"])
    func badInputThrowsAndNeverCrashes(_ text: String) {
        var buffer = ByteBuffer(string: text)
        #expect(throws: RESPProtocolError.self) { _ = try RESPDecoder.parse(&buffer) }
    }

    @Test func aLineWithoutEndIsRefusedPastTheLimit() {
        var buffer = ByteBuffer(string: "+" + String(repeating: "x", count: RESPDecoder.maxLine + 10))
        #expect(throws: RESPProtocolError.self) { _ = try RESPDecoder.parse(&buffer) }
    }

    @Test func commandsAreArraysOfBinarySafeBulkStrings() {
        var buffer = ByteBuffer()
        RESPCommand("HMGET", "p:snap:2:é:k y", "").encode(into: &buffer)
        #expect(String(buffer: buffer) == "*3\r\n$5\r\nHMGET\r\n$15\r\np:snap:2:é:k y\r\n$0\r\n\r\n")
    }
}
