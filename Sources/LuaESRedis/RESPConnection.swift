import NIOCore
import NIOPosix
import NIOSSL

/// No reply within the timeout: the connection is closed (later replies would be misread).
struct RESPTimeout: Error, CustomStringConvertible {
    let timeout: Duration
    var description: String { "no reply within \(timeout)" }
}

/// One connection to a Redis server, shared by any number of threads: `send` blocks its
/// caller until the reply comes, and callers' commands are pipelined.
///
/// Calls block, so they must not run on an event-loop thread (NIO's `wait()` checks that).
final class RESPConnection: Sendable {
    let channel: any Channel
    let timeout: Duration

    private init(channel: any Channel, timeout: Duration) {
        self.channel = channel
        self.timeout = timeout
    }

    var isActive: Bool { channel.isActive }

    /// Connects to `host:port`, with TLS when `tls` is given.
    /// - Throws: NIO's connect error, `ChannelError.connectTimeout`.
    static func connect(host: String, port: Int, tls: NIOSSLContext?, timeout: Duration,
                        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws -> RESPConnection {
        // SNI takes a name only; for an IP address NIOSSL checks the certificate against the address.
        let serverName: String? = isIPAddress(host) ? nil : host
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(timeout))
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls {
                        try pipeline.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName))
                    }
                    try pipeline.addHandler(ByteToMessageHandler(RESPDecoder()))
                    try pipeline.addHandler(RESPRequestHandler())
                }
            }
        let channel = try bootstrap.connect(host: host, port: port).wait()
        return RESPConnection(channel: channel, timeout: timeout)
    }

    /// Sends `command` and waits for its reply; an error reply (`-ERR ...`) is returned, not thrown.
    /// - Throws: `RESPConnectionLost`, `RESPTimeout`, a TLS or protocol error: the
    ///   connection is then closed.
    func send(_ command: RESPCommand) throws -> RESPValue {
        let channel = self.channel
        let reply = channel.eventLoop.makePromise(of: RESPValue.self)
        let timeout = self.timeout
        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            reply.fail(RESPTimeout(timeout: timeout))
            channel.close(promise: nil)
        }
        reply.futureResult.whenComplete { _ in timer.cancel() }
        channel.writeAndFlush(RESPRequest(command: command, reply: reply)).whenFailure { error in
            reply.fail(error)
            channel.close(promise: nil)
        }
        return try reply.futureResult.wait()
    }

    func close() {
        channel.close(promise: nil)
    }

    static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}
