/*
 * FL_SIM_KIND_DHT: an fl_node (flock/node.h), the very core io_posix runs,
 * driven through its five calls. Each node allocates through its own
 * counting allocator so the metrics can report its memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flock/hyperdht.h"
#include "sim_internal.h"

typedef struct dht_node {
  fl_mem_counter mem;
  fl_node *n;
} dht_node;

/* The node configuration both fl_node kinds share. */
static int dht_config(const fl_sim_node_init *in, const fl_mem *mem, fl_node_config *c) {
  fl_node_config_default(c);
  memcpy(c->seed, in->seed, sizeof c->seed);
  c->mem = mem;
  /* Smaller queues than a production node's defaults: a simulated node
   * sees one datagram at a time and is drained after each, so the default
   * 256 KiB transmit and event arenas would only cost memory at 10^5 nodes.
   * The limits stay counted: metrics and inspect show any drop. */
  c->tx_max = 256;
  c->tx_bytes_max = 16u * 1024u;
  c->events_max = 64;
  c->event_bytes_max = 8u * 1024u;
  c->inflight_max = 96; /* a lookup, a refresh and pings at once, with room */
  c->queries_max = 16;
  c->delayed_max = 32;
  c->user_requests_max = 16;
  c->table_max = 512; /* 2^20 nodes fill about 20 rows x 20 */
  if (in->bootstrapper && fl_node_config_bootstrapper(c, &in->self, FL_SIM_BOOT_PORT) != 0)
    return FL_ERR_INVALID;
  if (!in->bootstrapper && in->public_host) c->mode = in->mode;
  /* Bootstrappers after the first join the earlier ones, as a testnet does. */
  for (uint32_t i = 0; i < in->nboot && i < FL_NODE_BOOTSTRAP_MAX; i++)
    c->bootstrap[c->bootstrap_len++] = in->boot[i];
  return 0;
}

static void *dht_create(fl_sim *s, int host, const fl_sim_node_init *in, uint64_t now_us) {
  (void)s, (void)host;
  dht_node *d = calloc(1, sizeof *d);
  if (d == NULL) return NULL;
  fl_mem_counter_init(&d->mem, 0);
  fl_node_config c;
  if (dht_config(in, &d->mem.mem, &c) != 0 || fl_node_new(&c, now_us, &d->n) != 0) {
    free(d);
    return NULL;
  }
  return d;
}

static void dht_destroy(void *node) {
  dht_node *d = node;
  fl_node_free(d->n);
  free(d);
}

static int dht_handle_datagram(void *node, uint64_t now_us, uint32_t sock, const fl_addr *from,
                               const uint8_t *data, size_t len) {
  return fl_node_handle_datagram(((dht_node *)node)->n, now_us, sock, from, data, len);
}

static int dht_poll_transmit(void *node, fl_dgram *out, uint8_t *buf, size_t cap) {
  return fl_node_poll_transmit(((dht_node *)node)->n, out, buf, cap);
}

static uint64_t dht_next_deadline(const void *node) {
  return fl_node_next_deadline(((const dht_node *)node)->n);
}

static int dht_handle_timeout(void *node, uint64_t now_us) {
  return fl_node_handle_timeout(((dht_node *)node)->n, now_us);
}

static int dht_poll_event(void *node, fl_event *out) {
  return fl_node_poll_event(((dht_node *)node)->n, out);
}

static int dht_socket_opened(void *node, uint64_t now_us, uint32_t sock, const fl_addr *bound) {
  return fl_node_socket_opened(((dht_node *)node)->n, now_us, sock, bound);
}

static int dht_socket_failed(void *node, uint64_t now_us, uint32_t sock, int err) {
  return fl_node_socket_failed(((dht_node *)node)->n, now_us, sock, err);
}

static int dht_close(void *node, uint64_t now_us) {
  return fl_node_close(((dht_node *)node)->n, now_us);
}

static int dht_check(const void *node) { return fl_node_check(((const dht_node *)node)->n); }

static int dht_lookup(void *node, uint64_t now_us, const uint8_t target[32], uint64_t *qid) {
  return fl_node_find_node(((dht_node *)node)->n, now_us, target, qid);
}

static void dht_metrics(const void *node, uint64_t *fill, uint64_t *mem, uint64_t *drops) {
  const dht_node *d = node;
  fl_node_stats st;
  memset(&st, 0, sizeof st);
  SIM_IGNORE(fl_node_stats_get(d->n, &st, sizeof st));
  *fill = st.table_size;
  *mem = d->mem.bytes_in_use;
  /* The limits this driver lowered (see dht_create): any drop shows here. */
  *drops = st.tx_queue_dropped + st.event_queue_dropped + st.inflight_dropped +
           st.queries_dropped + st.table_dropped + st.delayed_dropped;
}

static int dht_query_done(const fl_event *ev, uint64_t *id, int *ok, uint32_t *hops) {
  if (ev->type != FL_EVENT_DHT_QUERY_DONE) return 0;
  *id = ev->id;
  /* Success: the walk ended normally and found at least one node. */
  *ok = ev->code == 0 && ev->arg > 0;
  *hops = ev->sock;
  return 1;
}

static const char *dht_event_name(const fl_event *ev) {
  switch (ev->type) {
    case FL_EVENT_DHT_READY: return "ready";
    case FL_EVENT_DHT_PERSISTENT: return "persistent";
    case FL_EVENT_DHT_EPHEMERAL: return "ephemeral";
    case FL_EVENT_DHT_WAKEUP: return "wakeup";
    default: return NULL;
  }
}

static int dht_dump(const void *node, char *out, size_t cap) {
  const dht_node *d = node;
  uint8_t id[32];
  char hex[65], a[48];
  int persistent = fl_node_id(d->n, id);
  sodium_bin2hex(hex, sizeof hex, id, sizeof id);
  uint32_t state = fl_node_state(d->n);
  fl_addr pub;
  memset(&pub, 0, sizeof pub);
  int known = fl_node_public_addr(d->n, &pub);
  if (known == 1) fl_addr_format(&pub, a, sizeof a);
  else snprintf(a, sizeof a, "unknown");
  fl_node_stats st;
  memset(&st, 0, sizeof st);
  SIM_IGNORE(fl_node_stats_get(d->n, &st, sizeof st));
  size_t n = 0;
#define OUT(...) \
  do { if (n < cap) n += (size_t)snprintf(out + n, cap - n, __VA_ARGS__); } while (0)
  OUT("dht id %s (%s)\nstate%s%s%s%s, public %s, memory %llu bytes\n", hex,
      persistent ? "persistent" : "ephemeral", state & FL_NODE_S_BOUND ? " bound" : "",
      state & FL_NODE_S_BOOTSTRAPPED ? " bootstrapped" : "",
      state & FL_NODE_S_PERSISTENT ? " persistent" : "",
      state & FL_NODE_S_FIREWALLED ? " firewalled" : "", a,
      (unsigned long long)d->mem.bytes_in_use);
  OUT("pending: %llu requests in flight (hw %llu), %llu queries active (hw %llu), "
      "%llu congestion-queued\n",
      (unsigned long long)st.requests_active, (unsigned long long)st.requests_active_hw,
      (unsigned long long)st.queries_active, (unsigned long long)st.queries_active_hw,
      (unsigned long long)st.congestion_queued);
  OUT("counters: rx %llu tx %llu datagrams, %llu responses, %llu timeouts, %llu retries, "
      "%llu queries, %llu ticks, drops decode %llu unmatched %llu\n",
      (unsigned long long)st.rx_datagrams, (unsigned long long)st.tx_datagrams,
      (unsigned long long)st.responses, (unsigned long long)st.timeouts,
      (unsigned long long)st.retries, (unsigned long long)st.queries_total,
      (unsigned long long)st.ticks, (unsigned long long)st.drop_decode,
      (unsigned long long)st.drop_unmatched_response);
  fl_addr addrs[FL_NODE_TABLE_MAX];
  static uint8_t ids[FL_NODE_TABLE_MAX][32];
  size_t k = fl_node_table(d->n, addrs, ids, FL_NODE_TABLE_MAX);
  OUT("routing table: %zu nodes (hw %llu, added %llu, removed %llu)\n", k,
      (unsigned long long)st.table_hw, (unsigned long long)st.table_added,
      (unsigned long long)st.table_removed);
  for (size_t i = 0; i < k; i++) {
    sodium_bin2hex(hex, sizeof hex, ids[i], 32);
    fl_addr_format(&addrs[i], a, sizeof a);
    OUT("  %s %s\n", hex, a);
  }
#undef OUT
  return (int)(n < cap ? n : cap - 1);
}

const fl_sim_node_ops sim_dht_ops = {
    .create = dht_create,
    .destroy = dht_destroy,
    .handle_datagram = dht_handle_datagram,
    .poll_transmit = dht_poll_transmit,
    .next_deadline = dht_next_deadline,
    .handle_timeout = dht_handle_timeout,
    .poll_event = dht_poll_event,
    .socket_opened = dht_socket_opened,
    .socket_failed = dht_socket_failed,
    .close = dht_close,
    .check = dht_check,
    .lookup = dht_lookup,
    .metrics = dht_metrics,
    .dump = dht_dump,
    .query_done = dht_query_done,
    .event_name = dht_event_name,
};

/* ---- FL_SIM_KIND_HYPERDHT: an fl_node carrying an fl_hyperdht ------------------
 *
 * The same node, with user requests on, and the records layer (flock/
 * hyperdht.h) over it, driven as io_posix drives it: every node event goes
 * through fl_hyperdht_on_event first, and the records layer's own events are
 * handed to the engine right after the node event that caused them (so the
 * 64-slot ring never overflows and a lookup's DONE can carry the hops of the
 * query it ended). The records layer allocates through a counter of its own,
 * so its memory (store plus operations) is reported apart from the node's. */

typedef struct hd_node {
  dht_node d;            /* first: the dht ops above work on it unchanged */
  fl_mem_counter rmem;   /* fl_hyperdht's allocations */
  fl_hyperdht *h;
  uint64_t now_us;       /* the latest time any call brought (poll_event has none) */
  uint32_t hops;         /* of the last node query the records layer consumed */
  uint64_t mem_base;     /* rmem right after creation: the empty layer's fixed cost */
} hd_node;

static void *hd_create(fl_sim *s, int host, const fl_sim_node_init *in, uint64_t now_us) {
  (void)s, (void)host;
  hd_node *x = calloc(1, sizeof *x);
  if (x == NULL) return NULL;
  fl_mem_counter_init(&x->d.mem, 0);
  fl_mem_counter_init(&x->rmem, 0);
  fl_node_config c;
  uint8_t seed[32];
  /* The store's hash key: derived from the node seed, apart from its DRBG. */
  crypto_generichash(seed, sizeof seed, in->seed, sizeof in->seed,
                     (const uint8_t *)"flocksim records", 16);
  int rc = dht_config(in, &x->d.mem.mem, &c);
  c.user_requests = true;
  if (rc == 0) rc = fl_node_new(&c, now_us, &x->d.n);
  if (rc == 0) rc = fl_hyperdht_new(&x->h, x->d.n, &x->rmem.mem, NULL, seed, now_us);
  if (rc != 0) {
    fl_node_free(x->d.n);
    free(x);
    return NULL;
  }
  x->now_us = now_us;
  x->mem_base = x->rmem.bytes_in_use;
  return x;
}

static void hd_destroy(void *node) {
  hd_node *x = node;
  fl_hyperdht_free(x->h);
  fl_node_free(x->d.n);
  free(x);
}

static int hd_handle_datagram(void *node, uint64_t now_us, uint32_t sock, const fl_addr *from,
                              const uint8_t *data, size_t len) {
  ((hd_node *)node)->now_us = now_us;
  return dht_handle_datagram(node, now_us, sock, from, data, len);
}

static uint64_t hd_next_deadline(const void *node) {
  const hd_node *x = node;
  uint64_t a = fl_node_next_deadline(x->d.n), b = fl_hyperdht_next_deadline(x->h);
  return a < b ? a : b;
}

static int hd_handle_timeout(void *node, uint64_t now_us) {
  hd_node *x = node;
  x->now_us = now_us;
  /* Both are no-ops when early, so each may run at the other's deadline. */
  int rc = fl_node_handle_timeout(x->d.n, now_us);
  int rc2 = fl_hyperdht_handle_timeout(x->h, now_us);
  return rc < 0 ? rc : rc2;
}

static int hd_socket_opened(void *node, uint64_t now_us, uint32_t sock, const fl_addr *bound) {
  ((hd_node *)node)->now_us = now_us;
  return dht_socket_opened(node, now_us, sock, bound);
}

static int hd_socket_failed(void *node, uint64_t now_us, uint32_t sock, int err) {
  ((hd_node *)node)->now_us = now_us;
  return dht_socket_failed(node, now_us, sock, err);
}

static int hd_close(void *node, uint64_t now_us) {
  ((hd_node *)node)->now_us = now_us;
  return dht_close(node, now_us);
}

static int hd_lookup(void *node, uint64_t now_us, const uint8_t target[32], uint64_t *qid) {
  ((hd_node *)node)->now_us = now_us;
  return dht_lookup(node, now_us, target, qid);
}

/* The records layer's events first (those of the node event just consumed),
 * then the next node event it does not consume. A lookup's DONE gets the
 * hops of the node query whose end produced it in sock (unused by DONE). */
static int hd_poll_event(void *node, fl_event *out) {
  hd_node *x = node;
  for (;;) {
    if (fl_hyperdht_poll_event(x->h, out) == 1) {
      if (out->type == FL_EVENT_HYPERDHT_DONE) out->sock = x->hops;
      return 1;
    }
    int rc = fl_node_poll_event(x->d.n, out);
    if (rc != 1) return rc;
    uint32_t hops = out->type == FL_EVENT_DHT_QUERY_DONE ? out->sock : 0;
    rc = fl_hyperdht_on_event(x->h, x->now_us, out);
    if (rc == 0) return 1; /* not the records layer's: the engine's */
    x->hops = hops;
  }
}

static void hd_metrics(const void *node, uint64_t *fill, uint64_t *mem, uint64_t *drops) {
  const hd_node *x = node;
  dht_metrics(node, fill, mem, drops);
  fl_hyperdht_stats st;
  fl_hyperdht_get_stats(x->h, &st);
  *mem += x->rmem.bytes_in_use;
  *drops += st.events_dropped + st.ops_refused;
}

/* The node's invariants, and the records layer's own bound on operations
 * (its store is private to it and checked by its own tests). */
static int hd_check(const void *node) {
  const hd_node *x = node;
  int rule = fl_node_check(x->d.n);
  if (rule != 0) return rule;
  fl_hyperdht_stats st;
  fl_hyperdht_get_stats(x->h, &st);
  return st.ops_active > FL_HYPERDHT_OPS_MAX ? 1000 : 0;
}

fl_hyperdht *sim_hd_records(void *node, uint64_t now_us) {
  hd_node *x = node;
  x->now_us = now_us;
  return x->h;
}

void sim_hd_store(const void *node, fl_hyperdht_stats *st, uint64_t *mem_bytes,
                  uint64_t *mem_base) {
  const hd_node *x = node;
  fl_hyperdht_get_stats(x->h, st);
  *mem_bytes = x->rmem.bytes_in_use;
  *mem_base = x->mem_base;
}

const fl_sim_node_ops sim_hyperdht_ops = {
    .create = hd_create,
    .destroy = hd_destroy,
    .handle_datagram = hd_handle_datagram,
    .poll_transmit = dht_poll_transmit,
    .next_deadline = hd_next_deadline,
    .handle_timeout = hd_handle_timeout,
    .poll_event = hd_poll_event,
    .socket_opened = hd_socket_opened,
    .socket_failed = hd_socket_failed,
    .close = hd_close,
    .check = hd_check,
    .lookup = hd_lookup,
    .metrics = hd_metrics,
    .dump = dht_dump,
    .query_done = dht_query_done,
    .event_name = dht_event_name,
};
