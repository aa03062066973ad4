// limits.c: the memory cap (allocator), the time and instruction budgets
// (a watchdog thread that arms a count hook only once a deadline passes, so
// the normal path runs at full VM speed) and per-call frames.
#include "host_internal.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <limits.h>

int64_t esr_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

// ---------------------------------------------------------------- allocator

void *esr_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    esr_host *h = (esr_host *)ud;
    if (ptr == NULL) osize = 0; // osize then encodes the object's type, not a size
    if (nsize == 0) {
        esr_pool_free(&h->pool, ptr, osize);
        h->used -= osize;
        return NULL;
    }
    if (nsize > osize && h->mem_limit != 0) {
        size_t cap = h->mem_limit;
        if (atomic_load(&h->abort) != ESR_ABORT_NONE) cap += h->mem_slack;
        if (h->used + (nsize - osize) > cap) {
            // Refusing makes Lua raise "not enough memory", which a script's
            // pcall could catch: arming makes the limit sticky.
            if (atomic_load(&h->abort) == ESR_ABORT_NONE) esr_arm(h, ESR_ABORT_MEMORY);
            return NULL;
        }
    }
    void *p = esr_pool_realloc(&h->pool, ptr, osize, nsize);
    if (p == NULL) return NULL;
    h->used = h->used - osize + nsize;
    return p;
}

// ---------------------------------------------------------------- watchdog

static pthread_mutex_t wd_lock = PTHREAD_MUTEX_INITIALIZER;
static esr_host *wd_head = NULL;
static pthread_once_t wd_once = PTHREAD_ONCE_INIT;

#define WD_TICK_NS 2000000 // 2 ms

static void *wd_main(void *arg) {
    (void)arg;
    struct timespec tick = {0, WD_TICK_NS};
    for (;;) {
        nanosleep(&tick, NULL);
        int64_t now = esr_now_ns();
        pthread_mutex_lock(&wd_lock);
        for (esr_host *h = wd_head; h != NULL; h = h->wd_next) {
            int64_t deadline = atomic_load(&h->deadline_ns);
            if (deadline != 0 && now >= deadline && !atomic_load(&h->armed))
                esr_arm(h, ESR_ABORT_TIME);
        }
        pthread_mutex_unlock(&wd_lock);
    }
    return NULL;
}

static void wd_start(void) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_create(&t, &attr, wd_main, NULL);
    pthread_attr_destroy(&attr);
}

void esr_watchdog_register(esr_host *h) {
    pthread_once(&wd_once, wd_start);
    pthread_mutex_lock(&wd_lock);
    h->wd_prev = NULL;
    h->wd_next = wd_head;
    if (wd_head) wd_head->wd_prev = h;
    wd_head = h;
    pthread_mutex_unlock(&wd_lock);
}

void esr_watchdog_unregister(esr_host *h) {
    pthread_mutex_lock(&wd_lock);
    if (h->wd_prev) h->wd_prev->wd_next = h->wd_next; else if (wd_head == h) wd_head = h->wd_next;
    if (h->wd_next) h->wd_next->wd_prev = h->wd_prev;
    h->wd_next = h->wd_prev = NULL;
    pthread_mutex_unlock(&wd_lock);
}

// "lua_sethook ... can be called asynchronously (e.g. from a signal)" is how
// Lua 5.4 lets a signal stop a loop: the VM re-reads the trap flag on jumps.
void esr_arm(esr_host *h, int reason) {
    int expected = ESR_ABORT_NONE;
    atomic_compare_exchange_strong(&h->abort, &expected, reason);
    atomic_store(&h->armed, 1);
    lua_sethook(h->L, esr_hook, LUA_MASKCOUNT, 1);
    lua_State *co = atomic_load(&h->current);
    if (co != NULL && co != h->L) lua_sethook(co, esr_hook, LUA_MASKCOUNT, 1);
}

void esr_disarm(esr_host *h) {
    lua_sethook(h->L, NULL, 0, 0);
    lua_State *co = atomic_load(&h->current);
    if (co != NULL && co != h->L) lua_sethook(co, NULL, 0, 0);
    if (h->running != NULL && h->running != h->L) lua_sethook(h->running, NULL, 0, 0);
    atomic_store(&h->armed, 0);
}

void esr_interrupt(esr_host *h) {
    pthread_mutex_lock(&wd_lock);
    if (h->depth > 0) esr_arm(h, ESR_ABORT_INTERRUPT);
    pthread_mutex_unlock(&wd_lock);
}

// ---------------------------------------------------------------- limit errors

static void raise_limit(lua_State *L, esr_host *h, int reason) {
    char msg[512], where[160] = "";
    esr_push_where(L, 0);
    if (*lua_tostring(L, -1)) snprintf(where, sizeof where, " (%s)", lua_tostring(L, -1));
    lua_pop(L, 1);
    const char *code = "time";
    switch (reason) {
    case ESR_ABORT_MEMORY:
        code = "memory";
        snprintf(msg, sizeof msg, "%s%s: memory limit of %zu KiB exceeded", esr_label(h), where,
                 h->limits[h->phase].memory_bytes / 1024);
        break;
    case ESR_ABORT_INSTRUCTIONS:
        code = "instructions";
        snprintf(msg, sizeof msg, "%s%s: instruction limit of %lld exceeded", esr_label(h), where,
                 (long long)h->instructions);
        break;
    case ESR_ABORT_INTERRUPT:
        code = "interrupted";
        snprintf(msg, sizeof msg, "%s%s: interrupted", esr_label(h), where);
        break;
    default:
        snprintf(msg, sizeof msg, "%s%s: time limit of %lld ms exceeded", esr_label(h), where,
                 (long long)h->time_ms);
    }
    esr_push_error(L, "limit", code, msg);
    lua_error(L);
}

void esr_hook(lua_State *L, lua_Debug *ar) {
    esr_host *h = esr_host_of(L);
    int reason = atomic_load(&h->abort);
    if (reason == ESR_ABORT_NONE) {
        if (h->instructions <= 0 || ar->event != LUA_HOOKCOUNT) return;
        reason = ESR_ABORT_INSTRUCTIONS;
        esr_arm(h, reason);
    }
    // Stay armed on every instruction so a script's pcall cannot swallow the limit.
    lua_sethook(L, esr_hook, LUA_MASKCOUNT, 1);
    raise_limit(L, h, reason);
}

void esr_check_abort(lua_State *L) {
    esr_host *h = esr_host_of(L);
    int reason = atomic_load(&h->abort);
    if (reason != ESR_ABORT_NONE) raise_limit(L, h, reason);
}

// ---------------------------------------------------------------- frames

void esr_enter(esr_host *h, esr_frame *saved, int phase, const char *label) {
    saved->phase = h->phase;
    memcpy(saved->label, h->label, sizeof saved->label);
    saved->lab_prefix = h->lab_prefix;
    saved->lab_agg = h->lab_agg;
    saved->lab_name = h->lab_name;
    saved->lab_name_len = h->lab_name_len;
    memcpy(saved->fallback_where, h->fallback_where, sizeof saved->fallback_where);
    h->fallback_where[0] = 0;
    saved->mem_limit = h->mem_limit;
    saved->deadline_ns = atomic_load(&h->deadline_ns);
    saved->time_ms = h->time_ms;
    saved->instructions = h->instructions;
    saved->abort = atomic_load(&h->abort);

    const esr_limits *lim = &h->limits[phase];
    h->phase = phase;
    snprintf(h->label, sizeof h->label, "%s", label ? label : "");
    h->lab_prefix = h->lab_agg = h->lab_name = NULL;
    h->lab_name_len = 0;
    size_t limit = lim->memory_bytes ? h->used + lim->memory_bytes : 0;
    if (saved->mem_limit != 0 && (limit == 0 || limit > saved->mem_limit)) limit = saved->mem_limit;
    h->mem_limit = limit;
    h->time_ms = lim->time_ms;
    int64_t deadline = lim->time_ms > 0 ? esr_now_ns() + lim->time_ms * 1000000 : 0;
    if (saved->deadline_ns != 0 && (deadline == 0 || deadline > saved->deadline_ns)) {
        deadline = saved->deadline_ns;
        h->time_ms = saved->time_ms;
    }
    h->instructions = lim->instructions;

    pthread_mutex_lock(&wd_lock);
    h->depth++;
    if (atomic_load(&h->armed)) esr_disarm(h);
    atomic_store(&h->abort, ESR_ABORT_NONE);
    atomic_store(&h->deadline_ns, deadline);
    if (h->instructions > 0)
        lua_sethook(h->running, esr_hook, LUA_MASKCOUNT, h->instructions > INT_MAX ? INT_MAX : (int)h->instructions);
    pthread_mutex_unlock(&wd_lock);
}

void esr_leave(esr_host *h, const esr_frame *saved) {
    pthread_mutex_lock(&wd_lock);
    h->depth--;
    if (atomic_load(&h->armed) || h->instructions > 0) esr_disarm(h);
    atomic_store(&h->abort, saved->abort);
    atomic_store(&h->deadline_ns, saved->deadline_ns);
    h->instructions = saved->instructions;
    if (saved->abort != ESR_ABORT_NONE) esr_arm(h, saved->abort);
    else if (saved->instructions > 0) // after a nested call the outer call's budget starts afresh
        lua_sethook(h->running, esr_hook, LUA_MASKCOUNT,
                    saved->instructions > INT_MAX ? INT_MAX : (int)saved->instructions);
    pthread_mutex_unlock(&wd_lock);

    h->phase = saved->phase;
    memcpy(h->label, saved->label, sizeof h->label);
    h->lab_prefix = saved->lab_prefix;
    h->lab_agg = saved->lab_agg;
    h->lab_name = saved->lab_name;
    h->lab_name_len = saved->lab_name_len;
    memcpy(h->fallback_where, saved->fallback_where, sizeof h->fallback_where);
    h->mem_limit = saved->mem_limit;
    h->time_ms = saved->time_ms;
}
