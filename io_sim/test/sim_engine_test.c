/*
 * The engine and the network model, with raw hosts: timing, loss, queues,
 * partitions, the bounded in-flight and inbox queues, and determinism of
 * the fingerprint.
 */
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "sim_internal.h"
#include "testing/fl_test.h"

static fl_addr addr_of(fl_sim *s, int host) {
  fl_addr a;
  memset(&a, 0, sizeof a);
  if (fl_sim_host_addr(s, host, 0, &a) != 0) a.family = 0;
  return a;
}

static int inbox(fl_sim *s, int host) {
  uint8_t buf[FL_DGRAM_BYTES_MAX];
  fl_addr from;
  int n = 0;
  while (fl_sim_raw_recv(s, host, &from, buf, sizeof buf) >= 0) n++;
  return n;
}

static void test_heap_orders_by_time_then_sequence(void) {
  sim_heap h;
  memset(&h, 0, sizeof h);
  uint64_t seq = 0;
  fl_drbg d;
  uint8_t seed[32] = {(uint8_t)fl_test_seed()};
  fl_drbg_init(&d, seed);
  for (int i = 0; i < 5000; i++) {
    sim_ev ev = {.t = fl_drbg_uniform(&d, 50), .seq = seq++, .a = (uint32_t)i};
    FL_CHECK_EQ(sim_heap_push(&h, &ev), 0);
  }
  sim_ev prev = {0}, ev;
  int n = 0;
  while (sim_heap_pop(&h, &ev) == 1) {
    if (n++ > 0) FL_CHECK(prev.t < ev.t || (prev.t == ev.t && prev.seq < ev.seq));
    prev = ev;
  }
  FL_CHECK_EQ(n, 5000);
  FL_CHECK_EQ(h.high, 5000);
  sim_heap_free(&h);
}

static void test_map_put_get_delete(void) {
  sim_map m;
  memset(&m, 0, sizeof m);
  for (uint64_t i = 0; i < 3000; i++) FL_CHECK_EQ(sim_map_put(&m, i, i * 7, i + 1), 0);
  for (uint64_t i = 0; i < 3000; i += 2) FL_CHECK_EQ(sim_map_del(&m, i, i * 7), 1);
  FL_CHECK_EQ(sim_map_del(&m, 0, 0), 0);
  for (uint64_t i = 0; i < 3000; i++) {
    uint64_t *v = sim_map_get(&m, i, i * 7);
    if (i % 2) {
      FL_CHECK(v != NULL);
      FL_CHECK_EQ(*v, i + 1);
    } else {
      FL_CHECK(v == NULL);
    }
  }
  FL_CHECK_EQ(m.len, 1500);
  sim_map_free(&m);
}

static void test_latency_constant_and_matrix(void) {
  fl_sim *s = fl_sim_new(fl_test_seed());
  FL_CHECK(s != NULL);
  uint64_t matrix[4] = {5000, 40000, 60000, 7000};
  FL_CHECK_EQ(fl_sim_set_region_matrix(s, 2, matrix), 0);
  int a = fl_sim_host_new(s, FL_SIM_KIND_RAW, -1, 0);
  int b = fl_sim_host_new(s, FL_SIM_KIND_RAW, -1, 1);
  fl_addr bb = addr_of(s, b), aa = addr_of(s, a);
  FL_CHECK_EQ(fl_sim_raw_send(s, a, &bb, (const uint8_t *)"x", 1), 0);
  FL_CHECK_EQ(fl_sim_run_until(s, 39999, 0), 0);
  FL_CHECK_EQ(inbox(s, b), 0);
  FL_CHECK_EQ(fl_sim_run_until(s, 40000, 0), 1);
  FL_CHECK_EQ(inbox(s, b), 1);
  FL_CHECK_EQ(fl_sim_raw_send(s, b, &aa, (const uint8_t *)"y", 1), 0);
  FL_CHECK_EQ(fl_sim_next_event(s), 100000);
  FL_CHECK_EQ(fl_sim_set_latency(s, FL_SIM_LAT_UNIFORM, 10, 5), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_sim_check(s), 0);
  fl_sim_free(s);
}

static void test_jitter_stays_in_bounds_and_loss_rate(void) {
  fl_sim *s = fl_sim_new(fl_test_seed());
  FL_CHECK(s != NULL);
  FL_CHECK_EQ(fl_sim_set_latency(s, FL_SIM_LAT_UNIFORM, 10000, 20000), 0);
  FL_CHECK_EQ(fl_sim_set_jitter(s, 5000), 0);
  FL_CHECK_EQ(fl_sim_set_loss(s, 250000), 0);
  int a = fl_sim_host_new(s, FL_SIM_KIND_RAW, -1, 0);
  int b = fl_sim_host_new(s, FL_SIM_KIND_RAW, -1, 0);
  fl_addr bb = addr_of(s, b);
  for (int i = 0; i < 200; i++) {
    FL_CHECK_EQ(fl_sim_raw_send(s, a, &bb, (const uint8_t *)"z", 1), 0);
    FL_CHECK_EQ(fl_sim_run_until(s, fl_sim_now(s) + 9999, 0), 0); /* nothing before 10 ms */
    FL_CHECK(fl_sim_run_until(s, fl_sim_now(s) + 15001, 0) <= 1);
    FL_CHECK_EQ(fl_sim_next_event(s), FL_TIME_NONE);            /* all done by 25 ms */
  }
  fl_sim_stats st;
  fl_sim_get_stats(s, &st);
  FL_CHECK_EQ(st.delivered + st.dropped[FL_SIM_DROP_LOSS], 200);
  /* 25% of 200: 50 expected; 6 sigma is about 37. */
  FL_CHECK(st.dropped[FL_SIM_DROP_LOSS] > 13 && st.dropped[FL_SIM_DROP_LOSS] < 87);
  FL_CHECK_EQ(inbox(s, b), (int)st.delivered);
  FL_CHECK_EQ(fl_sim_check(s), 0);
  fl_sim_free(s);
}

/* 8000 bit/s is 1000 bytes per second: 1000-byte datagrams leave one per
 * second, and a 4096-byte queue holds four of them. */
static void test_bandwidth_queue(void) {
  fl_sim *s = fl_sim_new(fl_test_seed());
  FL_CHECK(s != NULL);
  FL_CHECK_EQ(fl_sim_set_latency(s, FL_SIM_LAT_CONSTANT, 1000, 0), 0);
  FL_CHECK_EQ(fl_sim_set_bandwidth(s, 8000, 4096), 0);
  int a = fl_sim_host_new(s, FL_SIM_KIND_RAW, -1, 0);
  int b = fl_sim_host_new(s, FL_SIM_KIND_RAW, -1, 0);
  fl_addr bb = addr_of(s, b);
  uint8_t big[1000] = {0};
  for (int i = 0; i < 6; i++) FL_CHECK_EQ(fl_sim_raw_send(s, a, &bb, big, sizeof big), 0);
  fl_sim_stats st;
  fl_sim_get_stats(s, &st);
  FL_CHECK_EQ(st.dropped[FL_SIM_DROP_QUEUE], 2);
  for (int i = 1; i <= 4; i++) {
    FL_CHECK_EQ(fl_sim_next_event(s), (uint64_t)i * 1000000u + 1000u);
    FL_CHECK_EQ(fl_sim_run_until(s, fl_sim_next_event(s), 0), 1);
  }
  FL_CHECK_EQ(inbox(s, b), 4);
  FL_CHECK_EQ(fl_sim_check(s), 0);
  fl_sim_free(s);
}

/* During the partition about half the pairs cannot talk; after it, all can. */
static void test_partition_starts_and_heals(void) {
  fl_sim *s = fl_sim_new(fl_test_seed());
  FL_CHECK(s != NULL);
  FL_CHECK_EQ(fl_sim_add_partition(s, 1000000, 2000000, 500000), 0);
  int h[20];
  for (int i = 0; i < 20; i++) h[i] = fl_sim_host_new(s, FL_SIM_KIND_RAW, -1, 0);
  int phase_drops[3];
  for (int phase = 0; phase < 3; phase++) {
    FL_CHECK(fl_sim_run_until(s, (uint64_t)phase * 1000000u + 500000u, 0) >= 0);
    fl_sim_stats before, after;
    fl_sim_get_stats(s, &before);
    for (int i = 0; i < 20; i++)
      for (int j = 0; j < 20; j++)
        if (i != j) {
          fl_addr to = addr_of(s, h[j]);
          FL_CHECK_EQ(fl_sim_raw_send(s, h[i], &to, (const uint8_t *)"p", 1), 0);
        }
    fl_sim_get_stats(s, &after);
    phase_drops[phase] = (int)(after.dropped[FL_SIM_DROP_PARTITION] - before.dropped[FL_SIM_DROP_PARTITION]);
    for (int i = 0; i < 20; i++) (void)inbox(s, h[i]);
  }
  FL_CHECK_EQ(phase_drops[0], 0);
  FL_CHECK(phase_drops[1] > 100 && phase_drops[1] < 300); /* 2 k (20 - k) of 380 */
  FL_CHECK_EQ(phase_drops[2], 0);
  FL_CHECK_EQ(fl_sim_check(s), 0);
  fl_sim_free(s);
}

static void test_inflight_and_inbox_limits(void) {
  fl_sim *s = fl_sim_new(fl_test_seed());
  FL_CHECK(s != NULL);
  FL_CHECK_EQ(fl_sim_set_inflight_max(s, 300), 0);
  FL_CHECK_EQ(fl_sim_set_inflight_max(s, 0), FL_ERR_INVALID);
  int a = fl_sim_host_new(s, FL_SIM_KIND_RAW, -1, 0);
  int b = fl_sim_host_new(s, FL_SIM_KIND_RAW, -1, 0);
  fl_addr bb = addr_of(s, b);
  for (int i = 0; i < 310; i++) FL_CHECK_EQ(fl_sim_raw_send(s, a, &bb, (const uint8_t *)"q", 1), 0);
  fl_sim_stats st;
  fl_sim_get_stats(s, &st);
  FL_CHECK_EQ(st.dropped[FL_SIM_DROP_INFLIGHT], 10);
  FL_CHECK_EQ(st.inflight_high, 300);
  FL_CHECK(fl_sim_run_until(s, 1000000, 0) == 300);
  fl_sim_get_stats(s, &st);
  FL_CHECK_EQ(st.dropped[FL_SIM_DROP_INBOX], 300 - FL_SIM_RAW_INBOX_MAX);
  FL_CHECK_EQ(inbox(s, b), FL_SIM_RAW_INBOX_MAX);
  FL_CHECK_EQ(fl_sim_check(s), 0);
  fl_sim_free(s);
}

/* A busy random scenario: hosts behind mixed NATs sending to each other
 * with loss and jitter. Returns its fingerprint. */
static void busy_run(uint64_t seed, uint8_t fp[32]) {
  fl_sim *s = fl_sim_new(seed);
  SIM_IGNORE(fl_sim_set_latency(s, FL_SIM_LAT_UNIFORM, 5000, 80000));
  SIM_IGNORE(fl_sim_set_jitter(s, 3000));
  SIM_IGNORE(fl_sim_set_loss(s, 20000));
  fl_drbg d;
  uint8_t k[32] = {7};
  fl_drbg_init(&d, k); /* the traffic pattern is fixed; only the sim seed varies */
  int h[40];
  for (int i = 0; i < 40; i++) {
    int nat = -1;
    if (i % 3) {
      fl_sim_nat_config c = {.mapping = i % 3, .filtering = FL_SIM_EI, .ports = FL_SIM_PORT_RANDOM,
                             .timeout_us = 30000000};
      nat = fl_sim_nat_new(s, &c);
    }
    h[i] = fl_sim_host_new(s, FL_SIM_KIND_RAW, nat, 0);
  }
  for (int round = 0; round < 50; round++) {
    for (int i = 0; i < 40; i++) {
      int j = (int)fl_drbg_uniform(&d, 40);
      fl_addr to = addr_of(s, h[j]);
      if (i % 3 == 0) SIM_IGNORE(fl_sim_raw_send(s, h[i], &to, (const uint8_t *)"payload", 7));
      (void)inbox(s, h[i]);
    }
    (void)fl_sim_run_until(s, fl_sim_now(s) + 20000, 0);
  }
  (void)fl_sim_run_until(s, FL_TIME_NONE, 0);
  fl_sim_fingerprint(s, fp);
  FL_CHECK_EQ(fl_sim_check(s), 0);
  fl_sim_free(s);
}

static void test_fingerprint_is_deterministic(void) {
  uint8_t a[32], b[32], c[32];
  busy_run(fl_test_seed(), a);
  busy_run(fl_test_seed(), b);
  busy_run(fl_test_seed() + 1, c);
  FL_CHECK_MEM(a, b, 32);
  FL_CHECK(memcmp(a, c, 32) != 0);
}

static void test_bad_arguments_are_refused(void) {
  fl_sim *s = fl_sim_new(1);
  FL_CHECK(s != NULL);
  fl_sim_nat_config bad = {.mapping = 3, .timeout_us = 1};
  FL_CHECK_EQ(fl_sim_nat_new(s, &bad), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_sim_host_new(s, 7, -1, 0), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_sim_host_new(s, FL_SIM_KIND_RAW, 5, 0), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_sim_host_leave(s, 0, 1), FL_ERR_INVALID);
  int a = fl_sim_host_new(s, FL_SIM_KIND_RAW, -1, 0);
  FL_CHECK_EQ(fl_sim_host_leave(s, a, 0), 0);
  FL_CHECK_EQ(fl_sim_host_leave(s, a, 0), FL_ERR_STATE);
  FL_CHECK_EQ(fl_sim_host_live(s, a), 0);
  fl_addr to = fl_addr_ipv4(20, 0, 0, 1, 1);
  FL_CHECK_EQ(fl_sim_raw_send(s, a, &to, (const uint8_t *)"x", 1), FL_ERR_CLOSED);
  FL_CHECK_EQ(fl_sim_set_loss(s, 1000001), FL_ERR_INVALID);
  /* The workload and host limits refuse before allocating anything. */
  FL_CHECK_EQ(fl_sim_schedule_lookups(s, FL_SIM_LOOKUPS_MAX + 1u, 0, 0), FL_ERR_LIMIT);
  FL_CHECK_EQ(fl_sim_spawn(s, FL_SIM_KIND_RAW, FL_SIM_HOSTS_MAX, 0, 0, 0), FL_ERR_LIMIT);
  FL_CHECK_EQ(fl_sim_next_event(s), FL_TIME_NONE);
  FL_CHECK_EQ(fl_sim_add_partition(s, 5, 5, 1), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_sim_check(s), 0);
  fl_sim_free(s);
}

int main(void) {
  FL_RUN(test_heap_orders_by_time_then_sequence);
  FL_RUN(test_map_put_get_delete);
  FL_RUN(test_latency_constant_and_matrix);
  FL_RUN(test_jitter_stays_in_bounds_and_loss_rate);
  FL_RUN(test_bandwidth_queue);
  FL_RUN(test_partition_starts_and_heals);
  FL_RUN(test_inflight_and_inbox_limits);
  FL_RUN(test_fingerprint_is_deterministic);
  FL_RUN(test_bad_arguments_are_refused);
  return fl_test_done();
}
