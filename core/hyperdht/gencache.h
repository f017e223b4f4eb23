/*
 * hyperdht/gencache.h — a two-generation cache with a keyed hash index: the
 * expiry policy of xache@1.3.0 and record-cache@1.2.0, which hyperdht uses
 * for every store (spec/hyperdht-records.md §3).
 *
 * Entries carry a generation number: the current one is "fresh", the one
 * before "stale", GC_PINNED never expires. A rotation bumps the generation
 * and frees what was stale. It happens when the fresh generation fills up
 * (count or bytes) and on a timer every ceil(2/3 max_age) unless a rotation
 * already happened since the previous tick — so an entry nobody touches
 * lives between 2/3 and 4/3 of max_age, and at most 2 * max entries live.
 *
 * Internal to core/hyperdht. Entries are allocated one by one through
 * fl_mem when stored (so an idle node costs nothing), and bounded by the
 * limits; the bucket array doubles as entries arrive.
 */
#ifndef FL_HYPERDHT_GENCACHE_H
#define FL_HYPERDHT_GENCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flock/hyperdht.h"

#define GC_PINNED UINT32_MAX
#define GC_KEY_MAX 64

typedef struct gc_entry {
  struct gc_entry *next;  /* bucket chain */
  uint64_t hash;
  uint32_t gen;
  uint32_t len;           /* value bytes */
  size_t aux;             /* owner's use (the records' index in their topic) */
  void *aux_ptr;          /* owner's use (the records' topic) */
  uint8_t data[];         /* key (key_len bytes), then the value */
} gc_entry;

typedef struct gencache gencache;
/* Called for every entry the cache frees (rotation, replacement, removal),
 * before it is freed, so an owner can unlink it from its own indexes. */
typedef void (*gc_drop_fn)(void *ctx, gencache *c, gc_entry *e);

struct gencache {
  const fl_mem *mem;
  size_t key_len;
  size_t max;              /* fresh entries before a rotation */
  size_t bytes_max;        /* both generations' value bytes; fresh rotates at half */
  bool rotate_above;       /* record-cache rotates at fresh > max, xache at >= max */
  uint64_t tick_us;        /* ceil(2/3 max_age) */
  uint64_t next_tick_us;
  bool rotated_since_tick;
  uint8_t hash_key[16];
  gc_entry **buckets;
  size_t nbuckets;         /* a power of two */
  uint32_t gen;
  size_t fresh, stale, pinned;
  size_t fresh_bytes, bytes;  /* value bytes */
  gc_drop_fn on_drop;
  void *ctx;
  fl_hyperdht_cache_stats stats;
};

int gc_init(gencache *c, const fl_mem *mem, size_t key_len, size_t max, size_t bytes_max,
            bool rotate_above, uint64_t max_age_us, const uint8_t hash_key[16],
            uint64_t now_us);
void gc_deinit(gencache *c);

static inline const uint8_t *gc_key(const gc_entry *e) { return e->data; }
static inline uint8_t *gc_value(const gencache *c, gc_entry *e) { return e->data + c->key_len; }
static inline bool gc_is_fresh(const gencache *c, const gc_entry *e) { return e->gen == c->gen; }

gc_entry *gc_find(const gencache *c, const uint8_t *key);
/* Insert (replacing any unpinned entry with this key) a fresh entry holding
 * value; a pinned key is left alone and returned as it is (xache set). NULL
 * on allocation failure (the old entry, if any, is kept). The caller then
 * calls gc_settle, once its own indexes are consistent. */
gc_entry *gc_put(gencache *c, const uint8_t *key, const uint8_t *value, size_t len,
                 bool pinned);
/* Rotate if the fresh generation is full; true if it rotated. */
bool gc_settle(gencache *c);
/* A read: a stale entry becomes fresh again (xache get). */
void gc_touch(gencache *c, gc_entry *e);
void gc_remove(gencache *c, gc_entry *e);
void gc_rotate(gencache *c);
/* Run the timer ticks due at now_us. */
void gc_tick(gencache *c, uint64_t now_us);
/* Walk the table and check the counters. 0 or FL_ERR_STATE. */
int gc_check(const gencache *c);

#endif
