/*
 * Timers, bootstrap and the network check (dht-rpc index.js _ontick,
 * _onwakeup, _pingSome, refresh, _bootstrap, _updateNetworkState,
 * _checkIfFirewalled; spec/dht-rpc.md §4, §7). The reference writes these
 * as async functions; here each await is a state and the reply that ends
 * it calls the next step.
 */
#include <assert.h>
#include <string.h>

#include "dht/dht.h"

static void netcheck_start(fl_dht *d, uint64_t now_us, bool only_firewall, bool from_boot);

/* ---- refresh, liveness rounds --------------------------------------------------- */

void fl_dht_background_query(fl_dht *d, uint64_t now_us, const uint8_t target[32],
                             uint32_t extra) {
  uint64_t qid = 0;
  d->refresh_ticks = FL_DHT_REFRESH_TICKS;
  /* The query id is written before the walk starts, so a query that ends
   * at once (no one to ask) is still recognised as the bootstrap's. */
  uint64_t *out = (extra & FL_DHT_QF_BOOT) ? &d->boot_query : &qid;
  int rc = fl_dht_query_start(d, now_us, target, true, FL_DHT_CMD_FIND_NODE, NULL, 0,
                              FL_DHT_QF_BACKGROUND | extra, out);
  if (rc < 0 && (extra & FL_DHT_QF_BOOT)) d->boot_query = 0;
}

void fl_dht_refresh(fl_dht *d, uint64_t now_us) {
  uint32_t i = fl_dht_table_random(d);
  uint8_t target[32];
  memcpy(target, i == FL_DHT_NO_IDX ? d->table_id : d->peers[i].id, 32);
  fl_dht_background_query(d, now_us, target, 0);
}

static void ping_some(fl_dht *d, uint64_t now_us) {
  uint32_t cnt = d->active_len > 2 ? 3 : 5;
  uint32_t oldest = d->lru_old;
  if (oldest == FL_DHT_NO_IDX) {
    fl_dht_refresh(d, now_us);
    return;
  }
  if (d->tick - d->peers[oldest].pinged < FL_DHT_RECENT_NODE) cnt = 2;
  while (cnt--) {
    /* As the reference: a node pinged this tick ends the round early. */
    if (oldest == FL_DHT_NO_IDX || d->tick == d->peers[oldest].pinged) continue;
    uint32_t next = d->peers[oldest].next;
    fl_dht_liveness_check(d, now_us, oldest);
    oldest = next;
  }
}

static void on_wakeup(fl_dht *d) {
  d->tick += 2 * FL_DHT_OLD_NODE;
  d->tick += 8 - (d->tick & 7) - 2;
  d->stable_ticks = (int32_t)FL_DHT_MORE_STABLE_TICKS;
  d->refresh_ticks = 1;
  d->has_last_host = false;
  d->st.wakeups++;
  fl_dht_health_reset(d);
  if (d->adaptive && !d->ephemeral) {
    d->ephemeral = true;
    fl_dht_event(d, FL_EVENT_DHT_EPHEMERAL, 0, NULL);
  }
  fl_dht_event(d, FL_EVENT_DHT_WAKEUP, 0, NULL);
}

static bool last_host_is_nat_host(const fl_dht *d) {
  if (!d->has_last_host || !d->nat.has_host) return d->has_last_host == d->nat.has_host;
  return memcmp(d->last_host, d->nat.host, 4) == 0;
}

static void on_tick(fl_dht *d, uint64_t now_us) {
  d->st.ticks++;
  if (now_us - d->last_tick_us > FL_DHT_SLEEP_US) on_wakeup(d);
  else d->tick++;
  d->last_tick_us = now_us;
  if (!d->bootstrapped) return;
  if (d->adaptive && d->ephemeral && --d->stable_ticks <= 0) {
    if (last_host_is_nat_host(d)) d->stable_ticks = (int32_t)FL_DHT_MORE_STABLE_TICKS;
    else netcheck_start(d, now_us, false, false);
  }
  if ((d->tick & 7) == 0) ping_some(d, now_us);
  if (((d->tick & 63) == 0 && d->table_size < FL_DHT_K) || --d->refresh_ticks <= 0)
    fl_dht_refresh(d, now_us);
  d->down_hints_sent = 0;
  fl_dht_health_update(d);
}

/* ---- bootstrap ---------------------------------------------------------------- */

static void boot_finish(fl_dht *d) {
  d->boot_running = false;
  if (d->bootstrapped) return;
  d->bootstrapped = true;
  fl_event *ev = fl_dht_event(d, FL_EVENT_DHT_READY, 0, NULL);
  if (!ev) return;
  memcpy(ev->key, d->table_id, 32);
  ev->code = d->ephemeral ? 0 : 1;
}

static void boot_round(fl_dht *d, uint64_t now_us) {
  d->boot_query = 0;
  fl_dht_background_query(d, now_us, d->table_id, FL_DHT_QF_BOOT);
  /* Refused (query table full): give up on the bootstrap, as a failed one. */
  if (d->boot_query == 0 && d->boot_running) boot_finish(d);
}

void fl_dht_start(fl_dht *d, uint64_t now_us, uint16_t server_port, uint16_t client_port) {
  assert(!d->bound);
  d->bound = true;
  d->server_port = server_port;
  d->client_port = client_port;
  d->last_tick_us = now_us;
  d->next_tick_us = now_us + FL_DHT_TICK_US;
  d->next_drain_us = now_us + FL_DHT_DRAIN_US;
  d->boot_running = true;
  d->boot_round = 0;
  d->boot_first = d->firewalled && d->quick_firewall && !d->force_persistent;
  d->boot_test_nat = false;
  boot_round(d, now_us);
}

void fl_dht_on_query_reply(fl_dht *d, uint64_t now_us, uint64_t qid, uint32_t flags,
                           const fl_addr *from) {
  if (!(flags & FL_DHT_QF_BOOT) || qid != d->boot_query || !d->boot_first) return;
  /* The quick NAT heuristic: ask the first responder to ping our server
   * socket; a reply before the round ends sets boot_test_nat. */
  d->boot_first = false;
  uint8_t v[2] = {(uint8_t)(d->server_port & 0xff), (uint8_t)(d->server_port >> 8)};
  uint32_t r = fl_dht_request(d, now_us, FL_DHT_RK_BOOT_NAT, from, NULL, NULL, true,
                              FL_DHT_CMD_PING_NAT, NULL, v, 2, true, false);
  if (r != FL_DHT_NO_IDX) fl_dht_req_start(d, now_us, r, false);
}

void fl_dht_boot_nat_ok(fl_dht *d, uint64_t now_us, const fl_dht_req *r) {
  (void)now_us;
  (void)r;
  if (d->boot_running) d->boot_test_nat = true;
}

static void boot_after_check(fl_dht *d, uint64_t now_us, bool ok) {
  if (!ok || d->boot_round == 1) {
    boot_finish(d);
    return;
  }
  d->boot_round = 1;
  boot_round(d, now_us);
}

void fl_dht_on_query_done(fl_dht *d, uint64_t now_us, uint64_t qid, uint32_t flags, int result) {
  (void)result;
  if (!(flags & FL_DHT_QF_BOOT) || qid != d->boot_query || !d->boot_running) return;
  d->boot_query = 0;
  if (d->bootstrapped || (!d->boot_test_nat && !d->force_persistent)) {
    boot_finish(d);
    return;
  }
  netcheck_start(d, now_us, !d->force_persistent, true);
}

/* ---- the network check ---------------------------------------------------------- */

static void netcheck_complete(fl_dht *d, uint64_t now_us, bool ok) {
  bool from_boot = d->nc_from_boot;
  d->nc_running = false;
  d->nc_from_boot = false;
  if (from_boot) boot_after_check(d, now_us, ok);
}

static void nat_event(fl_dht *d) {
  fl_event *ev = fl_dht_event(d, FL_EVENT_DHT_NAT_UPDATE, 0, NULL);
  if (ev && d->nat.has_host)
    ev->addr = fl_addr_ipv4(d->nat.host[0], d->nat.host[1], d->nat.host[2], d->nat.host[3],
                            d->nat.port);
}

/* The part of _updateNetworkState after the firewall probe passed. */
static bool netcheck_apply(fl_dht *d, uint64_t now_us, const fl_dht_nat *fresh) {
  d->firewalled = false;
  if (!d->ephemeral || !d->nat.has_host || memcmp(d->nc_host, d->nat.host, 4) != 0 ||
      d->nc_port != d->nat.port)
    return false;
  if (!fresh->has_host || memcmp(fresh->host, d->nc_host, 4) != 0 || fresh->port == 0)
    return false;
  fl_addr pub = fl_addr_ipv4(fresh->host[0], fresh->host[1], fresh->host[2], fresh->host[3],
                             fresh->port);
  uint8_t id[32];
  fl_dht_node_id(id, &pub);
  if (!d->nc_only_firewall) d->ephemeral = false;
  if (fresh != &d->nat) {
    bool changed = memcmp(fresh->host, d->nat.host, 4) != 0 || fresh->port != d->nat.port;
    d->bootstrap_samples_len = 0;
    d->nat = *fresh;
    if (changed) nat_event(d);
  }
  if (memcmp(d->table_id, id, 32) != 0) {
    fl_dht_table_rebuild(d, id);
    d->st.table_size = d->table_size;
    if (d->bootstrapped) fl_dht_refresh(d, now_us);
  }
  if (!d->ephemeral) {
    fl_event *ev = fl_dht_event(d, FL_EVENT_DHT_PERSISTENT, 0, NULL);
    if (ev) {
      memcpy(ev->key, d->table_id, 32);
      ev->addr = pub;
    }
  }
  return true;
}

static void probe_evaluate(fl_dht *d, uint64_t now_us) {
  fl_dht_nat fresh;
  fl_dht_nat_init(&fresh);
  uint32_t count = 0;
  for (uint32_t i = 0; i < d->nc_pong_len; i++) {
    for (uint32_t h = 0; h < d->nc_hosts_len; h++) {
      if (memcmp(d->nc_hosts[h], d->nc_pong_from[i].ip, 4) != 0) continue;
      count++;
      fl_dht_nat_add(&fresh, d->nc_pong_to[i].ip, d->nc_pong_to[i].port);
      break;
    }
  }
  bool firewalled = count < (d->nc_probed >= 5 ? 3u : 1u) || !fresh.has_host ||
                    !d->nat.has_host || memcmp(d->nat.host, fresh.host, 4) != 0 ||
                    fresh.port == 0 || fresh.port != d->server_port;
  bool ok = !firewalled && netcheck_apply(d, now_us, &fresh);
  netcheck_complete(d, now_us, ok);
}

void fl_dht_probe_saw(fl_dht *d, const fl_addr *from) {
  for (uint32_t h = 0; h < d->nc_hosts_len; h++)
    if (memcmp(d->nc_hosts[h], from->ip, 4) == 0) return;
  if (d->nc_hosts_len < 16) memcpy(d->nc_hosts[d->nc_hosts_len++], from->ip, 4);
}

void fl_dht_probe_done(fl_dht *d, uint64_t now_us, const fl_dht_req *r, const fl_addr *from,
                       const fl_addr *to, bool ok) {
  (void)r;
  if (!d->nc_running || d->nc_missing == 0) return;
  if (ok && d->nc_pong_len < 16) {
    d->nc_pong_from[d->nc_pong_len] = *from;
    d->nc_pong_to[d->nc_pong_len++] = *to;
  }
  if (--d->nc_missing == 0) probe_evaluate(d, now_us);
}

static uint32_t probe_targets(fl_dht *d, fl_addr *out, uint8_t (*ids)[32], uint32_t cap) {
  uint32_t n = 0;
  for (uint32_t i = d->lru_new; i != FL_DHT_NO_IDX && n < 5; i = d->peers[i].prev) {
    out[n] = d->peers[i].addr;
    memcpy(ids[n++], d->peers[i].id, 32);
  }
  if (n < 5) {
    for (uint32_t b = 0; b < d->cfg.bootstrap_len && n < cap; b++) {
      out[n] = d->cfg.bootstrap[b];
      fl_dht_node_id(ids[n++], &d->cfg.bootstrap[b]);
    }
  }
  return n;
}

static void probe_start(fl_dht *d, uint64_t now_us) {
  fl_addr to[5 + FL_NODE_BOOTSTRAP_MAX];
  uint8_t ids[5 + FL_NODE_BOOTSTRAP_MAX][32];
  uint32_t n = probe_targets(d, to, ids, 5 + FL_NODE_BOOTSTRAP_MAX);
  if (n == 0) {
    netcheck_complete(d, now_us, false);
    return;
  }
  uint8_t v[2] = {(uint8_t)(d->server_port & 0xff), (uint8_t)(d->server_port >> 8)};
  d->nc_hosts_len = d->nc_pong_len = 0;
  d->nc_probed = n;
  d->nc_missing = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t r = fl_dht_request(d, now_us, FL_DHT_RK_PROBE, &to[i], ids[i], NULL, true,
                                FL_DHT_CMD_PING_NAT, NULL, v, 2, true, false);
    if (r == FL_DHT_NO_IDX) continue;
    d->nc_missing++;
    fl_dht_req_start(d, now_us, r, false);
  }
  if (d->nc_missing == 0) probe_evaluate(d, now_us);
}

static void netcheck_start(fl_dht *d, uint64_t now_us, bool only_firewall, bool from_boot) {
  if (d->nc_running) {
    d->st.netcheck_busy++;
    if (from_boot) boot_after_check(d, now_us, false);
    return;
  }
  d->st.netchecks++;
  d->nc_running = true;
  d->nc_from_boot = from_boot;
  d->nc_only_firewall = only_firewall;
  if (!d->ephemeral || (only_firewall && !d->firewalled)) {
    netcheck_complete(d, now_us, false);
    return;
  }
  if (!only_firewall) {
    d->stable_ticks = (int32_t)FL_DHT_MORE_STABLE_TICKS;
    d->has_last_host = d->nat.has_host;
    memcpy(d->last_host, d->nat.host, 4);
  }
  if (!d->nat.has_host || d->nat.port == 0) {
    netcheck_complete(d, now_us, false);
    return;
  }
  memcpy(d->nc_host, d->nat.host, 4);
  d->nc_port = d->nat.port;
  if (d->firewalled) {
    probe_start(d, now_us);
    return;
  }
  netcheck_complete(d, now_us, netcheck_apply(d, now_us, &d->nat));
}

/* ---- timers ------------------------------------------------------------------- */

/* dht-rpc destroy(): end every query and request with FL_ERR_CLOSED, drop
 * pending delayed replies, stop the timers. New requests are refused. */
void fl_dht_close(fl_dht *d, uint64_t now_us) {
  if (d->destroyed) return;
  d->destroyed = true;
  d->boot_running = false;
  d->nc_running = false;
  for (uint32_t i = 0; i < d->queries_max; i++)
    if (d->queries[i]) (void)fl_dht_query_cancel(d, now_us, fl_dht_query_id(d->queries[i]));
  while (d->active_len > 0) {
    uint32_t idx = d->active[d->active_len - 1];
    fl_dht_req copy = d->reqs[idx];
    copy.buf = NULL;
    fl_dht_req_finish(d, idx);
    fl_dht_on_error(d, now_us, &copy, FL_ERR_CLOSED);
  }
  d->delayed_len = 0;
  d->st.delayed_active = 0;
  d->next_tick_us = d->next_drain_us = FL_TIME_NONE;
}

void fl_dht_handle_timeout(fl_dht *d, uint64_t now_us) {
  if (!d->bound || d->destroyed) return;
  if (d->next_drain_us <= now_us) {
    d->next_drain_us = now_us + FL_DHT_DRAIN_US;
    fl_dht_io_drain(d, now_us);
  }
  if (d->next_tick_us <= now_us) {
    d->next_tick_us = now_us + FL_DHT_TICK_US;
    on_tick(d, now_us);
  }
  fl_dht_delayed_run(d, now_us);
  fl_dht_io_timeouts(d, now_us);
}

uint64_t fl_dht_next_deadline(const fl_dht *d) {
  if (!d->bound || d->destroyed) return FL_TIME_NONE;
  uint64_t t = d->next_drain_us < d->next_tick_us ? d->next_drain_us : d->next_tick_us;
  uint64_t io = fl_dht_io_deadline(d);
  if (io < t) t = io;
  for (uint32_t i = 0; i < d->delayed_len; i++)
    if (d->delayed[i].due_us < t) t = d->delayed[i].due_us;
  return t;
}
