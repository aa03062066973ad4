// json_encode.c: Lua value -> JSON text (contract in esr.h; shared parts in json_internal.h).
#include "json_internal.h"

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
