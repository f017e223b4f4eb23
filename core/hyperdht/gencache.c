/*
 * hyperdht/gencache.c — the two-generation cache (see gencache.h).
 */
#include "hyperdht/gencache.h"

#include <assert.h>
#include <sodium.h>
#include <string.h>

#define BUCKETS_MIN 16

static uint64_t key_hash(const gencache *c, const uint8_t *key) {
  /* SipHash keyed per store: remote peers choose targets, and must not be
   * able to aim them all at one bucket. */
  uint8_t h[crypto_shorthash_BYTES];
  crypto_shorthash(h, key, c->key_len, c->hash_key);
  uint64_t v;
  memcpy(&v, h, sizeof v);
  return v;
}

int gc_init(gencache *c, const fl_mem *mem, size_t key_len, size_t max, size_t bytes_max,
            bool rotate_above, uint64_t max_age_us, const uint8_t hash_key[16],
            uint64_t now_us) {
  assert(key_len > 0 && key_len <= GC_KEY_MAX);
  memset(c, 0, sizeof *c);
  c->mem = mem;
  c->key_len = key_len;
  c->max = max;
  c->bytes_max = bytes_max;
  c->rotate_above = rotate_above;
  c->tick_us = (max_age_us / 3) * 2 + ((max_age_us % 3) * 2 + 2) / 3;
  c->next_tick_us = now_us + c->tick_us;
  memcpy(c->hash_key, hash_key, 16);
  c->gen = 1;
  c->nbuckets = BUCKETS_MIN;
  c->buckets = fl_mem_calloc(mem, c->nbuckets, sizeof *c->buckets);
  return c->buckets != NULL ? 0 : FL_ERR_NOMEM;
}

static size_t entry_size(const gencache *c, size_t len) {
  return sizeof(gc_entry) + c->key_len + len;
}

static void free_entry(gencache *c, gc_entry *e) {
  if (c->on_drop != NULL) c->on_drop(c->ctx, c, e);
  fl_mem_free(c->mem, e, entry_size(c, e->len));
}

void gc_deinit(gencache *c) {
  if (c->buckets == NULL) return;
  for (size_t i = 0; i < c->nbuckets; i++) {
    gc_entry *e = c->buckets[i];
    while (e != NULL) {
      gc_entry *next = e->next;
      fl_mem_free(c->mem, e, entry_size(c, e->len));
      e = next;
    }
  }
  fl_mem_free(c->mem, c->buckets, c->nbuckets * sizeof *c->buckets);
  c->buckets = NULL;
}

gc_entry *gc_find(const gencache *c, const uint8_t *key) {
  uint64_t h = key_hash(c, key);
  for (gc_entry *e = c->buckets[h & (c->nbuckets - 1)]; e != NULL; e = e->next)
    if (e->hash == h && memcmp(gc_key(e), key, c->key_len) == 0) return e;
  return NULL;
}

static void count_in(gencache *c, const gc_entry *e, int dir) {
  size_t *n = e->gen == GC_PINNED ? &c->pinned : e->gen == c->gen ? &c->fresh : &c->stale;
  if (dir > 0) {
    (*n)++;
    c->bytes += e->len;
    if (e->gen == c->gen) c->fresh_bytes += e->len;
  } else {
    assert(*n > 0);
    (*n)--;
    c->bytes -= e->len;
    if (e->gen == c->gen) c->fresh_bytes -= e->len;
  }
  c->stats.current = c->fresh + c->stale + c->pinned;
  c->stats.bytes = c->bytes;
  if (c->stats.current > c->stats.high_water) c->stats.high_water = c->stats.current;
  if (c->bytes > c->stats.bytes_high_water) c->stats.bytes_high_water = c->bytes;
}

static void unlink_entry(gencache *c, gc_entry *e) {
  gc_entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
  while (*pp != e) {
    assert(*pp != NULL);
    pp = &(*pp)->next;
  }
  *pp = e->next;
  count_in(c, e, -1);
}

void gc_remove(gencache *c, gc_entry *e) {
  unlink_entry(c, e);
  free_entry(c, e);
}

/* Double the bucket array; on allocation failure keep the longer chains. */
static void grow(gencache *c) {
  size_t n = c->nbuckets * 2;
  gc_entry **b = fl_mem_calloc(c->mem, n, sizeof *b);
  if (b == NULL) return;
  for (size_t i = 0; i < c->nbuckets; i++) {
    gc_entry *e = c->buckets[i];
    while (e != NULL) {
      gc_entry *next = e->next;
      e->next = b[e->hash & (n - 1)];
      b[e->hash & (n - 1)] = e;
      e = next;
    }
  }
  fl_mem_free(c->mem, c->buckets, c->nbuckets * sizeof *c->buckets);
  c->buckets = b;
  c->nbuckets = n;
}

static bool fresh_full(const gencache *c) {
  if (c->fresh_bytes * 2 >= c->bytes_max) return true;
  return c->rotate_above ? c->fresh > c->max : c->fresh >= c->max;
}

gc_entry *gc_put(gencache *c, const uint8_t *key, const uint8_t *value, size_t len,
                 bool pinned) {
  /* Rotate first if this value would take fresh past half the byte budget,
   * so both generations together never exceed bytes_max. */
  if (!pinned && c->fresh > 0 && c->fresh_bytes + len > c->bytes_max / 2) gc_rotate(c);
  gc_entry *old = gc_find(c, key);
  if (old != NULL && old->gen == GC_PINNED && !pinned) return old;
  gc_entry *e = fl_mem_alloc(c->mem, entry_size(c, len));
  if (e == NULL) return NULL;
  memset(e, 0, sizeof *e);
  memcpy(e->data, key, c->key_len);
  if (len > 0) memcpy(e->data + c->key_len, value, len);
  e->len = (uint32_t)len;
  e->hash = key_hash(c, key);
  e->gen = pinned ? GC_PINNED : c->gen;
  if (old != NULL) gc_remove(c, old);
  gc_entry **b = &c->buckets[e->hash & (c->nbuckets - 1)];
  e->next = *b;
  *b = e;
  count_in(c, e, +1);
  if (c->fresh + c->stale + c->pinned > c->nbuckets) grow(c);
  return e;
}

bool gc_settle(gencache *c) {
  if (!fresh_full(c)) return false;
  gc_rotate(c);
  return true;
}

void gc_touch(gencache *c, gc_entry *e) {
  if (e->gen == GC_PINNED || e->gen == c->gen) return;
  count_in(c, e, -1);
  e->gen = c->gen;
  count_in(c, e, +1);
}

void gc_rotate(gencache *c) {
  uint32_t dead = c->gen - 1;
  c->gen++;
  c->stats.rotations++;
  c->rotated_since_tick = true;
  c->stats.evicted += c->stale;
  /* What was fresh is now stale: move its counts over before freeing. */
  size_t dead_n = c->stale;
  c->stale = c->fresh;
  c->fresh = 0;
  c->fresh_bytes = 0;
  for (size_t i = 0; i < c->nbuckets && dead_n > 0; i++) {
    gc_entry **pp = &c->buckets[i];
    while (*pp != NULL) {
      gc_entry *e = *pp;
      if (e->gen != dead) {
        pp = &e->next;
        continue;
      }
      *pp = e->next;
      dead_n--;
      c->bytes -= e->len;
      free_entry(c, e);
    }
  }
  assert(dead_n == 0);
  c->stats.current = c->fresh + c->stale + c->pinned;
  c->stats.bytes = c->bytes;
}

void gc_tick(gencache *c, uint64_t now_us) {
  /* At most a few ticks: after two rotations everything unpinned is gone. */
  for (int i = 0; i < 3 && now_us >= c->next_tick_us; i++) {
    if (!c->rotated_since_tick) gc_rotate(c);
    c->rotated_since_tick = false;
    c->next_tick_us += c->tick_us;
  }
  if (now_us >= c->next_tick_us) {
    /* A long gap (a suspended driver): realign rather than loop. */
    c->next_tick_us = now_us + c->tick_us;
  }
}

int gc_check(const gencache *c) {
  size_t fresh = 0, stale = 0, pinned = 0, bytes = 0, fresh_bytes = 0;
  for (size_t i = 0; i < c->nbuckets; i++) {
    for (const gc_entry *e = c->buckets[i]; e != NULL; e = e->next) {
      if ((e->hash & (c->nbuckets - 1)) != i) return FL_ERR_STATE;
      if (e->gen == GC_PINNED) {
        pinned++;
      } else if (e->gen == c->gen) {
        fresh++;
        fresh_bytes += e->len;
      } else if (e->gen == c->gen - 1) {
        stale++;
      } else {
        return FL_ERR_STATE;
      }
      bytes += e->len;
    }
  }
  if (fresh != c->fresh || stale != c->stale || pinned != c->pinned) return FL_ERR_STATE;
  if (bytes != c->bytes || fresh_bytes != c->fresh_bytes) return FL_ERR_STATE;
  /* The bound: after any put, fresh is below its rotation point + 1 at most
   * (reads may promote stale entries, which keeps the total). */
  if (fresh + stale > 2 * (c->max + 1)) return FL_ERR_STATE;
  return 0;
}
