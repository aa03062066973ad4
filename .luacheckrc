-- Lint rules for the trusted Lua prelude (Sources/CLuaShim/prelude), checked by
-- scripts/test.sh: `luacheck Sources/CLuaShim/prelude`.
--
-- Each chunk starts `local P, S = ...` (the C primitives and the table the chunks share
-- through) and caches what it uses in locals at its top. The prelude runs before the
-- sandbox exists, with the full standard library as its globals: reading it is allowed,
-- defining or setting any global is not.
std = "lua54"
globals = {}
allow_defined = false
allow_defined_top = false

-- Relaxed from 120: most long lines are one raise(...) whose message reads best whole;
-- past 130 they are wrapped at a `..`.
max_line_length = 130

-- Only the prelude is Lua the project owns: examples and test fixtures are user scripts.
include_files = { "Sources/CLuaShim/prelude/*.lua" }
