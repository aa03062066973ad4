import Foundation
import LuaESCore
import LuaESScripting
import LuaESStore

/// A checkpoint in a small text file, replaced atomically (write a temporary file, rename).
public struct FileCheckpoint: PublishCheckpoint {
    public let path: String

    public init(path: String) { self.path = path }

    public func load() throws -> Int64 {
        guard FileManager.default.fileExists(atPath: path) else { return 0 }
        let text = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let position = Int64(text), position >= 0 else {
            throw PublishError.invalid("bad_checkpoint", "publish checkpoint \(path) does not hold a position: \(text.prefix(40))")
        }
        return position
    }

    public func save(_ position: Int64) throws {
        let temporary = path + ".tmp"
        do {
            try (String(position) + "\n").write(toFile: temporary, atomically: false, encoding: .utf8)
        } catch {
            throw PublishError.failed("checkpoint_io", "cannot write publish checkpoint \(path): \(error)")
        }
        guard rename(temporary, path) == 0 else {
            throw PublishError.failed("checkpoint_io", "cannot write publish checkpoint \(path): " + String(cString: strerror(errno)))
        }
    }
}
