// invoke.c: calling the prelude's engine functions with plain values, and the
// replay loop (the hot path: one protected call per batch of events).
#include "host_internal.h"
#include <stdlib.h>
#include <string.h>

typedef struct {
    esr_host *h;
    const char *fn;
    const esr_value *args;
    int nargs;
    esr_value *results;
    int nresults;
} invoke_args;

static int p_decode(lua_State *L) {
    esr_host *h = esr_host_of(L);
    esr_json_decode(L, (const char *)lua_touserdata(L, 1), (size_t)lua_tointeger(L, 2), &h->json);
    return 1;
}

// Decodes input JSON; malformed input is the caller's mistake, so it raises an `invalid` error value.
static void push_json_arg(lua_State *L, const esr_value *v) {
    lua_pushcfunction(L, p_decode);
    lua_pushlightuserdata(L, (void *)v->s);
    lua_pushinteger(L, (lua_Integer)v->len);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
        esr_push_error(L, "invalid", "bad_json", lua_tostring(L, -1));
        lua_error(L);
    }
}

static void push_value(lua_State *L, esr_host *h, const esr_value *v) {
    switch (v->kind) {
    case ESR_V_INT: lua_pushinteger(L, (lua_Integer)v->i); break;
    case ESR_V_BOOL: lua_pushboolean(L, v->i != 0); break;
    case ESR_V_STR: lua_pushlstring(L, v->s, v->len); break;
    case ESR_V_JSON: push_json_arg(L, v); break;
    case ESR_V_REF: lua_rawgeti(L, LUA_REGISTRYINDEX, (lua_Integer)v->i); break;
    default: lua_pushnil(L);
    }
}

static void add_event(lua_State *L, esr_host *h, esr_event e) {
    if (h->nevents == h->events_cap) {
        int cap = h->events_cap ? h->events_cap * 2 : 16;
        esr_event *p = realloc(h->events, (size_t)cap * sizeof *p);
        if (p == NULL) luaL_error(L, "out of memory");
        h->events = p;
        h->events_cap = cap;
    }
    h->events[h->nevents++] = e;
}

// Offsets into the out buffer are stored in the pointer fields until the end,
// because the buffer may move while it grows.
#define OFF(p) ((const char *)(uintptr_t)(p))

static void collect_events(lua_State *L, esr_host *h, int idx) {
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, i);
        int ev = lua_gettop(L);
        esr_event e = {0};
        lua_getfield(L, ev, "type");
        size_t tlen;
        const char *type = lua_tolstring(L, -1, &tlen);
        if (type == NULL) luaL_error(L, "event %d has no type", (int)i);
        size_t at = h->out.len;
        esr_buf_reserve(L, &h->out, tlen);
        memcpy(h->out.p + at, type, tlen);
        h->out.len += tlen;
        e.type = OFF(at);
        e.type_len = tlen;
        lua_getfield(L, ev, "schema");
        e.schema = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 1;
        at = h->out.len;
        if (lua_getfield(L, ev, "json") == LUA_TSTRING) { // already encoded by the engine
            size_t jlen;
            const char *json = lua_tolstring(L, -1, &jlen);
            esr_buf_reserve(L, &h->out, jlen);
            memcpy(h->out.p + at, json, jlen);
            h->out.len += jlen;
        } else {
            lua_getfield(L, ev, "data");
            esr_json_encode(L, lua_gettop(L), &h->out, &h->json);
        }
        e.data = OFF(at);
        e.data_len = h->out.len - at;
        add_event(L, h, e);
        lua_settop(L, ev - 1);
    }
}

static int p_invoke(lua_State *L) {
    invoke_args *a = (invoke_args *)lua_touserdata(L, 1);
    esr_host *h = a->h;
    luaL_checkstack(L, a->nargs + a->nresults + 8, "too many values");
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->engine_ref);
    lua_getfield(L, -1, a->fn);
    if (lua_type(L, -1) != LUA_TFUNCTION) return luaL_error(L, "engine has no function %s", a->fn);
    for (int i = 0; i < a->nargs; i++) push_value(L, h, &a->args[i]);
    lua_call(L, a->nargs, a->nresults);
    int first = lua_gettop(L) - a->nresults + 1;
    h->out.len = 0;
    h->nevents = 0;
    for (int i = 0; i < a->nresults; i++) {
        esr_value *r = &a->results[i];
        int idx = first + i;
        switch (r->kind) {
        case ESR_V_INT: r->i = lua_tointeger(L, idx); break;
        case ESR_V_BOOL: r->i = lua_toboolean(L, idx); break;
        case ESR_V_STR: {
            size_t len = 0;
            const char *s = lua_type(L, idx) == LUA_TSTRING ? lua_tolstring(L, idx, &len) : "";
            size_t at = h->out.len;
            esr_buf_reserve(L, &h->out, len);
            memcpy(h->out.p + at, s, len);
            h->out.len += len;
            r->s = OFF(at);
            r->len = len;
            break;
        }
        case ESR_V_JSON: {
            size_t at = h->out.len;
            esr_json_encode(L, idx, &h->out, &h->json);
            r->s = OFF(at);
            r->len = h->out.len - at;
            break;
        }
        case ESR_V_REF:
            lua_pushvalue(L, idx);
            r->i = luaL_ref(L, LUA_REGISTRYINDEX);
            break;
        case ESR_V_EVENTS:
            if (!lua_isnil(L, idx)) collect_events(L, h, idx);
            r->i = h->nevents;
            break;
        default: break;
        }
    }
    return 0;
}

int esr_invoke(esr_host *h, const char *fn, int phase, const char *label,
               const esr_value *args, int nargs, esr_value *results, int nresults) {
    invoke_args a = {h, fn, args, nargs, results, nresults};
    int status = esr_run_protected(h, phase, label, p_invoke, &a);
    if (status != LUA_OK) {
        // release refs taken before the failure
        return status;
    }
    for (int i = 0; i < nresults; i++) {
        esr_value *r = &results[i];
        if (r->kind == ESR_V_STR || r->kind == ESR_V_JSON) r->s = h->out.p + (uintptr_t)r->s;
    }
    for (int i = 0; i < h->nevents; i++) {
        h->events[i].type = h->out.p + (uintptr_t)h->events[i].type;
        h->events[i].data = h->out.p + (uintptr_t)h->events[i].data;
    }
    return status;
}

int esr_event_count(esr_host *h) { return h->nevents; }
esr_event esr_event_at(esr_host *h, int i) { return h->events[i]; }

// ---------------------------------------------------------------- replay

typedef struct {
    esr_host *h;
    const char *agg;
    int *state_ref;
    const esr_event *events;
    int n;
} replay_args;

static int p_replay(lua_State *L) {
    replay_args *a = (replay_args *)lua_touserdata(L, 1);
    esr_host *h = a->h;
    luaL_checkstack(L, 12, "replay");
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->engine_ref);
    int engine = lua_gettop(L);
    lua_getfield(L, engine, "replayers");
    lua_pushstring(L, a->agg);
    lua_call(L, 1, 1); // table: event type -> function(state, data, schema)
    int replayers = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, *a->state_ref);
    int state = lua_gettop(L);
    int changed = 0;
    h->lab_prefix = "replay of";
    h->lab_agg = a->agg;
    for (int i = 0; i < a->n; i++) {
        const esr_event *e = &a->events[i];
        h->lab_prefix = "replay of";
        h->lab_name = e->type;
        h->lab_name_len = e->type_len;
        lua_pushlstring(L, e->type, e->type_len);
        lua_rawget(L, replayers);
        if (lua_type(L, -1) != LUA_TFUNCTION) {
            lua_pop(L, 1);
            lua_getfield(L, engine, "missing_replay");
            lua_pushstring(L, a->agg);
            lua_pushlstring(L, e->type, e->type_len);
            lua_call(L, 2, 1); // raises, or returns a function to use (ignore lists, renames)
        }
        lua_pushvalue(L, state);
        esr_json_decode(L, e->data, e->data_len, &h->json);
        lua_pushinteger(L, e->schema);
        lua_call(L, 3, 1);
        if (lua_type(L, -1) == LUA_TTABLE) {
            lua_replace(L, state);
            changed = 1;
        } else if (!lua_isnil(L, -1)) {
            return luaL_error(L, "%s: a replay function must return the new state table or nothing, not a %s",
                              esr_label(h), luaL_typename(L, -1));
        } else {
            lua_pop(L, 1);
        }
    }
    if (changed) {
        lua_pushvalue(L, state);
        int ref = luaL_ref(L, LUA_REGISTRYINDEX);
        luaL_unref(L, LUA_REGISTRYINDEX, *a->state_ref);
        *a->state_ref = ref;
    }
    return 0;
}

int esr_replay(esr_host *h, const char *agg, int *state_ref, const esr_event *events, int n) {
    replay_args a = {h, agg, state_ref, events, n};
    return esr_run_protected(h, ESR_PHASE_REPLAY, "replay", p_replay, &a);
}
