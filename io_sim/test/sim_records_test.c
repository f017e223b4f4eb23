/*
 * The records workload on hyperdht hosts (fl_node + fl_hyperdht), in
 * paranoid mode: a small network announces topics, looks them up, puts and
 * gets values; twice with the same fingerprint. A departed announcer is
 * replaced. Bad configurations and the slot limit are refused.
 */
#include <string.h>

#include "sim.h"
#include "testing/fl_test.h"

#define S 1000000ull

static fl_sim *network(uint64_t seed) {
  fl_sim *s = fl_sim_new(seed);
  if (s == NULL || fl_sim_set_latency(s, FL_SIM_LAT_UNIFORM, 5000, 60000) != 0) return NULL;
  fl_sim_nat_config cone = {.mapping = FL_SIM_EI, .filtering = FL_SIM_APD,
                            .ports = FL_SIM_PORT_PRESERVE, .timeout_us = 120000000};
  if (fl_sim_add_nat_profile(s, 2, 1, NULL) != 0 || fl_sim_add_nat_profile(s, 1, 0, &cone) != 0)
    return NULL;
  if (fl_sim_set_node_mode(s, 1) != 0 || fl_sim_set_paranoid(s, 1) != 0) return NULL;
  if (fl_sim_spawn(s, FL_SIM_KIND_HYPERDHT, 30, 2, 0, 5 * S) != 0) return NULL;
  fl_sim_records_config c = {.topics = 4, .announcers = 3, .announce_start_us = 30 * S,
                             .announce_spread_us = 10 * S, .refresh_us = 60 * S, .replace = 1,
                             .lookups = 12, .lookups_start_us = 60 * S,
                             .lookups_spread_us = 60 * S, .mutables = 3, .immutables = 3,
                             .values_start_us = 40 * S, .values_spread_us = 20 * S,
                             .get_delay_us = 30 * S, .value_bytes = 64};
  if (fl_sim_set_records(s, &c) != 0) return NULL;
  return s;
}

static void count(const fl_sim *s, int kind, uint32_t *n, uint32_t *ok) {
  *n = *ok = 0;
  fl_sim_records_op o;
  for (uint32_t i = 0; i < fl_sim_records_count(s); i++) {
    if (fl_sim_records_get(s, i, &o) != 0 || o.kind != kind) continue;
    (*n)++;
    *ok += o.ok == 1;
  }
}

static void test_records_workload_deterministically(void) {
  uint8_t fp[2][32];
  for (int round = 0; round < 2; round++) {
    fl_sim *s = network(fl_test_seed());
    FL_CHECK(s != NULL);
    FL_CHECK(fl_sim_run_until(s, 150 * S, 0) > 1000);
    uint32_t n, ok;
    count(s, FL_SIM_REC_ANNOUNCE, &n, &ok);
    FL_CHECK_EQ(n, 12);
    FL_CHECK_EQ(ok, 12);
    count(s, FL_SIM_REC_LOOKUP, &n, &ok);
    FL_CHECK_EQ(n, 12);
    FL_CHECK(ok >= 11);
    fl_sim_records_op o;
    uint32_t expected = 0, found = 0;
    for (uint32_t i = 0; i < fl_sim_records_count(s); i++) {
      FL_CHECK_EQ(fl_sim_records_get(s, i, &o), 0);
      if (o.kind != FL_SIM_REC_LOOKUP) continue;
      expected += o.expected;
      found += o.found;
      if (o.ok == 1 && o.expected > 0) FL_CHECK(o.all_us >= o.start_us && o.hops >= 1);
    }
    FL_CHECK(expected == 36 && found >= 33); /* no churn: all 3 live in every lookup */
    for (int k = FL_SIM_REC_MUTABLE_PUT; k <= FL_SIM_REC_IMMUTABLE_GET; k++) {
      count(s, k, &n, &ok);
      FL_CHECK_EQ(n, 3);
      FL_CHECK_EQ(ok, 3);
    }
    fl_sim_records_store st;
    FL_CHECK_EQ(fl_sim_records_store_get(s, &st), 0);
    FL_CHECK_EQ(st.nodes, 30);
    FL_CHECK(st.records >= 12 && st.values >= 6 && st.mem_bytes > st.mem_base);
    FL_CHECK(st.announce_rounds >= 24); /* the first round and one refresh each */
    FL_CHECK_EQ(st.refused, 0);
    fl_sim_stats ss;
    fl_sim_get_stats(s, &ss);
    FL_CHECK_EQ(ss.node_errors, 0);
    FL_CHECK_EQ(ss.node_check_failures, 0);
    FL_CHECK_EQ(fl_sim_check(s), 0);
    fl_sim_fingerprint(s, fp[round]);
    fl_sim_free(s);
  }
  FL_CHECK_MEM(fp[0], fp[1], 32);
}

static void test_departed_announcer_is_replaced(void) {
  fl_sim *s = network(fl_test_seed() + 1);
  FL_CHECK(s != NULL);
  FL_CHECK(fl_sim_run_until(s, 50 * S, 0) > 0);
  fl_sim_records_op o;
  FL_CHECK_EQ(fl_sim_records_get(s, 0, &o), 0);
  FL_CHECK_EQ(o.kind, FL_SIM_REC_ANNOUNCE);
  FL_CHECK_EQ(fl_sim_host_leave(s, (int)o.host, 1), 0);
  FL_CHECK(fl_sim_run_until(s, 150 * S, 0) > 0);
  fl_sim_records_store st;
  FL_CHECK_EQ(fl_sim_records_store_get(s, &st), 0);
  FL_CHECK(st.replacements >= 1);
  uint32_t n, ok;
  count(s, FL_SIM_REC_ANNOUNCE, &n, &ok);
  FL_CHECK(n >= 13); /* the 12 first holders, and at least one successor */
  FL_CHECK_EQ(fl_sim_check(s), 0);
  fl_sim_free(s);
}

static void test_bad_configs_and_the_slot_limit_are_refused(void) {
  fl_sim *s = fl_sim_new(1);
  FL_CHECK(s != NULL);
  fl_sim_records_config c = {.topics = 1, .announcers = 1, .value_bytes = 10};
  fl_sim_records_config bad = c;
  bad.announcers = FL_SIM_REC_ANNOUNCERS_MAX + 1;
  FL_CHECK_EQ(fl_sim_set_records(s, &bad), FL_ERR_INVALID);
  bad = c;
  bad.value_bytes = 0;
  FL_CHECK_EQ(fl_sim_set_records(s, &bad), FL_ERR_INVALID);
  bad = c;
  bad.topics = 0;
  bad.lookups = 1;
  FL_CHECK_EQ(fl_sim_set_records(s, &bad), FL_ERR_INVALID);
  bad = c;
  bad.topics = FL_SIM_REC_SLOTS_MAX / 4 + 1;
  bad.announcers = 4;
  FL_CHECK_EQ(fl_sim_set_records(s, &bad), FL_ERR_LIMIT);
  FL_CHECK_EQ(fl_sim_set_records(NULL, &c), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_sim_set_records(s, &c), 0);
  FL_CHECK_EQ(fl_sim_set_records(s, &c), FL_ERR_INVALID); /* once per simulation */
  fl_sim_records_op o;
  FL_CHECK_EQ(fl_sim_records_get(s, 0, &o), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_sim_records_count(s), 0);
  fl_sim_free(s);
}

int main(void) {
  FL_RUN(test_records_workload_deterministically);
  FL_RUN(test_departed_announcer_is_replaced);
  FL_RUN(test_bad_configs_and_the_slot_limit_are_refused);
  return fl_test_done();
}
