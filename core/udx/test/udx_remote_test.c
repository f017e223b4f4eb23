/*
 * udx_remote_test.c — change_remote (relay -> direct upgrade), keepalive
 * heartbeats, and the id allocator's low-bit uniqueness.
 */
#include "testing/fl_test.h"
#include "udx/test/udx_net.h"

static int b_got_all(net *t) { return t->app[1].received >= t->app[0].to_send; }

/* Node 0 first talks to node 1 through node 2's address slot (a stand-in
 * path), then moves to node 1 directly; the transfer completes intact and
 * REMOTE_CHANGED fires once the old path's packets are acked. */
static void test_udx_change_remote_moves_the_stream(void) {
  net t;
  FL_CHECK_EQ(net_init(&t, 3, fl_test_seed(), NULL), 0);
  fl_addr a0 = net_addr(0), a1 = net_addr(1), a2 = net_addr(2);
  /* relay at node 2 */
  FL_CHECK_EQ(fl_udx_stream_open(t.u[2], t.now, 100), 0);
  FL_CHECK_EQ(fl_udx_stream_open(t.u[2], t.now, 200), 0);
  FL_CHECK_EQ(fl_udx_stream_connect(t.u[2], t.now, 100, 1, 0, &a0), 0);
  FL_CHECK_EQ(fl_udx_stream_connect(t.u[2], t.now, 200, 2, 0, &a1), 0);
  FL_CHECK_EQ(fl_udx_stream_relay_to(t.u[2], 100, 200), 0);
  FL_CHECK_EQ(fl_udx_stream_relay_to(t.u[2], 200, 100), 0);
  FL_CHECK_EQ(fl_udx_stream_open(t.u[0], t.now, 1), 0);
  FL_CHECK_EQ(fl_udx_stream_open(t.u[1], t.now, 2), 0);
  FL_CHECK_EQ(fl_udx_stream_connect(t.u[0], t.now, 1, 100, 0, &a2), 0);
  FL_CHECK_EQ(fl_udx_stream_connect(t.u[1], t.now, 2, 200, 0, &a2), 0);
  t.app[0].id = 1;
  t.app[1].id = 2;
  t.app[0].to_send = 100000;
  FL_CHECK(net_run(&t, b_got_all, 100000, 10000000));
  fl_udx_stats relay_before;
  fl_udx_get_stats(t.u[2], &relay_before);
  FL_CHECK(relay_before.relayed > 50);
  /* direct now */
  FL_CHECK_EQ(fl_udx_stream_change_remote(t.u[0], t.now, 1, 2, 0, &a1), 0);
  FL_CHECK_EQ(fl_udx_stream_change_remote(t.u[1], t.now, 2, 1, 0, &a0), 0);
  t.app[0].to_send = 400000;
  FL_CHECK(net_run(&t, b_got_all, 100000, 10000000));
  FL_CHECK_EQ(t.app[1].corrupt, 0);
  fl_udx_stats relay_after;
  fl_udx_get_stats(t.u[2], &relay_after);
  FL_CHECK(relay_after.relayed - relay_before.relayed < 20); /* the relay went quiet */
  fl_udx_stream_info i0;
  FL_CHECK_EQ(fl_udx_stream_info_get(t.u[0], 1, &i0), 0);
  FL_CHECK_EQ(i0.remote_id, 2);
  net_free(&t);
}

static void test_udx_keepalive_sends_heartbeats_when_idle(void) {
  net t;
  FL_CHECK_EQ(net_init(&t, 2, fl_test_seed(), NULL), 0);
  FL_CHECK_EQ(net_connect(&t, 0, 1, 1, 2), 0);
  FL_CHECK_EQ(fl_udx_stream_set_keepalive(t.u[0], 1, 1000), 0);
  uint64_t until = t.now + 5500000;
  net_settle(&t);
  while (t.now < until && net_step(&t)) {
  }
  FL_CHECK(t.type_count[FL_UDX_FLAG_HEARTBEAT] >= 4);
  FL_CHECK(t.type_count[FL_UDX_FLAG_HEARTBEAT] <= 6);
  FL_CHECK(t.type_count[0] >= 4); /* each answered with an ACK */
  FL_CHECK_EQ(fl_udx_stream_set_keepalive(t.u[0], 9, 1000), FL_ERR_NOT_FOUND);
  net_free(&t);
}

static void test_udx_id_alloc_unique_in_low_bits(void) {
  fl_udx *u = fl_udx_new(NULL, NULL);
  FL_CHECK(u != NULL);
  fl_drbg rng;
  uint8_t seed[32] = {7};
  fl_drbg_init(&rng, seed);
  uint32_t ids[200];
  for (int i = 0; i < 200; i++) {
    FL_CHECK_EQ(fl_udx_stream_id_alloc(u, &rng, &ids[i]), 0);
    FL_CHECK_EQ(fl_udx_stream_open(u, 0, ids[i]), 0);
  }
  /* 200 streams: the mask has grown to 511; low 9 bits are distinct. */
  for (int i = 0; i < 200; i++)
    for (int j = i + 1; j < 200; j++) FL_CHECK((ids[i] & 0x1FF) != (ids[j] & 0x1FF));
  FL_CHECK_EQ(fl_udx_stream_id_alloc(u, NULL, &ids[0]), FL_ERR_INVALID);
  fl_udx_free(u);
}

/* fl_udx_check must notice a broken invariant, or it proves nothing. */
static void test_udx_check_catches_a_corrupted_counter(void) {
  net t;
  FL_CHECK_EQ(net_init(&t, 2, fl_test_seed(), NULL), 0);
  FL_CHECK_EQ(net_connect(&t, 0, 1, 1, 2), 0);
  uint8_t data[20000] = {0};
  FL_CHECK_EQ(fl_udx_stream_write(t.u[0], t.now, 1, data, sizeof(data)), 20000);
  net_flush_tx(&t, 0);
  FL_CHECK_EQ(fl_udx_check(t.u[0]), 0);
  udx_stream *s = udx_find(t.u[0], 1);
  FL_CHECK(s != NULL && s->inflight > 0);
  s->inflight--;
  FL_CHECK_EQ(fl_udx_check(t.u[0]), FL_ERR_STATE);
  s->inflight++;
  t.u[0]->st.ooo_cur++;
  FL_CHECK_EQ(fl_udx_check(t.u[0]), FL_ERR_STATE);
  t.u[0]->st.ooo_cur--;
  FL_CHECK_EQ(fl_udx_check(t.u[0]), 0);
  FL_CHECK_EQ(fl_udx_check(NULL), FL_ERR_INVALID);
  net_free(&t);
}

static int b_got_all2(net *t) { return t->app[1].received >= t->app[0].to_send; }

/* A path MTU of 1300 from the OS: probing stops at 1300, not 1500; one at
 * the base turns probing off. */
static void test_udx_path_mtu_caps_probing(void) {
  for (uint32_t cap = 1200; cap <= 1300; cap += 100) {
    net t;
    FL_CHECK_EQ(net_init(&t, 2, fl_test_seed(), NULL), 0);
    FL_CHECK_EQ(net_connect(&t, 0, 1, 1, 2), 0);
    FL_CHECK_EQ(fl_udx_stream_set_mtu_max(t.u[0], 1, cap), 0);
    t.bytes_per_us = 12.5;
    t.app[0].to_send = 2u << 20;
    FL_CHECK(net_run(&t, b_got_all2, 1000000, 60000000));
    fl_udx_stream_info i;
    FL_CHECK_EQ(fl_udx_stream_info_get(t.u[0], 1, &i), 0);
    FL_CHECK_EQ(i.mtu, cap);
    fl_udx_stats st;
    fl_udx_get_stats(t.u[1], &st);
    FL_CHECK(st.dgram_in_max <= cap - 28);
    net_free(&t);
  }
}

int main(void) {
  FL_RUN(test_udx_path_mtu_caps_probing);
  FL_RUN(test_udx_check_catches_a_corrupted_counter);
  FL_RUN(test_udx_change_remote_moves_the_stream);
  FL_RUN(test_udx_keepalive_sends_heartbeats_when_idle);
  FL_RUN(test_udx_id_alloc_unique_in_low_bits);
  return fl_test_done();
}
