import Foundation
import LuaES
import LuaESCore
import LuaESScripting
import LuaESStore

extension SpecReport {
    /// The report as JUnit XML (one `<testsuite>` per spec file, one `<testcase>` per scenario,
    /// a `<failure>` holding the failure lines), the format CI systems read.
    public func junitXML() -> String {
        var files: [String] = []
        for outcome in outcomes where !files.contains(outcome.file) { files.append(outcome.file) }
        let total = outcomes.reduce(0) { $0 + $1.seconds }
        var xml = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        xml += #"<testsuites name="esrun test" tests="\#(outcomes.count)" failures="\#(failed)" errors="0" time="\#(Self.seconds(total))">"# + "\n"
        for file in files {
            let cases = outcomes.filter { $0.file == file }
            let failures = cases.filter { !$0.passed }.count
            let time = cases.reduce(0) { $0 + $1.seconds }
            xml += #"  <testsuite name="\#(Self.escape(file))" tests="\#(cases.count)" failures="\#(failures)" errors="0" time="\#(Self.seconds(time))">"# + "\n"
            for c in cases {
                let attributes = #"classname="\#(Self.escape(c.suite))" name="\#(Self.escape(c.name))" time="\#(Self.seconds(c.seconds))""#
                if c.passed {
                    xml += "    <testcase \(attributes)/>\n"
                } else {
                    let first = Self.escape(c.failures.first ?? "failed")
                    xml += "    <testcase \(attributes)>\n"
                    xml += #"      <failure message="\#(first)">\#(Self.escape(c.failures.joined(separator: "\n"), attribute: false))</failure>"# + "\n"
                    xml += "    </testcase>\n"
                }
            }
            xml += "  </testsuite>\n"
        }
        return xml + "</testsuites>\n"
    }

    private static func seconds(_ s: Double) -> String { String(format: "%.3f", s) }

    /// Escapes text for XML attributes (or content); replaces characters XML 1.0 cannot hold.
    static func escape(_ text: String, attribute: Bool = true) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n": out += attribute ? "&#10;" : "\n"
            case "\t": out += attribute ? "&#9;" : "\t"
            case "\r": out += "&#13;"
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF:
                out += "?"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
