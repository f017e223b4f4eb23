/*
 * dht/dht.h — the dht-rpc node state machine (spec/dht-rpc.md; the
 * reference's dht-rpc@6.27.0 index.js, lib/io.js, lib/query.js,
 * kademlia-routing-table, nat-sampler). Internal to libflock: fl_node
 * (core/node) owns one fl_dht and exposes it through flock/node.h.
 *
 * Sans-IO: every entry takes now_us; datagrams leave through the txq and
 * events through the evq, both owned by the caller; randomness comes from
 * the fl_drbg in the struct. Sockets are the node's handles 0 (server) and
 * 1 (client).
 */
#ifndef FL_DHT_DHT_H
#define FL_DHT_DHT_H

#include <stdbool.h>

#include "dht/dht_fifo.h"
#include "dht/dht_message.h"
#include "flock/crypto.h"
#include "flock/node.h"

/* ---- Reference timing constants (dht-rpc index.js, lib/io.js) ------------- */
#define FL_DHT_TICK_US 5000000ull          /* TICK_INTERVAL */
#define FL_DHT_SLEEP_US 15000000ull        /* 3 ticks without a tick = we slept */
#define FL_DHT_DRAIN_US 750000ull          /* congestion drain + token rotation */
#define FL_DHT_REQ_TIMEOUT_US 1000000ull   /* per attempt */
#define FL_DHT_STABLE_TICKS 240u           /* ~20 min before the first network check */
#define FL_DHT_MORE_STABLE_TICKS 720u
#define FL_DHT_REFRESH_TICKS 60u
#define FL_DHT_RECENT_NODE 12u
#define FL_DHT_OLD_NODE 360u
#define FL_DHT_ROTATE_DRAINS 10u
#define FL_DHT_ROWS 256u
#define FL_DHT_NAT_RING 16u

#define FL_DHT_NO_IDX UINT32_MAX

/* A routing-table entry; pooled, linked into the LRU by index. */
typedef struct fl_dht_peer {
  uint8_t id[FL_DHT_ID_BYTES];
  fl_addr addr;
  fl_addr to;           /* how it last saw us (a NAT sample) */
  uint32_t sampled, added, pinged, seen, down_hints; /* in ticks */
  uint32_t prev, next;  /* LRU: prev = older, next = newer */
  uint16_t row;
  bool used, has_to;
} fl_dht_peer;

typedef struct fl_dht_row {
  uint32_t count;
  uint32_t idx[FL_DHT_K]; /* pool indices sorted by id bytes */
} fl_dht_row;

/* nat-sampler@1.0.1: the last 16 samples (32 entries: host+port, host). */
typedef struct fl_dht_nat_entry {
  uint8_t ip[4];
  uint16_t port;
  uint32_t hits;
} fl_dht_nat_entry;

typedef struct fl_dht_nat {
  fl_dht_nat_entry pool[2 * FL_DHT_NAT_RING + 4]; /* entries referenced by the ring */
  uint8_t ring[2 * FL_DHT_NAT_RING];               /* pool index per sample slot */
  uint32_t samples_len, top, size, threshold;
  int32_t a, b;           /* leading entries (pool index) or -1 */
  bool has_host;
  uint8_t host[4];
  uint16_t port;
} fl_dht_nat;

/* Request kinds: who gets the response. */
enum {
  FL_DHT_RK_API = 1,     /* fl_node_ping/request: event to the caller */
  FL_DHT_RK_QUERY,       /* a query visit */
  FL_DHT_RK_COMMIT,      /* a query commit */
  FL_DHT_RK_CHECK,       /* liveness check of a table node */
  FL_DHT_RK_REPING,      /* full-row re-ping of the oldest */
  FL_DHT_RK_DOWN_HINT,
  FL_DHT_RK_BOOT_NAT,    /* quick firewall PING_NAT during bootstrap */
  FL_DHT_RK_PROBE        /* firewall probe PING_NAT */
};

typedef struct fl_dht_req {
  bool used, queued, slow, has_to_id;
  uint8_t kind, sock, sent, retries;
  uint16_t tid;
  uint16_t len;            /* encoded bytes */
  uint32_t gen;            /* bumped on every reuse of the slot */
  uint8_t internal;
  uint64_t command;
  fl_addr to;
  uint8_t to_id[FL_DHT_ID_BYTES];
  uint64_t deadline_us;    /* FL_TIME_NONE while queued */
  uint64_t timeout_us;
  uint64_t sent_us;        /* first send, for rtt */
  uint32_t owner, owner_gen, aux, aux2;
  uint64_t api_id;
  fl_addr aux_addr;        /* re-ping: the newcomer waiting for the slot */
  uint8_t aux_id[FL_DHT_ID_BYTES];
  uint8_t *buf;            /* inline unless len > sizeof inline_buf */
  uint8_t inline_buf[128];
} fl_dht_req;

typedef struct fl_dht_query fl_dht_query;

typedef struct fl_dht_delayed {
  uint64_t due_us;
  uint16_t tid;
  uint8_t sock;
  fl_addr from;
} fl_dht_delayed;

typedef struct fl_dht_user_req {
  uint64_t handle;         /* 0 = free */
  uint64_t created_us;
  uint16_t tid;
  uint8_t sock;
  bool internal, has_target;
  uint64_t command;
  fl_addr from;
  uint8_t target[FL_DHT_ID_BYTES];
} fl_dht_user_req;

typedef struct fl_dht_stats_i {
  uint64_t rx_datagrams, rx_requests, rx_responses, tx_datagrams, tx_requests, tx_replies;
  uint64_t drop_short, drop_port0, drop_decode, drop_unknown_type, drop_udx;
  uint64_t drop_unmatched_response, drop_bad_token, drop_malformed_value, drop_no_target;
  uint64_t drop_delay_too_long, drop_invalid_id;
  uint64_t tx_queue_dropped, event_queue_dropped;
  uint64_t requests_total, requests_active, requests_active_hw, responses, timeouts, retries;
  uint64_t inflight_dropped, congestion_queued, congestion_hw;
  uint64_t queries_total, queries_active, queries_active_hw, queries_dropped, query_seen_dropped;
  uint64_t table_size, table_hw, table_dropped, table_added, table_removed;
  uint64_t delayed_active, delayed_hw, delayed_dropped;
  uint64_t user_active, user_hw, user_dropped;
  uint64_t cmd_tx[5], cmd_rx[5];
  uint64_t down_hints_sent, down_hints_limited, down_hints_rx;
  uint64_t unknown_command, netchecks, netcheck_busy, ticks, wakeups;
  uint64_t cmd_in[5];
  uint64_t drop_closed;
} fl_dht_stats_i;

/* lib/health.js: the last 4 ticks' totals. mark: 0 unset, 1 healthy,
 * 2 degraded (an offline tick is marked healthy, as the reference does). */
typedef struct fl_dht_health_tick {
  uint64_t responses, timeouts;
  uint8_t mark;
} fl_dht_health_tick;

typedef struct fl_dht_health {
  fl_dht_health_tick w[4];
  uint32_t head, len;
  int32_t offline_ticks, degraded_ticks, healthy_ticks;
  bool online, degraded;
} fl_dht_health;

typedef struct fl_dht {
  const fl_mem *mem;
  fl_drbg drbg;
  fl_node_config cfg;
  fl_dht_fifo *txq, *evq;

  uint8_t table_id[FL_DHT_ID_BYTES];
  fl_dht_row rows[FL_DHT_ROWS];
  fl_dht_peer *peers;
  uint32_t peers_max, free_head, lru_old, lru_new, table_size;

  fl_dht_nat nat;
  uint32_t bootstrap_samples_len;
  fl_addr bootstrap_samples[FL_NODE_BOOTSTRAP_MAX];

  fl_dht_req *reqs;
  uint32_t *active;        /* indices of used reqs */
  uint32_t *free_reqs;     /* stack of unused req indices */
  uint32_t active_len, reqs_max, free_len, req_gen;
  uint32_t *pending;       /* congestion FIFO of req indices */
  uint32_t pending_head, pending_len;
  uint32_t win[4], win_i, win_total;
  uint16_t tid_next;
  uint64_t api_next;
  bool has_secrets;
  uint8_t secrets[2][FL_DHT_ID_BYTES];
  uint32_t rotate;

  fl_dht_query **queries;
  uint32_t queries_max;
  uint64_t query_next;

  fl_dht_delayed *delayed;
  uint32_t delayed_len, delayed_max;
  fl_dht_user_req *user;
  uint32_t user_max;
  uint64_t user_next;

  /* sockets (the node tells us what bound) */
  bool bound;
  uint16_t server_port, client_port;
  fl_addr bind_host;

  /* node state (index.js) */
  bool bootstrapped, ephemeral, firewalled, adaptive, force_persistent, quick_firewall;
  bool destroyed;
  uint32_t tick, repinging, checks, down_hints_sent;
  int32_t refresh_ticks, stable_ticks;
  bool has_last_host;
  uint8_t last_host[4];
  uint64_t last_tick_us, next_tick_us, next_drain_us, last_now_us;

  /* bootstrap (index.js _bootstrap) */
  uint8_t boot_round;      /* 0, 1 */
  bool boot_running, boot_first, boot_test_nat;
  uint64_t boot_query;

  /* network check (index.js _updateNetworkState, _checkIfFirewalled) */
  bool nc_running, nc_only_firewall, nc_from_boot;
  uint8_t nc_host[4];
  uint16_t nc_port;
  uint32_t nc_probed, nc_missing, nc_hosts_len;
  uint8_t nc_hosts[16][4];
  uint32_t nc_pong_len;
  fl_addr nc_pong_from[16], nc_pong_to[16];

  fl_dht_health h;
  fl_dht_stats_i st;
} fl_dht;

/* ---- dht.c: lifecycle, datagrams, timers ---------------------------------- */
int fl_dht_init(fl_dht *d, const fl_node_config *cfg, fl_dht_fifo *txq, fl_dht_fifo *evq,
                uint64_t now_us);
void fl_dht_deinit(fl_dht *d);
/* Both sockets are bound: start the timers and the bootstrap. */
void fl_dht_start(fl_dht *d, uint64_t now_us, uint16_t server_port, uint16_t client_port);
void fl_dht_handle_message(fl_dht *d, uint64_t now_us, uint32_t sock, const fl_addr *from,
                           const uint8_t *p, size_t len);
void fl_dht_handle_timeout(fl_dht *d, uint64_t now_us);
void fl_dht_close(fl_dht *d, uint64_t now_us);
uint64_t fl_dht_next_deadline(const fl_dht *d);

/* ---- output helpers (dht.c) ----------------------------------------------- */
fl_event *fl_dht_event(fl_dht *d, uint32_t type, size_t data_len, uint8_t **data);
bool fl_dht_send_msg(fl_dht *d, uint32_t sock, const fl_addr *to, const fl_dht_msg *m);
bool fl_dht_send_raw(fl_dht *d, uint32_t sock, const fl_addr *to, const uint8_t *p, size_t len);
void fl_dht_reply(fl_dht *d, uint32_t sock, const fl_addr *to, uint16_t tid, uint64_t error,
                  const uint8_t *value, size_t value_len, bool value_flag, bool token,
                  const uint8_t *target);

/* ---- dht_table.c ------------------------------------------------------------ */
uint32_t fl_dht_row_of(const uint8_t own[FL_DHT_ID_BYTES], const uint8_t id[FL_DHT_ID_BYTES]);
int fl_dht_xor_cmp(const uint8_t target[32], const uint8_t a[32], const uint8_t b[32]);
uint32_t fl_dht_table_get(const fl_dht *d, const uint8_t id[FL_DHT_ID_BYTES]);
/* 1 added, 0 row full (the caller may re-ping), FL_ERR_LIMIT pool full. */
int fl_dht_table_insert(fl_dht *d, uint32_t idx);
void fl_dht_table_remove(fl_dht *d, uint32_t idx);
uint32_t fl_dht_peer_alloc(fl_dht *d);
void fl_dht_peer_free(fl_dht *d, uint32_t idx);
void fl_dht_lru_touch(fl_dht *d, uint32_t idx);
/* The up-to-k table nodes XOR-closest to target (exact), closest first. */
size_t fl_dht_table_closest(const fl_dht *d, const uint8_t target[32], uint32_t *out, size_t k);
void fl_dht_table_rebuild(fl_dht *d, const uint8_t new_id[FL_DHT_ID_BYTES]);
uint32_t fl_dht_table_random(fl_dht *d);

/* ---- dht_nat.c ------------------------------------------------------------- */
void fl_dht_nat_init(fl_dht_nat *n);
void fl_dht_nat_add(fl_dht_nat *n, const uint8_t ip[4], uint16_t port);

/* ---- dht_io.c: the request engine ----------------------------------------- */
/* Create and send (or queue) a request. Returns the req index or
 * FL_DHT_NO_IDX when the in-flight table is full (counted). */
uint32_t fl_dht_request(fl_dht *d, uint64_t now_us, uint8_t kind, const fl_addr *to,
                        const uint8_t *to_id, const uint8_t *token, bool internal,
                        uint64_t command, const uint8_t *target, const uint8_t *value,
                        size_t value_len, bool value_flag, bool force);
/* Send (or queue behind the congestion window) a request made above, after
 * the caller has set its retries and timeout. */
void fl_dht_req_start(fl_dht *d, uint64_t now_us, uint32_t idx, bool force);
void fl_dht_req_finish(fl_dht *d, uint32_t idx);
void fl_dht_io_response(fl_dht *d, uint64_t now_us, uint32_t sock, const fl_addr *from,
                        fl_dht_msg *m);
void fl_dht_io_timeouts(fl_dht *d, uint64_t now_us);
void fl_dht_io_drain(fl_dht *d, uint64_t now_us);
void fl_dht_token(fl_dht *d, const fl_addr *addr, int which, uint8_t out[32]);
uint64_t fl_dht_io_deadline(const fl_dht *d);

/* ---- dht_check.c: 0, or the number of the first broken invariant -------------- */
int fl_dht_check(const fl_dht *d);

/* ---- dht_health.c ------------------------------------------------------------ */
void fl_dht_health_reset(fl_dht *d);
void fl_dht_health_update(fl_dht *d);

/* ---- dht_query.c ------------------------------------------------------------ */
#define FL_DHT_QF_EVENTS 0x01u   /* emit reply/closest/done events */
#define FL_DHT_QF_COMMIT 0x02u
#define FL_DHT_QF_BACKGROUND 0x04u
#define FL_DHT_QF_BOOT 0x08u
/* A custom commit (dht-rpc's commit function), for the layers above (the
 * hyperdht announce signs a value per closest node). Called once per
 * closest replier when the walk ends, closest first; token is NULL if the
 * reply carried none. It may call fl_dht_query_commit_request (at most
 * once) and nothing else of the dht. Returns 1 if it sent a request (the
 * query waits for it), 0 for a commit that succeeded without one, < 0 for
 * a failed one. The query succeeds if at least one commit does. */
typedef int (*fl_dht_commit_fn)(void *ctx, fl_dht *d, uint64_t now_us, uint64_t qid,
                                const fl_addr *addr, const uint8_t id[32], const uint8_t *token);
/* Send a commit request tied to query qid (3 retries, from the usual
 * socket). 0, FL_ERR_NOT_FOUND (no such query committing), FL_ERR_LIMIT. */
int fl_dht_query_commit_request(fl_dht *d, uint64_t now_us, uint64_t qid, const fl_addr *to,
                                const uint8_t *token, bool internal, uint64_t command,
                                const uint8_t *target, const uint8_t *value, size_t value_len);
/* Options of a query beyond the common ones (dht-rpc query opts). */
typedef struct fl_dht_query_opts {
  const fl_addr *nodes;   /* seeds tried first (opts.nodes / closestNodes) */
  size_t nodes_len;       /* at most FL_DHT_K are used */
  fl_dht_commit_fn commit; /* custom commit (sets FL_DHT_QF_COMMIT) */
  void *commit_ctx;
} fl_dht_query_opts;
int fl_dht_query_start_opts(fl_dht *d, uint64_t now_us, const uint8_t target[32], bool internal,
                            uint64_t command, const uint8_t *value, size_t value_len,
                            uint32_t flags, const fl_dht_query_opts *opts, uint64_t *qid);
int fl_dht_query_start(fl_dht *d, uint64_t now_us, const uint8_t target[32], bool internal,
                       uint64_t command, const uint8_t *value, size_t value_len, uint32_t flags,
                       uint64_t *qid);
void fl_dht_query_on_response(fl_dht *d, uint64_t now_us, fl_dht_req *r, const fl_addr *from,
                              const uint8_t *from_id, const fl_dht_msg *m);
void fl_dht_query_on_error(fl_dht *d, uint64_t now_us, fl_dht_req *r, bool timeout);
void fl_dht_query_on_cycle(fl_dht *d, uint64_t now_us, fl_dht_req *r);
void fl_dht_query_free_all(fl_dht *d);
int fl_dht_query_cancel(fl_dht *d, uint64_t now_us, uint64_t qid);
uint64_t fl_dht_query_id(const fl_dht_query *q);

/* ---- dht.c callbacks from the engine ----------------------------------------- */
void fl_dht_on_response(fl_dht *d, uint64_t now_us, fl_dht_req *r, uint32_t sock,
                        const fl_addr *from, const uint8_t *from_id, const fl_dht_msg *m);
void fl_dht_on_error(fl_dht *d, uint64_t now_us, fl_dht_req *r, int err);
void fl_dht_on_query_done(fl_dht *d, uint64_t now_us, uint64_t qid, uint32_t flags, int result);
void fl_dht_on_query_reply(fl_dht *d, uint64_t now_us, uint64_t qid, uint32_t flags,
                           const fl_addr *from);
void fl_dht_refresh(fl_dht *d, uint64_t now_us);
void fl_dht_nat_sample(fl_dht *d, const fl_addr *to);
void fl_dht_remove_peer(fl_dht *d, uint32_t idx);
int fl_dht_add_peer(fl_dht *d, uint64_t now_us, const fl_addr *addr, const uint8_t *id,
                    const fl_addr *to);
void fl_dht_liveness_check(fl_dht *d, uint64_t now_us, uint32_t idx);
void fl_dht_delayed_run(fl_dht *d, uint64_t now_us);
fl_dht_user_req *fl_dht_user_take(fl_dht *d, uint64_t handle);
/* dht_tick.c */
void fl_dht_boot_nat_ok(fl_dht *d, uint64_t now_us, const fl_dht_req *r);
void fl_dht_probe_done(fl_dht *d, uint64_t now_us, const fl_dht_req *r, const fl_addr *from,
                       const fl_addr *to, bool ok);
void fl_dht_probe_saw(fl_dht *d, const fl_addr *from);
void fl_dht_background_query(fl_dht *d, uint64_t now_us, const uint8_t target[32], uint32_t extra);

#endif
