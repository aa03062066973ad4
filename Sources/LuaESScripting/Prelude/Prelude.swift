/// The trusted Lua code that runs once in every Lua state, before any script:
/// it builds the sandbox (DESIGN §3) and the domain API (§2) from primitives
/// the C shim hands it, and returns the sandbox environment and the engine's entry points.
enum Prelude {
    static let source = sandbox + "\n" + domain + "\n" + hooks + "\n" + engine + "\n" + projections + "\n" + spec + "\n" + warnings + "\n" + repl
        + "\nreturn env, engine, EVENT_MT\n"
}
