/*
 * NAT boxes with the behaviours of RFC 4787.
 *
 * A mapping binds an internal endpoint (X:x) to an external port on the
 * box's public address. Which mapping an outgoing datagram to Y:y reuses is
 * the mapping behaviour (section 4.1): endpoint-independent (one per X:x),
 * address-dependent (one per X:x and Y), address-and-port-dependent (one per
 * X:x and Y:y). Which incoming datagrams a mapping lets in is the filtering
 * behaviour (section 5): endpoint-independent (anyone), address-dependent
 * (only from a Y that X:x has sent to), address-and-port-dependent (only from
 * a Y:y that X:x has sent to). Mappings last timeout_us after their last
 * refresh; outbound traffic refreshes them (REQ-6), inbound only when
 * inbound_refresh is set. A firewall keeps the external port equal to the
 * internal one and only filters.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

int sim_nat_init(sim_nat *n, const fl_sim_nat_config *cfg) {
  memset(n, 0, sizeof *n);
  n->cfg = *cfg;
  n->next_port = 1024;
  return 0;
}

void sim_nat_deinit(sim_nat *n) {
  free(n->maps);
  free(n->free_list);
  sim_map_free(&n->by_out);
  sim_map_free(&n->by_ext);
  sim_map_free(&n->perms);
  memset(n, 0, sizeof *n);
}

/* The outbound key: what part of the remote endpoint selects the mapping. */
static uint64_t out_remote_key(const sim_nat *n, uint32_t rem_ip, uint16_t rem_port) {
  switch (n->cfg.mapping) {
    case FL_SIM_EI: return 0;
    case FL_SIM_AD: return (uint64_t)rem_ip << 16;
    default: return (uint64_t)rem_ip << 16 | rem_port;
  }
}

/* The filter key: which part of the remote endpoint a permission names. */
static uint64_t perm_key(const sim_nat *n, uint32_t rem_ip, uint16_t rem_port) {
  if (n->cfg.filtering == FL_SIM_AD) return (uint64_t)rem_ip << 16;
  return (uint64_t)rem_ip << 16 | rem_port;
}

static int expired(const sim_nat *n, const sim_mapping *m, uint64_t now) {
  return now >= m->last_us + n->cfg.timeout_us;
}

static void mapping_remove(fl_sim *s, sim_nat *n, uint32_t i) {
  sim_mapping *m = &n->maps[i];
  assert(m->used);
  (void)sim_map_del(&n->by_out, (uint64_t)m->int_ip << 16 | m->int_port,
                    out_remote_key(n, m->rem_ip, m->rem_port));
  (void)sim_map_del(&n->by_ext, m->ext_port, 0);
  m->used = 0;
  n->free_list[n->nfree++] = i;
  n->maps_len--;
  n->expired++;
  s->st.nat_mappings--;
}

/* Look a mapping up by external port, dropping it if it has expired. */
static sim_mapping *by_ext(fl_sim *s, sim_nat *n, uint16_t port, uint32_t *idx) {
  uint64_t *v = sim_map_get(&n->by_ext, port, 0);
  if (v == NULL) return NULL;
  sim_mapping *m = &n->maps[*v];
  if (expired(n, m, s->now_us)) {
    mapping_remove(s, n, (uint32_t)*v);
    return NULL;
  }
  if (idx) *idx = (uint32_t)*v;
  return m;
}

static int port_free(fl_sim *s, sim_nat *n, uint16_t port) {
  return port >= 1024 && by_ext(s, n, port, NULL) == NULL;
}

/* Pick an external port per the allocation behaviour (section 4.2.1).
 * Returns 0 when every port is taken. */
static uint16_t pick_port(fl_sim *s, sim_nat *n, uint16_t int_port) {
  if (n->cfg.firewall) return port_free(s, n, int_port) ? int_port : 0;
  if (n->cfg.ports == FL_SIM_PORT_PRESERVE && port_free(s, n, int_port)) return int_port;
  if (n->cfg.ports == FL_SIM_PORT_RANDOM) {
    for (int tries = 0; tries < 64; tries++) {
      uint16_t p = (uint16_t)(1024 + fl_drbg_uniform(&s->nat, 65536 - 1024));
      if (port_free(s, n, p)) return p;
    }
  }
  /* Sequential (and the fallback of the other two). */
  for (uint32_t tries = 0; tries < 65536 - 1024; tries++) {
    uint16_t p = n->next_port;
    n->next_port = (uint16_t)(n->next_port == 65535 ? 1024 : n->next_port + 1);
    if (port_free(s, n, p)) return p;
  }
  return 0;
}

/* Free expired mappings (in slot order, so deterministically). */
static void sweep(fl_sim *s, sim_nat *n) {
  for (uint32_t i = 0; i < n->maps_cap; i++)
    if (n->maps[i].used && expired(n, &n->maps[i], s->now_us)) mapping_remove(s, n, i);
}

static int slot_alloc(fl_sim *s, sim_nat *n, uint32_t *out) {
  if (n->maps_len >= FL_SIM_NAT_MAPPINGS_MAX) sweep(s, n);
  if (n->maps_len >= FL_SIM_NAT_MAPPINGS_MAX) return FL_ERR_LIMIT;
  if (n->nfree == 0) {
    uint32_t cap = n->maps_cap ? n->maps_cap * 2 : 4;
    if (cap > FL_SIM_NAT_MAPPINGS_MAX) cap = FL_SIM_NAT_MAPPINGS_MAX;
    sim_mapping *m = realloc(n->maps, cap * sizeof *m);
    if (m == NULL) return FL_ERR_NOMEM;
    n->maps = m;
    uint32_t *fl = realloc(n->free_list, cap * sizeof *fl);
    if (fl == NULL) return FL_ERR_NOMEM;
    n->free_list = fl;
    /* Push new slots so the lowest index comes out first. */
    for (uint32_t i = cap; i > n->maps_cap; i--) {
      m[i - 1].used = 0;
      fl[n->nfree++] = i - 1;
    }
    n->maps_cap = cap;
  }
  *out = n->free_list[--n->nfree];
  return 0;
}

static int mapping_new(fl_sim *s, uint32_t nat, uint32_t host, uint32_t int_ip, uint16_t int_port,
                       uint32_t rem_ip, uint16_t rem_port, uint32_t *idx) {
  sim_nat *n = &s->nats[nat];
  uint32_t i;
  if (slot_alloc(s, n, &i) != 0) return -1 - FL_SIM_DROP_NAT_FULL;
  uint16_t port = pick_port(s, n, int_port);
  if (port == 0) {
    n->free_list[n->nfree++] = i;
    return -1 - FL_SIM_DROP_NAT_FULL;
  }
  n->maps[i] = (sim_mapping){.int_ip = int_ip, .rem_ip = rem_ip, .int_port = int_port,
                             .rem_port = rem_port, .ext_port = port, .used = 1,
                             .created_us = s->now_us, .last_us = s->now_us};
  if (sim_map_put(&n->by_out, (uint64_t)int_ip << 16 | int_port,
                  out_remote_key(n, rem_ip, rem_port), i) != 0 ||
      sim_map_put(&n->by_ext, port, 0, i) != 0)
    return -1 - FL_SIM_DROP_NAT_FULL;
  n->maps_len++;
  n->created++;
  if (++s->st.nat_mappings > s->st.nat_mappings_high) s->st.nat_mappings_high = s->st.nat_mappings;
  sim_fp(s, 20, nat, (uint64_t)int_ip << 16 | int_port, port, NULL, 0);
  char detail[64];
  fl_addr ext = sim_addr(n->pub_ip, port);
  fl_addr_format(&ext, detail, sizeof detail);
  sim_rec_event(s, "nat_mapping", host, port, int_port, detail);
  *idx = i;
  return 0;
}

int sim_nat_out(fl_sim *s, uint32_t nat, uint32_t host, uint32_t int_ip, uint16_t int_port,
                uint32_t rem_ip, uint16_t rem_port) {
  sim_nat *n = &s->nats[nat];
  uint64_t *v = sim_map_get(&n->by_out, (uint64_t)int_ip << 16 | int_port,
                            out_remote_key(n, rem_ip, rem_port));
  uint32_t i;
  if (v != NULL && !expired(n, &n->maps[*v], s->now_us)) {
    i = (uint32_t)*v;
  } else {
    if (v != NULL) mapping_remove(s, n, (uint32_t)*v);
    int rc = mapping_new(s, nat, host, int_ip, int_port, rem_ip, rem_port, &i);
    if (rc < 0) {
      n->full_drops++;
      return rc;
    }
  }
  sim_mapping *m = &n->maps[i];
  m->last_us = s->now_us;
  /* Remember whom X:x talked to through this mapping, for the filter. */
  if (n->cfg.filtering != FL_SIM_EI &&
      sim_map_put(&n->perms, m->ext_port, perm_key(n, rem_ip, rem_port), s->now_us) != 0)
    return -1 - FL_SIM_DROP_NAT_FULL;
  return m->ext_port;
}

int sim_nat_in(fl_sim *s, uint32_t nat, uint16_t ext_port, uint32_t rem_ip, uint16_t rem_port,
               uint32_t *int_ip, uint16_t *int_port) {
  sim_nat *n = &s->nats[nat];
  sim_mapping *m = by_ext(s, n, ext_port, NULL);
  if (m == NULL) {
    n->filtered++;
    return -1 - FL_SIM_DROP_NAT_FILTER;
  }
  uint64_t *t = NULL;
  if (n->cfg.filtering != FL_SIM_EI) {
    t = sim_map_get(&n->perms, ext_port, perm_key(n, rem_ip, rem_port));
    /* A permission older than the mapping belongs to an earlier tenant of
     * the port; one past the timeout has lapsed with its traffic. */
    if (t == NULL || *t < m->created_us || s->now_us >= *t + n->cfg.timeout_us) {
      n->filtered++;
      return -1 - FL_SIM_DROP_NAT_FILTER;
    }
  }
  if (n->cfg.inbound_refresh) {
    m->last_us = s->now_us;
    if (t) *t = s->now_us; /* the flow that was let in stays open with it */
  }
  *int_ip = m->int_ip;
  *int_port = m->int_port;
  return 0;
}

int fl_sim_nat_mappings(const fl_sim *s, int nat) {
  if (s == NULL || nat < 0 || (uint32_t)nat >= s->nnats) return FL_ERR_INVALID;
  /* Count the unexpired ones: expired mappings linger until a lookup
   * touches them, but no datagram can use them any more. */
  const sim_nat *n = &s->nats[nat];
  int live = 0;
  for (uint32_t i = 0; i < n->maps_cap; i++)
    live += n->maps[i].used && !expired(n, &n->maps[i], s->now_us);
  return live;
}
