/*
 * ss_pair.h — two secret streams wired back to back in memory, with virtual
 * time, for the secretstream unit tests. Each side's output is fed to the
 * other in chunks of a chosen size; events are collected per side.
 */
#ifndef SS_PAIR_H
#define SS_PAIR_H

#include <stdlib.h>
#include <string.h>

#include "flock/secretstream.h"
#include "secretstream/ss_internal.h"

static const char HEX_HASH[] =
    "2222e888ddda3faa1ce91640580e2fd5f11d93ecc6c9723829cde5a1805b470a"
    "8f31d30fe5b8b93313636f891ae1418a40d0e484df89c4e81169ad6480540eeb";
static const char HEX_TX[] = "cc00d99bd3a15a6779df38fd42fd25a84d73264023e7c1da95cf3bcbdce9c210";
static const char HEX_RX[] = "78dd48ecef5d11fd953197694a8ee2d9f8d86d49d56d856e3dd7c8e78047826b";

static inline size_t unhex(uint8_t *out, const char *hex) {
  size_t n = strlen(hex) / 2;
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    sscanf(hex + 2 * i, "%2x", &v);
    out[i] = (uint8_t)v;
  }
  return n;
}

/* The spec's worked handshake result (noise.md §9) for one role. */
static inline void ss_test_hs(fl_ss_handshake *hs, int initiator) {
  memset(hs, 0, sizeof *hs);
  unhex(hs->hash, HEX_HASH);
  unhex(initiator ? hs->tx : hs->rx, HEX_TX);
  unhex(initiator ? hs->rx : hs->tx, HEX_RX);
  memset(hs->public_key, initiator ? 1 : 2, sizeof hs->public_key);
  memset(hs->remote_public_key, initiator ? 2 : 1, sizeof hs->remote_public_key);
}

#define SS_MAX_EVENTS 64
typedef struct ss_side {
  fl_ss *ss;
  fl_ss_event ev[SS_MAX_EVENTS];
  int nev;
  uint8_t *got;          /* concatenated DATA payloads */
  size_t got_len, got_cap;
  int data_events, empty_events;
  int last_rc;           /* last negative return seen while feeding */
} ss_side;

typedef struct ss_pair {
  ss_side s[2];          /* 0 = initiator, 1 = responder */
  uint64_t now;
  size_t chunk;          /* bytes moved per recv call */
  fl_drbg drbg;
} ss_pair;

static inline void ss_side_collect(ss_side *d) {
  fl_ss_event e;
  while (fl_ss_poll_event(d->ss, &e) == 1) {
    if (d->nev < SS_MAX_EVENTS) d->ev[d->nev++] = e;
    if (e.type == FL_SS_EV_DATA) {
      d->data_events++;
      if (e.len == 0) d->empty_events++;
      if (d->got_len + e.len > d->got_cap) {
        d->got_cap = (d->got_len + e.len) * 2 + 64;
        d->got = realloc(d->got, d->got_cap);
      }
      if (e.len) memcpy(d->got + d->got_len, e.data, e.len);
      d->got_len += e.len;
    }
  }
}

static inline int ss_side_count(const ss_side *d, int type) {
  int n = 0;
  for (int i = 0; i < d->nev; i++) n += d->ev[i].type == type;
  return n;
}

static inline int ss_pair_init(ss_pair *p, const fl_ss_config *base, uint64_t seed) {
  memset(p, 0, sizeof *p);
  uint8_t s[32] = {0};
  memcpy(s, &seed, sizeof seed);
  fl_drbg_init(&p->drbg, s);
  p->chunk = 65536;
  p->now = 1000000;
  for (int i = 0; i < 2; i++) {
    fl_ss_config c = *base;
    c.is_initiator = i == 0;
    int rc = fl_ss_new(&p->s[i].ss, &c);
    if (rc != 0) return rc;
  }
  return 0;
}

static inline int ss_pair_start(ss_pair *p) {
  for (int i = 0; i < 2; i++) {
    fl_ss_handshake hs;
    ss_test_hs(&hs, i == 0);
    int rc = fl_ss_start(p->s[i].ss, p->now, &hs, &p->drbg);
    if (rc != 0) return rc;
  }
  return 0;
}

/* Move everything side `from` has queued into the other side, chunk by chunk.
 * Returns the bytes moved, or the first negative recv result. */
static inline long ss_pair_move(ss_pair *p, int from) {
  ss_side *a = &p->s[from], *b = &p->s[1 - from];
  const uint8_t *out;
  size_t n = fl_ss_tx_peek(a->ss, &out);
  if (n == 0) return 0;
  uint8_t *copy = malloc(n);
  memcpy(copy, out, n);
  if (fl_ss_tx_consume(a->ss, n) != 0) abort();
  size_t off = 0;
  while (off < n) {
    size_t len = n - off < p->chunk ? n - off : p->chunk;
    int rc = fl_ss_recv(b->ss, p->now, copy + off, len);
    ss_side_collect(b);
    if (rc < 0) {
      b->last_rc = rc;
      free(copy);
      return rc;
    }
    off += (size_t)rc;
  }
  free(copy);
  return (long)n;
}

/* Shuttle bytes both ways until neither side has output (bounded). */
static inline int ss_pair_flush(ss_pair *p) {
  for (int round = 0; round < 64; round++) {
    long a = ss_pair_move(p, 0);
    if (a < 0) return (int)a;
    long b = ss_pair_move(p, 1);
    if (b < 0) return (int)b;
    ss_side_collect(&p->s[0]);
    ss_side_collect(&p->s[1]);
    if (a == 0 && b == 0) return 0;
  }
  return FL_ERR_TIMEOUT; /* livelock: fail the test instead of hanging */
}

static inline void ss_pair_free(ss_pair *p) {
  for (int i = 0; i < 2; i++) {
    fl_ss_free(p->s[i].ss);
    free(p->s[i].got);
  }
}

#endif
