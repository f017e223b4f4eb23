/*
 * sim.h — libflocksim, the deterministic discrete-event network simulator.
 *
 * One fl_sim holds virtual time (microseconds), a heap of pending events
 * ordered by (time, sequence), the simulated hosts, their NAT boxes and the
 * network between them. Each host runs a node through the five sans-IO calls
 * of flock/node.h (handle_datagram, poll_transmit, next_deadline,
 * handle_timeout, poll_event) plus the socket-open answers, via an
 * fl_sim_node_ops table, so the engine drives any node the same way io_posix
 * does. Two kinds are built in: FL_SIM_KIND_RAW (a host whose datagrams the
 * caller sends and reads: the NAT tests) and FL_SIM_KIND_DHT (an fl_node).
 *
 * Determinism: all randomness comes from DRBGs forked from the scenario seed
 * (network, NATs, churn, workload, one per node); nothing reads a clock or
 * iterates in pointer or hash order. The run fingerprint is BLAKE2b over the
 * canonical event stream (deliveries with their bytes, drops, timers, joins,
 * leaves, NAT mappings, queries) and does not depend on the recorder.
 *
 * Errors: 0 / negative FL_ERR_* / positive counts, as in libflock. Driven
 * from Python through ctypes (io_sim/flocksim.py), so every call checks its
 * arguments and returns FL_ERR_INVALID on misuse instead of asserting.
 */
#ifndef FLOCK_SIM_H
#define FLOCK_SIM_H

#include "flock/common.h"
#include "flock/node.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fl_sim fl_sim;

/* Limits (the engine refuses or drops past them and counts it). */
/* Hosts ever created, churned ones included: 2^20 covers the 100,000-node
 * goal ten times over while keeping a node index in 20 bits of a map key. */
#define FL_SIM_HOSTS_MAX (1u << 20)
/* NAT boxes: one per NATed host at most. */
#define FL_SIM_NATS_MAX FL_SIM_HOSTS_MAX
/* Sockets per host: the server and client sockets plus holepunch extras. */
#define FL_SIM_SOCKS_MAX 8u
/* Datagrams in flight across the whole network: 4 Mi x ~200 B ~ 1 GiB, the
 * most a 24 GiB machine should spend on the wire; past it new sends drop. */
#define FL_SIM_INFLIGHT_MAX (4u << 20)
/* Mappings per NAT box: a symmetric NAT in front of a busy DHT node makes one
 * per peer; home routers hold a few thousand. Past it: drop the new flow. */
#define FL_SIM_NAT_MAPPINGS_MAX 4096u
/* Datagrams a raw host keeps unread; past it the newest is dropped. */
#define FL_SIM_RAW_INBOX_MAX 256u
/* Drain rounds after one input (transmit, events, socket answers): a node
 * that keeps asking for sockets forever is stopped, not looped on. */
#define FL_SIM_DRAIN_ROUNDS_MAX 16u
/* Lookups scheduled over a run: 4 Mi keeps their heap entries and query
 * records under ~400 MiB; past it fl_sim_schedule_lookups refuses. */
#define FL_SIM_LOOKUPS_MAX (4u << 20)
/* Regions of the latency matrix. */
#define FL_SIM_REGIONS_MAX 16u
/* Partition schedules and NAT profiles in one scenario. */
#define FL_SIM_PARTITIONS_MAX 64u
#define FL_SIM_NAT_PROFILES_MAX 16u

FL_API size_t fl_sim_hosts_max(void);
FL_API size_t fl_sim_nat_mappings_max(void);

/* Node kinds. HYPERDHT: an fl_node with an fl_hyperdht (the records layer)
 * on it, which the records workload below drives. */
enum { FL_SIM_KIND_RAW = 0, FL_SIM_KIND_DHT = 1, FL_SIM_KIND_HYPERDHT = 2, FL_SIM_KINDS = 3 };

/* RFC 4787 behaviours. Mapping (section 4.1) and filtering (section 5). */
enum {
  FL_SIM_EI = 0,   /* endpoint-independent */
  FL_SIM_AD = 1,   /* address-dependent */
  FL_SIM_APD = 2   /* address-and-port-dependent */
};
/* Port allocation (section 4.2.1). */
enum { FL_SIM_PORT_PRESERVE = 0, FL_SIM_PORT_SEQUENTIAL = 1, FL_SIM_PORT_RANDOM = 2 };

/* Latency models. */
enum { FL_SIM_LAT_CONSTANT = 0, FL_SIM_LAT_UNIFORM = 1, FL_SIM_LAT_MATRIX = 2 };

/* Session-length distributions for churn. */
enum { FL_SIM_DIST_FIXED = 0, FL_SIM_DIST_EXP = 1, FL_SIM_DIST_WEIBULL = 2 };

/* Why a datagram was dropped (stats.dropped[reason]). */
enum {
  FL_SIM_DROP_LOSS = 0,       /* random loss */
  FL_SIM_DROP_PARTITION = 1,  /* sender and receiver on different sides */
  FL_SIM_DROP_QUEUE = 2,      /* sender's uplink queue full */
  FL_SIM_DROP_INFLIGHT = 3,   /* FL_SIM_INFLIGHT_MAX reached */
  FL_SIM_DROP_NO_ROUTE = 4,   /* no host or NAT at that address */
  FL_SIM_DROP_NO_SOCKET = 5,  /* host up but no socket on that port */
  FL_SIM_DROP_HOST_DOWN = 6,  /* host has left */
  FL_SIM_DROP_NAT_FILTER = 7, /* NAT: no mapping, expired, or filtered */
  FL_SIM_DROP_NAT_FULL = 8,   /* NAT: mapping table full */
  FL_SIM_DROP_HAIRPIN = 9,    /* NAT without hairpinning */
  FL_SIM_DROP_INBOX = 10,     /* raw host inbox full */
  FL_SIM_DROP_REASONS = 11
};

/* Counters of one simulation. */
typedef struct fl_sim_stats {
  uint64_t now_us;
  uint64_t events;            /* heap events processed */
  uint64_t heap_len, heap_high;
  uint64_t inflight, inflight_high;
  uint64_t sent, sent_bytes;  /* datagrams the nodes emitted */
  uint64_t delivered, delivered_bytes;
  uint64_t dropped[FL_SIM_DROP_REASONS];
  uint64_t hosts, hosts_live, nats;
  uint64_t nat_mappings, nat_mappings_high;
  uint64_t joins, leaves, crashes, addr_changes;
  uint64_t queries_started, queries_done, queries_ok;
  uint64_t node_errors;       /* negative returns from a node's calls */
  uint64_t drain_overruns;    /* FL_SIM_DRAIN_ROUNDS_MAX hit */
  uint64_t node_queue_drops;  /* live nodes' own queue-limit drops, at the last metrics sample */
  uint64_t node_check_failures; /* ops->check failures (paranoid mode: after every drive) */
} fl_sim_stats;

/* ---- Life cycle and the loop ---------------------------------------------- */

/* A new simulation at time 0 whose randomness all derives from seed.
 * Returns NULL on allocation failure. */
FL_API fl_sim *fl_sim_new(uint64_t seed);
FL_API void fl_sim_free(fl_sim *s);

/* Process events with time <= until_us, at most max_events of them (0 = no
 * bound). Time then stands at until_us if the heap ran dry before it, else at
 * the last event's time. Returns the number processed (>= 0). */
FL_API int64_t fl_sim_run_until(fl_sim *s, uint64_t until_us, uint64_t max_events);
FL_API uint64_t fl_sim_now(const fl_sim *s);
/* Time of the next pending event, or FL_TIME_NONE. */
FL_API uint64_t fl_sim_next_event(const fl_sim *s);
FL_API void fl_sim_get_stats(const fl_sim *s, fl_sim_stats *out);
/* The 32-byte fingerprint of the events so far (the stream continues). */
FL_API void fl_sim_fingerprint(const fl_sim *s, uint8_t out[32]);

/* Walk the engine's invariants (heap order, live list, NAT tables and
 * counters, in-flight count) and every live node's own check. 0, or
 * FL_ERR_STATE: a bug. */
FL_API FL_MUST_CHECK int fl_sim_check(const fl_sim *s);

/* Paranoid mode: check the node's invariants after every input it is
 * driven through (slow; tests). Failures are counted and logged. */
FL_API FL_MUST_CHECK int fl_sim_set_paranoid(fl_sim *s, int on);

/* ---- Network model --------------------------------------------------------- */

/* Latency one way. CONSTANT: a; UNIFORM: uniform in [a, b]. */
FL_API FL_MUST_CHECK int fl_sim_set_latency(fl_sim *s, int model, uint64_t a_us, uint64_t b_us);
/* Region matrix, n x n one-way microseconds (row = from); sets MATRIX model. */
FL_API FL_MUST_CHECK int fl_sim_set_region_matrix(fl_sim *s, uint32_t n, const uint64_t *us);
/* Extra delay uniform in [0, jitter_us] per datagram (so it may reorder). */
FL_API FL_MUST_CHECK int fl_sim_set_jitter(fl_sim *s, uint64_t jitter_us);
/* Loss probability in parts per million. */
FL_API FL_MUST_CHECK int fl_sim_set_loss(fl_sim *s, uint32_t loss_ppm);
/* Default uplink of each new host: bits per second (0 = unlimited) and the
 * bytes its queue holds before dropping. */
FL_API FL_MUST_CHECK int fl_sim_set_bandwidth(fl_sim *s, uint64_t bps, uint64_t queue_bytes);
/* Lower the in-flight bound below FL_SIM_INFLIGHT_MAX (tests reach it). */
FL_API FL_MUST_CHECK int fl_sim_set_inflight_max(fl_sim *s, uint64_t n);
/* Between start_us and end_us hosts whose partition key falls under
 * fraction_ppm cannot exchange datagrams with the others. */
FL_API FL_MUST_CHECK int fl_sim_add_partition(fl_sim *s, uint64_t start_us, uint64_t end_us,
                                             uint32_t fraction_ppm);

/* ---- NAT boxes and hosts --------------------------------------------------- */

typedef struct fl_sim_nat_config {
  int32_t mapping;        /* FL_SIM_EI / AD / APD */
  int32_t filtering;      /* FL_SIM_EI / AD / APD */
  int32_t ports;          /* FL_SIM_PORT_* */
  int32_t hairpin;        /* 1 = hairpinning on */
  int32_t firewall;       /* 1 = no translation (external = internal), only filtering */
  int32_t inbound_refresh;/* 1 = inbound traffic also refreshes (RFC 4787 REQ-6 optional) */
  uint64_t timeout_us;    /* mapping lifetime since last refresh (REQ-5: >= 2 min) */
} fl_sim_nat_config;

/* A NAT box with its own public address. Returns its id (>= 0) or an error. */
FL_API FL_MUST_CHECK int fl_sim_nat_new(fl_sim *s, const fl_sim_nat_config *cfg);

/* A host of kind (FL_SIM_KIND_*) in region, behind nat (or -1 for a public
 * address), joining now. Returns its id (>= 0) or an error. */
FL_API FL_MUST_CHECK int fl_sim_host_new(fl_sim *s, int kind, int nat, uint32_t region);
/* Leave: graceful (the node is told and drained first) or a crash. */
FL_API FL_MUST_CHECK int fl_sim_host_leave(fl_sim *s, int host, int graceful);
/* Move the host to a fresh address (behind its NAT: a fresh NAT address). */
FL_API FL_MUST_CHECK int fl_sim_host_change_addr(fl_sim *s, int host);
/* The host's own address (private if NATed) and the local port of sock. */
FL_API FL_MUST_CHECK int fl_sim_host_addr(const fl_sim *s, int host, uint32_t sock, fl_addr *out);
/* The public address of the host's NAT (or its own if not NATed), port 0. */
FL_API FL_MUST_CHECK int fl_sim_host_public_ip(const fl_sim *s, int host, fl_addr *out);
/* 1 if the host is up, 0 if it left, error for a bad id. */
FL_API int fl_sim_host_live(const fl_sim *s, int host);
/* Bytes and datagrams a host has sent. */
FL_API FL_MUST_CHECK int fl_sim_host_sent(const fl_sim *s, int host, uint64_t *dgrams,
                                          uint64_t *bytes);
/* Current mappings in a NAT box. */
FL_API int fl_sim_nat_mappings(const fl_sim *s, int nat);

/* ---- Raw hosts (tests: datagrams sent and read by the caller) --------------- */

/* Queue a datagram from the host's socket 0 to `to`, sent at the current time. */
FL_API FL_MUST_CHECK int fl_sim_raw_send(fl_sim *s, int host, const fl_addr *to,
                                         const uint8_t *data, size_t len);
/* Pop the oldest received datagram: returns its length (>= 0) and sets *from,
 * FL_ERR_NOT_FOUND when the inbox is empty, FL_ERR_BUFFER if cap is short. */
FL_API FL_MUST_CHECK int fl_sim_raw_recv(fl_sim *s, int host, fl_addr *from, uint8_t *buf,
                                         size_t cap);

/* ---- Node kinds --------------------------------------------------------------- */

/* What a node is created with. A bootstrapper is public and persistent on
 * FL_SIM_BOOT_PORT; everyone else gets the bootstrappers made before it. */
#define FL_SIM_BOOT_PORT 49737u
#define FL_SIM_BOOT_MAX 16u
typedef struct fl_sim_node_init {
  uint8_t seed[32];
  int32_t bootstrapper;
  fl_addr self;               /* the host's own address, port 0 */
  int32_t public_host;        /* 1 = not behind a NAT or firewall */
  int32_t mode;               /* fl_sim_set_node_mode's value for public hosts */
  fl_addr boot[FL_SIM_BOOT_MAX];
  uint32_t nboot;
} fl_sim_node_init;

/* The calls the engine drives a node through (flock/node.h's five plus the
 * socket answers), and what a kind adds: creation, destruction, a graceful
 * close, the lookup workload, metrics, a text dump for inspect, and the
 * classification of its events. */
typedef struct fl_sim_node_ops {
  void *(*create)(fl_sim *s, int host, const fl_sim_node_init *init, uint64_t now_us);
  void (*destroy)(void *node);
  int (*handle_datagram)(void *node, uint64_t now_us, uint32_t sock, const fl_addr *from,
                         const uint8_t *data, size_t len);
  int (*poll_transmit)(void *node, fl_dgram *out, uint8_t *buf, size_t cap);
  uint64_t (*next_deadline)(const void *node);
  int (*handle_timeout)(void *node, uint64_t now_us);
  int (*poll_event)(void *node, fl_event *out);
  int (*socket_opened)(void *node, uint64_t now_us, uint32_t sock, const fl_addr *bound);
  int (*socket_failed)(void *node, uint64_t now_us, uint32_t sock, int err);
  /* Optional (NULL = not supported). */
  int (*close)(void *node, uint64_t now_us);
  int (*lookup)(void *node, uint64_t now_us, const uint8_t target[32], uint64_t *query_id);
  /* Routing-table fill (entries), memory in use, and datagrams, events or
   * requests the node dropped at its own queue limits, for metrics. */
  void (*metrics)(const void *node, uint64_t *table_fill, uint64_t *mem_bytes, uint64_t *drops);
  int (*dump)(const void *node, char *out, size_t cap);
  /* 1 = the event ends a query (id, ok, hops set). */
  int (*query_done)(const fl_event *ev, uint64_t *id, int *ok, uint32_t *hops);
  /* A name to log the event under (level 1), or NULL to log nothing. */
  const char *(*event_name)(const fl_event *ev);
  /* The node's invariants: 0 if they hold, else a positive rule number. */
  int (*check)(const void *node);
} fl_sim_node_ops;

/* Replace the ops of a kind (tests plug in their own nodes). */
FL_API FL_MUST_CHECK int fl_sim_set_kind_ops(fl_sim *s, int kind, const fl_sim_node_ops *ops);

/* ---- Churn and workloads (run inside C) --------------------------------------- */

/* NAT mix: a host joining through churn or fl_sim_spawn gets profile i with
 * probability weight_i / sum(weights). public = 1 means no NAT at all. */
FL_API FL_MUST_CHECK int fl_sim_add_nat_profile(fl_sim *s, uint32_t weight, int public_host,
                                                const fl_sim_nat_config *cfg);
/* Regions for joining hosts: region i with probability weight_i / sum. */
FL_API FL_MUST_CHECK int fl_sim_set_region_weights(fl_sim *s, uint32_t n, const uint32_t *w);

typedef struct fl_sim_churn_config {
  uint64_t start_us, end_us;     /* churn window */
  uint64_t arrival_mean_us;      /* Poisson joins: mean gap (0 = no joins) */
  int32_t session_dist;          /* FL_SIM_DIST_* for every host's session */
  int32_t _pad;
  uint64_t session_mean_us;      /* FIXED: the length; EXP: the mean; WEIBULL: the scale */
  double weibull_shape;
  uint32_t crash_ppm;            /* leaves that are crashes (the rest graceful) */
  uint32_t max_live;             /* joins pause while this many are up (0 = no cap) */
  uint64_t addr_change_mean_us;  /* per-host mean gap between address changes (0 = none) */
  int32_t churn_initial;         /* 1 = the initial hosts also get sessions */
  int32_t _pad2;
} fl_sim_churn_config;
FL_API FL_MUST_CHECK int fl_sim_set_churn(fl_sim *s, const fl_sim_churn_config *c);

/* n hosts of kind joining uniformly over [start_us, start_us + spread_us),
 * with the NAT mix and regions above. The first `bootstrap` of them are
 * public and serve as everyone's bootstrap list. */
FL_API FL_MUST_CHECK int fl_sim_spawn(fl_sim *s, int kind, uint32_t n, uint32_t bootstrap,
                                      uint64_t start_us, uint64_t spread_us);

/* count lookups toward random targets from random live hosts, spread evenly
 * over [start_us, start_us + spread_us). */
FL_API FL_MUST_CHECK int fl_sim_schedule_lookups(fl_sim *s, uint32_t count, uint64_t start_us,
                                                 uint64_t spread_us);
/* dht-rpc mode of public, non-bootstrap nodes: 0 adaptive (the reference's
 * default), 1 persistent, 2 ephemeral (FL_NODE_MODE_*). NATed nodes stay
 * adaptive, as they would be in the wild. */
FL_API FL_MUST_CHECK int fl_sim_set_node_mode(fl_sim *s, int mode);
/* A metrics sample every period_us (0 = none). */
FL_API FL_MUST_CHECK int fl_sim_set_metrics_period(fl_sim *s, uint64_t period_us);

/* Queries so far (started by the lookup workload), and one of them:
 * ok is -1 while pending, 0 failed, 1 succeeded; end_us is 0 while pending. */
FL_API uint32_t fl_sim_query_count(const fl_sim *s);
FL_API FL_MUST_CHECK int fl_sim_query_get(const fl_sim *s, uint32_t i, uint32_t *host,
                                          uint64_t *start_us, uint64_t *end_us, uint32_t *hops,
                                          int32_t *ok);

/* ---- The records workload (hosts of kind FL_SIM_KIND_HYPERDHT) --------------- */

/* Topics x announcers: 64 Ki announce slots; records-churn needs 3,000. */
#define FL_SIM_REC_SLOTS_MAX (64u << 10)
/* Announcers per topic: a lookup keeps their keys while it runs. */
#define FL_SIM_REC_ANNOUNCERS_MAX 16u
/* Workload operations over a run (announces, lookups, puts, gets, each
 * ~100 B of record): 4 Mi, as FL_SIM_LOOKUPS_MAX; set_records refuses a plan
 * past it, and operations past it during the run (announcer replacements)
 * are not started and counted in fl_sim_records_store.refused. */
#define FL_SIM_REC_OPS_MAX (4u << 20)

typedef struct fl_sim_records_config {
  uint32_t topics;              /* topics announced */
  uint32_t announcers;          /* per topic, random live hosts (<= ANNOUNCERS_MAX) */
  uint64_t announce_start_us;   /* announces spread evenly over [start, start + spread) */
  uint64_t announce_spread_us;
  uint64_t refresh_us;          /* re-announce interval (0 = announce once) */
  int32_t replace;              /* 1 = a departed announcer's slot goes to a new live host */
  uint32_t lookups;             /* lookups of random topics from random live hosts */
  uint64_t lookups_start_us;
  uint64_t lookups_spread_us;
  uint32_t mutables;            /* mutable values put (seq 1), each got once later */
  uint32_t immutables;          /* immutable values put, each got once later */
  uint64_t values_start_us;     /* puts spread evenly over [start, start + spread) */
  uint64_t values_spread_us;
  uint64_t get_delay_us;        /* a value is got this long after its put started */
  uint32_t value_bytes;         /* 1..FL_HYPERDHT_VALUE_MAX */
  uint32_t _pad;
} fl_sim_records_config;

/* Schedule the workload (once per simulation). FL_ERR_INVALID for a bad
 * config or a second call, FL_ERR_LIMIT past the limits above. */
FL_API FL_MUST_CHECK int fl_sim_set_records(fl_sim *s, const fl_sim_records_config *c);

enum {
  FL_SIM_REC_ANNOUNCE = 0, FL_SIM_REC_LOOKUP = 1, FL_SIM_REC_MUTABLE_PUT = 2,
  FL_SIM_REC_MUTABLE_GET = 3, FL_SIM_REC_IMMUTABLE_PUT = 4, FL_SIM_REC_IMMUTABLE_GET = 5,
  FL_SIM_REC_KINDS = 6
};

/* One workload operation. ok: -1 pending, 0 failed, 1 succeeded, where
 * success is: announce — its first round stored the record on >= 1 node
 * (end_us = that round's end); lookup — every announcer of the topic that
 * was live and had announced when the lookup started was found; put — >= 1
 * node acknowledged; get — the value came back intact (mutable: seq 1 and
 * a valid signature). code: the DONE code, or the start call's error. */
typedef struct fl_sim_records_op {
  int32_t kind, ok, code;
  uint32_t host, item;      /* item: slot (announce), topic (lookup), value index */
  uint32_t hops;            /* lookup: referrals of its query */
  uint32_t acked;           /* announce/put: nodes that stored it */
  uint32_t expected, found; /* lookup: live announcers, and how many were found */
  uint32_t extra;           /* lookup: peer replies naming no live announcer */
  uint64_t start_us, end_us;
  uint64_t all_us;          /* lookup: when the last expected announcer was found */
} fl_sim_records_op;

FL_API uint32_t fl_sim_records_count(const fl_sim *s);
FL_API FL_MUST_CHECK int fl_sim_records_get(const fl_sim *s, uint32_t i, fl_sim_records_op *out);

/* The records layer over the live hyperdht hosts, now. */
typedef struct fl_sim_records_store {
  uint64_t nodes;                   /* live hosts of kind HYPERDHT */
  uint64_t records, records_max;    /* peer records stored: sum, most on one node */
  uint64_t values, value_bytes;     /* mutable + immutable entries and their bytes */
  uint64_t mem_bytes, mem_max;      /* fl_hyperdht's allocations: sum, most on one node */
  uint64_t mem_base;                /* ...of which the empty layers' (at creation): sum */
  uint64_t announce_rounds, refreshes; /* ANNOUNCED events, and those after the first */
  uint64_t replacements;            /* slots handed to a new host after its announcer left */
  uint64_t refused;                 /* start calls that failed (counted, not retried) */
  uint64_t skipped_gets;            /* gets not run because their put had failed */
} fl_sim_records_store;

FL_API FL_MUST_CHECK int fl_sim_records_store_get(const fl_sim *s, fl_sim_records_store *out);

/* ---- Recorder ------------------------------------------------------------------ */

/* Levels: 0 = nodes, queries and metrics; 1 = + joins, leaves, NAT mappings;
 * 2 = + every datagram; 3 = + one traced host's inputs and outputs with bytes. */
FL_API FL_MUST_CHECK int fl_sim_record_open(fl_sim *s, const char *path, int verbosity);
FL_API FL_MUST_CHECK int fl_sim_record_meta(fl_sim *s, const char *key, const char *value);
/* Which host level 3 traces (default 0). */
FL_API FL_MUST_CHECK int fl_sim_record_trace_host(fl_sim *s, int host);
/* Commit what is batched (also done by run_until and free). */
FL_API FL_MUST_CHECK int fl_sim_record_flush(fl_sim *s);

/* Replay one host's recorded inputs (the io table of a verbosity-3 log of
 * that host) into a fresh node of the same kind and seed, and compare every
 * datagram it emits with the recorded outputs. Returns the number of
 * outputs that matched (>= 0), FL_ERR_PROTOCOL at the first difference,
 * FL_ERR_NOT_FOUND if the log holds no trace of that host. */
FL_API FL_MUST_CHECK int64_t fl_sim_trace_verify(const char *db_path, int host);

/* Text dump of a host's state (address, sockets, NAT, node's own dump). */
FL_API FL_MUST_CHECK int fl_sim_host_dump(const fl_sim *s, int host, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* FLOCK_SIM_H */
