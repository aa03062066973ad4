// tool_scripts.c: Lua the tools write out for others to run (the bench's domain and
// projection, wrk's request script), compiled into the binary so `esrun bench` needs no
// file beside it.
#include "tool_scripts.h"
#include <string.h>

static const char bench_domain[] = {
#embed "lua/bench_domain.lua"
};
static const char bench_projection[] = {
#embed "lua/bench_projection.lua"
};
static const char wrk_post[] = {
#embed "lua/wrk_post.lua"
};

#define SCRIPT(n) { #n, n, sizeof n }
static const struct { const char *name; const char *bytes; size_t length; } scripts[] = {
    SCRIPT(bench_domain), SCRIPT(bench_projection), SCRIPT(wrk_post),
};

const char *esr_tool_script(const char *name, size_t *length) {
    for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
        if (strcmp(scripts[i].name, name) == 0) {
            *length = scripts[i].length;
            return scripts[i].bytes;
        }
    }
    *length = 0;
    return NULL;
}
