// pool.c: small blocks for the Lua allocator. Lua allocates and frees a handful of small
// blocks per table it makes (a command emitting 1000 events makes thousands), and glibc's
// malloc spent a quarter of such a command in malloc, free and consolidation. Blocks up to
// ESR_POOL_MAX bytes come from free lists per 16-byte size class, carved from 64 KiB slabs
// that go back to the system only when the host closes: the process keeps its peak of small
// blocks, while `used` still counts only live bytes (what the limits and the cache look at).
// Lua passes every block's size on realloc and free, so a block's class is known without a
// header. One host, one thread: no locks.
#include "host_internal.h"
#include <stdlib.h>
#include <string.h>

#define SLAB_BYTES (64u << 10)

typedef struct slab { struct slab *next; } slab;

static size_t class_of(size_t size) { return (size + ESR_POOL_STEP - 1) / ESR_POOL_STEP - 1; }

static void *pool_take(esr_pool *p, size_t size) {
    size_t c = class_of(size);
    void *block = p->free[c];
    if (block != NULL) {
        p->free[c] = *(void **)block;
        return block;
    }
    size_t bytes = (c + 1) * ESR_POOL_STEP;
    if (p->left < bytes) {
        slab *s = malloc(SLAB_BYTES);
        if (s == NULL) return NULL;
        s->next = p->slabs;
        p->slabs = s;
        // the tail of the old slab is left unused: at most ESR_POOL_MAX bytes per slab
        p->cursor = (char *)s + ESR_POOL_STEP;  // keeps blocks 16-byte aligned
        p->left = SLAB_BYTES - ESR_POOL_STEP;
    }
    block = p->cursor;
    p->cursor += bytes;
    p->left -= bytes;
    return block;
}

static void pool_give(esr_pool *p, void *block, size_t size) {
    size_t c = class_of(size);
    *(void **)block = p->free[c];
    p->free[c] = block;
}

// realloc with Lua's contract: `osize` is the block's size (0 for a new block), nsize > 0.
void *esr_pool_realloc(esr_pool *p, void *ptr, size_t osize, size_t nsize) {
    int was_small = ptr != NULL && osize <= ESR_POOL_MAX;
    int small = nsize <= ESR_POOL_MAX;
    if (ptr != NULL && was_small && small && class_of(osize) == class_of(nsize)) return ptr;
    if (ptr != NULL && !was_small && !small) return realloc(ptr, nsize);
    void *block = small ? pool_take(p, nsize) : malloc(nsize);
    // A shrink must not fail: the old block is big enough (and freed later as a smaller class).
    if (block == NULL) return ptr != NULL && nsize <= osize ? ptr : NULL;
    if (ptr != NULL) {
        memcpy(block, ptr, osize < nsize ? osize : nsize);
        esr_pool_free(p, ptr, osize);
    }
    return block;
}

void esr_pool_free(esr_pool *p, void *ptr, size_t osize) {
    if (ptr == NULL) return;
    if (osize <= ESR_POOL_MAX) pool_give(p, ptr, osize); else free(ptr);
}

void esr_pool_destroy(esr_pool *p) {
    slab *s = p->slabs;
    while (s != NULL) {
        slab *next = s->next;
        free(s);
        s = next;
    }
    memset(p, 0, sizeof *p);
}
