/*
 * sim_udx_test.c — a UDX stream between two simulated fl_nodes, carried by
 * the engine's network model: 10 ms one-way latency with up to 2 ms jitter
 * (so datagrams reorder), 1% random loss and a 50 Mbit/s uplink with a
 * bounded queue. 2 MiB one way and 512 KiB back must arrive intact over the
 * nodes' server sockets, and the same seed must give the same run.
 *
 * The hosts run a test kind (fl_sim_set_kind_ops): an fl_node whose UDX
 * events the kind answers itself inside poll_event (read what is readable,
 * write more on DRAIN), so the engine drives the stream like any node.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "sim_internal.h"
#include "testing/fl_test.h"

#define SEC 1000000ull
static const uint64_t to_send[2] = {2u << 20, 512u << 10};

typedef struct app {
  fl_node *n;
  int host;
  uint32_t id;
  uint64_t sent, received, bad;
  int ended, got_end, closed, close_code;
} app;

static app *apps[2];

static uint8_t byte_at(int from, uint64_t off) {
  uint64_t x = (off >> 2) * 0x9e3779b97f4a7c15ull + (uint64_t)from;
  return (uint8_t)(x >> (8 * (off & 3) + 24));
}

static void feed(app *a, uint64_t now) {
  uint8_t buf[8192];
  while (a->sent < to_send[a->host]) {
    size_t n = sizeof buf;
    if (to_send[a->host] - a->sent < n) n = (size_t)(to_send[a->host] - a->sent);
    for (size_t k = 0; k < n; k++) buf[k] = byte_at(a->host, a->sent + k);
    int w = fl_udx_stream_write(fl_node_udx(a->n), now, a->id, buf, n);
    if (w <= 0) return; /* full: DRAIN calls again */
    a->sent += (uint64_t)w;
  }
  if (!a->ended && fl_udx_stream_end(fl_node_udx(a->n), now, a->id) == 0) a->ended = 1;
}

static void on_udx(app *a, const fl_event *ev, uint64_t now) {
  uint8_t buf[16384];
  int r;
  switch (ev->type) {
    case FL_UDX_EVENT_READABLE:
      while ((r = fl_udx_stream_read(fl_node_udx(a->n), now, a->id, buf, sizeof buf)) > 0) {
        for (int k = 0; k < r; k++) a->bad += buf[k] != byte_at(1 - a->host, a->received + k);
        a->received += (uint64_t)r;
      }
      break;
    case FL_UDX_EVENT_DRAIN: feed(a, now); break;
    case FL_UDX_EVENT_END: a->got_end = 1; break;
    case FL_UDX_EVENT_CLOSE:
      a->closed = 1;
      a->close_code = ev->code;
      break;
    default: break;
  }
}

/* ---- the test kind: an fl_node plus the stream's reactions ---------------- */

static uint64_t last_now; /* the engine's time at the last call (events carry none) */

static void *k_create(fl_sim *s, int host, const fl_sim_node_init *in, uint64_t now_us) {
  (void)s;
  if (host < 0 || host > 1) return NULL;
  app *a = calloc(1, sizeof *a);
  if (a == NULL) return NULL;
  fl_node_config c;
  fl_node_config_default(&c);
  memcpy(c.seed, in->seed, sizeof c.seed);
  c.host = in->self;
  c.mode = FL_NODE_MODE_PERSISTENT;
  c.firewalled = false;
  c.udx.send_buf_max = 256 * 1024; /* below the payload: DRAIN drives the writer */
  if (fl_node_new(&c, now_us, &a->n) != 0) {
    free(a);
    return NULL;
  }
  a->host = host;
  apps[host] = a;
  last_now = now_us;
  return a;
}
static void k_destroy(void *m) {
  app *a = m;
  apps[a->host] = NULL;
  fl_node_free(a->n);
  free(a);
}
static int k_datagram(void *m, uint64_t now, uint32_t sock, const fl_addr *from,
                      const uint8_t *d, size_t len) {
  last_now = now;
  return fl_node_handle_datagram(((app *)m)->n, now, sock, from, d, len);
}
static int k_transmit(void *m, fl_dgram *out, uint8_t *buf, size_t cap) {
  return fl_node_poll_transmit(((app *)m)->n, out, buf, cap);
}
static uint64_t k_deadline(const void *m) { return fl_node_next_deadline(((const app *)m)->n); }
static int k_timeout(void *m, uint64_t now) {
  last_now = now;
  return fl_node_handle_timeout(((app *)m)->n, now);
}
static int k_event(void *m, fl_event *out) {
  app *a = m;
  int rc = fl_node_poll_event(a->n, out);
  if (rc == 1 && out->type >= FL_EVENT_UDX_BASE && out->type < FL_EVENT_SWARM_BASE &&
      out->id == a->id)
    on_udx(a, out, last_now);
  return rc;
}
static int k_opened(void *m, uint64_t now, uint32_t sock, const fl_addr *bound) {
  last_now = now;
  return fl_node_socket_opened(((app *)m)->n, now, sock, bound);
}
static int k_failed(void *m, uint64_t now, uint32_t sock, int err) {
  last_now = now;
  return fl_node_socket_failed(((app *)m)->n, now, sock, err);
}
static int k_check(const void *m) { return fl_node_check(((const app *)m)->n); }

static const fl_sim_node_ops udx_kind = {
    .create = k_create,
    .destroy = k_destroy,
    .handle_datagram = k_datagram,
    .poll_transmit = k_transmit,
    .next_deadline = k_deadline,
    .handle_timeout = k_timeout,
    .poll_event = k_event,
    .socket_opened = k_opened,
    .socket_failed = k_failed,
    .check = k_check,
};

/* One run; returns the engine's fingerprint in fp. */
static void run_stream(uint64_t seed, uint8_t fp[32]) {
  fl_sim *s = fl_sim_new(seed);
  FL_CHECK(s != NULL);
  FL_CHECK_EQ(fl_sim_set_latency(s, FL_SIM_LAT_CONSTANT, 10000, 0), 0);
  FL_CHECK_EQ(fl_sim_set_jitter(s, 2000), 0);
  FL_CHECK_EQ(fl_sim_set_loss(s, 10000), 0);
  FL_CHECK_EQ(fl_sim_set_bandwidth(s, 50000000, 256 * 1024), 0);
  FL_CHECK_EQ(fl_sim_set_kind_ops(s, FL_SIM_KIND_DHT, &udx_kind), 0);
  FL_CHECK_EQ(fl_sim_set_paranoid(s, 1), 0);
  int h[2];
  for (int i = 0; i < 2; i++) FL_CHECK_EQ(h[i] = fl_sim_host_new(s, FL_SIM_KIND_DHT, -1, 0), i);
  FL_CHECK(fl_sim_run_until(s, 100000, 100000) >= 0); /* sockets open */
  FL_CHECK(apps[0] && apps[1]);
  fl_addr addr[2];
  for (int i = 0; i < 2; i++) FL_CHECK_EQ(fl_sim_host_addr(s, h[i], FL_NODE_SOCK_SERVER, &addr[i]), 0);
  uint64_t now = fl_sim_now(s);
  last_now = now;
  for (int i = 0; i < 2; i++)
    FL_CHECK_EQ(fl_node_udx_stream_open(apps[i]->n, now, &apps[i]->id), 0);
  for (int i = 0; i < 2; i++) {
    FL_CHECK_EQ(fl_node_udx_stream_connect(apps[i]->n, now, apps[i]->id, apps[1 - i]->id,
                                           FL_NODE_SOCK_SERVER, &addr[1 - i]),
                0);
    feed(apps[i], now);
    sim_drive(s, (uint32_t)h[i]); /* send what the calls queued, re-arm the timer */
  }
  /* Bounded in virtual time and in events: a stuck stream fails, never hangs. */
  uint64_t deadline = now + 60 * SEC;
  while (!(apps[0]->closed && apps[1]->closed) && fl_sim_now(s) < deadline)
    FL_CHECK(fl_sim_run_until(s, fl_sim_now(s) + 100000, 1000000) >= 0);
  FL_CHECK(fl_sim_now(s) < deadline); /* awaited: both streams closed */
  for (int i = 0; i < 2; i++) {
    FL_CHECK_EQ(apps[i]->close_code, 0);
    FL_CHECK(apps[i]->got_end);
    FL_CHECK_EQ(apps[i]->sent, to_send[i]);
    FL_CHECK_EQ(apps[i]->received, to_send[1 - i]);
    FL_CHECK_EQ(apps[i]->bad, 0);
  }
  fl_sim_stats st;
  fl_sim_get_stats(s, &st);
  FL_CHECK(st.dropped[FL_SIM_DROP_LOSS] > 0); /* the model's loss hit the stream */
  FL_CHECK(st.delivered > (to_send[0] + to_send[1]) / FL_UDX_DGRAM_BYTES_MAX);
  FL_CHECK_EQ(st.node_errors, 0);
  FL_CHECK_EQ(st.node_check_failures, 0);
  fl_node_stats ns;
  FL_CHECK_EQ(fl_node_stats_get(apps[0]->n, &ns, sizeof ns), 0);
  FL_CHECK(ns.udx.retransmits > 0);
  FL_CHECK_EQ(fl_sim_check(s), 0);
  fprintf(stderr, "  %.2f s virtual, %llu delivered, %llu lost, %llu queue drops, "
          "%llu retransmits\n", (double)(fl_sim_now(s) - now) / 1e6,
          (unsigned long long)st.delivered, (unsigned long long)st.dropped[FL_SIM_DROP_LOSS],
          (unsigned long long)st.dropped[FL_SIM_DROP_QUEUE], (unsigned long long)ns.udx.retransmits);
  fl_sim_fingerprint(s, fp);
  fl_sim_free(s);
}

static void test_udx_stream_through_the_network_model(void) {
  uint8_t a[32], b[32];
  uint64_t seed = fl_test_seed();
  run_stream(seed, a);
  run_stream(seed, b);
  FL_CHECK_MEM(a, b, 32); /* deterministic: same seed, same run */
}

int main(void) {
  FL_RUN(test_udx_stream_through_the_network_model);
  return fl_test_done();
}
