/*
** strguard.c: guarded string.rep and table.move, and esr_install_guards, which puts
** them and the guarded pattern functions (strfind.c) into the libraries.
*/
/* Adapted from Lua 5.4.4 (see the notice in strguard_internal.h). */
#include "strguard_internal.h"

/*
** translate a relative initial string position
** (negative means back from end): clip result to [1, inf).
*/
size_t posrelatI (lua_Integer pos, size_t len) {
  if (pos > 0)
    return (size_t)pos;
  else if (pos == 0)
    return 1;
  else if (pos < -(lua_Integer)len)  /* inverted comparison */
    return 1;  /* clip to 1 */
  else return len + (size_t)pos + 1;
}


/*
** string.rep: as 5.4.4, but an empty piece with an empty separator gives
** "" at once (5.4.4 loops 'n' times copying nothing), and the copy loop
** checks for an abort every SG_REP_BYTES bytes.
*/
static int guard_str_rep (lua_State *L) {
  size_t l, lsep;
  const char *s = luaL_checklstring(L, 1, &l);
  lua_Integer n = luaL_checkinteger(L, 2);
  const char *sep = luaL_optlstring(L, 3, "", &lsep);
  if (n <= 0 || l + lsep == 0)  /* (l + lsep == 0 only when both empty) */
    lua_pushliteral(L, "");
  else if (sg_unlikely(l + lsep < l || l + lsep > MAXSIZE / n))
    return luaL_error(L, "resulting string too large");
  else {
    size_t totallen = (size_t)n * l + (size_t)(n - 1) * lsep;
    size_t copied = 0;  /* bytes copied since the last check */
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, totallen);
    while (n-- > 1) {  /* first n-1 copies (followed by separator) */
      memcpy(p, s, l * sizeof(char)); p += l;
      if (lsep > 0) {  /* empty 'memcpy' is not that cheap */
        memcpy(p, sep, lsep * sizeof(char));
        p += lsep;
      }
      copied += l + lsep;
      if (sg_unlikely(copied >= SG_REP_BYTES)) {
        copied = 0;
        esr_check_abort(L);
      }
    }
    memcpy(p, s, l * sizeof(char));  /* last copy (not followed by separator) */
    luaL_pushresultsize(&b, totallen);
  }
  return 1;
}


/*
** Operations that an object must define to mimic a table
** (some functions only need some of them)
*/
#define TAB_R	1			/* read */
#define TAB_W	2			/* write */


static int checkfield (lua_State *L, const char *key, int n) {
  lua_pushstring(L, key);
  return (lua_rawget(L, -n) != LUA_TNIL);
}


/*
** Check that 'arg' either is a table or can behave like one (that is,
** has a metatable with the required metamethods)
*/
static void checktab (lua_State *L, int arg, int what) {
  if (lua_type(L, arg) != LUA_TTABLE) {  /* is it not a table? */
    int n = 1;  /* number of elements to pop */
    if (lua_getmetatable(L, arg) &&  /* must have metatable */
        (!(what & TAB_R) || checkfield(L, "__index", ++n)) &&
        (!(what & TAB_W) || checkfield(L, "__newindex", ++n))) {
      lua_pop(L, n);  /* pop metatable and tested metamethods */
    }
    else
      luaL_checktype(L, arg, LUA_TTABLE);  /* force an error */
  }
}


/*
** table.move: as 5.4.4's tmove, checking for an abort every
** SG_MOVE_ELEMS elements.
*/
static int guard_tmove (lua_State *L) {
  lua_Integer f = luaL_checkinteger(L, 2);
  lua_Integer e = luaL_checkinteger(L, 3);
  lua_Integer t = luaL_checkinteger(L, 4);
  int tt = !lua_isnoneornil(L, 5) ? 5 : 1;  /* destination table */
  checktab(L, 1, TAB_R);
  checktab(L, tt, TAB_W);
  if (e >= f) {  /* otherwise, nothing to move */
    lua_Integer n, i;
    int left = SG_MOVE_ELEMS;  /* elements before the next check */
    luaL_argcheck(L, f > 0 || e < LUA_MAXINTEGER + f, 3,
                  "too many elements to move");
    n = e - f + 1;  /* number of elements to move */
    luaL_argcheck(L, t <= LUA_MAXINTEGER - n + 1, 4,
                  "destination wrap around");
    if (t > e || t <= f || (tt != 1 && !lua_compare(L, 1, tt, LUA_OPEQ))) {
      for (i = 0; i < n; i++) {
        if (sg_unlikely(--left == 0)) {
          left = SG_MOVE_ELEMS;
          esr_check_abort(L);
        }
        lua_geti(L, 1, f + i);
        lua_seti(L, tt, t + i);
      }
    }
    else {
      for (i = n - 1; i >= 0; i--) {
        if (sg_unlikely(--left == 0)) {
          left = SG_MOVE_ELEMS;
          esr_check_abort(L);
        }
        lua_geti(L, 1, f + i);
        lua_seti(L, tt, t + i);
      }
    }
  }
  lua_pushvalue(L, tt);  /* return destination table */
  return 1;
}

/* }====================================================== */


static void set_guard (lua_State *L, int idx, const char *name,
                       lua_CFunction f) {
  lua_pushstring(L, name);
  lua_pushcfunction(L, f);
  lua_rawset(L, idx);  /* no metamethods: these are the library tables */
}


void esr_install_guards (lua_State *L, int string_idx, int table_idx) {
  string_idx = lua_absindex(L, string_idx);
  table_idx = lua_absindex(L, table_idx);
  if (lua_type(L, string_idx) != LUA_TTABLE ||
      lua_type(L, table_idx) != LUA_TTABLE)
    luaL_error(L, "esr_install_guards: string or table library is not a table");
  luaL_checkstack(L, 2, NULL);
  set_guard(L, string_idx, "rep", guard_str_rep);
  set_guard(L, string_idx, "find", guard_str_find);
  set_guard(L, string_idx, "match", guard_str_match);
  set_guard(L, string_idx, "gmatch", guard_gmatch);
  set_guard(L, string_idx, "gsub", guard_str_gsub);
  set_guard(L, table_idx, "move", guard_tmove);
}
