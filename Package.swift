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
        .systemLibrary(
            name: "CLibEdit",
            providers: [.apt(["libedit-dev"])]
        ),
        .target(
            name: "LuaES",
            dependencies: [
                "CLuaShim", "CSQLite", "CLibEdit",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // The HTTP server: its own target so the core builds and tests without NIO.
        .target(
            name: "LuaESServer",
            dependencies: [
                "LuaES",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The PostgreSQL store: its own target so the core builds and tests without NIO.
        .target(
            name: "LuaESPostgres",
            dependencies: [
                "LuaES",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "esrun",
            dependencies: [
                "LuaES", "LuaESServer", "LuaESPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "store-probe", dependencies: ["LuaES", "LuaESPostgres"]),
        .testTarget(name: "LuaESTests", dependencies: [
            "LuaES", "LuaESPostgres", "store-probe", .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        .testTarget(name: "esrunTests", dependencies: ["esrun", "LuaES", "LuaESServer"]),
    ],
    swiftLanguageModes: [.v6]
)
