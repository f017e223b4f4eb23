/*
 * udx_stream_test.c — two (or three) fl_udx instances back to back over the
 * in-memory link of udx_net.h, in virtual time: bulk transfers under loss
 * and reordering, SACK and retransmission, flow control, end/destroy, a
 * vanished peer, messages, relaying and MTU probing.
 */
#include "testing/fl_test.h"
#include "udx/test/udx_net.h"

static int both_closed(net *t) { return t->app[0].got_close && t->app[1].got_close; }
static int no_streams(net *t) {
  fl_udx_stats a, b;
  fl_udx_get_stats(t->u[0], &a);
  fl_udx_get_stats(t->u[1], &b);
  return a.streams_cur == 0 && b.streams_cur == 0;
}
static int b_got_all(net *t) { return t->app[1].received >= t->app[0].to_send; }

/* Both directions at once, each ending after `bytes`; both must see the
 * other's END, then close cleanly with every byte intact. */
static void bulk(double loss, double reorder, uint64_t bytes, double bytes_per_us,
                 fl_udx_stats *st_out) {
  net t;
  FL_CHECK_EQ(net_init(&t, 2, fl_test_seed(), NULL), 0);
  t.loss = loss;
  t.reorder = reorder;
  t.jitter_us = 20000;
  t.bytes_per_us = bytes_per_us;
  FL_CHECK_EQ(net_connect(&t, 0, 0x11223344, 1, 0x55667788), 0);
  for (int i = 0; i < 2; i++) {
    t.app[i].to_send = bytes;
    t.app[i].end_after = 1;
  }
  int ok = net_run(&t, both_closed, 20000000, 600000000);
  FL_CHECK(ok);
  FL_CHECK_EQ(t.check_failures, 0);
  for (int i = 0; i < 2; i++) {
    FL_CHECK_EQ(t.app[i].received, bytes);
    FL_CHECK_EQ(t.app[i].corrupt, 0);
    FL_CHECK(t.app[i].got_end);
    FL_CHECK_EQ(t.app[i].close_code, 0);
  }
  /* Closed streams are freed once their CLOSE was polled and the linger
   * for a lost final ACK has passed. */
  FL_CHECK(net_run(&t, no_streams, 100000, 100000000));
  fl_udx_get_stats(t.u[0], st_out);
  net_free(&t);
}

static void test_udx_bulk_clean_link_intact_and_mtu_grows(void) {
  net t;
  FL_CHECK_EQ(net_init(&t, 2, fl_test_seed(), NULL), 0);
  FL_CHECK_EQ(net_connect(&t, 0, 1, 1, 2), 0);
  t.bytes_per_us = 12.5; /* 100 Mbit/s: enough round trips for every probe step */
  t.app[0].to_send = 4u << 20;
  FL_CHECK(net_run(&t, b_got_all, 1000000, 60000000));
  FL_CHECK_EQ(t.app[1].corrupt, 0);
  fl_udx_stream_info info;
  FL_CHECK_EQ(fl_udx_stream_info_get(t.u[0], 1, &info), 0);
  FL_CHECK_EQ(info.mtu, FL_UDX_MTU_MAX); /* probing climbed to the cap */
  fl_udx_stats st;
  fl_udx_get_stats(t.u[0], &st);
  FL_CHECK_EQ(st.retransmits, 0);
  FL_CHECK(st.mtu_probes >= (FL_UDX_MTU_MAX - FL_UDX_MTU_BASE) / FL_UDX_MTU_STEP);
  net_free(&t);
}

static void test_udx_bulk_1pct_loss(void) {
  fl_udx_stats st;
  bulk(0.01, 0, 2u << 20, 12.5, &st);
  FL_CHECK(st.retransmits > 0);
}
static void test_udx_bulk_5pct_loss(void) {
  fl_udx_stats st;
  bulk(0.05, 0, 2u << 20, 12.5, &st);
  FL_CHECK(st.retransmits > 0);
}
static void test_udx_bulk_20pct_loss(void) {
  fl_udx_stats st;
  bulk(0.20, 0, 1u << 20, 12.5, &st);
  FL_CHECK(st.retransmits > 0);
}
static void test_udx_bulk_reordering(void) {
  fl_udx_stats st;
  bulk(0, 0.10, 2u << 20, 0, &st);
  FL_CHECK(st.ooo_high > 0);
}
static void test_udx_bulk_loss_and_reordering(void) {
  fl_udx_stats st;
  bulk(0.05, 0.05, 1u << 20, 12.5, &st);
  FL_CHECK(st.retransmits > 0);
}

/* Drop the first transmission of data packet seq 20 only. */
typedef struct drop_one {
  uint32_t seq;
  int dropped;
} drop_one;
static int drop_seq_once(net *t, int from, const uint8_t *buf, size_t len, void *user) {
  (void)t;
  (void)len;
  drop_one *d = user;
  if (from == 0 && (buf[2] & FL_UDX_FLAG_DATA) && fl_udx_get32(buf + 12) == d->seq && !d->dropped) {
    d->dropped = 1;
    return 1;
  }
  return 0;
}

static void test_udx_sack_then_rack_retransmits_one_hole(void) {
  net t;
  FL_CHECK_EQ(net_init(&t, 2, fl_test_seed(), NULL), 0);
  drop_one d = {20, 0};
  t.drop = drop_seq_once;
  t.drop_user = &d;
  FL_CHECK_EQ(net_connect(&t, 0, 7, 1, 8), 0);
  t.app[0].to_send = 200 * 1152;
  FL_CHECK(net_run(&t, b_got_all, 1000000, 30000000));
  FL_CHECK(d.dropped);
  FL_CHECK_EQ(t.app[1].corrupt, 0);
  fl_udx_stats s0, s1;
  fl_udx_get_stats(t.u[0], &s0);
  fl_udx_get_stats(t.u[1], &s1);
  FL_CHECK(t.type_count[FL_UDX_FLAG_SACK] > 0); /* the receiver reported the hole */
  FL_CHECK(s0.rack_losses >= 1);                 /* ... and RACK, not the RTO, found it */
  FL_CHECK_EQ(s0.rto_fires, 0);
  FL_CHECK(s0.retransmits >= 1 && s0.retransmits <= 3);
  FL_CHECK(s1.ooo_high > 0);
  FL_CHECK_EQ(s0.bad_sacks, 0);
  FL_CHECK_EQ(t.check_failures, 0);
  net_free(&t);
}

/* Drop the last data packet: the tail-loss probe recovers it before the RTO. */
static int drop_last_once(net *t, int from, const uint8_t *buf, size_t len, void *user) {
  (void)t;
  drop_one *d = user;
  if (from == 0 && (buf[2] & FL_UDX_FLAG_DATA) && len < 200 && !d->dropped) {
    d->dropped = 1;
    return 1;
  }
  return 0;
}

static void test_udx_tail_loss_probe_beats_rto(void) {
  net t;
  FL_CHECK_EQ(net_init(&t, 2, fl_test_seed(), NULL), 0);
  drop_one d = {0, 0};
  t.drop = drop_last_once;
  t.drop_user = &d;
  FL_CHECK_EQ(net_connect(&t, 0, 7, 1, 8), 0);
  t.app[0].to_send = 20 * 1152 + 100; /* last packet carries 100 bytes */
  uint64_t start = t.now;
  FL_CHECK(net_run(&t, b_got_all, 100000, 30000000));
  FL_CHECK(d.dropped);
  fl_udx_stats s0;
  fl_udx_get_stats(t.u[0], &s0);
  FL_CHECK(s0.tlp_fires >= 1);
  FL_CHECK_EQ(s0.rto_fires, 0);
  FL_CHECK(t.now - start < 500000); /* well under the 1 s initial RTO */
  net_free(&t);
}

static int a_written_stalls(net *t) {
  fl_udx_stream_info i;
  return fl_udx_stream_info_get(t->u[0], t->app[0].id, &i) == 0 && i.rwnd_remote == 0 &&
         i.inflight == 0 && t->hlen == 0;
}

static void test_udx_flow_control_stops_at_window_and_resumes(void) {
  net t;
  fl_udx_config c;
  fl_udx_config_default(&c);
  c.recv_buf_max = 256 * 1024;
  FL_CHECK_EQ(net_init(&t, 2, fl_test_seed(), &c), 0);
  FL_CHECK_EQ(net_connect(&t, 0, 1, 1, 2), 0);
  t.app[1].reading = 0; /* the reader sleeps: its buffer fills */
  t.app[0].to_send = 1u << 20;
  FL_CHECK(net_run(&t, a_written_stalls, 1000000, 20000000));
  fl_udx_stream_info ib;
  FL_CHECK_EQ(fl_udx_stream_info_get(t.u[1], 2, &ib), 0);
  FL_CHECK(ib.recv_buffered >= c.recv_buf_max);
  FL_CHECK(ib.recv_buffered <= c.recv_buf_max + UDX_RECV_SLACK);
  /* Zero window: the sender probes with heartbeats, nothing is lost. */
  uint64_t hb = t.type_count[FL_UDX_FLAG_HEARTBEAT];
  uint64_t until = t.now + 5000000;
  while (t.now < until && net_step(&t)) {
  }
  FL_CHECK(t.type_count[FL_UDX_FLAG_HEARTBEAT] > hb);
  t.app[1].reading = 1;
  net_read(&t, 1);
  FL_CHECK(net_run(&t, b_got_all, 1000000, 60000000));
  FL_CHECK_EQ(t.app[1].corrupt, 0);
  net_free(&t);
}


static void test_udx_destroy_resets_the_peer(void) {
  net t;
  FL_CHECK_EQ(net_init(&t, 2, fl_test_seed(), NULL), 0);
  FL_CHECK_EQ(net_connect(&t, 0, 1, 1, 2), 0);
  t.app[0].to_send = 10000;
  FL_CHECK(net_run(&t, b_got_all, 100000, 10000000));
  FL_CHECK_EQ(fl_udx_stream_destroy(t.u[0], t.now, 1), 0);
  FL_CHECK(net_run(&t, both_closed, 100000, 10000000));
  FL_CHECK_EQ(t.app[0].close_code, 0);
  FL_CHECK_EQ(t.app[1].close_code, FL_ERR_CLOSED);
  FL_CHECK_EQ(t.type_count[FL_UDX_FLAG_DESTROY], 1);
  /* The ids are free again. */
  FL_CHECK_EQ(fl_udx_stream_write(t.u[0], t.now, 1, (const uint8_t *)"x", 1), FL_ERR_NOT_FOUND);
  net_free(&t);
}

static void test_udx_end_both_ways_closes_cleanly(void) {
  net t;
  FL_CHECK_EQ(net_init(&t, 2, fl_test_seed(), NULL), 0);
  FL_CHECK_EQ(net_connect(&t, 0, 1, 1, 2), 0);
  t.app[0].end_after = 1; /* zero-length END */
  t.app[1].to_send = 5000;
  t.app[1].end_after = 1;
  FL_CHECK(net_run(&t, both_closed, 100000, 10000000));
  FL_CHECK(t.app[0].got_end && t.app[1].got_end);
  FL_CHECK(t.app[0].got_acked && t.app[1].got_acked);
  FL_CHECK_EQ(t.app[0].received, 5000);
  FL_CHECK_EQ(t.app[0].close_code, 0);
  FL_CHECK_EQ(t.app[1].close_code, 0);
  FL_CHECK_EQ(fl_udx_stream_end(t.u[0], t.now, 1), FL_ERR_CLOSED); /* lingering */
  FL_CHECK(net_run(&t, no_streams, 100000, 100000000));
  FL_CHECK_EQ(fl_udx_stream_end(t.u[0], t.now, 1), FL_ERR_NOT_FOUND);
  net_free(&t);
}

static int a_closed(net *t) { return t->app[0].got_close; }

static void test_udx_vanished_peer_times_out(void) {
  net t;
  FL_CHECK_EQ(net_init(&t, 2, fl_test_seed(), NULL), 0);
  FL_CHECK_EQ(net_connect(&t, 0, 1, 1, 2), 0);
  t.app[0].to_send = 50000;
  FL_CHECK(net_run(&t, b_got_all, 100000, 10000000));
  t.cut[1] = 1; /* B goes silent: no ACKs ever again */
  uint64_t start = t.now;
  t.app[0].to_send = 60000;
  FL_CHECK(net_run(&t, a_closed, 100000, 60000000));
  FL_CHECK_EQ(t.app[0].close_code, FL_ERR_TIMEOUT);
  /* RTO 1 s, then six more at 2 x RTO: 13 s (spec §7), give or take. */
  uint64_t took = t.app[0].close_at_us - start;
  FL_CHECK(took >= 12000000 && took <= 14500000);
  fl_udx_stats st;
  fl_udx_get_stats(t.u[0], &st);
  FL_CHECK_EQ(st.rto_fires, 7);
  net_free(&t);
}

static void test_udx_messages_delivered_unordered(void) {
  net t;
  FL_CHECK_EQ(net_init(&t, 2, fl_test_seed(), NULL), 0);
  FL_CHECK_EQ(net_connect(&t, 0, 1, 1, 2), 0);
  const char *m = "hello, datagram";
  for (int i = 0; i < 10; i++)
    FL_CHECK_EQ(fl_udx_stream_send_message(t.u[0], t.now, 1, (const uint8_t *)m, strlen(m)), 0);
  uint8_t big[1500] = {0};
  FL_CHECK_EQ(fl_udx_stream_send_message(t.u[0], t.now, 1, big, 1153), FL_ERR_RANGE);
  uint64_t until = t.now + 1000000;
  net_settle(&t);
  while (t.now < until && net_step(&t)) {
  }
  FL_CHECK_EQ(t.app[1].msgs, 10);
  FL_CHECK_EQ(t.app[1].last_msg_len, strlen(m));
  FL_CHECK_MEM(t.app[1].last_msg, m, strlen(m));
  FL_CHECK_EQ(t.type_count[FL_UDX_FLAG_MESSAGE], 10);
  net_free(&t);
}

static void test_udx_message_queue_limit(void) {
  net t;
  fl_udx_config c;
  fl_udx_config_default(&c);
  c.msg_queue_max = 4;
  FL_CHECK_EQ(net_init(&t, 2, fl_test_seed(), &c), 0);
  FL_CHECK_EQ(net_connect(&t, 0, 1, 1, 2), 0);
  for (int i = 0; i < 4; i++)
    FL_CHECK_EQ(fl_udx_stream_send_message(t.u[0], t.now, 1, (const uint8_t *)"m", 1), 0);
  FL_CHECK_EQ(fl_udx_stream_send_message(t.u[0], t.now, 1, (const uint8_t *)"m", 1), FL_ERR_LIMIT);
  fl_udx_stats st;
  fl_udx_get_stats(t.u[0], &st);
  FL_CHECK_EQ(st.msgs_dropped, 1);
  FL_CHECK_EQ(st.msgs_out, 4);
  net_free(&t);
}

/* A relays between streams 100 (to node 0) and 200 (to node 2): nodes 0 and
 * 2 talk through it while the relay never reads a byte. */
static int relay_done(net *t) { return t->app[2].received >= t->app[0].to_send; }

static void test_udx_relay_forwards_both_ways(void) {
  net t;
  FL_CHECK_EQ(net_init(&t, 3, fl_test_seed(), NULL), 0);
  fl_addr a0 = net_addr(0), a1 = net_addr(1), a2 = net_addr(2);
  FL_CHECK_EQ(fl_udx_stream_open(t.u[0], t.now, 10), 0);
  FL_CHECK_EQ(fl_udx_stream_open(t.u[2], t.now, 20), 0);
  FL_CHECK_EQ(fl_udx_stream_open(t.u[1], t.now, 100), 0);
  FL_CHECK_EQ(fl_udx_stream_open(t.u[1], t.now, 200), 0);
  FL_CHECK_EQ(fl_udx_stream_connect(t.u[0], t.now, 10, 100, 0, &a1), 0);
  FL_CHECK_EQ(fl_udx_stream_connect(t.u[2], t.now, 20, 200, 0, &a1), 0);
  FL_CHECK_EQ(fl_udx_stream_connect(t.u[1], t.now, 100, 10, 0, &a0), 0);
  FL_CHECK_EQ(fl_udx_stream_connect(t.u[1], t.now, 200, 20, 0, &a2), 0);
  FL_CHECK_EQ(fl_udx_stream_relay_to(t.u[1], 100, 200), 0);
  FL_CHECK_EQ(fl_udx_stream_relay_to(t.u[1], 200, 100), 0);
  FL_CHECK_EQ(fl_udx_stream_relay_to(t.u[1], 100, 999), FL_ERR_NOT_FOUND);
  t.app[0].id = 10;
  t.app[2].id = 20;
  t.app[0].to_send = 300000;
  FL_CHECK(net_run(&t, relay_done, 1000000, 30000000));
  FL_CHECK_EQ(t.app[2].corrupt, 0);
  fl_udx_stats st;
  fl_udx_get_stats(t.u[1], &st);
  FL_CHECK(st.relayed > 200);
  net_free(&t);
}

static void test_udx_listen_learns_peer_from_first_packet(void) {
  net t;
  FL_CHECK_EQ(net_init(&t, 2, fl_test_seed(), NULL), 0);
  fl_addr a1 = net_addr(1);
  FL_CHECK_EQ(fl_udx_stream_open(t.u[0], t.now, 1), 0);
  FL_CHECK_EQ(fl_udx_stream_open(t.u[1], t.now, 2), 0);
  FL_CHECK_EQ(fl_udx_stream_connect(t.u[0], t.now, 1, 2, 0, &a1), 0);
  FL_CHECK_EQ(fl_udx_stream_connect(t.u[1], t.now, 2, 1, 0, NULL), 0);
  FL_CHECK_EQ(fl_udx_stream_connect(t.u[1], t.now, 2, 1, 0, NULL), FL_ERR_STATE);
  t.app[0].id = 1;
  t.app[1].id = 2;
  t.app[0].to_send = 30000;
  t.app[1].to_send = 30000;
  FL_CHECK(net_run(&t, b_got_all, 100000, 10000000));
  FL_CHECK(t.app[1].got_connect);
  FL_CHECK(net_run(&t, b_got_all, 100000, 10000000));
  while (t.app[0].received < 30000 && net_step(&t)) {
  }
  FL_CHECK_EQ(t.app[0].received, 30000);
  net_free(&t);
}

static int got_drain(net *t) { return t->app[0].got_drain > 0; }

static void test_udx_send_buffer_limit_and_drain(void) {
  net t;
  fl_udx_config c;
  fl_udx_config_default(&c);
  c.send_buf_max = 64 * 1024;
  FL_CHECK_EQ(net_init(&t, 2, fl_test_seed(), &c), 0);
  FL_CHECK_EQ(net_connect(&t, 0, 1, 1, 2), 0);
  static uint8_t buf[100000];
  int w = fl_udx_stream_write(t.u[0], t.now, 1, buf, sizeof(buf));
  FL_CHECK_EQ(w, 64 * 1024); /* the rest is refused */
  fl_udx_stats st;
  fl_udx_get_stats(t.u[0], &st);
  FL_CHECK_EQ(st.write_refused, 1);
  FL_CHECK_EQ(st.send_buf_high, 64 * 1024);
  FL_CHECK(net_run(&t, got_drain, 100000, 5000000));
  FL_CHECK_EQ(t.app[0].got_drain, 1);
  net_free(&t);
}

static void test_udx_stream_table_limit(void) {
  fl_udx_config c;
  fl_udx_config_default(&c);
  c.streams_max = 8;
  fl_udx *u = fl_udx_new(&c, NULL);
  FL_CHECK(u != NULL);
  for (uint32_t i = 0; i < 8; i++) FL_CHECK_EQ(fl_udx_stream_open(u, 1, 100 + i), 0);
  FL_CHECK_EQ(fl_udx_stream_open(u, 1, 999), FL_ERR_LIMIT);
  FL_CHECK_EQ(fl_udx_stream_open(u, 1, 100), FL_ERR_INVALID); /* duplicate id */
  fl_udx_stats st;
  fl_udx_get_stats(u, &st);
  FL_CHECK_EQ(st.streams_refused, 1);
  FL_CHECK_EQ(st.streams_high, 8);
  fl_udx_free(u);
}

/* A small out-of-order table: a long burst of reordering overflows it; the
 * excess is dropped and counted, and retransmission still completes. */
static void test_udx_ooo_limit_drops_and_recovers(void) {
  net t;
  fl_udx_config c;
  fl_udx_config_default(&c);
  c.ooo_max = 16;
  FL_CHECK_EQ(net_init(&t, 2, fl_test_seed(), &c), 0);
  drop_one d = {40, 0};
  t.drop = drop_seq_once;
  t.drop_user = &d;
  FL_CHECK_EQ(net_connect(&t, 0, 1, 1, 2), 0);
  t.app[0].to_send = 1u << 20;
  FL_CHECK(net_run(&t, b_got_all, 1000000, 60000000));
  FL_CHECK_EQ(t.app[1].corrupt, 0);
  fl_udx_stats st;
  fl_udx_get_stats(t.u[1], &st);
  FL_CHECK(st.ooo_dropped > 0);
  FL_CHECK(st.ooo_high <= 16);
  net_free(&t);
}

static void test_udx_many_streams_share_an_instance(void) {
  net t;
  FL_CHECK_EQ(net_init(&t, 2, fl_test_seed(), NULL), 0);
  fl_drbg rng;
  uint8_t seed[32] = {1};
  fl_drbg_init(&rng, seed);
  enum { N = 32 };
  uint32_t ida[N], idb[N];
  fl_addr a0 = net_addr(0), a1 = net_addr(1);
  for (int i = 0; i < N; i++) {
    FL_CHECK_EQ(fl_udx_stream_id_alloc(t.u[0], &rng, &ida[i]), 0);
    FL_CHECK_EQ(fl_udx_stream_open(t.u[0], t.now, ida[i]), 0);
    FL_CHECK_EQ(fl_udx_stream_id_alloc(t.u[1], &rng, &idb[i]), 0);
    FL_CHECK_EQ(fl_udx_stream_open(t.u[1], t.now, idb[i]), 0);
  }
  for (int i = 0; i < N; i++) {
    FL_CHECK_EQ(fl_udx_stream_connect(t.u[0], t.now, ida[i], idb[i], 0, &a1), 0);
    FL_CHECK_EQ(fl_udx_stream_connect(t.u[1], t.now, idb[i], ida[i], 0, &a0), 0);
    uint8_t msg[64];
    memset(msg, i, sizeof(msg));
    FL_CHECK_EQ(fl_udx_stream_write(t.u[0], t.now, ida[i], msg, sizeof(msg)), 64);
    FL_CHECK_EQ(fl_udx_stream_end(t.u[0], t.now, ida[i]), 0);
  }
  uint64_t until = t.now + 5000000;
  net_settle(&t);
  while (t.now < until && net_step(&t)) {
  }
  for (int i = 0; i < N; i++) {
    uint8_t got[128];
    int n = fl_udx_stream_read(t.u[1], t.now, idb[i], got, sizeof(got));
    FL_CHECK_EQ(n, 64);
    FL_CHECK_EQ(got[0], i);
    FL_CHECK_EQ(got[63], i);
  }
  net_free(&t);
}

static void test_udx_time_backwards_is_invalid(void) {
  fl_udx *u = fl_udx_new(NULL, NULL);
  FL_CHECK(u != NULL);
  FL_CHECK_EQ(fl_udx_handle_timeout(u, 100), 0);
  FL_CHECK_EQ(fl_udx_handle_timeout(u, 99), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_udx_stream_open(u, 50, 1), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_udx_next_deadline(u), FL_TIME_NONE);
  uint8_t buf[2048];
  fl_udx_dgram d;
  FL_CHECK_EQ(fl_udx_poll_transmit(u, &d, buf, 100), FL_ERR_BUFFER);
  FL_CHECK_EQ(fl_udx_poll_transmit(u, &d, buf, sizeof(buf)), 0);
  fl_udx_free(u);
}

int main(void) {
  FL_RUN(test_udx_bulk_clean_link_intact_and_mtu_grows);
  FL_RUN(test_udx_bulk_1pct_loss);
  FL_RUN(test_udx_bulk_5pct_loss);
  FL_RUN(test_udx_bulk_20pct_loss);
  FL_RUN(test_udx_bulk_reordering);
  FL_RUN(test_udx_bulk_loss_and_reordering);
  FL_RUN(test_udx_sack_then_rack_retransmits_one_hole);
  FL_RUN(test_udx_tail_loss_probe_beats_rto);
  FL_RUN(test_udx_flow_control_stops_at_window_and_resumes);
  FL_RUN(test_udx_destroy_resets_the_peer);
  FL_RUN(test_udx_end_both_ways_closes_cleanly);
  FL_RUN(test_udx_vanished_peer_times_out);
  FL_RUN(test_udx_messages_delivered_unordered);
  FL_RUN(test_udx_message_queue_limit);
  FL_RUN(test_udx_relay_forwards_both_ways);
  FL_RUN(test_udx_listen_learns_peer_from_first_packet);
  FL_RUN(test_udx_send_buffer_limit_and_drain);
  FL_RUN(test_udx_stream_table_limit);
  FL_RUN(test_udx_ooo_limit_drops_and_recovers);
  FL_RUN(test_udx_many_streams_share_an_instance);
  FL_RUN(test_udx_time_backwards_is_invalid);
  return fl_test_done();
}
