/*
 * node/hyperdht_node.c — fl_hyperdht: the record commands served from a store
 * and run as client operations, over an fl_node (hyperdht@6.34.0 index.js
 * and lib/persistent.js; spec/hyperdht-records.md §1, §4).
 *
 * It lives with the node because it drives one: the node is the top layer
 * and may use hyperdht's codecs and store. Everything stays sans-IO: node
 * events come in through fl_hyperdht_on_event, results go out as events.
 */
#include <assert.h>
#include <string.h>

#include "flock/hyperdht.h"
#include "flock/node.h"

enum { OP_ANNOUNCE = 1, OP_UNANNOUNCE, OP_LOOKUP, OP_FIND_PEER, OP_MPUT, OP_MGET, OP_IPUT,
       OP_IGET };
enum { PH_FREE = 0, PH_QUERY, PH_COMMIT, PH_WAIT };

typedef struct node_ref {
  fl_addr addr;
  uint8_t id[32];
  uint8_t token[32];
} node_ref;

typedef struct op {
  int kind, phase;
  bool cancelled, found;
  uint64_t id, qid;
  uint8_t target[32];
  uint8_t sk[64];
  uint8_t pk[32];
  fl_addr relays[FL_HYPERDHT_RELAYS_MAX];
  size_t relays_len;
  uint64_t refresh_us, next_us;
  uint64_t seq;  /* mutable put: its seq; get: the minimum */
  bool latest;
  uint8_t *value;  /* put: the request value; get: the best value so far */
  size_t value_len, value_cap;
  uint64_t best_seq;
  uint8_t best_sig[64];
  fl_addr best_from;
  node_ref closest[FL_HYPERDHT_COMMIT_MAX];
  size_t closest_len;
  uint64_t rids[FL_HYPERDHT_COMMIT_MAX];
  size_t pending, acked;
} op;

typedef struct qevent {
  fl_event ev;
  uint8_t *data;
  size_t cap;
} qevent;

struct fl_hyperdht {
  const fl_mem *mem;
  fl_node *node;
  fl_hyperdht_store *store;
  uint64_t next_op;
  uint64_t clock_now_us, clock_unix_ms;
  op ops[FL_HYPERDHT_OPS_MAX];
  qevent *events;  /* ring of FL_HYPERDHT_EVENTS_MAX */
  size_t ev_head, ev_len;
  fl_hyperdht_stats st;
  uint8_t buf[FL_HYPERDHT_REPLY_VALUE_MAX];
  fl_hyperdht_lookup_reply scratch; /* 1.5 KiB decode space, kept off the stack */
};

size_t fl_hyperdht_stats_struct_size(void) { return sizeof(fl_hyperdht_stats); }

/* ---- events ---------------------------------------------------------------------- */

/* Queue an event with a copy of data; full: drop the oldest (counted). */
static fl_event *emit(fl_hyperdht *h, uint32_t type, uint64_t id, const uint8_t *data,
                      size_t len) {
  if (h->ev_len == FL_HYPERDHT_EVENTS_MAX) {
    h->ev_head = (h->ev_head + 1) % FL_HYPERDHT_EVENTS_MAX;
    h->ev_len--;
    h->st.events_dropped++;
  }
  qevent *q = &h->events[(h->ev_head + h->ev_len) % FL_HYPERDHT_EVENTS_MAX];
  if (len > q->cap) {
    uint8_t *p = fl_mem_alloc(h->mem, len);
    if (p == NULL) {
      h->st.events_dropped++;
      return NULL;
    }
    fl_mem_free(h->mem, q->data, q->cap);
    q->data = p;
    q->cap = len;
  }
  memset(&q->ev, 0, sizeof q->ev);
  q->ev.type = type;
  q->ev.id = id;
  if (len > 0) memcpy(q->data, data, len);
  q->ev.data = len > 0 ? q->data : NULL;
  q->ev.len = len;
  h->ev_len++;
  return &q->ev;
}

int fl_hyperdht_poll_event(fl_hyperdht *h, fl_event *out) {
  if (h == NULL || out == NULL) return FL_ERR_INVALID;
  if (h->ev_len == 0) return 0;
  /* The slot's bytes stay put until it is reused, which needs the ring to
   * wrap: at least FL_HYPERDHT_EVENTS_MAX - 1 later events. */
  *out = h->events[h->ev_head].ev;
  h->ev_head = (h->ev_head + 1) % FL_HYPERDHT_EVENTS_MAX;
  h->ev_len--;
  return 1;
}

/* ---- life cycle ------------------------------------------------------------------ */

int fl_hyperdht_new(fl_hyperdht **out, fl_node *node, const fl_mem *mem,
                    const fl_hyperdht_store_config *config, const uint8_t seed[32],
                    uint64_t now_us) {
  if (out != NULL) *out = NULL;
  if (out == NULL || node == NULL || seed == NULL) return FL_ERR_INVALID;
  fl_hyperdht *h = fl_mem_calloc(mem, 1, sizeof *h);
  if (h == NULL) return FL_ERR_NOMEM;
  h->mem = mem;
  h->node = node;
  h->events = fl_mem_calloc(mem, FL_HYPERDHT_EVENTS_MAX, sizeof *h->events);
  int rc = h->events != NULL ? fl_hyperdht_store_new(&h->store, mem, config, seed, now_us)
                             : FL_ERR_NOMEM;
  if (rc != 0) {
    fl_hyperdht_free(h);
    return rc;
  }
  *out = h;
  return 0;
}

static void op_release(fl_hyperdht *h, op *o) {
  fl_crypto_memzero(o->sk, sizeof o->sk);
  fl_mem_free(h->mem, o->value, o->value_cap);
  memset(o, 0, sizeof *o);
  h->st.ops_active--;
}

void fl_hyperdht_free(fl_hyperdht *h) {
  if (h == NULL) return;
  for (size_t i = 0; i < FL_HYPERDHT_OPS_MAX; i++)
    if (h->ops[i].phase != PH_FREE) op_release(h, &h->ops[i]);
  for (size_t i = 0; h->events != NULL && i < FL_HYPERDHT_EVENTS_MAX; i++)
    fl_mem_free(h->mem, h->events[i].data, h->events[i].cap);
  fl_mem_free(h->mem, h->events, FL_HYPERDHT_EVENTS_MAX * sizeof *h->events);
  fl_hyperdht_store_free(h->store);
  fl_mem_free(h->mem, h, sizeof *h);
}

void fl_hyperdht_set_clock(fl_hyperdht *h, uint64_t now_us, uint64_t unix_ms) {
  if (h == NULL) return;
  h->clock_now_us = now_us;
  h->clock_unix_ms = unix_ms;
}

static uint64_t unix_ms(const fl_hyperdht *h, uint64_t now_us) {
  if (h->clock_unix_ms == 0) return 0;
  return h->clock_unix_ms + (now_us - h->clock_now_us) / 1000;
}

void fl_hyperdht_get_stats(const fl_hyperdht *h, fl_hyperdht_stats *out) {
  if (out == NULL) return;
  memset(out, 0, sizeof *out);
  if (h == NULL) return;
  *out = h->st;
  fl_hyperdht_store_get_stats(h->store, &out->store);
}

/* ---- server side ------------------------------------------------------------------- */

static int serve(fl_hyperdht *h, uint64_t now_us, const fl_event *ev) {
  if (ev->arg == FL_HYPERDHT_CMD_PEER_HANDSHAKE || ev->arg == FL_HYPERDHT_CMD_PEER_HOLEPUNCH) {
    h->st.served_not_mine++;
    return 0;
  }
  uint8_t id[32];
  bool persistent = fl_node_id(h->node, id) == 1;
  fl_hyperdht_request r;
  memset(&r, 0, sizeof r);
  r.command = ev->arg;
  r.target = (ev->flags & FL_EVENT_F_TARGET) ? ev->key : NULL;
  r.token = (ev->flags & FL_EVENT_F_TOKEN) ? ev->token : NULL;
  r.token_valid = true; /* the node answered a wrong token with error 2 already */
  r.value = (ev->flags & FL_EVENT_F_VALUE) ? (ev->data != NULL ? ev->data : h->buf) : NULL;
  r.value_len = (ev->flags & FL_EVENT_F_VALUE) ? ev->len : 0;
  r.from = ev->addr;
  r.unix_ms = unix_ms(h, now_us);
  fl_hyperdht_reply out;
  int rc = fl_hyperdht_store_handle(h->store, now_us, persistent ? id : NULL, &r, h->buf,
                                    sizeof h->buf, &out);
  if (rc == FL_ERR_INVALID) return rc;
  if (out.action != FL_HYPERDHT_ACTION_REPLY) return 1; /* silence: the sender times out */
  if (out.error == 0) {
    uint32_t flags = (out.token ? 0 : FL_NODE_REPLY_NO_TOKEN) |
                     (out.closer_nodes ? 0 : FL_NODE_REPLY_NO_CLOSER);
    rc = fl_node_reply(h->node, now_us, ev->id, out.has_value ? h->buf : NULL, out.value_len,
                       flags);
  } else {
    uint32_t flags = (out.token ? FL_NODE_REPLY_TOKEN : 0) |
                     (out.closer_nodes ? 0 : FL_NODE_REPLY_NO_CLOSER);
    rc = fl_node_reply_error(h->node, now_us, ev->id, out.error, flags);
  }
  (void)rc; /* FL_ERR_NOT_FOUND: the node already evicted the handle */
  return 1;
}

/* ---- client operations --------------------------------------------------------------- */

static op *op_find(fl_hyperdht *h, uint64_t id) {
  for (size_t i = 0; i < FL_HYPERDHT_OPS_MAX; i++)
    if (h->ops[i].phase != PH_FREE && h->ops[i].id == id) return &h->ops[i];
  return NULL;
}

static void finish(fl_hyperdht *h, op *o, int code) {
  fl_event *ev = emit(h, FL_EVENT_HYPERDHT_DONE, o->id, NULL, 0);
  if (ev != NULL) {
    ev->code = code;
    ev->arg = o->acked;
    memcpy(ev->key, o->target, 32);
  }
  op_release(h, o);
}

static int op_query(fl_hyperdht *h, uint64_t now_us, op *o) {
  static const uint64_t cmd[] = {0, FL_HYPERDHT_CMD_LOOKUP, FL_HYPERDHT_CMD_LOOKUP,
                                 FL_HYPERDHT_CMD_LOOKUP, FL_HYPERDHT_CMD_FIND_PEER,
                                 FL_HYPERDHT_CMD_MUTABLE_GET, FL_HYPERDHT_CMD_MUTABLE_GET,
                                 FL_HYPERDHT_CMD_IMMUTABLE_GET, FL_HYPERDHT_CMD_IMMUTABLE_GET};
  uint8_t v[9];
  size_t vlen = 0;
  const uint8_t *value = NULL;
  if (o->kind == OP_MPUT || o->kind == OP_MGET) {
    /* MUTABLE_GET needs its minimum seq: 0 before a put, as the reference. */
    fl_enc_state s;
    fl_enc_state_init(&s, v, sizeof v);
    if (fl_enc_uint_encode(&s, o->kind == OP_MGET ? o->seq : 0) != 0) return FL_ERR_INVALID;
    value = v;
    vlen = s.start;
  }
  o->closest_len = 0;
  o->pending = 0;
  o->acked = 0;
  o->phase = PH_QUERY;
  return fl_node_query(h->node, now_us, o->target, cmd[o->kind], value, vlen, false, &o->qid);
}

static int op_start(fl_hyperdht *h, uint64_t now_us, int kind, const uint8_t target[32],
                    op **out) {
  *out = NULL;
  op *o = NULL;
  for (size_t i = 0; i < FL_HYPERDHT_OPS_MAX && o == NULL; i++)
    if (h->ops[i].phase == PH_FREE) o = &h->ops[i];
  if (o == NULL) {
    h->st.ops_refused++;
    return FL_ERR_LIMIT;
  }
  memset(o, 0, sizeof *o);
  o->kind = kind;
  o->id = ++h->next_op;
  memcpy(o->target, target, 32);
  h->st.ops_active++;
  if (h->st.ops_active > h->st.ops_hw) h->st.ops_hw = h->st.ops_active;
  o->phase = PH_QUERY;
  (void)now_us;
  *out = o;
  return 0;
}

/* Start the query of a prepared op, or release it on failure. */
static int op_go(fl_hyperdht *h, uint64_t now_us, op *o, uint64_t *id) {
  int rc = op_query(h, now_us, o);
  if (rc != 0) {
    op_release(h, o);
    return rc;
  }
  *id = o->id;
  return 0;
}

static int op_set_value(fl_hyperdht *h, op *o, const uint8_t *v, size_t len) {
  if (len > o->value_cap) {
    uint8_t *p = fl_mem_alloc(h->mem, len);
    if (p == NULL) return FL_ERR_NOMEM;
    fl_mem_free(h->mem, o->value, o->value_cap);
    o->value = p;
    o->value_cap = len;
  }
  if (len > 0) memcpy(o->value, v, len);
  o->value_len = len;
  return 0;
}

static bool args_ok(fl_hyperdht *h, const uint64_t *id, const void *a) {
  return h != NULL && id != NULL && a != NULL;
}

int fl_hyperdht_start_lookup(fl_hyperdht *h, uint64_t now_us, const uint8_t topic[32], uint64_t *id) {
  if (!args_ok(h, id, topic)) return FL_ERR_INVALID;
  op *o;
  int rc = op_start(h, now_us, OP_LOOKUP, topic, &o);
  return rc != 0 ? rc : op_go(h, now_us, o, id);
}

int fl_hyperdht_start_find_peer(fl_hyperdht *h, uint64_t now_us, const uint8_t pk[32], uint64_t *id) {
  if (!args_ok(h, id, pk)) return FL_ERR_INVALID;
  uint8_t t[32];
  op *o;
  int rc = fl_hyperdht_target(t, pk, 32);
  if (rc == 0) rc = op_start(h, now_us, OP_FIND_PEER, t, &o);
  if (rc != 0) return rc;
  memcpy(o->pk, pk, 32);
  return op_go(h, now_us, o, id);
}

int fl_hyperdht_start_announce(fl_hyperdht *h, uint64_t now_us, const uint8_t topic[32],
                         const uint8_t sk[64], const fl_addr *relays, size_t relays_len,
                         uint64_t refresh_us, uint64_t *id) {
  if (!args_ok(h, id, topic) || sk == NULL || relays_len > FL_HYPERDHT_RELAYS_MAX ||
      (relays == NULL && relays_len > 0))
    return FL_ERR_INVALID;
  for (size_t i = 0; i < relays_len; i++)
    if (relays[i].family != FL_ADDR_IPV4) return FL_ERR_INVALID;
  op *o;
  int rc = op_start(h, now_us, OP_ANNOUNCE, topic, &o);
  if (rc != 0) return rc;
  memcpy(o->sk, sk, 64);
  memcpy(o->pk, sk + 32, 32);
  if (relays_len > 0) memcpy(o->relays, relays, relays_len * sizeof *relays);
  o->relays_len = relays_len;
  o->refresh_us = refresh_us;
  return op_go(h, now_us, o, id);
}

int fl_hyperdht_start_unannounce(fl_hyperdht *h, uint64_t now_us, const uint8_t topic[32],
                           const uint8_t sk[64], uint64_t *id) {
  if (!args_ok(h, id, topic) || sk == NULL) return FL_ERR_INVALID;
  op *o;
  int rc = op_start(h, now_us, OP_UNANNOUNCE, topic, &o);
  if (rc != 0) return rc;
  memcpy(o->sk, sk, 64);
  memcpy(o->pk, sk + 32, 32);
  fl_hyperdht_store_remove(h->store, topic, o->pk);
  /* A refreshing announce of ours for this topic stops too. */
  for (size_t i = 0; i < FL_HYPERDHT_OPS_MAX; i++) {
    op *a = &h->ops[i];
    if (a != o && a->phase != PH_FREE && a->kind == OP_ANNOUNCE &&
        memcmp(a->target, topic, 32) == 0 && memcmp(a->pk, o->pk, 32) == 0)
      if (fl_hyperdht_cancel(h, now_us, a->id) != 0) continue; /* it was ours: cannot fail */
  }
  return op_go(h, now_us, o, id);
}

int fl_hyperdht_start_mutable_put(fl_hyperdht *h, uint64_t now_us, const uint8_t sk[64],
                            uint64_t seq, const uint8_t *value, size_t len, uint64_t *id) {
  if (!args_ok(h, id, sk) || (value == NULL && len > 0) || len > FL_HYPERDHT_VALUE_MAX)
    return FL_ERR_INVALID;
  fl_hyperdht_mutable m;
  memset(&m, 0, sizeof m);
  m.seq = seq;
  m.value = value;
  m.value_len = len;
  uint8_t t[32], enc[FL_HYPERDHT_REPLY_VALUE_MAX + 32];
  size_t elen;
  op *o;
  int rc = fl_hyperdht_mutable_sign(&m, sk);
  if (rc == 0) rc = fl_hyperdht_mutable_encode(&m, true, enc, sizeof enc, &elen);
  if (rc == 0) rc = fl_hyperdht_target(t, m.public_key, 32);
  if (rc == 0) rc = op_start(h, now_us, OP_MPUT, t, &o);
  if (rc != 0) return rc;
  o->seq = seq;
  memcpy(o->pk, m.public_key, 32);
  rc = op_set_value(h, o, enc, elen);
  if (rc != 0) {
    op_release(h, o);
    return rc;
  }
  return op_go(h, now_us, o, id);
}

int fl_hyperdht_start_mutable_get(fl_hyperdht *h, uint64_t now_us, const uint8_t pk[32],
                            uint64_t min_seq, bool latest, uint64_t *id) {
  if (!args_ok(h, id, pk)) return FL_ERR_INVALID;
  uint8_t t[32];
  op *o;
  int rc = fl_hyperdht_target(t, pk, 32);
  if (rc == 0) rc = op_start(h, now_us, OP_MGET, t, &o);
  if (rc != 0) return rc;
  memcpy(o->pk, pk, 32);
  o->seq = min_seq;
  o->latest = latest;
  return op_go(h, now_us, o, id);
}

int fl_hyperdht_start_immutable_put(fl_hyperdht *h, uint64_t now_us, const uint8_t *value, size_t len,
                              uint64_t *id) {
  if (h == NULL || id == NULL || (value == NULL && len > 0) || len > FL_HYPERDHT_VALUE_MAX)
    return FL_ERR_INVALID;
  uint8_t t[32];
  op *o;
  int rc = fl_hyperdht_target(t, value, len);
  if (rc == 0) rc = op_start(h, now_us, OP_IPUT, t, &o);
  if (rc != 0) return rc;
  rc = op_set_value(h, o, value, len);
  if (rc != 0) {
    op_release(h, o);
    return rc;
  }
  return op_go(h, now_us, o, id);
}

int fl_hyperdht_start_immutable_get(fl_hyperdht *h, uint64_t now_us, const uint8_t hash[32],
                              uint64_t *id) {
  if (!args_ok(h, id, hash)) return FL_ERR_INVALID;
  op *o;
  int rc = op_start(h, now_us, OP_IGET, hash, &o);
  return rc != 0 ? rc : op_go(h, now_us, o, id);
}

int fl_hyperdht_cancel(fl_hyperdht *h, uint64_t now_us, uint64_t id) {
  if (h == NULL) return FL_ERR_INVALID;
  op *o = op_find(h, id);
  if (o == NULL) return FL_ERR_NOT_FOUND;
  if (o->phase == PH_QUERY && !o->cancelled) {
    /* QUERY_DONE (FL_ERR_CLOSED) follows and finishes it. */
    o->cancelled = true;
    if (fl_node_query_cancel(h->node, now_us, o->qid) == 0) return 0;
  }
  finish(h, o, FL_ERR_CLOSED);
  return 0;
}

/* ---- query replies -------------------------------------------------------------------- */

static void reply_lookup(fl_hyperdht *h, op *o, const fl_event *ev) {
  fl_hyperdht_lookup_reply *rp = &h->scratch;
  if (fl_hyperdht_lookup_reply_decode(rp, ev->data, ev->len) < 0) {
    h->st.replies_bad++;
    return;
  }
  for (size_t i = 0; i < rp->peers_len; i++) {
    uint8_t rec[64];
    size_t len;
    rp->peers[i].relays_raw = NULL;
    if (fl_hyperdht_peer_encode(&rp->peers[i], rec, sizeof rec, &len) != 0) continue;
    fl_event *out = emit(h, FL_EVENT_HYPERDHT_PEER, o->id, rec, len);
    if (out == NULL) continue;
    memcpy(out->key, rp->peers[i].public_key, 32);
    out->addr = ev->addr;
    out->arg = rp->bump;
  }
}

/* unannounce (index.js unannounce): at every node whose reply lists our key,
 * or a full 20, send a signed UNANNOUNCE with the token it gave us. */
static void reply_unannounce(fl_hyperdht *h, uint64_t now_us, op *o, const fl_event *ev) {
  fl_hyperdht_lookup_reply *rp = &h->scratch;
  if (!(ev->flags & FL_EVENT_F_TOKEN) || !(ev->flags & FL_EVENT_F_ID)) return;
  if (fl_hyperdht_lookup_reply_decode(rp, ev->data, ev->len) < 0) return;
  bool listed = rp->peers_len >= FL_HYPERDHT_LOOKUP_PEERS_MAX;
  for (size_t i = 0; i < rp->peers_len && !listed; i++)
    listed = memcmp(rp->peers[i].public_key, o->pk, 32) == 0;
  if (!listed || o->pending >= FL_HYPERDHT_COMMIT_MAX) return;
  fl_hyperdht_announce a;
  memset(&a, 0, sizeof a);
  a.has_peer = true;
  memcpy(a.peer.public_key, o->pk, 32);
  uint8_t v[128];
  size_t len;
  if (fl_hyperdht_announce_sign(&a, FL_NS_UNANNOUNCE, o->target, ev->key, ev->token, o->sk) != 0 ||
      fl_hyperdht_announce_encode(&a, v, sizeof v, &len) != 0)
    return;
  uint64_t rid;
  if (fl_node_request(h->node, now_us, &ev->addr, false, FL_HYPERDHT_CMD_UNANNOUNCE, o->target,
                      ev->token, v, len, -1, &rid) == 0)
    o->rids[o->pending++] = rid;
}

static void reply_mutable(fl_hyperdht *h, uint64_t now_us, op *o, const fl_event *ev) {
  fl_hyperdht_mutable m;
  if (fl_hyperdht_mutable_decode(&m, false, ev->data, ev->len) < 0 ||
      fl_hyperdht_mutable_verify(&m, o->pk) != 0) {
    h->st.replies_bad++;
    return;
  }
  if (m.seq < o->seq || (o->found && m.seq <= o->best_seq)) return;
  if (op_set_value(h, o, m.value, m.value_len) != 0) return;
  o->found = true;
  o->best_seq = m.seq;
  memcpy(o->best_sig, m.signature, 64);
  o->best_from = ev->addr;
  /* latest: false takes the first valid record and stops the query. */
  if (!o->latest && !o->cancelled) {
    o->cancelled = true;
    if (fl_node_query_cancel(h->node, now_us, o->qid) != 0) o->cancelled = false;
  }
}

static void reply_immutable(fl_hyperdht *h, uint64_t now_us, op *o, const fl_event *ev) {
  uint8_t hash[32];
  if (o->found || fl_hyperdht_target(hash, ev->data, ev->len) != 0) return;
  if (memcmp(hash, o->target, 32) != 0) {
    h->st.replies_bad++;
    return;
  }
  if (op_set_value(h, o, ev->data, ev->len) != 0) return;
  o->found = true;
  o->best_from = ev->addr;
  if (!o->cancelled) {
    o->cancelled = true;
    if (fl_node_query_cancel(h->node, now_us, o->qid) != 0) o->cancelled = false;
  }
}

static void on_query_reply(fl_hyperdht *h, uint64_t now_us, op *o, const fl_event *ev) {
  bool has_value = (ev->flags & FL_EVENT_F_VALUE) != 0 && ev->code == 0;
  if (!has_value) return;
  switch (o->kind) {
    case OP_LOOKUP: reply_lookup(h, o, ev); break;
    case OP_UNANNOUNCE: reply_unannounce(h, now_us, o, ev); break;
    case OP_MGET: reply_mutable(h, now_us, o, ev); break;
    case OP_IGET: reply_immutable(h, now_us, o, ev); break;
    case OP_FIND_PEER: {
      fl_hyperdht_peer p;
      if (fl_hyperdht_peer_decode(&p, ev->data, ev->len) < 0) {
        h->st.replies_bad++;
        break;
      }
      fl_event *out = emit(h, FL_EVENT_HYPERDHT_FOUND, o->id, ev->data, ev->len);
      if (out != NULL) {
        memcpy(out->key, p.public_key, 32);
        out->addr = ev->addr;
      }
      break;
    }
    default: break; /* puts and announces only want the closest nodes */
  }
}

/* ---- commits ---------------------------------------------------------------------------- */

static int commit_value(op *o, const node_ref *n, uint8_t *v, size_t cap, size_t *len,
                        uint64_t *cmd) {
  if (o->kind == OP_ANNOUNCE) {
    fl_hyperdht_announce a;
    memset(&a, 0, sizeof a);
    a.has_peer = true;
    memcpy(a.peer.public_key, o->pk, 32);
    memcpy(a.peer.relays, o->relays, o->relays_len * sizeof o->relays[0]);
    a.peer.relays_len = o->relays_len;
    *cmd = FL_HYPERDHT_CMD_ANNOUNCE;
    int rc = fl_hyperdht_announce_sign(&a, FL_NS_ANNOUNCE, o->target, n->id, n->token, o->sk);
    return rc != 0 ? rc : fl_hyperdht_announce_encode(&a, v, cap, len);
  }
  *cmd = o->kind == OP_MPUT ? FL_HYPERDHT_CMD_MUTABLE_PUT : FL_HYPERDHT_CMD_IMMUTABLE_PUT;
  if (o->value_len > cap) return FL_ERR_BUFFER;
  if (o->value_len > 0) memcpy(v, o->value, o->value_len);
  *len = o->value_len;
  return 0;
}

static void round_done(fl_hyperdht *h, uint64_t now_us, op *o) {
  if (o->kind == OP_ANNOUNCE) {
    fl_event *ev = emit(h, FL_EVENT_HYPERDHT_ANNOUNCED, o->id, NULL, 0);
    if (ev != NULL) {
      memcpy(ev->key, o->target, 32);
      ev->arg = o->acked;
    }
    if (o->refresh_us > 0 && !o->cancelled) {
      o->phase = PH_WAIT;
      o->next_us = now_us + o->refresh_us;
      return;
    }
  }
  if (o->kind == OP_UNANNOUNCE) {
    finish(h, o, 0);
    return;
  }
  finish(h, o, o->closest_len == 0 ? FL_ERR_NOT_FOUND : o->acked > 0 ? 0 : FL_ERR_TIMEOUT);
}

static void start_commit(fl_hyperdht *h, uint64_t now_us, op *o) {
  o->phase = PH_COMMIT;
  o->pending = 0;
  for (size_t i = 0; i < o->closest_len; i++) {
    uint8_t v[FL_HYPERDHT_REPLY_VALUE_MAX + 32];
    size_t len = 0;
    uint64_t cmd, rid;
    if (commit_value(o, &o->closest[i], v, sizeof v, &len, &cmd) != 0) continue;
    if (fl_node_request(h->node, now_us, &o->closest[i].addr, false, cmd, o->target,
                        o->closest[i].token, v, len, -1, &rid) == 0)
      o->rids[o->pending++] = rid;
  }
  if (o->pending == 0) round_done(h, now_us, o);
}

static void on_query_done(fl_hyperdht *h, uint64_t now_us, op *o, const fl_event *ev) {
  if (o->cancelled && !o->found) {
    finish(h, o, FL_ERR_CLOSED);
    return;
  }
  (void)ev;
  switch (o->kind) {
    case OP_ANNOUNCE:
    case OP_MPUT:
    case OP_IPUT: start_commit(h, now_us, o); return;
    case OP_UNANNOUNCE:
      o->phase = PH_COMMIT;
      if (o->pending == 0) round_done(h, now_us, o);
      return;
    case OP_MGET:
    case OP_IGET: {
      if (!o->found) {
        finish(h, o, FL_ERR_NOT_FOUND);
        return;
      }
      uint32_t type = o->kind == OP_MGET ? FL_EVENT_HYPERDHT_MUTABLE : FL_EVENT_HYPERDHT_IMMUTABLE;
      fl_event *out = emit(h, type, o->id, o->value, o->value_len);
      if (out != NULL) {
        memcpy(out->key, o->kind == OP_MGET ? o->pk : o->target, 32);
        out->arg = o->best_seq;
        out->addr = o->best_from;
        memcpy(out->token, o->best_sig, 32);
      }
      finish(h, o, 0);
      return;
    }
    default: finish(h, o, 0); return;
  }
}

static op *op_by_rid(fl_hyperdht *h, uint64_t rid, size_t *slot) {
  for (size_t i = 0; i < FL_HYPERDHT_OPS_MAX; i++) {
    op *o = &h->ops[i];
    if (o->phase != PH_QUERY && o->phase != PH_COMMIT) continue;
    for (size_t j = 0; j < o->pending; j++)
      if (o->rids[j] == rid) {
        *slot = j;
        return o;
      }
  }
  return NULL;
}

static int on_commit_answer(fl_hyperdht *h, uint64_t now_us, const fl_event *ev) {
  size_t j;
  op *o = op_by_rid(h, ev->id, &j);
  if (o == NULL) return 0;
  o->rids[j] = o->rids[--o->pending];
  if (ev->type == FL_EVENT_DHT_RESPONSE) {
    uint64_t cmd = o->kind == OP_ANNOUNCE ? 4 : o->kind == OP_UNANNOUNCE ? 5
                 : o->kind == OP_MPUT ? 6 : 8;
    fl_event *out = emit(h, FL_EVENT_HYPERDHT_COMMIT, o->id, NULL, 0);
    if (out != NULL) {
      out->addr = ev->addr;
      out->code = ev->code;
      out->arg = cmd;
    }
    /* The reference's commit counts 16/17 as answered (spec §4). */
    if (ev->code == 0 || ev->code == FL_HYPERDHT_REPLY_SEQ_REUSED ||
        ev->code == FL_HYPERDHT_REPLY_SEQ_TOO_LOW)
      o->acked++;
  }
  if (o->pending == 0 && o->phase == PH_COMMIT) round_done(h, now_us, o);
  return 1;
}

static op *op_by_qid(fl_hyperdht *h, uint64_t qid) {
  for (size_t i = 0; i < FL_HYPERDHT_OPS_MAX; i++)
    if (h->ops[i].phase == PH_QUERY && h->ops[i].qid == qid) return &h->ops[i];
  return NULL;
}

int fl_hyperdht_on_event(fl_hyperdht *h, uint64_t now_us, const fl_event *ev) {
  if (h == NULL || ev == NULL) return FL_ERR_INVALID;
  switch (ev->type) {
    case FL_EVENT_DHT_USER_REQUEST: return serve(h, now_us, ev);
    case FL_EVENT_DHT_RESPONSE:
    case FL_EVENT_DHT_REQUEST_FAILED: return on_commit_answer(h, now_us, ev);
    case FL_EVENT_DHT_QUERY_REPLY:
    case FL_EVENT_DHT_QUERY_NODE:
    case FL_EVENT_DHT_QUERY_DONE: break;
    default: return 0;
  }
  op *o = op_by_qid(h, ev->id);
  if (o == NULL) return 0;
  if (ev->type == FL_EVENT_DHT_QUERY_REPLY) {
    on_query_reply(h, now_us, o, ev);
  } else if (ev->type == FL_EVENT_DHT_QUERY_NODE) {
    if ((ev->flags & FL_EVENT_F_TOKEN) && o->closest_len < FL_HYPERDHT_COMMIT_MAX) {
      node_ref *n = &o->closest[o->closest_len++];
      n->addr = ev->addr;
      memcpy(n->id, ev->key, 32);
      memcpy(n->token, ev->token, 32);
    }
  } else {
    on_query_done(h, now_us, o, ev);
  }
  return 1;
}

uint64_t fl_hyperdht_next_deadline(const fl_hyperdht *h) {
  if (h == NULL) return FL_TIME_NONE;
  uint64_t d = fl_hyperdht_store_next_deadline(h->store);
  for (size_t i = 0; i < FL_HYPERDHT_OPS_MAX; i++)
    if (h->ops[i].phase == PH_WAIT && h->ops[i].next_us < d) d = h->ops[i].next_us;
  return d;
}

int fl_hyperdht_handle_timeout(fl_hyperdht *h, uint64_t now_us) {
  if (h == NULL) return FL_ERR_INVALID;
  int rc = fl_hyperdht_store_handle_timeout(h->store, now_us);
  if (rc != 0) return rc;
  for (size_t i = 0; i < FL_HYPERDHT_OPS_MAX; i++) {
    op *o = &h->ops[i];
    if (o->phase != PH_WAIT || o->next_us > now_us) continue;
    /* The next announce round; if the node refuses, try again a round later. */
    if (op_query(h, now_us, o) != 0) {
      o->phase = PH_WAIT;
      o->next_us = now_us + o->refresh_us;
    }
  }
  return 0;
}
