/*
 * The routing table (kademlia-routing-table@1.0.6 rules, spec §4): rows by
 * common prefix, k = 20 per row sorted by id, exact closest() against a
 * brute-force sort, the LRU, the pool limit, and dht-rpc's full-row rule
 * (re-ping the least recently pinged; keep it if it answers with its id,
 * else swap in the newcomer).
 */
#include "dht/dht.h"

#include "testing/fl_test.h"

typedef struct env {
  fl_dht_fifo tx, ev;
  fl_dht *d;
} env;

static void env_init(env *e, uint32_t table_max) {
  fl_node_config c;
  fl_node_config_default(&c);
  c.table_max = table_max;
  uint64_t rs = fl_test_seed();
  for (int i = 0; i < 32; i++) c.seed[i] = (uint8_t)fl_test_rand(&rs);
  if (fl_dht_fifo_init(&e->tx, NULL, sizeof(fl_dgram), 1024, 1 << 20) ||
      fl_dht_fifo_init(&e->ev, NULL, sizeof(fl_event), 1024, 1 << 20))
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

static void test_dht_row_of(void) {
  uint8_t own[32] = {0}, id[32] = {0};
  FL_CHECK_EQ(fl_dht_row_of(own, id), 255);
  id[0] = 0x80;
  FL_CHECK_EQ(fl_dht_row_of(own, id), 0);
  id[0] = 0x01;
  FL_CHECK_EQ(fl_dht_row_of(own, id), 7);
  id[0] = 0;
  id[1] = 0x10;
  FL_CHECK_EQ(fl_dht_row_of(own, id), 11);
  id[1] = 0;
  id[31] = 1;
  FL_CHECK_EQ(fl_dht_row_of(own, id), 255);
}

static uint32_t add_id(env *e, const uint8_t *id, uint16_t port) {
  fl_addr a = fl_addr_ipv4(10, 0, (uint8_t)(port >> 8), (uint8_t)port, port);
  if (fl_dht_add_peer(e->d, 0, &a, id, NULL) != 1) return FL_DHT_NO_IDX;
  return fl_dht_table_get(e->d, id);
}

static void rand_id(uint64_t *rs, uint8_t *id) {
  for (int i = 0; i < 32; i++) id[i] = (uint8_t)fl_test_rand(rs);
}

static void test_dht_table_rows_sorted_and_bounded(void) {
  env e;
  env_init(&e, FL_NODE_TABLE_MAX);
  uint64_t rs = fl_test_seed() + 11;
  size_t added = 0, refused = 0;
  for (int i = 0; i < 400; i++) {
    uint8_t id[32];
    rand_id(&rs, id);
    if (add_id(&e, id, (uint16_t)(i + 1)) != FL_DHT_NO_IDX) added++;
    else refused++;
  }
  FL_CHECK_EQ(e.d->table_size, added);
  FL_CHECK(refused > 0); /* rows 0 and 1 fill up (~200 and ~100 of 400) */
  FL_CHECK_EQ(e.d->rows[0].count, FL_DHT_K);
  for (uint32_t r = 0; r < FL_DHT_ROWS; r++) {
    const fl_dht_row *row = &e.d->rows[r];
    FL_CHECK(row->count <= FL_DHT_K);
    for (uint32_t j = 0; j < row->count; j++) {
      const fl_dht_peer *p = &e.d->peers[row->idx[j]];
      FL_CHECK_EQ(fl_dht_row_of(e.d->table_id, p->id), r);
      if (j) FL_CHECK(memcmp(e.d->peers[row->idx[j - 1]].id, p->id, 32) < 0);
    }
  }
  /* own id is never added, nor a duplicate */
  FL_CHECK(add_id(&e, e.d->table_id, 9) == FL_DHT_NO_IDX);
  env_free(&e);
}

static const uint8_t *g_target;
static const fl_dht *g_d;
static int by_xor(const void *a, const void *b) {
  return fl_dht_xor_cmp(g_target, g_d->peers[*(const uint32_t *)a].id,
                        g_d->peers[*(const uint32_t *)b].id);
}

static void test_dht_table_closest_is_exact(void) {
  env e;
  env_init(&e, FL_NODE_TABLE_MAX);
  uint64_t rs = fl_test_seed() + 12;
  /* ids near our own too, so deep rows have nodes */
  for (int i = 0; i < 600; i++) {
    uint8_t id[32];
    rand_id(&rs, id);
    int keep = (int)(fl_test_rand(&rs) % 24);
    for (int b = 0; b < keep / 8; b++) id[b] = e.d->table_id[b];
    add_id(&e, id, (uint16_t)(i + 1));
  }
  uint32_t all[FL_NODE_TABLE_MAX];
  size_t n = 0;
  for (uint32_t r = 0; r < FL_DHT_ROWS; r++)
    for (uint32_t j = 0; j < e.d->rows[r].count; j++) all[n++] = e.d->rows[r].idx[j];
  FL_CHECK(n > 100);
  for (int t = 0; t < 300; t++) {
    uint8_t target[32];
    rand_id(&rs, target);
    if (t % 3 == 0) memcpy(target, e.d->table_id, (size_t)(t % 7));
    if (t % 50 == 0) memcpy(target, e.d->table_id, 32);
    g_target = target;
    g_d = e.d;
    qsort(all, n, sizeof all[0], by_xor);
    uint32_t got[FL_DHT_K];
    size_t k = fl_dht_table_closest(e.d, target, got, FL_DHT_K);
    FL_CHECK_EQ(k, FL_DHT_K);
    for (size_t i = 0; i < k; i++) FL_CHECK_EQ(got[i], all[i]);
    k = fl_dht_table_closest(e.d, target, got, 3);
    FL_CHECK_EQ(k, 3);
    for (size_t i = 0; i < k; i++) FL_CHECK_EQ(got[i], all[i]);
  }
  env_free(&e);
}

static void test_dht_table_pool_limit_counts(void) {
  env e;
  env_init(&e, FL_DHT_K);
  uint64_t rs = fl_test_seed() + 13;
  int ok = 0;
  for (int i = 0; i < 200 && ok < 40; i++) {
    uint8_t id[32];
    rand_id(&rs, id);
    id[0] = (uint8_t)(e.d->table_id[0] ^ 0x40); /* row 1 */
    if (i % 2) id[0] = (uint8_t)(e.d->table_id[0] ^ 0x20); /* row 2 */
    ok += add_id(&e, id, (uint16_t)(i + 1)) != FL_DHT_NO_IDX;
  }
  FL_CHECK_EQ(e.d->table_size, FL_DHT_K);
  FL_CHECK(e.d->st.table_dropped > 0);
  env_free(&e);
}

static void test_dht_table_lru_and_remove(void) {
  env e;
  env_init(&e, FL_NODE_TABLE_MAX);
  uint64_t rs = fl_test_seed() + 14;
  uint32_t idx[5];
  for (int i = 0; i < 5; i++) {
    uint8_t id[32];
    rand_id(&rs, id);
    id[0] = (uint8_t)(e.d->table_id[0] ^ (0x80 >> i)); /* distinct rows */
    idx[i] = add_id(&e, id, (uint16_t)(i + 1));
    FL_CHECK(idx[i] != FL_DHT_NO_IDX);
  }
  FL_CHECK_EQ(e.d->lru_old, idx[0]);
  FL_CHECK_EQ(e.d->lru_new, idx[4]);
  fl_dht_lru_touch(e.d, idx[0]);
  FL_CHECK_EQ(e.d->lru_old, idx[1]);
  FL_CHECK_EQ(e.d->lru_new, idx[0]);
  uint8_t id2[32];
  memcpy(id2, e.d->peers[idx[2]].id, 32);
  fl_dht_remove_peer(e.d, idx[2]);
  FL_CHECK_EQ(fl_dht_table_get(e.d, id2), FL_DHT_NO_IDX);
  FL_CHECK_EQ(e.d->table_size, 4);
  FL_CHECK_EQ(e.d->peers[idx[1]].next, idx[3]);
  env_free(&e);
}

/* Addresses whose hashed id lands in row 0 of our table. */
static size_t row0_addrs(const env *e, fl_addr *out, size_t want) {
  size_t n = 0;
  for (uint32_t p = 1; n < want && p < 60000; p++) {
    fl_addr a = fl_addr_ipv4(10, 1, 0, 1, (uint16_t)p);
    uint8_t id[32];
    fl_dht_node_id(id, &a);
    if (fl_dht_row_of(e->d->table_id, id) == 0) out[n++] = a;
  }
  return n;
}

static int pop_tx(env *e, fl_dgram *g, uint8_t *buf) {
  void *meta;
  const uint8_t *data;
  size_t len;
  if (!fl_dht_fifo_peek(&e->tx, &meta, &data, &len)) return 0;
  *g = *(fl_dgram *)meta;
  memcpy(buf, data, len);
  g->len = len;
  fl_dht_fifo_pop(&e->tx);
  return 1;
}

static void fill_row0(env *e, fl_addr *a) {
  FL_CHECK_EQ(row0_addrs(e, a, FL_DHT_K + 1), FL_DHT_K + 1);
  for (size_t i = 0; i < FL_DHT_K; i++) {
    uint8_t id[32];
    fl_dht_node_id(id, &a[i]);
    FL_CHECK_EQ(fl_dht_add_peer(e->d, 0, &a[i], id, NULL), 1);
  }
  e->d->bound = true;
  e->d->bootstrapped = true;
}

static void test_dht_full_row_repings_oldest_and_keeps_it_if_alive(void) {
  env e;
  env_init(&e, FL_NODE_TABLE_MAX);
  fl_addr a[FL_DHT_K + 1];
  fill_row0(&e, a);
  e.d->tick += 400;
  /* make a[7] the least recently pinged */
  for (size_t i = 0; i < FL_DHT_K; i++) {
    uint8_t id[32];
    fl_dht_node_id(id, &a[i]);
    e.d->peers[fl_dht_table_get(e.d, id)].pinged = i == 7 ? 10 : 20;
  }
  uint8_t nid[32];
  fl_dht_node_id(nid, &a[FL_DHT_K]);
  FL_CHECK_EQ(fl_dht_add_peer(e.d, 1000, &a[FL_DHT_K], nid, NULL), 0);
  fl_dgram g;
  uint8_t buf[FL_DGRAM_BYTES_MAX];
  FL_CHECK_EQ(pop_tx(&e, &g, buf), 1);
  FL_CHECK(fl_addr_equal(&g.to, &a[7]));
  FL_CHECK_EQ(buf[0], 0x03);
  FL_CHECK_EQ(buf[g.len - 1], FL_DHT_CMD_PING);
  FL_CHECK_EQ(e.d->repinging, 1);
  /* it answers with its valid id: kept, the newcomer is not added */
  e.d->tick++;
  uint8_t res[42] = {0x13, 0x01, buf[2], buf[3], 10, 0, 0, 1, 0, 0};
  fl_dht_node_id(res + 10, &a[7]);
  fl_dht_handle_message(e.d, 2000, 1, &a[7], res, sizeof res);
  FL_CHECK_EQ(e.d->repinging, 0);
  FL_CHECK(fl_dht_table_get(e.d, nid) == FL_DHT_NO_IDX);
  uint8_t id7[32];
  fl_dht_node_id(id7, &a[7]);
  FL_CHECK(fl_dht_table_get(e.d, id7) != FL_DHT_NO_IDX);
  env_free(&e);
}

static void test_dht_full_row_swaps_in_newcomer_when_oldest_is_dead(void) {
  env e;
  env_init(&e, FL_NODE_TABLE_MAX);
  fl_addr a[FL_DHT_K + 1];
  fill_row0(&e, a);
  e.d->tick += 400;
  uint8_t nid[32];
  fl_dht_node_id(nid, &a[FL_DHT_K]);
  fl_dgram g;
  uint8_t buf[FL_DGRAM_BYTES_MAX];
  /* all tie on pinged and added: the first in row (id) order is chosen */
  fl_addr victim = e.d->peers[e.d->rows[0].idx[0]].addr;
  FL_CHECK_EQ(fl_dht_add_peer(e.d, 1000, &a[FL_DHT_K], nid, NULL), 0);
  FL_CHECK_EQ(pop_tx(&e, &g, buf), 1);
  FL_CHECK(fl_addr_equal(&g.to, &victim));
  int sends = 1;
  for (uint64_t t = 1000; t < 6000000; t += 100000) {
    fl_dht_handle_timeout(e.d, t);
    while (pop_tx(&e, &g, buf)) sends += fl_addr_equal(&g.to, &victim);
  }
  FL_CHECK_EQ(sends, 4); /* 1 + 3 retries */
  uint8_t id0[32];
  fl_dht_node_id(id0, &victim);
  FL_CHECK(fl_dht_table_get(e.d, id0) == FL_DHT_NO_IDX);
  FL_CHECK(fl_dht_table_get(e.d, nid) != FL_DHT_NO_IDX);
  FL_CHECK_EQ(e.d->repinging, 0);
  env_free(&e);
}

static void test_dht_full_row_leaves_recent_old_nodes_alone(void) {
  env e;
  env_init(&e, FL_NODE_TABLE_MAX);
  fl_addr a[FL_DHT_K + 1];
  fill_row0(&e, a);
  /* all added > 360 ticks ago and pinged < 12 ticks ago: nobody is pinged */
  e.d->tick += 1000;
  for (uint32_t j = 0; j < e.d->rows[0].count; j++) e.d->peers[e.d->rows[0].idx[j]].pinged = e.d->tick - 5;
  uint8_t nid[32];
  fl_dht_node_id(nid, &a[FL_DHT_K]);
  FL_CHECK_EQ(fl_dht_add_peer(e.d, 1000, &a[FL_DHT_K], nid, NULL), 0);
  fl_dgram g;
  uint8_t buf[FL_DGRAM_BYTES_MAX];
  FL_CHECK_EQ(pop_tx(&e, &g, buf), 0);
  /* before bootstrap, never */
  e.d->bootstrapped = false;
  e.d->tick += 100;
  FL_CHECK_EQ(fl_dht_add_peer(e.d, 1000, &a[FL_DHT_K], nid, NULL), 0);
  FL_CHECK_EQ(pop_tx(&e, &g, buf), 0);
  /* at most 3 re-pings in flight */
  e.d->bootstrapped = true;
  fl_addr more[40];
  size_t m = 0;
  for (uint32_t p = 30000; m < 6 && p < 60000; p++) {
    fl_addr x = fl_addr_ipv4(10, 2, 0, 1, (uint16_t)p);
    uint8_t id[32];
    fl_dht_node_id(id, &x);
    if (fl_dht_row_of(e.d->table_id, id) == 0) more[m++] = x;
  }
  for (size_t i = 0; i < m; i++) {
    uint8_t id[32];
    fl_dht_node_id(id, &more[i]);
    FL_CHECK_EQ(fl_dht_add_peer(e.d, 1000, &more[i], id, NULL), 0);
  }
  int pings = 0;
  while (pop_tx(&e, &g, buf)) pings++;
  FL_CHECK_EQ(pings, 3);
  FL_CHECK_EQ(e.d->repinging, 3);
  env_free(&e);
}

int main(void) {
  FL_RUN(test_dht_row_of);
  FL_RUN(test_dht_table_rows_sorted_and_bounded);
  FL_RUN(test_dht_table_closest_is_exact);
  FL_RUN(test_dht_table_pool_limit_counts);
  FL_RUN(test_dht_table_lru_and_remove);
  FL_RUN(test_dht_full_row_repings_oldest_and_keeps_it_if_alive);
  FL_RUN(test_dht_full_row_swaps_in_newcomer_when_oldest_is_dead);
  FL_RUN(test_dht_full_row_leaves_recent_old_nodes_alone);
  return fl_test_done();
}
