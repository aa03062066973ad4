// json_decode.c: JSON text -> Lua value (contract in esr.h; shared parts in json_internal.h).
#include "json_internal.h"

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
