/*
 * cli_udx_node.c — `flocknet udx-cat --node`: the stream rides the server
 * socket of an fl_node bound to H:P, driven by the epoll loop (fl_posix.h),
 * so the one port answers dht-rpc PING / FIND_NODE while it carries the
 * stream — what a hyperdht node's socket does. The node is persistent and
 * bootstraps off nobody (DHT.bootstrapper(port, host)); udx-native peers
 * reach it exactly as they reach the standalone udx-cat.
 *
 * Input: --gen, or stdin watched through the loop while the stream takes
 * more (unwatched while it is full, so a level-triggered epoll never spins
 * on it); a stdin epoll refuses (a regular file, /dev/null) is read
 * directly instead, as far as the stream takes it. The stream's DRAIN event
 * drives the writer again.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli_udx_cat.h"
#include "fl_posix.h"
#include "flock/node.h"

/* As the standalone loop: after a clean close, answer a peer whose copy of
 * our final ACK was lost (it retransmits its END after its RTO, >= 1 s). */
#define NODE_LINGER_US 1500000u

typedef struct nctx {
  cat *c;
  fl_node *node;
  fl_posix_loop *loop;
  int slot;
  int watching;
} nctx;

static void on_stdin(fl_posix_loop *loop, int fd, void *user);

/* Keep stdin watched exactly while the stream would take more of it. */
static void stdin_sync(nctx *x, uint64_t now) {
  cat *c = x->c;
  int want = !c->gen && !c->in_eof && !c->write_blocked && c->pending_len == 0;
  if (want && !x->watching && !c->stdin_direct) {
    if (fl_posix_loop_watch_fd(x->loop, 0, on_stdin, x) == 0) x->watching = 1;
    else c->stdin_direct = 1; /* not pollable: a file or /dev/null */
  } else if (!want && x->watching) {
    fl_posix_loop_unwatch_fd(x->loop, 0);
    x->watching = 0;
  }
  /* Bounded: each read takes up to 64 KiB or ends the input. */
  for (int i = 0; c->stdin_direct && i < 1024; i++) {
    if (c->gen || c->in_eof || c->write_blocked || c->pending_len > 0) break;
    udx_cat_read_stdin(c, now);
  }
}

static void on_stdin(fl_posix_loop *loop, int fd, void *user) {
  (void)fd;
  nctx *x = user;
  uint64_t now = fl_posix_now_us();
  udx_cat_read_stdin(x->c, now);
  stdin_sync(x, now);
  int rc = fl_posix_loop_drain(loop, x->slot); /* send what the write queued */
  (void)rc;
}

static void on_event(fl_posix_loop *loop, int slot, const fl_event *ev, void *user) {
  (void)slot;
  nctx *x = user;
  cat *c = x->c;
  if (ev->type < FL_EVENT_UDX_BASE || ev->type >= FL_EVENT_SWARM_BASE) return; /* DHT news */
  if (ev->id != c->id) return;
  uint64_t now = fl_posix_now_us();
  switch (ev->type) {
    case FL_UDX_EVENT_READABLE: udx_cat_read_stream(c, now); break;
    case FL_UDX_EVENT_END: c->got_end = 1; break;
    case FL_UDX_EVENT_CONNECT: udx_cat_set_path_mtu(c, &ev->addr); break;
    case FL_UDX_EVENT_DRAIN:
      c->write_blocked = 0;
      udx_cat_feed(c, now);
      stdin_sync(x, now);
      break;
    case FL_UDX_EVENT_CLOSE:
      c->closed = 1;
      c->close_code = ev->code;
      fl_posix_loop_stop(loop);
      break;
    default: break;
  }
}

static int node_start(nctx *x, const char *host, uint32_t port) {
  fl_node_config cfg;
  fl_node_config_default(&cfg);
  char text[64];
  fl_addr h;
  snprintf(text, sizeof text, "%s:0", host);
  if (fl_addr_parse(&h, text) != 0 || fl_posix_entropy(cfg.seed, sizeof cfg.seed) != 0) return -1;
  if (port != 0 && fl_node_config_bootstrapper(&cfg, &h, (uint16_t)port) == 0) {
    cfg.host = h;
  } else { /* port 0 or host 0.0.0.0: a persistent node on any port */
    cfg.host = h;
    cfg.port = (uint16_t)port;
    cfg.mode = FL_NODE_MODE_PERSISTENT;
    cfg.firewalled = false;
  }
  if (fl_node_new(&cfg, fl_posix_now_us(), &x->node) != 0) return -1;
  x->loop = fl_posix_loop_new(1, 1);
  if (x->loop == NULL) return -1;
  x->slot = fl_posix_loop_add(x->loop, &fl_posix_node_ops, x->node, NULL, on_event, x);
  fl_addr bound;
  if (x->slot < 0 || fl_node_local_addr(x->node, FL_NODE_SOCK_SERVER, &bound) != 0) return -1;
  return 0;
}

static void node_extra(const nctx *x, char *out, size_t cap) {
  fl_node_stats st;
  if (fl_node_stats_get(x->node, &st, sizeof st) != 0) {
    out[0] = 0;
    return;
  }
  snprintf(out, cap,
           ", \"node\": true, \"dht_ping_in\": %" PRIu64 ", \"dht_find_node_in\": %" PRIu64
           ", \"node_rx_udx\": %" PRIu64 ", \"node_tx_udx\": %" PRIu64
           ", \"node_drop_udx\": %" PRIu64 ", \"node_drop_udx_decode\": %" PRIu64,
           st.cmd_in[0], st.cmd_in[2], st.rx_udx, st.tx_udx, st.drop_udx, st.drop_udx_decode);
}

/* Run the loop until the stream closes (or a signal), then linger. */
static int node_loop(nctx *x) {
  cat *c = x->c;
  while (!c->closed) {
    if (fl_posix_loop_run(x->loop, FL_TIME_NONE) != 1) return -1;
    if (fl_posix_loop_signal(x->loop) != 0) return -1;
  }
  uint64_t now = fl_posix_now_us();
  c->end_us = now;
  uint64_t linger_end = now + NODE_LINGER_US;
  fl_udx_stream_info si;
  while (c->close_code == 0 && fl_udx_stream_info_get(c->u, c->id, &si) == 0 &&
         (now = fl_posix_now_us()) < linger_end) {
    uint64_t until = now + 50000 < linger_end ? now + 50000 : linger_end;
    if (fl_posix_loop_run(x->loop, until) < 0 || fl_posix_loop_signal(x->loop) != 0) break;
  }
  return 0;
}

int udx_cat_node_run(cat *c, const char *host, uint32_t port, uint32_t remote_id,
                     const fl_addr *peer) {
  nctx x;
  memset(&x, 0, sizeof x);
  x.c = c;
  x.slot = -1;
  int rc = 1;
  if (node_start(&x, host, port) != 0) {
    fprintf(stderr, "udx-cat: cannot start a node on %s:%u: %s\n", host, port, strerror(errno));
    goto out;
  }
  c->u = fl_node_udx(x.node);
  int fl = fcntl(0, F_GETFL);
  if (fl >= 0) (void)fcntl(0, F_SETFL, fl | O_NONBLOCK);
  uint64_t now = fl_posix_now_us();
  c->start_us = now;
  if (fl_udx_stream_open(c->u, now, c->id) != 0 ||
      fl_node_udx_stream_connect(x.node, now, c->id, remote_id, FL_NODE_SOCK_SERVER, peer) != 0) {
    fprintf(stderr, "udx-cat: cannot open the stream\n");
    goto out;
  }
  if (peer) udx_cat_set_path_mtu(c, peer);
  udx_cat_feed(c, now);
  stdin_sync(&x, now);
  if (fl_posix_loop_drain(x.loop, x.slot) != 0 || node_loop(&x) != 0) {
    if (c->close_code == 0) c->close_code = FL_ERR_CLOSED; /* interrupted */
  }
  if (c->end_us == 0) c->end_us = fl_posix_now_us();
  if (c->stats) {
    char extra[512];
    node_extra(&x, extra, sizeof extra);
    udx_cat_print_stats(c, extra);
  }
  rc = 0;
out:
  if (x.watching) fl_posix_loop_unwatch_fd(x.loop, 0);
  fl_posix_loop_free(x.loop);
  fl_node_free(x.node);
  c->u = NULL;
  return rc;
}
