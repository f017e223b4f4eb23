/*
 * UDX on the node's sockets: two fl_nodes in the in-memory network of
 * simnet.h (virtual time, 2% loss on the link) carry a UDX stream both ways
 * over their server sockets while DHT pings and a FIND_NODE keep working over
 * the same sockets; malformed UDX packets and packets for unknown ids are
 * dropped and counted and the node keeps serving; poll_transmit alternates
 * between DHT and UDX output; misuse and close.
 */
#include "flock/node.h"

#include <inttypes.h>

#include "node/test/simnet.h"
#include "testing/fl_log.h"

#define SEC 1000000ull
#define A_TO_B (4u << 20) /* bytes node 0 streams to node 1 */
#define B_TO_A (1u << 20)

/* The byte at offset off of the stream from node `from` (seeded). */
static uint64_t pattern_seed;
static uint8_t pattern_at(size_t from, uint64_t off) {
  uint64_t x = (off >> 3) ^ (pattern_seed + from * 0x9e3779b97f4a7c15ull);
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 29;
  return (uint8_t)(x >> (8 * (off & 7)));
}

typedef struct side {
  uint32_t id, remote_id;
  uint64_t to_send, sent, received, bad_bytes;
  bool ended, got_end, acked, closed, drain_seen;
  int close_code;
} side;

static side sides[2];

static void feed(simnet *s, size_t i) {
  side *sd = &sides[i];
  fl_udx *u = fl_node_udx(s->nodes[i].n);
  uint8_t buf[16384];
  while (sd->sent < sd->to_send) {
    size_t n = sd->to_send - sd->sent < sizeof buf ? (size_t)(sd->to_send - sd->sent) : sizeof buf;
    for (size_t k = 0; k < n; k++) buf[k] = pattern_at(i, sd->sent + k);
    int w = fl_udx_stream_write(u, s->now_us, sd->id, buf, n);
    if (w < 0) abort();
    sd->sent += (uint64_t)w;
    if ((size_t)w < n) return; /* full: wait for DRAIN */
  }
  if (!sd->ended) {
    if (fl_udx_stream_end(u, s->now_us, sd->id) != 0) abort();
    sd->ended = true;
  }
}

static void drain_reads(simnet *s, size_t i) {
  side *sd = &sides[i];
  uint8_t buf[32768];
  for (;;) {
    int n = fl_udx_stream_read(fl_node_udx(s->nodes[i].n), s->now_us, sd->id, buf, sizeof buf);
    if (n <= 0) return;
    for (int k = 0; k < n; k++)
      if (buf[k] != pattern_at(1 - i, sd->received + (uint64_t)k)) sd->bad_bytes++;
    sd->received += (uint64_t)n;
  }
}

static bool on_udx_event(simnet *s, size_t i, const fl_event *ev, bool *more) {
  if (ev->type < FL_EVENT_UDX_BASE || ev->type >= FL_EVENT_SWARM_BASE || i > 1) return false;
  side *sd = &sides[i];
  if (ev->id != sd->id) abort();
  switch (ev->type) {
    case FL_UDX_EVENT_READABLE: drain_reads(s, i); break;
    case FL_UDX_EVENT_END: sd->got_end = true; break;
    case FL_UDX_EVENT_ACKED: sd->acked = true; break;
    case FL_UDX_EVENT_DRAIN:
      sd->drain_seen = true;
      feed(s, i);
      break;
    case FL_UDX_EVENT_CLOSE:
      sd->closed = true;
      sd->close_code = ev->code;
      break;
    default: break;
  }
  *more = true;
  return true;
}

/* Node 0 a bootstrapper on SN_BASE_PORT, node 1 a persistent node joining it. */
static void two_nodes(simnet *s, uint64_t seed) {
  sn_init(s);
  fl_node_config c;
  fl_node_config_default(&c);
  sn_seed(&c, seed, 0);
  fl_addr host = fl_addr_ipv4(127, 0, 0, 1, 0);
  if (fl_node_config_bootstrapper(&c, &host, SN_BASE_PORT) != 0) abort();
  c.host = host;
  c.udx.send_buf_max = 256 * 1024; /* through the node's config: writers wait for DRAIN */
  sn_add(s, &c);
  fl_node_config_default(&c);
  sn_seed(&c, seed, 1);
  c.host = host;
  c.mode = FL_NODE_MODE_PERSISTENT;
  c.firewalled = false;
  c.bootstrap_len = 1;
  c.bootstrap[0] = sn_addr(s, 0);
  sn_add(s, &c);
  FL_CHECK(sn_run_until(s, s->now_us + 5 * SEC, 200000));
  FL_CHECK(fl_node_state(s->nodes[1].n) & FL_NODE_S_BOOTSTRAPPED);
}

/* Open a stream on each node and connect them over their server sockets. */
static void connect_pair(simnet *s) {
  memset(sides, 0, sizeof sides);
  for (size_t i = 0; i < 2; i++)
    FL_CHECK_EQ(fl_node_udx_stream_open(s->nodes[i].n, s->now_us, &sides[i].id), 0);
  FL_CHECK(sides[0].id != 0 || sides[1].id != 0);
  for (size_t i = 0; i < 2; i++) {
    fl_addr peer = sn_addr(s, 1 - i);
    sides[i].remote_id = sides[1 - i].id;
    FL_CHECK_EQ(fl_node_udx_stream_connect(s->nodes[i].n, s->now_us, sides[i].id,
                                           sides[i].remote_id, FL_NODE_SOCK_SERVER, &peer),
                0);
  }
}

static size_t count_events(const simnet *s, size_t i, uint32_t type, uint64_t id, int code) {
  size_t k = 0;
  for (size_t e = 0; e < s->nodes[i].nevents; e++) {
    const fl_event *ev = &s->nodes[i].events[e].ev;
    if (ev->type == type && ev->id == id && ev->code == code) k++;
  }
  return k;
}

static void test_stream_and_dht_share_lossy_sockets(void) {
  simnet s;
  uint64_t seed = fl_test_seed();
  pattern_seed = seed;
  two_nodes(&s, seed);
  s.on_event = on_udx_event;
  s.loss_ppm = 20000; /* 2% of every datagram, DHT and UDX alike */
  s.loss_state = seed ^ 0x5eed;
  connect_pair(&s);
  sides[0].to_send = A_TO_B;
  sides[1].to_send = B_TO_A;
  feed(&s, 0);
  feed(&s, 1);
  sn_drain(&s, 0);
  sn_drain(&s, 1);

  /* While the stream runs: a PING each way every 5 ms of virtual time (the
   * link has no bandwidth limit, so the transfer is short) and a FIND_NODE. */
  uint64_t pings[2][64], qid = 0;
  size_t npings = 0;
  fl_node_stats st0;
  FL_CHECK_EQ(fl_node_find_node(s.nodes[1].n, s.now_us, (const uint8_t[32]){1, 2, 3}, &qid), 0);
  sn_drain(&s, 1);
  uint64_t deadline = s.now_us + 120 * SEC;
  while (!(sides[0].closed && sides[1].closed) && s.now_us < deadline) {
    if (npings < 64 && (sides[0].received < B_TO_A || sides[1].received < A_TO_B)) {
      for (size_t i = 0; i < 2; i++) {
        fl_addr to = sn_addr(&s, 1 - i);
        FL_CHECK_EQ(fl_node_ping(s.nodes[i].n, s.now_us, &to, &pings[i][npings]), 0);
        sn_drain(&s, i);
      }
      npings++;
    }
    FL_CHECK(sn_run_until(&s, s.now_us + 5000, 2000000));
  }
  FL_CHECK(s.now_us < deadline); /* awaited: both streams closed */
  FL_CHECK(sn_run_until(&s, s.now_us + 10 * SEC, 2000000)); /* outstanding pings settle */
  for (size_t i = 0; i < 2; i++) {
    FL_CHECK_EQ(sides[i].close_code, 0);
    FL_CHECK(sides[i].got_end && sides[i].acked);
    FL_CHECK_EQ(sides[i].bad_bytes, 0);
    FL_CHECK_EQ(sides[i].sent, sides[i].to_send);
  }
  FL_CHECK_EQ(sides[1].received, A_TO_B);
  FL_CHECK_EQ(sides[0].received, B_TO_A);
  FL_CHECK(sides[0].drain_seen); /* 4 MiB > its 256 KiB send buffer: the writer was driven */
  /* Every ping sent during the transfer was answered over the same socket. */
  fl_test_err("  %zu pings each way during the transfer; %" PRIu64 " datagrams lost\n",
          npings, s.lost);
  FL_CHECK(npings >= 5);
  for (size_t i = 0; i < 2; i++)
    for (size_t k = 0; k < npings; k++)
      FL_CHECK_EQ(count_events(&s, i, FL_EVENT_DHT_RESPONSE, pings[i][k], 0), 1);
  const sn_event *done = sn_find_event(&s, 1, FL_EVENT_DHT_QUERY_DONE, qid);
  FL_CHECK(done != NULL);
  if (done) FL_CHECK_EQ(done->ev.code, 0);
  FL_CHECK(s.lost > 0);
  FL_CHECK_EQ(fl_node_stats_get(s.nodes[0].n, &st0, sizeof st0), 0);
  FL_CHECK(st0.tx_udx > A_TO_B / FL_UDX_DGRAM_BYTES_MAX);
  FL_CHECK(st0.rx_udx > 0);
  FL_CHECK(st0.udx.retransmits > 0); /* the loss reached the stream */
  FL_CHECK(st0.tx_datagrams >= st0.tx_udx + npings);
  FL_CHECK_EQ(st0.drop_udx_decode, 0);
  FL_CHECK_EQ(fl_node_check(s.nodes[0].n), 0);
  FL_CHECK_EQ(fl_node_check(s.nodes[1].n), 0);
  sn_free(&s);
}

/* Deliver one datagram to node i's server socket from node j's; returns
 * how many datagrams node i sent in answer (taken off its queue). */
static size_t inject(simnet *s, size_t i, size_t j, const uint8_t *data, size_t len) {
  fl_addr from = sn_addr(s, j);
  if (fl_node_handle_datagram(s->nodes[i].n, s->now_us, FL_NODE_SOCK_SERVER, &from, data, len) !=
      0)
    abort(); /* garbage is dropped, never refused */
  size_t out = 0;
  fl_dgram g;
  uint8_t buf[FL_DGRAM_BYTES_MAX];
  while (fl_node_poll_transmit(s->nodes[i].n, &g, buf, sizeof buf) == 1) out++;
  return out;
}

static void udx_header(uint8_t *p, uint8_t type, uint32_t id) {
  fl_udx_header h = {.type = type, .id = id, .rwnd = 65536, .seq = 0, .ack = 0};
  FL_CHECK_EQ(fl_udx_header_encode(&h, p, FL_UDX_HEADER_BYTES), (int)FL_UDX_HEADER_BYTES);
}

static void test_malformed_and_unknown_udx_dropped_and_counted(void) {
  simnet s;
  pattern_seed = fl_test_seed();
  two_nodes(&s, pattern_seed + 1);
  s.on_event = on_udx_event;
  fl_node *n = s.nodes[1].n;
  fl_node_stats st;
  uint8_t pkt[64];

  /* No streams yet: a UDX packet has nowhere to go. */
  udx_header(pkt, 0, 77);
  FL_CHECK_EQ(inject(&s, 1, 0, pkt, FL_UDX_HEADER_BYTES), 0);
  FL_CHECK_EQ(fl_node_stats_get(n, &st, sizeof st), 0);
  FL_CHECK_EQ(st.drop_udx, 1);

  connect_pair(&s);
  sides[0].to_send = 64 * 1024;
  feed(&s, 0);
  sn_drain(&s, 0);
  FL_CHECK(sn_run_until(&s, s.now_us + 50000, 100000));

  /* Unknown id while a stream lives: dropped, counted, nothing sent back. */
  udx_header(pkt, FL_UDX_FLAG_DATA, sides[1].id ^ 0x5a5a5a5au);
  FL_CHECK_EQ(inject(&s, 1, 0, pkt, 40), 0);
  /* Malformed for the live stream: unknown type bit, then a SACK area that
   * is not a multiple of 8 bytes. */
  udx_header(pkt, 0x40, sides[1].id);
  FL_CHECK_EQ(inject(&s, 1, 0, pkt, FL_UDX_HEADER_BYTES), 0);
  udx_header(pkt, FL_UDX_FLAG_SACK, sides[1].id);
  FL_CHECK_EQ(inject(&s, 1, 0, pkt, FL_UDX_HEADER_BYTES + 5), 0);
  FL_CHECK_EQ(fl_node_stats_get(n, &st, sizeof st), 0);
  FL_CHECK_EQ(st.drop_udx, 2);
  FL_CHECK_EQ(st.drop_udx_decode, 2);
  FL_CHECK_EQ(st.udx.decode_errors, 2);
  FL_CHECK_EQ(fl_node_check(n), 0);

  /* The node keeps serving: a PING over the same socket is answered and the
   * stream still completes intact. */
  uint64_t rid;
  fl_addr to = sn_addr(&s, 1);
  FL_CHECK_EQ(fl_node_ping(s.nodes[0].n, s.now_us, &to, &rid), 0);
  sn_drain(&s, 0);
  FL_CHECK(sn_run_until(&s, s.now_us + 5 * SEC, 500000));
  FL_CHECK(sn_find_event(&s, 0, FL_EVENT_DHT_RESPONSE, rid) != NULL);
  FL_CHECK_EQ(sides[1].received, 64 * 1024);
  FL_CHECK(sides[1].got_end);
  FL_CHECK_EQ(sides[1].bad_bytes, 0);
  sn_free(&s);
}

/* With DHT replies queued and a stream with a window to send, poll_transmit
 * hands them out in turns. */
static void test_transmit_alternates_dht_and_udx(void) {
  simnet s;
  pattern_seed = fl_test_seed();
  two_nodes(&s, pattern_seed + 2);
  s.on_event = on_udx_event;
  connect_pair(&s);
  fl_node *n = s.nodes[0].n;
  uint8_t big[8192];
  memset(big, 0x42, sizeof big);
  FL_CHECK_EQ(fl_udx_stream_write(fl_node_udx(n), s.now_us, sides[0].id, big, sizeof big),
              (int)sizeof big);
  /* Four PINGs to node 0 queue four replies behind nothing. */
  fl_addr from = sn_addr(&s, 1);
  for (uint8_t k = 0; k < 4; k++) {
    uint8_t ping[11] = {0x03, 0x04, 0x10, k, 127, 0, 0, 1, 0x20, 0x4e, 0x00};
    FL_CHECK_EQ(fl_node_handle_datagram(n, s.now_us, FL_NODE_SOCK_SERVER, &from, ping,
                                        sizeof ping),
                0);
  }
  char kinds[64];
  size_t nk = 0;
  fl_dgram g;
  uint8_t buf[FL_DGRAM_BYTES_MAX];
  while (nk < sizeof kinds - 1 && fl_node_poll_transmit(n, &g, buf, sizeof buf) == 1)
    kinds[nk++] = buf[0] == FL_UDX_MAGIC ? 'u' : 'd';
  kinds[nk] = 0;
  /* 8 KiB is 7+ UDX packets (the initial window takes them all) and 4 DHT
   * replies: they must interleave, one each, until the replies run out. */
  FL_CHECK(nk >= 11);
  size_t d = 0, u = 0;
  for (size_t k = 0; k < 8; k++) {
    FL_CHECK(kinds[k] == (k % 2 == 0 ? kinds[0] : (kinds[0] == 'u' ? 'd' : 'u')));
    d += kinds[k] == 'd';
    u += kinds[k] == 'u';
  }
  FL_CHECK_EQ(d, 4);
  FL_CHECK_EQ(u, 4);
  sn_free(&s);
}

static void test_misuse_config_and_close(void) {
  fl_node_config c;
  fl_node_config_default(&c);
  fl_node *n = NULL;
  /* An invalid UDX config (ooo_max not a power of two) is refused. */
  c.udx.ooo_max = 1000;
  FL_CHECK_EQ(fl_node_new(&c, 1, &n), FL_ERR_INVALID);
  FL_CHECK(n == NULL);
  /* All-zero UDX config = defaults. */
  memset(&c.udx, 0, sizeof c.udx);
  FL_CHECK_EQ(fl_node_new(&c, 1, &n), 0);
  FL_CHECK(fl_node_udx(n) != NULL);
  FL_CHECK(fl_node_udx(NULL) == NULL);
  uint32_t id;
  FL_CHECK_EQ(fl_node_udx_stream_open(n, 2, NULL), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_node_udx_stream_open(n, 2, &id), 0);
  fl_addr to = fl_addr_ipv4(127, 0, 0, 1, 9);
  /* Sockets not open yet. */
  FL_CHECK_EQ(fl_node_udx_stream_connect(n, 3, id, 5, FL_NODE_SOCK_SERVER, &to), FL_ERR_STATE);
  FL_CHECK_EQ(fl_node_udx_stream_connect(n, 3, id, 5, 7, &to), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_node_udx_stream_open(n, 1, &id), FL_ERR_INVALID); /* time backwards */
  fl_node_stats st;
  FL_CHECK_EQ(fl_node_stats_get(n, &st, sizeof st), 0);
  FL_CHECK_EQ(st.udx.streams_cur, 1);
  FL_CHECK_EQ(fl_node_check(n), 0);
  FL_CHECK_EQ(fl_node_close(n, 4), 0);
  FL_CHECK_EQ(fl_node_udx_stream_open(n, 5, &id), FL_ERR_CLOSED);
  FL_CHECK_EQ(fl_node_next_deadline(n), FL_TIME_NONE);
  fl_node_free(n);
}

int main(void) {
  FL_RUN(test_stream_and_dht_share_lossy_sockets);
  FL_RUN(test_malformed_and_unknown_udx_dropped_and_counted);
  FL_RUN(test_transmit_alternates_dht_and_udx);
  FL_RUN(test_misuse_config_and_close);
  return fl_test_done();
}
