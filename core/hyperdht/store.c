/*
 * hyperdht/store.c — a persistent node's record state and the server side of
 * the record commands, as pure functions of (request, now): hyperdht@6.34.0
 * lib/persistent.js and the forward table of lib/router.js
 * (spec/hyperdht-records.md §1, §3).
 *
 * Every signature and hash is checked before anything is stored; nothing is
 * returned that was not checked on the way in.
 */
#include <assert.h>
#include <string.h>

#include "flock/hyperdht.h"
#include "hyperdht/gencache.h"

/* The largest encoded peer we store: key, count, 3 relays. */
#define RECORD_MAX (FL_PUBLIC_KEY_BYTES + 1 + FL_HYPERDHT_RELAYS_MAX * FL_ENC_IPV4_ADDRESS_BYTES)
_Static_assert(RECORD_MAX == 51, "a peer record is at most 51 bytes");
_Static_assert(FL_HYPERDHT_LOOKUP_PEERS_MAX * RECORD_MAX + 1 + 9 <= FL_HYPERDHT_REPLY_VALUE_MAX,
               "a full lookup reply fits the reply buffer");
_Static_assert(FL_HYPERDHT_MUTABLES_MAX <= FL_HYPERDHT_RECORDS_MAX,
               "values are the scarcer resource, as in the reference");

typedef struct topic {
  size_t len, cap;
  gc_entry **v;  /* the topic's records, fresh and stale, in no order */
} topic;

/* A forward: the relay a self-announcer reached us from, and its record. */
typedef struct forward_hdr {
  fl_addr relay;
} forward_hdr;

/* A remembered refresh: where it re-files the record. */
typedef struct refresh_hdr {
  uint8_t target[32];
  uint8_t self;
} refresh_hdr;

struct fl_hyperdht_store {
  const fl_mem *mem;
  fl_hyperdht_store_config cfg;
  fl_drbg drbg;
  uint64_t last_now_us;
  gencache records;    /* target || pk -> encoded peer */
  gencache topics;     /* target -> topic (pinned; removed when empty) */
  gencache forwards;   /* H(pk) -> forward_hdr || encoded peer */
  gencache bumps;      /* target -> uint64 */
  gencache refreshes;  /* refresh -> refresh_hdr || encoded peer */
  gencache mutables;   /* H(pk) -> mutableGetResponse bytes */
  gencache immutables; /* H(value) -> value */
  fl_hyperdht_store_stats stats;
};

size_t fl_hyperdht_store_stats_struct_size(void) { return sizeof(fl_hyperdht_store_stats); }

void fl_hyperdht_store_config_default(fl_hyperdht_store_config *c) {
  if (c == NULL) return;
  c->records_max = FL_HYPERDHT_RECORDS_MAX;
  c->forwards_max = FL_HYPERDHT_FORWARDS_MAX;
  c->bumps_max = FL_HYPERDHT_BUMPS_MAX;
  c->refreshes_max = FL_HYPERDHT_REFRESHES_MAX;
  c->mutables_max = FL_HYPERDHT_MUTABLES_MAX;
  c->immutables_max = FL_HYPERDHT_IMMUTABLES_MAX;
  c->value_bytes_max = FL_HYPERDHT_VALUE_BYTES_MAX;
  c->max_age_us = FL_HYPERDHT_MAX_AGE_US;
  c->values_max_age_us = FL_HYPERDHT_VALUES_MAX_AGE_US;
}

static bool config_valid(const fl_hyperdht_store_config *c) {
  return c->records_max > 0 && c->forwards_max > 0 && c->bumps_max > 0 &&
         c->refreshes_max > 0 && c->mutables_max > 0 && c->immutables_max > 0 &&
         c->value_bytes_max >= 2 * FL_HYPERDHT_REPLY_VALUE_MAX && c->max_age_us > 0 &&
         c->values_max_age_us > 0 && c->records_max <= SIZE_MAX / 4;
}

/* ---- topics ------------------------------------------------------------------ */

static topic *topic_of(gencache *topics, gc_entry *te) { return (topic *)gc_value(topics, te); }

static void topic_drop(void *ctx, gencache *c, gc_entry *e) {
  fl_hyperdht_store *st = ctx;
  topic *t = topic_of(c, e);
  assert(t->len == 0);
  fl_mem_free(st->mem, t->v, t->cap * sizeof *t->v);
}

/* A record leaves the records cache: take it out of its topic's vector. */
static void record_drop(void *ctx, gencache *c, gc_entry *e) {
  fl_hyperdht_store *st = ctx;
  (void)c;
  gc_entry *te = e->aux_ptr;
  if (te == NULL) return;
  topic *t = topic_of(&st->topics, te);
  assert(e->aux < t->len && t->v[e->aux] == e);
  gc_entry *last = t->v[--t->len];
  t->v[e->aux] = last;
  last->aux = e->aux;
  e->aux_ptr = NULL;
}

/* Free topics a rotation or removal left empty. */
static void topics_prune(fl_hyperdht_store *st) {
  gencache *c = &st->topics;
  for (size_t i = 0; i < c->nbuckets; i++) {
    gc_entry *e = c->buckets[i];
    while (e != NULL) {
      gc_entry *next = e->next;
      if (topic_of(c, e)->len == 0) gc_remove(c, e);
      e = next;
    }
  }
}

static int topic_reserve(fl_hyperdht_store *st, topic *t) {
  if (t->len < t->cap) return 0;
  size_t cap = t->cap == 0 ? 4 : t->cap * 2;
  gc_entry **v = fl_mem_alloc(st->mem, cap * sizeof *v);
  if (v == NULL) return FL_ERR_NOMEM;
  if (t->len > 0) memcpy(v, t->v, t->len * sizeof *v);
  fl_mem_free(st->mem, t->v, t->cap * sizeof *t->v);
  t->v = v;
  t->cap = cap;
  return 0;
}

/* ---- life cycle --------------------------------------------------------------- */

static int init_caches(fl_hyperdht_store *st, const uint8_t seed[32], uint64_t now_us) {
  const fl_hyperdht_store_config *c = &st->cfg;
  uint8_t keys[7][16];
  fl_drbg_bytes(&st->drbg, &keys[0][0], sizeof keys);
  (void)seed;
  /* Records are small and fixed-size: their count is their bound. */
  int rc = gc_init(&st->records, st->mem, 64, c->records_max, SIZE_MAX, true, c->max_age_us,
                   keys[0], now_us);
  /* Topics never expire by themselves: they live while they hold records. */
  if (rc == 0)
    rc = gc_init(&st->topics, st->mem, 32, SIZE_MAX / 4, SIZE_MAX, false, UINT64_MAX / 2,
                 keys[1], now_us);
  if (rc == 0)
    rc = gc_init(&st->forwards, st->mem, 32, c->forwards_max, SIZE_MAX, false, c->max_age_us,
                 keys[2], now_us);
  if (rc == 0)
    rc = gc_init(&st->bumps, st->mem, 32, c->bumps_max, SIZE_MAX, false, c->max_age_us,
                 keys[3], now_us);
  if (rc == 0)
    rc = gc_init(&st->refreshes, st->mem, 32, c->refreshes_max, SIZE_MAX, false,
                 c->max_age_us, keys[4], now_us);
  if (rc == 0)
    rc = gc_init(&st->mutables, st->mem, 32, c->mutables_max, c->value_bytes_max, false,
                 c->values_max_age_us, keys[5], now_us);
  if (rc == 0)
    rc = gc_init(&st->immutables, st->mem, 32, c->immutables_max, c->value_bytes_max, false,
                 c->values_max_age_us, keys[6], now_us);
  st->records.on_drop = record_drop;
  st->records.ctx = st;
  st->topics.on_drop = topic_drop;
  st->topics.ctx = st;
  return rc;
}

static void deinit_caches(fl_hyperdht_store *st) {
  /* Records first: their drop hook reaches into the topics. */
  st->records.on_drop = NULL;
  gc_deinit(&st->records);
  for (size_t i = 0; st->topics.buckets != NULL && i < st->topics.nbuckets; i++)
    for (gc_entry *e = st->topics.buckets[i]; e != NULL; e = e->next) {
      topic *t = topic_of(&st->topics, e);
      fl_mem_free(st->mem, t->v, t->cap * sizeof *t->v);
    }
  gc_deinit(&st->topics);
  gc_deinit(&st->forwards);
  gc_deinit(&st->bumps);
  gc_deinit(&st->refreshes);
  gc_deinit(&st->mutables);
  gc_deinit(&st->immutables);
}

int fl_hyperdht_store_new(fl_hyperdht_store **out, const fl_mem *mem,
                          const fl_hyperdht_store_config *config, const uint8_t seed[32],
                          uint64_t now_us) {
  if (out != NULL) *out = NULL;
  if (out == NULL || seed == NULL) return FL_ERR_INVALID;
  fl_hyperdht_store_config cfg;
  fl_hyperdht_store_config_default(&cfg);
  if (config != NULL) cfg = *config;
  if (!config_valid(&cfg)) return FL_ERR_INVALID;
  fl_hyperdht_store *st = fl_mem_calloc(mem, 1, sizeof *st);
  if (st == NULL) return FL_ERR_NOMEM;
  st->mem = mem;
  st->cfg = cfg;
  st->last_now_us = now_us;
  fl_drbg_init(&st->drbg, seed);
  int rc = init_caches(st, seed, now_us);
  if (rc != 0) {
    deinit_caches(st);
    fl_mem_free(mem, st, sizeof *st);
    return rc;
  }
  *out = st;
  return 0;
}

void fl_hyperdht_store_free(fl_hyperdht_store *st) {
  if (st == NULL) return;
  deinit_caches(st);
  fl_drbg_wipe(&st->drbg);
  fl_mem_free(st->mem, st, sizeof *st);
}

static gencache *ticking(fl_hyperdht_store *st, int i) {
  gencache *all[] = {&st->records, &st->forwards, &st->bumps,
                     &st->refreshes, &st->mutables, &st->immutables};
  return i < 6 ? all[i] : NULL;
}

uint64_t fl_hyperdht_store_next_deadline(const fl_hyperdht_store *st) {
  if (st == NULL) return FL_TIME_NONE;
  fl_hyperdht_store *s = (fl_hyperdht_store *)st; /* ticking() only reads */
  uint64_t d = FL_TIME_NONE;
  for (int i = 0; i < 6; i++)
    if (ticking(s, i)->next_tick_us < d) d = ticking(s, i)->next_tick_us;
  return d;
}

static void settle_records(fl_hyperdht_store *st, uint64_t rotations_before) {
  if (st->records.stats.rotations != rotations_before) topics_prune(st);
}

int fl_hyperdht_store_handle_timeout(fl_hyperdht_store *st, uint64_t now_us) {
  if (st == NULL || now_us < st->last_now_us) return FL_ERR_INVALID;
  st->last_now_us = now_us;
  uint64_t before = st->records.stats.rotations;
  for (int i = 0; i < 6; i++) gc_tick(ticking(st, i), now_us);
  settle_records(st, before);
  return 0;
}

void fl_hyperdht_store_get_stats(const fl_hyperdht_store *st, fl_hyperdht_store_stats *out) {
  if (out == NULL) return;
  memset(out, 0, sizeof *out);
  if (st == NULL) return;
  *out = st->stats;
  out->records = st->records.stats;
  out->topics = st->topics.stats;
  out->forwards = st->forwards.stats;
  out->bumps = st->bumps.stats;
  out->refreshes = st->refreshes.stats;
  out->mutables = st->mutables.stats;
  out->immutables = st->immutables.stats;
}

int fl_hyperdht_store_check(const fl_hyperdht_store *st) {
  if (st == NULL) return FL_ERR_INVALID;
  fl_hyperdht_store *s = (fl_hyperdht_store *)st;
  for (int i = 0; i < 6; i++)
    if (gc_check(ticking(s, i)) != 0) return FL_ERR_STATE;
  /* Every record sits in its topic's vector at its index, and nothing else does. */
  size_t in_topics = 0;
  const gencache *tc = &st->topics;
  for (size_t i = 0; i < tc->nbuckets; i++)
    for (gc_entry *e = tc->buckets[i]; e != NULL; e = e->next) {
      topic *t = topic_of(&s->topics, e);
      if (t->len == 0 || t->len > t->cap) return FL_ERR_STATE;
      for (size_t j = 0; j < t->len; j++)
        if (t->v[j]->aux != j || t->v[j]->aux_ptr != e ||
            memcmp(gc_key(t->v[j]), gc_key(e), 32) != 0)
          return FL_ERR_STATE;
      in_topics += t->len;
    }
  if (in_topics != st->records.fresh + st->records.stale) return FL_ERR_STATE;
  return 0;
}

/* ---- records -------------------------------------------------------------------- */

/* record-cache add: a fresh record stays as it is (its relays are not
 * replaced); a stale or missing one is (re)written fresh. */
static int records_add(fl_hyperdht_store *st, const uint8_t target[32], const uint8_t *rec,
                       size_t len) {
  uint8_t key[64];
  memcpy(key, target, 32);
  memcpy(key + 32, rec, 32);
  gc_entry *old = gc_find(&st->records, key);
  if (old != NULL && gc_is_fresh(&st->records, old)) return 0;
  gc_entry *te = gc_find(&st->topics, target);
  if (te == NULL) {
    topic empty = {0, 0, NULL};
    te = gc_put(&st->topics, target, (const uint8_t *)&empty, sizeof empty, true);
    if (te == NULL) return FL_ERR_NOMEM;
  }
  topic *t = topic_of(&st->topics, te);
  int rc = topic_reserve(st, t);
  gc_entry *e = rc == 0 ? gc_put(&st->records, key, rec, len, false) : NULL;
  if (e == NULL) {
    if (t->len == 0) gc_remove(&st->topics, te);
    return FL_ERR_NOMEM;
  }
  /* The stale record it replaced (if any) left the vector in its drop hook. */
  e->aux_ptr = te;
  e->aux = t->len;
  t->v[t->len++] = e;
  if (gc_settle(&st->records)) topics_prune(st);
  return 0;
}

static void records_remove(fl_hyperdht_store *st, const uint8_t target[32],
                           const uint8_t pk[32]) {
  uint8_t key[64];
  memcpy(key, target, 32);
  memcpy(key + 32, pk, 32);
  gc_entry *e = gc_find(&st->records, key);
  if (e == NULL) return;
  gc_entry *te = e->aux_ptr;
  gc_remove(&st->records, e);
  if (te != NULL && topic_of(&st->topics, te)->len == 0) gc_remove(&st->topics, te);
}

/* Up to n of the topic's records, chosen uniformly (a partial Fisher-Yates
 * over the vector, as record-cache samples in place). */
static size_t records_sample(fl_hyperdht_store *st, const uint8_t target[32], gc_entry **out,
                             size_t n) {
  gc_entry *te = gc_find(&st->topics, target);
  if (te == NULL) return 0;
  topic *t = topic_of(&st->topics, te);
  if (n > t->len) n = t->len;
  for (size_t i = 0; i < n; i++) {
    size_t j = i + (size_t)fl_drbg_uniform(&st->drbg, t->len - i);
    gc_entry *tmp = t->v[i];
    t->v[i] = t->v[j];
    t->v[j] = tmp;
    t->v[i]->aux = i;
    t->v[j]->aux = j;
    out[i] = t->v[i];
  }
  return n;
}

/* Put into a cache that rotates by itself (xache set). */
static int cache_set(gencache *c, const uint8_t *key, const uint8_t *a, size_t alen,
                     const uint8_t *b, size_t blen) {
  uint8_t v[sizeof(forward_hdr) + FL_HYPERDHT_REPLY_VALUE_MAX];
  assert(alen + blen <= sizeof v);
  if (alen > 0) memcpy(v, a, alen);
  if (blen > 0) memcpy(v + alen, b, blen);
  if (gc_put(c, key, v, alen + blen, false) == NULL) return FL_ERR_NOMEM;
  gc_settle(c);
  return 0;
}


/* ---- request handlers (lib/persistent.js) ------------------------------------ */

typedef struct ctx {
  fl_hyperdht_store *st;
  const uint8_t *node_id;
  const fl_hyperdht_request *req;
  uint8_t *buf;
  size_t cap;
  fl_hyperdht_reply *out;
} ctx;

/* A silent drop: count it under its reason and tell the caller why. */
static int drop(uint64_t *counter, int code, fl_hyperdht_reply *out) {
  (*counter)++;
  out->action = FL_HYPERDHT_ACTION_SILENT;
  return code;
}

/* A normal reply (dht-rpc defaults: a fresh token and closer nodes). */
static int reply(ctx *x, const uint8_t *value, size_t len, bool has_value) {
  if (has_value && len > x->cap) return FL_ERR_BUFFER;
  x->out->action = FL_HYPERDHT_ACTION_REPLY;
  x->out->error = FL_HYPERDHT_REPLY_OK;
  x->out->token = true;
  x->out->closer_nodes = true;
  x->out->has_value = has_value;
  x->out->value_len = has_value ? len : 0;
  if (has_value && len > 0) memmove(x->buf, value, len);
  x->st->stats.replied++;
  return 0;
}

/* ANNOUNCE/UNANNOUNCE success: the id alone, no token, no closer nodes. */
static int reply_bare(ctx *x) {
  int rc = reply(x, NULL, 0, false);
  x->out->token = false;
  x->out->closer_nodes = false;
  return rc;
}

/* An error reply: closer nodes, no token unless dht-rpc's INVALID_TOKEN. */
static int reply_error(ctx *x, uint64_t code, uint64_t *counter) {
  x->out->action = FL_HYPERDHT_ACTION_REPLY;
  x->out->error = code;
  x->out->token = code == FL_HYPERDHT_REPLY_INVALID_TOKEN;
  x->out->closer_nodes = true;
  (*counter)++;
  return 0;
}

static bool is_self_announce(const uint8_t target[32], const uint8_t pk[32]) {
  uint8_t h[32];
  return fl_hyperdht_target(h, pk, 32) == 0 && memcmp(h, target, 32) == 0;
}

/* Store a verified record under target: a forward for a self announce,
 * else a topic record (and the bump, if it is newer and not too far ahead). */
static int file_record(ctx *x, const uint8_t target[32], const uint8_t *rec, size_t len,
                       bool self, uint64_t bump) {
  fl_hyperdht_store *st = x->st;
  if (self) {
    forward_hdr h;
    memset(&h, 0, sizeof h);
    h.relay = x->req->from;
    int rc = cache_set(&st->forwards, target, (const uint8_t *)&h, sizeof h, rec, len);
    if (rc == 0) records_remove(st, target, rec);
    return rc;
  }
  if (bump != 0) {
    gc_entry *b = gc_find(&st->bumps, target);
    uint64_t cur = 0;
    if (b != NULL) memcpy(&cur, gc_value(&st->bumps, b), sizeof cur);
    if (bump > cur && bump <= x->req->unix_ms + FL_HYPERDHT_BUMP_DRIFT_MS) {
      int rc = cache_set(&st->bumps, target, (const uint8_t *)&bump, sizeof bump, NULL, 0);
      if (rc != 0) return rc;
    }
  }
  return records_add(st, target, rec, len);
}

static int on_refresh(ctx *x, const uint8_t refresh[32]) {
  fl_hyperdht_store *st = x->st;
  uint8_t h[32];
  if (fl_hyperdht_target(h, refresh, 32) != 0) return FL_ERR_INVALID;
  gc_entry *e = gc_find(&st->refreshes, h);
  if (e == NULL) return drop(&st->stats.drop_refresh_unknown, FL_ERR_PROTOCOL, x->out);
  uint8_t v[sizeof(refresh_hdr) + RECORD_MAX];
  size_t len = e->len;
  assert(len >= sizeof(refresh_hdr) + 32 && len <= sizeof v);
  memcpy(v, gc_value(&st->refreshes, e), len);
  refresh_hdr r;
  memcpy(&r, v, sizeof r);
  int rc = file_record(x, r.target, v + sizeof r, len - sizeof r, r.self != 0, 0);
  if (rc == 0) {
    gc_remove(&st->refreshes, e);
    rc = cache_set(&st->refreshes, refresh, v, len, NULL, 0);
  }
  if (rc != 0) return drop(&st->stats.drop_nomem, rc, x->out);
  return reply_bare(x);
}

static int need_target_token(ctx *x, bool token) {
  if (x->req->target == NULL) return drop(&x->st->stats.drop_no_target, FL_ERR_PROTOCOL, x->out);
  if (token && x->req->token == NULL)
    return drop(&x->st->stats.drop_no_token, FL_ERR_PROTOCOL, x->out);
  return 0;
}

static int on_announce(ctx *x, bool un) {
  fl_hyperdht_store *st = x->st;
  const fl_hyperdht_request *req = x->req;
  int rc = need_target_token(x, true);
  if (rc != 0) return rc;
  if (req->value == NULL) return drop(&st->stats.drop_no_value, FL_ERR_PROTOCOL, x->out);
  fl_hyperdht_announce a;
  if (fl_hyperdht_announce_decode(&a, req->value, req->value_len) < 0)
    return drop(&st->stats.drop_decode, FL_ERR_DECODE, x->out);
  if (!a.has_peer && !un && a.has_refresh) return on_refresh(x, a.refresh);
  if (!a.has_peer) return drop(&st->stats.drop_no_value, FL_ERR_PROTOCOL, x->out);
  int ns = un ? FL_NS_UNANNOUNCE : FL_NS_ANNOUNCE;
  if (fl_hyperdht_announce_verify(&a, ns, req->target, x->node_id, req->token) != 0)
    return drop(&st->stats.drop_signature, FL_ERR_CRYPTO, x->out);
  bool self = is_self_announce(req->target, a.peer.public_key);
  if (un) {
    if (self) {
      gc_entry *f = gc_find(&st->forwards, req->target);
      if (f != NULL) gc_remove(&st->forwards, f);
    }
    records_remove(st, req->target, a.peer.public_key);
    return reply_bare(x);
  }
  /* Verified over every relay sent; keep the first 3 (the decoder did). */
  uint8_t rec[RECORD_MAX];
  size_t len;
  a.peer.relays_raw = NULL;
  rc = fl_hyperdht_peer_encode(&a.peer, rec, sizeof rec, &len);
  assert(rc == 0);
  if (rc == 0) rc = file_record(x, req->target, rec, len, self, a.bump);
  if (rc == 0 && a.has_refresh) {
    refresh_hdr h;
    memset(&h, 0, sizeof h);
    memcpy(h.target, req->target, 32);
    h.self = self;
    rc = cache_set(&st->refreshes, a.refresh, (const uint8_t *)&h, sizeof h, rec, len);
  }
  if (rc != 0) return drop(&st->stats.drop_nomem, rc, x->out);
  return reply_bare(x);
}

static int on_lookup(ctx *x) {
  fl_hyperdht_store *st = x->st;
  int rc = need_target_token(x, false);
  if (rc != 0) return rc;
  gc_entry *picked[FL_HYPERDHT_LOOKUP_PEERS_MAX];
  size_t n = records_sample(st, x->req->target, picked, FL_HYPERDHT_LOOKUP_PEERS_MAX);
  gc_entry *fwd = gc_find(&st->forwards, x->req->target);
  if (fwd != NULL) gc_touch(&st->forwards, fwd);
  gc_entry *b = gc_find(&st->bumps, x->req->target);
  uint64_t bump = 0;
  if (b != NULL) {
    gc_touch(&st->bumps, b);
    memcpy(&bump, gc_value(&st->bumps, b), sizeof bump);
  }
  bool with_fwd = fwd != NULL && n < FL_HYPERDHT_LOOKUP_PEERS_MAX;
  if (n == 0 && !with_fwd) return reply(x, NULL, 0, false);
  /* Records are stored encoded: write them back to back, as lookupRawReply. */
  uint8_t tmp[FL_HYPERDHT_REPLY_VALUE_MAX];
  fl_enc_state s;
  fl_enc_state_init(&s, tmp, sizeof tmp);
  rc = fl_enc_uint_encode(&s, n + (with_fwd ? 1 : 0));
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = fl_enc_fixed_encode(&s, gc_value(&st->records, picked[i]), picked[i]->len);
  if (rc == 0 && with_fwd)
    rc = fl_enc_fixed_encode(&s, gc_value(&st->forwards, fwd) + sizeof(forward_hdr),
                             fwd->len - sizeof(forward_hdr));
  if (rc == 0) rc = fl_enc_uint_encode(&s, bump);
  assert(rc == 0);
  return reply(x, tmp, s.start, true);
}

static int on_find_peer(ctx *x) {
  int rc = need_target_token(x, false);
  if (rc != 0) return rc;
  gc_entry *fwd = gc_find(&x->st->forwards, x->req->target);
  if (fwd == NULL) return reply(x, NULL, 0, false);
  gc_touch(&x->st->forwards, fwd);
  return reply(x, gc_value(&x->st->forwards, fwd) + sizeof(forward_hdr),
               fwd->len - sizeof(forward_hdr), true);
}

static int on_mutable_get(ctx *x) {
  fl_hyperdht_store *st = x->st;
  int rc = need_target_token(x, false);
  if (rc != 0) return rc;
  if (x->req->value == NULL) return drop(&st->stats.drop_no_value, FL_ERR_PROTOCOL, x->out);
  uint64_t min_seq, seq;
  fl_dec_state s;
  fl_dec_state_init(&s, x->req->value, x->req->value_len);
  if (fl_enc_uint_decode(&s, &min_seq) != 0)
    return drop(&st->stats.drop_decode, FL_ERR_DECODE, x->out);
  gc_entry *e = gc_find(&st->mutables, x->req->target);
  if (e == NULL) return reply(x, NULL, 0, false);
  gc_touch(&st->mutables, e);
  fl_dec_state_init(&s, gc_value(&st->mutables, e), e->len);
  rc = fl_enc_uint_decode(&s, &seq);
  assert(rc == 0); /* we encoded it */
  if (rc != 0 || seq < min_seq) return reply(x, NULL, 0, false);
  return reply(x, gc_value(&st->mutables, e), e->len, true);
}

static int on_mutable_put(ctx *x) {
  fl_hyperdht_store *st = x->st;
  const fl_hyperdht_request *req = x->req;
  int rc = need_target_token(x, true);
  if (rc != 0) return rc;
  if (req->value == NULL) return drop(&st->stats.drop_no_value, FL_ERR_PROTOCOL, x->out);
  fl_hyperdht_mutable m;
  if (fl_hyperdht_mutable_decode(&m, true, req->value, req->value_len) < 0)
    return drop(&st->stats.drop_decode, FL_ERR_DECODE, x->out);
  if (!is_self_announce(req->target, m.public_key))
    return drop(&st->stats.drop_hash, FL_ERR_CRYPTO, x->out);
  if (m.value_len > FL_HYPERDHT_VALUE_MAX)
    return drop(&st->stats.drop_too_large, FL_ERR_RANGE, x->out);
  if (fl_hyperdht_mutable_verify(&m, m.public_key) != 0)
    return drop(&st->stats.drop_signature, FL_ERR_CRYPTO, x->out);
  gc_entry *e = gc_find(&st->mutables, req->target);
  if (e != NULL) {
    gc_touch(&st->mutables, e);
    fl_hyperdht_mutable old;
    rc = fl_hyperdht_mutable_decode(&old, false, gc_value(&st->mutables, e), e->len);
    assert(rc > 0);
    bool same = old.value_len == m.value_len &&
                (m.value_len == 0 || memcmp(old.value, m.value, m.value_len) == 0);
    if (old.seq == m.seq && !same)
      return reply_error(x, FL_HYPERDHT_REPLY_SEQ_REUSED, &st->stats.err_seq_reused);
    if (m.seq < old.seq)
      return reply_error(x, FL_HYPERDHT_REPLY_SEQ_TOO_LOW, &st->stats.err_seq_too_low);
  }
  uint8_t v[FL_HYPERDHT_REPLY_VALUE_MAX];
  size_t len;
  rc = fl_hyperdht_mutable_encode(&m, false, v, sizeof v, &len);
  assert(rc == 0);
  if (rc == 0) rc = cache_set(&st->mutables, req->target, v, len, NULL, 0);
  if (rc != 0) return drop(&st->stats.drop_nomem, rc, x->out);
  return reply(x, NULL, 0, false);
}

static int on_immutable(ctx *x, bool put) {
  fl_hyperdht_store *st = x->st;
  const fl_hyperdht_request *req = x->req;
  int rc = need_target_token(x, put);
  if (rc != 0) return rc;
  if (!put) {
    gc_entry *e = gc_find(&st->immutables, req->target);
    if (e == NULL) return reply(x, NULL, 0, false);
    gc_touch(&st->immutables, e);
    return reply(x, gc_value(&st->immutables, e), e->len, true);
  }
  if (req->value == NULL) return drop(&st->stats.drop_no_value, FL_ERR_PROTOCOL, x->out);
  if (req->value_len > FL_HYPERDHT_VALUE_MAX)
    return drop(&st->stats.drop_too_large, FL_ERR_RANGE, x->out);
  uint8_t h[32];
  rc = fl_hyperdht_target(h, req->value, req->value_len);
  if (rc != 0 || memcmp(h, req->target, 32) != 0)
    return drop(&st->stats.drop_hash, FL_ERR_CRYPTO, x->out);
  rc = cache_set(&st->immutables, h, req->value, req->value_len, NULL, 0);
  if (rc != 0) return drop(&st->stats.drop_nomem, rc, x->out);
  return reply(x, NULL, 0, false);
}

static int dispatch(ctx *x) {
  switch (x->req->command) {
    case FL_HYPERDHT_CMD_FIND_PEER: return on_find_peer(x);
    case FL_HYPERDHT_CMD_LOOKUP: return on_lookup(x);
    case FL_HYPERDHT_CMD_ANNOUNCE: return on_announce(x, false);
    case FL_HYPERDHT_CMD_UNANNOUNCE: return on_announce(x, true);
    case FL_HYPERDHT_CMD_MUTABLE_PUT: return on_mutable_put(x);
    case FL_HYPERDHT_CMD_MUTABLE_GET: return on_mutable_get(x);
    case FL_HYPERDHT_CMD_IMMUTABLE_PUT: return on_immutable(x, true);
    case FL_HYPERDHT_CMD_IMMUTABLE_GET: return on_immutable(x, false);
    default:
      /* PLUGIN: no plugins are registered, so the reference drops it. */
      assert(x->req->command == FL_HYPERDHT_CMD_PLUGIN);
      return drop(&x->st->stats.drop_plugin, FL_ERR_PROTOCOL, x->out);
  }
}

int fl_hyperdht_store_handle(fl_hyperdht_store *st, uint64_t now_us, const uint8_t *node_id,
                             const fl_hyperdht_request *req, uint8_t *buf, size_t cap,
                             fl_hyperdht_reply *out) {
  if (out != NULL) memset(out, 0, sizeof *out);
  if (st == NULL || req == NULL || out == NULL || (buf == NULL && cap > 0))
    return FL_ERR_INVALID;
  if (req->value == NULL && req->value_len > 0) return FL_ERR_INVALID;
  int rc = fl_hyperdht_store_handle_timeout(st, now_us);
  if (rc != 0) return rc;
  ctx x = {st, node_id, req, buf, cap, out};
  /* dht-rpc refuses a token it did not issue before any command runs. */
  if (req->token != NULL && !req->token_valid)
    return reply_error(&x, FL_HYPERDHT_REPLY_INVALID_TOKEN, &st->stats.err_invalid_token);
  if (req->command == FL_HYPERDHT_CMD_PEER_HANDSHAKE ||
      req->command == FL_HYPERDHT_CMD_PEER_HOLEPUNCH) {
    out->action = FL_HYPERDHT_ACTION_NOT_MINE;
    return 0;
  }
  /* Only persistent nodes serve records; unknown commands get the same answer. */
  if (node_id == NULL || req->command > FL_HYPERDHT_CMD_PLUGIN)
    return reply_error(&x, FL_HYPERDHT_REPLY_UNKNOWN_COMMAND, &st->stats.err_unknown_command);
  rc = dispatch(&x);
  if (rc == FL_ERR_BUFFER) memset(out, 0, sizeof *out);
#ifdef FL_EXPENSIVE_CHECKS
  assert(fl_hyperdht_store_check(st) == 0);
#endif
  return rc;
}

int fl_hyperdht_store_pin_forward(fl_hyperdht_store *st, uint64_t now_us, const uint8_t pk[32],
                                  const uint8_t *record, size_t len) {
  if (st == NULL || pk == NULL || now_us < st->last_now_us) return FL_ERR_INVALID;
  if (record != NULL && (len < 32 || len > RECORD_MAX)) return FL_ERR_INVALID;
  uint8_t target[32];
  int rc = fl_hyperdht_target(target, pk, 32);
  if (rc != 0) return rc;
  gc_entry *f = gc_find(&st->forwards, target);
  if (record == NULL) {
    if (f != NULL) gc_remove(&st->forwards, f);
    return 0;
  }
  uint8_t v[sizeof(forward_hdr) + RECORD_MAX];
  forward_hdr h;
  memset(&h, 0, sizeof h);
  memcpy(v, &h, sizeof h);
  memcpy(v + sizeof h, record, len);
  return gc_put(&st->forwards, target, v, sizeof h + len, true) != NULL ? 0 : FL_ERR_NOMEM;
}

void fl_hyperdht_store_remove(fl_hyperdht_store *st, const uint8_t target[32],
                              const uint8_t pk[32]) {
  if (st == NULL || target == NULL || pk == NULL) return;
  records_remove(st, target, pk);
}
