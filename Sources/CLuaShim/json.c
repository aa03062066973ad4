// json.c: the JSON codec of LuaES (contract in esr.h).
//
// Both directions recurse once per nesting level and check the depth limit
// before recursing, so C recursion is bounded by max_depth. Errors are raised
// with luaL_error; nothing here owns malloc'd memory except the caller's
// esr_buf, so longjmp-ing out leaks nothing. Tables are only read raw.
#include "json_internal.h"

// ---------------------------------------------------------------- buffer

// Afterwards b->p is never NULL, even for n == 0.
void esr_buf_reserve(lua_State *L, esr_buf *b, size_t n) {
    if (b->p && b->cap - b->len >= n) return;
    if (n > SIZE_MAX / 2 - b->len) luaL_error(L, "out of memory");
    size_t need = b->len + n, cap = b->cap ? b->cap : 256;
    while (cap < need) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) luaL_error(L, "out of memory");
    b->p = p, b->cap = cap;
}

void esr_buf_free(esr_buf *b) {
    free(b->p);
    *b = (esr_buf){NULL, 0, 0};
}

// ---------------------------------------------------------------- shared

static const char array_mt_key = 0; // its address is the registry key

void esr_push_array_mt(lua_State *L) {
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &array_mt_key) == LUA_TTABLE) return;
    lua_pop(L, 1);
    lua_createtable(L, 0, 0);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &array_mt_key);
}
