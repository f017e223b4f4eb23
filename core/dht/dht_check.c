/*
 * fl_dht_check: walk the node's invariants (STYLE.md: every object has a
 * check the simulator can call after every step). Returns 0 or the number
 * of the first broken rule (a positive int, for a test to report).
 */
#include <string.h>

#include "dht/dht.h"

static int check_table(const fl_dht *d) {
  uint32_t total = 0;
  for (uint32_t r = 0; r < FL_DHT_ROWS; r++) {
    const fl_dht_row *row = &d->rows[r];
    if (row->count > FL_DHT_K) return 1;
    for (uint32_t j = 0; j < row->count; j++) {
      uint32_t i = row->idx[j];
      if (i >= d->peers_max || !d->peers[i].used) return 2;
      if (d->peers[i].row != r || fl_dht_row_of(d->table_id, d->peers[i].id) != r) return 3;
      if (j && memcmp(d->peers[row->idx[j - 1]].id, d->peers[i].id, 32) >= 0) return 4;
    }
    total += row->count;
  }
  if (total != d->table_size) return 5;
  /* the LRU holds exactly the table's nodes, linked both ways */
  uint32_t n = 0, prev = FL_DHT_NO_IDX;
  for (uint32_t i = d->lru_old; i != FL_DHT_NO_IDX; i = d->peers[i].next) {
    if (i >= d->peers_max || !d->peers[i].used || d->peers[i].prev != prev) return 6;
    if (++n > d->table_size) return 7;
    prev = i;
  }
  if (n != d->table_size || prev != d->lru_new) return 8;
  uint32_t used = 0;
  for (uint32_t i = 0; i < d->peers_max; i++) used += d->peers[i].used;
  return used == d->table_size ? 0 : 9;
}

static int check_requests(const fl_dht *d) {
  if (d->active_len + d->free_len != d->reqs_max) return 20;
  uint32_t used = 0, queued = 0;
  for (uint32_t i = 0; i < d->reqs_max; i++) {
    used += d->reqs[i].used;
    queued += d->reqs[i].used && d->reqs[i].queued;
  }
  if (used != d->active_len) return 21;
  for (uint32_t i = 0; i < d->active_len; i++)
    if (d->active[i] >= d->reqs_max || !d->reqs[d->active[i]].used) return 22;
  if (queued != d->pending_len) return 23;
  for (uint32_t i = 0; i < d->pending_len; i++) {
    uint32_t idx = d->pending[(d->pending_head + i) % d->reqs_max];
    if (idx >= d->reqs_max || !d->reqs[idx].queued) return 24;
  }
  uint32_t sum = d->win[0] + d->win[1] + d->win[2] + d->win[3];
  if (sum != d->win_total) return 25;
  if (d->delayed_len > d->delayed_max) return 26;
  if (d->st.queries_active > d->queries_max) return 27;
  return 0;
}

int fl_dht_check(const fl_dht *d) {
  int rc = check_table(d);
  if (rc) return rc;
  rc = check_requests(d);
  if (rc) return rc;
  if (d->txq->count > d->txq->count_max || d->evq->count > d->evq->count_max) return 30;
  if (!d->ephemeral && d->firewalled) return 31; /* persistent implies a passed probe */
  return 0;
}
