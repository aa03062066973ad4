import Foundation
import LuaESTestSupport

/// Runs the built `esrun` binary as a user would, with a time limit.
struct ESRunProcess {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
        var timedOut: Bool
    }

    /// The built esrun, beside the test bundle.
    static let binary: URL = {
        var folders = [URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()]
        folders += Bundle.allBundles.filter { $0.bundlePath.hasSuffix(".xctest") }.map { $0.bundleURL.deletingLastPathComponent() }
        folders.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug"))
        for folder in folders {
            let candidate = folder.appendingPathComponent("esrun")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        fatalError("esrun binary not found near \(folders.map(\.path)); run swift build first")
    }()

    /// Runs `esrun arguments` in `directory`, feeding `input` on stdin.
    @discardableResult
    static func run(_ arguments: [String], in directory: URL, input: String = "", seconds: Double = 60,
                    executable: URL = binary) throws -> Outcome {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let out = directory.appendingPathComponent(".out-\(UUID().uuidString)")
        let err = directory.appendingPathComponent(".err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try? stdin.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(seconds)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline {
                timedOut = true
                kill(process.processIdentifier, SIGKILL)
                break
            }
            usleep(5_000)
        }
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus,
                       stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                       stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "",
                       timedOut: timedOut)
    }

    /// A fresh working directory (removed when the test process exits) holding copies of the repository's example scripts.
    static func workspace() throws -> URL {
        let dir = temporaryDirectory() // removed with the others when the tests end
        let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts")
        for name in try FileManager.default.contentsOfDirectory(atPath: scripts.path) where name.hasSuffix(".lua") || name.hasSuffix(".json") {
            try FileManager.default.copyItem(at: scripts.appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
        return dir
    }
}
