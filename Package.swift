// swift-tools-version:6.0
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
            cSettings: [.unsafeFlags(["-O2", "-std=gnu11"])]
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
            ]
        ),
        .executableTarget(
            name: "esrun",
            dependencies: [
                "LuaES",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "store-probe", dependencies: ["LuaES"]),
        .testTarget(name: "LuaESTests", dependencies: ["LuaES", "store-probe"]),
        .testTarget(name: "esrunTests", dependencies: ["esrun"]),
    ],
    swiftLanguageModes: [.v6]
)
