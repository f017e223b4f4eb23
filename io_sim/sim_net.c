/*
 * The network between the hosts: public addresses, the sender's NAT, its
 * uplink queue, partitions, loss, latency and jitter on the way out, and the
 * receiver's NAT and socket on the way in.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

uint32_t sim_ip_alloc(fl_sim *s, uint32_t owner) {
  if (s->nips == s->ips_cap) {
    uint32_t cap = s->ips_cap ? s->ips_cap * 2 : 256;
    uint32_t *o = realloc(s->ip_owner, cap * sizeof *o);
    if (o == NULL) return 0;
    s->ip_owner = o;
    s->ips_cap = cap;
  }
  s->ip_owner[s->nips] = owner;
  return SIM_IP_BASE + 1 + s->nips++;
}

static uint32_t ip_owner(const fl_sim *s, uint32_t ip) {
  if (ip <= SIM_IP_BASE || ip - SIM_IP_BASE - 1 >= s->nips) return SIM_OWNER_NONE;
  return s->ip_owner[ip - SIM_IP_BASE - 1];
}

void sim_drop(fl_sim *s, int reason, const sim_packet *p, uint32_t host) {
  assert(reason >= 0 && reason < FL_SIM_DROP_REASONS);
  s->st.dropped[reason]++;
  sim_fp(s, 3, host, (uint64_t)reason, p ? p->len : 0, NULL, 0);
  if (p) sim_rec_dgram(s, p, host, reason + 1);
}

/* Region of whatever owns a public address. */
static uint32_t owner_region(const fl_sim *s, uint32_t owner) {
  if (owner == SIM_OWNER_NONE) return 0;
  if (owner & SIM_OWNER_HOST) return s->hosts[owner & ~SIM_OWNER_HOST].region;
  return s->nats[owner].region;
}

static uint64_t latency(fl_sim *s, uint32_t from_region, uint32_t to_region) {
  uint64_t us;
  switch (s->lat_model) {
    case FL_SIM_LAT_UNIFORM: us = s->lat_a + fl_drbg_uniform(&s->net, s->lat_b - s->lat_a + 1); break;
    case FL_SIM_LAT_MATRIX: us = s->matrix[from_region * s->nregions + to_region]; break;
    default: us = s->lat_a; break;
  }
  if (s->jitter_us) us += fl_drbg_uniform(&s->net, s->jitter_us + 1);
  return us;
}

/* Which side of partition k an address is on: a hash of the address, so a
 * NAT box and its hosts are on one side and no per-host state is needed. */
static int side(const sim_partition *pt, uint32_t k, uint32_t ip) {
  uint64_t x = ((uint64_t)ip << 8 | k) * 0x9e3779b97f4a7c15ull;
  x ^= x >> 29;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 32;
  return (x % 1000000u) < pt->fraction_ppm;
}

static int partitioned(const fl_sim *s, uint32_t a, uint32_t b) {
  for (uint32_t k = 0; k < s->nparts; k++) {
    const sim_partition *pt = &s->parts[k];
    if (s->now_us >= pt->start_us && s->now_us < pt->end_us && side(pt, k, a) != side(pt, k, b))
      return 1;
  }
  return 0;
}

static sim_packet *packet_new(const fl_addr *from, const fl_addr *to, uint32_t src,
                              const uint8_t *data, size_t len) {
  sim_packet *p = malloc(sizeof *p + len);
  if (p == NULL) return NULL;
  p->from = *from;
  p->to = *to;
  p->src_host = src;
  p->len = (uint32_t)len;
  if (len) memcpy(p->data, data, len);
  return p;
}

static void enqueue(fl_sim *s, sim_packet *p, uint64_t at) {
  if (s->st.inflight >= s->inflight_max) {
    sim_drop(s, FL_SIM_DROP_INFLIGHT, p, p->src_host);
    free(p);
    return;
  }
  if (sim_push(s, at, SIM_EV_DELIVER, 0, 0, p) != 0) {
    sim_drop(s, FL_SIM_DROP_INFLIGHT, p, p->src_host);
    free(p);
    return;
  }
  if (++s->st.inflight > s->st.inflight_high) s->st.inflight_high = s->st.inflight;
}

/* The uplink: serialise at bps behind what is already queued. Returns the
 * departure time, or FL_TIME_NONE when the queue has no room. */
static uint64_t uplink(fl_sim *s, sim_host *h, size_t len) {
  if (h->bps == 0) return s->now_us;
  uint64_t start = h->tx_free_at > s->now_us ? h->tx_free_at : s->now_us;
  uint64_t backlog = (start - s->now_us) * h->bps / 8000000u;
  if (backlog + len > h->queue_bytes_max) return FL_TIME_NONE;
  uint64_t tx_us = ((uint64_t)len * 8u * 1000000u + h->bps - 1) / h->bps;
  h->tx_free_at = start + tx_us;
  return h->tx_free_at;
}

void sim_net_send(fl_sim *s, uint32_t id, uint32_t sock, const fl_addr *to, const uint8_t *data,
                  size_t len) {
  sim_host *h = &s->hosts[id];
  sim_rec_io(s, id, "out", sock, to, data, len);
  if (sock >= FL_SIM_SOCKS_MAX || h->port[sock] == 0 || to->family != FL_ADDR_IPV4 ||
      len > FL_DGRAM_BYTES_MAX) {
    s->st.node_errors++;
    return;
  }
  h->sent++;
  h->sent_bytes += len;
  s->st.sent++;
  s->st.sent_bytes += len;
  uint32_t dst_ip = sim_ip(to);
  fl_addr from = sim_addr(h->ip, h->port[sock]);
  uint32_t src_pub = h->ip;
  if (h->nat >= 0) {
    sim_nat *n = &s->nats[h->nat];
    src_pub = n->pub_ip;
    int ext = sim_nat_out(s, (uint32_t)h->nat, id, h->ip, h->port[sock], dst_ip, to->port);
    if (ext < 0) {
      sim_packet tmp = {.from = from, .to = *to, .src_host = id, .len = (uint32_t)len};
      sim_drop(s, -1 - ext, &tmp, id);
      return;
    }
    from = sim_addr(n->pub_ip, (uint16_t)ext);
    if (dst_ip == n->pub_ip) {
      /* Hairpin: a datagram to the box's own public address turns around
       * inside it (RFC 4787 section 6), with the mapped source (REQ-9b). */
      sim_packet *p = packet_new(&from, to, id, data, len);
      if (p == NULL) return;
      if (!n->cfg.hairpin) {
        sim_drop(s, FL_SIM_DROP_HAIRPIN, p, id);
        free(p);
        return;
      }
      enqueue(s, p, s->now_us + SIM_LAN_US);
      return;
    }
  }
  sim_packet *p = packet_new(&from, to, id, data, len);
  if (p == NULL) return;
  uint32_t owner = ip_owner(s, dst_ip);
  int reason = -1;
  uint64_t depart = uplink(s, h, len);
  if (depart == FL_TIME_NONE) reason = FL_SIM_DROP_QUEUE;
  else if (partitioned(s, src_pub, dst_ip)) reason = FL_SIM_DROP_PARTITION;
  else if (s->loss_ppm && fl_drbg_uniform(&s->net, 1000000u) < s->loss_ppm)
    reason = FL_SIM_DROP_LOSS;
  if (reason >= 0) {
    sim_drop(s, reason, p, id);
    free(p);
    return;
  }
  enqueue(s, p, depart + latency(s, h->region, owner_region(s, owner)));
}

/* Find the receiving host and socket, through its NAT if it has one. */
static int route_in(fl_sim *s, const sim_packet *p, uint32_t *host, uint32_t *sock) {
  uint32_t owner = ip_owner(s, sim_ip(&p->to));
  if (owner == SIM_OWNER_NONE) return FL_SIM_DROP_NO_ROUTE;
  uint32_t ip = sim_ip(&p->to);
  uint16_t port = p->to.port;
  uint32_t id;
  if (owner & SIM_OWNER_HOST) {
    id = owner & ~SIM_OWNER_HOST;
  } else {
    int rc = sim_nat_in(s, owner, port, sim_ip(&p->from), p->from.port, &ip, &port);
    if (rc < 0) return -1 - rc;
    const sim_nat *n = &s->nats[owner];
    id = SIM_OWNER_NONE;
    for (uint32_t i = 0; i < n->nhosts; i++)
      if (s->hosts[n->hosts[i]].ip == ip) id = n->hosts[i];
    if (id == SIM_OWNER_NONE) return FL_SIM_DROP_NO_ROUTE;
  }
  *host = id;
  const sim_host *h = &s->hosts[id];
  if (!h->live) return FL_SIM_DROP_HOST_DOWN;
  for (uint32_t i = 0; i < FL_SIM_SOCKS_MAX; i++) {
    if (h->port[i] == port) {
      *sock = i;
      return -1;
    }
  }
  return FL_SIM_DROP_NO_SOCKET;
}

void sim_net_deliver(fl_sim *s, sim_packet *p) {
  uint32_t id = SIM_OWNER_NONE, sock = 0;
  int reason = route_in(s, p, &id, &sock);
  if (reason >= 0) {
    sim_drop(s, reason, p, id);
    return;
  }
  sim_host *h = &s->hosts[id];
  h->recv++;
  h->recv_bytes += p->len;
  s->st.delivered++;
  s->st.delivered_bytes += p->len;
  sim_fp(s, 1, id, sock, (uint64_t)sim_ip(&p->from) << 16 | p->from.port, p->data, p->len);
  sim_rec_dgram(s, p, id, 0);
  sim_rec_io(s, id, "in", sock, &p->from, p->data, p->len);
  int rc = s->ops[h->kind]->handle_datagram(h->node, s->now_us, sock, &p->from, p->data, p->len);
  if (rc < 0) s->st.node_errors++;
  sim_drive(s, id);
}

/* ---- configuration ------------------------------------------------------------ */

int fl_sim_set_latency(fl_sim *s, int model, uint64_t a_us, uint64_t b_us) {
  if (s == NULL || (model != FL_SIM_LAT_CONSTANT && model != FL_SIM_LAT_UNIFORM)) return FL_ERR_INVALID;
  if (model == FL_SIM_LAT_UNIFORM && b_us < a_us) return FL_ERR_INVALID;
  s->lat_model = model;
  s->lat_a = a_us;
  s->lat_b = b_us;
  return 0;
}

int fl_sim_set_region_matrix(fl_sim *s, uint32_t n, const uint64_t *us) {
  if (s == NULL || us == NULL || n == 0 || n > FL_SIM_REGIONS_MAX) return FL_ERR_INVALID;
  memcpy(s->matrix, us, (size_t)n * n * sizeof *us);
  s->nregions = n;
  s->lat_model = FL_SIM_LAT_MATRIX;
  return 0;
}

int fl_sim_set_jitter(fl_sim *s, uint64_t jitter_us) {
  if (s == NULL) return FL_ERR_INVALID;
  s->jitter_us = jitter_us;
  return 0;
}

int fl_sim_set_loss(fl_sim *s, uint32_t loss_ppm) {
  if (s == NULL || loss_ppm > 1000000u) return FL_ERR_INVALID;
  s->loss_ppm = loss_ppm;
  return 0;
}

int fl_sim_set_bandwidth(fl_sim *s, uint64_t bps, uint64_t queue_bytes) {
  if (s == NULL || (bps > 0 && queue_bytes < FL_DGRAM_BYTES_MAX)) return FL_ERR_INVALID;
  s->bps = bps;
  s->queue_bytes = queue_bytes;
  return 0;
}

int fl_sim_set_inflight_max(fl_sim *s, uint64_t n) {
  if (s == NULL || n == 0 || n > FL_SIM_INFLIGHT_MAX) return FL_ERR_INVALID;
  s->inflight_max = n;
  return 0;
}

int fl_sim_add_partition(fl_sim *s, uint64_t start_us, uint64_t end_us, uint32_t fraction_ppm) {
  if (s == NULL || end_us <= start_us || fraction_ppm > 1000000u) return FL_ERR_INVALID;
  if (s->nparts >= FL_SIM_PARTITIONS_MAX) return FL_ERR_LIMIT;
  s->parts[s->nparts++] = (sim_partition){start_us, end_us, fraction_ppm};
  return 0;
}
