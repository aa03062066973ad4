import Foundation
import LuaES
import LuaESCore
import LuaESStore

/// Every temporary directory of this test process lives under one folder, removed when the process exits.
private let temporaryRoot: URL = {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("luaes-tests-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(at: temporaryRootForExit) }
    return url
}()

private let temporaryRootForExit = temporaryRoot

/// A fresh temporary directory for one test (removed with the others when the tests end).
public func temporaryDirectory() -> URL {
    let url = temporaryRoot.appendingPathComponent(UUID().uuidString)
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Writes `source` as `name` in a fresh directory and loads it into a new engine.
public func makeEngine(_ source: String, name: String = "domain.lua", options: EngineOptions = EngineOptions(),
                       store: EventStore = InMemoryEventStore(), files: [String: String] = [:]) throws -> Engine {
    let dir = temporaryDirectory()
    for (file, text) in files { try text.write(to: dir.appendingPathComponent(file), atomically: true, encoding: .utf8) }
    let path = dir.appendingPathComponent(name).path
    try source.write(toFile: path, atomically: true, encoding: .utf8)
    let engine = try Engine(store: store, options: options)
    try engine.load(script: path, display: name)
    return engine
}

/// The repository's scripts/ folder.
public let scriptsDirectory: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("scripts")

public func loadExample(_ name: String, store: EventStore = InMemoryEventStore(),
                        options: EngineOptions = EngineOptions()) throws -> Engine {
    let engine = try Engine(store: store, options: options)
    try engine.load(script: scriptsDirectory.appendingPathComponent(name).path, display: name)
    return engine
}

/// Runs `body` and returns the EngineError it throws (nil when it does not throw one; an
/// error of another type is reported as kind `internal`, code `not_an_engine_error`).
public func engineError(_ body: () throws -> Void) -> EngineError? {
    do {
        try body()
        return nil
    } catch let error as EngineError {
        return error
    } catch {
        return EngineError(kind: .internal, code: "not_an_engine_error", message: "\(error)")
    }
}

/// Parses JSON text for assertions (tests only: Foundation is fine here).
public func parse(_ json: String) -> Any? {
    try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed])
}

public func field(_ json: String?, _ name: String) -> Any? {
    guard let json, let object = parse(json) as? [String: Any] else { return nil }
    return object[name]
}
