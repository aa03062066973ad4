import NIOCore

/// A command and the promise of its reply, as written into a connection's pipeline.
struct RESPRequest: Sendable {
    let command: RESPCommand
    let reply: EventLoopPromise<RESPValue>
}

/// The connection went away before the reply came (the server restarted or closed it).
struct RESPConnectionLost: Error, CustomStringConvertible {
    var description: String { "the connection was closed" }
}

/// Pairs replies with requests in order: Redis answers the commands of a connection in
/// the order they were sent, so many callers can share one connection (pipelining). When
/// the connection fails or closes, every waiting request fails with the reason, and so does
/// every later one.
final class RESPRequestHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RESPRequest
    typealias OutboundOut = ByteBuffer

    private var waiting = CircularBuffer<EventLoopPromise<RESPValue>>()
    private var failure: (any Error)?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            request.reply.fail(failure)
            promise?.fail(failure)
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        request.command.encode(into: &buffer)
        waiting.append(request.reply)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        guard let next = waiting.popFirst() else {
            failAll(RESPProtocolError(description: "a reply that no command asked for"))
            context.close(promise: nil)
            return
        }
        next.succeed(value)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(RESPConnectionLost())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: any Error) {
        if failure == nil { failure = error }
        while let promise = waiting.popFirst() { promise.fail(failure ?? error) }
    }
}
