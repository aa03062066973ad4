import ArgumentParser
import Foundation
import Logging
import LuaES
import LuaESScripting
import LuaESCore
import LuaESDynamo
import LuaESMongo
import LuaESPostgres
import LuaESStore
import LuaESTools

/// Flags every subcommand shares: where the events are, and how much to log.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "SQLite database file.")
    var db: String = "esrun.db"

    @Flag(name: .long, help: "Keep events in memory only (nothing is written).")
    var memory = false

    @Flag(name: .long, help: "Sync every commit to disk (SQLite synchronous=FULL); survives power loss.")
    var durable = false

    @Option(name: .long, help: ArgumentHelp(
        "PostgreSQL database shared by several esrun processes, instead of SQLite.",
        discussion: "postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME&pool=N&connect_timeout=S&statement_timeout=S&sslmode=MODE&sslrootcert=PATH]",
        valueName: "url"))
    var postgres: String?

    @Option(name: .long, help: ArgumentHelp(
        "Keep snapshots in a store of their own (Redis, DynamoDB, MongoDB) instead of the event store.",
        discussion: "redis://[USER:PASSWORD@]HOST[:PORT][/DB][?prefix=NAME&ttl=SECONDS&connect_timeout=S&pool=N]; "
            + "rediss://... for TLS, with tls_ca=PATH and tls_verify=full|none. A snapshot store that is down "
            + "never fails a command: loads replay the events. dynamodb://TABLE?... as for --dynamodb; "
            + "mongodb://HOST/DATABASE?... as for --mongodb.",
        valueName: "url"))
    var snapshots: String?

    @Option(name: .long, help: ArgumentHelp(
        "DynamoDB table shared by several esrun processes, instead of SQLite.",
        discussion: "dynamodb://TABLE[?region=R&endpoint=URL&create=true&feed_shards=N]; credentials from "
            + "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN; region from AWS_REGION",
        valueName: "url"))
    var dynamodb: String?

    @Option(name: .long, help: ArgumentHelp(
        "MongoDB database shared by several esrun processes, instead of SQLite (no replica set needed).",
        discussion: "mongodb://[USER:PASSWORD@]HOST[:PORT]/DATABASE[?tls=true&tlsCAFile=PATH&authSource=DB&...]: "
            + "a MongoDB connection string naming the database",
        valueName: "url"))
    var mongodb: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "warning"

    var location: StoreLocation {
        if let postgres {
            // validate() has checked the URL; should it fail anyway, opening reports why.
            do { return try .postgres(url: postgres) } catch { return .external(name: "postgres") { throw error } }
        }
        if let dynamodb {
            do { return try .dynamodb(url: dynamodb) } catch { return .external(name: "dynamodb") { throw error } }
        }
        if let mongodb {
            do { return try .mongodb(url: mongodb) } catch { return .external(name: "mongodb") { throw error } }
        }
        return memory ? .memory : .sqlite(path: db, durability: durable ? .full : .normal)
    }

    var snapshotLocation: SnapshotLocation {
        guard let snapshots else { return .eventStore }
        // validate() has checked the URL; should it fail anyway, opening reports why.
        do { return try SnapshotSchemes.location(url: snapshots) } catch { return .external(name: "snapshots") { throw error } }
    }

    func validate() throws {
        if let snapshots {
            do { _ = try SnapshotSchemes.location(url: snapshots) } catch { throw ValidationError("\(error)") }
        }
        if let postgres {
            guard !memory else { throw ValidationError("--memory and --postgres exclude each other") }
            do { _ = try StoreLocation.postgres(url: postgres) } catch { throw ValidationError("\(error)") }
        }
        if let dynamodb {
            guard !memory else { throw ValidationError("--memory and --dynamodb exclude each other") }
            guard postgres == nil else { throw ValidationError("--postgres and --dynamodb exclude each other") }
            do { _ = try StoreLocation.dynamodb(url: dynamodb) } catch { throw ValidationError("\(error)") }
        }
        if let mongodb {
            guard !memory else { throw ValidationError("--memory and --mongodb exclude each other") }
            guard postgres == nil else { throw ValidationError("--postgres and --mongodb exclude each other") }
            guard dynamodb == nil else { throw ValidationError("--dynamodb and --mongodb exclude each other") }
            do { _ = try StoreLocation.mongodb(url: mongodb) } catch { throw ValidationError("\(error)") }
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("unknown log level '\(logLevel)'")
        }
    }

    /// Opens the store alone, for commands that read events without running Lua (`tail`).
    /// Like every command, creates the SQLite file when it is missing.
    func openStore() throws -> EventStore {
        LoggingSystem.bootstrapOnce(level: Logger.Level(rawValue: logLevel) ?? .warning)
        let events = try location.open()
        let store: EventStore
        do {
            store = try snapshotLocation.route(events, logger: Logger(label: "esrun.snapshots"))
        } catch {
            try? events.close()  // the snapshot store's error is the one to report
            throw error
        }
        if let level = Logger.Level(rawValue: logLevel), level <= .debug {
            // appends and loads with their streams, versions and durations (README: Store middleware)
            return MiddlewareEventStore(base: store, middleware: [LoggingStoreMiddleware(logger: Logger(label: "esrun.store"))])
        }
        return store
    }

    /// Opens the store and an engine with `script` loaded (as a domain) when given.
    func makeEngine(domain script: String?) throws -> Engine {
        let engine = try Engine(store: openStore(), logger: Logger(label: "esrun"))
        if let script { try engine.load(script: script, display: script) }
        return engine
    }
}

extension LoggingSystem {
    nonisolated(unsafe) private static var bootstrapped = false

    /// swift-log allows one bootstrap per process; commands call this once, at start.
    static func bootstrapOnce(level: Logger.Level) {
        bootstrapOnce { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    static func bootstrapOnce(_ factory: @escaping @Sendable (String) -> any LogHandler) {
        guard !bootstrapped else { return }
        bootstrapped = true
        bootstrap(factory)
    }
}
