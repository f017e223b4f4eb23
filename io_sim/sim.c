/*
 * The engine: virtual time, the (time, sequence) heap, hosts, and the drive
 * loop every node goes through after each input, the same one io_posix runs:
 * drain poll_transmit, drain poll_event (answering socket requests at once),
 * repeat until quiet, then re-arm the node's timer from next_deadline.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flock/hyperdht.h"
#include "sim_internal.h"

size_t fl_sim_hosts_max(void) { return FL_SIM_HOSTS_MAX; }
size_t fl_sim_nat_mappings_max(void) { return FL_SIM_NAT_MAPPINGS_MAX; }

fl_addr sim_addr(uint32_t ip, uint16_t port) {
  return fl_addr_ipv4((uint8_t)(ip >> 24), (uint8_t)(ip >> 16), (uint8_t)(ip >> 8), (uint8_t)ip,
                      port);
}

uint32_t sim_ip(const fl_addr *a) {
  return (uint32_t)a->ip[0] << 24 | (uint32_t)a->ip[1] << 16 | (uint32_t)a->ip[2] << 8 | a->ip[3];
}

static void put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* One record of the canonical event stream: a fixed little-endian header and
 * the bytes, if any. Only simulated facts go in, never recorder settings. */
void sim_fp(fl_sim *s, uint32_t type, uint32_t host, uint64_t a, uint64_t b,
            const uint8_t *data, size_t len) {
  uint8_t h[48];
  put64(h, s->now_us);
  put64(h + 8, type);
  put64(h + 16, host);
  put64(h + 24, a);
  put64(h + 32, b);
  put64(h + 40, len);
  crypto_generichash_update(&s->fp, h, sizeof h);
  if (len) crypto_generichash_update(&s->fp, data, len);
}

void fl_sim_fingerprint(const fl_sim *s, uint8_t out[32]) {
  crypto_generichash_state copy = s->fp;
  crypto_generichash_final(&copy, out, 32);
}

int sim_push(fl_sim *s, uint64_t t, uint32_t type, uint32_t a, uint64_t b, sim_packet *p) {
  assert(t >= s->now_us);
  sim_ev ev = {.t = t, .seq = s->seq++, .type = type, .a = a, .b = b, .p = p};
  int rc = sim_heap_push(&s->heap, &ev);
  s->st.heap_len = s->heap.len;
  s->st.heap_high = s->heap.high;
  return rc;
}

fl_sim *fl_sim_new(uint64_t seed) {
  if (sodium_init() < 0) return NULL;
  fl_sim *s = calloc(1, sizeof *s);
  if (s == NULL) return NULL;
  /* The root seed is a hash of the scenario seed; each subsystem forks its
   * own stream so that, e.g., more loss draws never shift node seeds. */
  uint8_t in[16] = "flocksim", root[32];
  put64(in + 8, seed);
  crypto_generichash(root, sizeof root, in, sizeof in, NULL, 0);
  fl_drbg_init(&s->root, root);
  fl_drbg_fork(&s->root, &s->net);
  fl_drbg_fork(&s->root, &s->nodes);
  fl_drbg_fork(&s->root, &s->nat);
  fl_drbg_fork(&s->root, &s->churn);
  fl_drbg_fork(&s->root, &s->work);
  fl_drbg_fork(&s->root, &s->recs); /* last: the streams above stay as they were */
  crypto_generichash_init(&s->fp, NULL, 0, 32);
  s->ops[FL_SIM_KIND_RAW] = &sim_raw_ops;
  s->ops[FL_SIM_KIND_DHT] = &sim_dht_ops;
  s->ops[FL_SIM_KIND_HYPERDHT] = &sim_hyperdht_ops;
  s->lat_model = FL_SIM_LAT_CONSTANT;
  s->lat_a = 20000;
  s->nregions = 1;
  s->inflight_max = FL_SIM_INFLIGHT_MAX;
  return s;
}

void fl_sim_free(fl_sim *s) {
  if (s == NULL) return;
  sim_rec_free(s);
  sim_records_free(s);
  for (uint32_t i = 0; i < s->nhosts; i++)
    if (s->hosts[i].node) s->ops[s->hosts[i].kind]->destroy(s->hosts[i].node);
  for (uint32_t i = 0; i < s->nnats; i++) sim_nat_deinit(&s->nats[i]);
  sim_heap_free(&s->heap);
  sim_map_free(&s->query_ix);
  free(s->hosts);
  free(s->live);
  free(s->nats);
  free(s->ip_owner);
  free(s->boot);
  free(s->queries);
  free(s);
}

uint64_t fl_sim_now(const fl_sim *s) { return s->now_us; }

uint64_t fl_sim_next_event(const fl_sim *s) {
  return s->heap.len ? s->heap.v[0].t : FL_TIME_NONE;
}

void fl_sim_get_stats(const fl_sim *s, fl_sim_stats *out) {
  *out = s->st;
  out->now_us = s->now_us;
  out->heap_len = s->heap.len;
  out->heap_high = s->heap.high;
}

int fl_sim_set_kind_ops(fl_sim *s, int kind, const fl_sim_node_ops *ops) {
  if (s == NULL || ops == NULL || kind < 0 || kind >= FL_SIM_KINDS) return FL_ERR_INVALID;
  if (!ops->create || !ops->destroy || !ops->handle_datagram || !ops->poll_transmit ||
      !ops->next_deadline || !ops->handle_timeout || !ops->poll_event || !ops->socket_opened ||
      !ops->socket_failed)
    return FL_ERR_INVALID;
  s->custom_ops[kind] = *ops;
  s->ops[kind] = &s->custom_ops[kind];
  return 0;
}

/* ---- the drive loop --------------------------------------------------------- */

static void node_error(fl_sim *s, uint32_t host, const char *what, int rc) {
  s->st.node_errors++;
  sim_rec_event(s, "node_error", host, 0, rc, what);
}

/* Bind a socket the node asked for; answer at once (binding cannot block). */
static void open_socket(fl_sim *s, uint32_t id, const fl_event *ev) {
  sim_host *h = &s->hosts[id];
  const fl_sim_node_ops *ops = s->ops[h->kind];
  int rc;
  if (ev->sock >= FL_SIM_SOCKS_MAX || h->port[ev->sock] != 0) {
    sim_rec_io(s, id, "failed", ev->sock, NULL, (const uint8_t *)"L", 1);
    rc = ops->socket_failed(h->node, s->now_us, ev->sock, FL_ERR_LIMIT);
  } else {
    uint16_t want = ev->addr.port;
    for (uint32_t i = 0; want != 0 && i < FL_SIM_SOCKS_MAX; i++)
      if (h->port[i] == want) want = 0xffff; /* taken: fail below */
    if (want == 0xffff) {
      sim_rec_io(s, id, "failed", ev->sock, NULL, (const uint8_t *)"S", 1);
      rc = ops->socket_failed(h->node, s->now_us, ev->sock, FL_ERR_STATE);
    } else {
      if (want == 0) {
        want = h->next_port;
        h->next_port = (uint16_t)(h->next_port == 65535 ? 49152 : h->next_port + 1);
      }
      h->port[ev->sock] = want;
      fl_addr bound = sim_addr(h->ip, want);
      sim_fp(s, 30, id, ev->sock, want, NULL, 0);
      sim_rec_io(s, id, "opened", ev->sock, &bound, NULL, 0);
      rc = ops->socket_opened(h->node, s->now_us, ev->sock, &bound);
    }
  }
  if (rc < 0) node_error(s, id, "socket answer", rc);
}

static void handle_node_event(fl_sim *s, uint32_t id, const fl_event *ev) {
  sim_host *h = &s->hosts[id];
  const fl_sim_node_ops *ops = s->ops[h->kind];
  switch (ev->type) {
    case FL_EVENT_SOCKET_OPEN: open_socket(s, id, ev); return;
    case FL_EVENT_SOCKET_CLOSE:
      if (ev->sock < FL_SIM_SOCKS_MAX) h->port[ev->sock] = 0;
      sim_fp(s, 31, id, ev->sock, 0, NULL, 0);
      return;
    case FL_EVENT_LOG: return;
    default: break;
  }
  const char *name = ops->event_name ? ops->event_name(ev) : NULL;
  if (name) sim_rec_event(s, name, id, ev->id, ev->code, NULL);
  uint64_t qid;
  int ok;
  uint32_t hops;
  if (ops->query_done && ops->query_done(ev, &qid, &ok, &hops) == 1)
    sim_query_done(s, id, qid, ok, hops);
  else if (ev->type >= FL_EVENT_HYPERDHT_PEER && ev->type < FL_EVENT_HYPERDHT_PEER + 100)
    sim_records_node_event(s, id, ev);
}

static void arm_timer(fl_sim *s, uint32_t id, int after_fire) {
  sim_host *h = &s->hosts[id];
  uint64_t d = s->ops[h->kind]->next_deadline(h->node);
  if (d == FL_TIME_NONE) return;
  /* A node still due right after its timer ran would spin at one instant:
   * nudge it a microsecond on (a node bug, counted, not a livelock). */
  if (d <= s->now_us) {
    if (after_fire) s->st.drain_overruns++;
    d = after_fire ? s->now_us + 1 : s->now_us;
  }
  if (h->timer_at != FL_TIME_NONE && h->timer_at <= d) return;
  h->timer_at = d;
  h->timer_seq = s->seq;
  if (sim_push(s, d, SIM_EV_TIMER, id, 0, NULL) != 0) h->timer_at = FL_TIME_NONE;
}

static void drive(fl_sim *s, uint32_t id, int after_fire) {
  const fl_sim_node_ops *ops = s->ops[s->hosts[id].kind];
  for (uint32_t round = 0;; round++) {
    if (round == FL_SIM_DRAIN_ROUNDS_MAX) {
      s->st.drain_overruns++;
      break;
    }
    int busy = 0;
    fl_dgram d;
    int rc;
    while (s->hosts[id].live && (rc = ops->poll_transmit(s->hosts[id].node, &d, s->buf,
                                                         sizeof s->buf)) == 1) {
      sim_net_send(s, id, d.sock, &d.to, s->buf, d.len);
      busy = 1;
    }
    fl_event ev;
    while (s->hosts[id].live && ops->poll_event(s->hosts[id].node, &ev) == 1) {
      handle_node_event(s, id, &ev);
      busy = 1;
    }
    if (!busy || !s->hosts[id].live) break;
  }
  if (!s->hosts[id].live) return;
  arm_timer(s, id, after_fire);
  if (s->paranoid && ops->check) {
    int rule = ops->check(s->hosts[id].node);
    if (rule != 0) {
      s->st.node_check_failures++;
      node_error(s, id, "check", rule);
    }
  }
}

int fl_sim_set_paranoid(fl_sim *s, int on) {
  if (s == NULL) return FL_ERR_INVALID;
  s->paranoid = on != 0;
  return 0;
}

void sim_drive(fl_sim *s, uint32_t id) { drive(s, id, 0); }

static void fire_timer(fl_sim *s, const sim_ev *ev) {
  sim_host *h = &s->hosts[ev->a];
  if (!h->live || ev->seq != h->timer_seq) return; /* stale: superseded or gone */
  h->timer_at = FL_TIME_NONE;
  sim_fp(s, 2, ev->a, 0, 0, NULL, 0);
  sim_rec_io(s, ev->a, "timeout", 0, NULL, NULL, 0);
  int rc = s->ops[h->kind]->handle_timeout(h->node, s->now_us);
  if (rc < 0) node_error(s, ev->a, "handle_timeout", rc);
  drive(s, ev->a, 1);
}

int64_t fl_sim_run_until(fl_sim *s, uint64_t until_us, uint64_t max_events) {
  if (s == NULL) return FL_ERR_INVALID;
  int64_t n = 0;
  sim_ev ev;
  while (s->heap.len > 0 && s->heap.v[0].t <= until_us &&
         (max_events == 0 || (uint64_t)n < max_events)) {
    (void)sim_heap_pop(&s->heap, &ev);
    assert(ev.t >= s->now_us);
    s->now_us = ev.t;
    n++;
    s->st.events++;
    switch (ev.type) {
      case SIM_EV_DELIVER:
        s->st.inflight--;
        sim_net_deliver(s, ev.p);
        free(ev.p);
        break;
      case SIM_EV_TIMER: fire_timer(s, &ev); break;
      default: sim_churn_event(s, &ev); break;
    }
  }
  int drained = s->heap.len == 0 || s->heap.v[0].t > until_us;
  if (drained && until_us != FL_TIME_NONE && until_us > s->now_us) s->now_us = until_us;
  s->st.heap_len = s->heap.len;
  SIM_IGNORE(fl_sim_record_flush(s));
  return n;
}

/* ---- invariants ---------------------------------------------------------------- */

static int check_heap(const fl_sim *s) {
  uint64_t delivers = 0;
  for (size_t i = 0; i < s->heap.len; i++) {
    const sim_ev *e = &s->heap.v[i];
    if (e->t < s->now_us) return 0;
    if (e->type == SIM_EV_DELIVER) delivers++;
    if (i > 0) {
      const sim_ev *p = &s->heap.v[(i - 1) / 2];
      if (p->t > e->t || (p->t == e->t && p->seq > e->seq)) return 0;
    }
  }
  return delivers == s->st.inflight;
}

static int check_hosts(const fl_sim *s) {
  uint64_t live = 0;
  for (uint32_t i = 0; i < s->nhosts; i++) {
    const sim_host *h = &s->hosts[i];
    if (h->live != (h->node != NULL)) return 0;
    if (!h->live) continue;
    live++;
    if (h->live_pos >= s->st.hosts_live || s->live[h->live_pos] != i) return 0;
    if (h->nat >= (int32_t)s->nnats) return 0;
    const fl_sim_node_ops *ops = s->ops[h->kind];
    if (ops->check && ops->check(h->node) != 0) return 0;
  }
  return live == s->st.hosts_live;
}

static int check_nats(const fl_sim *s) {
  uint64_t total = 0;
  for (uint32_t i = 0; i < s->nnats; i++) {
    const sim_nat *n = &s->nats[i];
    uint32_t used = 0;
    for (uint32_t k = 0; k < n->maps_cap; k++) used += n->maps[k].used;
    if (used != n->maps_len || n->by_ext.len != used || n->by_out.len != used) return 0;
    if (used + n->nfree != n->maps_cap || used > FL_SIM_NAT_MAPPINGS_MAX) return 0;
    total += used;
  }
  return total == s->st.nat_mappings;
}

int fl_sim_check(const fl_sim *s) {
  if (s == NULL) return FL_ERR_INVALID;
  if (!check_heap(s) || !check_hosts(s) || !check_nats(s)) return FL_ERR_STATE;
  return 0;
}

/* ---- hosts ---------------------------------------------------------------------- */

static int hosts_reserve(fl_sim *s) {
  if (s->nhosts >= FL_SIM_HOSTS_MAX) return FL_ERR_LIMIT;
  if (s->nhosts < s->hosts_cap) return 0;
  uint32_t cap = s->hosts_cap ? s->hosts_cap * 2 : 64;
  sim_host *h = realloc(s->hosts, cap * sizeof *h);
  if (h == NULL) return FL_ERR_NOMEM;
  s->hosts = h;
  uint32_t *l = realloc(s->live, cap * sizeof *l);
  if (l == NULL) return FL_ERR_NOMEM;
  s->live = l;
  s->hosts_cap = cap;
  return 0;
}

/* What the node is made with; the trace's "create" row packs the same. */
static void node_init(fl_sim *s, const sim_host *h, int boot, fl_sim_node_init *in,
                      uint8_t *packed, size_t *packed_len) {
  memset(in, 0, sizeof *in);
  memcpy(in->seed, h->seed, 32);
  in->bootstrapper = boot;
  in->self = sim_addr(h->ip, 0);
  in->public_host = h->nat < 0;
  in->mode = s->node_mode;
  for (uint32_t i = 0; i < s->nboot && i < FL_SIM_BOOT_MAX; i++) in->boot[in->nboot++] = s->boot[i];
  memcpy(packed, in->seed, 32);
  packed[32] = (uint8_t)(boot | (in->public_host ? 2 : 0) | in->mode << 2);
  size_t n = 33;
  const fl_addr *list[1 + FL_SIM_BOOT_MAX];
  list[0] = &in->self;
  for (uint32_t i = 0; i < in->nboot; i++) list[1 + i] = &in->boot[i];
  for (uint32_t i = 0; i <= in->nboot; i++, n += 6) {
    memcpy(packed + n, list[i]->ip, 4);
    packed[n + 4] = (uint8_t)(list[i]->port >> 8);
    packed[n + 5] = (uint8_t)list[i]->port;
  }
  *packed_len = n;
}

int sim_host_create(fl_sim *s, int kind, int nat, uint32_t region, int boot) {
  if (kind < 0 || kind >= FL_SIM_KINDS || region >= FL_SIM_REGIONS_MAX) return FL_ERR_INVALID;
  if (s->ops[kind]->handle_datagram == NULL) return FL_ERR_UNSUPPORTED;
  if (nat >= 0 && ((uint32_t)nat >= s->nnats || s->nats[nat].nhosts >= SIM_NAT_HOSTS_MAX))
    return FL_ERR_INVALID;
  int rc = hosts_reserve(s);
  if (rc != 0) return rc;
  uint32_t id = s->nhosts;
  sim_host *h = &s->hosts[id];
  memset(h, 0, sizeof *h);
  h->kind = kind;
  h->nat = nat;
  h->region = region;
  h->timer_at = FL_TIME_NONE;
  h->next_port = 49152;
  h->joined_us = s->now_us;
  h->bps = s->bps;
  h->queue_bytes_max = s->queue_bytes;
  /* Every host's seed is forked from the nodes stream in creation order. */
  fl_drbg_bytes(&s->nodes, h->seed, sizeof h->seed);
  h->part_key = fl_drbg_u32(&s->nodes) % 1000000u;
  if (nat < 0) {
    h->ip = sim_ip_alloc(s, SIM_OWNER_HOST | id);
    if (h->ip == 0) return FL_ERR_NOMEM;
  } else {
    sim_nat *n = &s->nats[nat];
    h->ip = 0x0a000002u + n->next_private++;
    n->hosts[n->nhosts++] = id;
    n->region = region;
  }
  h->boot = (uint8_t)boot;
  fl_sim_node_init init;
  uint8_t packed[33 + 6 * (1 + FL_SIM_BOOT_MAX)];
  size_t packed_len;
  node_init(s, h, boot, &init, packed, &packed_len);
  sim_rec_io(s, id, "create", (uint32_t)kind, NULL, packed, packed_len);
  h->node = s->ops[kind]->create(s, (int)id, &init, s->now_us);
  if (h->node == NULL) return FL_ERR_NOMEM;
  s->nhosts++;
  h->live = 1;
  h->live_pos = (uint32_t)s->st.hosts_live;
  s->live[s->st.hosts_live++] = id;
  s->st.hosts++;
  s->st.joins++;
  sim_fp(s, 10, id, (uint64_t)kind, (uint64_t)(int64_t)nat, NULL, 0);
  drive(s, id, 0);
  sim_rec_host(s, id); /* after the drive, so its socket's port is known */
  sim_rec_event(s, "join", id, 0, nat, NULL);
  return (int)id;
}

int fl_sim_host_new(fl_sim *s, int kind, int nat, uint32_t region) {
  if (s == NULL) return FL_ERR_INVALID;
  return sim_host_create(s, kind, nat, region, 0);
}

static int host_ok(const fl_sim *s, int host) {
  return s != NULL && host >= 0 && (uint32_t)host < s->nhosts;
}

int fl_sim_host_leave(fl_sim *s, int host, int graceful) {
  if (!host_ok(s, host)) return FL_ERR_INVALID;
  sim_host *h = &s->hosts[host];
  if (!h->live) return FL_ERR_STATE;
  const fl_sim_node_ops *ops = s->ops[h->kind];
  if (graceful && ops->close) {
    /* Let it say goodbye: its last datagrams go out before it is gone. */
    sim_rec_io(s, (uint32_t)host, "close", 0, NULL, NULL, 0);
    if (ops->close(h->node, s->now_us) < 0) node_error(s, (uint32_t)host, "close", -1);
    drive(s, (uint32_t)host, 0);
  }
  h = &s->hosts[host];
  h->live = 0;
  h->crashed = !graceful;
  h->left_us = s->now_us;
  memset(h->port, 0, sizeof h->port);
  ops->destroy(h->node);
  h->node = NULL;
  uint32_t last = s->live[--s->st.hosts_live];
  s->live[h->live_pos] = last;
  s->hosts[last].live_pos = h->live_pos;
  s->st.leaves++;
  if (!graceful) s->st.crashes++;
  sim_fp(s, 11, (uint32_t)host, (uint64_t)graceful, 0, NULL, 0);
  sim_records_host_left(s, (uint32_t)host);
  sim_rec_event(s, graceful ? "leave" : "crash", (uint32_t)host, 0, 0, NULL);
  sim_rec_host(s, (uint32_t)host);
  return 0;
}

int fl_sim_host_change_addr(fl_sim *s, int host) {
  if (!host_ok(s, host)) return FL_ERR_INVALID;
  sim_host *h = &s->hosts[host];
  if (!h->live) return FL_ERR_STATE;
  /* Behind a NAT the box gets the new address (an ISP reassignment) and its
   * mappings are gone with the old one; a public host simply moves. */
  uint32_t owner = h->nat >= 0 ? (uint32_t)h->nat : (SIM_OWNER_HOST | (uint32_t)host);
  uint32_t ip = sim_ip_alloc(s, owner);
  if (ip == 0) return FL_ERR_NOMEM;
  if (h->nat >= 0) {
    sim_nat *n = &s->nats[h->nat];
    s->ip_owner[n->pub_ip - SIM_IP_BASE - 1] = SIM_OWNER_NONE;
    n->pub_ip = ip;
    fl_sim_nat_config cfg = n->cfg;
    uint32_t hosts[SIM_NAT_HOSTS_MAX], nh = n->nhosts, next = n->next_private,
                                      region = n->region;
    memcpy(hosts, n->hosts, sizeof hosts);
    s->st.nat_mappings -= n->maps_len;
    sim_nat_deinit(n);
    (void)sim_nat_init(n, &cfg);
    n->pub_ip = ip;
    n->nhosts = nh;
    n->next_private = next;
    n->region = region;
    memcpy(n->hosts, hosts, sizeof hosts);
  } else {
    s->ip_owner[h->ip - SIM_IP_BASE - 1] = SIM_OWNER_NONE;
    h->ip = ip;
  }
  s->st.addr_changes++;
  sim_fp(s, 12, (uint32_t)host, ip, 0, NULL, 0);
  sim_rec_event(s, "addr_change", (uint32_t)host, ip, 0, NULL);
  sim_rec_host(s, (uint32_t)host);
  return 0;
}

int fl_sim_host_addr(const fl_sim *s, int host, uint32_t sock, fl_addr *out) {
  if (!host_ok(s, host) || out == NULL || sock >= FL_SIM_SOCKS_MAX) return FL_ERR_INVALID;
  const sim_host *h = &s->hosts[host];
  if (h->port[sock] == 0) return FL_ERR_NOT_FOUND;
  *out = sim_addr(h->ip, h->port[sock]);
  return 0;
}

int fl_sim_host_public_ip(const fl_sim *s, int host, fl_addr *out) {
  if (!host_ok(s, host) || out == NULL) return FL_ERR_INVALID;
  const sim_host *h = &s->hosts[host];
  *out = sim_addr(h->nat >= 0 ? s->nats[h->nat].pub_ip : h->ip, 0);
  return 0;
}

int fl_sim_host_live(const fl_sim *s, int host) {
  if (!host_ok(s, host)) return FL_ERR_INVALID;
  return s->hosts[host].live;
}

int fl_sim_host_sent(const fl_sim *s, int host, uint64_t *dgrams, uint64_t *bytes) {
  if (!host_ok(s, host)) return FL_ERR_INVALID;
  if (dgrams) *dgrams = s->hosts[host].sent;
  if (bytes) *bytes = s->hosts[host].sent_bytes;
  return 0;
}

int fl_sim_nat_new(fl_sim *s, const fl_sim_nat_config *cfg) {
  if (s == NULL || cfg == NULL || cfg->mapping < 0 || cfg->mapping > FL_SIM_APD ||
      cfg->filtering < 0 || cfg->filtering > FL_SIM_APD || cfg->ports < 0 ||
      cfg->ports > FL_SIM_PORT_RANDOM || cfg->timeout_us == 0)
    return FL_ERR_INVALID;
  if (s->nnats >= FL_SIM_NATS_MAX) return FL_ERR_LIMIT;
  if (s->nnats == s->nats_cap) {
    uint32_t cap = s->nats_cap ? s->nats_cap * 2 : 64;
    sim_nat *n = realloc(s->nats, cap * sizeof *n);
    if (n == NULL) return FL_ERR_NOMEM;
    s->nats = n;
    s->nats_cap = cap;
  }
  uint32_t id = s->nnats;
  sim_nat *n = &s->nats[id];
  (void)sim_nat_init(n, cfg);
  n->pub_ip = sim_ip_alloc(s, id);
  if (n->pub_ip == 0) return FL_ERR_NOMEM;
  s->nnats++;
  s->st.nats++;
  sim_fp(s, 21, id, (uint64_t)cfg->mapping << 8 | (uint64_t)cfg->filtering, n->pub_ip, NULL, 0);
  return (int)id;
}

int fl_sim_raw_send(fl_sim *s, int host, const fl_addr *to, const uint8_t *data, size_t len) {
  if (!host_ok(s, host) || to == NULL || (len > 0 && data == NULL) || len > FL_DGRAM_BYTES_MAX)
    return FL_ERR_INVALID;
  sim_host *h = &s->hosts[host];
  if (h->kind != FL_SIM_KIND_RAW || s->ops[h->kind] != &sim_raw_ops) return FL_ERR_INVALID;
  if (!h->live) return FL_ERR_CLOSED;
  sim_rec_io(s, (uint32_t)host, "send", 0, to, data, len);
  int rc = sim_raw_queue(h->node, to, data, len);
  if (rc != 0) return rc;
  drive(s, (uint32_t)host, 0);
  return 0;
}

int fl_sim_raw_recv(fl_sim *s, int host, fl_addr *from, uint8_t *buf, size_t cap) {
  if (!host_ok(s, host) || from == NULL || (cap > 0 && buf == NULL)) return FL_ERR_INVALID;
  sim_host *h = &s->hosts[host];
  if (h->kind != FL_SIM_KIND_RAW || s->ops[h->kind] != &sim_raw_ops) return FL_ERR_INVALID;
  if (!h->live) return FL_ERR_CLOSED;
  return sim_raw_pop(h->node, from, buf, cap);
}

int fl_sim_host_dump(const fl_sim *s, int host, char *out, size_t cap) {
  if (!host_ok(s, host) || out == NULL || cap < 256) return FL_ERR_INVALID;
  const sim_host *h = &s->hosts[host];
  char a[48], p[48];
  fl_addr own = sim_addr(h->ip, 0), pub;
  SIM_IGNORE(fl_sim_host_public_ip(s, host, &pub));
  fl_addr_format(&own, a, sizeof a);
  fl_addr_format(&pub, p, sizeof p);
  size_t n = (size_t)snprintf(
      out, cap,
      "host %d kind %d %s region %u\naddress %s public %s nat %d (%d mappings)\n"
      "joined_us %llu left_us %llu\nsent %llu dgrams %llu bytes, received %llu dgrams %llu "
      "bytes\nsockets:",
      host, h->kind, h->live ? "live" : (h->crashed ? "crashed" : "left"), h->region, a, p,
      h->nat, h->nat >= 0 ? (int)s->nats[h->nat].maps_len : 0,
      (unsigned long long)h->joined_us, (unsigned long long)h->left_us,
      (unsigned long long)h->sent, (unsigned long long)h->sent_bytes,
      (unsigned long long)h->recv, (unsigned long long)h->recv_bytes);
  for (uint32_t i = 0; i < FL_SIM_SOCKS_MAX && n < cap; i++)
    if (h->port[i]) n += (size_t)snprintf(out + n, cap - n, " %u:%u", i, h->port[i]);
  if (n < cap) n += (size_t)snprintf(out + n, cap - n, "\n");
  const fl_sim_node_ops *ops = s->ops[h->kind];
  if (h->live && ops->dump && n < cap) {
    int m = ops->dump(h->node, out + n, cap - n);
    if (m > 0) n += (size_t)m;
  }
  if (n >= cap) n = cap - 1;
  out[n] = 0;
  return (int)n;
}
