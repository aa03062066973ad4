// sandbox.c: the privileged primitives handed to the prelude, which builds the
// sandboxed environment from them. None of these is reachable from a script
// except through the phase-checked wrappers the prelude exposes.
#include "host_internal.h"
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <time.h>
#include <sys/random.h>

static int prim_phase(lua_State *L) {
    lua_pushinteger(L, esr_host_of(L)->phase);
    return 1;
}

// set_phase(phase, label[, fn]): the phase and the label errors name from now on; `fn`, the
// function about to run, gives the fallback file:line. Runs once per replayed or projected
// event, so it copies by hand and returns nothing (nobody restored the old values).
static int prim_set_phase(lua_State *L) {
    esr_host *h = esr_host_of(L);
    int phase = (int)luaL_checkinteger(L, 1);
    size_t len = 0;
    const char *label = luaL_optlstring(L, 2, "", &len);
    if (phase < 0 || phase > 3) return luaL_error(L, "bad phase");
    h->phase = phase;
    if (len >= sizeof h->label) len = sizeof h->label - 1;
    memcpy(h->label, label, len);
    h->label[len] = 0;
    h->lab_prefix = NULL;
    h->fallback_where[0] = 0;
    if (lua_type(L, 3) == LUA_TFUNCTION) {
        lua_Debug ar;
        lua_pushvalue(L, 3);
        if (lua_getinfo(L, ">S", &ar) && ar.source[0] == '@' && ar.linedefined > 0)
            snprintf(h->fallback_where, sizeof h->fallback_where, "%s:%d", ar.short_src, ar.linedefined);
    }
    return 0;
}

// cap(name, mask): raises a forbidden error unless the running phase is in mask
static int prim_cap(lua_State *L) {
    esr_host *h = esr_host_of(L);
    const char *name = luaL_checkstring(L, 1);
    lua_Integer mask = luaL_checkinteger(L, 2);
    if (!(mask & ((lua_Integer)1 << h->phase))) return esr_forbidden(L, name, NULL);
    return 0;
}

static int prim_forbidden(lua_State *L) {
    return esr_forbidden(L, luaL_checkstring(L, 1), luaL_optstring(L, 2, "in esrun scripts"));
}

static int prim_json_encode(lua_State *L) {
    esr_host *h = esr_host_of(L);
    luaL_checkany(L, 1);
    lua_settop(L, 1);
    h->tmp.len = 0;
    esr_json_encode(L, 1, &h->tmp, &h->json);
    lua_pushlstring(L, h->tmp.p ? h->tmp.p : "", h->tmp.len);
    return 1;
}

static int prim_json_decode(lua_State *L) {
    esr_host *h = esr_host_of(L);
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    esr_json_decode(L, s, len, &h->json);
    return 1;
}

static int prim_where(lua_State *L) {
    esr_push_where(L, (int)luaL_optinteger(L, 1, 2));
    return 1;
}

// context(level) -> "handler Counter.increment (counter.lua:12)" for messages
static int prim_context(lua_State *L) {
    esr_host *h = esr_host_of(L);
    const char *label = esr_label(h);
    esr_push_where(L, (int)luaL_optinteger(L, 1, 2));
    const char *where = lua_tostring(L, -1);
    if (*label && *where) lua_pushfstring(L, "%s (%s)", label, where);
    else lua_pushstring(L, *label ? label : where);
    return 1;
}

static int prim_now_ms(lua_State *L) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    lua_pushinteger(L, (lua_Integer)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    return 1;
}

static int prim_uuid(lua_State *L) {
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) return luaL_error(L, "no randomness available");
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    char s[37];
    snprintf(s, sizeof s, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    lua_pushstring(L, s);
    return 1;
}

// load_module(name): compiles sibling module `name` (dots are folders) with the sandbox's _ENV.
static int prim_load_module(lua_State *L) {
    esr_host *h = esr_host_of(L);
    size_t len;
    const char *name = luaL_checklstring(L, 1, &len);
    if (len == 0 || len > 200) return luaL_error(L, "bad module name");
    char rel[256];
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!(isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.'))
            return luaL_error(L, "module name '%s' may only hold letters, digits, '_', '-' and '.'", name);
        if (c == '.' && (i == 0 || name[i - 1] == '.' || i == len - 1))
            return luaL_error(L, "bad module name '%s'", name);
        rel[i] = c == '.' ? '/' : c;
    }
    memcpy(rel + len, ".lua", 5);
    lua_pushfstring(L, "%s/%s", h->script_dir ? h->script_dir : ".", rel);
    const char *path = lua_tostring(L, -1);
    esr_push_file(L, path, rel);
    esr_compile_chunk(L, h, rel);
    return 1;
}

// resume(co, ...): coroutine.resume that carries an armed limit hook into the coroutine.
static int prim_resume(lua_State *L) {
    esr_host *h = esr_host_of(L);
    lua_State *co = lua_tothread(L, 1);
    luaL_argexpected(L, co, 1, "coroutine");
    int narg = lua_gettop(L) - 1;
    int status = lua_status(co);
    if (status != LUA_OK && status != LUA_YIELD) {
        lua_pushboolean(L, 0);
        lua_pushliteral(L, "cannot resume dead coroutine");
        return 2;
    }
    if (status == LUA_OK && lua_gettop(co) == 0) {
        lua_pushboolean(L, 0);
        lua_pushliteral(L, "cannot resume dead coroutine");
        return 2;
    }
    if (!lua_checkstack(co, narg)) {
        lua_pushboolean(L, 0);
        lua_pushliteral(L, "too many arguments to resume");
        return 2;
    }
    lua_xmove(L, co, narg);
    lua_State *prev = atomic_load(&h->current);
    atomic_store(&h->current, co);
    if (atomic_load(&h->armed) || h->instructions > 0)
        lua_sethook(co, esr_hook, LUA_MASKCOUNT, 1);
    int nres = 0;
    status = lua_resume(co, L, narg, &nres);
    atomic_store(&h->current, prev);
    if (atomic_load(&h->armed)) lua_sethook(L, esr_hook, LUA_MASKCOUNT, 1);
    if (status == LUA_OK || status == LUA_YIELD) {
        if (!lua_checkstack(L, nres + 1)) {
            lua_pop(co, nres);
            lua_pushboolean(L, 0);
            lua_pushliteral(L, "too many results to resume");
            return 2;
        }
        lua_pushboolean(L, 1);
        lua_xmove(co, L, nres);
        return nres + 1;
    }
    lua_pushboolean(L, 0);
    lua_xmove(co, L, 1);
    return 2;
}

static int prim_install_guards(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TTABLE);
    esr_install_guards(L, 1, 2);
    return 0;
}

// ---------------------------------------------------------------- fingerprint

typedef struct {
    uint64_t hash;
    const void *seen[256];
    int nseen;
} fp_state;

static void fp_mix(fp_state *f, const void *p, size_t n) {
    const unsigned char *b = (const unsigned char *)p;
    for (size_t i = 0; i < n; i++) {
        f->hash ^= b[i];
        f->hash *= 1099511628211ULL; // FNV-1a 64
    }
}

static void fp_str(fp_state *f, const char *s) { fp_mix(f, s, strlen(s) + 1); }

static int fp_writer(lua_State *L, const void *p, size_t sz, void *ud) {
    (void)L;
    fp_mix((fp_state *)ud, p, sz);
    return 0;
}

static int p_encode_for_fp(lua_State *L) {
    esr_host *h = esr_host_of(L);
    h->tmp.len = 0;
    esr_json_encode(L, 1, &h->tmp, &h->json);
    lua_pushlstring(L, h->tmp.p ? h->tmp.p : "", h->tmp.len);
    return 1;
}

// Hashes the value on top of the stack (left there): functions by their stripped
// bytecode and their upvalues (except _ENV), tables by their JSON text when they have one.
static void fp_value(lua_State *L, fp_state *f, int depth) {
    int t = lua_type(L, -1);
    fp_mix(f, &t, sizeof t);
    switch (t) {
    case LUA_TNUMBER:
        if (lua_isinteger(L, -1)) { lua_Integer i = lua_tointeger(L, -1); fp_mix(f, &i, sizeof i); }
        else { lua_Number n = lua_tonumber(L, -1); fp_mix(f, &n, sizeof n); }
        break;
    case LUA_TBOOLEAN: { int b = lua_toboolean(L, -1); fp_mix(f, &b, sizeof b); break; }
    case LUA_TSTRING: { size_t n; const char *s = lua_tolstring(L, -1, &n); fp_mix(f, s, n); break; }
    case LUA_TFUNCTION: {
        if (lua_iscfunction(L, -1)) { fp_str(f, "C"); break; }
        const void *p = lua_topointer(L, -1);
        for (int i = 0; i < f->nseen; i++) if (f->seen[i] == p) { fp_str(f, "seen"); return; }
        if (f->nseen < 256) f->seen[f->nseen++] = p;
        if (depth > 32) { fp_str(f, "deep"); break; }
        lua_dump(L, fp_writer, f, 1);
        int fn = lua_gettop(L);
        for (int i = 1;; i++) {
            const char *name = lua_getupvalue(L, fn, i);
            if (name == NULL) break;
            fp_str(f, name);
            if (strcmp(name, "_ENV") != 0) fp_value(L, f, depth + 1);
            lua_pop(L, 1);
        }
        break;
    }
    case LUA_TTABLE: {
        lua_pushcfunction(L, p_encode_for_fp);
        lua_pushvalue(L, -2);
        if (lua_pcall(L, 1, 1, 0) == LUA_OK) {
            size_t n;
            const char *s = lua_tolstring(L, -1, &n);
            fp_mix(f, s, n);
        } else {
            fp_str(f, "table");
        }
        lua_pop(L, 1);
        break;
    }
    default: break;
    }
}

// fingerprint({name1, value1, name2, value2, ...}) -> 16 hex digits
static int prim_fingerprint(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkstack(L, 80, "fingerprint");
    fp_state f;
    f.hash = 14695981039346656037ULL;
    f.nseen = 0;
    lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, 1, i);
        fp_value(L, &f, 0);
        lua_pop(L, 1);
    }
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)f.hash);
    lua_pushstring(L, hex);
    return 1;
}

void esr_push_primitives(lua_State *L) {
    static const luaL_Reg prims[] = {
        {"phase", prim_phase},
        {"set_phase", prim_set_phase},
        {"cap", prim_cap},
        {"forbidden", prim_forbidden},
        {"json_encode", prim_json_encode},
        {"json_decode", prim_json_decode},
        {"where", prim_where},
        {"context", prim_context},
        {"now_ms", prim_now_ms},
        {"uuid", prim_uuid},
        {"load_module", prim_load_module},
        {"resume", prim_resume},
        {"install_guards", prim_install_guards},
        {"fingerprint", prim_fingerprint},
        {"replay_warnings", esr_prim_replay_warnings},
        {"host_call", esr_host_call},
        {NULL, NULL}};
    luaL_newlib(L, prims);
    esr_push_array_mt(L);
    lua_setfield(L, -2, "array_mt");
}
