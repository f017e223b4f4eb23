/*
 * The records workload: hosts of kind FL_SIM_KIND_HYPERDHT announce topics,
 * look them up, and put and get mutable and immutable values through their
 * fl_hyperdht (flock/hyperdht.h), all scheduled inside C.
 *
 * Announces: topic t has `announcers` slots; each slot is held by a random
 * live host announcing with the slot's own key pair (refreshing every
 * refresh_us). When the holder leaves, the slot (with a fresh key pair, as
 * a new peer joining the swarm would have) goes to another random live host
 * if `replace` is set. Lookups: a random topic from a random live host; the
 * expected set is the slots whose holder is live and whose first announce
 * round stored the record somewhere, at the moment the lookup starts. The
 * lookup succeeds if every expected key was seen in its PEER events.
 * Values: item i is put by a random live host (mutable: seq 1, signed with
 * the item's key pair), then got get_delay_us later by another random one;
 * a get succeeds if the value comes back intact.
 *
 * Every draw comes from s->recs (forked last from the root), so a scenario
 * without records draws exactly what it did before; starts and ends feed
 * the fingerprint (types 50, 51), the recorder never does.
 */
#include <stdlib.h>
#include <string.h>

#include "flock/hyperdht.h"
#include "sim_internal.h"



/* A start refused by a host not yet able to query: try another this much later. */
#define REC_RETRY_US 5000000u

typedef struct rec_slot {
  uint32_t host;
  uint8_t held, announced;
  uint32_t op;              /* its announce operation (index in ops) */
  uint8_t sk[64];           /* the holder's key pair: pk = sk + 32 */
} rec_slot;

typedef struct rec_item {
  uint8_t seed[32];         /* key pair and value derive from it */
  int32_t put_ok;           /* -1 pending, 0 failed, 1 ok */
} rec_item;

typedef struct rec_op {
  fl_sim_records_op o;
  uint64_t op_id;
  uint32_t found_bits;      /* lookup: which expected keys were seen */
  uint8_t (*expect)[32];    /* lookup: the expected keys, while it runs */
} rec_op;

typedef struct sim_records {
  fl_sim_records_config cfg;
  uint8_t *topics;          /* 32 bytes each */
  rec_slot *slots;
  rec_item *mut, *imm;
  rec_op *ops;
  uint32_t nops, ops_cap;
  sim_map ix;               /* (host, op id) -> index in ops, while it runs */
  fl_sim_records_store c;   /* the counters (store fields filled on demand) */
} sim_records;

/* ---- setup ----------------------------------------------------------------------- */

static int push_steps(fl_sim *s, uint32_t n, uint64_t start, uint64_t spread, uint32_t step) {
  for (uint32_t i = 0; i < n; i++)
    if (sim_push(s, start + spread * i / n, SIM_EV_RECORDS, i, step, NULL) != 0)
      return FL_ERR_NOMEM;
  return 0;
}

static int config_ok(const fl_sim *s, const fl_sim_records_config *c) {
  uint64_t slots = (uint64_t)c->topics * c->announcers;
  uint64_t ops = slots + c->lookups + 2ull * c->mutables + 2ull * c->immutables;
  if (c->announcers > FL_SIM_REC_ANNOUNCERS_MAX || (c->topics > 0 && c->announcers == 0) ||
      (c->lookups > 0 && c->topics == 0) || c->value_bytes == 0 ||
      c->value_bytes > FL_HYPERDHT_VALUE_MAX || c->announce_start_us < s->now_us ||
      c->lookups_start_us < s->now_us || c->values_start_us < s->now_us)
    return FL_ERR_INVALID;
  if (slots > FL_SIM_REC_SLOTS_MAX || ops > FL_SIM_REC_OPS_MAX) return FL_ERR_LIMIT;
  return 0;
}

int fl_sim_set_records(fl_sim *s, const fl_sim_records_config *c) {
  if (s == NULL || c == NULL || s->records != NULL) return FL_ERR_INVALID;
  int rc = config_ok(s, c);
  if (rc != 0) return rc;
  sim_records *r = calloc(1, sizeof *r);
  if (r == NULL) return FL_ERR_NOMEM;
  s->records = r;
  r->cfg = *c;
  uint32_t nslots = c->topics * c->announcers;
  r->topics = malloc((size_t)c->topics * 32 + 1);
  r->slots = calloc((size_t)nslots + 1, sizeof *r->slots);
  r->mut = calloc((size_t)c->mutables + 1, sizeof *r->mut);
  r->imm = calloc((size_t)c->immutables + 1, sizeof *r->imm);
  if (!r->topics || !r->slots || !r->mut || !r->imm) return FL_ERR_NOMEM;
  fl_drbg_bytes(&s->recs, r->topics, (size_t)c->topics * 32);
  for (uint32_t i = 0; i < c->mutables; i++) {
    fl_drbg_bytes(&s->recs, r->mut[i].seed, 32);
    r->mut[i].put_ok = -1;
  }
  for (uint32_t i = 0; i < c->immutables; i++) {
    fl_drbg_bytes(&s->recs, r->imm[i].seed, 32);
    r->imm[i].put_ok = -1;
  }
  rc = push_steps(s, nslots, c->announce_start_us, c->announce_spread_us, STEP_ANNOUNCE);
  if (rc == 0) rc = push_steps(s, c->lookups, c->lookups_start_us, c->lookups_spread_us,
                               STEP_LOOKUP);
  if (rc == 0) rc = push_steps(s, c->mutables, c->values_start_us, c->values_spread_us, STEP_MPUT);
  if (rc == 0) rc = push_steps(s, c->mutables, c->values_start_us + c->get_delay_us,
                               c->values_spread_us, STEP_MGET);
  if (rc == 0) rc = push_steps(s, c->immutables, c->values_start_us, c->values_spread_us,
                               STEP_IPUT);
  if (rc == 0) rc = push_steps(s, c->immutables, c->values_start_us + c->get_delay_us,
                               c->values_spread_us, STEP_IGET);
  return rc;
}

void sim_records_free(fl_sim *s) {
  sim_records *r = s->records;
  if (r == NULL) return;
  for (uint32_t i = 0; i < r->nops; i++) free(r->ops[i].expect);
  free(r->topics);
  free(r->slots);
  free(r->mut);
  free(r->imm);
  free(r->ops);
  sim_map_free(&r->ix);
  free(r);
  s->records = NULL;
}

/* ---- items: key pairs and values from their seeds --------------------------------- */

static void item_keypair(const rec_item *it, uint8_t sk[64]) {
  uint8_t pk[32];
  SIM_IGNORE(fl_crypto_sign_seed_keypair(pk, sk, it->seed));
}

/* The item's value: value_bytes from a DRBG on its seed (domain 1 or 2). */
static void item_value(const sim_records *r, const rec_item *it, int domain, uint8_t *out) {
  uint8_t seed[32];
  memcpy(seed, it->seed, 32);
  seed[0] ^= (uint8_t)domain;
  fl_drbg d;
  fl_drbg_init(&d, seed);
  fl_drbg_bytes(&d, out, r->cfg.value_bytes);
}

/* ---- operations ------------------------------------------------------------------- */

static rec_op *op_new(fl_sim *s, int kind, uint32_t host, uint32_t item) {
  sim_records *r = s->records;
  if (r->nops >= FL_SIM_REC_OPS_MAX) {
    r->c.refused++; /* full: the operation is not run (replacements can go past the plan) */
    return NULL;
  }
  if (r->nops == r->ops_cap) {
    uint32_t cap = r->ops_cap ? r->ops_cap * 2 : 1024;
    rec_op *p = realloc(r->ops, cap * sizeof *p);
    if (p == NULL) return NULL;
    r->ops = p;
    r->ops_cap = cap;
  }
  rec_op *o = &r->ops[r->nops++];
  memset(o, 0, sizeof *o);
  o->o.kind = kind;
  o->o.ok = -1;
  o->o.host = host;
  o->o.item = item;
  o->o.start_us = s->now_us;
  return o;
}

/* After a start call: index it, or record the refusal. */
static void op_started(fl_sim *s, rec_op *o, int rc, uint64_t op_id, const uint8_t target[32]) {
  sim_records *r = s->records;
  sim_fp(s, 50, o->o.host, op_id, (uint64_t)(uint32_t)o->o.kind << 32 | o->o.item, target, 32);
  o->op_id = op_id;
  if (rc != 0 || sim_map_put(&r->ix, o->o.host, op_id, (uint64_t)(o - r->ops)) != 0) {
    o->o.ok = 0;
    o->o.code = rc != 0 ? rc : FL_ERR_NOMEM;
    o->o.end_us = s->now_us;
    r->c.refused++;
    sim_rec_records_op(s, &o->o);
    return;
  }
  sim_drive(s, o->o.host);
}

static int pick_host(fl_sim *s, uint32_t *host) {
  if (s->st.hosts_live == 0) return 0;
  *host = s->live[fl_drbg_uniform(&s->recs, s->st.hosts_live)];
  return s->hosts[*host].kind == FL_SIM_KIND_HYPERDHT;
}

/* A traced host's workload call goes in its io log ("records": sock = the
 * step, data = its arguments) so fl_sim_trace_verify can replay it. */
static void trace_call(fl_sim *s, uint32_t host, uint32_t step, const uint8_t *a, size_t alen,
                       const uint8_t *b, size_t blen) {
  if (!sim_rec_traced(s, host)) return;
  uint8_t buf[64 + 8 + FL_HYPERDHT_VALUE_MAX];
  memcpy(buf, a, alen);
  if (blen) memcpy(buf + alen, b, blen);
  sim_rec_io(s, host, "records", step, NULL, buf, alen + blen);
}

static void announce(fl_sim *s, uint32_t slot_ix) {
  sim_records *r = s->records;
  rec_slot *sl = &r->slots[slot_ix];
  uint32_t host;
  uint8_t seed[32];
  fl_drbg_bytes(&s->recs, seed, sizeof seed);
  if (!pick_host(s, &host)) {
    (void)sim_push(s, s->now_us + REC_RETRY_US, SIM_EV_RECORDS, slot_ix, STEP_ANNOUNCE, NULL);
    return;
  }
  uint8_t pk[32];
  SIM_IGNORE(fl_crypto_sign_seed_keypair(pk, sl->sk, seed));
  const uint8_t *topic = r->topics + 32 * (size_t)(slot_ix / r->cfg.announcers);
  rec_op *o = op_new(s, FL_SIM_REC_ANNOUNCE, host, slot_ix);
  if (o == NULL) return;
  uint64_t id = 0;
  fl_hyperdht *h = sim_hd_records(s->hosts[host].node, s->now_us);
  uint8_t refresh[8];
  for (int i = 0; i < 8; i++) refresh[i] = (uint8_t)(r->cfg.refresh_us >> (8 * i));
  uint8_t args[96];
  memcpy(args, topic, 32);
  memcpy(args + 32, sl->sk, 64);
  trace_call(s, host, STEP_ANNOUNCE, args, sizeof args, refresh, sizeof refresh);
  int rc = fl_hyperdht_start_announce(h, s->now_us, topic, sl->sk, NULL, 0, r->cfg.refresh_us,
                                      &id);
  sl->host = host;
  sl->held = rc == 0;
  sl->announced = 0;
  sl->op = (uint32_t)(o - r->ops);
  op_started(s, o, rc, id, topic);
  /* Not able to announce yet (e.g. still binding): the slot tries again. */
  if (rc != 0) (void)sim_push(s, s->now_us + REC_RETRY_US, SIM_EV_RECORDS, slot_ix, STEP_ANNOUNCE,
                              NULL);
}

static void lookup(fl_sim *s) {
  sim_records *r = s->records;
  uint32_t t = (uint32_t)fl_drbg_uniform(&s->recs, r->cfg.topics), host;
  if (!pick_host(s, &host)) return;
  rec_op *o = op_new(s, FL_SIM_REC_LOOKUP, host, t);
  if (o == NULL) return;
  o->expect = malloc(FL_SIM_REC_ANNOUNCERS_MAX * 32);
  if (o->expect == NULL) {
    op_started(s, o, FL_ERR_NOMEM, 0, r->topics + 32 * (size_t)t); /* counted as refused */
    return;
  }
  for (uint32_t j = 0; j < r->cfg.announcers; j++) {
    const rec_slot *sl = &r->slots[t * r->cfg.announcers + j];
    if (sl->held && sl->announced && s->hosts[sl->host].live)
      memcpy(o->expect[o->o.expected++], sl->sk + 32, 32);
  }
  uint64_t id = 0;
  const uint8_t *topic = r->topics + 32 * (size_t)t;
  trace_call(s, host, STEP_LOOKUP, topic, 32, NULL, 0);
  int rc = fl_hyperdht_start_lookup(sim_hd_records(s->hosts[host].node, s->now_us), s->now_us,
                                    topic, &id);
  op_started(s, o, rc, id, topic);
}

static void put(fl_sim *s, uint32_t i, int mutable_) {
  sim_records *r = s->records;
  rec_item *it = mutable_ ? &r->mut[i] : &r->imm[i];
  uint32_t host;
  if (!pick_host(s, &host)) {
    it->put_ok = 0;
    return;
  }
  rec_op *o = op_new(s, mutable_ ? FL_SIM_REC_MUTABLE_PUT : FL_SIM_REC_IMMUTABLE_PUT, host, i);
  if (o == NULL) return;
  uint8_t v[FL_HYPERDHT_VALUE_MAX], sk[64], target[32];
  item_value(r, it, mutable_ ? 1 : 2, v);
  fl_hyperdht *h = sim_hd_records(s->hosts[host].node, s->now_us);
  uint64_t id = 0;
  int rc;
  if (mutable_) {
    item_keypair(it, sk);
    SIM_IGNORE(fl_hyperdht_target(target, sk + 32, 32));
    trace_call(s, host, STEP_MPUT, sk, 64, v, r->cfg.value_bytes);
    rc = fl_hyperdht_start_mutable_put(h, s->now_us, sk, 1, v, r->cfg.value_bytes, &id);
    fl_crypto_memzero(sk, sizeof sk);
  } else {
    SIM_IGNORE(fl_hyperdht_target(target, v, r->cfg.value_bytes));
    trace_call(s, host, STEP_IPUT, v, r->cfg.value_bytes, NULL, 0);
    rc = fl_hyperdht_start_immutable_put(h, s->now_us, v, r->cfg.value_bytes, &id);
  }
  if (rc != 0) it->put_ok = 0;
  op_started(s, o, rc, id, target);
}

static void get(fl_sim *s, uint32_t i, int mutable_) {
  sim_records *r = s->records;
  rec_item *it = mutable_ ? &r->mut[i] : &r->imm[i];
  uint32_t host;
  if (it->put_ok != 1) {
    r->c.skipped_gets++; /* the put failed or has not finished: nothing to measure */
    return;
  }
  if (!pick_host(s, &host)) return;
  rec_op *o = op_new(s, mutable_ ? FL_SIM_REC_MUTABLE_GET : FL_SIM_REC_IMMUTABLE_GET, host, i);
  if (o == NULL) return;
  fl_hyperdht *h = sim_hd_records(s->hosts[host].node, s->now_us);
  uint8_t v[FL_HYPERDHT_VALUE_MAX], sk[64], target[32];
  uint64_t id = 0;
  int rc;
  if (mutable_) {
    item_keypair(it, sk);
    memcpy(target, sk + 32, 32);
    fl_crypto_memzero(sk, sizeof sk);
    trace_call(s, host, STEP_MGET, target, 32, NULL, 0);
    rc = fl_hyperdht_start_mutable_get(h, s->now_us, target, 0, true, &id);
  } else {
    item_value(r, it, 2, v);
    SIM_IGNORE(fl_hyperdht_target(target, v, r->cfg.value_bytes));
    trace_call(s, host, STEP_IGET, target, 32, NULL, 0);
    rc = fl_hyperdht_start_immutable_get(h, s->now_us, target, &id);
  }
  op_started(s, o, rc, id, target);
}

void sim_records_event(fl_sim *s, const sim_ev *ev) {
  if (s->records == NULL) return;
  switch (ev->b) {
    case STEP_ANNOUNCE: announce(s, ev->a); break;
    case STEP_LOOKUP: lookup(s); break;
    case STEP_MPUT: put(s, ev->a, 1); break;
    case STEP_MGET: get(s, ev->a, 1); break;
    case STEP_IPUT: put(s, ev->a, 0); break;
    case STEP_IGET: get(s, ev->a, 0); break;
    default: break;
  }
}

/* ---- results ---------------------------------------------------------------------- */

static void op_end(fl_sim *s, rec_op *o, int ok) {
  o->o.ok = ok;
  o->o.end_us = s->now_us;
  sim_fp(s, 51, o->o.host, o->op_id, (uint64_t)(uint32_t)o->o.code << 8 | (uint64_t)ok, NULL, 0);
  sim_rec_records_op(s, &o->o);
}

static void on_peer(rec_op *o, uint64_t now_us, const fl_event *ev) {
  for (uint32_t j = 0; j < o->o.expected; j++) {
    if (memcmp(o->expect[j], ev->key, 32) != 0) continue;
    if (!(o->found_bits & 1u << j)) {
      o->found_bits |= 1u << j;
      if (++o->o.found == o->o.expected) o->o.all_us = now_us;
    }
    return;
  }
  o->o.extra++;
}

static void on_value(const sim_records *r, rec_op *o, const fl_event *ev) {
  int mutable_ = o->o.kind == FL_SIM_REC_MUTABLE_GET;
  const rec_item *it = mutable_ ? &r->mut[o->o.item] : &r->imm[o->o.item];
  uint8_t v[FL_HYPERDHT_VALUE_MAX];
  item_value(r, it, mutable_ ? 1 : 2, v);
  /* found = 1 marks an intact value (and seq 1 for a mutable one). */
  o->o.found = ev->len == r->cfg.value_bytes && memcmp(ev->data, v, ev->len) == 0 &&
               (!mutable_ || ev->arg == 1);
}

static void on_done(fl_sim *s, rec_op *o, const fl_event *ev) {
  sim_records *r = s->records;
  o->o.code = ev->code;
  int ok = 0;
  switch (o->o.kind) {
    case FL_SIM_REC_LOOKUP:
      o->o.hops = ev->sock;
      ok = o->o.found == o->o.expected;
      free(o->expect);
      o->expect = NULL;
      break;
    case FL_SIM_REC_MUTABLE_PUT:
    case FL_SIM_REC_IMMUTABLE_PUT: {
      o->o.acked = (uint32_t)ev->arg;
      ok = ev->code == 0 && ev->arg > 0;
      rec_item *it = o->o.kind == FL_SIM_REC_MUTABLE_PUT ? &r->mut[o->o.item] : &r->imm[o->o.item];
      it->put_ok = ok;
      break;
    }
    case FL_SIM_REC_MUTABLE_GET:
    case FL_SIM_REC_IMMUTABLE_GET: ok = ev->code == 0 && o->o.found == 1; break;
    default: break; /* an announce's end (cancel, close) after its first round */
  }
  (void)sim_map_del(&r->ix, o->o.host, o->op_id);
  if (o->o.ok == -1) op_end(s, o, ok);
}

void sim_records_node_event(fl_sim *s, uint32_t host, const fl_event *ev) {
  sim_records *r = s->records;
  if (r == NULL) return;
  uint64_t *ix = sim_map_get(&r->ix, host, ev->id);
  if (ix == NULL) return;
  rec_op *o = &r->ops[*ix];
  switch (ev->type) {
    case FL_EVENT_HYPERDHT_PEER:
      if (o->o.kind == FL_SIM_REC_LOOKUP && o->expect) on_peer(o, s->now_us, ev);
      break;
    case FL_EVENT_HYPERDHT_MUTABLE:
    case FL_EVENT_HYPERDHT_IMMUTABLE: on_value(r, o, ev); break;
    case FL_EVENT_HYPERDHT_ANNOUNCED: {
      r->c.announce_rounds++;
      rec_slot *sl = &r->slots[o->o.item];
      if (o->o.ok != -1) {
        r->c.refreshes++;
      } else {
        o->o.acked = (uint32_t)ev->arg;
        op_end(s, o, ev->arg > 0);
      }
      if (sl->host == host && sl->op == *ix && ev->arg > 0) sl->announced = 1;
      break;
    }
    case FL_EVENT_HYPERDHT_DONE: on_done(s, o, ev); break;
    default: break;
  }
}

/* A holder left: its slot is free; with replace, a new host takes it now
 * (a fresh peer joining the topic). Its records stay on the DHT until they
 * expire, as a crashed reference peer's do. */
void sim_records_host_left(fl_sim *s, uint32_t host) {
  sim_records *r = s->records;
  if (r == NULL) return;
  uint32_t n = r->cfg.topics * r->cfg.announcers;
  for (uint32_t i = 0; i < n; i++) {
    rec_slot *sl = &r->slots[i];
    if (!sl->held || sl->host != host) continue;
    sl->held = 0;
    sl->announced = 0;
    if (r->cfg.replace) {
      r->c.replacements++;
      (void)sim_push(s, s->now_us, SIM_EV_RECORDS, i, STEP_ANNOUNCE, NULL);
    }
  }
}

/* ---- store figures ------------------------------------------------------------------- */

int fl_sim_records_store_get(const fl_sim *s, fl_sim_records_store *out) {
  if (s == NULL || out == NULL) return FL_ERR_INVALID;
  memset(out, 0, sizeof *out);
  if (s->records) *out = s->records->c;
  out->nodes = out->records = out->records_max = out->values = out->value_bytes = 0;
  out->mem_bytes = out->mem_max = out->mem_base = 0;
  for (uint32_t i = 0; i < s->st.hosts_live; i++) {
    const sim_host *h = &s->hosts[s->live[i]];
    if (h->kind != FL_SIM_KIND_HYPERDHT || s->ops[h->kind] != &sim_hyperdht_ops) continue;
    fl_hyperdht_stats st;
    uint64_t mem = 0, base = 0;
    sim_hd_store(h->node, &st, &mem, &base);
    out->mem_base += base;
    out->nodes++;
    out->records += st.store.records.current;
    if (st.store.records.current > out->records_max) out->records_max = st.store.records.current;
    out->values += st.store.mutables.current + st.store.immutables.current;
    out->value_bytes += st.store.mutables.bytes + st.store.immutables.bytes;
    out->mem_bytes += mem;
    if (mem > out->mem_max) out->mem_max = mem;
  }
  return 0;
}

void sim_records_metrics(fl_sim *s) {
  if (s->records == NULL) return;
  fl_sim_records_store st;
  if (fl_sim_records_store_get(s, &st) == 0) sim_rec_store(s, &st);
}

uint32_t fl_sim_records_count(const fl_sim *s) {
  return s != NULL && s->records != NULL ? s->records->nops : 0;
}

int fl_sim_records_get(const fl_sim *s, uint32_t i, fl_sim_records_op *out) {
  if (s == NULL || out == NULL || s->records == NULL || i >= s->records->nops)
    return FL_ERR_INVALID;
  *out = s->records->ops[i].o;
  return 0;
}

/* Replay of one traced workload call (sim_trace.c): the same start call
 * with the recorded arguments. Returns what the call returned. */
int sim_records_replay(void *node, uint64_t now_us, uint32_t step, const uint8_t *d, size_t len) {
  fl_hyperdht *h = sim_hd_records(node, now_us);
  uint64_t id;
  switch (step) {
    case STEP_ANNOUNCE: {
      if (len != 104) return FL_ERR_PROTOCOL;
      uint64_t refresh = 0;
      for (int i = 0; i < 8; i++) refresh |= (uint64_t)d[96 + i] << (8 * i);
      return fl_hyperdht_start_announce(h, now_us, d, d + 32, NULL, 0, refresh, &id);
    }
    case STEP_LOOKUP:
      return len == 32 ? fl_hyperdht_start_lookup(h, now_us, d, &id) : FL_ERR_PROTOCOL;
    case STEP_MPUT:
      return len >= 64 ? fl_hyperdht_start_mutable_put(h, now_us, d, 1, d + 64, len - 64, &id)
                       : FL_ERR_PROTOCOL;
    case STEP_MGET:
      return len == 32 ? fl_hyperdht_start_mutable_get(h, now_us, d, 0, true, &id)
                       : FL_ERR_PROTOCOL;
    case STEP_IPUT: return fl_hyperdht_start_immutable_put(h, now_us, d, len, &id);
    case STEP_IGET:
      return len == 32 ? fl_hyperdht_start_immutable_get(h, now_us, d, &id) : FL_ERR_PROTOCOL;
    default: return FL_ERR_PROTOCOL;
  }
}
