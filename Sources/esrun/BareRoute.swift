import ArgumentParser
import Foundation
import LuaESServer

extension ESRun {
    /// `esrun bare-route`: the bench's HTTP ceiling (a route with nothing behind it). Hidden: a
    /// measuring tool, not a user command.
    struct BareRoute: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bare-route",
            abstract: "Serve a POST route that answers without doing anything (the bench's HTTP ceiling).",
            shouldDisplay: false)

        @Option(help: "Address to listen on.") var host = "127.0.0.1"
        @Option(help: "Port (0 picks a free one).") var port = 0

        func run() async throws {
            let banner = "esrun bare route on http://\(host):"
            try await BareRouteServer.run(host: host, port: port) { port in
                print(banner + String(port))
                fflush(nil)
            }
        }
    }
}
