/*
 * posix_node_test.c — real fl_nodes in the epoll loop over loopback: a
 * bootstrapper and persistent nodes in one process, bootstrap, PING with
 * the responder's id and our address, FIND_NODE over the small network,
 * and garbage datagrams dropped and counted while the node keeps serving.
 * Every wait is bounded by a deadline and says what it waited for.
 */
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fl_posix.h"
#include "flock/node.h"
#include "testing/fl_test.h"

#define NODES 6

typedef struct world {
  fl_posix_loop *loop;
  fl_node *nodes[NODES];
  int ready[NODES];
  int nready;
  uint64_t wait_id;       /* request or query id awaited */
  int wait_node;
  int got_response, got_failed, got_done;
  fl_event response;
  uint32_t closest;
  uint8_t closest_ids[32][32];
} world;

static void on_event(fl_posix_loop *loop, int slot, const fl_event *ev, void *user) {
  world *w = user;
  /* Return to RUN_UNTIL after every event so it can re-check its condition. */
  fl_posix_loop_stop(loop);
  if (ev->type == FL_EVENT_DHT_READY && !w->ready[slot]) {
    w->ready[slot] = 1;
    w->nready++;
  }
  if (slot != w->wait_node || ev->id != w->wait_id) return;
  if (ev->type == FL_EVENT_DHT_RESPONSE) {
    w->got_response = 1;
    w->response = *ev;
    w->response.data = NULL; /* lent bytes die with the call */
    fl_posix_loop_stop(loop);
  } else if (ev->type == FL_EVENT_DHT_REQUEST_FAILED) {
    w->got_failed = 1;
    fl_posix_loop_stop(loop);
  } else if (ev->type == FL_EVENT_DHT_QUERY_NODE && w->closest < 32) {
    memcpy(w->closest_ids[w->closest++], ev->key, 32);
  } else if (ev->type == FL_EVENT_DHT_QUERY_DONE) {
    w->got_done = 1;
    fl_posix_loop_stop(loop);
  }
}

/* Run the loop until cond holds or seconds pass; prints what was awaited. */
#define RUN_UNTIL(w, cond, seconds, what)                                          \
  do {                                                                              \
    uint64_t until_ = fl_posix_now_us() + (uint64_t)(seconds) * 1000000u;           \
    while (!(cond) && fl_posix_now_us() < until_)                                   \
      FL_CHECK(fl_posix_loop_run((w)->loop, until_) >= 0);                          \
    if (!(cond)) fprintf(stderr, "  gave up after %d s waiting for %s\n", seconds, what); \
    FL_CHECK(cond);                                                                 \
  } while (0)

static int start_world(world *w, int n) {
  memset(w, 0, sizeof *w);
  w->wait_node = -1;
  w->loop = fl_posix_loop_new(NODES, 0);
  if (w->loop == NULL) return -1;
  fl_addr lo = fl_addr_ipv4(127, 0, 0, 1, 0), first;
  for (int i = 0; i < n; i++) {
    fl_node_config c;
    fl_node_config_default(&c);
    c.host = lo;
    if (i == 0) {
      /* Bootstrapper on a free port: bind, learn it, release, reuse. */
      int fd = socket(AF_INET, SOCK_DGRAM, 0);
      struct sockaddr_in sin;
      fl_posix_addr_to_sin(&lo, &sin);
      socklen_t len = sizeof sin;
      if (bind(fd, (struct sockaddr *)&sin, sizeof sin) || getsockname(fd, (void *)&sin, &len))
        return -1;
      close(fd);
      if (fl_node_config_bootstrapper(&c, &lo, ntohs(sin.sin_port)) != 0) return -1;
    } else {
      c.mode = FL_NODE_MODE_PERSISTENT;
      c.firewalled = false;
      c.bootstrap[c.bootstrap_len++] = first;
    }
    if (fl_posix_entropy(c.seed, sizeof c.seed) != 0) return -1;
    if (fl_node_new(&c, fl_posix_now_us(), &w->nodes[i]) != 0) return -1;
    if (fl_posix_loop_add(w->loop, &fl_posix_node_ops, w->nodes[i], NULL, on_event, w) != i)
      return -1;
    if (i == 0 && fl_node_local_addr(w->nodes[0], FL_NODE_SOCK_SERVER, &first) != 0) return -1;
  }
  return 0;
}

static void stop_world(world *w) {
  fl_posix_loop_free(w->loop);
  for (int i = 0; i < NODES; i++) fl_node_free(w->nodes[i]);
}

static void test_posix_node_bootstraps_and_pings_over_loopback(void) {
  world w;
  FL_CHECK_EQ(start_world(&w, 2), 0);
  RUN_UNTIL(&w, w.nready == 2, 10, "both nodes to bootstrap");
  fl_addr a0, a1;
  FL_CHECK_EQ(fl_node_local_addr(w.nodes[0], FL_NODE_SOCK_SERVER, &a0), 0);
  FL_CHECK_EQ(fl_node_local_addr(w.nodes[1], FL_NODE_SOCK_SERVER, &a1), 0);
  uint8_t id0[32], id1[32];
  FL_CHECK_EQ(fl_node_id(w.nodes[0], id0), 1);
  FL_CHECK_EQ(fl_node_id(w.nodes[1], id1), 1);
  /* The id is BLAKE2b-256 of the 6-byte address (spec/dht-rpc.md §3). */
  uint8_t addr6[6] = {127, 0, 0, 1, (uint8_t)a1.port, (uint8_t)(a1.port >> 8)}, want[32];
  FL_CHECK_EQ(fl_crypto_hash(want, sizeof want, addr6, sizeof addr6), 0);
  FL_CHECK_MEM(id1, want, 32);

  w.wait_node = 1;
  FL_CHECK_EQ(fl_node_ping(w.nodes[1], fl_posix_now_us(), &a0, &w.wait_id), 0);
  FL_CHECK_EQ(fl_posix_loop_drain(w.loop, 1), 0);
  RUN_UNTIL(&w, w.got_response || w.got_failed, 10, "the PING reply");
  FL_CHECK_EQ(w.got_response, 1);
  FL_CHECK(w.response.flags & FL_EVENT_F_ID);
  FL_CHECK_MEM(w.response.key, id0, 32);
  FL_CHECK(fl_addr_equal(&w.response.addr, &a0));
  /* It saw us as our server socket: persistent nodes send from it. */
  FL_CHECK(fl_addr_equal(&w.response.addr2, &a1));
  stop_world(&w);
}

static void test_posix_node_find_node_over_a_small_network(void) {
  world w;
  FL_CHECK_EQ(start_world(&w, NODES), 0);
  RUN_UNTIL(&w, w.nready == NODES, 15, "all nodes to bootstrap");
  uint8_t target[32];
  memset(target, 0xab, sizeof target);
  w.wait_node = 3;
  FL_CHECK_EQ(fl_node_find_node(w.nodes[3], fl_posix_now_us(), target, &w.wait_id), 0);
  FL_CHECK_EQ(fl_posix_loop_drain(w.loop, 3), 0);
  RUN_UNTIL(&w, w.got_done, 15, "the FIND_NODE query to finish");
  /* Everyone but the querier itself answers (it drops its own id). */
  FL_CHECK_EQ(w.closest, NODES - 1);
  fl_posix_stats st;
  fl_posix_loop_stats(w.loop, &st);
  FL_CHECK(st.tx_dropped == 0);
  FL_CHECK(st.sockets_opened >= 2 * NODES);
  stop_world(&w);
}

static void test_posix_node_drops_garbage_and_keeps_serving(void) {
  world w;
  FL_CHECK_EQ(start_world(&w, 2), 0);
  RUN_UNTIL(&w, w.nready == 2, 10, "both nodes to bootstrap");
  fl_addr a0;
  FL_CHECK_EQ(fl_node_local_addr(w.nodes[0], FL_NODE_SOCK_SERVER, &a0), 0);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in sin;
  fl_posix_addr_to_sin(&a0, &sin);
  uint8_t junk[64];
  uint64_t seed = fl_test_seed();
  for (int i = 0; i < 500; i++) {
    for (size_t k = 0; k < sizeof junk; k++) junk[k] = (uint8_t)((seed += 0x9e3779b97f4a7c15ull) >> 56);
    junk[0] = (uint8_t)(i % 3 == 0 ? 0x03 : i % 3 == 1 ? 0x13 : junk[0]);
    FL_CHECK(sendto(fd, junk, (size_t)(i % 60), 0, (struct sockaddr *)&sin, sizeof sin) >= 0);
  }
  close(fd);
  w.wait_node = 1;
  FL_CHECK_EQ(fl_node_ping(w.nodes[1], fl_posix_now_us(), &a0, &w.wait_id), 0);
  FL_CHECK_EQ(fl_posix_loop_drain(w.loop, 1), 0);
  RUN_UNTIL(&w, w.got_response || w.got_failed, 10, "a PING reply after the garbage");
  FL_CHECK_EQ(w.got_response, 1);
  fl_node_stats ns;
  FL_CHECK_EQ(fl_node_stats_get(w.nodes[0], &ns, sizeof ns), 0);
  FL_CHECK(ns.rx_datagrams >= 500);
  FL_CHECK(ns.drop_short + ns.drop_decode + ns.drop_unknown_type + ns.drop_udx +
               ns.drop_unmatched_response + ns.drop_no_target + ns.drop_malformed_value >= 100);
  stop_world(&w);
}

int main(void) {
  if (fl_crypto_init() != 0) return 1;
  FL_RUN(test_posix_node_bootstraps_and_pings_over_loopback);
  FL_RUN(test_posix_node_find_node_over_a_small_network);
  FL_RUN(test_posix_node_drops_garbage_and_keeps_serving);
  return fl_test_done();
}
