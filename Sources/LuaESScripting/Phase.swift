import CLuaShim

/// What kind of code is running, which decides the capabilities it gets (ARCHITECTURE.md, "The Lua boundary").
public enum Phase: Int32, Sendable {
    case load = 0, host = 1, handle = 2, replay = 3
}
