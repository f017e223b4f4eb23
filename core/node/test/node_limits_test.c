/*
 * Every bounded thing of fl_node hit on purpose: the congestion window
 * holding sends back, the in-flight table, the transmit and event queues,
 * the query table and a query's seen list; and the retry counts of pings
 * (4 sends) and query visits (6 sends).
 */
#include "flock/node.h"

#include "testing/fl_test.h"

static uint64_t now;

static fl_node *make(fl_node_config *c) {
  fl_node *n;
  fl_addr host = fl_addr_ipv4(127, 0, 0, 1, 0);
  if (fl_node_config_bootstrapper(c, &host, 20001) != 0) abort();
  now = 1000000;
  if (fl_node_new(c, now, &n) != 0) abort();
  fl_event ev;
  while (fl_node_poll_event(n, &ev) == 1) {
    if (ev.type != FL_EVENT_SOCKET_OPEN) continue;
    fl_addr b = fl_addr_ipv4(127, 0, 0, 1, ev.sock ? 30001 : 20001);
    if (fl_node_socket_opened(n, now, ev.sock, &b) != 0) abort();
  }
  return n;
}

static size_t count_tx(fl_node *n, uint16_t port) {
  fl_dgram g;
  uint8_t buf[FL_DGRAM_BYTES_MAX];
  size_t k = 0;
  while (fl_node_poll_transmit(n, &g, buf, sizeof buf) == 1) k += port == 0 || g.to.port == port;
  return k;
}

static void drain_events(fl_node *n) {
  fl_event ev;
  while (fl_node_poll_event(n, &ev) == 1) {
  }
}

static fl_node_stats stats(fl_node *n) {
  fl_node_stats st;
  if (fl_node_stats_get(n, &st, sizeof st) != 0) abort();
  return st;
}

static void test_node_congestion_window_holds_sends_back(void) {
  fl_node_config c;
  fl_node_config_default(&c);
  c.max_window = 4;
  fl_node *n = make(&c);
  count_tx(n, 0);
  uint64_t id;
  for (int i = 0; i < 10; i++) {
    fl_addr to = fl_addr_ipv4(127, 0, 0, 1, (uint16_t)(40000 + i));
    FL_CHECK_EQ(fl_node_ping(n, now, &to, &id), 0);
  }
  FL_CHECK_EQ(count_tx(n, 0), 4);
  fl_node_stats st = stats(n);
  FL_CHECK_EQ(st.congestion_queued, 6);
  FL_CHECK_EQ(st.congestion_hw, 6);
  /* the next drain (750 ms) opens a fresh slot: 4 more; then the total cap
   * (2 x window over 4 slots) holds the rest until the oldest slot clears */
  now += 750000;
  FL_CHECK_EQ(fl_node_handle_timeout(n, now), 0);
  FL_CHECK_EQ(count_tx(n, 0), 4);
  FL_CHECK_EQ(fl_node_handle_timeout(n, now), 0);
  FL_CHECK_EQ(count_tx(n, 0), 0);
  fl_node_free(n);
}

static void test_node_inflight_limit_refuses_and_counts(void) {
  fl_node_config c;
  fl_node_config_default(&c);
  c.inflight_max = 16;
  fl_node *n = make(&c);
  uint64_t id;
  int ok = 0, refused = 0;
  for (int i = 0; i < 20; i++) {
    fl_addr to = fl_addr_ipv4(127, 0, 0, 1, (uint16_t)(40000 + i));
    int rc = fl_node_ping(n, now, &to, &id);
    if (rc == 0) ok++;
    if (rc == FL_ERR_LIMIT) refused++;
  }
  FL_CHECK_EQ(ok, 16);
  FL_CHECK_EQ(refused, 4);
  fl_node_stats st = stats(n);
  FL_CHECK_EQ(st.inflight_dropped, 4);
  FL_CHECK_EQ(st.requests_active_hw, 16);
  fl_node_free(n);
}

static void test_node_tx_and_event_queues_drop_newest(void) {
  fl_node_config c;
  fl_node_config_default(&c);
  c.tx_max = 8;
  c.events_max = 8;
  c.user_requests = true;
  fl_node *n = make(&c);
  drain_events(n);
  count_tx(n, 0);
  static const uint8_t ping[11] = {0x03, 0x04, 1, 0, 127, 0, 0, 1, 0x21, 0x4e, 0};
  static const uint8_t user[11] = {0x03, 0x00, 1, 0, 127, 0, 0, 1, 0x21, 0x4e, 5};
  fl_addr from = fl_addr_ipv4(127, 0, 0, 1, 5555);
  for (int i = 0; i < 12; i++) {
    FL_CHECK_EQ(fl_node_handle_datagram(n, now, 0, &from, ping, sizeof ping), 0);
    FL_CHECK_EQ(fl_node_handle_datagram(n, now, 0, &from, user, sizeof user), 0);
  }
  fl_node_stats st = stats(n);
  FL_CHECK_EQ(st.tx_queue_dropped, 4);
  FL_CHECK_EQ(st.tx_queue_hw, 8);
  FL_CHECK_EQ(st.event_queue_dropped, 4);
  FL_CHECK_EQ(st.event_queue_hw, 8);
  FL_CHECK_EQ(count_tx(n, 5555), 8);
  /* drained, it serves again */
  FL_CHECK_EQ(fl_node_handle_datagram(n, now, 0, &from, ping, sizeof ping), 0);
  FL_CHECK_EQ(count_tx(n, 5555), 1);
  fl_node_free(n);
}

static void test_node_query_limit(void) {
  fl_node_config c;
  fl_node_config_default(&c);
  c.queries_max = 2;
  fl_node *n = make(&c);
  for (uint16_t p = 40000; p < 40005; p++) {
    fl_addr a = fl_addr_ipv4(127, 0, 0, 1, p);
    FL_CHECK_EQ(fl_node_add_node(n, now, &a), 0);
  }
  uint8_t target[32] = {1};
  uint64_t q1, q2, q3;
  FL_CHECK_EQ(fl_node_find_node(n, now, target, &q1), 0);
  FL_CHECK_EQ(fl_node_find_node(n, now, target, &q2), 0);
  FL_CHECK_EQ(fl_node_find_node(n, now, target, &q3), FL_ERR_LIMIT);
  fl_node_stats st = stats(n);
  FL_CHECK_EQ(st.queries_dropped, 1);
  FL_CHECK_EQ(st.queries_active, 2);
  FL_CHECK_EQ(fl_node_query_cancel(n, now, q1), 0);
  FL_CHECK_EQ(fl_node_find_node(n, now, target, &q3), 0);
  fl_event ev;
  bool cancelled = false;
  while (fl_node_poll_event(n, &ev) == 1)
    if (ev.type == FL_EVENT_DHT_QUERY_DONE && ev.id == q1) cancelled = ev.code == FL_ERR_CLOSED;
  FL_CHECK(cancelled);
  fl_node_free(n);
}

/* Pings: 4 sends 1 s apart; query visits: 6 sends (dht-rpc retries 3 / 5). */
static void test_node_retry_counts(void) {
  fl_node_config c;
  fl_node_config_default(&c);
  fl_node *n = make(&c);
  count_tx(n, 0);
  drain_events(n);
  uint64_t id;
  fl_addr silent = fl_addr_ipv4(127, 0, 0, 1, 41000);
  FL_CHECK_EQ(fl_node_ping(n, now, &silent, &id), 0);
  fl_addr dead = fl_addr_ipv4(127, 0, 0, 1, 42000);
  FL_CHECK_EQ(fl_node_add_node(n, now, &dead), 0);
  uint8_t target[32] = {7};
  uint64_t q;
  FL_CHECK_EQ(fl_node_find_node(n, now, target, &q), 0);
  size_t pings = 0, visits = 0;
  bool failed = false, done = false;
  for (int step = 0; step < 100 && !(failed && done); step++) {
    if (step) now += 100000;
    FL_CHECK_EQ(fl_node_handle_timeout(n, now), 0);
    fl_dgram g;
    uint8_t buf[FL_DGRAM_BYTES_MAX];
    while (fl_node_poll_transmit(n, &g, buf, sizeof buf) == 1) {
      pings += g.to.port == 41000;
      visits += g.to.port == 42000 && buf[0] == 0x03 && buf[g.len - 33] == 2;
    }
    fl_event ev;
    while (fl_node_poll_event(n, &ev) == 1) {
      if (ev.type == FL_EVENT_DHT_REQUEST_FAILED && ev.id == id) {
        failed = true;
        FL_CHECK_EQ(ev.code, FL_ERR_TIMEOUT);
        FL_CHECK(now >= 1000000 + 4000000);
      }
      if (ev.type == FL_EVENT_DHT_QUERY_DONE && ev.id == q) done = true;
    }
  }
  FL_CHECK(failed && done);
  FL_CHECK_EQ(pings, 4);
  FL_CHECK_EQ(visits, 6);
  /* the dead node was addressed with its id: its final timeout removed it */
  FL_CHECK_EQ(fl_node_table(n, NULL, NULL, 8), 0);
  fl_node_stats st = stats(n);
  FL_CHECK(st.timeouts >= 2);
  FL_CHECK(st.retries >= 8);
  fl_node_free(n);
}

int main(void) {
  FL_RUN(test_node_congestion_window_holds_sends_back);
  FL_RUN(test_node_inflight_limit_refuses_and_counts);
  FL_RUN(test_node_tx_and_event_queues_drop_newest);
  FL_RUN(test_node_query_limit);
  FL_RUN(test_node_retry_counts);
  return fl_test_done();
}
