/*
 * udx_net.h — an in-memory, virtual-time network for UDX tests: N fl_udx
 * instances at 127.0.0.1:(10000+i), joined by a link with seeded loss,
 * reordering (jitter), fixed delay, a bandwidth limit and a drop-tail queue.
 * Time jumps to the next delivery or deadline, as quinn's test Pair does;
 * every drive loop is bounded in steps and in virtual time.
 */
#ifndef FL_UDX_TEST_NET_H
#define FL_UDX_TEST_NET_H

#include <stdlib.h>
#include <string.h>

#include "flock/udx.h"
#include "udx/udx_internal.h"

#define NET_NODES_MAX 4

typedef struct net_dgram {
  uint64_t at, order;
  int to;
  fl_addr from;
  uint16_t len;
  uint8_t buf[FL_UDX_DGRAM_BYTES_MAX];
} net_dgram;

/* What a test's "application" does with each side's stream. */
typedef struct net_app {
  uint32_t id;            /* local stream id on this node (0 = none) */
  uint64_t to_send;       /* bytes of the pattern to write */
  uint64_t written, received;
  int end_after;          /* end the stream once to_send is written */
  int ended_sent;
  int reading;            /* read on READABLE (0 = let the buffer fill) */
  int got_end, got_close, got_drain, got_acked, got_connect;
  int close_code;
  int corrupt;            /* a received byte did not match the pattern */
  uint64_t msgs;
  uint8_t last_msg[FL_UDX_DGRAM_BYTES_MAX];
  size_t last_msg_len;
  uint64_t close_at_us;
} net_app;

typedef struct net {
  fl_udx *u[NET_NODES_MAX];
  net_app app[NET_NODES_MAX];
  int n;
  uint64_t now;
  uint64_t rng;
  /* link model (same for every direction) */
  double loss, reorder;   /* probabilities */
  uint64_t delay_us, jitter_us;
  double bytes_per_us;    /* 0 = unlimited */
  uint64_t queue_us_max;  /* drop-tail: at most this much queued time */
  uint64_t busy_until[NET_NODES_MAX];
  int cut[NET_NODES_MAX]; /* 1 = everything sent by node i vanishes */
  /* a filter a test may install: return 1 to drop this datagram */
  int (*drop)(struct net *net, int from, const uint8_t *buf, size_t len, void *user);
  void *drop_user;
  net_dgram *heap;
  size_t hlen, hcap;
  uint64_t order;
  uint64_t sent, dropped, delivered;
  uint64_t type_count[256]; /* datagrams seen on the wire by type byte */
  uint64_t check_failures;  /* fl_udx_check failures after steps */
} net;

static inline uint64_t net_next_u64(net *t) { /* xorshift64*: test-only PRNG */
  t->rng ^= t->rng >> 12;
  t->rng ^= t->rng << 25;
  t->rng ^= t->rng >> 27;
  return t->rng * 2685821657736338717ull;
}
static inline double net_uniform(net *t) { return (double)(net_next_u64(t) >> 11) / 9007199254740992.0; }

static inline fl_addr net_addr(int i) { return fl_addr_ipv4(127, 0, 0, 1, (uint16_t)(10000 + i)); }

static inline int net_init(net *t, int n, uint64_t seed, const fl_udx_config *cfg) {
  memset(t, 0, sizeof(*t));
  t->n = n;
  t->rng = seed * 0x9E3779B97F4A7C15ull + 1;
  t->delay_us = 5000;
  t->queue_us_max = 50000;
  t->now = 1000000;
  for (int i = 0; i < n; i++) {
    t->u[i] = fl_udx_new(cfg, NULL);
    if (t->u[i] == NULL) return -1;
    t->app[i].reading = 1;
  }
  return 0;
}

static inline void net_free(net *t) {
  for (int i = 0; i < t->n; i++) fl_udx_free(t->u[i]);
  free(t->heap);
}

static inline int net_before(const net_dgram *a, const net_dgram *b) {
  return a->at < b->at || (a->at == b->at && a->order < b->order);
}

static inline void net_push(net *t, const net_dgram *d) {
  if (t->hlen == t->hcap) {
    t->hcap = t->hcap ? t->hcap * 2 : 1024;
    t->heap = realloc(t->heap, t->hcap * sizeof(net_dgram));
  }
  size_t i = t->hlen++;
  t->heap[i] = *d;
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!net_before(&t->heap[i], &t->heap[p])) break;
    net_dgram tmp = t->heap[i];
    t->heap[i] = t->heap[p];
    t->heap[p] = tmp;
    i = p;
  }
}

static inline void net_pop(net *t, net_dgram *out) {
  *out = t->heap[0];
  t->heap[0] = t->heap[--t->hlen];
  size_t i = 0;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < t->hlen && net_before(&t->heap[l], &t->heap[m])) m = l;
    if (r < t->hlen && net_before(&t->heap[r], &t->heap[m])) m = r;
    if (m == i) break;
    net_dgram tmp = t->heap[i];
    t->heap[i] = t->heap[m];
    t->heap[m] = tmp;
    i = m;
  }
}

static inline uint8_t net_pattern(uint64_t off, uint32_t id) {
  uint64_t x = off * 0x9E3779B97F4A7C15ull ^ id;
  return (uint8_t)(x >> 29 ^ x >> 7);
}

/* Send what node i has for the wire through the link model. */
static inline void net_flush_tx(net *t, int i) {
  net_dgram d;
  fl_udx_dgram g;
  for (int guard = 0; guard < 100000; guard++) {
    int r = fl_udx_poll_transmit(t->u[i], &g, d.buf, sizeof(d.buf));
    if (r != 1) break;
    t->sent++;
    t->type_count[d.buf[2]]++;
    int to = g.to.port - 10000;
    if (to < 0 || to >= t->n || t->cut[i] ||
        (t->drop && t->drop(t, i, d.buf, g.len, t->drop_user)) || net_uniform(t) < t->loss) {
      t->dropped++;
      continue;
    }
    uint64_t start = t->busy_until[i] > t->now ? t->busy_until[i] : t->now;
    if (start - t->now > t->queue_us_max) { /* drop-tail */
      t->dropped++;
      continue;
    }
    uint64_t ser = t->bytes_per_us > 0 ? (uint64_t)((double)(g.len + 28) / t->bytes_per_us) : 0;
    t->busy_until[i] = start + ser;
    d.at = start + ser + t->delay_us;
    if (t->reorder > 0 && net_uniform(t) < t->reorder)
      d.at += (uint64_t)(net_uniform(t) * (double)t->jitter_us);
    d.order = t->order++;
    d.to = to;
    d.from = net_addr(i);
    d.len = (uint16_t)g.len;
    net_push(t, &d);
  }
}

static inline void net_fill(net *t, int i) {
  net_app *a = &t->app[i];
  uint8_t chunk[16384];
  while (a->id && a->written < a->to_send && !a->got_close) {
    size_t n = a->to_send - a->written < sizeof(chunk) ? (size_t)(a->to_send - a->written)
                                                      : sizeof(chunk);
    for (size_t k = 0; k < n; k++) chunk[k] = net_pattern(a->written + k, 0);
    int w = fl_udx_stream_write(t->u[i], t->now, a->id, chunk, n);
    if (w <= 0) break;
    a->written += (uint64_t)w;
  }
  if (a->id && a->end_after && !a->ended_sent && a->written == a->to_send && !a->got_close) {
    if (fl_udx_stream_end(t->u[i], t->now, a->id) == 0) a->ended_sent = 1;
  }
}

static inline void net_read(net *t, int i) {
  net_app *a = &t->app[i];
  uint8_t chunk[16384];
  for (;;) {
    int n = fl_udx_stream_read(t->u[i], t->now, a->id, chunk, sizeof(chunk));
    if (n <= 0) break;
    for (int k = 0; k < n; k++)
      if (chunk[k] != net_pattern(a->received + (uint64_t)k, 0)) a->corrupt = 1;
    a->received += (uint64_t)n;
  }
}

static inline void net_events(net *t, int i) {
  net_app *a = &t->app[i];
  fl_udx_event e;
  while (fl_udx_poll_event(t->u[i], &e) == 1) {
    switch (e.type) {
      case FL_UDX_EVENT_READABLE: if (a->reading) net_read(t, i); break;
      case FL_UDX_EVENT_END: a->got_end = 1; break;
      case FL_UDX_EVENT_DRAIN: a->got_drain++; break;
      case FL_UDX_EVENT_ACKED: a->got_acked = 1; break;
      case FL_UDX_EVENT_CONNECT: a->got_connect = 1; break;
      case FL_UDX_EVENT_CLOSE:
        a->got_close = 1;
        a->close_code = e.code;
        a->close_at_us = t->now;
        break;
      case FL_UDX_EVENT_MESSAGE:
        a->msgs++;
        memcpy(a->last_msg, e.data, e.len);
        a->last_msg_len = e.len;
        break;
      default: break;
    }
  }
  net_fill(t, i);
}

/* After any input to node i: events, app writes, then the wire. */
static inline void net_settle(net *t) {
  for (int i = 0; i < t->n; i++) {
    net_events(t, i);
    net_flush_tx(t, i);
  }
}

/* One step: jump to the next delivery or deadline and process it. Returns 0
 * when there is nothing left to happen. */
static inline int net_step(net *t) {
  uint64_t next = UINT64_MAX;
  if (t->hlen) next = t->heap[0].at;
  for (int i = 0; i < t->n; i++) {
    uint64_t d = fl_udx_next_deadline(t->u[i]);
    if (d < next) next = d;
  }
  if (next == UINT64_MAX) return 0;
  if (next > t->now) t->now = next;
  /* Deliver everything due now, then timers: a driver reading a batch. */
  while (t->hlen && t->heap[0].at <= t->now) {
    net_dgram d;
    net_pop(t, &d);
    t->delivered++;
    int rc = fl_udx_handle_datagram(t->u[d.to], t->now, 0, &d.from, d.buf, d.len);
    (void)rc;
  }
  for (int i = 0; i < t->n; i++) {
    if (fl_udx_next_deadline(t->u[i]) <= t->now) {
      int rc = fl_udx_handle_timeout(t->u[i], t->now);
      (void)rc;
    }
  }
  net_settle(t);
  for (int i = 0; i < t->n; i++) t->check_failures += fl_udx_check(t->u[i]) != 0;
  return 1;
}

/* Run until cond(t) holds, nothing is left, or the step/time bounds hit.
 * Returns 1 if cond held. */
static inline int net_run(net *t, int (*cond)(net *), uint64_t max_steps, uint64_t max_us) {
  uint64_t end = t->now + max_us;
  net_settle(t);
  for (uint64_t s = 0; s < max_steps && t->now <= end; s++) {
    if (cond(t)) return 1;
    if (!net_step(t)) return cond(t);
  }
  return cond(t);
}

/* Open stream id_a on node a and id_b on node b, connected to each other. */
static inline int net_connect(net *t, int a, uint32_t id_a, int b, uint32_t id_b) {
  fl_addr aa = net_addr(a), ab = net_addr(b);
  if (fl_udx_stream_open(t->u[a], t->now, id_a) != 0) return -1;
  if (fl_udx_stream_open(t->u[b], t->now, id_b) != 0) return -1;
  if (fl_udx_stream_connect(t->u[a], t->now, id_a, id_b, 0, &ab) != 0) return -1;
  if (fl_udx_stream_connect(t->u[b], t->now, id_b, id_a, 0, &aa) != 0) return -1;
  t->app[a].id = id_a;
  t->app[b].id = id_b;
  return 0;
}

#endif /* FL_UDX_TEST_NET_H */
