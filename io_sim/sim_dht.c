/*
 * FL_SIM_KIND_DHT: an fl_node (flock/node.h) driven through its five calls.
 * Until the dht layer provides node creation, this kind reports itself
 * unsupported: create returns NULL and fl_sim_host_new fails.
 */
#include "sim_internal.h"

static void *dht_create(fl_sim *s, int host, const uint8_t seed[32], uint64_t now_us) {
  (void)s, (void)host, (void)seed, (void)now_us;
  return NULL;
}

static void dht_destroy(void *node) { (void)node; }

const fl_sim_node_ops sim_dht_ops = {
    .create = dht_create,
    .destroy = dht_destroy,
};
