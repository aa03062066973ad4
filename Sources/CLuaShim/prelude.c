// prelude.c: the trusted Lua prelude, compiled into the binary. The chunks are
// never read from disk at run time: the sandbox must not depend on a file a
// user can edit. Load order matters: each chunk imports what earlier ones export.
#include "host_internal.h"

static const char sandbox_lua[] = {
#embed "prelude/sandbox.lua"
};
static const char domain_lua[] = {
#embed "prelude/domain.lua"
};
static const char hooks_lua[] = {
#embed "prelude/hooks.lua"
};
static const char engine_lua[] = {
#embed "prelude/engine.lua"
};
static const char projections_lua[] = {
#embed "prelude/projections.lua"
};
static const char spec_lua[] = {
#embed "prelude/spec.lua"
};
static const char warnings_lua[] = {
#embed "prelude/warnings.lua"
};
static const char repl_lua[] = {
#embed "prelude/repl.lua"
};

// Chunk names start with '=': errors.c tells the host's frames from scripts' by it.
#define CHUNK(n) { "=prelude/" #n ".lua", n##_lua, sizeof n##_lua }
const esr_prelude_chunk esr_prelude[] = {
    CHUNK(sandbox), CHUNK(domain), CHUNK(hooks), CHUNK(engine),
    CHUNK(projections), CHUNK(spec), CHUNK(warnings), CHUNK(repl),
};
const int esr_prelude_count = (int)(sizeof esr_prelude / sizeof esr_prelude[0]);

const char *esr_prelude_chunk_name(int i) {
    return i >= 0 && i < esr_prelude_count ? esr_prelude[i].name + 1 : NULL;
}
