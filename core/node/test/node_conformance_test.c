/*
 * One fl_node fed crafted datagrams: exact replies to the captured requests
 * of spec/dht-rpc.md §11, silence and counters for malformed ones, tokens,
 * spoofed tids, the socket-open protocol and API misuse.
 */
#include "flock/node.h"

#include "testing/fl_test.h"

#define B_PORT 20001
#define B_CLIENT 30001
static const char *B_ID = "9b6624720996a60b2786adade908184a455312c01a9e711aab89690c4f4ca56c";

typedef struct one {
  fl_node *n;
  uint64_t now;
  fl_event ev[64];
  size_t nev;
} one;

static size_t unhex(uint8_t *out, size_t cap, const char *hex) {
  size_t n = strlen(hex) / 2;
  if (n > cap) abort();
  fl_test_hex(out, n, hex);
  return n;
}

static void drain_events(one *o) {
  fl_event ev;
  while (fl_node_poll_event(o->n, &ev) == 1) {
    if (ev.type == FL_EVENT_SOCKET_OPEN) {
      fl_addr b = fl_addr_ipv4(127, 0, 0, 1, ev.sock == 0 ? B_PORT : B_CLIENT);
      if (fl_node_socket_opened(o->n, o->now, ev.sock, &b) != 0) abort();
      continue;
    }
    if (o->nev < 64) o->ev[o->nev++] = ev;
  }
}

static int next_tx(one *o, fl_dgram *g, uint8_t *buf) {
  return fl_node_poll_transmit(o->n, g, buf, FL_DGRAM_BYTES_MAX);
}

static size_t drop_tx(one *o) {
  fl_dgram g;
  uint8_t buf[FL_DGRAM_BYTES_MAX];
  size_t k = 0;
  while (next_tx(o, &g, buf) == 1) k++;
  return k;
}

/* The capture's B: DHT.bootstrapper(20001, '127.0.0.1'), persistent at once. */
static void make_b(one *o, bool user_requests) {
  memset(o, 0, sizeof *o);
  o->now = 5000000;
  fl_node_config c;
  fl_node_config_default(&c);
  fl_addr host = fl_addr_ipv4(127, 0, 0, 1, 0);
  if (fl_node_config_bootstrapper(&c, &host, B_PORT) != 0) abort();
  c.user_requests = user_requests;
  c.seed[0] = 7;
  if (fl_node_new(&c, o->now, &o->n) != 0) abort();
  drain_events(o);
  drain_events(o);
  drop_tx(o);
}

static void feed(one *o, uint16_t from_port, const char *hex) {
  uint8_t in[512];
  size_t n = unhex(in, sizeof in, hex);
  fl_addr from = fl_addr_ipv4(127, 0, 0, 1, from_port);
  o->now += 1000;
  if (fl_node_handle_datagram(o->n, o->now, 0, &from, in, n) != 0) abort();
  drain_events(o);
}

static void stats(one *o, fl_node_stats *st) {
  if (fl_node_stats_get(o->n, st, sizeof *st) != 0) abort();
}

static void test_node_bootstrapper_turns_persistent_with_address_id(void) {
  one o;
  make_b(&o, false);
  uint8_t id[32], want[32];
  fl_test_hex(want, 32, B_ID);
  FL_CHECK_EQ(fl_node_id(o.n, id), 1);
  FL_CHECK_MEM(id, want, 32);
  uint32_t s = fl_node_state(o.n);
  FL_CHECK(s & FL_NODE_S_BOOTSTRAPPED);
  FL_CHECK(s & FL_NODE_S_PERSISTENT);
  FL_CHECK(!(s & FL_NODE_S_FIREWALLED));
  bool ready = false, persistent = false;
  for (size_t i = 0; i < o.nev; i++) {
    if (o.ev[i].type == FL_EVENT_DHT_READY) ready = true;
    if (o.ev[i].type == FL_EVENT_DHT_PERSISTENT) persistent = true;
  }
  FL_CHECK(ready && persistent);
  fl_node_free(o.n);
}

static void expect_reply(one *o, uint16_t to_port, const char *hex) {
  fl_dgram g;
  uint8_t buf[FL_DGRAM_BYTES_MAX], want[512];
  size_t n = unhex(want, sizeof want, hex);
  FL_CHECK_EQ(next_tx(o, &g, buf), 1);
  FL_CHECK_EQ(g.sock, 0);
  FL_CHECK_EQ(g.to.port, to_port);
  FL_CHECK_EQ(g.len, n);
  FL_CHECK_MEM(buf, want, n);
}

/* §11.1: PING from N2 (with its id) gets B's 42-byte reply, byte for byte. */
static void test_node_ping_reply_matches_capture(void) {
  one o;
  make_b(&o, false);
  feed(&o, 20002, "03051d9d7f000001214e9e11f7b645f911a069349236ef5aab5aa4e41e5a6dfc"
                  "bc81d2fad1f0ce3fa87b00");
  fl_dgram g;
  uint8_t buf[FL_DGRAM_BYTES_MAX], want[64];
  unhex(want, sizeof want, "13011d9d7f000001224e9b6624720996a60b2786adade908184a455312c01a9e"
                           "711aab89690c4f4ca56c");
  FL_CHECK_EQ(next_tx(&o, &g, buf), 1);
  FL_CHECK_EQ(g.len, 42);
  FL_CHECK_EQ(g.to.port, 20002);
  FL_CHECK_MEM(buf, want, 42);
  FL_CHECK_EQ(next_tx(&o, &g, buf), 0);
  /* N2's valid id put it in the table */
  fl_addr t[4];
  FL_CHECK_EQ(fl_node_table(o.n, t, NULL, 4), 1);
  FL_CHECK_EQ(t[0].port, 20002);
  /* E's id-less PING: 11 bytes in, 42 out, to E's client port */
  feed(&o, 35128, "030414527f000001214e00");
  FL_CHECK_EQ(next_tx(&o, &g, buf), 1);
  FL_CHECK_EQ(g.len, 42);
  FL_CHECK_EQ(g.to.port, 35128);
  FL_CHECK_EQ(buf[1], 0x01);
  fl_node_free(o.n);
}

/* §11.3: PING_NAT answers to the port in the value. */
static void test_node_ping_nat_reply_matches_capture(void) {
  one o;
  make_b(&o, false);
  feed(&o, 35128, "031411527f000001214e01022a4e");
  expect_reply(&o, 20010, "130111527f0000012a4e9b6624720996a60b2786adade908184a455312c01a9e"
                          "711aab89690c4f4ca56c");
  /* port 0 and a short value: silence, counted */
  fl_node_stats st;
  feed(&o, 35128, "031411527f000001214e01020000");
  feed(&o, 35128, "031411527f000001214e01012a");
  feed(&o, 35128, "030411527f000001214e01");
  FL_CHECK_EQ(drop_tx(&o), 0);
  stats(&o, &st);
  FL_CHECK_EQ(st.drop_malformed_value, 3);
  fl_node_free(o.n);
}

static void add_capture_nodes(one *o) {
  for (uint16_t p = 20002; p <= 20005; p++) {
    fl_addr a = fl_addr_ipv4(127, 0, 0, 1, p);
    if (fl_node_add_node(o->n, o->now, &a) != 0) abort();
  }
}

/* §11.2: FIND_NODE lists the table's nodes, XOR-sorted (the reference sends
 * row order N3 N5 N4 N2; XOR order is N3 N2 N5 N4, spec §2). */
static void test_node_find_node_reply_is_xor_sorted(void) {
  one o;
  make_b(&o, false);
  add_capture_nodes(&o);
  feed(&o, 35128, "030c19527f000001214e02ababababababababababababababababababababab"
                  "ababababababababababab");
  expect_reply(&o, 35128, "130519527f00000138899b6624720996a60b2786adade908184a455312c01a9e"
                          "711aab89690c4f4ca56c047f000001234e7f000001224e7f000001254e7f0000"
                          "01244e");
  /* FIND_NODE without a target: silence */
  feed(&o, 35128, "030419527f000001214e02");
  FL_CHECK_EQ(drop_tx(&o), 0);
  fl_node_stats st;
  stats(&o, &st);
  FL_CHECK_EQ(st.drop_no_target, 1);
  fl_node_free(o.n);
}

/* §11.5: a user command with no listener: error 1 after the closer nodes. */
static void test_node_unknown_user_command_gets_error_1(void) {
  one o;
  make_b(&o, false);
  add_capture_nodes(&o);
  feed(&o, 35128, "03081a527f000001234e4dababababababababababababababababababababab"
                  "ababababababababababab");
  fl_dgram g;
  uint8_t buf[FL_DGRAM_BYTES_MAX];
  FL_CHECK_EQ(next_tx(&o, &g, buf), 1);
  FL_CHECK_EQ(g.len, 68);
  FL_CHECK_EQ(buf[1], 0x0d);
  FL_CHECK_EQ(buf[42], 4);
  FL_CHECK_EQ(buf[67], 1);
  /* no target: 43 bytes, flags 09 */
  feed(&o, 35128, "03001b527f000001234e4d");
  FL_CHECK_EQ(next_tx(&o, &g, buf), 1);
  FL_CHECK_EQ(g.len, 43);
  FL_CHECK_EQ(buf[1], 0x09);
  /* an unknown internal command: the same */
  feed(&o, 35128, "03041c527f000001234e09");
  FL_CHECK_EQ(next_tx(&o, &g, buf), 1);
  FL_CHECK_EQ(buf[1], 0x09);
  FL_CHECK_EQ(buf[42], 1);
  fl_node_free(o.n);
}

/* §1: a bogus token gets error 2 and a fresh token; echoing it is accepted. */
static void test_node_bad_token_then_echo(void) {
  one o;
  make_b(&o, false);
  char req[256];
  strcpy(req, "030608007f000001cbaf");
  for (int i = 0; i < 32; i++) strcat(req, "01");
  strcat(req, "00");
  feed(&o, 42317, req);
  fl_dgram g;
  uint8_t buf[FL_DGRAM_BYTES_MAX], tok[32];
  FL_CHECK_EQ(next_tx(&o, &g, buf), 1);
  FL_CHECK_EQ(g.len, 75);
  FL_CHECK_EQ(buf[1], 0x0b);
  FL_CHECK_EQ(buf[74], 2);
  memcpy(tok, buf + 42, 32);
  fl_node_stats st;
  stats(&o, &st);
  FL_CHECK_EQ(st.drop_bad_token, 1);
  FL_CHECK_EQ(fl_node_table(o.n, NULL, NULL, 8), 0);
  /* the same IP from another port presents the token: plain PING reply */
  uint8_t ping[43] = {0x03, 0x06, 0x09, 0x00, 127, 0, 0, 1, 0xaf, 0xcb};
  memcpy(ping + 10, tok, 32);
  ping[42] = 0;
  fl_addr from = fl_addr_ipv4(127, 0, 0, 1, 40000);
  FL_CHECK_EQ(fl_node_handle_datagram(o.n, o.now, 0, &from, ping, sizeof ping), 0);
  FL_CHECK_EQ(next_tx(&o, &g, buf), 1);
  FL_CHECK_EQ(g.len, 42);
  FL_CHECK_EQ(buf[1], 0x01);
  /* the token survives one rotation (7.5 s) and dies after two */
  for (uint64_t t = 0; t < 8000000; t += 250000) {
    o.now += 250000;
    FL_CHECK_EQ(fl_node_handle_timeout(o.n, o.now), 0);
  }
  drop_tx(&o);
  ping[2] = 0x0b;
  FL_CHECK_EQ(fl_node_handle_datagram(o.n, o.now, 0, &from, ping, sizeof ping), 0);
  FL_CHECK_EQ(next_tx(&o, &g, buf), 1);
  FL_CHECK_EQ(buf[1], 0x01); /* still good after one rotation */
  for (uint64_t t = 0; t < 8000000; t += 250000) {
    o.now += 250000;
    FL_CHECK_EQ(fl_node_handle_timeout(o.n, o.now), 0);
  }
  drop_tx(&o);
  ping[2] = 0x0a;
  FL_CHECK_EQ(fl_node_handle_datagram(o.n, o.now, 0, &from, ping, sizeof ping), 0);
  FL_CHECK_EQ(next_tx(&o, &g, buf), 1);
  FL_CHECK_EQ(buf[1], 0x0b); /* error 2 again */
  fl_node_free(o.n);
}

/* §11.4: DOWN_HINT about a table node: empty reply and a liveness PING. */
static void test_node_down_hint_checks_the_node(void) {
  one o;
  make_b(&o, false);
  add_capture_nodes(&o);
  feed(&o, 35128, "031422527f000001244e03067f000001254e");
  fl_dgram g;
  uint8_t buf[FL_DGRAM_BYTES_MAX];
  int saw_ping = 0, saw_reply = 0;
  while (next_tx(&o, &g, buf) == 1) {
    if (buf[0] == 0x03 && g.to.port == 20005 && buf[42] == 0) saw_ping++;
    if (buf[0] == 0x13 && g.to.port == 35128 && g.len == 42 && buf[1] == 0x01) saw_reply++;
  }
  FL_CHECK_EQ(saw_ping, 1);
  FL_CHECK_EQ(saw_reply, 1);
  /* N5 never answers: after 4 sends it leaves the table */
  for (int i = 0; i < 50; i++) {
    o.now += 100000;
    FL_CHECK_EQ(fl_node_handle_timeout(o.n, o.now), 0);
  }
  drop_tx(&o);
  fl_addr t[8];
  size_t n = fl_node_table(o.n, t, NULL, 8);
  FL_CHECK_EQ(n, 3);
  for (size_t i = 0; i < n; i++) FL_CHECK(t[i].port != 20005);
  /* a short value: no reply */
  feed(&o, 35128, "031423527f000001244e03057f00000125");
  FL_CHECK_EQ(drop_tx(&o), 0);
  fl_node_free(o.n);
}

static void test_node_delayed_ping_waits_and_is_bounded(void) {
  one o;
  make_b(&o, false);
  /* DELAYED_PING 500 ms */
  feed(&o, 35128, "031430527f000001214e0404f4010000");
  FL_CHECK_EQ(drop_tx(&o), 0);
  uint64_t due = o.now + 500000;
  FL_CHECK(fl_node_next_deadline(o.n) <= due);
  while (o.now < due - 1000) {
    o.now = fl_node_next_deadline(o.n);
    if (o.now >= due) break;
    FL_CHECK_EQ(fl_node_handle_timeout(o.n, o.now), 0);
    FL_CHECK_EQ(drop_tx(&o), 0);
  }
  o.now = due;
  FL_CHECK_EQ(fl_node_handle_timeout(o.n, o.now), 0);
  fl_dgram g;
  uint8_t buf[FL_DGRAM_BYTES_MAX];
  FL_CHECK_EQ(next_tx(&o, &g, buf), 1);
  FL_CHECK_EQ(buf[2], 0x30);
  FL_CHECK_EQ(g.len, 42);
  /* over maxPingDelay (10001 ms): silence */
  feed(&o, 35128, "031431527f000001214e040411270000");
  /* flood past the limit */
  for (unsigned i = 0; i < FL_NODE_DELAYED_MAX + 10; i++)
    feed(&o, 35128, "031432527f000001214e0404e8030000");
  fl_node_stats st;
  stats(&o, &st);
  FL_CHECK_EQ(st.drop_delay_too_long, 1);
  FL_CHECK_EQ(st.delayed_dropped, 10);
  FL_CHECK_EQ(st.delayed_hw, FL_NODE_DELAYED_MAX);
  fl_node_free(o.n);
}

static const char *REQS[] = {
    "03051d9d7f000001214e9e11f7b645f911a069349236ef5aab5aa4e41e5a6dfcbc81d2fad1f0ce3fa87b00",
    "030c19527f000001214e02abababababababababababababababababababababababababababababababab",
    "031411527f000001214e01022a4e",
    "031422527f000001244e03067f000001254e",
    "03101b527f000001244e4d026869",
};

/* Every truncation of every captured request: silence, drop_decode counted,
 * and the node still answers afterwards. */
static void test_node_truncations_are_dropped_and_counted(void) {
  one o;
  make_b(&o, false);
  uint64_t expect = 0, expect_short = 0;
  for (size_t r = 0; r < sizeof REQS / sizeof REQS[0]; r++) {
    uint8_t in[128];
    size_t n = unhex(in, sizeof in, REQS[r]);
    for (size_t cut = 0; cut < n; cut++) {
      fl_addr from = fl_addr_ipv4(127, 0, 0, 1, 35128);
      o.now++;
      FL_CHECK_EQ(fl_node_handle_datagram(o.n, o.now, 0, &from, in, cut), 0);
      if (cut < 2) expect_short++;
      else expect++;
    }
  }
  FL_CHECK_EQ(drop_tx(&o), 0);
  fl_node_stats st;
  stats(&o, &st);
  FL_CHECK_EQ(st.drop_decode, expect);
  FL_CHECK_EQ(st.drop_short, expect_short);
  feed(&o, 35128, "030414527f000001214e00");
  FL_CHECK_EQ(drop_tx(&o), 1);
  fl_node_free(o.n);
}

static void test_node_spoofed_and_garbage_datagrams(void) {
  one o;
  make_b(&o, false);
  /* a response whose tid matches nothing */
  feed(&o, 20002, "13011d9d7f000001224e9e11f7b645f911a069349236ef5aab5aa4e41e5a6dfc"
                  "bc81d2fad1f0ce3fa87b");
  /* a UDX-looking packet (0xff 0x01, 20 bytes) and other first bytes */
  feed(&o, 20002, "ff01000000000000000000000000000000000000");
  feed(&o, 20002, "ff00");
  feed(&o, 20002, "4142434445");
  /* source port 0 */
  uint8_t ping[11];
  unhex(ping, sizeof ping, "030414527f000001214e00");
  fl_addr p0 = fl_addr_ipv4(127, 0, 0, 1, 0);
  FL_CHECK_EQ(fl_node_handle_datagram(o.n, o.now, 0, &p0, ping, sizeof ping), 0);
  /* a request with an id that does not match its source: answered, not learned */
  feed(&o, 20099, "03051d9d7f000001214e9e11f7b645f911a069349236ef5aab5aa4e41e5a6dfc"
                  "bc81d2fad1f0ce3fa87b00");
  FL_CHECK_EQ(drop_tx(&o), 1);
  fl_node_stats st;
  stats(&o, &st);
  FL_CHECK_EQ(st.drop_unmatched_response, 1);
  FL_CHECK_EQ(st.drop_udx, 1);
  FL_CHECK_EQ(st.drop_unknown_type, 2);
  FL_CHECK_EQ(st.drop_port0, 1);
  FL_CHECK_EQ(st.drop_invalid_id, 1);
  FL_CHECK_EQ(fl_node_table(o.n, NULL, NULL, 8), 0);
  fl_node_free(o.n);
}

static void test_node_api_misuse(void) {
  one o;
  make_b(&o, false);
  fl_addr from = fl_addr_ipv4(127, 0, 0, 1, 1234);
  uint8_t ping[11];
  unhex(ping, sizeof ping, "030414527f000001214e00");
  FL_CHECK_EQ(fl_node_handle_datagram(o.n, o.now - 1, 0, &from, ping, 11), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_node_handle_timeout(o.n, o.now - 1), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_node_handle_datagram(o.n, o.now, 7, &from, ping, 11), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_node_handle_datagram(o.n, o.now, 0, NULL, ping, 11), FL_ERR_INVALID);
  FL_CHECK_EQ(drop_tx(&o), 0);
  fl_dgram g;
  uint8_t small[16];
  FL_CHECK_EQ(fl_node_poll_transmit(o.n, &g, small, sizeof small), FL_ERR_BUFFER);
  uint64_t id;
  fl_addr bad = fl_addr_ipv4(127, 0, 0, 1, 0);
  FL_CHECK_EQ(fl_node_ping(o.n, o.now, &bad, &id), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_node_reply(o.n, o.now, 12345, NULL, 0, 0), FL_ERR_NOT_FOUND);
  FL_CHECK_EQ(fl_node_query_cancel(o.n, o.now, 999), FL_ERR_NOT_FOUND);
  FL_CHECK_EQ(fl_node_socket_opened(o.n, o.now, 0, &from), FL_ERR_STATE);
  fl_node_config c;
  fl_node_config_default(&c);
  c.mode = 9;
  fl_node *n2 = (fl_node *)&c;
  FL_CHECK_EQ(fl_node_new(&c, 0, &n2), FL_ERR_INVALID);
  FL_CHECK(n2 == NULL);
  fl_node_free(o.n);
}

/* The node waits for its sockets; a server bind failure tries port+1. */
static void test_node_socket_open_protocol(void) {
  fl_node_config c;
  fl_node_config_default(&c);
  c.port = 49737;
  c.host = fl_addr_ipv4(127, 0, 0, 1, 0);
  fl_node *n;
  FL_CHECK_EQ(fl_node_new(&c, 0, &n), 0);
  fl_event ev[4];
  FL_CHECK_EQ(fl_node_poll_event(n, &ev[0]), 1);
  FL_CHECK_EQ(fl_node_poll_event(n, &ev[1]), 1);
  FL_CHECK_EQ(fl_node_poll_event(n, &ev[2]), 0);
  FL_CHECK_EQ(ev[0].type, FL_EVENT_SOCKET_OPEN);
  FL_CHECK_EQ(ev[0].sock, 0);
  FL_CHECK_EQ(ev[0].addr.port, 49737);
  FL_CHECK_EQ(ev[0].addr.ip[0], 127);
  FL_CHECK_EQ(ev[1].sock, 1);
  FL_CHECK_EQ(ev[1].addr.port, 0);
  FL_CHECK_EQ(fl_node_next_deadline(n), FL_TIME_NONE);
  FL_CHECK_EQ(fl_node_socket_failed(n, 1, 0, -1), 0);
  FL_CHECK_EQ(fl_node_poll_event(n, &ev[2]), 1);
  FL_CHECK_EQ(ev[2].addr.port, 49738);
  fl_addr b0 = fl_addr_ipv4(127, 0, 0, 1, 49738), b1 = fl_addr_ipv4(127, 0, 0, 1, 50000);
  FL_CHECK_EQ(fl_node_socket_opened(n, 2, 0, &b0), 0);
  FL_CHECK(!(fl_node_state(n) & FL_NODE_S_BOUND));
  uint64_t q;
  uint8_t target[32] = {0};
  FL_CHECK_EQ(fl_node_find_node(n, 2, target, &q), FL_ERR_STATE);
  FL_CHECK_EQ(fl_node_socket_opened(n, 3, 1, &b1), 0);
  FL_CHECK(fl_node_state(n) & FL_NODE_S_BOUND);
  FL_CHECK(fl_node_next_deadline(n) != FL_TIME_NONE);
  fl_addr la;
  FL_CHECK_EQ(fl_node_local_addr(n, 0, &la), 0);
  FL_CHECK_EQ(la.port, 49738);
  fl_node_free(n);
}

static void test_node_user_request_surfaces_and_is_answered(void) {
  one o;
  make_b(&o, true);
  add_capture_nodes(&o);
  feed(&o, 35128, "03181b527f000001244e4dabababababababababababababababababababababab"
                  "abababababababababab026869");
  const fl_event *u = NULL;
  for (size_t i = 0; i < o.nev; i++)
    if (o.ev[i].type == FL_EVENT_DHT_USER_REQUEST) u = &o.ev[i];
  FL_CHECK(u != NULL);
  FL_CHECK_EQ(u->code, 77);
  FL_CHECK(u->flags & FL_EVENT_F_TARGET);
  FL_CHECK_EQ(u->key[0], 0xab);
  uint64_t h = u->id;
  FL_CHECK_EQ(drop_tx(&o), 0);
  FL_CHECK_EQ(fl_node_reply(o.n, o.now, h, (const uint8_t *)"ok", 2, 0), 0);
  fl_dgram g;
  uint8_t buf[FL_DGRAM_BYTES_MAX];
  FL_CHECK_EQ(next_tx(&o, &g, buf), 1);
  FL_CHECK_EQ(buf[1], 0x17); /* id + token + closer + value */
  FL_CHECK_EQ(buf[2], 0x1b);
  FL_CHECK_EQ(g.len, 10 + 32 + 32 + 1 + 4 * 6 + 3);
  FL_CHECK_MEM(buf + g.len - 3, "\x02ok", 3);
  FL_CHECK_EQ(fl_node_reply(o.n, o.now, h, NULL, 0, 0), FL_ERR_NOT_FOUND);
  /* flood: the oldest unanswered are evicted and counted */
  for (unsigned i = 0; i < FL_NODE_USER_REQUESTS_MAX + 5; i++)
    feed(&o, 35128, "03101b527f000001244e4d026869");
  fl_node_stats st;
  stats(&o, &st);
  FL_CHECK_EQ(st.user_dropped, 5);
  FL_CHECK_EQ(st.user_hw, FL_NODE_USER_REQUESTS_MAX);
  fl_node_free(o.n);
}

/* fl_node_close: queries and requests end with FL_ERR_CLOSED, the driver
 * is asked to close both sockets, and the node goes quiet. */
static void test_node_close(void) {
  one o;
  make_b(&o, false);
  add_capture_nodes(&o);
  uint64_t rid, qid;
  fl_addr to = fl_addr_ipv4(127, 0, 0, 1, 20002);
  uint8_t target[32] = {9};
  FL_CHECK_EQ(fl_node_ping(o.n, o.now, &to, &rid), 0);
  FL_CHECK_EQ(fl_node_find_node(o.n, o.now, target, &qid), 0);
  drop_tx(&o);
  feed(&o, 35128, "031430527f000001214e0404f4010000"); /* a pending delayed ping */
  o.nev = 0;
  FL_CHECK_EQ(fl_node_close(o.n, o.now), 0);
  drain_events(&o);
  int failed = 0, done = 0, closes = 0;
  for (size_t i = 0; i < o.nev; i++) {
    if (o.ev[i].type == FL_EVENT_DHT_REQUEST_FAILED && o.ev[i].id == rid)
      failed += o.ev[i].code == FL_ERR_CLOSED;
    if (o.ev[i].type == FL_EVENT_DHT_QUERY_DONE && o.ev[i].id == qid)
      done += o.ev[i].code == FL_ERR_CLOSED;
    if (o.ev[i].type == FL_EVENT_SOCKET_CLOSE) closes |= 1 << o.ev[i].sock;
  }
  FL_CHECK_EQ(failed, 1);
  FL_CHECK_EQ(done, 1);
  FL_CHECK_EQ(closes, 3);
  FL_CHECK_EQ(fl_node_next_deadline(o.n), FL_TIME_NONE);
  FL_CHECK_EQ(drop_tx(&o), 0);
  feed(&o, 35128, "030414527f000001214e00");
  FL_CHECK_EQ(drop_tx(&o), 0);
  fl_node_stats st;
  stats(&o, &st);
  FL_CHECK_EQ(st.drop_closed, 1);
  FL_CHECK_EQ(st.requests_active, 0);
  FL_CHECK_EQ(st.queries_active, 0);
  FL_CHECK_EQ(fl_node_ping(o.n, o.now, &to, &rid), FL_ERR_CLOSED);
  FL_CHECK_EQ(fl_node_close(o.n, o.now), FL_ERR_CLOSED);
  FL_CHECK_EQ(fl_node_check(o.n), 0);
  o.now += 20000000;
  FL_CHECK_EQ(fl_node_handle_timeout(o.n, o.now), 0);
  FL_CHECK_EQ(drop_tx(&o), 0); /* the delayed ping never answers */
  fl_node_free(o.n);
}

int main(void) {
  FL_RUN(test_node_close);
  FL_RUN(test_node_bootstrapper_turns_persistent_with_address_id);
  FL_RUN(test_node_ping_reply_matches_capture);
  FL_RUN(test_node_ping_nat_reply_matches_capture);
  FL_RUN(test_node_find_node_reply_is_xor_sorted);
  FL_RUN(test_node_unknown_user_command_gets_error_1);
  FL_RUN(test_node_bad_token_then_echo);
  FL_RUN(test_node_down_hint_checks_the_node);
  FL_RUN(test_node_delayed_ping_waits_and_is_bounded);
  FL_RUN(test_node_truncations_are_dropped_and_counted);
  FL_RUN(test_node_spoofed_and_garbage_datagrams);
  FL_RUN(test_node_api_misuse);
  FL_RUN(test_node_socket_open_protocol);
  FL_RUN(test_node_user_request_surfaces_and_is_answered);
  return fl_test_done();
}
