/*
 * The request engine (dht-rpc lib/io.js; spec/dht-rpc.md §5): transaction
 * ids, per-attempt timeouts, retries, the 4-slot congestion window with its
 * FIFO of held-back sends, response matching by tid, and the token secrets.
 *
 * Requests are encoded once; a retransmission is byte-identical. The
 * in-flight table is fixed at init (FL_NODE_INFLIGHT_MAX): full = refuse.
 */
#include <assert.h>
#include <string.h>

#include "dht/dht.h"

#define SOCK_SERVER FL_NODE_SOCK_SERVER
#define SOCK_CLIENT FL_NODE_SOCK_CLIENT

/* ---- congestion window (CongestionWindow) ----------------------------------- */
static bool win_full(const fl_dht *d) {
  return d->win_total >= 2 * d->cfg.max_window || d->win[d->win_i] >= d->cfg.max_window;
}
static void win_send(fl_dht *d) {
  d->win_total++;
  d->win[d->win_i]++;
}
static void win_recv(fl_dht *d) {
  if (d->win[d->win_i] > 0) {
    d->win[d->win_i]--;
    d->win_total--;
  }
}
static void win_drain(fl_dht *d) {
  d->win_i = (d->win_i + 1) & 3;
  d->win_total -= d->win[d->win_i];
  d->win[d->win_i] = 0;
}

/* ---- tokens ----------------------------------------------------------------- */
static void secrets_ensure(fl_dht *d) {
  if (d->has_secrets) return;
  fl_drbg_bytes(&d->drbg, d->secrets[0], 32);
  fl_drbg_bytes(&d->drbg, d->secrets[1], 32);
  d->has_secrets = true;
  d->rotate = FL_DHT_ROTATE_DRAINS;
}

/* BLAKE2b-256 keyed with a secret over the requester's dotted-quad IP. Index
 * 1 is the current secret, 0 the previous (lib/io.js token()). */
void fl_dht_token(fl_dht *d, const fl_addr *addr, int which, uint8_t out[32]) {
  uint8_t host[16];
  size_t len = 0;
  secrets_ensure(d);
  for (int i = 0; i < 4; i++) {
    uint8_t v = addr->ip[i];
    if (i) host[len++] = '.';
    if (v >= 100) host[len++] = (uint8_t)('0' + v / 100);
    if (v >= 10) host[len++] = (uint8_t)('0' + (v / 10) % 10);
    host[len++] = (uint8_t)('0' + v % 10);
  }
  assert(len <= 15);
  int rc = fl_crypto_hash_keyed(out, 32, host, len, d->secrets[which], 32);
  assert(rc == 0);
  (void)rc;
}

static void secrets_rotate(fl_dht *d) {
  if (!d->has_secrets || --d->rotate != 0) return;
  d->rotate = FL_DHT_ROTATE_DRAINS;
  uint8_t old_prev[32];
  memcpy(old_prev, d->secrets[0], 32);
  memcpy(d->secrets[0], d->secrets[1], 32);
  int rc = fl_crypto_hash(d->secrets[1], 32, old_prev, 32);
  assert(rc == 0);
  (void)rc;
  fl_crypto_memzero(old_prev, sizeof old_prev);
}

/* ---- sending ---------------------------------------------------------------- */
static void send_now(fl_dht *d, uint64_t now_us, fl_dht_req *r) {
  r->sent++;
  r->queued = false;
  win_send(d);
  if (fl_dht_send_raw(d, r->sock, &r->to, r->buf, r->len)) d->st.tx_requests++;
  if (r->sent == 1) r->sent_us = now_us;
  r->deadline_us = now_us + r->timeout_us;
}

static void req_send(fl_dht *d, uint64_t now_us, uint32_t idx, bool force) {
  fl_dht_req *r = &d->reqs[idx];
  if (!force && win_full(d)) {
    /* Held back: the timer starts only once it is sent (lib/io.js send()). */
    assert(d->pending_len < d->reqs_max);
    d->pending[(d->pending_head + d->pending_len) % d->reqs_max] = idx;
    d->pending_len++;
    r->queued = true;
    r->deadline_us = FL_TIME_NONE;
    d->st.congestion_queued++;
    if (d->pending_len > d->st.congestion_hw) d->st.congestion_hw = d->pending_len;
    return;
  }
  send_now(d, now_us, r);
}

static int encode_request(fl_dht *d, fl_dht_req *r, const uint8_t *token, const uint8_t *target,
                          const uint8_t *value, size_t value_len, bool value_flag) {
  fl_dht_msg m;
  memset(&m, 0, sizeof m);
  m.type = FL_DHT_TYPE_REQUEST;
  m.tid = r->tid;
  m.to = r->to;
  m.has_id = !d->ephemeral && r->sock == SOCK_SERVER;
  if (m.has_id) memcpy(m.id, d->table_id, 32);
  m.has_token = token != NULL;
  if (token) memcpy(m.token, token, 32);
  m.internal = r->internal;
  m.command = r->command;
  m.has_target = target != NULL;
  if (target) memcpy(m.target, target, 32);
  m.has_value = value_flag;
  m.value = value;
  m.value_len = value_len;
  size_t need = fl_dht_msg_size(&m);
  if (need > FL_DGRAM_BYTES_MAX) return FL_ERR_RANGE;
  r->buf = r->inline_buf;
  if (need > sizeof r->inline_buf) {
    r->buf = fl_mem_alloc(d->mem, need);
    if (!r->buf) return FL_ERR_NOMEM;
  }
  int len = fl_dht_msg_encode(&m, r->buf, need);
  if (len < 0) return len;
  r->len = (uint16_t)len;
  return 0;
}

uint32_t fl_dht_request(fl_dht *d, uint64_t now_us, uint8_t kind, const fl_addr *to,
                        const uint8_t *to_id, const uint8_t *token, bool internal,
                        uint64_t command, const uint8_t *target, const uint8_t *value,
                        size_t value_len, bool value_flag, bool force) {
  if (!d->bound || d->destroyed) return FL_DHT_NO_IDX;
  if (d->free_len == 0) {
    d->st.inflight_dropped++;
    return FL_DHT_NO_IDX;
  }
  uint32_t idx = d->free_reqs[--d->free_len];
  fl_dht_req *r = &d->reqs[idx];
  memset(r, 0, sizeof *r);
  r->used = true;
  r->gen = ++d->req_gen;
  r->kind = kind;
  r->tid = d->tid_next++;
  r->sock = d->firewalled ? SOCK_CLIENT : SOCK_SERVER;
  r->to = *to;
  r->has_to_id = to_id != NULL;
  if (to_id) memcpy(r->to_id, to_id, 32);
  r->internal = internal;
  r->command = command;
  r->retries = 3;
  r->timeout_us = FL_DHT_REQ_TIMEOUT_US;
  r->owner = r->aux = r->aux2 = FL_DHT_NO_IDX;
  (void)now_us;
  if (encode_request(d, r, token, target, value, value_len, value_flag) < 0) {
    if (r->buf && r->buf != r->inline_buf) fl_mem_free(d->mem, r->buf, 0);
    r->used = false;
    d->free_reqs[d->free_len++] = idx;
    d->st.inflight_dropped++;
    return FL_DHT_NO_IDX;
  }
  d->active[d->active_len++] = idx;
  if (internal && command < 5) d->st.cmd_tx[command]++;
  d->st.requests_total++;
  d->st.requests_active = d->active_len;
  if (d->active_len > d->st.requests_active_hw) d->st.requests_active_hw = d->active_len;
  (void)force; /* sending is the caller's next step: fl_dht_req_start(.., force) */
  return idx;
}

/* Callers set retries/timeouts on the slot and then send it. */
void fl_dht_req_start(fl_dht *d, uint64_t now_us, uint32_t idx, bool force) {
  req_send(d, now_us, idx, force);
}

/* Take a request out of flight: congestion credit back, slot freed. */
void fl_dht_req_finish(fl_dht *d, uint32_t idx) {
  fl_dht_req *r = &d->reqs[idx];
  assert(r->used);
  for (uint32_t i = 0; i < d->active_len; i++) {
    if (d->active[i] != idx) continue;
    d->active[i] = d->active[--d->active_len];
    break;
  }
  if (r->queued) {
    /* Drop it from the pending FIFO, keeping the order of the others. */
    uint32_t w = 0;
    for (uint32_t i = 0; i < d->pending_len; i++) {
      uint32_t v = d->pending[(d->pending_head + i) % d->reqs_max];
      if (v != idx) d->pending[(d->pending_head + w++) % d->reqs_max] = v;
    }
    d->pending_len = w;
  }
  win_recv(d);
  if (r->buf && r->buf != r->inline_buf) fl_mem_free(d->mem, r->buf, r->len);
  r->buf = NULL;
  r->used = false;
  d->free_reqs[d->free_len++] = idx;
  d->st.requests_active = d->active_len;
}

void fl_dht_io_response(fl_dht *d, uint64_t now_us, uint32_t sock, const fl_addr *from,
                        fl_dht_msg *m) {
  uint32_t idx = FL_DHT_NO_IDX;
  for (uint32_t i = 0; i < d->active_len; i++) {
    if (d->reqs[d->active[i]].tid == m->tid) {
      idx = d->active[i];
      break;
    }
  }
  if (idx == FL_DHT_NO_IDX) {
    d->st.drop_unmatched_response++;
    return;
  }
  /* A queued request never left, so a response cannot be for it. The
   * reference matches it anyway (its tid is in flight); so do we. */
  fl_dht_req copy = d->reqs[idx];
  copy.buf = NULL;
  if (copy.internal && copy.command < 5) d->st.cmd_rx[copy.command]++;
  d->st.responses++;
  fl_dht_req_finish(d, idx);
  uint8_t id[32];
  const uint8_t *from_id = NULL;
  if (m->has_id) {
    fl_dht_node_id(id, from);
    if (memcmp(id, m->id, 32) == 0) from_id = id;
    else d->st.drop_invalid_id++;
  }
  fl_dht_on_response(d, now_us, &copy, sock, from, from_id, m);
}

void fl_dht_io_timeouts(fl_dht *d, uint64_t now_us) {
  uint32_t due[FL_NODE_INFLIGHT_MAX], gen[FL_NODE_INFLIGHT_MAX];
  uint32_t n = 0;
  for (uint32_t i = 0; i < d->active_len; i++) {
    fl_dht_req *r = &d->reqs[d->active[i]];
    if (r->deadline_us <= now_us) {
      due[n] = d->active[i];
      gen[n++] = r->gen;
    }
  }
  for (uint32_t i = 0; i < n; i++) {
    fl_dht_req *r = &d->reqs[due[i]];
    if (!r->used || r->gen != gen[i] || r->deadline_us > now_us) continue;
    r->deadline_us = FL_TIME_NONE;
    if (r->kind == FL_DHT_RK_QUERY && !r->slow) {
      r->slow = true;
      fl_dht_query_on_cycle(d, now_us, r);
      if (!r->used || r->gen != gen[i]) continue;
    }
    if (r->sent > r->retries) {
      fl_dht_req copy = *r;
      copy.buf = NULL;
      d->st.timeouts++;
      fl_dht_req_finish(d, due[i]);
      fl_dht_on_error(d, now_us, &copy, FL_ERR_TIMEOUT);
    } else {
      d->st.retries++;
      req_send(d, now_us, due[i], false);
    }
  }
}

void fl_dht_io_drain(fl_dht *d, uint64_t now_us) {
  secrets_rotate(d);
  win_drain(d);
  while (!win_full(d) && d->pending_len > 0) {
    uint32_t idx = d->pending[d->pending_head];
    d->pending_head = (d->pending_head + 1) % d->reqs_max;
    d->pending_len--;
    send_now(d, now_us, &d->reqs[idx]);
  }
}

uint64_t fl_dht_io_deadline(const fl_dht *d) {
  uint64_t t = FL_TIME_NONE;
  for (uint32_t i = 0; i < d->active_len; i++) {
    uint64_t x = d->reqs[d->active[i]].deadline_us;
    if (x < t) t = x;
  }
  return t;
}
