/*
 * fl_node's DHT calls, state and counters (flock/node.h). Each call checks
 * its arguments (misuse = FL_ERR_INVALID, counted), moves time forward and
 * hands over to core/dht.
 */
#include <string.h>

#include "node/node_internal.h"

int fl_node_id(const fl_node *n, uint8_t out[32]) {
  if (!n || !out) return FL_ERR_INVALID;
  memcpy(out, n->dht.table_id, 32);
  return n->dht.ephemeral ? 0 : 1;
}

uint32_t fl_node_state(const fl_node *n) {
  if (!n) return 0;
  return (n->dht.bound ? FL_NODE_S_BOUND : 0) | (n->dht.bootstrapped ? FL_NODE_S_BOOTSTRAPPED : 0) |
         (!n->dht.ephemeral ? FL_NODE_S_PERSISTENT : 0) |
         (n->dht.firewalled ? FL_NODE_S_FIREWALLED : 0);
}

int fl_node_local_addr(const fl_node *n, uint32_t sock, fl_addr *out) {
  if (!n || !out || sock > 1) return FL_ERR_INVALID;
  if (n->sock_state[sock] != SOCK_OPEN) return FL_ERR_STATE;
  *out = n->sock_addr[sock];
  return 0;
}

int fl_node_public_addr(const fl_node *n, fl_addr *out) {
  if (!n || !out) return FL_ERR_INVALID;
  memset(out, 0, sizeof *out);
  if (!n->dht.nat.has_host) return 0;
  const uint8_t *h = n->dht.nat.host;
  *out = fl_addr_ipv4(h[0], h[1], h[2], h[3], n->dht.nat.port);
  return 1;
}

size_t fl_node_table(const fl_node *n, fl_addr *addrs, uint8_t (*ids)[32], size_t cap) {
  if (!n) return 0;
  size_t k = 0;
  for (uint32_t r = 0; r < FL_DHT_ROWS; r++) {
    for (uint32_t j = 0; j < n->dht.rows[r].count && k < cap; j++, k++) {
      const fl_dht_peer *p = &n->dht.peers[n->dht.rows[r].idx[j]];
      if (addrs) addrs[k] = p->addr;
      if (ids) memcpy(ids[k], p->id, 32);
    }
  }
  return k;
}

int fl_node_check(const fl_node *n) {
  if (!n) return FL_ERR_INVALID;
  if (n->sock_state[0] > SOCK_FAILED || n->sock_state[1] > SOCK_FAILED) return 40;
  if (n->dht.bound && (n->sock_state[0] != SOCK_OPEN || n->sock_state[1] != SOCK_OPEN)) return 41;
  if (n->udx && fl_udx_check(n->udx) != 0) return 42;
  return fl_dht_check(&n->dht);
}

size_t fl_node_stats_size(void) { return sizeof(fl_node_stats); }

int fl_node_stats_get(const fl_node *n, fl_node_stats *out, size_t size) {
  if (!n || !out || size != sizeof *out) return FL_ERR_INVALID;
  memset(out, 0, sizeof *out);
  memcpy(out, &n->dht.st, sizeof n->dht.st);
  out->table_size = n->dht.table_size;
  out->requests_active = n->dht.active_len;
  out->tx_queue_len = n->txq.count;
  out->tx_queue_hw = n->txq.high_water;
  out->tx_queue_dropped += n->txq.dropped - n->dht.st.tx_queue_dropped;
  out->event_queue_len = n->evq.count;
  out->event_queue_hw = n->evq.high_water;
  out->api_misuse = n->api_misuse;
  out->rx_udx = n->rx_udx;
  out->tx_udx = n->tx_udx;
  out->drop_udx_decode = n->drop_udx_decode;
  if (n->udx) fl_udx_get_stats(n->udx, &out->udx);
  return 0;
}

static int enter(fl_node *n, uint64_t now_us) {
  if (!n) return FL_ERR_INVALID;
  if (fl_node_advance(n, now_us) < 0) return FL_ERR_INVALID;
  if (n->dht.destroyed) return FL_ERR_CLOSED;
  if (!n->dht.bound) return FL_ERR_STATE;
  return 0;
}

int fl_node_close(fl_node *n, uint64_t now_us) {
  if (!n) return FL_ERR_INVALID;
  if (fl_node_advance(n, now_us) < 0) return FL_ERR_INVALID;
  if (n->dht.destroyed) return FL_ERR_CLOSED;
  fl_dht_close(&n->dht, now_us);
  for (uint32_t sock = 0; sock < 2; sock++) {
    if (n->sock_state[sock] != SOCK_OPEN && n->sock_state[sock] != SOCK_OPENING) continue;
    fl_event *ev = fl_dht_event(&n->dht, FL_EVENT_SOCKET_CLOSE, 0, NULL);
    if (ev) ev->sock = sock;
  }
  return 0;
}

static int misuse(fl_node *n) {
  n->api_misuse++;
  return FL_ERR_INVALID;
}

int fl_node_find_node(fl_node *n, uint64_t now_us, const uint8_t target[32], uint64_t *qid) {
  int rc = enter(n, now_us);
  if (rc < 0) return rc;
  if (!target || !qid) return misuse(n);
  return fl_dht_query_start(&n->dht, now_us, target, true, FL_DHT_CMD_FIND_NODE, NULL, 0,
                            FL_DHT_QF_EVENTS, qid);
}

int fl_node_query(fl_node *n, uint64_t now_us, const uint8_t target[32], uint64_t command,
                  const uint8_t *value, size_t len, bool commit, uint64_t *qid) {
  int rc = enter(n, now_us);
  if (rc < 0) return rc;
  if (!target || !qid || (!value && len) || command > FL_DHT_UINT_MAX ||
      len > FL_DGRAM_BYTES_MAX - 128)
    return misuse(n);
  return fl_dht_query_start(&n->dht, now_us, target, false, command, value, len,
                            FL_DHT_QF_EVENTS | (commit ? FL_DHT_QF_COMMIT : 0), qid);
}

int fl_node_query_cancel(fl_node *n, uint64_t now_us, uint64_t qid) {
  int rc = enter(n, now_us);
  if (rc < 0) return rc;
  return fl_dht_query_cancel(&n->dht, now_us, qid);
}

static bool ipv4_to(const fl_addr *to) {
  return to && to->family == FL_ADDR_IPV4 && to->port != 0;
}

int fl_node_request(fl_node *n, uint64_t now_us, const fl_addr *to, bool internal,
                    uint64_t command, const uint8_t *target, const uint8_t *token,
                    const uint8_t *value, size_t len, int retries, uint64_t *rid) {
  int rc = enter(n, now_us);
  if (rc < 0) return rc;
  if (!ipv4_to(to) || !rid || (!value && len) || command > FL_DHT_UINT_MAX || retries > 255 ||
      len > FL_DGRAM_BYTES_MAX - 128)
    return misuse(n);
  uint32_t idx = fl_dht_request(&n->dht, now_us, FL_DHT_RK_API, to, NULL, token, internal,
                                command, target, value, len, value != NULL, false);
  if (idx == FL_DHT_NO_IDX) return FL_ERR_LIMIT;
  fl_dht_req *r = &n->dht.reqs[idx];
  r->api_id = ++n->api_next;
  if (retries >= 0) r->retries = (uint8_t)retries;
  if (internal && command == FL_DHT_CMD_DELAYED_PING && len >= 4) {
    /* delayedPing: the attempt timeout is the delay plus one second. */
    uint32_t ms = (uint32_t)value[0] | ((uint32_t)value[1] << 8) | ((uint32_t)value[2] << 16) |
                  ((uint32_t)value[3] << 24);
    r->timeout_us = ((uint64_t)ms + 1000u) * 1000u;
  }
  *rid = r->api_id;
  fl_dht_req_start(&n->dht, now_us, idx, false);
  return 0;
}

int fl_node_ping(fl_node *n, uint64_t now_us, const fl_addr *to, uint64_t *rid) {
  return fl_node_request(n, now_us, to, true, FL_DHT_CMD_PING, NULL, NULL, NULL, 0, -1, rid);
}

int fl_node_reply_to(fl_node *n, uint64_t now_us, uint64_t handle, const uint8_t *value,
                     size_t len, uint32_t flags, const fl_addr *to) {
  int rc = enter(n, now_us);
  if (rc < 0) return rc;
  if ((!value && len) || len > FL_DGRAM_BYTES_MAX - 200) return misuse(n);
  if (to && !ipv4_to(to)) return misuse(n);
  fl_dht_user_req *u = fl_dht_user_take(&n->dht, handle);
  if (!u) return FL_ERR_NOT_FOUND;
  bool closer = u->has_target && !(flags & FL_NODE_REPLY_NO_CLOSER);
  fl_dht_reply(&n->dht, u->sock, to ? to : &u->from, u->tid, 0, value, len, value != NULL,
               !(flags & FL_NODE_REPLY_NO_TOKEN), closer ? u->target : NULL);
  return 0;
}

int fl_node_reply(fl_node *n, uint64_t now_us, uint64_t handle, const uint8_t *value,
                  size_t len, uint32_t flags) {
  return fl_node_reply_to(n, now_us, handle, value, len, flags, NULL);
}

int fl_node_reply_error(fl_node *n, uint64_t now_us, uint64_t handle, uint64_t code,
                        uint32_t flags) {
  int rc = enter(n, now_us);
  if (rc < 0) return rc;
  if (code == 0 || code > FL_DHT_UINT_MAX) return misuse(n);
  fl_dht_user_req *u = fl_dht_user_take(&n->dht, handle);
  if (!u) return FL_ERR_NOT_FOUND;
  bool closer = u->has_target && !(flags & FL_NODE_REPLY_NO_CLOSER);
  fl_dht_reply(&n->dht, u->sock, &u->from, u->tid, code, NULL, 0, false,
               (flags & FL_NODE_REPLY_TOKEN) != 0, closer ? u->target : NULL);
  return 0;
}

int fl_node_relay(fl_node *n, uint64_t now_us, uint64_t handle, const uint8_t *value, size_t len,
                  const fl_addr *to) {
  int rc = enter(n, now_us);
  if (rc < 0) return rc;
  if (!ipv4_to(to) || (!value && len) || len > FL_DGRAM_BYTES_MAX - 200) return misuse(n);
  fl_dht_user_req *u = fl_dht_user_take(&n->dht, handle);
  if (!u) return FL_ERR_NOT_FOUND;
  fl_dht_msg m;
  memset(&m, 0, sizeof m);
  m.type = FL_DHT_TYPE_REQUEST;
  m.tid = u->tid;
  m.to = *to;
  m.has_id = !n->dht.ephemeral && u->sock == FL_NODE_SOCK_SERVER;
  if (m.has_id) memcpy(m.id, n->dht.table_id, 32);
  m.internal = u->internal;
  m.command = u->command;
  m.has_target = u->has_target;
  memcpy(m.target, u->target, 32);
  m.has_value = value != NULL;
  m.value = value;
  m.value_len = len;
  fl_dht_send_msg(&n->dht, u->sock, to, &m);
  return 0;
}

int fl_node_add_node(fl_node *n, uint64_t now_us, const fl_addr *addr) {
  if (!n) return FL_ERR_INVALID;
  if (fl_node_advance(n, now_us) < 0) return FL_ERR_INVALID;
  if (n->dht.destroyed) return FL_ERR_CLOSED;
  if (!ipv4_to(addr)) return misuse(n);
  uint8_t id[32];
  fl_dht_node_id(id, addr);
  if (fl_dht_table_get(&n->dht, id) != FL_DHT_NO_IDX) return 0;
  return fl_dht_add_peer(&n->dht, now_us, addr, id, NULL) == 1 ? 0 : FL_ERR_LIMIT;
}

int fl_node_refresh(fl_node *n, uint64_t now_us) {
  int rc = enter(n, now_us);
  if (rc < 0) return rc;
  fl_dht_refresh(&n->dht, now_us);
  return 0;
}

/* ---- UDX streams on the node's sockets ------------------------------------------ */

/* Made on first use at the node's current time (its config was checked by
 * fl_node_new); NULL only if the allocation fails. */
fl_udx *fl_node_udx(fl_node *n) {
  if (!n) return NULL;
  if (!n->udx) {
    n->udx = fl_udx_new(&n->dht.cfg.udx, n->mem);
    if (n->udx && fl_udx_handle_timeout(n->udx, n->last_now_us) < 0) {
      fl_udx_free(n->udx); /* cannot happen: a fresh instance has seen no time */
      n->udx = NULL;
    }
  }
  return n->udx;
}

int fl_node_udx_stream_open(fl_node *n, uint64_t now_us, uint32_t *id) {
  if (!n) return FL_ERR_INVALID;
  if (id) *id = 0;
  if (!id) return misuse(n);
  if (fl_node_advance(n, now_us) < 0) return FL_ERR_INVALID;
  if (n->dht.destroyed) return FL_ERR_CLOSED;
  uint32_t got;
  if (!fl_node_udx(n)) return FL_ERR_NOMEM;
  /* Ids come from the node's DRBG, as hyperdht draws them from its own. */
  int rc = fl_udx_stream_id_alloc(n->udx, &n->dht.drbg, &got);
  if (rc < 0) return rc;
  rc = fl_udx_stream_open(n->udx, now_us, got);
  if (rc < 0) return rc;
  *id = got;
  return 0;
}

int fl_node_udx_stream_connect(fl_node *n, uint64_t now_us, uint32_t id, uint32_t remote_id,
                               uint32_t sock, const fl_addr *to) {
  if (!n) return FL_ERR_INVALID;
  if (sock > 1 || (to && !ipv4_to(to))) return misuse(n);
  if (fl_node_advance(n, now_us) < 0) return FL_ERR_INVALID;
  if (n->dht.destroyed) return FL_ERR_CLOSED;
  if (n->sock_state[sock] != SOCK_OPEN) return FL_ERR_STATE;
  if (!fl_node_udx(n)) return FL_ERR_NOMEM;
  return fl_udx_stream_connect(n->udx, now_us, id, remote_id, sock, to);
}
