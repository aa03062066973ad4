// host_internal.h: the host struct and helpers shared by the shim's C files.
#ifndef ESR_HOST_INTERNAL_H
#define ESR_HOST_INTERNAL_H

#include "esr.h"
#include <stdatomic.h>

#define ESR_LABEL_MAX 256

struct esr_reply {
    int ok;
    char *json;
    size_t len;
    char *kind, *code, *message;
};

// Small blocks of the Lua allocator (pool.c).
#define ESR_POOL_STEP 16
#define ESR_POOL_MAX 256
typedef struct {
    void *free[ESR_POOL_MAX / ESR_POOL_STEP]; // a free list per size class
    void *slabs;                              // every slab, to free them at close
    char *cursor;                             // the unused rest of the newest slab
    size_t left;
} esr_pool;
void *esr_pool_realloc(esr_pool *p, void *ptr, size_t osize, size_t nsize);
void esr_pool_free(esr_pool *p, void *ptr, size_t osize);
void esr_pool_destroy(esr_pool *p);

struct esr_host {
    lua_State *L;
    esr_pool pool;

    // memory accounting (the allocator's userdata is the host)
    size_t used;
    size_t mem_limit;          // absolute cap while a limited call runs; 0 = none
    size_t mem_slack;          // extra bytes allowed while a call is aborting, for error handling

    esr_limits limits[4];      // per phase
    esr_json_limits json;

    // the running call
    int phase;
    char label[ESR_LABEL_MAX]; // "handler Counter.increment", composed lazily from lab_* when set
    const char *lab_prefix, *lab_agg, *lab_name;
    size_t lab_name_len;
    char fallback_where[160];  // "file:line" where the running function is defined, for when tail calls hide the caller
    int64_t instructions;      // exact budget of the running call (0 = none)

    // limits enforcement, shared with the watchdog thread
    _Atomic int abort;                 // ESR_ABORT_*
    _Atomic int armed;                 // hook installed because of an abort
    _Atomic(lua_State *) current;      // the thread running Lua code (main or a coroutine)
    _Atomic int64_t deadline_ns;       // CLOCK_MONOTONIC; 0 = none
    int64_t time_ms;                   // the running call's time budget, for messages

    struct esr_host *wd_next, *wd_prev;

    esr_callback cb;
    void *cb_ctx;

    // results of the last call
    esr_buf out;
    esr_buf tmp;                       // scratch for json.encode and callbacks
    lua_State *running;                // the thread esr_invoke runs on (a driver's coroutine during callbacks)
    int depth;                         // nesting of host calls
    esr_event *events;
    int nevents, events_cap;
    char *err_kind, *err_code, *err_message, *err_traceback, *err_where;

    char *script_dir;
    int env_ref, engine_ref, errmt_ref, eventmt_ref;
};

int64_t esr_now_ns(void);

// Watchdog (limits.c)
void esr_watchdog_register(esr_host *h);
void esr_watchdog_unregister(esr_host *h);
void esr_arm(esr_host *h, int reason);
void esr_disarm(esr_host *h);
void esr_hook(lua_State *L, lua_Debug *ar);
void *esr_alloc(void *ud, void *ptr, size_t osize, size_t nsize);

// Saved per-call state, so nested calls (a driver calling a command) restore the outer one.
typedef struct esr_frame {
    int phase;
    char label[ESR_LABEL_MAX];
    const char *lab_prefix, *lab_agg, *lab_name;
    size_t lab_name_len;
    char fallback_where[160];
    size_t mem_limit;
    int64_t deadline_ns, time_ms, instructions;
    int abort;
} esr_frame;
void esr_enter(esr_host *h, esr_frame *saved, int phase, const char *label);
void esr_leave(esr_host *h, const esr_frame *saved);

// Errors (errors.c)
const char *esr_label(esr_host *h);
const char *esr_phase_where(int phase);
// Pushes an error value {kind, code, message} with the error metatable.
void esr_push_error(lua_State *L, const char *kind, const char *code, const char *message);
// Raises a forbidden error naming `what`, the label and the caller's file:line.
int esr_forbidden(lua_State *L, const char *what, const char *why);
// Pushes "file:line" of the function at `level`, or "".
void esr_push_where(lua_State *L, int level);
// Reads a file into a Lua string; compiles Lua text on the stack into a sandboxed chunk (host.c).
void esr_push_file(lua_State *L, const char *path, const char *display);
void esr_compile_chunk(lua_State *L, esr_host *h, const char *display);
int esr_host_call(lua_State *L);
// Runs body(L) with `ud` as its only argument under lua_pcall, in `phase` with its limits.
int esr_run_protected(esr_host *h, int phase, const char *label, lua_CFunction body, void *ud);
// The message handler of every protected call from the host.
int esr_msgh(lua_State *L);
// Records the error value on top of the stack (as left by esr_msgh) into the host's err_* fields.
void esr_record_error(esr_host *h, int status);
void esr_set_error(esr_host *h, const char *kind, const char *code, const char *message, const char *traceback);

// Sandbox primitives (sandbox.c): pushes the table of privileged functions given to the prelude.
void esr_push_primitives(lua_State *L);

// The prelude's chunks (prelude.c), in load order: chunk name ("=prelude/<file>.lua") and text.
typedef struct esr_prelude_chunk {
    const char *name;
    const char *bytes;
    size_t len;
} esr_prelude_chunk;
extern const esr_prelude_chunk esr_prelude[];
extern const int esr_prelude_count;
// replay_warnings(fn, label, allowed): state a replay function can carry between replays (captures.c).
int esr_prim_replay_warnings(lua_State *L);

#endif
