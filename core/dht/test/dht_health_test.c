/*
 * Network health (lib/health.js): cold for the first ticks, idle ticks
 * ignored, offline after 2 busy ticks without a response, degraded after
 * 4 ticks with over half timeouts, healthy again after 4 good ticks, and
 * one event per change.
 */
#include "dht/dht.h"

#include "testing/fl_test.h"

typedef struct env {
  fl_dht_fifo tx, ev;
  fl_dht *d;
} env;

static void env_init(env *e) {
  fl_node_config c;
  fl_node_config_default(&c);
  if (fl_dht_fifo_init(&e->tx, NULL, sizeof(fl_dgram), 64, 1 << 16) ||
      fl_dht_fifo_init(&e->ev, NULL, sizeof(fl_event), 64, 1 << 16))
    abort();
  e->d = calloc(1, sizeof *e->d);
  if (fl_dht_init(e->d, &c, &e->tx, &e->ev, 0) != 0) abort();
}

static void env_free(env *e) {
  fl_dht_deinit(e->d);
  free(e->d);
  fl_dht_fifo_deinit(&e->tx);
  fl_dht_fifo_deinit(&e->ev);
}

/* One tick with these new responses and timeouts; returns the code of the
 * NETWORK_UPDATE it emitted, or -1 for none. */
static int tick(env *e, uint64_t responses, uint64_t timeouts) {
  e->d->st.responses += responses;
  e->d->st.timeouts += timeouts;
  fl_dht_health_update(e->d);
  int code = -1;
  void *meta;
  const uint8_t *data;
  size_t len;
  while (fl_dht_fifo_peek(&e->ev, &meta, &data, &len)) {
    const fl_event *ev = meta;
    if (ev->type == FL_EVENT_DHT_NETWORK_UPDATE) code = ev->code;
    fl_dht_fifo_pop(&e->ev);
  }
  return code;
}

static void test_dht_health_offline_after_two_silent_busy_ticks(void) {
  env e;
  env_init(&e);
  for (int i = 0; i < 4; i++) FL_CHECK_EQ(tick(&e, 10, 0), -1); /* cold, then healthy */
  FL_CHECK_EQ(tick(&e, 0, 10), -1);                            /* one silent tick */
  FL_CHECK_EQ(tick(&e, 0, 10), 2);                             /* offline */
  FL_CHECK(!e.d->h.online);
  FL_CHECK_EQ(tick(&e, 0, 1), -1); /* idle (< 4 events): no change */
  FL_CHECK_EQ(tick(&e, 3, 1), 0);  /* a response: online */
  env_free(&e);
}

static void test_dht_health_degraded_after_four_bad_ticks(void) {
  env e;
  env_init(&e);
  for (int i = 0; i < 4; i++) tick(&e, 10, 0);
  FL_CHECK_EQ(tick(&e, 2, 8), -1);
  FL_CHECK_EQ(tick(&e, 2, 8), -1);
  FL_CHECK_EQ(tick(&e, 2, 8), -1);
  FL_CHECK_EQ(tick(&e, 2, 8), 1); /* 4 in a row over 0.5 */
  FL_CHECK(e.d->h.degraded);
  FL_CHECK_EQ(tick(&e, 5, 5), -1); /* exactly 0.5 is not degraded, but not 4 healthy yet */
  FL_CHECK_EQ(tick(&e, 10, 0), -1);
  FL_CHECK_EQ(tick(&e, 10, 0), -1);
  FL_CHECK_EQ(tick(&e, 10, 0), 0); /* 4 healthy ticks in the window */
  FL_CHECK(!e.d->h.degraded);
  env_free(&e);
}

static void test_dht_health_reset_reports_online(void) {
  env e;
  env_init(&e);
  for (int i = 0; i < 4; i++) tick(&e, 10, 0);
  tick(&e, 0, 10);
  FL_CHECK_EQ(tick(&e, 0, 10), 2);
  fl_dht_health_reset(e.d);
  FL_CHECK(e.d->h.online);
  FL_CHECK_EQ(tick(&e, 0, 0), 0);    /* the reset's own online event */
  FL_CHECK_EQ(tick(&e, 0, 10), -1); /* cold again after the reset */
  FL_CHECK_EQ(e.d->h.len, 2);
  env_free(&e);
}

int main(void) {
  FL_RUN(test_dht_health_offline_after_two_silent_busy_ticks);
  FL_RUN(test_dht_health_degraded_after_four_bad_ticks);
  FL_RUN(test_dht_health_reset_reports_online);
  return fl_test_done();
}
