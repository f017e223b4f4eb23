/*
 * The NAT sampler (nat-sampler@1.0.1; spec/dht-rpc.md §7): how peers see
 * us. A ring of the last 16 samples holds two entries each, (host, port)
 * and (host, any); a new sample merges with an equal entry among the 4
 * previous samples, else starts a fresh entry. The leading entries decide
 * the result against a threshold that grows with the sample count.
 *
 * Entries are shared by reference in the reference; here they live in a
 * small pool and the ring stores pool indices. An entry is free again when
 * no ring slot points at it.
 */
#include <string.h>

#include "dht/dht.h"

#define NAT_SLOTS (2 * FL_DHT_NAT_RING)
#define NAT_POOL ((int)(NAT_SLOTS + 4))

void fl_dht_nat_init(fl_dht_nat *n) {
  memset(n, 0, sizeof *n);
  n->a = n->b = -1;
}

static bool entry_referenced(const fl_dht_nat *n, int e) {
  for (uint32_t i = 0; i < n->samples_len; i++)
    if (n->ring[i] == e) return true;
  return n->a == e || n->b == e;
}

static int entry_new(fl_dht_nat *n, const uint8_t ip[4], uint16_t port, int avoid) {
  for (int i = 0; i < NAT_POOL; i++) {
    if (i == avoid || entry_referenced(n, i)) continue;
    memcpy(n->pool[i].ip, ip, 4);
    n->pool[i].port = port;
    n->pool[i].hits = 1;
    return i;
  }
  return -1; /* cannot happen: 32 slots + 2 leaders + 1 avoided < 36 */
}

/* _bump: look at the same kind of entry in the 4 previous samples. */
static int bump(fl_dht_nat *n, const uint8_t ip[4], uint16_t port, uint32_t inc, int avoid) {
  for (uint32_t i = 0; i < 4; i++) {
    uint32_t j = (n->top - inc - 2 * i) & 31;
    if (j >= n->samples_len) break;
    fl_dht_nat_entry *s = &n->pool[n->ring[j]];
    if (s->port == port && memcmp(s->ip, ip, 4) == 0) {
      s->hits++;
      return n->ring[j];
    }
  }
  return entry_new(n, ip, port, avoid);
}

void fl_dht_nat_add(fl_dht_nat *n, const uint8_t ip[4], uint16_t port) {
  int a = bump(n, ip, port, 2, -1);
  int b = bump(n, ip, 0, 1, a);
  if (a < 0 || b < 0) return;
  if (n->samples_len < NAT_SLOTS) {
    n->size++;
    uint32_t s = n->size;
    n->threshold = s - (s < 4 ? 0 : s < 8 ? 1 : s < 12 ? 2 : 3);
    n->ring[n->samples_len++] = (uint8_t)a;
    n->ring[n->samples_len++] = (uint8_t)b;
    n->top += 2;
  } else {
    if (n->top == NAT_SLOTS) n->top = 0;
    int oa = n->ring[n->top];
    n->ring[n->top++] = (uint8_t)a;
    n->pool[oa].hits--;
    int ob = n->ring[n->top];
    n->ring[n->top++] = (uint8_t)b;
    n->pool[ob].hits--;
  }
  if (n->a < 0 || n->pool[n->a].hits < n->pool[a].hits) n->a = a;
  if (n->b < 0 || n->pool[n->b].hits < n->pool[b].hits) n->b = b;
  if (n->pool[n->a].hits >= n->threshold) {
    n->has_host = true;
    memcpy(n->host, n->pool[n->a].ip, 4);
    n->port = n->pool[n->a].port;
  } else if (n->pool[n->b].hits >= n->threshold) {
    n->has_host = true;
    memcpy(n->host, n->pool[n->b].ip, 4);
    n->port = 0;
  } else {
    n->has_host = false;
    memset(n->host, 0, 4);
    n->port = 0;
  }
}
