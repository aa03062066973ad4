// captures.c: finds state a replay function (or `initial`, or an upcaster) can carry
// from one replay to the next: tables it captures as upvalues (module-level tables,
// other than the sandbox's own read-only ones) and upvalues it assigns to. Like the
// fingerprint, it walks lua_getupvalue, through captured helper functions.
#include "host_internal.h"
#include <string.h>

// Opcode of OP_SETUPVAL ("UpValue[B] := R[A]") in Lua 5.4's lopcodes.h, and the
// position of its B argument (iABC: op 7 bits, A 8 bits, k 1 bit, then B).
#define ESR_OP_SETUPVAL 10
#define ESR_POS_B 16

typedef struct {
    const unsigned char *p;
    size_t n, at;
    int ok;
} reader;

static int rd_byte(reader *r) {
    if (r->at >= r->n) { r->ok = 0; return 0; }
    return r->p[r->at++];
}

// ldump.c's dumpSize: 7 bits a byte, most significant first, the last byte has 0x80 set.
static size_t rd_size(reader *r) {
    size_t x = 0;
    int b;
    do {
        b = rd_byte(r);
        x = (x << 7) | (size_t)(b & 0x7f);
    } while (r->ok && !(b & 0x80));
    return x;
}

static int dump_writer(lua_State *L, const void *p, size_t sz, void *ud) {
    esr_buf *b = (esr_buf *)ud;
    esr_buf_reserve(L, b, sz);
    memcpy(b->p + b->len, p, sz);
    b->len += sz;
    return 0;
}

// Marks in `written` (256 flags) the upvalues the Lua function on top of the stack assigns
// to, read from its stripped 5.4 bytecode (the main function's code only, not nested ones).
// Returns 0 when the bytecode is not in the expected format (nothing is marked then).
static int assigned_upvalues(lua_State *L, esr_host *h, unsigned char written[256]) {
    memset(written, 0, 256);
    h->tmp.len = 0;
    if (lua_dump(L, dump_writer, &h->tmp, 1) != 0) return 0;
    reader r = {(const unsigned char *)h->tmp.p, h->tmp.len, 0, 1};
    // header: signature, version 0x54, format 0, LUAC_DATA (6), sizes of Instruction,
    // lua_Integer, lua_Number, then a sample integer and number of those sizes
    if (r.n < 15 || memcmp(r.p, LUA_SIGNATURE, 4) != 0 || r.p[4] != 0x54 || r.p[5] != 0 || r.p[12] != 4) return 0;
    r.at = 15 + (size_t)r.p[13] + (size_t)r.p[14];
    rd_byte(&r);                        // number of upvalues of the main function
    size_t source = rd_size(&r);        // 0 when stripped, else length + 1
    if (source > 0) r.at += source - 1;
    rd_size(&r);                        // linedefined
    rd_size(&r);                        // lastlinedefined
    r.at += 3;                          // numparams, is_vararg, maxstacksize
    size_t ncode = rd_size(&r);
    if (!r.ok || ncode > (r.n - r.at) / 4) return 0;
    for (size_t i = 0; i < ncode; i++) {
        uint32_t ins;
        memcpy(&ins, r.p + r.at + i * 4, 4);
        if ((ins & 0x7f) == ESR_OP_SETUPVAL) written[(ins >> ESR_POS_B) & 0xff] = 1;
    }
    return 1;
}

// Whether the table at `idx` is one a replay may capture: listed in `allowed`, or one of
// the prelude's protected tables (read-only library views, aggregates, the globals).
static int trusted_table(lua_State *L, int idx, int allowed) {
    lua_pushvalue(L, idx);
    int listed = lua_rawget(L, allowed) != LUA_TNIL;
    lua_pop(L, 1);
    if (listed) return 1;
    if (!lua_getmetatable(L, idx)) return 0;
    lua_pushliteral(L, "__metatable");
    lua_rawget(L, -2);
    const char *tag = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    int ok = tag != NULL && (strcmp(tag, "read-only table") == 0 || strcmp(tag, "aggregate") == 0 ||
                             strcmp(tag, "globals") == 0);
    lua_pop(L, 2);
    return ok;
}

static void add_warning(lua_State *L, int out, const char *text) {
    lua_pushstring(L, text);
    lua_rawseti(L, out, (lua_Integer)lua_rawlen(L, out) + 1);
}

// Scans the Lua function on top of the stack (left there); `via` says how it was reached.
static void scan(lua_State *L, esr_host *h, int allowed, int out, int seen, const char *label,
                 const char *via, int depth) {
    if (lua_iscfunction(L, -1) || depth > 16) return;
    lua_pushvalue(L, -1);
    if (lua_rawget(L, seen) != LUA_TNIL) { lua_pop(L, 1); return; }
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_pushboolean(L, 1);
    lua_rawset(L, seen);

    int fn = lua_gettop(L);
    char where[200] = "";
    lua_Debug ar;
    lua_pushvalue(L, fn);
    if (lua_getinfo(L, ">S", &ar) && ar.linedefined > 0) snprintf(where, sizeof where, " (%s:%d)", ar.short_src, ar.linedefined);
    char who[400];
    if (*via) snprintf(who, sizeof who, "%s, through function '%s'%s,", label, via, where);
    else snprintf(who, sizeof who, "%s%s", label, where);

    unsigned char written[256];
    lua_pushvalue(L, fn);
    int known = assigned_upvalues(L, h, written);
    lua_pop(L, 1);
    char text[700];
    for (int i = 1; i <= 255; i++) {
        const char *name = lua_getupvalue(L, fn, i);
        if (name == NULL) break;
        if (*name == 0) name = "?";
        if (strcmp(name, "_ENV") == 0) { lua_pop(L, 1); continue; }
        int t = lua_type(L, -1);
        if (known && written[i - 1]) {
            snprintf(text, sizeof text, "%s assigns to the upvalue '%s': its value carries over from one replay to the next", who, name);
            add_warning(L, out, text);
        } else if (t == LUA_TTABLE && !trusted_table(L, lua_gettop(L), allowed)) {
            snprintf(text, sizeof text, "%s captures the table '%s': anything stored in it carries over from one replay to the next", who, name);
            add_warning(L, out, text);
        } else if (t == LUA_TFUNCTION) {
            char inner[200];
            snprintf(inner, sizeof inner, "%s", name);
            scan(L, h, allowed, out, seen, label, inner, depth + 1);
        }
        lua_pop(L, 1);
    }
}

// replay_warnings(fn, label, allowed) -> list of warnings (strings) about state `fn` can carry between replays
int esr_prim_replay_warnings(lua_State *L) {
    esr_host *h = esr_host_of(L);
    luaL_checktype(L, 1, LUA_TFUNCTION);
    const char *label = luaL_checkstring(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    luaL_checkstack(L, 16 * 8 + 20, "replay_warnings");
    lua_settop(L, 3);
    lua_newtable(L); // 4: warnings
    lua_newtable(L); // 5: functions seen
    lua_pushvalue(L, 1);
    scan(L, h, 3, 4, 5, label, "", 0);
    lua_settop(L, 4);
    esr_push_array_mt(L);
    lua_setmetatable(L, 4);
    return 1;
}
