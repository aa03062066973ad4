/// Per-call limits for each phase (ARCHITECTURE.md, "The Lua boundary"). Zero means unlimited.
public struct ScriptLimits: Sendable, Equatable {
    public struct Budget: Sendable, Equatable {
        /// Memory a call may allocate on top of what the Lua state held when it began.
        public var memoryBytes: Int
        /// Wall-clock budget. A watchdog arms a hook once it passes, so it costs nothing before.
        public var timeMilliseconds: Int
        /// Exact VM instruction budget. Costs about half the VM's speed (a count hook
        /// runs on every instruction), so it is off by default.
        public var instructions: Int

        public init(memoryBytes: Int, timeMilliseconds: Int, instructions: Int = 0) {
            self.memoryBytes = memoryBytes
            self.timeMilliseconds = timeMilliseconds
            self.instructions = instructions
        }
    }

    public var load = Budget(memoryBytes: 256 << 20, timeMilliseconds: 5_000)
    public var host = Budget(memoryBytes: 1 << 30, timeMilliseconds: 0)
    public var handle = Budget(memoryBytes: 64 << 20, timeMilliseconds: 1_000)
    /// Replay limits apply to one batch of events (up to a page of the stream).
    public var replay = Budget(memoryBytes: 256 << 20, timeMilliseconds: 2_000)
    /// Deepest JSON nesting accepted or produced.
    public var jsonDepth = 128
    /// Largest JSON text accepted or produced (one event's data, one state).
    public var jsonBytes = 16 << 20

    public init() {}
}
