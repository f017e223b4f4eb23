/*
 * sim_internal.h — the engine's own structures, shared by the io_sim sources.
 */
#ifndef FLOCK_SIM_INTERNAL_H
#define FLOCK_SIM_INTERNAL_H

#include <sodium.h>

#include "flock/crypto.h"
#include "sim.h"

/* ---- A linear-probing map from a 128-bit key to a 64-bit value ------------ */
/* Lookups only: nothing iterates it, so its order never leaks into a run. */
typedef struct sim_map_entry {
  uint64_t k1, k2, v;
  uint8_t used;
} sim_map_entry;

typedef struct sim_map {
  sim_map_entry *e;
  size_t cap, len; /* cap: 0 or a power of two */
} sim_map;

uint64_t *sim_map_get(const sim_map *m, uint64_t k1, uint64_t k2);
int sim_map_put(sim_map *m, uint64_t k1, uint64_t k2, uint64_t v); /* 0 or FL_ERR_NOMEM */
int sim_map_del(sim_map *m, uint64_t k1, uint64_t k2);             /* 1 removed, 0 absent */
void sim_map_free(sim_map *m);

/* ---- The event heap -------------------------------------------------------- */
enum {
  SIM_EV_DELIVER = 1, /* p = sim_packet */
  SIM_EV_TIMER,       /* a = host */
  SIM_EV_SPAWN,       /* a = host slot to create (kind in b) */
  SIM_EV_LEAVE,       /* a = host, b = graceful */
  SIM_EV_ADDR,        /* a = host */
  SIM_EV_ARRIVAL,     /* churn: the next Poisson join */
  SIM_EV_LOOKUP,      /* a = lookup number */
  SIM_EV_METRICS,
  SIM_EV_RECORDS      /* records workload: a = index, b = FL_SIM_REC_* step */
};

typedef struct sim_packet {
  fl_addr from, to;  /* public (post-NAT) source, destination as addressed */
  uint32_t src_host; /* for stats and the datagram log */
  uint32_t len;
  uint8_t data[];
} sim_packet;

typedef struct sim_ev {
  uint64_t t, seq;
  uint32_t type, a;
  uint64_t b;
  sim_packet *p;
} sim_ev;

typedef struct sim_heap {
  sim_ev *v;
  size_t len, cap, high;
} sim_heap;

int sim_heap_push(sim_heap *h, const sim_ev *ev); /* 0 or FL_ERR_NOMEM */
int sim_heap_pop(sim_heap *h, sim_ev *out);       /* 1 or 0 when empty */
void sim_heap_free(sim_heap *h);

/* ---- NAT boxes ------------------------------------------------------------- */
typedef struct sim_mapping {
  uint32_t int_ip, rem_ip;
  uint16_t int_port, rem_port, ext_port;
  uint8_t used;
  uint64_t created_us, last_us;
} sim_mapping;

#define SIM_NAT_HOSTS_MAX 8u /* hosts behind one box (tests put two there) */
typedef struct sim_nat {
  fl_sim_nat_config cfg;
  uint32_t pub_ip, region;
  uint32_t hosts[SIM_NAT_HOSTS_MAX];
  uint32_t nhosts;
  uint32_t next_private; /* last octets handed to hosts behind it */
  uint16_t next_port;
  sim_mapping *maps;     /* slots; free ones have used = 0 */
  uint32_t maps_cap, maps_len, free_head;
  uint32_t *free_list;
  uint32_t nfree;
  sim_map by_out, by_ext, perms;
  uint64_t created, expired, full_drops, filtered;
} sim_nat;

/* ---- Hosts ----------------------------------------------------------------- */
typedef struct sim_host {
  int32_t kind, nat;
  uint32_t region;
  uint32_t ip;            /* own address: private behind a NAT */
  uint32_t part_key;      /* which side of a partition (vs fraction_ppm) */
  uint32_t live_pos;      /* index in s->live while live */
  void *node;
  uint16_t port[FL_SIM_SOCKS_MAX]; /* 0 = socket not open */
  uint16_t next_port;
  uint8_t live, crashed, boot;
  uint64_t timer_at;      /* the pending TIMER event's time, or FL_TIME_NONE */
  uint64_t timer_seq;     /* ...and its sequence number: older ones are stale */
  uint64_t joined_us, left_us;
  uint64_t bps, queue_bytes_max, tx_free_at;
  uint64_t sent, sent_bytes, recv, recv_bytes;
  uint8_t seed[32];
} sim_host;

typedef struct sim_query {
  uint32_t host;
  uint32_t hops;
  int32_t ok;     /* -1 pending, 0 failed, 1 succeeded */
  uint64_t id, start_us, end_us;
} sim_query;

typedef struct sim_partition {
  uint64_t start_us, end_us;
  uint32_t fraction_ppm;
} sim_partition;

typedef struct sim_profile {
  uint32_t weight;
  int32_t public_host;
  fl_sim_nat_config cfg;
} sim_profile;

struct sim_rec;     /* sim_rec.c */
struct sim_records; /* sim_records.c */

struct fl_sim {
  uint64_t now_us, seq;
  sim_heap heap;
  fl_drbg root, net, nodes, nat, churn, work;
  crypto_generichash_state fp;
  fl_sim_stats st;
  const fl_sim_node_ops *ops[FL_SIM_KINDS];
  fl_sim_node_ops custom_ops[FL_SIM_KINDS];

  sim_host *hosts;
  uint32_t nhosts, hosts_cap;
  uint32_t *live;         /* ids of live hosts, in join order with swap-removal */
  sim_nat *nats;
  uint32_t nnats, nats_cap;
  uint32_t *ip_owner;     /* public ip - SIM_IP_BASE -> owner (see sim_net.c) */
  uint32_t nips, ips_cap;

  /* network */
  int lat_model;
  uint64_t lat_a, lat_b, jitter_us;
  uint32_t nregions;
  uint64_t matrix[FL_SIM_REGIONS_MAX * FL_SIM_REGIONS_MAX];
  uint32_t loss_ppm;
  uint64_t bps, queue_bytes, inflight_max;
  sim_partition parts[FL_SIM_PARTITIONS_MAX];
  uint32_t nparts;

  /* churn and workload */
  sim_profile profiles[FL_SIM_NAT_PROFILES_MAX];
  uint32_t nprofiles;
  uint32_t region_w[FL_SIM_REGIONS_MAX];
  uint32_t nregion_w;
  fl_sim_churn_config churn_cfg;
  int churn_on;
  int spawn_kind;
  fl_addr *boot;
  uint32_t nboot, boot_cap, boot_want;
  sim_query *queries;
  uint32_t nqueries, queries_cap;
  sim_map query_ix;       /* (host, query id) -> index in queries */
  uint64_t metrics_period_us;
  uint64_t lookups_scheduled;
  int node_mode;
  int paranoid;

  struct sim_records *records;
  fl_drbg recs;           /* the records workload's draws (forked last) */

  struct sim_rec *rec;
  uint8_t buf[FL_DGRAM_BYTES_MAX];
};

/* Public addresses are 20.0.0.0 + n; hosts behind NAT box k are 10.x.y.z. */
#define SIM_IP_BASE 0x14000000u
#define SIM_OWNER_HOST 0x80000000u /* owner tag bit: set = host, clear = NAT */
#define SIM_OWNER_NONE 0xffffffffu
/* Latency inside one NAT's LAN (hairpinned datagrams). */
#define SIM_LAN_US 200u

/* sim.c */
int sim_push(fl_sim *s, uint64_t t, uint32_t type, uint32_t a, uint64_t b, sim_packet *p);
void sim_drive(fl_sim *s, uint32_t host);
int sim_host_create(fl_sim *s, int kind, int nat, uint32_t region, int boot);
void sim_fp(fl_sim *s, uint32_t type, uint32_t host, uint64_t a, uint64_t b,
            const uint8_t *data, size_t len);
fl_addr sim_addr(uint32_t ip, uint16_t port);
uint32_t sim_ip(const fl_addr *a);

/* sim_net.c */
void sim_net_send(fl_sim *s, uint32_t host, uint32_t sock, const fl_addr *to,
                  const uint8_t *data, size_t len);
void sim_net_deliver(fl_sim *s, sim_packet *p);
uint32_t sim_ip_alloc(fl_sim *s, uint32_t owner);
void sim_drop(fl_sim *s, int reason, const sim_packet *p, uint32_t host);

/* sim_nat.c */
int sim_nat_init(sim_nat *n, const fl_sim_nat_config *cfg);
void sim_nat_deinit(sim_nat *n);
/* Outbound: translate the source port; returns the external port or a
 * negative drop reason (-1 - FL_SIM_DROP_*). */
int sim_nat_out(fl_sim *s, uint32_t nat, uint32_t host, uint32_t int_ip, uint16_t int_port,
                uint32_t rem_ip, uint16_t rem_port);
/* Inbound to ext_port from rem: sets the internal endpoint, or returns a
 * negative drop reason. */
int sim_nat_in(fl_sim *s, uint32_t nat, uint16_t ext_port, uint32_t rem_ip, uint16_t rem_port,
               uint32_t *int_ip, uint16_t *int_port);

/* sim_raw.c, sim_dht.c */
extern const fl_sim_node_ops sim_raw_ops;
extern const fl_sim_node_ops sim_dht_ops;
extern const fl_sim_node_ops sim_hyperdht_ops;
struct fl_hyperdht;
struct fl_hyperdht_stats;
/* A hyperdht host's records layer (now_us: the time of the call to come). */
struct fl_hyperdht *sim_hd_records(void *node, uint64_t now_us);
void sim_hd_store(const void *node, struct fl_hyperdht_stats *st, uint64_t *mem_bytes,
                  uint64_t *mem_base);

/* sim_records.c */
enum { STEP_ANNOUNCE = 0, STEP_LOOKUP, STEP_MPUT, STEP_MGET, STEP_IPUT, STEP_IGET };
int sim_records_replay(void *node, uint64_t now_us, uint32_t step, const uint8_t *d, size_t len);
void sim_records_event(fl_sim *s, const sim_ev *ev);          /* SIM_EV_RECORDS */
void sim_records_node_event(fl_sim *s, uint32_t host, const fl_event *ev); /* types 200-299 */
void sim_records_host_left(fl_sim *s, uint32_t host);
void sim_records_metrics(fl_sim *s);
void sim_records_free(fl_sim *s);
int sim_raw_queue(void *node, const fl_addr *to, const uint8_t *data, size_t len);
int sim_raw_pop(void *node, fl_addr *from, uint8_t *buf, size_t cap);

/* sim_churn.c */
void sim_churn_event(fl_sim *s, const sim_ev *ev);
void sim_query_done(fl_sim *s, uint32_t host, uint64_t id, int ok, uint32_t hops);
void sim_host_joined(fl_sim *s, uint32_t host);
void sim_metrics(fl_sim *s);

/* sim_rec.c: every call is a no-op without an open recorder. */
void sim_rec_free(fl_sim *s);
void sim_rec_host(fl_sim *s, uint32_t host);
void sim_rec_event(fl_sim *s, const char *type, uint32_t host, uint64_t id, int64_t code,
                   const char *detail);
void sim_rec_query(fl_sim *s, const sim_query *q);
void sim_rec_dgram(fl_sim *s, const sim_packet *p, uint32_t dst_host, int outcome);
void sim_rec_io(fl_sim *s, uint32_t host, const char *dir, uint32_t sock, const fl_addr *addr,
                const uint8_t *data, size_t len);
void sim_rec_metrics(fl_sim *s, uint64_t live, uint64_t fill, uint64_t mem);
void sim_rec_records_op(fl_sim *s, const fl_sim_records_op *op);
void sim_rec_store(fl_sim *s, const fl_sim_records_store *st);
int sim_rec_level(const fl_sim *s);
int sim_rec_traced(const fl_sim *s, uint32_t host);

/* Discard a must-check result on purpose (gcc ignores a (void) cast there). */
#define SIM_IGNORE(x) do { if ((x) < 0) { } } while (0)

#endif
