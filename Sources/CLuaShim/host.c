// host.c: creating and closing a host, and the protected entry points Swift calls.
#include "host_internal.h"
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

esr_host *esr_host_of(lua_State *L) {
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return (esr_host *)ud;
}

esr_host *esr_open(void) {
    esr_host *h = calloc(1, sizeof *h);
    if (h == NULL) return NULL;
    h->mem_slack = 16u << 20;
    h->json.max_depth = 128;
    h->json.max_bytes = 16u << 20;
    h->env_ref = h->engine_ref = h->errmt_ref = h->eventmt_ref = LUA_NOREF;
    h->L = lua_newstate(esr_alloc, h);
    if (h->L == NULL) {
        esr_pool_destroy(&h->pool);
        free(h);
        return NULL;
    }
    h->running = h->L;
    atomic_store(&h->current, h->L);
    h->phase = ESR_PHASE_LOAD;
    esr_watchdog_register(h);
    return h;
}

void esr_close(esr_host *h) {
    if (h == NULL) return;
    esr_watchdog_unregister(h);
    lua_close(h->L);
    esr_pool_destroy(&h->pool);
    esr_buf_free(&h->out);
    esr_buf_free(&h->tmp);
    free(h->events);
    free(h->err_kind);
    free(h->err_code);
    free(h->err_message);
    free(h->err_traceback);
    free(h->err_where);
    free(h->script_dir);
    free(h);
}

lua_State *esr_state(esr_host *h) { return h->L; }
void esr_set_limits(esr_host *h, int phase, esr_limits limits) { if (phase >= 0 && phase < 4) h->limits[phase] = limits; }
void esr_set_json_limits(esr_host *h, esr_json_limits limits) { h->json = limits; }
void esr_set_callback(esr_host *h, esr_callback cb, void *ctx) { h->cb = cb; h->cb_ctx = ctx; }
size_t esr_memory_in_use(esr_host *h) { return h->used; }

static int p_collect(lua_State *L) {
    (void)lua_touserdata(L, 1);
    lua_gc(L, LUA_GCCOLLECT);
    return 0;
}

size_t esr_collect(esr_host *h) {
    lua_State *L = h->running;
    if (lua_checkstack(L, 2)) {
        lua_pushcfunction(L, p_collect);
        lua_pushnil(L);
        if (lua_pcall(L, 1, 0, 0) != LUA_OK) lua_pop(L, 1); // only finalizers could fail, and scripts get none
    }
    return h->used;
}

void esr_set_script_dir(esr_host *h, const char *dir) {
    free(h->script_dir);
    h->script_dir = strdup(dir ? dir : ".");
}

// ---------------------------------------------------------------- running protected

typedef int (*esr_body)(lua_State *L);

// Runs `body(L)` (which finds its arguments through the light userdata `ud`)
// under lua_pcall with the message handler, in `phase` with its limits.
int esr_run_protected(esr_host *h, int phase, const char *label, lua_CFunction body, void *ud) {
    lua_State *L = h->running;
    if (!lua_checkstack(L, 4)) {
        esr_set_error(h, "limit", "stack", "Lua stack overflow", "");
        return LUA_ERRMEM;
    }
    esr_frame frame;
    esr_enter(h, &frame, phase, label);
    int base = lua_gettop(L);
    lua_pushcfunction(L, esr_msgh);
    lua_pushcfunction(L, body);
    lua_pushlightuserdata(L, ud);
    int status = lua_pcall(L, 1, 0, base + 1);
    if (status != LUA_OK) esr_record_error(h, status);
    lua_settop(L, base);
    esr_leave(h, &frame);
    return status;
}

// ---------------------------------------------------------------- prelude

// Runs the prelude's chunks in order, each as `chunk(P, S)`: P the primitives, S the
// table through which chunks share what they define. C reads env, engine and the event
// metatable from S at the end.
static int p_prelude(lua_State *L) {
    esr_host *h = (esr_host *)lua_touserdata(L, 1);
    luaL_openlibs(L);
    // error metatable first: primitives raise error values from the start
    lua_newtable(L);
    h->errmt_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    esr_push_primitives(L);
    int prims = lua_gettop(L);
    lua_newtable(L);
    int shared = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->errmt_ref);
    lua_setfield(L, shared, "ERR_MT");
    for (int i = 0; i < esr_prelude_count; i++) {
        const esr_prelude_chunk *c = &esr_prelude[i];
        if (luaL_loadbufferx(L, c->bytes, c->len, c->name, "t") != LUA_OK) return lua_error(L);
        lua_pushvalue(L, prims);
        lua_pushvalue(L, shared);
        lua_call(L, 2, 0);
    }
    lua_getfield(L, shared, "env");
    h->env_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getfield(L, shared, "engine");
    h->engine_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getfield(L, shared, "EVENT_MT");
    h->eventmt_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

int esr_load_prelude(esr_host *h) {
    return esr_run_protected(h, ESR_PHASE_LOAD, "prelude", p_prelude, h);
}

// ---------------------------------------------------------------- scripts

typedef struct { esr_host *h; const char *path; const char *display; } file_args;

// Reads a file into a Lua string (pushed). Raises on failure.
void esr_push_file(lua_State *L, const char *path, const char *display) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) luaL_error(L, "cannot open %s", display);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        luaL_addlstring(&b, chunk, n); // may raise: the FILE would leak, so read into Lua memory first
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) luaL_error(L, "cannot read %s", display);
    luaL_pushresult(&b);
}

// Compiles the text on top of the stack as a sandboxed chunk named @display; replaces it with the function.
void esr_compile_chunk(lua_State *L, esr_host *h, const char *display) {
    size_t len;
    const char *src = lua_tolstring(L, -1, &len);
    lua_pushfstring(L, "@%s", display);
    // "t": text only. Binary chunks can crash the VM and are never accepted.
    if (luaL_loadbufferx(L, src, len, lua_tostring(L, -1), "t") != LUA_OK) {
        esr_push_error(L, "script", "syntax", lua_tostring(L, -1));
        lua_error(L);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->env_ref);
    lua_setupvalue(L, -2, 1); // _ENV of the main chunk
    lua_replace(L, -3);
    lua_pop(L, 1);
}

static int p_run_file(lua_State *L) {
    file_args *a = (file_args *)lua_touserdata(L, 1);
    esr_push_file(L, a->path, a->display);
    esr_compile_chunk(L, a->h, a->display);
    // the engine records the main module's return value (aggregate definitions register themselves)
    lua_call(L, 0, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, a->h->engine_ref);
    lua_getfield(L, -1, "main_loaded");
    lua_pushvalue(L, -3);
    lua_pushstring(L, a->display);
    lua_call(L, 2, 0);
    return 0;
}

int esr_run_file(esr_host *h, const char *path, const char *display, int phase) {
    file_args a = {h, path, display};
    char label[ESR_LABEL_MAX];
    snprintf(label, sizeof label, phase == ESR_PHASE_HOST ? "script %s" : "loading %s", display);
    return esr_run_protected(h, phase, label, p_run_file, &a);
}

void esr_unref(esr_host *h, int ref) {
    if (ref == LUA_NOREF || ref == LUA_REFNIL) return;
    // luaL_unref only writes existing slots of the registry: no allocation, no raise.
    luaL_unref(h->L, LUA_REGISTRYINDEX, ref);
}

// ---------------------------------------------------------------- callbacks into Swift

void esr_reply_ok(esr_reply *r, const char *json, size_t len) {
    r->ok = 1;
    r->json = malloc(len + 1);
    if (r->json) {
        memcpy(r->json, json, len);
        r->json[len] = 0;
        r->len = len;
    }
}

void esr_reply_error(esr_reply *r, const char *kind, const char *code, const char *message) {
    r->ok = 0;
    r->kind = strdup(kind ? kind : "script");
    r->code = strdup(code ? code : "error");
    r->message = strdup(message ? message : "");
}

static void reply_free(esr_reply *r) {
    free(r->json);
    free(r->kind);
    free(r->code);
    free(r->message);
    memset(r, 0, sizeof *r);
}

// host_call(op, arg): encodes arg, calls Swift, decodes its answer or raises its error value.
int esr_host_call(lua_State *L) {
    esr_host *h = esr_host_of(L);
    const char *op = luaL_checkstring(L, 1);
    lua_settop(L, 2);
    if (h->cb == NULL) return luaL_error(L, "no host is attached to run %s", op);
    h->tmp.len = 0;
    esr_json_encode(L, 2, &h->tmp, &h->json);
    esr_buf_reserve(L, &h->tmp, 1);
    h->tmp.p[h->tmp.len] = 0;
    // copy the argument: nested calls reuse tmp
    char *arg = malloc(h->tmp.len + 1);
    if (arg == NULL) return luaL_error(L, "out of memory");
    memcpy(arg, h->tmp.p, h->tmp.len + 1);
    size_t arg_len = h->tmp.len;

    esr_reply reply;
    memset(&reply, 0, sizeof reply);
    lua_State *saved_running = h->running;
    h->running = L;
    h->cb(h->cb_ctx, op, arg, arg_len, &reply);
    h->running = saved_running;
    free(arg);

    if (reply.ok) {
        h->tmp.len = 0;
        if (reply.json == NULL) {
            reply_free(&reply);
            return luaL_error(L, "out of memory");
        }
        size_t n = reply.len;
        // move the reply into Lua-owned scratch before anything may raise
        int grow = h->tmp.cap < n + 1;
        if (grow) {
            char *p = realloc(h->tmp.p, n + 1);
            if (p == NULL) { reply_free(&reply); return luaL_error(L, "out of memory"); }
            h->tmp.p = p;
            h->tmp.cap = n + 1;
        }
        memcpy(h->tmp.p, reply.json, n);
        h->tmp.len = n;
        reply_free(&reply);
        esr_json_decode(L, h->tmp.p, n, NULL);
        return 1;
    }
    char kind[32], code[128];
    snprintf(kind, sizeof kind, "%s", reply.kind ? reply.kind : "script");
    snprintf(code, sizeof code, "%s", reply.code ? reply.code : "error");
    lua_pushstring(L, reply.message ? reply.message : "");
    reply_free(&reply);
    esr_push_error(L, kind, code, lua_tostring(L, -1));
    esr_push_where(L, 1);
    lua_setfield(L, -2, "where");
    return lua_error(L);
}
