/*
 * The SQLite recorder: what it writes, that it never changes the run
 * (fingerprint equal with no log and at every verbosity), and that one
 * host's recorded inputs replayed into a fresh node reproduce its outputs.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"
#include "testing/fl_test.h"

static char path[256];

static void db_path(const char *tag) {
  snprintf(path, sizeof path, "/tmp/flocksim_rec_%s_%d.sqlite", tag, (int)getpid());
}

static int64_t count(const char *db, const char *sql) {
  sqlite3 *h;
  sqlite3_stmt *st;
  int64_t n = -1;
  if (sqlite3_open(db, &h) != SQLITE_OK) return -1;
  if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(h);
  return n;
}

static int exec(const char *db, const char *sql) {
  sqlite3 *h;
  if (sqlite3_open(db, &h) != SQLITE_OK) return -1;
  int rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
  sqlite3_close(h);
  return rc;
}

/* A small run of raw hosts behind NATs with churn; log at `level` (or none
 * when level < 0), tracing host 2. */
static int scenario(int level, const char *db, uint8_t fp[32]) {
  fl_sim *s = fl_sim_new(fl_test_seed());
  if (s == NULL) return -1;
  if (level >= 0 && (fl_sim_record_open(s, db, level) != 0 || fl_sim_record_trace_host(s, 2) != 0))
    return -1;
  fl_sim_nat_config c = {.mapping = FL_SIM_APD, .filtering = FL_SIM_AD, .ports = FL_SIM_PORT_RANDOM,
                         .timeout_us = 60000000};
  int h[8];
  for (int i = 0; i < 8; i++) {
    int nat = i % 2 ? fl_sim_nat_new(s, &c) : -1;
    h[i] = fl_sim_host_new(s, FL_SIM_KIND_RAW, nat, 0);
    if (h[i] < 0) return -1;
  }
  for (int round = 0; round < 20; round++) {
    for (int i = 0; i < 8; i++) {
      fl_addr to;
      if (fl_sim_host_addr(s, h[(i + round) % 8 & ~1], 0, &to) != 0) return -1;
      uint8_t msg[2] = {(uint8_t)round, (uint8_t)i};
      if (fl_sim_raw_send(s, h[i], &to, msg, sizeof msg) != 0) return -1;
    }
    (void)fl_sim_run_until(s, fl_sim_now(s) + 50000, 0);
  }
  /* Port 1 is never a mapping (they start at 1024): filtered for certain. */
  fl_addr pub;
  if (fl_sim_host_public_ip(s, h[1], &pub) != 0) return -1;
  pub.port = 1;
  if (fl_sim_raw_send(s, h[0], &pub, (const uint8_t *)"?", 1) != 0) return -1;
  if (fl_sim_host_leave(s, h[3], 0) != 0 || fl_sim_host_leave(s, h[4], 1) != 0) return -1;
  if (fl_sim_set_metrics_period(s, 100000) != 0) return -1;
  (void)fl_sim_run_until(s, fl_sim_now(s) + 1000000, 0);
  fl_sim_fingerprint(s, fp);
  if (fl_sim_check(s) != 0) return -1;
  fl_sim_free(s);
  return 0;
}

static void test_fingerprint_independent_of_log(void) {
  uint8_t none[32], fp[32];
  FL_CHECK_EQ(scenario(-1, NULL, none), 0);
  for (int level = 0; level <= 3; level++) {
    db_path("level");
    FL_CHECK_EQ(scenario(level, path, fp), 0);
    FL_CHECK_MEM(fp, none, 32);
    unlink(path);
  }
}

static void test_log_contents_by_verbosity(void) {
  uint8_t fp[32];
  db_path("contents");
  FL_CHECK_EQ(scenario(1, path, fp), 0);
  FL_CHECK_EQ(count(path, "SELECT count(*) FROM nodes"), 8);
  FL_CHECK_EQ(count(path, "SELECT count(*) FROM nodes WHERE leave = 'crash'"), 1);
  FL_CHECK_EQ(count(path, "SELECT count(*) FROM nodes WHERE leave = 'graceful'"), 1);
  FL_CHECK_EQ(count(path, "SELECT count(*) FROM events WHERE type = 'join'"), 8);
  FL_CHECK(count(path, "SELECT count(*) FROM events WHERE type = 'nat_mapping'") > 4);
  FL_CHECK_EQ(count(path, "SELECT count(*) FROM metrics"), 10);
  FL_CHECK_EQ(count(path, "SELECT count(*) FROM datagrams"), 0);
  FL_CHECK_EQ(count(path, "SELECT count(*) FROM io"), 0);
  unlink(path);
  FL_CHECK_EQ(scenario(2, path, fp), 0);
  /* 20 rounds x 8 sends and one probe, each delivered or dropped once. */
  FL_CHECK_EQ(count(path, "SELECT count(*) FROM datagrams"), 161);
  FL_CHECK_EQ(count(path, "SELECT count(*) FROM datagrams WHERE outcome = 'delivered'"), 160);
  FL_CHECK_EQ(count(path, "SELECT count(*) FROM datagrams WHERE outcome = 'nat_filter'"), 1);
  unlink(path);
}

static void test_trace_replays_into_fresh_node(void) {
  uint8_t fp[32];
  db_path("trace");
  FL_CHECK_EQ(scenario(3, path, fp), 0);
  FL_CHECK(count(path, "SELECT count(*) FROM io WHERE node = 2 AND dir = 'out'") == 20);
  FL_CHECK_EQ(fl_sim_trace_verify(path, 2), 20);
  FL_CHECK_EQ(fl_sim_trace_verify(path, 5), FL_ERR_NOT_FOUND);
  /* Tamper with one recorded output: the replay must notice. */
  FL_CHECK_EQ(exec(path, "UPDATE io SET data = x'ffff' WHERE seq = (SELECT max(seq) FROM io"
                         " WHERE dir = 'out')"), SQLITE_OK);
  FL_CHECK_EQ(fl_sim_trace_verify(path, 2), FL_ERR_PROTOCOL);
  unlink(path);
}

int main(void) {
  FL_RUN(test_fingerprint_independent_of_log);
  FL_RUN(test_log_contents_by_verbosity);
  FL_RUN(test_trace_replays_into_fresh_node);
  return fl_test_done();
}
