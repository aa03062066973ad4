// esr.h: the C side of LuaES's Lua host.
//
// Swift never calls a raising Lua API: every call that may allocate, run a
// metamethod or raise goes through an entry point here that runs under
// lua_pcall. Swift callbacks (esr_callback) never touch the Lua stack; they
// get and return plain bytes (JSON text), and C pushes or raises for them.
#ifndef ESR_H
#define ESR_H

#include <stddef.h>
#include <stdint.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---------------------------------------------------------------- phases
enum {
    ESR_PHASE_LOAD = 0,   // a script's top level
    ESR_PHASE_HOST = 1,   // a driver script run by `esrun script.lua`
    ESR_PHASE_HANDLE = 2, // a command handler
    ESR_PHASE_REPLAY = 3  // a replay function, upcaster or `initial`
};

// ---------------------------------------------------------------- aborts (sticky limits)
enum {
    ESR_ABORT_NONE = 0,
    ESR_ABORT_TIME = 1,
    ESR_ABORT_INSTRUCTIONS = 2,
    ESR_ABORT_MEMORY = 3,
    ESR_ABORT_INTERRUPT = 4
};

// ---------------------------------------------------------------- growable byte buffer (malloc'd, outside Lua's allocator)
typedef struct esr_buf {
    char *p;
    size_t len;
    size_t cap;
} esr_buf;

// Makes room for n more bytes; raises a Lua error when malloc fails. Protected context only.
void esr_buf_reserve(lua_State *L, esr_buf *b, size_t n);
void esr_buf_free(esr_buf *b);

// ---------------------------------------------------------------- JSON codec (json.c)
typedef struct esr_json_limits {
    int max_depth;        // nesting depth for encode and decode (default 128)
    size_t max_bytes;     // largest text produced or accepted (default 16 MiB)
} esr_json_limits;

// Appends the JSON text of the value at `idx` to `b`. Integers stay integers,
// floats are written shortest-round-trip and always carry '.', 'e' or are "x.0".
// Object keys are sorted (byte order) so output is deterministic.
// Raises a Lua string error naming the path (e.g. "cannot encode a function at $.items[2].f")
// on functions, userdata, threads, NaN/inf, cycles, mixed or sparse tables,
// non-string non-integer keys, invalid UTF-8, depth or size over the limits.
// Never runs metamethods (raw access only). Protected context only.
void esr_json_encode(lua_State *L, int idx, esr_buf *b, const esr_json_limits *lim);

// Pushes the Lua value of the JSON text. Numbers without '.', 'e', 'E' are
// integers (int64, exact; out of range is an error), others are floats.
// Empty arrays get the array marker metatable (so they encode back as []).
// Raises a Lua string error "invalid JSON at byte N: ..." on malformed input,
// invalid UTF-8, lone surrogates, trailing garbage, depth or size over limits.
// Protected context only.
void esr_json_decode(lua_State *L, const char *s, size_t len, const esr_json_limits *lim);

// Pushes the metatable that marks a table as a JSON array (used for empty arrays).
void esr_push_array_mt(lua_State *L);

// ---------------------------------------------------------------- the host
typedef struct esr_host esr_host;

// Values passed in and out of esr_invoke.
enum {
    ESR_V_NIL = 0,
    ESR_V_INT = 1,     // i
    ESR_V_BOOL = 2,    // i != 0
    ESR_V_STR = 3,     // s, len (in: pushed as a string; out: copied into the out buffer)
    ESR_V_JSON = 4,    // s, len (in: decoded; out: encoded into the out buffer)
    ESR_V_REF = 5,     // i = registry ref (in: pushed; out: luaL_ref'd, caller unrefs)
    ESR_V_EVENTS = 6   // out only: a list of event values encoded into host events
};

typedef struct esr_value {
    int kind;
    int64_t i;
    const char *s;
    size_t len;
} esr_value;

// One event handed to esr_replay or produced by a handler.
typedef struct esr_event {
    const char *type;
    size_t type_len;
    const char *data;
    size_t data_len;
    int64_t schema;
} esr_event;

// Limits for one kind of call (0 = unlimited).
typedef struct esr_limits {
    size_t memory_bytes;       // memory a call may add on top of what the state held when it began
    int64_t time_ms;           // wall-clock budget, enforced by the watchdog arming a hook
    int64_t instructions;      // exact VM instruction budget (count hook from the start; slower)
} esr_limits;

// A call back into Swift. `op` names the operation, `arg`/`arg_len` is JSON text.
// Swift answers through esr_reply_ok/esr_reply_error and returns 0.
// It must not call any Lua API.
typedef struct esr_reply esr_reply;
typedef int (*esr_callback)(void *ctx, const char *op, const char *arg, size_t arg_len, esr_reply *reply);
void esr_reply_ok(esr_reply *r, const char *json, size_t len);
void esr_reply_error(esr_reply *r, const char *kind, const char *code, const char *message);

// Creates a state with the LuaES allocator, libraries and limits; NULL when out of memory.
esr_host *esr_open(void);
void esr_close(esr_host *h);
lua_State *esr_state(esr_host *h);

void esr_set_limits(esr_host *h, int phase, esr_limits limits);
void esr_set_json_limits(esr_host *h, esr_json_limits limits);
void esr_set_callback(esr_host *h, esr_callback cb, void *ctx);
void esr_set_script_dir(esr_host *h, const char *dir);
// Asynchronously stops the running call (Ctrl-C); safe from any thread.
void esr_interrupt(esr_host *h);
size_t esr_memory_in_use(esr_host *h);
// Runs a full garbage collection (protected); returns the memory in use afterwards.
size_t esr_collect(esr_host *h);

// Loads the trusted prelude (runs unsandboxed, once) which builds the sandbox. Its
// chunks are compiled into the binary (prelude.c) and run in order.
int esr_load_prelude(esr_host *h);
// The name of the prelude's chunk i in load order ("prelude/sandbox.lua"), or NULL past the last.
const char *esr_prelude_chunk_name(int i);

// Loads and runs a script file in the sandbox, in the given phase (LOAD for
// domain scripts, HOST for drivers). Chunk named "@<display>".
int esr_run_file(esr_host *h, const char *path, const char *display, int phase);

// Calls the prelude's engine function `fn` (a field of the prelude's engine
// table) in `phase` with `label` for error messages ("handler Counter.increment").
// Results are converted as results[i].kind asks; STR/JSON outputs point into
// the host's out buffer and stay valid until the next call on this host.
// Returns 0 on success, else the error is available through esr_error_*.
int esr_invoke(esr_host *h, const char *fn, int phase, const char *label,
               const esr_value *args, int nargs, esr_value *results, int nresults);

// Replays `n` events onto the state held at registry ref *state_ref for aggregate `agg`
// (the prelude's engine.replay_one is called for each). *state_ref is updated when a
// replay function returns a new state.
int esr_replay(esr_host *h, const char *agg, int *state_ref, const esr_event *events, int n);

// Events produced by the last esr_invoke with an ESR_V_EVENTS result.
int esr_event_count(esr_host *h);
esr_event esr_event_at(esr_host *h, int i);

void esr_unref(esr_host *h, int ref);

// The last error: kind ("fault", "script", "limit", "forbidden", "invalid", ...),
// code, message (with file:line where known) and a traceback (may be empty).
const char *esr_error_kind(esr_host *h);
const char *esr_error_code(esr_host *h);
const char *esr_error_message(esr_host *h);
const char *esr_error_traceback(esr_host *h);
// Where a failed driving-API call was made ("demo.lua:12"), or "".
const char *esr_error_where(esr_host *h);

// ---------------------------------------------------------------- for C library code
// Returns the host of a state (from the allocator's userdata).
esr_host *esr_host_of(lua_State *L);
// Raises the sticky limit error when the running call is over a limit or
// interrupted; cheap enough to call every few thousand steps in C loops.
void esr_check_abort(lua_State *L);
// Replaces string.rep/find/match/gmatch/gsub and table.move in the tables at
// the given indices with versions that call esr_check_abort and refuse
// results over the memory budget (strguard.c).
void esr_install_guards(lua_State *L, int string_idx, int table_idx);

#ifdef __cplusplus
}
#endif
#endif
