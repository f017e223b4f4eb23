/*
 * fl_nodes in an in-memory network (simnet.h), driven in virtual time:
 * bootstrap, FIND_NODE returning exactly the k closest of a brute-force
 * sort, request/reply across nodes, down hints after a node dies, and the
 * adaptive ephemeral -> persistent transition after ~20 minutes.
 */
#include "flock/node.h"

#include "node/test/simnet.h"
#include "dht/dht_message.h"
#include "node/node_internal.h"

#define SEC 1000000ull

static void persistent_config(fl_node_config *c, uint64_t seed, size_t i) {
  fl_node_config_default(c);
  sn_seed(c, seed, i);
  c->host = fl_addr_ipv4(127, 0, 0, 1, 0);
  c->mode = FL_NODE_MODE_PERSISTENT;
  c->firewalled = false;
  c->bootstrap_len = 1;
  c->bootstrap[0] = fl_addr_ipv4(127, 0, 0, 1, SN_BASE_PORT);
}

/* Node 0 is a bootstrapper; 1..n-1 persistent nodes bootstrapping off it. */
static void build_net(simnet *s, size_t n, uint64_t seed) {
  sn_init(s);
  fl_node_config c;
  fl_node_config_default(&c);
  sn_seed(&c, seed, 0);
  fl_addr host = fl_addr_ipv4(127, 0, 0, 1, 0);
  if (fl_node_config_bootstrapper(&c, &host, SN_BASE_PORT) != 0) abort();
  c.host = host;
  sn_add(s, &c);
  for (size_t i = 1; i < n; i++) {
    persistent_config(&c, seed, i);
    sn_add(s, &c);
    /* stagger joins a little, as a real network would */
    sn_run_until(s, s->now_us + 50000, 1000000);
  }
}

static bool all_ready(const simnet *s) {
  for (size_t i = 0; i < s->count; i++)
    if (!(fl_node_state(s->nodes[i].n) & FL_NODE_S_BOOTSTRAPPED)) return false;
  return true;
}

static const uint8_t *sort_target;
static int by_xor(const void *a, const void *b) {
  const uint8_t *x = a, *y = b;
  for (int i = 0; i < 32; i++) {
    int dx = x[i] ^ sort_target[i], dy = y[i] ^ sort_target[i];
    if (dx != dy) return dx - dy;
  }
  return 0;
}

/* The k ids XOR-closest to target among all nodes but `self`. */
static size_t brute_closest(const simnet *s, size_t self, const uint8_t *target,
                            uint8_t (*out)[32]) {
  uint8_t ids[SN_NODES_MAX][32];
  size_t m = 0;
  for (size_t i = 0; i < s->count; i++) {
    if (i == self || s->nodes[i].dead) continue;
    fl_addr a = sn_addr(s, i);
    fl_dht_node_id(ids[m++], &a);
  }
  sort_target = target;
  qsort(ids, m, 32, by_xor);
  size_t k = m < FL_DHT_K ? m : FL_DHT_K;
  memcpy(out, ids, k * 32);
  return k;
}

static void test_network_bootstraps_and_everyone_is_persistent(void) {
  simnet s;
  build_net(&s, 40, fl_test_seed());
  FL_CHECK(sn_run_until(&s, s.now_us + 30 * SEC, 2000000));
  FL_CHECK(all_ready(&s));
  for (size_t i = 0; i < s.count; i++) {
    uint8_t id[32], want[32];
    fl_addr a = sn_addr(&s, i);
    fl_dht_node_id(want, &a);
    FL_CHECK_EQ(fl_node_id(s.nodes[i].n, id), 1);
    FL_CHECK_MEM(id, want, 32);
    FL_CHECK(fl_node_table(s.nodes[i].n, NULL, NULL, 1024) >= 10);
  }
  sn_free(&s);
}

/* FIND_NODE from several nodes toward random targets: exactly the k closest. */
static void test_network_find_node_returns_exact_k_closest(void) {
  simnet s;
  uint64_t seed = fl_test_seed();
  build_net(&s, 60, seed);
  FL_CHECK(sn_run_until(&s, s.now_us + 60 * SEC, 4000000));
  FL_CHECK(all_ready(&s));
  uint64_t rs = seed ^ 0x5151;
  int exact = 0;
  for (int t = 0; t < 10; t++) {
    uint8_t target[32];
    for (int k = 0; k < 32; k++) target[k] = (uint8_t)fl_test_rand(&rs);
    size_t from = 1 + (size_t)(fl_test_rand(&rs) % (s.count - 1));
    uint64_t qid;
    FL_CHECK_EQ(fl_node_find_node(s.nodes[from].n, s.now_us, target, &qid), 0);
    sn_drain(&s, from);
    FL_CHECK(sn_run_until(&s, s.now_us + 10 * SEC, 1000000));
    const sn_event *done = sn_find_event(&s, from, FL_EVENT_DHT_QUERY_DONE, qid);
    FL_CHECK(done != NULL);
    FL_CHECK_EQ(done->ev.code, 0);
    uint8_t want[FL_DHT_K][32];
    size_t k = brute_closest(&s, from, target, want);
    FL_CHECK_EQ(done->ev.arg, k);
    FL_CHECK(done->ev.sock >= 1 && done->ev.sock <= 8); /* hops to the closest */
    size_t got = 0;
    bool same = true;
    for (size_t e = 0; e < s.nodes[from].nevents; e++) {
      const fl_event *ev = &s.nodes[from].events[e].ev;
      if (ev->type != FL_EVENT_DHT_QUERY_NODE || ev->id != qid) continue;
      if (ev->arg != got || memcmp(ev->key, want[got], 32) != 0) same = false;
      got++;
    }
    FL_CHECK_EQ(got, k);
    exact += same;
    if (t == 0) {
      /* again, seeded with the k closest found (dht-rpc opts.nodes): the
       * seeds are asked first, with the slow start of 3, and the answer
       * is the same */
      fl_addr seeds[FL_DHT_K];
      size_t ns = 0;
      for (size_t e = 0; e < s.nodes[from].nevents; e++) {
        const fl_event *ev = &s.nodes[from].events[e].ev;
        if (ev->type == FL_EVENT_DHT_QUERY_NODE && ev->id == qid) seeds[ns++] = ev->addr;
      }
      fl_node *n = s.nodes[from].n;
      fl_dht_query_opts o = {seeds, ns, NULL, NULL};
      uint64_t q2;
      FL_CHECK_EQ(fl_dht_query_start_opts(&n->dht, s.now_us, target, true, FL_DHT_CMD_FIND_NODE,
                                          NULL, 0, FL_DHT_QF_EVENTS, &o, &q2), 0);
      sn_drain(&s, from);
      FL_CHECK(sn_run_until(&s, s.now_us + 10 * SEC, 1000000));
      size_t again = 0;
      for (size_t e = 0; e < s.nodes[from].nevents; e++) {
        const fl_event *ev = &s.nodes[from].events[e].ev;
        if (ev->type != FL_EVENT_DHT_QUERY_NODE || ev->id != q2) continue;
        FL_CHECK_MEM(ev->key, want[again], 32);
        again++;
      }
      FL_CHECK_EQ(again, k);
    }
  }
  FL_CHECK_EQ(exact, 10);
  sn_free(&s);
}

/* A user command between two nodes, answered through fl_node_reply. */
static void test_network_request_and_reply(void) {
  simnet s;
  sn_init(&s);
  fl_node_config c;
  fl_node_config_default(&c);
  fl_addr host = fl_addr_ipv4(127, 0, 0, 1, 0);
  FL_CHECK_EQ(fl_node_config_bootstrapper(&c, &host, SN_BASE_PORT), 0);
  c.user_requests = true;
  sn_add(&s, &c);
  persistent_config(&c, 9, 1);
  sn_add(&s, &c);
  FL_CHECK(sn_run_until(&s, s.now_us + 5 * SEC, 100000));
  FL_CHECK(all_ready(&s));
  uint64_t rid;
  fl_addr to = sn_addr(&s, 0);
  uint8_t target[32];
  memset(target, 0x42, 32);
  FL_CHECK_EQ(fl_node_request(s.nodes[1].n, s.now_us, &to, false, 9, target, NULL,
                              (const uint8_t *)"hello", 5, -1, &rid), 0);
  sn_drain(&s, 1);
  FL_CHECK(sn_run_until(&s, s.now_us + 10000, 1000));
  const sn_event *u = sn_find_event(&s, 0, FL_EVENT_DHT_USER_REQUEST, 0);
  FL_CHECK(u != NULL);
  FL_CHECK_EQ(u->ev.code, 9);
  FL_CHECK_EQ(u->ev.len, 5);
  FL_CHECK_MEM(u->data, "hello", 5);
  FL_CHECK(u->ev.flags & FL_EVENT_F_ID);
  FL_CHECK_EQ(fl_node_reply(s.nodes[0].n, s.now_us, u->ev.id, (const uint8_t *)"world", 5, 0), 0);
  sn_drain(&s, 0);
  FL_CHECK(sn_run_until(&s, s.now_us + 10000, 1000));
  const sn_event *r = sn_find_event(&s, 1, FL_EVENT_DHT_RESPONSE, rid);
  FL_CHECK(r != NULL);
  FL_CHECK_EQ(r->ev.code, 0);
  FL_CHECK_MEM(r->data, "world", 5);
  FL_CHECK(r->ev.flags & FL_EVENT_F_TOKEN);
  FL_CHECK(r->ev.flags & FL_EVENT_F_ID);
  FL_CHECK(r->ev.arg >= 2 * s.latency_us && r->ev.arg < 20000);
  /* a ping to a dead address fails after 4 sends (~4 s) */
  fl_addr nowhere = fl_addr_ipv4(127, 0, 0, 1, 9);
  FL_CHECK_EQ(fl_node_ping(s.nodes[1].n, s.now_us, &nowhere, &rid), 0);
  sn_drain(&s, 1);
  FL_CHECK(sn_run_until(&s, s.now_us + 3900000, 100000));
  FL_CHECK(sn_find_event(&s, 1, FL_EVENT_DHT_REQUEST_FAILED, rid) == NULL);
  FL_CHECK(sn_run_until(&s, s.now_us + 200000, 100000));
  const sn_event *f = sn_find_event(&s, 1, FL_EVENT_DHT_REQUEST_FAILED, rid);
  FL_CHECK(f != NULL);
  FL_CHECK_EQ(f->ev.code, FL_ERR_TIMEOUT);
  sn_free(&s);
}

/* The adaptive default: ephemeral until ~240 stable ticks (20 min) pass,
 * then the network check makes it persistent with id = hash(address). */
static void test_network_adaptive_node_turns_persistent_after_20_minutes(void) {
  simnet s;
  build_net(&s, 12, fl_test_seed());
  FL_CHECK(sn_run_until(&s, s.now_us + 20 * SEC, 2000000));
  fl_node_config c;
  fl_node_config_default(&c);
  sn_seed(&c, 77, 77);
  c.host = fl_addr_ipv4(127, 0, 0, 1, 0);
  c.bootstrap_len = 1;
  c.bootstrap[0] = fl_addr_ipv4(127, 0, 0, 1, SN_BASE_PORT);
  c.quick_firewall = false; /* leave it all to the stability timer */
  size_t a = sn_add(&s, &c);
  uint64_t joined = s.now_us;
  FL_CHECK(sn_run_until(&s, joined + 30 * SEC, 2000000));
  uint32_t st = fl_node_state(s.nodes[a].n);
  FL_CHECK(st & FL_NODE_S_BOOTSTRAPPED);
  FL_CHECK(!(st & FL_NODE_S_PERSISTENT));
  FL_CHECK(st & FL_NODE_S_FIREWALLED);
  uint8_t id[32];
  FL_CHECK_EQ(fl_node_id(s.nodes[a].n, id), 0);
  /* 19 minutes in: still ephemeral */
  FL_CHECK(sn_run_until(&s, joined + 19 * 60 * SEC, 50000000));
  FL_CHECK(!(fl_node_state(s.nodes[a].n) & FL_NODE_S_PERSISTENT));
  FL_CHECK(sn_find_event(&s, a, FL_EVENT_DHT_PERSISTENT, 0) == NULL);
  /* 21 minutes in: persistent, unfirewalled, id = hash(127.0.0.1:port) */
  FL_CHECK(sn_run_until(&s, joined + 21 * 60 * SEC, 50000000));
  st = fl_node_state(s.nodes[a].n);
  FL_CHECK(st & FL_NODE_S_PERSISTENT);
  FL_CHECK(!(st & FL_NODE_S_FIREWALLED));
  FL_CHECK(sn_find_event(&s, a, FL_EVENT_DHT_PERSISTENT, 0) != NULL);
  uint8_t want[32];
  fl_addr me = sn_addr(&s, a);
  fl_dht_node_id(want, &me);
  FL_CHECK_EQ(fl_node_id(s.nodes[a].n, id), 1);
  FL_CHECK_MEM(id, want, 32);
  /* and other nodes learn it from now on */
  FL_CHECK(sn_run_until(&s, s.now_us + 120 * SEC, 5000000));
  size_t knowers = 0;
  for (size_t i = 0; i < s.count; i++) {
    if (i == a) continue;
    uint8_t ids[1024][32];
    size_t n = fl_node_table(s.nodes[i].n, NULL, ids, 1024);
    for (size_t k = 0; k < n; k++) knowers += memcmp(ids[k], want, 32) == 0;
  }
  FL_CHECK(knowers >= 1);
  /* It sleeps for 30 s (no timers run): on waking it turns ephemeral again,
   * and after another 720 stable ticks (~60 min) persistent once more. */
  s.nodes[a].dead = true;
  FL_CHECK(sn_run_until(&s, s.now_us + 30 * SEC, 5000000));
  s.nodes[a].dead = false;
  uint64_t woke = s.now_us;
  FL_CHECK(sn_run_until(&s, woke + 1 * SEC, 5000000));
  FL_CHECK(sn_find_event(&s, a, FL_EVENT_DHT_WAKEUP, 0) != NULL);
  FL_CHECK(sn_find_event(&s, a, FL_EVENT_DHT_EPHEMERAL, 0) != NULL);
  FL_CHECK(!(fl_node_state(s.nodes[a].n) & FL_NODE_S_PERSISTENT));
  FL_CHECK_EQ(fl_node_id(s.nodes[a].n, id), 0);
  FL_CHECK_MEM(id, want, 32); /* the id is kept, only not sent */
  FL_CHECK(sn_run_until(&s, woke + 55 * 60 * SEC, 200000000));
  FL_CHECK(!(fl_node_state(s.nodes[a].n) & FL_NODE_S_PERSISTENT));
  FL_CHECK(sn_run_until(&s, woke + 62 * 60 * SEC, 200000000));
  FL_CHECK(fl_node_state(s.nodes[a].n) & FL_NODE_S_PERSISTENT);
  sn_free(&s);
}

/* A node that dies is removed from the others' tables by their liveness
 * checks and down hints. */
static void test_network_dead_node_is_forgotten(void) {
  simnet s;
  build_net(&s, 20, fl_test_seed());
  FL_CHECK(sn_run_until(&s, s.now_us + 20 * SEC, 2000000));
  s.nodes[5].dead = true;
  uint8_t dead_id[32];
  fl_addr da = sn_addr(&s, 5);
  fl_dht_node_id(dead_id, &da);
  /* a few ping rounds (every 8 ticks = 40 s) */
  FL_CHECK(sn_run_until(&s, s.now_us + 600 * SEC, 20000000));
  size_t knowers = 0;
  for (size_t i = 0; i < s.count; i++) {
    if (i == 5) continue;
    uint8_t ids[1024][32];
    size_t n = fl_node_table(s.nodes[i].n, NULL, ids, 1024);
    for (size_t k = 0; k < n; k++) knowers += memcmp(ids[k], dead_id, 32) == 0;
  }
  FL_CHECK_EQ(knowers, 0);
  sn_free(&s);
}

/* A user-command query with commit (dht-rpc query({..., commit: true})):
 * QUERY_REPLY per answering node, then each of the k closest gets the
 * command again carrying the token it issued, and QUERY_DONE says ok. */
static void test_network_query_with_commit(void) {
  simnet s;
  uint64_t seed = fl_test_seed() + 3;
  sn_init(&s);
  fl_node_config c;
  fl_node_config_default(&c);
  sn_seed(&c, seed, 0);
  fl_addr host = fl_addr_ipv4(127, 0, 0, 1, 0);
  FL_CHECK_EQ(fl_node_config_bootstrapper(&c, &host, SN_BASE_PORT), 0);
  c.user_requests = true;
  sn_add(&s, &c);
  s.nodes[0].auto_reply = true;
  for (size_t i = 1; i < 30; i++) {
    persistent_config(&c, seed, i);
    c.user_requests = true;
    size_t k = sn_add(&s, &c);
    s.nodes[k].auto_reply = true;
    sn_run_until(&s, s.now_us + 50000, 1000000);
  }
  FL_CHECK(sn_run_until(&s, s.now_us + 30 * SEC, 4000000));
  uint8_t target[32];
  memset(target, 0x5c, 32);
  uint64_t qid;
  size_t from = 7;
  for (size_t i = 0; i < s.count; i++) s.nodes[i].user_seen = s.nodes[i].user_with_token = 0;
  FL_CHECK_EQ(fl_node_query(s.nodes[from].n, s.now_us, target, 50, (const uint8_t *)"v", 1, true,
                            &qid), 0);
  sn_drain(&s, from);
  FL_CHECK(sn_run_until(&s, s.now_us + 10 * SEC, 1000000));
  const sn_event *done = sn_find_event(&s, from, FL_EVENT_DHT_QUERY_DONE, qid);
  FL_CHECK(done != NULL);
  FL_CHECK_EQ(done->ev.code, 0);
  FL_CHECK_EQ(done->ev.arg, FL_DHT_K);
  size_t replies = 0;
  for (size_t e = 0; e < s.nodes[from].nevents; e++) {
    const sn_event *x = &s.nodes[from].events[e];
    if (x->ev.type != FL_EVENT_DHT_QUERY_REPLY || x->ev.id != qid) continue;
    replies++;
    FL_CHECK_EQ(x->ev.len, 2);
    FL_CHECK_MEM(x->data, "rv", 2);
    FL_CHECK(x->ev.flags & FL_EVENT_F_TOKEN);
  }
  FL_CHECK(replies >= FL_DHT_K);
  /* the commits: one request with a valid token at each of the k closest */
  size_t with_token = 0;
  for (size_t i = 0; i < s.count; i++) with_token += s.nodes[i].user_with_token;
  FL_CHECK_EQ(with_token, FL_DHT_K);
  sn_free(&s);
}

/* The same seeds and inputs give the same datagrams, byte for byte and at
 * the same virtual times (the simulator's replay rests on it); another
 * seed gives another run. */
static uint64_t run_fingerprint(uint64_t seed) {
  simnet s;
  build_net(&s, 15, seed);
  sn_run_until(&s, s.now_us + 120 * SEC, 5000000);
  uint8_t target[32] = {3};
  uint64_t qid;
  if (fl_node_find_node(s.nodes[4].n, s.now_us, target, &qid) != 0) abort();
  sn_drain(&s, 4);
  sn_run_until(&s, s.now_us + 10 * SEC, 1000000);
  uint64_t f = s.fingerprint ^ s.delivered;
  sn_free(&s);
  return f;
}

static void test_network_runs_are_deterministic(void) {
  uint64_t seed = fl_test_seed();
  uint64_t a = run_fingerprint(seed), b = run_fingerprint(seed), c = run_fingerprint(seed + 1);
  FL_CHECK(a == b);
  FL_CHECK(a != c);
}

static const sn_event *last_user(const simnet *s, size_t i) {
  const sn_event *u = NULL;
  for (size_t k = 0; k < s->nodes[i].nevents; k++)
    if (s->nodes[i].events[k].ev.type == FL_EVENT_DHT_USER_REQUEST) u = &s->nodes[i].events[k];
  return u;
}

/* dht-rpc's test.js "relay": a asks b, b relays to c with its value
 * appended, c answers a directly; a's request completes with c's reply. */
static void test_network_relay(void) {
  simnet s;
  sn_init(&s);
  fl_node_config c;
  fl_node_config_default(&c);
  fl_addr host = fl_addr_ipv4(127, 0, 0, 1, 0);
  FL_CHECK_EQ(fl_node_config_bootstrapper(&c, &host, SN_BASE_PORT), 0);
  sn_add(&s, &c);
  for (size_t i = 1; i <= 3; i++) {
    persistent_config(&c, 21, i);
    c.user_requests = true;
    sn_add(&s, &c);
  }
  FL_CHECK(sn_run_until(&s, s.now_us + 10 * SEC, 1000000));
  size_t a = 1, b = 2, cc = 3;
  uint64_t rid;
  fl_addr to_b = sn_addr(&s, b), to_c = sn_addr(&s, cc), to_a = sn_addr(&s, a);
  FL_CHECK_EQ(fl_node_request(s.nodes[a].n, s.now_us, &to_b, false, 1, NULL, NULL,
                              (const uint8_t *)"a", 1, -1, &rid), 0);
  sn_drain(&s, a);
  FL_CHECK(sn_run_until(&s, s.now_us + 5000, 10000));
  const sn_event *u = last_user(&s, b);
  FL_CHECK(u != NULL);
  FL_CHECK_EQ(u->ev.code, 1);
  FL_CHECK_EQ(u->ev.addr.port, to_a.port);
  FL_CHECK_EQ(fl_node_relay(s.nodes[b].n, s.now_us, u->ev.id, (const uint8_t *)"ab", 2, &to_c), 0);
  sn_drain(&s, b);
  FL_CHECK(sn_run_until(&s, s.now_us + 5000, 10000));
  u = last_user(&s, cc);
  FL_CHECK(u != NULL);
  FL_CHECK_EQ(u->ev.addr.port, to_b.port);
  FL_CHECK_EQ(u->ev.len, 2);
  FL_CHECK_EQ(fl_node_reply_to(s.nodes[cc].n, s.now_us, u->ev.id, (const uint8_t *)"abc", 3, 0,
                               &to_a), 0);
  sn_drain(&s, cc);
  FL_CHECK(sn_run_until(&s, s.now_us + 5000, 10000));
  const sn_event *r = sn_find_event(&s, a, FL_EVENT_DHT_RESPONSE, rid);
  FL_CHECK(r != NULL);
  FL_CHECK_EQ(r->ev.len, 3);
  FL_CHECK_MEM(r->data, "abc", 3);
  FL_CHECK_EQ(r->ev.addr.port, to_c.port);   /* from c */
  FL_CHECK_EQ(r->ev.addr2.port, to_a.port);  /* addressed to a */
  sn_free(&s);
}

/* dht-rpc's test.js "nat update event": a firewalled persistent node first
 * sees itself at its client port (its requests leave from there), then at
 * its server port once the firewall probe passed. */
static void test_network_nat_updates_client_then_server_port(void) {
  simnet s;
  sn_init(&s);
  fl_node_config c;
  fl_node_config_default(&c);
  fl_addr host = fl_addr_ipv4(127, 0, 0, 1, 0);
  FL_CHECK_EQ(fl_node_config_bootstrapper(&c, &host, SN_BASE_PORT), 0);
  sn_add(&s, &c);
  persistent_config(&c, 5, 1);
  c.firewalled = true;
  size_t b = sn_add(&s, &c);
  FL_CHECK(sn_run_until(&s, s.now_us + 10 * SEC, 1000000));
  uint16_t ports[4];
  size_t n = 0;
  for (size_t k = 0; k < s.nodes[b].nevents && n < 4; k++) {
    const fl_event *e = &s.nodes[b].events[k].ev;
    if (e->type == FL_EVENT_DHT_NAT_UPDATE) ports[n++] = e->addr.port;
  }
  FL_CHECK_EQ(n, 2);
  FL_CHECK_EQ(ports[0], s.nodes[b].port[1]);
  FL_CHECK_EQ(ports[1], s.nodes[b].port[0]);
  uint32_t st = fl_node_state(s.nodes[b].n);
  FL_CHECK(st & FL_NODE_S_PERSISTENT);
  FL_CHECK(!(st & FL_NODE_S_FIREWALLED));
  sn_free(&s);
}

/* The commit hook the hyperdht layer will use: a value of its own per
 * closest node (dht-rpc's custom commit function). */
typedef struct hook_ctx {
  int calls, with_token;
} hook_ctx;

static int commit_hook(void *ctx, fl_dht *d, uint64_t now_us, uint64_t qid, const fl_addr *addr,
                       const uint8_t id[32], const uint8_t *token) {
  hook_ctx *h = ctx;
  (void)id;
  h->calls++;
  if (!token) return -1;
  h->with_token++;
  uint8_t value[2] = {'c', (uint8_t)h->calls};
  uint8_t target[32];
  memset(target, 0x77, 32);
  return fl_dht_query_commit_request(d, now_us, qid, addr, token, false, 61, target, value, 2) == 0
             ? 1
             : -1;
}

static void test_network_query_commit_hook(void) {
  simnet s;
  uint64_t seed = fl_test_seed() + 4;
  sn_init(&s);
  fl_node_config c;
  fl_node_config_default(&c);
  sn_seed(&c, seed, 0);
  fl_addr host = fl_addr_ipv4(127, 0, 0, 1, 0);
  FL_CHECK_EQ(fl_node_config_bootstrapper(&c, &host, SN_BASE_PORT), 0);
  c.user_requests = true;
  sn_add(&s, &c);
  s.nodes[0].auto_reply = true;
  for (size_t i = 1; i < 25; i++) {
    persistent_config(&c, seed, i);
    c.user_requests = true;
    size_t k = sn_add(&s, &c);
    s.nodes[k].auto_reply = true;
    sn_run_until(&s, s.now_us + 50000, 1000000);
  }
  FL_CHECK(sn_run_until(&s, s.now_us + 30 * SEC, 4000000));
  for (size_t i = 0; i < s.count; i++) s.nodes[i].user_with_token = 0;
  hook_ctx h = {0, 0};
  uint8_t target[32];
  memset(target, 0x77, 32);
  uint64_t qid;
  size_t from = 3;
  fl_node *n = s.nodes[from].n;
  fl_dht_query_opts o = {NULL, 0, commit_hook, &h};
  FL_CHECK_EQ(fl_dht_query_start_opts(&n->dht, s.now_us, target, false, 60, NULL, 0,
                                      FL_DHT_QF_EVENTS, &o, &qid), 0);
  sn_drain(&s, from);
  FL_CHECK(sn_run_until(&s, s.now_us + 10 * SEC, 1000000));
  const sn_event *done = sn_find_event(&s, from, FL_EVENT_DHT_QUERY_DONE, qid);
  FL_CHECK(done != NULL);
  FL_CHECK_EQ(done->ev.code, 0);
  FL_CHECK_EQ(h.calls, FL_DHT_K);
  FL_CHECK_EQ(h.with_token, FL_DHT_K);
  size_t got = 0;
  for (size_t i = 0; i < s.count; i++) {
    got += s.nodes[i].user_with_token;
    for (size_t e = 0; e < s.nodes[i].nevents; e++) {
      const sn_event *x = &s.nodes[i].events[e];
      if (x->ev.type == FL_EVENT_DHT_USER_REQUEST && x->ev.code == 61) {
        FL_CHECK(x->ev.flags & FL_EVENT_F_TOKEN);
        FL_CHECK_EQ(x->data[0], 'c');
      }
    }
  }
  FL_CHECK_EQ(got, FL_DHT_K);
  /* outside a commit phase the request is refused */
  FL_CHECK_EQ(fl_dht_query_commit_request(&n->dht, s.now_us, qid, &host, NULL, false, 61, NULL,
                                          NULL, 0), FL_ERR_NOT_FOUND);
  sn_free(&s);
}

int main(void) {
  FL_RUN(test_network_query_commit_hook);
  FL_RUN(test_network_nat_updates_client_then_server_port);
  FL_RUN(test_network_relay);
  FL_RUN(test_network_runs_are_deterministic);
  FL_RUN(test_network_query_with_commit);
  FL_RUN(test_network_bootstraps_and_everyone_is_persistent);
  FL_RUN(test_network_find_node_returns_exact_k_closest);
  FL_RUN(test_network_request_and_reply);
  FL_RUN(test_network_adaptive_node_turns_persistent_after_20_minutes);
  FL_RUN(test_network_dead_node_is_forgotten);
  return fl_test_done();
}
