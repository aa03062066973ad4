/// The private format in which the prelude's `project` returns view writes (projections.lua):
/// records `<key length>:<document length or -1>:<key><document>`, lengths in bytes.
enum ViewChangeFraming {
    static func parse(_ framed: String) throws(ScriptError) -> [ProjectedWrite] {
        var changes: [ProjectedWrite] = []
        let bytes = Array(framed.utf8)
        var i = 0
        func number() throws(ScriptError) -> Int {
            var negative = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
            var n = 0
            let start = i
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39, i - start < 12 {
                n = n * 10 + Int(bytes[i] - 0x30)
                i += 1
            }
            guard i > start, i < bytes.count, bytes[i] == UInt8(ascii: ":") else {
                throw ScriptError(kind: .internal, code: "bad_view_changes", message: "malformed view changes at byte \(i)")
            }
            i += 1
            return negative ? -n : n
        }
        while i < bytes.count {
            let keyLength = try number()
            let documentLength = try number()
            let documentBytes = max(documentLength, 0)
            guard keyLength >= 0, i + keyLength + documentBytes <= bytes.count else {
                throw ScriptError(kind: .internal, code: "bad_view_changes", message: "truncated view changes at byte \(i)")
            }
            let key = String(decoding: bytes[i..<(i + keyLength)], as: UTF8.self)
            i += keyLength
            let document = documentLength < 0 ? nil : String(decoding: bytes[i..<(i + documentBytes)], as: UTF8.self)
            i += documentBytes
            changes.append(ProjectedWrite(key: key, document: document))
        }
        return changes
    }
}
