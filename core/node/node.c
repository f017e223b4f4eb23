/*
 * fl_node: one node's sockets, the demultiplexer between dht-rpc and UDX
 * datagrams, the output queues and the five sans-IO calls (flock/node.h).
 * The DHT logic itself is core/dht (fl_dht).
 */
#include "flock/node.h"

#include <assert.h>
#include <stddef.h>
#include <string.h>

#include "dht/dht.h"
#include "node/node_internal.h"

/* UDX packets: magic byte 0xff, version 1, a 20-byte header (spec/udx.md §1,
 * §10). Everything else that is not 0x03/0x13 is garbage to this node. */
#define UDX_MAGIC FL_UDX_MAGIC
#define UDX_VERSION FL_UDX_VERSION
#define UDX_HEADER_BYTES FL_UDX_HEADER_BYTES

_Static_assert(offsetof(fl_node_stats, wakeups) == offsetof(fl_dht_stats_i, wakeups),
               "fl_node_stats starts with fl_dht_stats_i's fields");
_Static_assert(sizeof(fl_dht_stats_i) == offsetof(fl_node_stats, tx_queue_len) &&
                   offsetof(fl_node_stats, cmd_in) == offsetof(fl_dht_stats_i, cmd_in),
               "and nothing in between");
_Static_assert(FL_NODE_TX_BYTES_MAX >= 8 * FL_DGRAM_BYTES_MAX, "room for a burst of replies");
_Static_assert(FL_UDX_DGRAM_BYTES_MAX <= FL_DGRAM_BYTES_MAX,
               "a UDX datagram fits the node's transmit buffer");

/* ---- config ------------------------------------------------------------------ */

void fl_node_config_default(fl_node_config *c) {
  memset(c, 0, sizeof *c);
  c->host = fl_addr_ipv4(0, 0, 0, 0, 0);
  c->port_tries = 5;
  c->any_port = true;
  c->mode = FL_NODE_MODE_ADAPTIVE;
  c->firewalled = true;
  c->quick_firewall = true;
  c->send_down_hints = true;
  c->down_hints_per_tick = 50;
  c->concurrency = 10;
  c->max_window = 80;
  c->max_ping_delay_ms = 10000;
  c->query_retries = 5;
  c->table_max = FL_NODE_TABLE_MAX;
  c->inflight_max = FL_NODE_INFLIGHT_MAX;
  c->queries_max = FL_NODE_QUERIES_MAX;
  c->query_seen_max = FL_NODE_QUERY_SEEN_MAX;
  c->delayed_max = FL_NODE_DELAYED_MAX;
  c->user_requests_max = FL_NODE_USER_REQUESTS_MAX;
  c->tx_max = FL_NODE_TX_MAX;
  c->tx_bytes_max = FL_NODE_TX_BYTES_MAX;
  c->events_max = FL_NODE_EVENTS_MAX;
  c->event_bytes_max = FL_NODE_EVENT_BYTES_MAX;
  fl_udx_config_default(&c->udx);
}

size_t fl_node_config_size(void) { return sizeof(fl_node_config); }

int fl_node_config_bootstrapper(fl_node_config *c, const fl_addr *host, uint16_t port) {
  if (!c || !host || port == 0 || host->family != FL_ADDR_IPV4) return FL_ERR_INVALID;
  if (host->ip[0] == 0 && host->ip[1] == 0 && host->ip[2] == 0 && host->ip[3] == 0)
    return FL_ERR_INVALID;
  c->port = port;
  c->port_tries = 1;
  c->any_port = false;
  c->mode = FL_NODE_MODE_PERSISTENT;
  c->firewalled = false;
  c->bootstrap_len = 0;
  c->public_addr = *host;
  c->public_addr.port = port;
  return 0;
}

static int config_check(const fl_node_config *c) {
  if (c->mode < FL_NODE_MODE_ADAPTIVE || c->mode > FL_NODE_MODE_EPHEMERAL) return FL_ERR_INVALID;
  if (c->host.family != FL_ADDR_IPV4 || c->bootstrap_len > FL_NODE_BOOTSTRAP_MAX)
    return FL_ERR_INVALID;
  for (uint32_t i = 0; i < c->bootstrap_len; i++)
    if (c->bootstrap[i].family != FL_ADDR_IPV4 || c->bootstrap[i].port == 0) return FL_ERR_INVALID;
  if (c->table_max < FL_DHT_K || c->table_max > FL_NODE_TABLE_MAX) return FL_ERR_INVALID;
  if (c->inflight_max < 16 || c->inflight_max > FL_NODE_INFLIGHT_MAX) return FL_ERR_INVALID;
  if (c->queries_max < 1 || c->query_seen_max < FL_DHT_K || c->query_seen_max > 65535)
    return FL_ERR_INVALID;
  if (c->delayed_max < 1 || c->user_requests_max < 1) return FL_ERR_INVALID;
  if (c->tx_max < 1 || c->tx_bytes_max < FL_DGRAM_BYTES_MAX) return FL_ERR_INVALID;
  if (c->events_max < 8 || c->event_bytes_max < FL_DGRAM_BYTES_MAX) return FL_ERR_INVALID;
  if (c->concurrency < 1 || c->max_window < 1 || c->query_retries > 255) return FL_ERR_INVALID;
  if (c->public_addr.family != 0 && c->public_addr.family != FL_ADDR_IPV4) return FL_ERR_INVALID;
  return 0;
}

/* ---- lifetime ------------------------------------------------------------------ */

static uint16_t server_candidate(const fl_node *n) {
  const fl_node_config *c = &n->dht.cfg;
  if (c->port == 0 || n->server_try >= (c->port_tries ? c->port_tries : 1)) return 0;
  return (uint16_t)(c->port + n->server_try);
}

static void ask_open(fl_node *n, uint32_t sock, uint16_t port) {
  fl_event *ev = fl_dht_event(&n->dht, FL_EVENT_SOCKET_OPEN, 0, NULL);
  n->sock_state[sock] = SOCK_OPENING;
  if (!ev) return;
  ev->sock = sock;
  ev->addr = n->dht.cfg.host;
  ev->addr.port = port;
}

int fl_node_new(const fl_node_config *c, uint64_t now_us, fl_node **out) {
  if (out) *out = NULL;
  if (!c || !out || config_check(c) < 0) return FL_ERR_INVALID;
  fl_node *n = fl_mem_calloc(c->mem, 1, sizeof *n);
  if (!n) return FL_ERR_NOMEM;
  n->mem = c->mem;
  if (fl_dht_fifo_init(&n->txq, c->mem, sizeof(fl_dgram), c->tx_max, c->tx_bytes_max) < 0 ||
      fl_dht_fifo_init(&n->evq, c->mem, sizeof(fl_event), c->events_max, c->event_bytes_max) <
          0 ||
      fl_dht_init(&n->dht, c, &n->txq, &n->evq, now_us) < 0) {
    fl_node_free(n);
    return FL_ERR_NOMEM;
  }
  /* An all-zero udx config (a caller that memset the config) = defaults.
   * The fl_udx itself is made on first use (fl_node_udx): its tables cost
   * ~75 KiB, which a DHT-only node (a simulator runs 10^5 of them) should
   * not pay. A trial instance checks the config now, so a bad one fails
   * here rather than at the first stream. */
  static const fl_udx_config zero;
  if (memcmp(&c->udx, &zero, sizeof zero) == 0) fl_udx_config_default(&n->dht.cfg.udx);
  fl_udx *trial = fl_udx_new(&n->dht.cfg.udx, c->mem);
  if (!trial) {
    fl_udx_config d;
    fl_udx_config_default(&d);
    bool bad = memcmp(&d, &n->dht.cfg.udx, sizeof d) != 0; /* else: out of memory */
    fl_node_free(n);
    return bad ? FL_ERR_INVALID : FL_ERR_NOMEM;
  }
  fl_udx_free(trial);
  n->last_now_us = now_us;
  ask_open(n, FL_NODE_SOCK_SERVER, server_candidate(n));
  ask_open(n, FL_NODE_SOCK_CLIENT, 0);
  *out = n;
  return 0;
}

void fl_node_free(fl_node *n) {
  if (!n) return;
  const fl_mem *mem = n->mem;
  if (n->dht.peers || n->dht.reqs) fl_dht_deinit(&n->dht);
  if (n->txq.arena) fl_dht_fifo_deinit(&n->txq);
  if (n->evq.arena) fl_dht_fifo_deinit(&n->evq);
  fl_udx_free(n->udx);
  fl_mem_free(mem, n, sizeof *n);
}

/* now_us must never go backwards (STYLE.md): refuse, change nothing. */
int fl_node_advance(fl_node *n, uint64_t now_us) {
  if (now_us < n->last_now_us) {
    n->api_misuse++;
    return FL_ERR_INVALID;
  }
  n->last_now_us = now_us;
  return 0;
}

static void maybe_start(fl_node *n, uint64_t now_us) {
  if (n->sock_state[0] != SOCK_OPEN || n->sock_state[1] != SOCK_OPEN || n->dht.bound) return;
  if (n->dht.destroyed) return;
  fl_dht_start(&n->dht, now_us, n->sock_addr[0].port, n->sock_addr[1].port);
}

int fl_node_socket_opened(fl_node *n, uint64_t now_us, uint32_t sock, const fl_addr *bound) {
  if (!n || !bound || sock > 1 || bound->port == 0) return FL_ERR_INVALID;
  if (n->sock_state[sock] != SOCK_OPENING) return FL_ERR_STATE;
  if (fl_node_advance(n, now_us) < 0) return FL_ERR_INVALID;
  n->sock_state[sock] = SOCK_OPEN;
  n->sock_addr[sock] = *bound;
  maybe_start(n, now_us);
  return 0;
}

static void log_event(fl_node *n, int level, const char *text) {
  size_t len = strlen(text);
  uint8_t *data;
  fl_event *ev = fl_dht_event(&n->dht, FL_EVENT_LOG, len, &data);
  if (!ev) return;
  ev->code = level;
  memcpy(data, text, len);
}

int fl_node_socket_failed(fl_node *n, uint64_t now_us, uint32_t sock, int err) {
  (void)err;
  if (!n || sock > 1) return FL_ERR_INVALID;
  if (n->sock_state[sock] != SOCK_OPENING) return FL_ERR_STATE;
  if (fl_node_advance(n, now_us) < 0) return FL_ERR_INVALID;
  const fl_node_config *c = &n->dht.cfg;
  if (sock == FL_NODE_SOCK_SERVER) {
    /* _bindSockets: port .. port+4, then any port unless anyPort is off. */
    uint16_t was = server_candidate(n);
    n->server_try++;
    uint16_t next = server_candidate(n);
    if (was != 0 && (next != 0 || c->any_port)) {
      ask_open(n, sock, next);
      return 0;
    }
  }
  /* The client socket always asks for any port: nothing else to try. */
  n->sock_state[sock] = SOCK_FAILED;
  log_event(n, 3, sock == 0 ? "server socket: bind failed" : "client socket: bind failed");
  return 0;
}

/* ---- the five calls ---------------------------------------------------------------- */

int fl_node_classify(const uint8_t *data, size_t len) {
  if (!data || len < 2) return 0;
  if (data[0] == FL_DHT_REQUEST_BYTE || data[0] == FL_DHT_RESPONSE_BYTE) return FL_NODE_DGRAM_DHT;
  if (len >= UDX_HEADER_BYTES && data[0] == UDX_MAGIC && data[1] == UDX_VERSION)
    return FL_NODE_DGRAM_UDX;
  return 0;
}

/* The UDX branch of the demultiplexer (udx-native's socket does the same:
 * magic, version, then the stream table). rc 1 = a live stream took it;
 * 0 = no live stream has that id: dropped, as the reference drops it;
 * FL_ERR_DECODE = malformed for a live stream, dropped (fl_udx counted it
 * too) with the stream unchanged. */
static void udx_datagram(fl_node *n, uint64_t now_us, uint32_t sock, const fl_addr *from,
                         const uint8_t *data, size_t len) {
  n->dht.st.rx_datagrams++;
  if (n->dht.destroyed) {
    n->dht.st.drop_closed++;
    return;
  }
  if (!n->udx) { /* no stream was ever opened */
    n->dht.st.drop_udx++;
    return;
  }
  int rc = fl_udx_handle_datagram(n->udx, now_us, sock, from, data, len);
  if (rc == 1) n->rx_udx++;
  else if (rc == FL_ERR_DECODE) n->drop_udx_decode++;
  else if (rc == 0) n->dht.st.drop_udx++;
  else n->api_misuse++; /* fl_udx saw a later time through fl_node_udx: misuse */
}

int fl_node_handle_datagram(fl_node *n, uint64_t now_us, uint32_t sock, const fl_addr *from,
                            const uint8_t *data, size_t len) {
  if (!n || !from || (!data && len > 0) || sock > 1) return FL_ERR_INVALID;
  if (n->sock_state[sock] != SOCK_OPEN) {
    n->api_misuse++;
    return FL_ERR_INVALID;
  }
  if (fl_node_advance(n, now_us) < 0) return FL_ERR_INVALID;
  switch (fl_node_classify(data, len)) {
    case FL_NODE_DGRAM_DHT:
      fl_dht_handle_message(&n->dht, now_us, sock, from, data, len);
      break;
    case FL_NODE_DGRAM_UDX:
      udx_datagram(n, now_us, sock, from, data, len);
      break;
    default:
      n->dht.st.rx_datagrams++;
      if (len < 2) n->dht.st.drop_short++;
      else n->dht.st.drop_unknown_type++;
      break;
  }
  return 0;
}

static int dht_transmit(fl_node *n, fl_dgram *out, uint8_t *buf) {
  void *meta;
  const uint8_t *data;
  size_t len;
  if (!fl_dht_fifo_peek(&n->txq, &meta, &data, &len)) return 0;
  assert(len <= FL_DGRAM_BYTES_MAX);
  *out = *(const fl_dgram *)meta;
  memcpy(buf, data, len);
  out->len = len;
  fl_dht_fifo_pop(&n->txq);
  return 1;
}

static int udx_transmit(fl_node *n, fl_dgram *out, uint8_t *buf) {
  if (n->dht.destroyed || !n->udx) return 0; /* streams stop with the node */
  fl_udx_dgram d;
  int rc = fl_udx_poll_transmit(n->udx, &d, buf, FL_UDX_DGRAM_BYTES_MAX);
  if (rc != 1) return 0;
  out->sock = d.sock;
  out->to = d.to;
  out->len = d.len;
  n->tx_udx++;
  n->dht.st.tx_datagrams++;
  return 1;
}

/* Fairness between the two producers: when both have a datagram ready they
 * take turns, one each (udx_turn flips after every datagram given out).
 * A bulk stream can therefore put at most one datagram ahead of each DHT
 * reply, never a whole congestion window, so DHT replies keep their
 * latency under load; and UDX, whose output is already bounded by its
 * congestion window and pacing, still gets half the slots while the DHT
 * queue is busy. When one side has nothing the other takes the slot. */
int fl_node_poll_transmit(fl_node *n, fl_dgram *out, uint8_t *buf, size_t cap) {
  if (!n || !out || !buf) return FL_ERR_INVALID;
  if (cap < FL_DGRAM_BYTES_MAX) return FL_ERR_BUFFER;
  bool udx_first = n->udx_turn;
  int rc = udx_first ? udx_transmit(n, out, buf) : dht_transmit(n, out, buf);
  if (rc == 1) {
    n->udx_turn = !udx_first;
    return 1;
  }
  rc = udx_first ? dht_transmit(n, out, buf) : udx_transmit(n, out, buf);
  return rc;
}

uint64_t fl_node_next_deadline(const fl_node *n) {
  if (!n) return FL_TIME_NONE;
  uint64_t t = fl_dht_next_deadline(&n->dht);
  if (n->dht.destroyed || !n->udx) return t;
  uint64_t u = fl_udx_next_deadline(n->udx);
  return u < t ? u : t;
}

int fl_node_handle_timeout(fl_node *n, uint64_t now_us) {
  if (!n) return FL_ERR_INVALID;
  if (fl_node_advance(n, now_us) < 0) return FL_ERR_INVALID;
  fl_dht_handle_timeout(&n->dht, now_us);
  /* fl_udx runs only the timers that are due; an early call changes nothing.
   * It refuses only a time behind one a caller already gave it directly
   * (fl_node_udx): then its timers simply wait for the next call. */
  if (!n->dht.destroyed && n->udx) {
    int rc = fl_udx_handle_timeout(n->udx, now_us);
    (void)rc;
  }
  return 0;
}

/* fl_udx_event onto fl_event, field by field (the types are the same
 * numbers, node.h's UDX range). The data stays lent by fl_udx: valid until
 * the next call into the node or its fl_udx. */
static int udx_event(fl_node *n, fl_event *out) {
  if (n->dht.destroyed || !n->udx) return 0;
  fl_udx_event e;
  if (fl_udx_poll_event(n->udx, &e) != 1) return 0;
  memset(out, 0, sizeof *out);
  out->type = e.type;
  out->sock = e.sock;
  out->code = e.code;
  out->id = e.id;
  out->addr = e.addr;
  out->data = e.len ? e.data : NULL;
  out->len = e.len;
  return 1;
}

int fl_node_poll_event(fl_node *n, fl_event *out) {
  if (!n || !out) return FL_ERR_INVALID;
  void *meta;
  const uint8_t *data;
  size_t len;
  if (!fl_dht_fifo_peek(&n->evq, &meta, &data, &len)) return udx_event(n, out);
  *out = *(const fl_event *)meta;
  out->data = len ? data : NULL;
  out->len = len;
  fl_dht_fifo_pop(&n->evq);
  return 1;
}
