/*
 * Iterative queries (dht-rpc lib/query.js; spec/dht-rpc.md §6): walk toward
 * a target with FIND_NODE or a user command, keep the k XOR-closest
 * id-bearing repliers, send down hints about nodes that time out, and
 * optionally commit to the closest.
 *
 * A query is an object: allocated when it starts (not per datagram) with
 * its seen-address list bounded by FL_NODE_QUERY_SEEN_MAX.
 */
#include <assert.h>
#include <string.h>

#include "dht/dht.h"

enum { QS_PENDING = 1, QS_DONE, QS_DOWN };
#define QS_REFS_MAX 4 /* referrers remembered per address, for down hints */

typedef struct qseen {
  fl_addr addr;
  uint8_t id[32];
  uint8_t state, nrefs;
  uint8_t depth;         /* referral hops: 1 = from our table or bootstrap list */
  bool id_valid;         /* its own replies carried a valid id */
  uint16_t refs[QS_REFS_MAX];
} qseen;

typedef struct qclosest {
  fl_addr addr;
  uint8_t id[32];
  uint8_t depth;         /* its qseen depth, reported as the query's hops */
  bool has_token;
  uint8_t token[32];
} qclosest;

struct fl_dht_query {
  uint64_t id;
  uint32_t flags, slot;
  uint8_t target[32];
  bool internal, has_value, slowdown, from_table, committing;
  uint64_t command;
  uint8_t *value;
  size_t value_len;
  uint32_t concurrency, inflight, slow, successes, errors, retries;
  uint32_t commit_pending, commit_ok;
  qseen *seen;
  uint32_t seen_len, seen_max;
  uint16_t *pending;
  uint32_t pending_len;
  qclosest closest[FL_DHT_K];
  uint32_t closest_len;
  fl_dht_commit_fn commit_fn;
  void *commit_ctx;
};

static void read_more(fl_dht *d, uint64_t now_us, fl_dht_query *q);

static void query_free(fl_dht *d, fl_dht_query *q) {
  d->queries[q->slot] = NULL;
  fl_mem_free(d->mem, q->value, q->value_len);
  fl_mem_free(d->mem, q->seen, q->seen_max * sizeof *q->seen);
  fl_mem_free(d->mem, q->pending, q->seen_max * sizeof *q->pending);
  fl_mem_free(d->mem, q, sizeof *q);
  d->st.queries_active--;
}

void fl_dht_query_free_all(fl_dht *d) {
  for (uint32_t i = 0; i < d->queries_max; i++)
    if (d->queries[i]) query_free(d, d->queries[i]);
}

static bool is_closer(const fl_dht_query *q, const uint8_t *id) {
  return q->closest_len < FL_DHT_K ||
         fl_dht_xor_cmp(q->target, id, q->closest[q->closest_len - 1].id) < 0;
}

static int seen_find(const fl_dht_query *q, const fl_addr *a) {
  for (uint32_t i = 0; i < q->seen_len; i++)
    if (q->seen[i].addr.port == a->port && memcmp(q->seen[i].addr.ip, a->ip, 4) == 0)
      return (int)i;
  return -1;
}

static void down_hint(fl_dht *d, uint64_t now_us, const qseen *ref, const fl_addr *down) {
  if (!d->cfg.send_down_hints) return;
  if (d->cfg.down_hints_per_tick >= 0 &&
      d->down_hints_sent >= (uint32_t)d->cfg.down_hints_per_tick) {
    d->st.down_hints_limited++;
    return;
  }
  d->down_hints_sent++;
  uint8_t v[FL_DHT_ADDR_BYTES];
  fl_dht_addr_write(v, down);
  uint32_t idx = fl_dht_request(d, now_us, FL_DHT_RK_DOWN_HINT, &ref->addr,
                                ref->id_valid ? ref->id : NULL, NULL, true, FL_DHT_CMD_DOWN_HINT,
                                NULL, v, sizeof v, true, false);
  if (idx == FL_DHT_NO_IDX) return;
  d->st.down_hints_sent++;
  fl_dht_req_start(d, now_us, idx, false);
}

/* _addPending: returns whether the walk over a closerNodes list goes on. */
static bool add_pending(fl_dht *d, uint64_t now_us, fl_dht_query *q, const fl_addr *a,
                        const uint8_t *id, int ref) {
  if (a->port == 0) return false; /* unreachable; the reference would try it and time out */
  int s = seen_find(q, a);
  bool closer = is_closer(q, id);
  if (s >= 0) {
    qseen *e = &q->seen[s];
    if (e->state == QS_DONE) return closer;
    if (e->state == QS_DOWN) {
      if (ref >= 0) down_hint(d, now_us, &q->seen[ref], a);
      return closer;
    }
    if (ref >= 0 && e->nrefs < QS_REFS_MAX) e->refs[e->nrefs++] = (uint16_t)ref;
    return closer;
  }
  if (!closer) return false;
  if (q->seen_len >= q->seen_max) {
    d->st.query_seen_dropped++;
    return false;
  }
  uint8_t depth = ref >= 0 && q->seen[ref].depth < 255 ? (uint8_t)(q->seen[ref].depth + 1) : 1;
  qseen *e = &q->seen[q->seen_len];
  memset(e, 0, sizeof *e);
  e->depth = depth;
  e->addr = *a;
  memcpy(e->id, id, 32);
  e->id_valid = true;
  e->state = QS_PENDING;
  if (ref >= 0) e->refs[e->nrefs++] = (uint16_t)ref;
  q->pending[q->pending_len++] = (uint16_t)q->seen_len;
  q->seen_len++;
  return true;
}

static void add_from_table(fl_dht *d, uint64_t now_us, fl_dht_query *q) {
  if (q->pending_len >= FL_DHT_K) return;
  q->from_table = true;
  uint32_t idx[FL_DHT_K];
  size_t n = fl_dht_table_closest(d, q->target, idx, FL_DHT_K - q->pending_len);
  for (size_t i = 0; i < n; i++) {
    const fl_dht_peer *p = &d->peers[idx[i]];
    add_pending(d, now_us, q, &p->addr, p->id, -1);
  }
}

static void visit(fl_dht *d, uint64_t now_us, fl_dht_query *q, uint16_t s) {
  qseen *e = &q->seen[s];
  uint32_t idx = fl_dht_request(d, now_us, FL_DHT_RK_QUERY, &e->addr, e->id, NULL, q->internal,
                                q->command, q->target, q->value, q->value_len, q->has_value,
                                false);
  if (idx == FL_DHT_NO_IDX) {
    /* No room in flight: count it as a failed visit rather than stall. */
    e->state = QS_DONE;
    q->errors++;
    return;
  }
  fl_dht_req *r = &d->reqs[idx];
  r->retries = (uint8_t)q->retries;
  r->owner = q->slot;
  r->api_id = q->id;
  r->aux = s;
  q->inflight++;
  fl_dht_req_start(d, now_us, idx, false);
}

static void query_end(fl_dht *d, uint64_t now_us, fl_dht_query *q, int result) {
  uint64_t qid = q->id;
  uint32_t flags = q->flags;
  if (flags & FL_DHT_QF_EVENTS) {
    for (uint32_t i = 0; i < q->closest_len; i++) {
      fl_event *ev = fl_dht_event(d, FL_EVENT_DHT_QUERY_NODE, 0, NULL);
      if (!ev) break;
      ev->id = qid;
      ev->addr = q->closest[i].addr;
      memcpy(ev->key, q->closest[i].id, 32);
      ev->arg = i;
      ev->flags = FL_EVENT_F_ID;
      if (q->closest[i].has_token) {
        ev->flags |= FL_EVENT_F_TOKEN;
        memcpy(ev->token, q->closest[i].token, 32);
      }
    }
    fl_event *ev = fl_dht_event(d, FL_EVENT_DHT_QUERY_DONE, 0, NULL);
    if (ev) {
      ev->id = qid;
      ev->code = result;
      ev->arg = q->closest_len;
      /* Hops for the simulator's statistics: how many referrals led to the
       * closest node (1 = it was in our table or bootstrap list). */
      ev->sock = q->closest_len ? q->closest[0].depth : 0;
      memcpy(ev->key, q->target, 32);
    }
  }
  query_free(d, q);
  fl_dht_on_query_done(d, now_us, qid, flags, result);
}

static void commit_one(fl_dht *d, uint64_t now_us, fl_dht_query *q, const qclosest *c) {
  uint32_t idx = c->has_token
                     ? fl_dht_request(d, now_us, FL_DHT_RK_COMMIT, &c->addr, NULL, c->token,
                                      false, q->command, q->target, q->value, q->value_len,
                                      q->has_value, false)
                     : FL_DHT_NO_IDX;
  if (idx == FL_DHT_NO_IDX) return; /* no token: a failed commit (query.js autoCommit) */
  d->reqs[idx].owner = q->slot;
  d->reqs[idx].api_id = q->id;
  q->commit_pending++;
  fl_dht_req_start(d, now_us, idx, false);
}

static void flush(fl_dht *d, uint64_t now_us, fl_dht_query *q) {
  if (q->committing) return;
  q->committing = true;
  if (!(q->flags & FL_DHT_QF_COMMIT)) {
    query_end(d, now_us, q, 0);
    return;
  }
  if (q->closest_len == 0) {
    query_end(d, now_us, q, FL_ERR_NOT_FOUND);
    return;
  }
  if (q->commit_fn) {
    /* Copy first: the hook's requests may finish (and change q) only in
     * later calls, but keep the list stable against any reordering. */
    qclosest list[FL_DHT_K];
    uint32_t n = q->closest_len;
    memcpy(list, q->closest, n * sizeof list[0]);
    uint64_t qid = q->id;
    for (uint32_t i = 0; i < n; i++) {
      int rc = q->commit_fn(q->commit_ctx, d, now_us, qid, &list[i].addr, list[i].id,
                            list[i].has_token ? list[i].token : NULL);
      if (rc == 0) q->commit_ok++;
    }
  } else {
    for (uint32_t i = 0; i < q->closest_len; i++) commit_one(d, now_us, q, &q->closest[i]);
  }
  if (q->commit_pending == 0) query_end(d, now_us, q, q->commit_ok ? 0 : FL_ERR_TIMEOUT);
}

int fl_dht_query_commit_request(fl_dht *d, uint64_t now_us, uint64_t qid, const fl_addr *to,
                                const uint8_t *token, bool internal, uint64_t command,
                                const uint8_t *target, const uint8_t *value, size_t value_len) {
  fl_dht_query *q = NULL;
  for (uint32_t i = 0; i < d->queries_max && !q; i++)
    if (d->queries[i] && d->queries[i]->id == qid) q = d->queries[i];
  if (!q || !q->committing) return FL_ERR_NOT_FOUND;
  uint32_t idx = fl_dht_request(d, now_us, FL_DHT_RK_COMMIT, to, NULL, token, internal, command,
                                target, value, value_len, value != NULL, false);
  if (idx == FL_DHT_NO_IDX) return FL_ERR_LIMIT;
  d->reqs[idx].owner = q->slot;
  d->reqs[idx].api_id = q->id;
  q->commit_pending++;
  fl_dht_req_start(d, now_us, idx, false);
  return 0;
}

static void read_more(fl_dht *d, uint64_t now_us, fl_dht_query *q) {
  if (q->committing) return;
  uint32_t conc = (q->slowdown ? 3 : q->concurrency) + q->slow;
  while (q->inflight < conc && q->pending_len > 0) {
    uint16_t s = q->pending[--q->pending_len];
    if (!is_closer(q, q->seen[s].id)) continue;
    visit(d, now_us, q, s);
  }
  if (!q->from_table && q->successes == 0 && q->errors == 0) q->slowdown = true;
  if (q->pending_len > 0) return;
  if (q->inflight == 0 || (q->slow == q->inflight && q->closest_len >= FL_DHT_K)) {
    if (!q->from_table && q->successes < FL_DHT_K / 4) {
      add_from_table(d, now_us, q);
      read_more(d, now_us, q);
      return;
    }
    flush(d, now_us, q);
  }
}

int fl_dht_query_start(fl_dht *d, uint64_t now_us, const uint8_t target[32], bool internal,
                       uint64_t command, const uint8_t *value, size_t value_len, uint32_t flags,
                       uint64_t *qid) {
  return fl_dht_query_start_opts(d, now_us, target, internal, command, value, value_len, flags,
                                 NULL, qid);
}

int fl_dht_query_start_opts(fl_dht *d, uint64_t now_us, const uint8_t target[32], bool internal,
                            uint64_t command, const uint8_t *value, size_t value_len,
                            uint32_t flags, const fl_dht_query_opts *opts, uint64_t *qid) {
  static const fl_dht_query_opts none = {NULL, 0, NULL, NULL};
  if (!opts) opts = &none;
  uint32_t slot = 0;
  while (slot < d->queries_max && d->queries[slot]) slot++;
  if (slot == d->queries_max) {
    d->st.queries_dropped++;
    return FL_ERR_LIMIT;
  }
  fl_dht_query *q = fl_mem_calloc(d->mem, 1, sizeof *q);
  if (!q) return FL_ERR_NOMEM;
  q->seen_max = d->cfg.query_seen_max;
  q->seen = fl_mem_calloc(d->mem, q->seen_max, sizeof *q->seen);
  q->pending = fl_mem_calloc(d->mem, q->seen_max, sizeof *q->pending);
  if (value_len) q->value = fl_mem_alloc(d->mem, value_len);
  q->slot = slot;
  d->queries[slot] = q;
  d->st.queries_active++;
  if (!q->seen || !q->pending || (value_len && !q->value)) {
    query_free(d, q);
    return FL_ERR_NOMEM;
  }
  q->id = ++d->query_next;
  q->flags = flags;
  memcpy(q->target, target, 32);
  q->internal = internal;
  q->command = command;
  q->has_value = value != NULL;
  if (value_len) memcpy(q->value, value, value_len);
  q->value_len = value_len;
  uint32_t c = d->cfg.concurrency;
  q->concurrency = (flags & FL_DHT_QF_BACKGROUND) ? (c < 2 ? c : (c / 8 > 2 ? c / 8 : 2)) : c;
  q->retries = d->cfg.query_retries;
  q->commit_fn = opts->commit;
  q->commit_ctx = opts->commit_ctx;
  if (opts->commit) q->flags |= FL_DHT_QF_COMMIT;
  d->st.queries_total++;
  if (d->st.queries_active > d->st.queries_active_hw) d->st.queries_active_hw = d->st.queries_active;
  d->refresh_ticks = FL_DHT_REFRESH_TICKS;
  if (qid) *qid = q->id;
  /* Seeds go on the pending stack in reverse so the first is tried first. */
  size_t seeds = opts->nodes_len < FL_DHT_K ? opts->nodes_len : FL_DHT_K;
  for (size_t i = seeds; i-- > 0;) {
    uint8_t id[32];
    fl_dht_node_id(id, &opts->nodes[i]);
    if (memcmp(id, d->table_id, 32) != 0) add_pending(d, now_us, q, &opts->nodes[i], id, -1);
  }
  add_from_table(d, now_us, q);
  for (uint32_t i = 0; q->pending_len < FL_DHT_K && i < d->cfg.bootstrap_len; i++) {
    uint8_t id[32];
    fl_dht_node_id(id, &d->cfg.bootstrap[i]);
    add_pending(d, now_us, q, &d->cfg.bootstrap[i], id, -1);
  }
  read_more(d, now_us, q);
  return 0;
}

static fl_dht_query *owner_of(fl_dht *d, const fl_dht_req *r) {
  if (r->owner >= d->queries_max) return NULL;
  fl_dht_query *q = d->queries[r->owner];
  return q && q->id == r->api_id ? q : NULL;
}

static void push_closest(fl_dht_query *q, const fl_addr *from, const uint8_t *id,
                         const fl_dht_msg *m, uint8_t depth) {
  for (uint32_t i = 0; i < q->closest_len; i++)
    if (memcmp(q->closest[i].id, id, 32) == 0) return; /* duplicate (rare) */
  uint32_t n = q->closest_len < FL_DHT_K ? q->closest_len++ : FL_DHT_K - 1;
  while (n > 0 && fl_dht_xor_cmp(q->target, id, q->closest[n - 1].id) < 0) {
    q->closest[n] = q->closest[n - 1];
    n--;
  }
  qclosest *c = &q->closest[n];
  c->addr = *from;
  memcpy(c->id, id, 32);
  c->depth = depth;
  c->has_token = m->has_token;
  if (m->has_token) memcpy(c->token, m->token, 32);
}

static void dec(fl_dht_query *q, const fl_dht_req *r) {
  if (r->slow) q->slow--;
  q->inflight--;
}

static void commit_done(fl_dht *d, uint64_t now_us, fl_dht_query *q, bool ok) {
  if (ok) q->commit_ok++;
  if (--q->commit_pending > 0) return;
  query_end(d, now_us, q, q->commit_ok ? 0 : FL_ERR_TIMEOUT);
}

static void emit_reply(fl_dht *d, fl_dht_query *q, const fl_addr *from, const uint8_t *from_id,
                       const fl_dht_msg *m) {
  uint8_t *data = NULL;
  fl_event *ev = fl_dht_event(d, FL_EVENT_DHT_QUERY_REPLY, m->value_len, &data);
  if (!ev) return;
  ev->id = q->id;
  ev->addr = *from;
  ev->addr2 = m->to;
  ev->code = (int32_t)m->error;
  if (from_id) ev->flags |= FL_EVENT_F_ID, memcpy(ev->key, from_id, 32);
  if (m->has_token) ev->flags |= FL_EVENT_F_TOKEN, memcpy(ev->token, m->token, 32);
  if (m->has_value) ev->flags |= FL_EVENT_F_VALUE;
  if (m->value_len) memcpy(data, m->value, m->value_len);
}

void fl_dht_query_on_response(fl_dht *d, uint64_t now_us, fl_dht_req *r, const fl_addr *from,
                              const uint8_t *from_id, const fl_dht_msg *m) {
  fl_dht_query *q = owner_of(d, r);
  if (!q) return;
  if (r->kind == FL_DHT_RK_COMMIT) {
    commit_done(d, now_us, q, m->error == 0);
    return;
  }
  dec(q, r);
  qseen *self = &q->seen[r->aux];
  self->state = QS_DONE;
  self->id_valid = from_id != NULL;
  if (q->committing) return;
  if (m->error == 0) q->successes++;
  else q->errors++;
  if (m->error == 0 && from_id && is_closer(q, from_id))
    push_closest(q, from, from_id, m, self->depth);
  /* Responders send at most k; reading more would let one reply make us
   * hash a million addresses (the decoder accepts up to 0x100000). */
  size_t closer = m->closer_count < FL_DHT_K ? m->closer_count : FL_DHT_K;
  for (size_t i = 0; i < closer; i++) {
    fl_addr a;
    uint8_t id[32];
    fl_dht_msg_closer_at(m, i, &a);
    fl_dht_node_id(id, &a);
    if (memcmp(id, d->table_id, 32) == 0) continue;
    /* The reference stops at the first entry that is not closer; its own
     * responders list nodes in table row order, not XOR order, so that can
     * miss closer entries further down. We read the whole list (at most
     * k entries): never less thorough, and exact against either kind of
     * responder (a divergence the issue allows). */
    add_pending(d, now_us, q, &a, id, (int)r->aux);
  }
  if (!q->from_table && q->successes + q->errors >= q->concurrency) q->slowdown = false;
  if (m->error == 0) {
    if ((q->flags & FL_DHT_QF_EVENTS) && !q->internal) emit_reply(d, q, from, from_id, m);
    if (q->flags & (FL_DHT_QF_BACKGROUND | FL_DHT_QF_BOOT)) {
      uint32_t c = d->cfg.concurrency, bg = c < 2 ? c : (c / 8 > 2 ? c / 8 : 2);
      q->concurrency = d->active_len < 3 ? c : bg;
      fl_dht_on_query_reply(d, now_us, q->id, q->flags, from);
      if (owner_of(d, r) != q) return;
    }
  }
  read_more(d, now_us, q);
}

void fl_dht_query_on_error(fl_dht *d, uint64_t now_us, fl_dht_req *r, bool timeout) {
  fl_dht_query *q = owner_of(d, r);
  if (!q) return;
  if (r->kind == FL_DHT_RK_COMMIT) {
    commit_done(d, now_us, q, false);
    return;
  }
  qseen *e = &q->seen[r->aux];
  if (timeout) {
    e->state = QS_DOWN;
    for (uint32_t i = 0; i < e->nrefs; i++) down_hint(d, now_us, &q->seen[e->refs[i]], &e->addr);
  }
  dec(q, r);
  q->errors++;
  read_more(d, now_us, q);
}

void fl_dht_query_on_cycle(fl_dht *d, uint64_t now_us, fl_dht_req *r) {
  fl_dht_query *q = owner_of(d, r);
  if (!q || r->kind != FL_DHT_RK_QUERY) return;
  q->slow++;
  read_more(d, now_us, q);
}

uint64_t fl_dht_query_id(const fl_dht_query *q) { return q->id; }

int fl_dht_query_cancel(fl_dht *d, uint64_t now_us, uint64_t qid) {
  for (uint32_t i = 0; i < d->queries_max; i++) {
    fl_dht_query *q = d->queries[i];
    if (!q || q->id != qid) continue;
    query_end(d, now_us, q, FL_ERR_CLOSED);
    return 0;
  }
  return FL_ERR_NOT_FOUND;
}
