#ifndef ESR_STRGUARD_INTERNAL_H
#define ESR_STRGUARD_INTERNAL_H
/*
** strguard_internal.h (with strguard.c, strmatch.c, strfind.c): guarded replacements for string.rep, string.find,
** string.match, string.gmatch, string.gsub and table.move.
**
** These standard functions can loop for a very long time inside C, where
** the host's debug hook never fires (catastrophic backtracking in patterns,
** string.rep("", 1e18), table.move over a huge range). The versions here
** behave like Lua 5.4.4's but call esr_check_abort() regularly, so the
** watchdog can stop them.
**
** Adapted from Lua 5.4.4 (lua-5.4.4/src/lstrlib.c and ltablib.c, as shipped
** in Debian's lua5.4 5.4.4-3+deb12u1 source package, which does not patch
** these two files):
**   - from lstrlib.c: posrelatI, str_rep, and the whole PATTERN MATCHING
**     section (MatchState, check_capture, capture_to_close, classend,
**     match_class, matchbracketclass, singlematch, matchbalance, max_expand,
**     min_expand, start_capture, end_capture, match_capture, match, lmemfind,
**     get_onecapture, push_onecapture, push_captures, nospecials, prepstate,
**     reprepstate, str_find_aux, str_find, str_match, gmatch_aux, gmatch,
**     add_s, add_value, str_gsub);
**   - from ltablib.c: checkfield, checktab, tmove.
** Changes: a work counter in MatchState (see TICK) and in lmemfind, str_rep
** and tmove that calls esr_check_abort; str_rep returns "" at once when the
** piece and the separator are both empty; gmatch_aux resets the recursion
** depth counter before each match (so an error raised mid-match, e.g. by the
** watchdog, cannot leave the iterator's state skewed).
**
** Lua's copyright notice, which covers the adapted code:
**
** Copyright (C) 1994-2022 Lua.org, PUC-Rio.
**
** Permission is hereby granted, free of charge, to any person obtaining
** a copy of this software and associated documentation files (the
** "Software"), to deal in the Software without restriction, including
** without limitation the rights to use, copy, modify, merge, publish,
** distribute, sublicense, and/or sell copies of the Software, and to
** permit persons to whom the Software is furnished to do so, subject to
** the following conditions:
**
** The above copyright notice and this permission notice shall be
** included in all copies or substantial portions of the Software.
**
** THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND,
** EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF
** MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT.
** IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY
** CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT,
** TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE
** SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
*/

#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "esr.h"


#if defined(__GNUC__)
#define sg_unlikely(x)	(__builtin_expect(((x) != 0), 0))
#else
#define sg_unlikely(x)	(x)
#endif


/* how much work (roughly: match steps) between two esr_check_abort calls */
#define SG_MATCH_STEPS		1024
/* bytes scanned by a plain find between two checks */
#define SG_FIND_BYTES		((size_t)1 << 20)
/* bytes copied by string.rep between two checks */
#define SG_REP_BYTES		((size_t)1 << 16)
/* elements moved by table.move between two checks */
#define SG_MOVE_ELEMS		1024


/*
** maximum number of captures that a pattern can do during
** pattern-matching. This limit is arbitrary, but must fit in
** an unsigned char.
*/
#if !defined(LUA_MAXCAPTURES)
#define LUA_MAXCAPTURES		32
#endif


/* macro to 'unsign' a character */
#define uchar(c)	((unsigned char)(c))


/*
** Some sizes are better limited to fit in 'int', but must also fit in
** 'size_t'. (We assume that 'lua_Integer' cannot be smaller than 'int'.)
*/
#define MAX_SIZET	((size_t)(~(size_t)0))

#define MAXSIZE  \
	(sizeof(size_t) < sizeof(int) ? MAX_SIZET : (size_t)(INT_MAX))



/*
** {======================================================
** PATTERN MATCHING
** =======================================================
*/


#define CAP_UNFINISHED	(-1)
#define CAP_POSITION	(-2)


typedef struct MatchState {
  const char *src_init;  /* init of source string */
  const char *src_end;  /* end ('\0') of source string */
  const char *p_end;  /* end ('\0') of pattern */
  lua_State *L;
  int matchdepth;  /* control for recursive depth (to avoid C stack overflow) */
  unsigned char level;  /* total number of captures (finished or unfinished) */
  ptrdiff_t budget;  /* work left before the next esr_check_abort */
  struct {
    const char *init;
    ptrdiff_t len;
  } capture[LUA_MAXCAPTURES];
} MatchState;




/* maximum recursion depth for 'match' */
#if !defined(MAXCCALLS)
#define MAXCCALLS	200
#endif


#define L_ESC		'%'
#define SPECIALS	"^$*+?.([%-"


/* account for 'n' units of matching work */
#define TICK(ms,n)  \
  do { if (sg_unlikely(((ms)->budget -= (ptrdiff_t)(n)) <= 0)) \
         guard_tick(ms); } while (0)

/* work units charged for scanning 'len' bytes with a fast loop */
#define BYTES_COST(len)	((ptrdiff_t)((len) >> 6))



/* shared between strguard.c, strmatch.c and strfind.c; prefixed so they never clash with liblua */
#define match sg_match
#define lmemfind sg_lmemfind
#define get_onecapture sg_get_onecapture
#define push_onecapture sg_push_onecapture
#define push_captures sg_push_captures
#define nospecials sg_nospecials
#define prepstate sg_prepstate
#define reprepstate sg_reprepstate
#define guard_tick sg_guard_tick
#define posrelatI sg_posrelatI

const char *match (MatchState *ms, const char *s, const char *p);
const char *lmemfind (lua_State *L, const char *s1, size_t l1,
                               const char *s2, size_t l2);
size_t get_onecapture (MatchState *ms, int i, const char *s,
                              const char *e, const char **cap);
void push_onecapture (MatchState *ms, int i, const char *s,
                                                    const char *e);
int push_captures (MatchState *ms, const char *s, const char *e);
int nospecials (const char *p, size_t l);
void prepstate (MatchState *ms, lua_State *L,
                       const char *s, size_t ls, const char *p, size_t lp);
void reprepstate (MatchState *ms);
void guard_tick (MatchState *ms);
size_t posrelatI (lua_Integer pos, size_t len);
int guard_str_find (lua_State *L);
int guard_str_match (lua_State *L);
int guard_gmatch (lua_State *L);
int guard_str_gsub (lua_State *L);

#endif
