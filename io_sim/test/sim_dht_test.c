/*
 * fl_node under the engine: a small network behind mixed NATs bootstraps
 * and answers lookups, twice with the same fingerprint; the churn and
 * session machinery runs without leaks (ASan) and counts what it did.
 */
#include <string.h>

#include "sim.h"
#include "testing/fl_test.h"

static fl_sim *network(uint64_t seed, int churn) {
  fl_sim *s = fl_sim_new(seed);
  if (s == NULL || fl_sim_set_latency(s, FL_SIM_LAT_UNIFORM, 5000, 60000) != 0) return NULL;
  fl_sim_nat_config cone = {.mapping = FL_SIM_EI, .filtering = FL_SIM_APD,
                            .ports = FL_SIM_PORT_PRESERVE, .timeout_us = 120000000};
  if (fl_sim_add_nat_profile(s, 2, 1, NULL) != 0 || fl_sim_add_nat_profile(s, 1, 0, &cone) != 0)
    return NULL;
  if (fl_sim_set_node_mode(s, 1) != 0 || fl_sim_set_paranoid(s, 1) != 0) return NULL;
  if (churn) {
    fl_sim_churn_config c = {.start_us = 30000000, .end_us = 200000000,
                             .arrival_mean_us = 2000000, .session_dist = FL_SIM_DIST_WEIBULL,
                             .session_mean_us = 60000000, .weibull_shape = 0.7,
                             .crash_ppm = 500000, .addr_change_mean_us = 100000000,
                             .churn_initial = 1};
    if (fl_sim_set_churn(s, &c) != 0) return NULL;
  }
  if (fl_sim_spawn(s, FL_SIM_KIND_DHT, 30, 2, 0, 5000000) != 0) return NULL;
  if (fl_sim_schedule_lookups(s, 20, 60000000, 60000000) != 0) return NULL;
  if (fl_sim_set_metrics_period(s, 10000000) != 0) return NULL;
  return s;
}

static void test_dht_network_answers_lookups_deterministically(void) {
  uint8_t fp[2][32];
  for (int round = 0; round < 2; round++) {
    fl_sim *s = network(fl_test_seed(), 0);
    FL_CHECK(s != NULL);
    FL_CHECK(fl_sim_run_until(s, 200000000, 0) > 1000);
    fl_sim_stats st;
    fl_sim_get_stats(s, &st);
    FL_CHECK_EQ(st.hosts, 30);
    FL_CHECK_EQ(st.queries_started, 20);
    FL_CHECK_EQ(st.queries_done, 20);
    FL_CHECK(st.queries_ok >= 18);
    FL_CHECK_EQ(st.node_errors, 0);
    FL_CHECK_EQ(st.node_check_failures, 0);
    uint32_t hops = 0;
    int32_t ok = 0;
    FL_CHECK_EQ(fl_sim_query_get(s, 0, NULL, NULL, NULL, &hops, &ok), 0);
    FL_CHECK(ok == 1 && hops >= 1);
    char dump[8192];
    FL_CHECK(fl_sim_host_dump(s, 5, dump, sizeof dump) > 0);
    FL_CHECK(strstr(dump, "routing table:") != NULL);
    fl_sim_fingerprint(s, fp[round]);
    FL_CHECK_EQ(fl_sim_check(s), 0);
    fl_sim_free(s);
  }
  FL_CHECK_MEM(fp[0], fp[1], 32);
}

static void test_churn_joins_leaves_and_moves_hosts(void) {
  fl_sim *s = network(fl_test_seed(), 1);
  FL_CHECK(s != NULL);
  FL_CHECK(fl_sim_run_until(s, 250000000, 0) > 1000);
  fl_sim_stats st;
  fl_sim_get_stats(s, &st);
  /* ~85 Poisson arrivals over 170 s; sessions of about a minute. */
  FL_CHECK(st.joins > 30 + 40 && st.joins < 30 + 140);
  FL_CHECK(st.leaves > 20);
  FL_CHECK(st.crashes > 0 && st.crashes < st.leaves);
  FL_CHECK(st.addr_changes > 0);
  FL_CHECK_EQ(st.hosts_live + st.leaves, st.hosts);
  FL_CHECK_EQ(st.queries_started, 20);
  FL_CHECK_EQ(st.node_check_failures, 0);
  FL_CHECK_EQ(fl_sim_check(s), 0);
  fl_sim_free(s);
}

int main(void) {
  FL_RUN(test_dht_network_answers_lookups_deterministically);
  FL_RUN(test_churn_joins_leaves_and_moves_hosts);
  return fl_test_done();
}
