/*
 * The dht-rpc node: lifecycle, incoming datagrams, the built-in commands
 * and the routing-table learning rules (dht-rpc index.js _onrequest,
 * _onresponse, _addNodeFromNetwork, _onfullrow, _repingAndSwap, _check;
 * spec/dht-rpc.md §2-§4). Ticks, bootstrap and the network check are in
 * dht_tick.c.
 */
#include "dht/dht.h"

#include <assert.h>
#include <string.h>

#define SOCK_SERVER FL_NODE_SOCK_SERVER
#define SOCK_CLIENT FL_NODE_SOCK_CLIENT

/* ---- output ----------------------------------------------------------------- */

fl_event *fl_dht_event(fl_dht *d, uint32_t type, size_t data_len, uint8_t **data) {
  void *meta;
  uint8_t *p = fl_dht_fifo_push(d->evq, data_len, &meta);
  if (!meta) {
    d->st.event_queue_dropped++;
    return NULL;
  }
  fl_event *ev = meta;
  ev->type = type;
  if (data) *data = p;
  return ev;
}

bool fl_dht_send_raw(fl_dht *d, uint32_t sock, const fl_addr *to, const uint8_t *p, size_t len) {
  void *meta;
  uint8_t *b = fl_dht_fifo_push(d->txq, len, &meta);
  if (!meta) {
    d->st.tx_queue_dropped++;
    return false;
  }
  fl_dgram *g = meta;
  g->sock = sock;
  g->to = *to;
  g->len = len;
  memcpy(b, p, len);
  d->st.tx_datagrams++;
  return true;
}

/* Encode m straight into the transmit queue (no intermediate copy: replies
 * are the hot path of a busy node). */
bool fl_dht_send_msg(fl_dht *d, uint32_t sock, const fl_addr *to, const fl_dht_msg *m) {
  size_t need = fl_dht_msg_size(m);
  if (need > FL_DGRAM_BYTES_MAX) {
    d->st.tx_queue_dropped++; /* a value too big for one datagram */
    return false;
  }
  void *meta;
  uint8_t *b = fl_dht_fifo_push(d->txq, need, &meta);
  if (!meta) {
    d->st.tx_queue_dropped++;
    return false;
  }
  int len = fl_dht_msg_encode(m, b, need);
  assert(len == (int)need);
  (void)len;
  fl_dgram *g = meta;
  g->sock = sock;
  g->to = *to;
  g->len = need;
  d->st.tx_datagrams++;
  return true;
}

/* Request.sendReply / _sendReply: id only when persistent and answering from
 * the server socket; closer nodes only when the request had a target. */
void fl_dht_reply(fl_dht *d, uint32_t sock, const fl_addr *to, uint16_t tid, uint64_t error,
                  const uint8_t *value, size_t value_len, bool value_flag, bool token,
                  const uint8_t *target) {
  fl_dht_msg m;
  uint8_t closer[FL_DHT_K * FL_DHT_ADDR_BYTES];
  memset(&m, 0, sizeof m);
  m.type = FL_DHT_TYPE_RESPONSE;
  m.tid = tid;
  m.to = *to;
  m.has_id = !d->ephemeral && sock == SOCK_SERVER;
  if (m.has_id) memcpy(m.id, d->table_id, 32);
  m.has_token = token;
  if (token) fl_dht_token(d, to, 1, m.token);
  if (target) {
    uint32_t idx[FL_DHT_K];
    size_t n = fl_dht_table_closest(d, target, idx, FL_DHT_K);
    for (size_t i = 0; i < n; i++)
      fl_dht_addr_write(closer + i * FL_DHT_ADDR_BYTES, &d->peers[idx[i]].addr);
    m.closer = closer;
    m.closer_count = n;
  }
  m.error = error;
  m.has_value = value_flag;
  m.value = value;
  m.value_len = value_len;
  if (fl_dht_send_msg(d, sock, to, &m)) d->st.tx_replies++;
}

/* ---- lifecycle --------------------------------------------------------------- */

int fl_dht_init(fl_dht *d, const fl_node_config *cfg, fl_dht_fifo *txq, fl_dht_fifo *evq,
                uint64_t now_us) {
  memset(d, 0, sizeof *d);
  d->cfg = *cfg;
  d->mem = cfg->mem;
  d->txq = txq;
  d->evq = evq;
  fl_drbg_init(&d->drbg, cfg->seed);
  fl_drbg_bytes(&d->drbg, d->table_id, 32);
  d->peers_max = cfg->table_max;
  d->reqs_max = cfg->inflight_max;
  d->queries_max = cfg->queries_max;
  d->delayed_max = cfg->delayed_max;
  d->user_max = cfg->user_requests_max;
  d->peers = fl_mem_calloc(d->mem, d->peers_max, sizeof *d->peers);
  d->reqs = fl_mem_calloc(d->mem, d->reqs_max, sizeof *d->reqs);
  d->active = fl_mem_calloc(d->mem, d->reqs_max, sizeof *d->active);
  d->free_reqs = fl_mem_calloc(d->mem, d->reqs_max, sizeof *d->free_reqs);
  d->pending = fl_mem_calloc(d->mem, d->reqs_max, sizeof *d->pending);
  d->queries = fl_mem_calloc(d->mem, d->queries_max, sizeof *d->queries);
  d->delayed = fl_mem_calloc(d->mem, d->delayed_max, sizeof *d->delayed);
  d->user = fl_mem_calloc(d->mem, d->user_max, sizeof *d->user);
  if (!d->peers || !d->reqs || !d->active || !d->free_reqs || !d->pending || !d->queries ||
      !d->delayed || !d->user) {
    fl_dht_deinit(d);
    return FL_ERR_NOMEM;
  }
  for (uint32_t i = 0; i < d->peers_max; i++) d->peers[i].next = i + 1 < d->peers_max ? i + 1 : FL_DHT_NO_IDX;
  d->free_head = 0;
  d->lru_old = d->lru_new = FL_DHT_NO_IDX;
  for (uint32_t i = 0; i < d->reqs_max; i++) d->free_reqs[i] = d->reqs_max - 1 - i;
  d->free_len = d->reqs_max;
  d->tid_next = (uint16_t)fl_drbg_uniform(&d->drbg, 65536);
  fl_dht_nat_init(&d->nat);
  d->ephemeral = true;
  d->firewalled = cfg->firewalled;
  d->adaptive = cfg->mode == FL_NODE_MODE_ADAPTIVE;
  d->force_persistent = cfg->mode == FL_NODE_MODE_PERSISTENT;
  d->quick_firewall = cfg->quick_firewall;
  /* randomOffset(n) = n - floor(rand * n/2) */
  d->tick = 100 - (uint32_t)fl_drbg_uniform(&d->drbg, 50);
  d->refresh_ticks = (int32_t)(FL_DHT_REFRESH_TICKS - fl_drbg_uniform(&d->drbg, 30));
  d->stable_ticks = d->adaptive ? (int32_t)FL_DHT_STABLE_TICKS : 0;
  d->last_now_us = now_us;
  d->next_tick_us = d->next_drain_us = FL_TIME_NONE;
  d->h.online = true;
  d->h.head = 3;
  if (cfg->public_addr.family == FL_ADDR_IPV4)
    fl_dht_nat_add(&d->nat, cfg->public_addr.ip, cfg->public_addr.port);
  return 0;
}

void fl_dht_deinit(fl_dht *d) {
  if (d->queries) fl_dht_query_free_all(d);
  if (d->reqs) {
    for (uint32_t i = 0; i < d->reqs_max; i++) {
      fl_dht_req *r = &d->reqs[i];
      if (r->used && r->buf && r->buf != r->inline_buf) fl_mem_free(d->mem, r->buf, r->len);
    }
  }
  fl_mem_free(d->mem, d->peers, d->peers_max * sizeof *d->peers);
  fl_mem_free(d->mem, d->reqs, d->reqs_max * sizeof *d->reqs);
  fl_mem_free(d->mem, d->active, d->reqs_max * sizeof *d->active);
  fl_mem_free(d->mem, d->free_reqs, d->reqs_max * sizeof *d->free_reqs);
  fl_mem_free(d->mem, d->pending, d->reqs_max * sizeof *d->pending);
  fl_mem_free(d->mem, d->queries, d->queries_max * sizeof *d->queries);
  fl_mem_free(d->mem, d->delayed, d->delayed_max * sizeof *d->delayed);
  fl_mem_free(d->mem, d->user, d->user_max * sizeof *d->user);
  fl_crypto_memzero(d->secrets, sizeof d->secrets);
  fl_drbg_wipe(&d->drbg);
  memset(d, 0, sizeof *d);
}

/* ---- NAT samples ------------------------------------------------------------- */

void fl_dht_nat_sample(fl_dht *d, const fl_addr *to) {
  bool had = d->nat.has_host;
  uint8_t host[4];
  memcpy(host, d->nat.host, 4);
  uint16_t port = d->nat.port;
  fl_dht_nat_add(&d->nat, to->ip, to->port);
  if (had == d->nat.has_host && memcmp(host, d->nat.host, 4) == 0 && port == d->nat.port) return;
  fl_event *ev = fl_dht_event(d, FL_EVENT_DHT_NAT_UPDATE, 0, NULL);
  if (!ev) return;
  if (d->nat.has_host) {
    ev->addr = fl_addr_ipv4(d->nat.host[0], d->nat.host[1], d->nat.host[2], d->nat.host[3],
                            d->nat.port);
  }
}

/* _sampleBootstrapMaybe: id-less responders give samples, from a few
 * distinct addresses only. */
static void sample_bootstrap_maybe(fl_dht *d, const fl_addr *from, const fl_addr *to) {
  uint32_t max = d->cfg.bootstrap_len > 1 ? d->cfg.bootstrap_len : 1;
  if (d->bootstrap_samples_len >= max) return;
  for (uint32_t i = 0; i < d->bootstrap_samples_len; i++)
    if (fl_addr_equal(&d->bootstrap_samples[i], from)) return;
  d->bootstrap_samples[d->bootstrap_samples_len++] = *from;
  fl_dht_nat_sample(d, to);
}

/* ---- table learning --------------------------------------------------------- */

static void table_event(fl_dht *d, uint32_t type, const fl_dht_peer *p) {
  if (!d->cfg.table_events) return;
  fl_event *ev = fl_dht_event(d, type, 0, NULL);
  if (!ev) return;
  ev->addr = p->addr;
  memcpy(ev->key, p->id, 32);
}

void fl_dht_remove_peer(fl_dht *d, uint32_t idx) {
  table_event(d, FL_EVENT_DHT_REMOVE_NODE, &d->peers[idx]);
  fl_dht_table_remove(d, idx);
  d->st.table_size = d->table_size;
}

static void reping_and_swap(fl_dht *d, uint64_t now_us, const fl_addr *addr,
                            const uint8_t *id, const fl_addr *to, uint32_t old);

/* _onfullrow: maybe re-ping the row's least recently pinged node. */
static void on_full_row(fl_dht *d, uint64_t now_us, const fl_addr *addr, const uint8_t *id,
                        const fl_addr *to) {
  if (!d->bootstrapped || d->repinging >= 3) return;
  const fl_dht_row *r = &d->rows[fl_dht_row_of(d->table_id, id)];
  uint32_t oldest = FL_DHT_NO_IDX;
  for (uint32_t j = 0; j < r->count; j++) {
    const fl_dht_peer *p = &d->peers[r->idx[j]];
    if (p->pinged == d->tick) continue;
    if (oldest == FL_DHT_NO_IDX || d->peers[oldest].pinged > p->pinged ||
        (d->peers[oldest].pinged == p->pinged && d->peers[oldest].added > p->added))
      oldest = r->idx[j];
  }
  if (oldest == FL_DHT_NO_IDX) return;
  const fl_dht_peer *o = &d->peers[oldest];
  if (d->tick - o->pinged < FL_DHT_RECENT_NODE && d->tick - o->added > FL_DHT_OLD_NODE) return;
  reping_and_swap(d, now_us, addr, id, to, oldest);
}

/* _addNode: 1 added, 0 not. */
int fl_dht_add_peer(fl_dht *d, uint64_t now_us, const fl_addr *addr, const uint8_t *id,
                    const fl_addr *to) {
  if (memcmp(id, d->table_id, 32) == 0) return 0;
  if (fl_dht_table_get(d, id) != FL_DHT_NO_IDX) return 0;
  const fl_dht_row *r = &d->rows[fl_dht_row_of(d->table_id, id)];
  if (r->count >= FL_DHT_K) {
    on_full_row(d, now_us, addr, id, to);
    return 0;
  }
  uint32_t idx = fl_dht_peer_alloc(d);
  if (idx == FL_DHT_NO_IDX) {
    d->st.table_dropped++;
    return 0;
  }
  fl_dht_peer *p = &d->peers[idx];
  memcpy(p->id, id, 32);
  p->addr = *addr;
  p->added = p->pinged = p->seen = d->tick;
  int rc = fl_dht_table_insert(d, idx);
  assert(rc == 1);
  (void)rc;
  d->st.table_size = d->table_size;
  if (to) {
    p->to = *to;
    p->has_to = true;
    p->sampled = d->tick;
    fl_dht_nat_sample(d, to);
  }
  table_event(d, FL_EVENT_DHT_ADD_NODE, p);
  return 1;
}

/* _addNodeFromNetwork */
static void add_from_network(fl_dht *d, uint64_t now_us, bool sample, const fl_addr *from,
                             const uint8_t *from_id, const fl_addr *to) {
  if (!from_id) {
    sample_bootstrap_maybe(d, from, to);
    return;
  }
  uint32_t idx = fl_dht_table_get(d, from_id);
  if (idx == FL_DHT_NO_IDX) {
    fl_dht_add_peer(d, now_us, from, from_id, to);
    return;
  }
  fl_dht_peer *p = &d->peers[idx];
  if (sample && (p->sampled == 0 || d->tick - p->sampled >= FL_DHT_OLD_NODE)) {
    p->to = *to;
    p->has_to = true;
    p->sampled = d->tick;
    fl_dht_nat_sample(d, to);
  }
  p->pinged = p->seen = d->tick;
  fl_dht_lru_touch(d, idx);
}

static void reping_and_swap(fl_dht *d, uint64_t now_us, const fl_addr *addr,
                            const uint8_t *id, const fl_addr *to, uint32_t old) {
  fl_dht_peer *o = &d->peers[old];
  o->pinged = d->tick;
  uint32_t idx = fl_dht_request(d, now_us, FL_DHT_RK_REPING, &o->addr, NULL, NULL, true,
                                FL_DHT_CMD_PING, NULL, NULL, 0, false, false);
  if (idx == FL_DHT_NO_IDX) return;
  d->repinging++;
  fl_dht_req *r = &d->reqs[idx];
  r->aux = old;
  r->aux2 = o->seen;
  memcpy(r->to_id, o->id, 32); /* to recognise the old node later */
  r->aux_addr = *addr;
  memcpy(r->aux_id, id, 32);
  (void)to; /* the reference re-adds the newcomer without its sample */
  fl_dht_req_start(d, now_us, idx, false);
}

/* The peer a check or re-ping was about, if it is still in the table. */
static uint32_t peer_again(const fl_dht *d, const fl_dht_req *r) {
  uint32_t i = r->aux;
  if (i >= d->peers_max || !d->peers[i].used) return FL_DHT_NO_IDX;
  return memcmp(d->peers[i].id, r->to_id, 32) == 0 ? i : FL_DHT_NO_IDX;
}

/* onswap of _repingAndSwap */
static void reping_done(fl_dht *d, uint64_t now_us, const fl_dht_req *r, bool kept) {
  d->repinging--;
  if (kept) return;
  uint32_t old = peer_again(d, r);
  if (old != FL_DHT_NO_IDX) fl_dht_remove_peer(d, old);
  fl_dht_add_peer(d, now_us, &r->aux_addr, r->aux_id, NULL);
}

/* _check: liveness check of a table node. */
void fl_dht_liveness_check(fl_dht *d, uint64_t now_us, uint32_t idx) {
  fl_dht_peer *p = &d->peers[idx];
  p->pinged = d->tick;
  uint32_t r = fl_dht_request(d, now_us, FL_DHT_RK_CHECK, &p->addr, NULL, NULL, true,
                              FL_DHT_CMD_PING, NULL, NULL, 0, false, false);
  if (r == FL_DHT_NO_IDX) return;
  d->checks++;
  d->reqs[r].aux = idx;
  d->reqs[r].aux2 = p->seen;
  memcpy(d->reqs[r].to_id, p->id, 32); /* has_to_id stays false: by address */
  fl_dht_req_start(d, now_us, r, false);
}

/* ---- responses and failures of our own requests ------------------------------ */

static uint32_t expected_sock(const fl_dht *d) {
  return d->firewalled ? SOCK_CLIENT : SOCK_SERVER;
}

static void api_response_event(fl_dht *d, uint64_t now_us, const fl_dht_req *r,
                               const fl_addr *from, const uint8_t *from_id,
                               const fl_dht_msg *m) {
  uint8_t *data = NULL;
  fl_event *ev = fl_dht_event(d, FL_EVENT_DHT_RESPONSE, m->value_len, &data);
  if (!ev) return;
  ev->id = r->api_id;
  ev->addr = *from;
  ev->addr2 = m->to;
  ev->code = (int32_t)(m->error > INT32_MAX ? INT32_MAX : m->error);
  ev->arg = now_us - r->sent_us;
  if (from_id) ev->flags |= FL_EVENT_F_ID, memcpy(ev->key, from_id, 32);
  if (m->has_token) ev->flags |= FL_EVENT_F_TOKEN, memcpy(ev->token, m->token, 32);
  if (m->has_value) ev->flags |= FL_EVENT_F_VALUE;
  if (m->value_len) memcpy(data, m->value, m->value_len);
}

void fl_dht_on_response(fl_dht *d, uint64_t now_us, fl_dht_req *r, uint32_t sock,
                        const fl_addr *from, const uint8_t *from_id, const fl_dht_msg *m) {
  add_from_network(d, now_us, sock == expected_sock(d), from, from_id, &m->to);
  switch (r->kind) {
    case FL_DHT_RK_API:
      api_response_event(d, now_us, r, from, from_id, m);
      break;
    case FL_DHT_RK_QUERY:
    case FL_DHT_RK_COMMIT:
      fl_dht_query_on_response(d, now_us, r, from, from_id, m);
      break;
    case FL_DHT_RK_CHECK: {
      d->checks--;
      uint32_t i = peer_again(d, r);
      /* _removeStaleNode: a reply that did not refresh it (no valid id). */
      if (i != FL_DHT_NO_IDX && d->peers[i].seen <= r->aux2) fl_dht_remove_peer(d, i);
      break;
    }
    case FL_DHT_RK_REPING: {
      uint32_t i = peer_again(d, r);
      reping_done(d, now_us, r, i != FL_DHT_NO_IDX && d->peers[i].seen > r->aux2);
      break;
    }
    case FL_DHT_RK_BOOT_NAT:
      fl_dht_boot_nat_ok(d, now_us, r);
      break;
    case FL_DHT_RK_PROBE:
      fl_dht_probe_done(d, now_us, r, from, &m->to, true);
      break;
    default:
      break;
  }
}

void fl_dht_on_error(fl_dht *d, uint64_t now_us, fl_dht_req *r, int err) {
  switch (r->kind) {
    case FL_DHT_RK_API: {
      fl_event *ev = fl_dht_event(d, FL_EVENT_DHT_REQUEST_FAILED, 0, NULL);
      if (ev) ev->id = r->api_id, ev->code = err, ev->addr = r->to;
      break;
    }
    case FL_DHT_RK_QUERY:
    case FL_DHT_RK_COMMIT:
      fl_dht_query_on_error(d, now_us, r, err == FL_ERR_TIMEOUT);
      break;
    case FL_DHT_RK_CHECK: {
      d->checks--;
      uint32_t i = peer_again(d, r);
      if (i != FL_DHT_NO_IDX) fl_dht_remove_peer(d, i);
      break;
    }
    case FL_DHT_RK_REPING:
      reping_done(d, now_us, r, false);
      break;
    case FL_DHT_RK_PROBE:
      fl_dht_probe_done(d, now_us, r, NULL, NULL, false);
      break;
    default:
      break;
  }
  /* IO ontimeout: a request addressed with an id removes that node. */
  if (err == FL_ERR_TIMEOUT && r->has_to_id) {
    uint32_t i = fl_dht_table_get(d, r->to_id);
    if (i != FL_DHT_NO_IDX) fl_dht_remove_peer(d, i);
  }
}

/* ---- incoming requests ------------------------------------------------------- */

static uint32_t le32(const uint8_t *b) {
  return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}

static void on_delayed_ping(fl_dht *d, uint64_t now_us, uint32_t sock, const fl_addr *from,
                            const fl_dht_msg *m) {
  if (m->value_len < 4) {
    d->st.drop_malformed_value++;
    return;
  }
  uint32_t delay_ms = le32(m->value);
  if (delay_ms > d->cfg.max_ping_delay_ms) {
    d->st.drop_delay_too_long++;
    return;
  }
  if (d->delayed_len >= d->delayed_max) {
    d->st.delayed_dropped++;
    return;
  }
  fl_dht_delayed *x = &d->delayed[d->delayed_len++];
  x->due_us = now_us + (uint64_t)delay_ms * 1000u;
  x->tid = m->tid;
  x->sock = (uint8_t)sock;
  x->from = *from;
  d->st.delayed_active = d->delayed_len;
  if (d->delayed_len > d->st.delayed_hw) d->st.delayed_hw = d->delayed_len;
}

void fl_dht_delayed_run(fl_dht *d, uint64_t now_us) {
  uint32_t w = 0;
  for (uint32_t i = 0; i < d->delayed_len; i++) {
    fl_dht_delayed x = d->delayed[i];
    if (x.due_us <= now_us) {
      fl_dht_reply(d, x.sock, &x.from, x.tid, 0, NULL, 0, false, false, NULL);
    } else {
      d->delayed[w++] = x;
    }
  }
  d->delayed_len = w;
  d->st.delayed_active = w;
}

static void on_down_hint(fl_dht *d, uint64_t now_us, uint32_t sock, const fl_addr *from,
                         const fl_dht_msg *m) {
  if (m->value_len < 6) {
    d->st.drop_malformed_value++;
    return;
  }
  d->st.down_hints_rx++;
  if (d->checks < 10) {
    uint8_t id[32];
    int rc = fl_crypto_hash(id, 32, m->value, 6);
    assert(rc == 0);
    (void)rc;
    uint32_t i = fl_dht_table_get(d, id);
    if (i != FL_DHT_NO_IDX && (d->peers[i].pinged < d->tick || d->peers[i].down_hints == 0)) {
      d->peers[i].down_hints++;
      fl_dht_liveness_check(d, now_us, i);
    }
  }
  fl_dht_reply(d, sock, from, m->tid, 0, NULL, 0, false, false, NULL);
}

static void on_internal(fl_dht *d, uint64_t now_us, uint32_t sock, const fl_addr *from,
                        const fl_dht_msg *m) {
  switch (m->command) {
    case FL_DHT_CMD_PING:
      fl_dht_reply(d, sock, from, m->tid, 0, NULL, 0, false, false, NULL);
      return;
    case FL_DHT_CMD_DELAYED_PING:
      on_delayed_ping(d, now_us, sock, from, m);
      return;
    case FL_DHT_CMD_PING_NAT: {
      if (m->value_len < 2) {
        d->st.drop_malformed_value++;
        return;
      }
      fl_addr to = *from;
      to.port = (uint16_t)(m->value[0] | (m->value[1] << 8));
      if (to.port == 0) {
        d->st.drop_malformed_value++;
        return;
      }
      fl_dht_reply(d, sock, &to, m->tid, 0, NULL, 0, false, false, NULL);
      return;
    }
    case FL_DHT_CMD_FIND_NODE:
      if (!m->has_target) {
        d->st.drop_no_target++;
        return;
      }
      fl_dht_reply(d, sock, from, m->tid, 0, NULL, 0, false, false, m->target);
      return;
    case FL_DHT_CMD_DOWN_HINT:
      on_down_hint(d, now_us, sock, from, m);
      return;
    default:
      d->st.unknown_command++;
      fl_dht_reply(d, sock, from, m->tid, FL_DHT_ERROR_UNKNOWN_COMMAND, NULL, 0, false, false,
                   m->has_target ? m->target : NULL);
      return;
  }
}

static fl_dht_user_req *user_slot(fl_dht *d) {
  fl_dht_user_req *best = NULL;
  for (uint32_t i = 0; i < d->user_max; i++) {
    fl_dht_user_req *u = &d->user[i];
    if (u->handle == 0) return u;
    if (!best || u->handle < best->handle) best = u;
  }
  /* Full: evict the oldest; an application that never answers must not
   * hold the table forever. */
  d->st.user_dropped++;
  d->st.user_active--;
  return best;
}

static void on_user(fl_dht *d, uint64_t now_us, uint32_t sock, const fl_addr *from,
                    const uint8_t *from_id, const fl_dht_msg *m) {
  if (!d->cfg.user_requests) {
    d->st.unknown_command++;
    fl_dht_reply(d, sock, from, m->tid, FL_DHT_ERROR_UNKNOWN_COMMAND, NULL, 0, false, false,
                 m->has_target ? m->target : NULL);
    return;
  }
  uint8_t *data = NULL;
  fl_event *ev = fl_dht_event(d, FL_EVENT_DHT_USER_REQUEST, m->value_len, &data);
  if (!ev) return;
  fl_dht_user_req *u = user_slot(d);
  u->handle = ++d->user_next;
  u->created_us = now_us;
  u->tid = m->tid;
  u->sock = (uint8_t)sock;
  u->internal = m->internal;
  u->has_target = m->has_target;
  u->command = m->command;
  u->from = *from;
  memcpy(u->target, m->target, 32);
  d->st.user_active++;
  if (d->st.user_active > d->st.user_hw) d->st.user_hw = d->st.user_active;
  ev->id = u->handle;
  ev->sock = sock;
  ev->addr = *from;
  ev->addr2 = m->to;
  ev->code = (int32_t)(m->command > INT32_MAX ? INT32_MAX : m->command);
  ev->arg = m->command;
  if (m->has_target) ev->flags |= FL_EVENT_F_TARGET, memcpy(ev->key, m->target, 32);
  if (m->has_token) ev->flags |= FL_EVENT_F_TOKEN, memcpy(ev->token, m->token, 32);
  if (m->has_value) ev->flags |= FL_EVENT_F_VALUE;
  if (from_id) ev->flags |= FL_EVENT_F_ID;
  if (m->value_len) memcpy(data, m->value, m->value_len);
}

fl_dht_user_req *fl_dht_user_take(fl_dht *d, uint64_t handle) {
  if (handle == 0) return NULL;
  for (uint32_t i = 0; i < d->user_max; i++) {
    if (d->user[i].handle != handle) continue;
    d->user[i].handle = 0;
    d->st.user_active--;
    return &d->user[i];
  }
  return NULL;
}

static void on_request(fl_dht *d, uint64_t now_us, uint32_t sock, const fl_addr *from,
                       const fl_dht_msg *m) {
  uint8_t id[32];
  const uint8_t *from_id = NULL;
  d->st.rx_requests++;
  if (m->has_id) {
    fl_dht_node_id(id, from);
    if (memcmp(id, m->id, 32) == 0) from_id = id;
    else d->st.drop_invalid_id++;
  }
  if (m->has_token) {
    uint8_t t[32];
    fl_dht_token(d, from, 1, t);
    bool ok = fl_crypto_memcmp(t, m->token, 32) == 0;
    if (!ok) {
      fl_dht_token(d, from, 0, t);
      ok = fl_crypto_memcmp(t, m->token, 32) == 0;
    }
    if (!ok) {
      /* Request.error(INVALID_TOKEN, {token: true}): closer nodes by default. */
      d->st.drop_bad_token++;
      fl_dht_reply(d, sock, from, m->tid, FL_DHT_ERROR_INVALID_TOKEN, NULL, 0, false, true,
                   m->has_target ? m->target : NULL);
      return;
    }
  }
  if (from_id) add_from_network(d, now_us, sock == expected_sock(d), from, from_id, &m->to);
  if (m->internal && m->command < 5) d->st.cmd_in[m->command]++;
  if (m->internal) on_internal(d, now_us, sock, from, m);
  else on_user(d, now_us, sock, from, from_id, m);
}

void fl_dht_handle_message(fl_dht *d, uint64_t now_us, uint32_t sock, const fl_addr *from,
                           const uint8_t *p, size_t len) {
  fl_dht_msg m;
  d->st.rx_datagrams++;
  if (d->destroyed) {
    d->st.drop_closed++; /* still in flight when we closed */
    return;
  }
  if (len < 2) {
    d->st.drop_short++;
    return;
  }
  if (from->port == 0 || from->family != FL_ADDR_IPV4) {
    d->st.drop_port0++;
    return;
  }
  if (fl_dht_msg_decode(&m, p, len) < 0) {
    d->st.drop_decode++;
    return;
  }
  if (d->nc_running && sock == SOCK_SERVER) fl_dht_probe_saw(d, from);
  if (m.type == FL_DHT_TYPE_REQUEST) {
    on_request(d, now_us, sock, from, &m);
  } else {
    d->st.rx_responses++;
    fl_dht_io_response(d, now_us, sock, from, &m);
  }
}
