/*
 * The engine's two containers: the event heap, ordered by (time, sequence)
 * so that ties break by insertion order and never by address, and a
 * linear-probing map used only for lookups (never iterated, so its layout
 * cannot leak into a run).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* ---- heap ---------------------------------------------------------------- */

static int ev_before(const sim_ev *a, const sim_ev *b) {
  if (a->t != b->t) return a->t < b->t;
  return a->seq < b->seq;
}

int sim_heap_push(sim_heap *h, const sim_ev *ev) {
  if (h->len == h->cap) {
    size_t cap = h->cap ? h->cap * 2 : 1024;
    sim_ev *v = realloc(h->v, cap * sizeof *v);
    if (v == NULL) return FL_ERR_NOMEM;
    h->v = v;
    h->cap = cap;
  }
  size_t i = h->len++;
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!ev_before(ev, &h->v[parent])) break;
    h->v[i] = h->v[parent];
    i = parent;
  }
  h->v[i] = *ev;
  if (h->len > h->high) h->high = h->len;
  return 0;
}

int sim_heap_pop(sim_heap *h, sim_ev *out) {
  if (h->len == 0) return 0;
  *out = h->v[0];
  sim_ev last = h->v[--h->len];
  size_t i = 0, n = h->len;
  for (;;) {
    size_t l = 2 * i + 1;
    if (l >= n) break;
    size_t c = (l + 1 < n && ev_before(&h->v[l + 1], &h->v[l])) ? l + 1 : l;
    if (!ev_before(&h->v[c], &last)) break;
    h->v[i] = h->v[c];
    i = c;
  }
  if (n > 0) h->v[i] = last;
  return 1;
}

void sim_heap_free(sim_heap *h) {
  for (size_t i = 0; i < h->len; i++) free(h->v[i].p);
  free(h->v);
  memset(h, 0, sizeof *h);
}

/* ---- map ----------------------------------------------------------------- */

static size_t map_slot(uint64_t k1, uint64_t k2, size_t cap) {
  /* A 64-bit mix (splitmix64's finaliser): keys are small structured ints. */
  uint64_t x = k1 * 0x9e3779b97f4a7c15ull ^ (k2 + 0x632be59bd9b4e019ull);
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return (size_t)x & (cap - 1);
}

uint64_t *sim_map_get(const sim_map *m, uint64_t k1, uint64_t k2) {
  if (m->cap == 0) return NULL;
  for (size_t i = map_slot(k1, k2, m->cap);; i = (i + 1) & (m->cap - 1)) {
    sim_map_entry *e = &m->e[i];
    if (!e->used) return NULL;
    if (e->k1 == k1 && e->k2 == k2) return &e->v;
  }
}

static int map_grow(sim_map *m) {
  size_t cap = m->cap ? m->cap * 2 : 8;
  sim_map_entry *e = calloc(cap, sizeof *e);
  if (e == NULL) return FL_ERR_NOMEM;
  sim_map old = *m;
  m->e = e;
  m->cap = cap;
  m->len = 0;
  for (size_t i = 0; i < old.cap; i++)
    if (old.e[i].used) (void)sim_map_put(m, old.e[i].k1, old.e[i].k2, old.e[i].v);
  free(old.e);
  return 0;
}

int sim_map_put(sim_map *m, uint64_t k1, uint64_t k2, uint64_t v) {
  uint64_t *have = sim_map_get(m, k1, k2);
  if (have) {
    *have = v;
    return 0;
  }
  /* Keep the load under one half so probe runs stay short. */
  if ((m->len + 1) * 2 > m->cap && map_grow(m) != 0) return FL_ERR_NOMEM;
  size_t i = map_slot(k1, k2, m->cap);
  while (m->e[i].used) i = (i + 1) & (m->cap - 1);
  m->e[i] = (sim_map_entry){k1, k2, v, 1};
  m->len++;
  assert(m->len * 2 <= m->cap);
  return 0;
}

int sim_map_del(sim_map *m, uint64_t k1, uint64_t k2) {
  if (m->cap == 0) return 0;
  size_t mask = m->cap - 1, i = map_slot(k1, k2, m->cap);
  while (m->e[i].used && !(m->e[i].k1 == k1 && m->e[i].k2 == k2)) i = (i + 1) & mask;
  if (!m->e[i].used) return 0;
  /* Backward-shift deletion: no tombstones, so probe runs never rot. */
  size_t j = i;
  for (;;) {
    j = (j + 1) & mask;
    if (!m->e[j].used) break;
    size_t home = map_slot(m->e[j].k1, m->e[j].k2, m->cap);
    /* Move e[j] into the hole at i unless its home lies cyclically in (i, j]. */
    int stays = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
    if (!stays) {
      m->e[i] = m->e[j];
      i = j;
    }
  }
  m->e[i].used = 0;
  m->len--;
  return 1;
}

void sim_map_free(sim_map *m) {
  free(m->e);
  memset(m, 0, sizeof *m);
}
