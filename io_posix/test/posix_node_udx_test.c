/*
 * posix_node_udx_test.c — UDX on real fl_node sockets in the epoll loop:
 * two nodes in one process stream 8 MiB and 2 MiB at each other over their
 * server sockets (loopback), the writers driven by DRAIN events, while
 * PINGs between the same two ports are answered. Every wait is bounded by a
 * deadline and says what it waited for.
 */
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fl_posix.h"
#include "flock/node.h"
#include "testing/fl_test.h"

static const uint64_t to_send[2] = {8u << 20, 2u << 20};

typedef struct peer {
  fl_node *n;
  uint32_t id;
  uint64_t sent, received, bad;
  int ended, got_end, closed, close_code, drains;
} peer;

typedef struct world {
  fl_posix_loop *loop;
  peer p[2];
  uint64_t ping_id;
  int pongs, ping_failed;
} world;

static uint8_t byte_at(int from, uint64_t off) {
  return (uint8_t)((off * 131u + (off >> 11)) ^ (uint64_t)(from * 0x5b));
}

static void feed(peer *p, int from) {
  uint8_t buf[16384];
  fl_udx *u = fl_node_udx(p->n);
  while (p->sent < to_send[from]) {
    size_t n = sizeof buf;
    if (to_send[from] - p->sent < n) n = (size_t)(to_send[from] - p->sent);
    for (size_t k = 0; k < n; k++) buf[k] = byte_at(from, p->sent + k);
    int w = fl_udx_stream_write(u, fl_posix_now_us(), p->id, buf, n);
    if (w <= 0) return; /* full: DRAIN will call again */
    p->sent += (uint64_t)w;
  }
  if (!p->ended && fl_udx_stream_end(u, fl_posix_now_us(), p->id) == 0) p->ended = 1;
}

static void on_event(fl_posix_loop *loop, int slot, const fl_event *ev, void *user) {
  world *w = user;
  peer *p = &w->p[slot];
  fl_posix_loop_stop(loop); /* back to RUN_UNTIL to re-check its condition */
  if (ev->type == FL_EVENT_DHT_RESPONSE && ev->id == w->ping_id && slot == 1) w->pongs++;
  if (ev->type == FL_EVENT_DHT_REQUEST_FAILED && ev->id == w->ping_id) w->ping_failed++;
  if (ev->type < FL_EVENT_UDX_BASE || ev->type >= FL_EVENT_SWARM_BASE || ev->id != p->id) return;
  uint8_t buf[65536];
  int r;
  switch (ev->type) {
    case FL_UDX_EVENT_READABLE:
      while ((r = fl_udx_stream_read(fl_node_udx(p->n), fl_posix_now_us(), p->id, buf,
                                     sizeof buf)) > 0) {
        for (int k = 0; k < r; k++) p->bad += buf[k] != byte_at(1 - slot, p->received + k);
        p->received += (uint64_t)r;
      }
      break;
    case FL_UDX_EVENT_DRAIN:
      p->drains++;
      feed(p, slot);
      break;
    case FL_UDX_EVENT_END: p->got_end = 1; break;
    case FL_UDX_EVENT_CLOSE:
      p->closed = 1;
      p->close_code = ev->code;
      break;
    default: break;
  }
}

#define RUN_UNTIL(w, cond, seconds, what)                                          \
  do {                                                                              \
    uint64_t until_ = fl_posix_now_us() + (uint64_t)(seconds) * 1000000u;           \
    while (!(cond) && fl_posix_now_us() < until_)                                   \
      FL_CHECK(fl_posix_loop_run((w)->loop, until_) >= 0);                          \
    if (!(cond)) fprintf(stderr, "  gave up after %d s waiting for %s\n", seconds, what); \
    FL_CHECK(cond);                                                                 \
  } while (0)

static void test_posix_nodes_stream_udx_while_pinging(void) {
  world w;
  memset(&w, 0, sizeof w);
  w.loop = fl_posix_loop_new(2, 0);
  FL_CHECK(w.loop != NULL);
  fl_addr lo = fl_addr_ipv4(127, 0, 0, 1, 0), addr[2];
  for (int i = 0; i < 2; i++) {
    fl_node_config c;
    fl_node_config_default(&c);
    c.host = lo;
    c.mode = FL_NODE_MODE_PERSISTENT;
    c.firewalled = false;
    c.udx.send_buf_max = 512 * 1024; /* smaller than the payload: DRAIN drives the writer */
    FL_CHECK_EQ(fl_posix_entropy(c.seed, sizeof c.seed), 0);
    FL_CHECK_EQ(fl_node_new(&c, fl_posix_now_us(), &w.p[i].n), 0);
    FL_CHECK_EQ(fl_posix_loop_add(w.loop, &fl_posix_node_ops, w.p[i].n, NULL, on_event, &w), i);
    FL_CHECK_EQ(fl_node_local_addr(w.p[i].n, FL_NODE_SOCK_SERVER, &addr[i]), 0);
    FL_CHECK_EQ(fl_node_udx_stream_open(w.p[i].n, fl_posix_now_us(), &w.p[i].id), 0);
  }
  for (int i = 0; i < 2; i++) {
    FL_CHECK_EQ(fl_node_udx_stream_connect(w.p[i].n, fl_posix_now_us(), w.p[i].id,
                                           w.p[1 - i].id, FL_NODE_SOCK_SERVER, &addr[1 - i]),
                0);
    feed(&w.p[i], i);
    FL_CHECK_EQ(fl_posix_loop_drain(w.loop, i), 0);
  }
  /* A PING from node 1 to node 0's server port, repeatedly, mid-transfer. */
  int pings = 0;
  while (pings < 3 && !(w.p[0].closed && w.p[1].closed)) {
    int before = w.pongs;
    FL_CHECK_EQ(fl_node_ping(w.p[1].n, fl_posix_now_us(), &addr[0], &w.ping_id), 0);
    FL_CHECK_EQ(fl_posix_loop_drain(w.loop, 1), 0);
    pings++;
    RUN_UNTIL(&w, w.pongs > before || w.ping_failed, 10, "a PING reply during the stream");
  }
  FL_CHECK_EQ(w.ping_failed, 0);
  FL_CHECK(pings >= 1);
  RUN_UNTIL(&w, w.p[0].closed && w.p[1].closed, 20, "both streams to close");
  for (int i = 0; i < 2; i++) {
    FL_CHECK_EQ(w.p[i].close_code, 0);
    FL_CHECK_EQ(w.p[i].sent, to_send[i]);
    FL_CHECK_EQ(w.p[i].received, to_send[1 - i]);
    FL_CHECK_EQ(w.p[i].bad, 0);
    FL_CHECK(w.p[i].got_end);
    fl_node_stats st;
    FL_CHECK_EQ(fl_node_stats_get(w.p[i].n, &st, sizeof st), 0);
    FL_CHECK(st.rx_udx > 0 && st.tx_udx > 0);
    FL_CHECK_EQ(st.drop_udx_decode, 0);
    FL_CHECK_EQ(st.api_misuse, 0); /* the loop never handed fl_udx an old time */
    FL_CHECK_EQ(fl_node_check(w.p[i].n), 0);
  }
  FL_CHECK(w.p[0].drains > 0);
  fl_posix_loop_free(w.loop);
  for (int i = 0; i < 2; i++) fl_node_free(w.p[i].n);
}

int main(void) {
  if (fl_crypto_init() != 0) return 1;
  FL_RUN(test_posix_nodes_stream_udx_while_pinging);
  return fl_test_done();
}
