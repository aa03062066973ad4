import CLuaShim
import LuaESCore

extension ReplayPage {
    /// Calls `body` with the page as C event spans pointing into its bytes (valid during the call only).
    func withSpans<R>(into spans: inout [esr_event], _ body: (UnsafePointer<esr_event>, Int) -> R) -> R {
        bytes.withUnsafeBufferPointer { buf in
            let base = UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: CChar.self)
            spans.removeAll(keepingCapacity: true)
            for e in entries {
                spans.append(esr_event(type: base + e.typeOffset, type_len: e.typeLength, data: base + e.dataOffset,
                                       data_len: e.dataLength, schema: Int64(e.schema)))
            }
            return spans.withUnsafeBufferPointer { body($0.baseAddress!, $0.count) }
        }
    }
}
