import ArgumentParser
import Foundation
import Logging
import LuaES
import LuaESScripting
import LuaESCore
import LuaESServer
import LuaESStore
import LuaESTools

extension ESRun {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve a domain over HTTP; --watch reloads the rules when the script changes.",
            discussion: """
                Binds 127.0.0.1 unless --host says otherwise. There is no TLS: put a reverse proxy
                (nginx, caddy) in front to terminate TLS, and use --token-file for bearer tokens.
                """)

        @Argument(help: "The domain script.") var script: String

        @Option(help: "Address to bind (127.0.0.1 by default).") var host = "127.0.0.1"
        @Option(help: "Port (0 picks a free one).") var port = 8080
        @Option(help: "Engine threads, each with its own Lua state (default: one per core).") var workers: Int?
        @Flag(help: "Reload the rules when a .lua file in the script's folder changes.") var watch = false
        @Option(help: "Bearer tokens, one per line: TOKEN read|write [Aggregate ...].") var tokenFile: String?
        @Option(help: "Largest request body, in bytes.") var maxBody = 1 << 20
        @Option(help: "Log format: text or json.") var logFormat = "text"
        @Flag(help: "Do not run the script's projections on this node (another node keeps them up to date).")
        var noProjections = false

        @OptionGroup var store: StoreOptions
        @OptionGroup var publishing: PublishOptions

        func validate() throws {
            guard ["text", "json"].contains(logFormat) else { throw ValidationError("--log-format is text or json") }
        }

        func run() async throws {
            let level = Logger.Level(rawValue: store.logLevel) ?? .info
            if logFormat == "json" {
                LoggingSystem.bootstrapOnce { JSONLogHandler(label: $0, level: level) }
            } else {
                LoggingSystem.bootstrapOnce(level: level)
            }
            var configuration = ServerConfiguration(script: script, store: store.location)
            configuration.snapshots = store.snapshotLocation
            configuration.host = host
            configuration.port = port
            configuration.workers = workers ?? ProcessInfo.processInfo.activeProcessorCount
            configuration.watch = watch
            configuration.tokenFile = tokenFile
            configuration.maxBodyBytes = maxBody
            configuration.publish = try publishing.target
            configuration.publishCheckpoint = publishing.publishCheckpoint
            configuration.runProjections = !noProjections
            if level <= .debug {
                configuration.storeMiddleware = [LoggingStoreMiddleware(logger: Logger(label: "esrun.store"))]
            }
            let server: ESRunServer
            do {
                server = try ESRunServer(configuration: configuration, logger: Logger(label: "esrun"))
            } catch {
                throw report(error)
            }
            let banner = "esrun serving \(script) on http://\(host):"
            try await server.run { port in
                print(banner + String(port))
                fflush(nil)
            }
        }
    }
}
