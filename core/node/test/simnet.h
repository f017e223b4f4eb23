/*
 * simnet.h — an in-memory network of fl_nodes for the node tests: virtual
 * time, datagrams delivered after a fixed latency, optional dead nodes and
 * a per-node event log; fl_node_check runs on the stepped node every 8th
 * step (every step costs ~5x the test time). The same drive loop io_posix and io_sim run: one
 * input, drain transmits, drain events, re-arm from next_deadline.
 */
#ifndef FL_SIMNET_H
#define FL_SIMNET_H

#include "flock/node.h"
#include "testing/fl_test.h"

#define SN_NODES_MAX 128
#define SN_EVENTS_MAX 4096
#define SN_BASE_PORT 20000

typedef struct sn_pkt {
  uint64_t at;
  uint32_t to_node, to_sock;
  fl_addr from;
  size_t len;
  uint8_t data[FL_DGRAM_BYTES_MAX];
  struct sn_pkt *next;
} sn_pkt;

typedef struct sn_event {
  fl_event ev;
  uint8_t data[64];
} sn_event;

typedef struct sn_node {
  fl_node *n;
  bool dead;
  bool auto_reply;  /* answer every user request with "r" + its value */
  uint64_t user_seen, user_with_token;
  uint16_t port[2];
  sn_event *events;
  size_t nevents;
} sn_node;

struct simnet;
/* Optional hook for every event (UDX streams react here: read, write more).
 * Return true if handled: it is then not logged. Set *more if the hook
 * called into the node so the drain runs again. */
typedef bool (*sn_event_fn)(struct simnet *s, size_t i, const fl_event *ev, bool *more);

typedef struct simnet {
  uint64_t now_us, latency_us;
  uint32_t loss_ppm;    /* each datagram is lost with this probability (per million) */
  uint64_t loss_state;  /* the loss PRNG (fl_test_rand), seeded by the test */
  uint64_t lost;
  sn_event_fn on_event;
  void *user;
  sn_node nodes[SN_NODES_MAX];
  size_t count;
  sn_pkt *head, *tail;
  uint64_t delivered, dropped;
  uint64_t fingerprint; /* FNV-1a over every delivered datagram and its time */
  uint64_t steps;
} simnet;

static inline void sn_init(simnet *s) {
  memset(s, 0, sizeof *s);
  s->now_us = 1000000;
  s->latency_us = 1000;
  s->fingerprint = 0xcbf29ce484222325ull;
}

static inline int sn_find(simnet *s, const fl_addr *to, uint32_t *sock) {
  if (to->ip[0] != 127 || to->ip[1] != 0 || to->ip[2] != 0) return -1;
  for (size_t i = 0; i < s->count; i++) {
    for (uint32_t k = 0; k < 2; k++) {
      if (s->nodes[i].port[k] == to->port && to->ip[3] == 1) {
        *sock = k;
        return (int)i;
      }
    }
  }
  return -1;
}

static inline void sn_drain_once(simnet *s, size_t i, bool *more);

static inline void sn_drain(simnet *s, size_t i) {
  bool more = true;
  for (int round = 0; more && round < 8; round++) {
    more = false;
    sn_drain_once(s, i, &more);
  }
}

static inline void sn_drain_once(simnet *s, size_t i, bool *more) {
  sn_node *sn = &s->nodes[i];
  for (;;) {
    sn_pkt *p = calloc(1, sizeof *p);
    fl_dgram g;
    int rc = fl_node_poll_transmit(sn->n, &g, p->data, sizeof p->data);
    if (rc != 1) {
      free(p);
      break;
    }
    uint32_t sock;
    int to = sn_find(s, &g.to, &sock);
    if (to < 0 || s->nodes[to].dead || sn->dead) {
      s->dropped++;
      free(p);
      continue;
    }
    if (s->loss_ppm && fl_test_rand(&s->loss_state) % 1000000u < s->loss_ppm) {
      s->lost++;
      free(p);
      continue;
    }
    p->at = s->now_us + s->latency_us;
    p->to_node = (uint32_t)to;
    p->to_sock = sock;
    p->from = fl_addr_ipv4(127, 0, 0, 1, sn->port[g.sock]);
    p->len = g.len;
    if (s->tail) s->tail->next = p;
    else s->head = p;
    s->tail = p;
  }
  fl_event ev;
  while (fl_node_poll_event(sn->n, &ev) == 1) {
    if (ev.type == FL_EVENT_SOCKET_OPEN) {
      fl_addr b = fl_addr_ipv4(127, 0, 0, 1, sn->port[ev.sock]);
      if (fl_node_socket_opened(sn->n, s->now_us, ev.sock, &b) != 0) abort();
      continue;
    }
    if (s->on_event && s->on_event(s, i, &ev, more)) continue;
    if (ev.type == FL_EVENT_DHT_USER_REQUEST && sn->auto_reply) {
      uint8_t v[65] = {'r'};
      size_t n = ev.len < 64 ? ev.len : 64;
      if (n) memcpy(v + 1, ev.data, n);
      sn->user_seen++;
      sn->user_with_token += (ev.flags & FL_EVENT_F_TOKEN) != 0;
      if (fl_node_reply(sn->n, s->now_us, ev.id, v, n + 1, 0) != 0) abort();
      *more = true;
    }
    if (sn->nevents < SN_EVENTS_MAX) {
      sn_event *e = &sn->events[sn->nevents++];
      e->ev = ev;
      size_t n = ev.len < sizeof e->data ? ev.len : sizeof e->data;
      if (n) memcpy(e->data, ev.data, n);
      e->ev.data = NULL;
    }
  }
}

/* Add a node listening on 127.0.0.1:(SN_BASE_PORT + 2i) / +1. */
static inline size_t sn_add(simnet *s, fl_node_config *c) {
  size_t i = s->count++;
  sn_node *sn = &s->nodes[i];
  sn->port[0] = (uint16_t)(SN_BASE_PORT + 2 * i);
  sn->port[1] = (uint16_t)(SN_BASE_PORT + 2 * i + 1);
  sn->events = calloc(SN_EVENTS_MAX, sizeof *sn->events);
  if (fl_node_new(c, s->now_us, &sn->n) != 0) abort();
  /* Run the open protocol once: the node drains SOCKET_OPEN on its own. */
  sn_drain(s, i);
  sn_drain(s, i);
  return i;
}

static inline fl_addr sn_addr(const simnet *s, size_t i) {
  return fl_addr_ipv4(127, 0, 0, 1, s->nodes[i].port[0]);
}

/* One step: deliver the next packet or run the earliest timer, whichever
 * comes first, not past `until`. Returns false if nothing is left. */
static inline bool sn_step(simnet *s, uint64_t until) {
  uint64_t t = FL_TIME_NONE;
  size_t who = SIZE_MAX;
  for (size_t i = 0; i < s->count; i++) {
    if (s->nodes[i].dead) continue;
    uint64_t d = fl_node_next_deadline(s->nodes[i].n);
    if (d < t) t = d, who = i;
  }
  s->steps++;
  if (s->head && s->head->at <= t) {
    sn_pkt *p = s->head;
    if (p->at > until) return false;
    s->head = p->next;
    if (!s->head) s->tail = NULL;
    if (p->at > s->now_us) s->now_us = p->at;
    sn_node *to = &s->nodes[p->to_node];
    if (!to->dead) {
      if (fl_node_handle_datagram(to->n, s->now_us, p->to_sock, &p->from, p->data, p->len) != 0)
        abort();
      s->delivered++;
      uint64_t h = s->fingerprint ^ p->at ^ ((uint64_t)p->to_node << 48);
      for (size_t b = 0; b < p->len; b++) h = (h ^ p->data[b]) * 0x100000001b3ull;
      s->fingerprint = h;
      sn_drain(s, p->to_node);
      if (s->steps % 8 == 0 && fl_node_check(to->n) != 0) {
        fl_test_err("fl_node_check: rule %d broken\n", fl_node_check(to->n));
        abort();
      }
    }
    free(p);
    return true;
  }
  if (who == SIZE_MAX || t > until) return false;
  if (t > s->now_us) s->now_us = t;
  if (fl_node_handle_timeout(s->nodes[who].n, s->now_us) != 0) abort();
  sn_drain(s, who);
  if (s->steps % 8 == 0 && fl_node_check(s->nodes[who].n) != 0) {
    fl_test_err("fl_node_check: rule %d broken\n", fl_node_check(s->nodes[who].n));
    abort();
  }
  return true;
}

/* Run until virtual time `until` (bounded in steps: a livelock fails). */
static inline bool sn_run_until(simnet *s, uint64_t until, uint64_t max_steps) {
  uint64_t start = s->steps;
  while (s->steps - start < max_steps) {
    if (!sn_step(s, until)) {
      s->now_us = until;
      return true;
    }
  }
  return false;
}

static inline void sn_free(simnet *s) {
  for (size_t i = 0; i < s->count; i++) {
    fl_node_free(s->nodes[i].n);
    free(s->nodes[i].events);
  }
  while (s->head) {
    sn_pkt *p = s->head;
    s->head = p->next;
    free(p);
  }
}

static inline const sn_event *sn_find_event(const simnet *s, size_t i, uint32_t type,
                                            uint64_t id) {
  for (size_t k = 0; k < s->nodes[i].nevents; k++) {
    const fl_event *e = &s->nodes[i].events[k].ev;
    if (e->type == type && (id == 0 || e->id == id)) return &s->nodes[i].events[k];
  }
  return NULL;
}

static inline void sn_seed(fl_node_config *c, uint64_t seed, size_t i) {
  uint64_t st = seed * 1000003u + i;
  for (int k = 0; k < 32; k++) c->seed[k] = (uint8_t)fl_test_rand(&st);
}

#endif
