// json.c: the JSON codec of LuaES (contract in esr.h).
//
// Both directions recurse once per nesting level and check the depth limit
// before recursing, so C recursion is bounded by max_depth. Errors are raised
// with luaL_error; nothing here owns malloc'd memory except the caller's
// esr_buf, so longjmp-ing out leaks nothing. Tables are only read raw.
#include "esr.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_DEPTH 128
#define DEFAULT_BYTES ((size_t)16 << 20)
#define PATH_CHARS 200 // error paths are cut (with "...") beyond this
#define KEEP 16        // object entries whose key/value stay on the Lua stack while encoding
#define NORETURN __attribute__((noreturn))

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

// Length of the valid UTF-8 sequence at p (p < e), or 0 when invalid:
// overlongs, surrogates, > U+10FFFF and truncated sequences are rejected.
static size_t utf8_seq(const unsigned char *p, const unsigned char *e) {
    unsigned c = p[0], lo = 0x80, hi = 0xBF;
    size_t n;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;      // overlong
        else if (c == 0xED) hi = 0x9F; // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;      // overlong
        else if (c == 0xF4) hi = 0x8F; // > U+10FFFF
    } else return 0;
    if ((size_t)(e - p) < n || p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    return n;
}

static int utf8_valid(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    for (size_t k; p < e; p += k)
        if (!(k = utf8_seq(p, e))) return 0;
    return 1;
}

// ---------------------------------------------------------------- encoder

// One step of the path from the root to the value being encoded. Frames live
// on the C stack of the recursion and double as the cycle-detection stack.
typedef struct frame {
    const struct frame *up; // NULL for the root ("$")
    const void *tbl;        // the table at this path, if any
    const char *key;        // object key, or NULL for an array index
    size_t klen;
    lua_Integer index;
} frame;

typedef struct enc {
    lua_State *L;
    esr_buf *b;
    size_t start, max_bytes; // b->len - start is the size of this call's text
    int max_depth;
} enc;

typedef struct pathbuf { char s[PATH_CHARS + 8]; size_t n; int cut; } pathbuf;

// Appends unless the path is full; never splits a UTF-8 sequence.
static void path_add(pathbuf *pb, const char *s, size_t n) {
    if (pb->cut) return;
    if (pb->n + n > PATH_CHARS) {
        n = PATH_CHARS - pb->n;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
        pb->cut = 1;
    }
    memcpy(pb->s + pb->n, s, n);
    pb->n += n;
}

static int is_ident(const char *s, size_t n) {
    if (n == 0 || (s[0] >= '0' && s[0] <= '9')) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return 0;
    }
    return 1;
}

static void path_write(pathbuf *pb, const frame *f) {
    char t[32];
    if (!f->up) {
        path_add(pb, "$", 1);
        return;
    }
    path_write(pb, f->up);
    if (!f->key) {
        path_add(pb, t, (size_t)snprintf(t, sizeof t, "[%lld]", (long long)f->index));
    } else if (is_ident(f->key, f->klen)) {
        path_add(pb, ".", 1);
        path_add(pb, f->key, f->klen);
    } else {
        // ["key"]: the message must stay NUL-free valid UTF-8, so other bytes are \xHH.
        const unsigned char *p = (const unsigned char *)f->key, *e = p + f->klen;
        int raw = utf8_valid(f->key, f->klen);
        path_add(pb, "[\"", 2);
        for (size_t k = 1; p < e; p += k, k = 1) {
            if (*p >= 0x80 && raw) path_add(pb, (const char *)p, k = utf8_seq(p, e));
            else if (*p == '"' || *p == '\\') path_add(pb, t, (size_t)snprintf(t, sizeof t, "\\%c", *p));
            else if (*p < 0x20 || *p >= 0x7F) path_add(pb, t, (size_t)snprintf(t, sizeof t, "\\x%02X", *p));
            else path_add(pb, (const char *)p, 1);
        }
        path_add(pb, "\"]", 2);
    }
}

static NORETURN void enc_fail(enc *e, const frame *f, const char *what) {
    pathbuf pb = {.n = 0, .cut = 0};
    path_write(&pb, f);
    strcpy(pb.s + pb.n, pb.cut ? "..." : "");
    luaL_error(e->L, "%s at %s", what, pb.s);
    __builtin_unreachable();
}

static NORETURN void enc_too_big(enc *e) {
    luaL_error(e->L, "JSON text larger than %I bytes", (lua_Integer)e->max_bytes);
    __builtin_unreachable();
}

static inline void ensure(enc *e, size_t n) {
    if (e->b->cap - e->b->len < n) esr_buf_reserve(e->L, e->b, n);
}

static inline void put(enc *e, const char *s, size_t n) {
    ensure(e, n);
    memcpy(e->b->p + e->b->len, s, n);
    e->b->len += n;
}

static inline void put_char(enc *e, char c) {
    ensure(e, 1);
    e->b->p[e->b->len++] = c;
}

static void put_string(enc *e, const char *s, size_t n, const frame *f, int is_key) {
    esr_buf *b = e->b;
    // Over the limit even unescaped: fail before growing the buffer.
    if (n > e->max_bytes || b->len - e->start > e->max_bytes - n) enc_too_big(e);
    ensure(e, n + 2); // the quotes and every byte unescaped
    char *o = b->p + b->len;
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    *o++ = '"';
    while (p < end) {
        unsigned c = *p;
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
            *o++ = (char)c;
            p++;
        } else if (c >= 0x80) {
            size_t k = utf8_seq(p, end);
            if (!k) enc_fail(e, f, is_key ? "invalid UTF-8 in a key" : "invalid UTF-8 in string");
            memcpy(o, p, k);
            o += k;
            p += k;
        } else {
            // An escape is up to 6 bytes for 1: reserve again for it, the
            // rest of the input unescaped and the closing quote.
            static const char hex[] = "0123456789abcdef";
            const char *short_esc = c ? strchr("\"\\\n\r\t\b\f", (int)c) : NULL;
            b->len = (size_t)(o - b->p);
            ensure(e, (size_t)(end - p) + 6);
            o = b->p + b->len;
            *o++ = '\\';
            if (short_esc) {
                *o++ = "\"\\nrtbf"[short_esc - "\"\\\n\r\t\b\f"];
            } else {
                memcpy(o, "u00", 3);
                o[3] = hex[c >> 4];
                o[4] = hex[c & 15];
                o += 5;
            }
            p++;
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->p);
}

static void put_int(enc *e, lua_Integer v) {
    static const char d2[] = "00010203040506070809101112131415161718192021222324"
                             "25262728293031323334353637383940414243444546474849"
                             "50515253545556575859606162636465666768697071727374"
                             "75767778798081828384858687888990919293949596979899";
    char t[24], *q = t + sizeof t;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v; // exact for INT64_MIN too
    for (; u >= 100; u /= 100) memcpy(q -= 2, d2 + 2 * (u % 100), 2);
    if (u >= 10) memcpy(q -= 2, d2 + 2 * u, 2);
    else *--q = (char)('0' + u);
    if (v < 0) *--q = '-';
    put(e, q, (size_t)(t + sizeof t - q));
}

static void put_float(enc *e, double d, const frame *f) {
    char t[48];
    int n = 0, marked = 0;
    if (isnan(d)) enc_fail(e, f, "cannot encode NaN");
    if (isinf(d)) enc_fail(e, f, d > 0 ? "cannot encode inf" : "cannot encode -inf");
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(t, sizeof t - 2, "%.*g", prec, d);
        if (prec == 17 || strtod(t, NULL) == d) break;
    }
    for (int i = 0; i < n; i++) {
        if (t[i] == ',') t[i] = '.'; // a non-C LC_NUMERIC
        if (t[i] == '.' || t[i] == 'e' || t[i] == 'E') marked = 1;
    }
    if (!marked) n += snprintf(t + n, 3, ".0");
    put(e, t, (size_t)n);
}

typedef struct kv { const char *s; size_t n; int vidx; } kv; // vidx: stack index of the value or 0

// Byte order, then length. A plain loop: keys are short and memcmp is a call.
static int kv_cmp(const void *pa, const void *pb) {
    const kv *a = pa, *b = pb;
    const unsigned char *x = (const unsigned char *)a->s, *y = (const unsigned char *)b->s;
    size_t n = a->n < b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i]) return (int)x[i] - (int)y[i];
    return (a->n > b->n) - (a->n < b->n);
}

static void sort_keys(kv *k, size_t n) {
    if (n > 8) {
        qsort(k, n, sizeof *k, kv_cmp);
        return;
    }
    for (size_t i = 1, j; i < n; i++) {
        kv x = k[i];
        for (j = i; j > 0 && kv_cmp(&k[j - 1], &x) > 0; j--) k[j] = k[j - 1];
        k[j] = x;
    }
}

static void enc_value(enc *e, int idx, frame *f, int depth);

static void enc_table(enc *e, int idx, frame *f, int depth) {
    lua_State *L = e->L;
    char m[80];
    if (depth > e->max_depth) {
        snprintf(m, sizeof m, "JSON nesting deeper than %d", e->max_depth);
        enc_fail(e, f, m);
    }
    f->tbl = lua_topointer(L, idx);
    for (const frame *g = f->up; g; g = g->up)
        if (g->tbl == f->tbl) enc_fail(e, f, "cannot encode a cyclic table");
    if (!lua_checkstack(L, 2 * KEEP + 8)) luaL_error(L, "stack overflow (JSON encode)");

    // Pass 1: classify the keys and collect the string keys (anchored by the
    // table). The first KEEP string-keyed pairs stay on the stack so their
    // values need no second lookup.
    int top = lua_gettop(L);
    kv small[KEEP], *keys = small;
    size_t cap = KEEP, nstr = 0, count = 0;
    lua_Integer maxk = 0;
    int sparse = 0;
    lua_pushnil(L); // top + 1: holds the key array once it outgrows `small`
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int kt = lua_type(L, -2);
        count++;
        if (kt == LUA_TSTRING) {
            if (nstr == cap) {
                if (cap > SIZE_MAX / sizeof(kv) / 2) luaL_error(L, "out of memory");
                kv *bigger = lua_newuserdatauv(L, 2 * cap * sizeof(kv), 0);
                memcpy(bigger, keys, cap * sizeof(kv));
                lua_replace(L, top + 1); // the previous array becomes garbage
                keys = bigger;
                cap *= 2;
            }
            keys[nstr].s = lua_tolstring(L, -2, &keys[nstr].n);
            if (nstr < KEEP) {
                keys[nstr++].vidx = lua_gettop(L);
                lua_pushvalue(L, -2); // [k v k]: lua_next goes on from the copy
                continue;
            }
            keys[nstr++].vidx = 0;
        } else if (kt == LUA_TNUMBER) {
            int is_int;
            lua_Integer k = lua_tointegerx(L, -2, &is_int); // keys are never integral floats
            if (!is_int) enc_fail(e, f, "cannot encode a table with a float key");
            if (k < 1) sparse = 1;
            else if (k > maxk) maxk = k;
        } else {
            snprintf(m, sizeof m, "cannot encode a table with a %s key", lua_typename(L, kt));
            enc_fail(e, f, m);
        }
        lua_pop(L, 1);
    }

    if (count == 0) {
        int is_array = 0;
        if (lua_getmetatable(L, idx)) {
            esr_push_array_mt(L);
            is_array = lua_rawequal(L, -1, -2);
            lua_pop(L, 2);
        }
        put(e, is_array ? "[]" : "{}", 2);
    } else if (nstr == 0) {
        if (sparse || maxk != (lua_Integer)count) enc_fail(e, f, "cannot encode a table with sparse integer keys");
        put_char(e, '[');
        for (lua_Integer i = 1; i <= maxk; i++) {
            frame c = {f, NULL, NULL, 0, i};
            if (i > 1) put_char(e, ',');
            lua_rawgeti(L, idx, i);
            enc_value(e, top + 2, &c, depth); // pass 1 left only slot top + 1
            lua_pop(L, 1);
        }
        put_char(e, ']');
    } else if (nstr == count) {
        sort_keys(keys, nstr);
        put_char(e, '{');
        for (size_t i = 0; i < nstr; i++) {
            frame c = {f, NULL, keys[i].s, keys[i].n, 0};
            if (i) put_char(e, ',');
            put_string(e, keys[i].s, keys[i].n, f, 1);
            put_char(e, ':');
            if (keys[i].vidx) {
                enc_value(e, keys[i].vidx, &c, depth);
            } else {
                lua_pushlstring(L, keys[i].s, keys[i].n);
                lua_rawget(L, idx);
                enc_value(e, lua_gettop(L), &c, depth);
                lua_pop(L, 1);
            }
        }
        put_char(e, '}');
    } else {
        enc_fail(e, f, "cannot encode a table with mixed string and integer keys");
    }
    lua_settop(L, top);
}

// `depth` is the number of tables enclosing the value.
static void enc_value(enc *e, int idx, frame *f, int depth) {
    lua_State *L = e->L;
    int t = lua_type(L, idx);
    switch (t) {
    case LUA_TNONE:
    case LUA_TNIL: put(e, "null", 4); break;
    case LUA_TBOOLEAN: lua_toboolean(L, idx) ? put(e, "true", 4) : put(e, "false", 5); break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) put_int(e, lua_tointeger(L, idx));
        else put_float(e, (double)lua_tonumber(L, idx), f);
        break;
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        put_string(e, s, n, f, 0);
    } break;
    case LUA_TTABLE: enc_table(e, idx, f, depth + 1); break;
    default: {
        char m[64];
        snprintf(m, sizeof m, "cannot encode a %s", lua_typename(L, t));
        enc_fail(e, f, m);
    }
    }
    if (e->b->len - e->start > e->max_bytes) enc_too_big(e);
}

void esr_json_encode(lua_State *L, int idx, esr_buf *b, const esr_json_limits *lim) {
    frame root = {NULL, NULL, NULL, 0, 0};
    enc e = {L, b, b->len, DEFAULT_BYTES, DEFAULT_DEPTH};
    if (lim && lim->max_depth > 0) e.max_depth = lim->max_depth;
    if (lim && lim->max_bytes > 0) e.max_bytes = lim->max_bytes;
    enc_value(&e, lua_absindex(L, idx), &root, 0);
}

// ---------------------------------------------------------------- decoder

typedef struct dec {
    lua_State *L;
    const char *s, *p, *e; // input start, cursor, end
    int depth, max_depth;
} dec;

static NORETURN void dec_fail(dec *d, const char *at, const char *what) {
    luaL_error(d->L, "invalid JSON at byte %I: %s", (lua_Integer)(at - d->s), what);
    __builtin_unreachable();
}

static inline void skip_ws(dec *d) {
    const char *p = d->p, *e = d->e;
    while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    d->p = p;
}

// Skips whitespace and fails at the end of the input.
static inline char peek(dec *d) {
    skip_ws(d);
    if (d->p >= d->e) dec_fail(d, d->p, "unexpected end of input");
    return *d->p;
}

static long hex4(const char *p) {
    long v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int x = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (x < 0) return -1;
        v = v << 4 | x;
    }
    return v;
}

// The string has escapes: build it in a luaL_Buffer (stack-anchored, so an
// error leaks nothing). `run` starts the plain bytes not yet copied, p is at
// the first backslash. Out of line so the luaL_Buffer stays out of the
// recursive frames.
static __attribute__((noinline)) void dec_string_escaped(dec *d, const char *run, const char *p) {
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *e = d->e;
    luaL_Buffer b;
    luaL_buffinit(d->L, &b);
    for (;;) {
        if (p >= e) dec_fail(d, p, "unterminated string");
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') luaL_addlstring(&b, run, (size_t)(p - run));
        if (c == '"') break;
        if (c == '\\') {
            const char *esc = p, *simple = e - p >= 2 && p[1] ? strchr(from, p[1]) : NULL;
            if (e - p < 2) dec_fail(d, p, "unterminated string");
            if (simple) {
                luaL_addchar(&b, to[simple - from]);
                p += 2;
            } else if (p[1] == 'u') {
                long cp = e - p >= 6 ? hex4(p + 2) : -1, lo;
                if (cp < 0) dec_fail(d, esc, "invalid \\u escape");
                p += 6;
                if (cp >= 0xDC00 && cp <= 0xDFFF) dec_fail(d, esc, "lone surrogate in \\u escape");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    lo = e - p >= 6 && p[0] == '\\' && p[1] == 'u' ? hex4(p + 2) : -1;
                    if (lo < 0xDC00 || lo > 0xDFFF) dec_fail(d, esc, "lone surrogate in \\u escape");
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                }
                char u[4];
                size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
                for (size_t i = n - 1; i > 0; i--, cp >>= 6) u[i] = (char)(0x80 | (cp & 0x3F));
                u[0] = (char)((unsigned char)"\0\0\xC0\xE0\xF0"[n] | cp);
                luaL_addlstring(&b, u, n);
            } else {
                dec_fail(d, esc, "invalid escape");
            }
            run = p;
        } else if (c < 0x20) {
            dec_fail(d, p, "control character in string");
        } else {
            size_t k = utf8_seq((const unsigned char *)p, (const unsigned char *)e);
            if (!k) dec_fail(d, p, "invalid UTF-8");
            p += k;
        }
    }
    luaL_pushresult(&b);
    d->p = p + 1;
}

// d->p is at the opening quote; pushes the string.
static void dec_string(dec *d) {
    const char *start = d->p + 1, *p = start, *e = d->e;
    for (;;) {
        if (p >= e) dec_fail(d, p, "unterminated string");
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            p++;
        } else if (c == '"') {
            lua_pushlstring(d->L, start, (size_t)(p - start));
            d->p = p + 1;
            return;
        } else if (c == '\\') {
            dec_string_escaped(d, start, p);
            return;
        } else if (c < 0x20) {
            dec_fail(d, p, "control character in string");
        } else {
            size_t k = utf8_seq((const unsigned char *)p, (const unsigned char *)e);
            if (!k) dec_fail(d, p, "invalid UTF-8");
            p += k;
        }
    }
}

#define IS_DIGIT(c) ((unsigned char)((c) - '0') < 10)

static void dec_number(dec *d) {
    const char *start = d->p, *p = start, *e = d->e;
    int neg = *p == '-', is_float = 0;
    uint64_t u = 0;
    const char *digits;
    p += neg;
    if (p >= e || !IS_DIGIT(*p)) dec_fail(d, p, "invalid number");
    if (*p == '0') {
        if (++p < e && IS_DIGIT(*p)) dec_fail(d, start, "leading zeros are not allowed");
    } else {
        for (digits = p; p < e && IS_DIGIT(*p); p++) u = u * 10 + (uint64_t)(*p - '0');
        if (p - digits > 19) u = UINT64_MAX; // may have wrapped; 19 digits cannot
    }
    if (p < e && *p == '.') {
        if (++p >= e || !IS_DIGIT(*p)) dec_fail(d, p, "invalid number");
        while (p < e && IS_DIGIT(*p)) p++;
        is_float = 1;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        if (++p < e && (*p == '+' || *p == '-')) p++;
        if (p >= e || !IS_DIGIT(*p)) dec_fail(d, p, "invalid number");
        while (p < e && IS_DIGIT(*p)) p++;
        is_float = 1;
    }
    d->p = p;
    if (!is_float) {
        if (u > (uint64_t)INT64_MAX + (uint64_t)neg) dec_fail(d, start, "integer out of range");
        lua_pushinteger(d->L, !neg ? (lua_Integer)u : u == (uint64_t)1 << 63 ? LUA_MININTEGER : -(lua_Integer)u);
        return;
    }
    // strtod needs a NUL-terminated copy; a very long one goes in a userdata.
    size_t n = (size_t)(p - start);
    char tmp[64], *end, *dot;
    char *text = n < sizeof tmp ? tmp : lua_newuserdatauv(d->L, n + 1, 0);
    memcpy(text, start, n);
    text[n] = '\0';
    double v = strtod(text, &end);
    if (end != text + n && (dot = strchr(text, '.'))) {
        *dot = localeconv()->decimal_point[0]; // LC_NUMERIC is not "C"
        v = strtod(text, &end);
    }
    if (end != text + n) dec_fail(d, start, "invalid number");
    if (text != tmp) lua_pop(d->L, 1);
    if (isinf(v)) dec_fail(d, start, "number out of range");
    lua_pushnumber(d->L, (lua_Number)v);
}

static int dec_value(dec *d);

// d->p is at '[' or '{': checks the depth and the stack, steps over the
// bracket and tells whether the container is empty (`close` follows).
static int dec_open(dec *d, char close) {
    if (++d->depth > d->max_depth)
        luaL_error(d->L, "JSON nesting deeper than %d at byte %I", d->max_depth, (lua_Integer)(d->p - d->s));
    if (!lua_checkstack(d->L, 8)) luaL_error(d->L, "stack overflow (JSON decode)");
    d->p++;
    if (peek(d) != close) return 0;
    d->p++;
    d->depth--;
    return 1;
}

// After an element: steps over ',' (returns 1) or the closing bracket (returns 0).
static int dec_next(dec *d, char close, const char *what) {
    char c = peek(d);
    d->p++;
    if (c == ',') return 1;
    if (c != close) dec_fail(d, d->p - 1, what);
    d->depth--;
    return 0;
}

static void dec_array(dec *d) {
    lua_State *L = d->L;
    if (dec_open(d, ']')) {
        lua_createtable(L, 0, 0);
        esr_push_array_mt(L);
        lua_setmetatable(L, -2);
        return;
    }
    lua_createtable(L, 4, 0);
    lua_Integer n = 0;
    do {
        peek(d);
        const char *at = d->p;
        if (dec_value(d)) // Lua cannot hold nil in a sequence
            luaL_error(L, "null inside an array is not supported at byte %I", (lua_Integer)(at - d->s));
        lua_rawseti(L, -2, ++n);
    } while (dec_next(d, ']', "expected ',' or ']'"));
}

static void dec_object(dec *d) {
    lua_State *L = d->L;
    if (dec_open(d, '}')) {
        lua_createtable(L, 0, 0);
        return;
    }
    lua_createtable(L, 0, 4);
    do {
        if (peek(d) != '"') dec_fail(d, d->p, "expected a string key");
        dec_string(d);
        if (peek(d) != ':') dec_fail(d, d->p, "expected ':'");
        d->p++;
        dec_value(d);      // null pushes nil: the key is dropped (or removed: last wins)
        lua_rawset(L, -3);
    } while (dec_next(d, '}', "expected ',' or '}'"));
}

static void dec_literal(dec *d, const char *lit, size_t n) {
    if ((size_t)(d->e - d->p) < n || memcmp(d->p, lit, n) != 0) dec_fail(d, d->p, "invalid literal");
    d->p += n;
}

// Pushes one value (nil for null); returns 1 when it was null.
static int dec_value(dec *d) {
    switch (peek(d)) {
    case '{': dec_object(d); return 0;
    case '[': dec_array(d); return 0;
    case '"': dec_string(d); return 0;
    case 't': dec_literal(d, "true", 4); lua_pushboolean(d->L, 1); return 0;
    case 'f': dec_literal(d, "false", 5); lua_pushboolean(d->L, 0); return 0;
    case 'n': dec_literal(d, "null", 4); lua_pushnil(d->L); return 1;
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9': dec_number(d); return 0;
    default: dec_fail(d, d->p, "expected a value");
    }
}

void esr_json_decode(lua_State *L, const char *s, size_t len, const esr_json_limits *lim) {
    dec d = {L, s, s, s + len, 0, lim && lim->max_depth > 0 ? lim->max_depth : DEFAULT_DEPTH};
    size_t max_bytes = lim && lim->max_bytes > 0 ? lim->max_bytes : DEFAULT_BYTES;
    if (len > max_bytes) luaL_error(L, "JSON text larger than %I bytes", (lua_Integer)max_bytes);
    if (!lua_checkstack(L, 8)) luaL_error(L, "stack overflow (JSON decode)");
    if (len == 0) dec_fail(&d, s, "empty input");
    dec_value(&d);
    skip_ws(&d);
    if (d.p < d.e) dec_fail(&d, d.p, "unexpected characters after the value");
}
