// json_internal.h: what the JSON encoder and decoder share (json.c, json_encode.c, json_decode.c).
#ifndef ESR_JSON_INTERNAL_H
#define ESR_JSON_INTERNAL_H

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

// Length of the valid UTF-8 sequence at p (p < e), or 0 when invalid:
// overlongs, surrogates, > U+10FFFF and truncated sequences are rejected.
static inline size_t utf8_seq(const unsigned char *p, const unsigned char *e) {
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

static inline int utf8_valid(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    for (size_t k; p < e; p += k)
        if (!(k = utf8_seq(p, e))) return 0;
    return 1;
}

#endif
