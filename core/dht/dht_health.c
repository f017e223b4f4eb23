/*
 * Network health (dht-rpc lib/health.js; spec/dht-rpc.md §4 step 6): a
 * window of the last 4 ticks' response and timeout totals. Local only: it
 * never changes what goes on the wire, it only reports online / degraded /
 * offline through FL_EVENT_DHT_NETWORK_UPDATE.
 *
 * Ported with the reference's quirks: an offline tick records degraded =
 * false, so when it leaves the window it takes one off the healthy count
 * although it never added one.
 */
#include <string.h>

#include "dht/dht.h"

#define WINDOW 4u
#define OFFLINE_THRESHOLD 2
#define IDLE_THRESHOLD 4u

static void network_event(fl_dht *d, bool online, bool degraded) {
  if (d->h.online == online && d->h.degraded == degraded) return;
  d->h.online = online;
  d->h.degraded = degraded;
  fl_event *ev = fl_dht_event(d, FL_EVENT_DHT_NETWORK_UPDATE, 0, NULL);
  if (ev) ev->code = !online ? 2 : degraded ? 1 : 0;
}

void fl_dht_health_reset(fl_dht *d) {
  bool online = d->h.online, degraded = d->h.degraded;
  memset(&d->h, 0, sizeof d->h);
  d->h.head = WINDOW - 1;
  d->h.online = online;
  d->h.degraded = degraded;
  network_event(d, true, false);
}

void fl_dht_health_update(fl_dht *d) {
  fl_dht_health *h = &d->h;
  uint32_t tail = (h->head + 1) % WINDOW;
  if (h->len == WINDOW) {
    if (h->w[tail].mark == 2) h->degraded_ticks--;
    else if (h->w[tail].mark == 1) h->healthy_ticks--;
  }
  h->head = tail;
  h->w[h->head].responses = d->st.responses;
  h->w[h->head].timeouts = d->st.timeouts;
  h->w[h->head].mark = 0;
  if (h->len < WINDOW) h->len++;
  if (h->len < 2) return; /* no previous tick: responses/timeouts are 0, idle */
  const fl_dht_health_tick *prev = &h->w[(h->head + WINDOW - 1) % WINDOW];
  uint64_t responses = h->w[h->head].responses - prev->responses;
  uint64_t timeouts = h->w[h->head].timeouts - prev->timeouts;
  if (h->len < WINDOW || responses + timeouts < IDLE_THRESHOLD) return; /* cold or idle */
  bool offline = responses == 0;
  /* timeoutsRate > 0.5, in integers */
  bool degraded = !offline && timeouts > 0 && 2 * timeouts > responses + timeouts;
  h->w[h->head].mark = degraded ? 2 : 1;
  if (offline) {
    h->offline_ticks++;
  } else {
    h->offline_ticks = 0;
    if (degraded) h->degraded_ticks++;
    else h->healthy_ticks++;
  }
  bool online = h->online;
  if (!offline) online = true;
  else if (h->offline_ticks >= OFFLINE_THRESHOLD) online = false;
  bool deg = h->degraded;
  if (!online || h->healthy_ticks == (int32_t)WINDOW) deg = false;
  else if (h->degraded_ticks == (int32_t)WINDOW) deg = true;
  network_event(d, online, deg);
}
