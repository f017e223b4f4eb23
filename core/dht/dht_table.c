/*
 * The routing table (kademlia-routing-table@1.0.6; spec/dht-rpc.md §4):
 * 256 rows by common-prefix length with our id, k = 20 per row sorted by id
 * bytes, plus the LRU list of dht-rpc's time-ordered-set. Entries live in a
 * pool fixed at init (FL_NODE_TABLE_MAX); rows and the LRU hold indices.
 */
#include <assert.h>
#include <string.h>

#include "dht/dht.h"

uint32_t fl_dht_row_of(const uint8_t own[FL_DHT_ID_BYTES], const uint8_t id[FL_DHT_ID_BYTES]) {
  for (uint32_t i = 0; i < FL_DHT_ID_BYTES; i++) {
    uint8_t x = (uint8_t)(own[i] ^ id[i]);
    if (x == 0) continue;
    uint32_t b = 0;
    while (!(x & 0x80)) x = (uint8_t)(x << 1), b++;
    return i * 8 + b;
  }
  return FL_DHT_ROWS - 1;
}

/* <0 if a is XOR-closer to target than b, 0 equal, >0 farther. */
int fl_dht_xor_cmp(const uint8_t target[32], const uint8_t a[32], const uint8_t b[32]) {
  for (int i = 0; i < 32; i++) {
    if (a[i] == b[i]) continue;
    return (int)(target[i] ^ a[i]) - (int)(target[i] ^ b[i]);
  }
  return 0;
}

/* Binary search of a row; *pos = insertion point. */
static bool row_find(const fl_dht *d, const fl_dht_row *r, const uint8_t *id, uint32_t *pos) {
  uint32_t lo = 0, hi = r->count;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    int c = memcmp(id, d->peers[r->idx[mid]].id, FL_DHT_ID_BYTES);
    if (c == 0) {
      *pos = mid;
      return true;
    }
    if (c < 0) hi = mid;
    else lo = mid + 1;
  }
  *pos = lo;
  return false;
}

uint32_t fl_dht_table_get(const fl_dht *d, const uint8_t id[FL_DHT_ID_BYTES]) {
  const fl_dht_row *r = &d->rows[fl_dht_row_of(d->table_id, id)];
  uint32_t pos;
  return row_find(d, r, id, &pos) ? r->idx[pos] : FL_DHT_NO_IDX;
}

uint32_t fl_dht_peer_alloc(fl_dht *d) {
  if (d->free_head == FL_DHT_NO_IDX) return FL_DHT_NO_IDX;
  uint32_t i = d->free_head;
  d->free_head = d->peers[i].next;
  memset(&d->peers[i], 0, sizeof d->peers[i]);
  d->peers[i].used = true;
  d->peers[i].prev = d->peers[i].next = FL_DHT_NO_IDX;
  return i;
}

void fl_dht_peer_free(fl_dht *d, uint32_t idx) {
  assert(idx < d->peers_max);
  assert(d->peers[idx].used);
  d->peers[idx].used = false;
  d->peers[idx].next = d->free_head;
  d->free_head = idx;
}

static void lru_unlink(fl_dht *d, uint32_t i) {
  fl_dht_peer *p = &d->peers[i];
  if (p->prev != FL_DHT_NO_IDX) d->peers[p->prev].next = p->next;
  else if (d->lru_old == i) d->lru_old = p->next;
  if (p->next != FL_DHT_NO_IDX) d->peers[p->next].prev = p->prev;
  else if (d->lru_new == i) d->lru_new = p->prev;
  p->prev = p->next = FL_DHT_NO_IDX;
}

/* Move to the newest end (time-ordered-set add). */
void fl_dht_lru_touch(fl_dht *d, uint32_t i) {
  lru_unlink(d, i);
  fl_dht_peer *p = &d->peers[i];
  p->prev = d->lru_new;
  if (d->lru_new != FL_DHT_NO_IDX) d->peers[d->lru_new].next = i;
  d->lru_new = i;
  if (d->lru_old == FL_DHT_NO_IDX) d->lru_old = i;
}

int fl_dht_table_insert(fl_dht *d, uint32_t idx) {
  fl_dht_peer *p = &d->peers[idx];
  uint32_t row = fl_dht_row_of(d->table_id, p->id);
  fl_dht_row *r = &d->rows[row];
  uint32_t pos;
  if (row_find(d, r, p->id, &pos)) return 0; /* callers check get() first */
  if (r->count >= FL_DHT_K) return 0;
  memmove(&r->idx[pos + 1], &r->idx[pos], (r->count - pos) * sizeof r->idx[0]);
  r->idx[pos] = idx;
  r->count++;
  p->row = (uint16_t)row;
  fl_dht_lru_touch(d, idx);
  d->table_size++;
  d->st.table_added++;
  if (d->table_size > d->st.table_hw) d->st.table_hw = d->table_size;
  return 1;
}

void fl_dht_table_remove(fl_dht *d, uint32_t idx) {
  fl_dht_peer *p = &d->peers[idx];
  fl_dht_row *r = &d->rows[p->row];
  uint32_t pos;
  bool found = row_find(d, r, p->id, &pos);
  assert(found);
  if (!found) return;
  assert(r->idx[pos] == idx);
  memmove(&r->idx[pos], &r->idx[pos + 1], (r->count - pos - 1) * sizeof r->idx[0]);
  r->count--;
  lru_unlink(d, idx);
  d->table_size--;
  d->st.table_removed++;
  fl_dht_peer_free(d, idx);
}

/* The first 8 bytes of id XOR target as a big-endian number: ranks almost
 * every pair in one comparison; ties fall back to the full 32 bytes. */
static uint64_t load_be64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  v = __builtin_bswap64(v);
#elif !defined(__BYTE_ORDER__)
  v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
#endif
  return v;
}

typedef struct cand {
  uint64_t key;
  uint32_t idx;
} cand;

static bool cand_less(const fl_dht *d, const uint8_t *target, const cand *a, const cand *b) {
  if (a->key != b->key) return a->key < b->key;
  return fl_dht_xor_cmp(target, d->peers[a->idx].id, d->peers[b->idx].id) < 0;
}

/* Keep out[0..*n) sorted by XOR distance to target, at most k long. */
static void topk_add(const fl_dht *d, const uint8_t *target, uint64_t tkey, cand *out,
                     size_t *n, size_t k, uint32_t v) {
  cand c = {load_be64(d->peers[v].id) ^ tkey, v};
  if (*n == k && !cand_less(d, target, &c, &out[k - 1])) return;
  size_t j = *n < k ? (*n)++ : k - 1;
  while (j > 0 && cand_less(d, target, &c, &out[j - 1])) {
    out[j] = out[j - 1];
    j--;
  }
  out[j] = c;
}

/*
 * Exact k closest. With t = row of the target: row t agrees with the target
 * past bit t, so it comes first; rows > t all share exactly t bits with it
 * (ranked together); then rows t-1, t-2 .. 0, each farther than the last.
 * Each group is ranked into a top-k of its own and appended, so we stop as
 * soon as k are found. The reference's closest() walks t, t-1 .. 0, t+1 ..
 * in row order, which is only approximate (spec §4); this is the true
 * XOR-closest set, sorted.
 */
size_t fl_dht_table_closest(const fl_dht *d, const uint8_t target[32], uint32_t *out, size_t k) {
  cand best[FL_DHT_K];
  size_t n = 0;
  if (k > FL_DHT_K) k = FL_DHT_K;
  uint32_t t = fl_dht_row_of(d->table_id, target);
  uint64_t tkey = load_be64(target);
  for (int group = 0; group <= (int)t + 1 && n < k; group++) {
    uint32_t lo, hi; /* rows [lo, hi) of this group */
    if (group == 0) lo = t, hi = t + 1;
    else if (group == 1) lo = t + 1, hi = FL_DHT_ROWS;
    else lo = t + 1 - (uint32_t)group, hi = lo + 1;
    size_t g = 0, want = k - n;
    for (uint32_t r = lo; r < hi; r++) {
      for (uint32_t j = 0; j < d->rows[r].count; j++)
        topk_add(d, target, tkey, best + n, &g, want, d->rows[r].idx[j]);
    }
    n += g;
  }
  assert(n <= k);
  for (size_t i = 0; i < n; i++) out[i] = best[i].idx;
  return n;
}

uint32_t fl_dht_table_random(fl_dht *d) {
  if (d->table_size == 0) return FL_DHT_NO_IDX;
  uint64_t n = fl_drbg_uniform(&d->drbg, d->table_size);
  for (uint32_t r = 0; r < FL_DHT_ROWS; r++) {
    if (n < d->rows[r].count) return d->rows[r].idx[n];
    n -= d->rows[r].count;
  }
  return FL_DHT_NO_IDX;
}

/* Our id changed (§7): re-file every node under the new id; nodes that no
 * longer fit are dropped, as the reference's table copy drops them. */
void fl_dht_table_rebuild(fl_dht *d, const uint8_t new_id[FL_DHT_ID_BYTES]) {
  uint32_t order[FL_NODE_TABLE_MAX];
  size_t n = 0;
  for (uint32_t r = FL_DHT_ROWS; r-- > 0;) {
    for (uint32_t j = 0; j < d->rows[r].count && n < FL_NODE_TABLE_MAX; j++)
      order[n++] = d->rows[r].idx[j];
  }
  memset(d->rows, 0, sizeof d->rows);
  memcpy(d->table_id, new_id, FL_DHT_ID_BYTES);
  uint32_t keep_size = 0;
  for (size_t i = 0; i < n; i++) {
    fl_dht_peer *p = &d->peers[order[i]];
    uint32_t row = fl_dht_row_of(d->table_id, p->id);
    fl_dht_row *r = &d->rows[row];
    uint32_t pos;
    if (memcmp(p->id, new_id, FL_DHT_ID_BYTES) == 0 || r->count >= FL_DHT_K ||
        row_find(d, r, p->id, &pos)) {
      lru_unlink(d, order[i]);
      fl_dht_peer_free(d, order[i]);
      d->st.table_removed++;
      continue;
    }
    memmove(&r->idx[pos + 1], &r->idx[pos], (r->count - pos) * sizeof r->idx[0]);
    r->idx[pos] = order[i];
    r->count++;
    p->row = (uint16_t)row;
    keep_size++;
  }
  d->table_size = keep_size;
}
