import ArgumentParser
import Foundation

/// `--format json` (default) or `--format table` (for people).
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case json, table
}

/// Rows of "path  value" for a JSON document, for `--format table`.
func tableRows(_ json: String) -> [(String, String)] {
    guard let value = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed]) else {
        return [("", json)]
    }
    var rows: [(String, String)] = []
    func walk(_ v: Any, _ path: String) {
        if let d = v as? [String: Any], !d.isEmpty {
            for k in d.keys.sorted() { walk(d[k]!, path.isEmpty ? k : path + "." + k) }
        } else if let a = v as? [Any], !a.isEmpty {
            for (i, x) in a.enumerated() { walk(x, path + "[\(i + 1)]") }
        } else {
            rows.append((path, render(v)))
        }
    }
    walk(value, "")
    return rows
}

func render(_ v: Any) -> String {
    if let s = v as? String { return s }
    if v is [String: Any] { return "{}" }
    if v is [Any] { return "[]" }
    if let data = try? JSONSerialization.data(withJSONObject: v, options: [.fragmentsAllowed]) {
        return String(decoding: data, as: UTF8.self)
    }
    return "\(v)"
}

/// Columns padded to their widest cell.
func formatTable(_ header: [String], _ rows: [[String]]) -> String {
    let all = [header] + rows
    let widths = header.indices.map { i in all.map { $0[i].count }.max() ?? 0 }
    return all.map { row in
        row.enumerated().map { i, cell in
            i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }.joined(separator: "\n")
}
