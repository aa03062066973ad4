// errors.c: error values, the message handler of every host call, and how a
// failed call's error reaches Swift (copied out, never as a Lua value).
#include "host_internal.h"
#include <stdlib.h>
#include <string.h>

const char *esr_label(esr_host *h) {
    if (h->lab_prefix != NULL) {
        snprintf(h->label, sizeof h->label, "%s %s.%.*s", h->lab_prefix, h->lab_agg ? h->lab_agg : "?",
                 (int)h->lab_name_len, h->lab_name ? h->lab_name : "?");
        h->lab_prefix = NULL;
    }
    return h->label;
}

const char *esr_phase_where(int phase) {
    switch (phase) {
    case ESR_PHASE_LOAD: return "while a script loads";
    case ESR_PHASE_HOST: return "in a driver script";
    case ESR_PHASE_HANDLE: return "in a command handler";
    default: return "during replay";
    }
}

void esr_push_error(lua_State *L, const char *kind, const char *code, const char *message) {
    esr_host *h = esr_host_of(L);
    lua_createtable(L, 0, 4);
    lua_pushstring(L, kind);
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, code);
    lua_setfield(L, -2, "code");
    lua_pushstring(L, message);
    lua_setfield(L, -2, "message");
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->errmt_ref);
    lua_setmetatable(L, -2);
}

// The first script frame at or above `level`: frames of C functions and of the
// prelude (sources starting with '=') are the host's own, not the user's.
static int script_frame(lua_State *L, int level, lua_Debug *ar) {
    for (int i = level; i < level + 12; i++) {
        if (!lua_getstack(L, i, ar)) return 0;
        if (lua_getinfo(L, "Sl", ar) && ar->source[0] != '=' && ar->currentline > 0) return 1;
    }
    return 0;
}

void esr_push_where(lua_State *L, int level) {
    lua_Debug ar;
    if (script_frame(L, level, &ar))
        lua_pushfstring(L, "%s:%d", ar.short_src, ar.currentline);
    else
        lua_pushstring(L, esr_host_of(L)->fallback_where);
}

int esr_forbidden(lua_State *L, const char *what, const char *why) {
    esr_host *h = esr_host_of(L);
    char where[200] = "";
    lua_Debug ar;
    if (script_frame(L, 1, &ar)) snprintf(where, sizeof where, "%s:%d", ar.short_src, ar.currentline);
    else snprintf(where, sizeof where, "%s", h->fallback_where);
    const char *label = esr_label(h);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    if (*label) {
        luaL_addstring(&b, label);
        if (*where) { luaL_addstring(&b, " ("); luaL_addstring(&b, where); luaL_addstring(&b, ")"); }
        luaL_addstring(&b, ": ");
    } else if (*where) {
        luaL_addstring(&b, where);
        luaL_addstring(&b, ": ");
    }
    luaL_addstring(&b, what);
    luaL_addstring(&b, " is not available ");
    luaL_addstring(&b, why ? why : esr_phase_where(h->phase));
    luaL_pushresult(&b);
    esr_push_error(L, "forbidden", what, lua_tostring(L, -1));
    return lua_error(L);
}

static const char *raw_string(lua_State *L, int t, const char *key) {
    lua_pushstring(L, key);
    lua_rawget(L, t);
    const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    lua_pop(L, 1); // the string stays anchored by the table
    return s;
}

// Message handler: turns whatever was raised into {kind, code, message, traceback, where}
// without running any of the script's metamethods (a looping __tostring cannot hang us).
int esr_msgh(lua_State *L) {
    esr_host *h = esr_host_of(L);
    const char *kind = "script", *code = "error", *message = NULL, *where = NULL;
    char buf[300];
    int t = lua_type(L, 1);
    if (t == LUA_TTABLE) {
        const char *k = raw_string(L, 1, "kind");
        if (k) kind = k;
        const char *c = raw_string(L, 1, "code");
        if (c) code = c;
        message = raw_string(L, 1, "message");
        where = raw_string(L, 1, "where");
        if (message == NULL) {
            snprintf(buf, sizeof buf, "%s: error object is a table value", esr_label(h));
            message = buf;
        }
    } else if (t == LUA_TSTRING) {
        const char *label = esr_label(h);
        if (*label) {
            lua_pushfstring(L, "%s: %s", label, lua_tostring(L, 1));
            message = lua_tostring(L, -1);
        } else {
            message = lua_tostring(L, 1);
        }
    } else {
        snprintf(buf, sizeof buf, "%s%serror object is a %s value", esr_label(h), *esr_label(h) ? ": " : "",
                 luaL_typename(L, 1));
        message = buf;
    }
    int abort = atomic_load(&h->abort);
    if (abort != ESR_ABORT_NONE && strcmp(kind, "limit") != 0) {
        // a script caught the limit error and raised another: the limit wins
        kind = "limit";
        code = abort == ESR_ABORT_MEMORY ? "memory" : abort == ESR_ABORT_INSTRUCTIONS ? "instructions"
             : abort == ESR_ABORT_INTERRUPT ? "interrupted" : "time";
    }
    int top = lua_gettop(L);
    esr_push_error(L, kind, code, message);
    if (where) {
        lua_pushstring(L, where);
        lua_setfield(L, -2, "where");
    }
    luaL_traceback(L, L, NULL, 1);
    lua_setfield(L, -2, "traceback");
    lua_replace(L, top); // keep the stack small; the result is what we return
    lua_settop(L, top);
    return 1;
}

static char *dup_or_empty(const char *s) {
    char *d = strdup(s ? s : "");
    return d;
}

void esr_set_error(esr_host *h, const char *kind, const char *code, const char *message, const char *traceback) {
    free(h->err_kind);
    free(h->err_code);
    free(h->err_message);
    free(h->err_traceback);
    free(h->err_where);
    h->err_kind = dup_or_empty(kind);
    h->err_code = dup_or_empty(code);
    h->err_message = dup_or_empty(message);
    h->err_traceback = dup_or_empty(traceback);
    h->err_where = dup_or_empty("");
}

static int p_record(lua_State *L) {
    esr_host *h = (esr_host *)lua_touserdata(L, 1);
    // stack: h, errvalue
    if (lua_type(L, 2) == LUA_TTABLE) {
        esr_set_error(h, raw_string(L, 2, "kind"), raw_string(L, 2, "code"), raw_string(L, 2, "message"),
                      raw_string(L, 2, "traceback"));
        const char *where = raw_string(L, 2, "where");
        if (where) {
            free(h->err_where);
            h->err_where = dup_or_empty(where);
        }
    } else if (lua_type(L, 2) == LUA_TSTRING) {
        esr_set_error(h, "script", "error", lua_tostring(L, 2), "");
    } else {
        esr_set_error(h, "script", "error", "error object is not a string", "");
    }
    return 0;
}

void esr_record_error(esr_host *h, int status) {
    lua_State *L = h->running;
    int abort = atomic_load(&h->abort);
    if (status == LUA_ERRMEM || status == LUA_ERRERR) {
        if (abort == ESR_ABORT_MEMORY || status == LUA_ERRMEM) {
            // The stack is unwound already: the running function's definition is the best "where".
            char msg[460];
            snprintf(msg, sizeof msg, "%s%s%s%s: memory limit of %zu KiB exceeded", esr_label(h),
                     *h->fallback_where ? " (" : "", h->fallback_where, *h->fallback_where ? ")" : "",
                     h->limits[h->phase].memory_bytes / 1024);
            esr_set_error(h, "limit", "memory", msg, "");
        } else if (abort != ESR_ABORT_NONE) {
            char msg[300];
            snprintf(msg, sizeof msg, "%s: %s", esr_label(h),
                     abort == ESR_ABORT_INTERRUPT ? "interrupted" : "limit exceeded while handling an error");
            esr_set_error(h, "limit", abort == ESR_ABORT_INTERRUPT ? "interrupted" : "time", msg, "");
        } else {
            esr_set_error(h, "script", "error", "error while handling an error", "");
        }
        return;
    }
    // Copying fields out may allocate (key strings), so it runs protected too.
    if (!lua_checkstack(L, 3)) {
        esr_set_error(h, "script", "error", "stack overflow while reporting an error", "");
        return;
    }
    lua_pushcfunction(L, p_record);
    lua_pushlightuserdata(L, h);
    lua_pushvalue(L, -3);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
        lua_pop(L, 1);
        esr_set_error(h, abort != ESR_ABORT_NONE ? "limit" : "script", "error", "an error could not be reported (out of memory)", "");
    }
}

const char *esr_error_kind(esr_host *h) { return h->err_kind ? h->err_kind : ""; }
const char *esr_error_code(esr_host *h) { return h->err_code ? h->err_code : ""; }
const char *esr_error_message(esr_host *h) { return h->err_message ? h->err_message : ""; }
const char *esr_error_traceback(esr_host *h) { return h->err_traceback ? h->err_traceback : ""; }
const char *esr_error_where(esr_host *h) { return h->err_where ? h->err_where : ""; }
