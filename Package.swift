// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "LuaES",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "LuaES", targets: ["LuaES"]),
        .executable(name: "esrun", targets: ["esrun"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        // Store middleware metrics (counters and timers); no dependencies of its own.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        // No default traits: the server needs neither swift-configuration nor full Foundation.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // TLS for the Redis snapshot store; already in the graph through postgres-nio.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // The DynamoDB store: HTTPS to the DynamoDB JSON API, SHA-256 and HMAC for SigV4.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLua",
            pkgConfig: "lua5.4",
            providers: [.apt(["liblua5.4-dev"])]
        ),
        .target(
            name: "CLuaShim",
            dependencies: ["CLua"],
            // the prelude's .lua files are compiled in with #embed (prelude.c), which needs C23
            exclude: ["prelude"],
            cSettings: [.unsafeFlags(["-O2", "-std=gnu23"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // libmongoc (the MongoDB store); shim.h keeps bson_t, a 128-byte aligned struct, on the C side.
        .systemLibrary(
            name: "CMongoc",
            pkgConfig: "libmongoc-1.0",
            providers: [.apt(["libmongoc-dev", "libbson-dev"])]
        ),
        .systemLibrary(
            name: "CLibEdit",
            providers: [.apt(["libedit-dev"])]
        ),
        // The layers, bottom up (ARCHITECTURE.md): a target may use only the ones below it.
        // What every layer shares: the error table, JSON text, the replay page, a wake loop.
        .target(name: "LuaESCore"),
        // Stores: protocols, records, in-memory and SQLite stores, store middleware. No Lua.
        .target(
            name: "LuaESStore",
            dependencies: [
                "LuaESCore", "CSQLite",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // The Lua runtime: host, sandbox, prelude, the typed boundary. No store, no engine.
        .target(name: "LuaESScripting", dependencies: ["LuaESCore", "CLuaShim"]),
        // The engine: commands, hydration, cache, workers, projections, publishing.
        .target(
            name: "LuaES",
            dependencies: [
                "LuaESCore", "LuaESStore", "LuaESScripting",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Lua the tools write out (the bench's domain, wrk's script), compiled in with #embed.
        .target(name: "CToolScripts", exclude: ["lua"], cSettings: [.unsafeFlags(["-std=gnu23"])]),
        // Tools on the engine: REPL (libedit), specs, verify, bench.
        .target(
            name: "LuaESTools",
            dependencies: [
                "LuaES", "LuaESCore", "LuaESStore", "LuaESScripting", "CLibEdit", "CToolScripts",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The HTTP server: its own target so the core builds and tests without NIO.
        .target(
            name: "LuaESServer",
            dependencies: [
                "LuaES", "LuaESCore", "LuaESStore", "LuaESScripting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The PostgreSQL store: its own target so the core builds and tests without NIO.
        .target(
            name: "LuaESPostgres",
            dependencies: [
                "LuaESCore", "LuaESStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Snapshots in Redis: a small RESP2 client of our own on SwiftNIO and NIOSSL.
        .target(
            name: "LuaESRedis",
            dependencies: [
                "LuaESCore", "LuaESStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The DynamoDB store (events and snapshots) over DynamoDB's JSON HTTP API, SigV4 signed.
        .target(
            name: "LuaESDynamo",
            dependencies: [
                "LuaESCore", "LuaESStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The MongoDB store (events and snapshots) on libmongoc's client pool; no transactions needed.
        .target(
            name: "LuaESMongo",
            dependencies: [
                "LuaESCore", "LuaESStore", "CMongoc",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "esrun",
            dependencies: [
                "LuaES", "LuaESCore", "LuaESStore", "LuaESScripting", "LuaESTools", "LuaESServer", "LuaESPostgres",
                "LuaESRedis", "LuaESDynamo", "LuaESMongo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "store-probe", dependencies: [
            "LuaES", "LuaESCore", "LuaESStore", "LuaESPostgres", "LuaESRedis", "LuaESDynamo",
            // pg-latency times postgres-nio without the store around it
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Helpers the test targets share (temporary folders, engines from source text).
        .target(
            name: "LuaESTestSupport",
            dependencies: ["LuaES", "LuaESCore", "LuaESStore"],
            path: "Tests/LuaESTestSupport"
        ),
        // The store contract against every store, PostgreSQL included (the only test target with NIO below the CLI).
        .testTarget(name: "LuaESStoreTests", dependencies: [
            "LuaESCore", "LuaESStore", "LuaESPostgres", "LuaESRedis", "LuaESDynamo", "LuaESMongo", "store-probe", "LuaESTestSupport",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The engine and the Lua runtime: no NIO, libedit or wrk.
        .testTarget(name: "LuaESTests", dependencies: [
            "LuaES", "LuaESCore", "LuaESStore", "LuaESScripting", "LuaESTestSupport",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // The Redis snapshot store: its client, its errors, and engines over it while Redis goes down.
        .testTarget(name: "LuaESRedisTests", dependencies: [
            "LuaESRedis", "LuaES", "LuaESCore", "LuaESStore", "LuaESTestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "LuaESScriptingTests", dependencies: ["LuaESScripting", "LuaESCore"]),
        .testTarget(name: "LuaESToolsTests", dependencies: [
            "LuaESTools", "LuaES", "LuaESCore", "LuaESStore", "LuaESScripting", "LuaESTestSupport",
        ]),
        .testTarget(name: "esrunTests", dependencies: [
            "esrun", "LuaES", "LuaESCore", "LuaESStore", "LuaESServer", "LuaESTools", "LuaESTestSupport", "LuaESRedis", "LuaESMongo",
        ], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
