/*
 * flock/node.h — fl_node, one Flock node: its sockets, the demultiplexing of
 * datagrams between the DHT and UDX, and the five sans-IO calls every driver
 * (io_posix, io_sim) runs the same loop over:
 *
 *   handle one input (fl_node_handle_datagram / fl_node_handle_timeout /
 *   an API call), then drain fl_node_poll_transmit until it returns 0, drain
 *   fl_node_poll_event until it returns 0, and re-arm the timer from
 *   fl_node_next_deadline.
 *
 * Sockets: the node never binds. It asks through FL_EVENT_SOCKET_OPEN events
 * (socket handle, requested local address; port 0 = any) and the driver
 * answers with fl_node_socket_opened (the bound address) or
 * fl_node_socket_failed. Handles are small integers chosen by the node.
 * Socket 0 is the server socket and socket 1 the client socket, as the
 * reference's dht-rpc keeps two; holepunching asks for more.
 *
 * Time: every call takes now_us (monotonic microseconds). A now_us earlier
 * than the last one seen is misuse: FL_ERR_INVALID, nothing changes.
 * An early or repeated fl_node_handle_timeout changes nothing.
 *
 * Memory: input is borrowed for the call only; bytes inside an fl_event stay
 * valid until the next call into the same node; datagrams are written into
 * the caller's buffer. Every queue and table is bounded (fl_node_config).
 *
 * Owned by the dht-rpc work (issue 5); layers above add event types in their
 * reserved ranges and fields at the end of the structs.
 *
 * How a driver uses it (io_posix, io_sim):
 *
 *   fl_node_config c; fl_node_config_default(&c);
 *   memcpy(c.seed, seed32, 32);           // OS entropy / scenario seed
 *   c.host = fl_addr_ipv4(127,0,0,1,0);   // bind address; c.port = first port
 *   c.bootstrap[0] = ...; c.bootstrap_len = 1;   // or fl_node_config_bootstrapper()
 *   c.mode = FL_NODE_MODE_PERSISTENT;     // default ADAPTIVE (the reference's)
 *   fl_node *n; fl_node_new(&c, now_us, &n);
 *   // drain events: two FL_EVENT_SOCKET_OPEN (sock 0 server, 1 client);
 *   // bind each, answer fl_node_socket_opened(n, now, sock, &bound) or
 *   // fl_node_socket_failed (the node then asks for the next port).
 *   // Once both are open the node bootstraps: FL_EVENT_DHT_READY.
 *   loop: handle_datagram / handle_timeout / an API call; drain
 *         poll_transmit (send g.len bytes of buf from socket g.sock to g.to);
 *         drain poll_event; sleep until next_deadline.
 *
 * Queries: fl_node_find_node -> FL_EVENT_DHT_QUERY_NODE x k (closest first)
 * then FL_EVENT_DHT_QUERY_DONE, all with the query id. fl_node_ping /
 * fl_node_request -> FL_EVENT_DHT_RESPONSE or FL_EVENT_DHT_REQUEST_FAILED.
 * With config.user_requests, user commands arrive as
 * FL_EVENT_DHT_USER_REQUEST and are answered with fl_node_reply(_to),
 * fl_node_reply_error or fl_node_relay.
 * Shutdown: fl_node_close (queries/requests end with FL_ERR_CLOSED, then
 * FL_EVENT_SOCKET_CLOSE per socket), drain, fl_node_free.
 * Counters: fl_node_stats_get(n, &st, sizeof st); invariants: fl_node_check.
 * Python: harness/flock/node.py (Node, config, events as objects).
 */
#ifndef FLOCK_NODE_H
#define FLOCK_NODE_H

#include <stdbool.h>

#include "flock/common.h"
#include "flock/crypto.h"
#include "flock/udx.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fl_node fl_node;

#define FL_NODE_SOCK_SERVER 0u
#define FL_NODE_SOCK_CLIENT 1u

/* The largest datagram the core emits; a driver's send buffers hold this much. */
#define FL_DGRAM_BYTES_MAX 2048u

/* One outgoing datagram: bytes were written into the caller's buffer. */
typedef struct fl_dgram {
  uint32_t sock;  /* which of the node's sockets sends it */
  fl_addr to;
  size_t len;     /* bytes written into the buffer passed to poll_transmit */
} fl_dgram;

/* Event types. Ranges: 1-99 node, 100-199 dht, 200-299 hyperdht,
 * 300-399 udx, 400-499 swarm. */
enum {
  FL_EVENT_NONE = 0,
  FL_EVENT_SOCKET_OPEN = 1,  /* sock, addr = requested local address */
  FL_EVENT_SOCKET_CLOSE = 2, /* sock */
  FL_EVENT_LOG = 3,          /* code = level (0 debug .. 3 error), data = text, no NUL */
  FL_EVENT_DHT_BASE = 100,
  /* The bootstrap finished (dht-rpc 'ready'). key = table id, code = 1 if
   * persistent. */
  FL_EVENT_DHT_READY = 100,
  /* The node turned persistent (key = its id, addr = its public address). */
  FL_EVENT_DHT_PERSISTENT = 101,
  /* The node turned ephemeral again (after a wake-up). */
  FL_EVENT_DHT_EPHEMERAL = 102,
  /* The NAT sampler's result changed: addr = public host and port (port 0 =
   * randomized), family 0 = unknown. */
  FL_EVENT_DHT_NAT_UPDATE = 103,
  /* A reply to an fl_node_ping / fl_node_request: id = request id, addr = who
   * answered, code = wire error (0 ok), key = responder id if flags has
   * FL_EVENT_F_ID, token if FL_EVENT_F_TOKEN, data = value, arg = rtt in us,
   * sock = the address it saw us as is in addr2. */
  FL_EVENT_DHT_RESPONSE = 104,
  /* An fl_node_ping / fl_node_request failed: id, code = FL_ERR_TIMEOUT or
   * FL_ERR_CLOSED. */
  FL_EVENT_DHT_REQUEST_FAILED = 105,
  /* A successful reply during a query started with fl_node_query: id = query
   * id, as FL_EVENT_DHT_RESPONSE otherwise. */
  FL_EVENT_DHT_QUERY_REPLY = 106,
  /* One of a finished query's closest nodes, closest first: id = query id,
   * addr, key = node id, arg = rank (0-based), token if FL_EVENT_F_TOKEN. */
  FL_EVENT_DHT_QUERY_NODE = 107,
  /* The query ended: id, code = 0 or FL_ERR_TIMEOUT (commit found nobody) /
   * FL_ERR_CLOSED (cancelled), arg = number of closest nodes, sock = hops
   * (referrals that led to the closest node; 1 = from our own table). */
  FL_EVENT_DHT_QUERY_DONE = 108,
  /* A user command arrived (internal flag clear; its token, if any, is
   * valid). Answer with fl_node_reply / fl_node_reply_error / fl_node_relay
   * using id as the handle, or ignore it. sock = socket it came on, addr =
   * sender, code = command, key = target if FL_EVENT_F_TARGET, data = value
   * (FL_EVENT_F_VALUE), FL_EVENT_F_TOKEN if it carried our token,
   * FL_EVENT_F_ID if the sender's id was valid (then addr2 holds nothing
   * new; the id is hash(addr)). */
  FL_EVENT_DHT_USER_REQUEST = 109,
  /* The node woke up from a sleep (a tick more than 15 s late). */
  FL_EVENT_DHT_WAKEUP = 110,
  /* Table changes, only with config.table_events: addr, key = id. */
  FL_EVENT_DHT_ADD_NODE = 111,
  FL_EVENT_DHT_REMOVE_NODE = 112,
  /* Network health changed (dht-rpc 'network-update', local only): code 0
   * online, 1 degraded (over half of the requests of 4 ticks in a row timed
   * out), 2 offline (2 busy ticks without a single response). */
  FL_EVENT_DHT_NETWORK_UPDATE = 113,
  FL_EVENT_HYPERDHT_BASE = 200,
  FL_EVENT_UDX_BASE = 300,
  FL_EVENT_SWARM_BASE = 400
};

/* One event. Which fields mean something depends on type (see its comment). */
typedef struct fl_event {
  uint32_t type;
  uint32_t sock;
  int32_t code;
  uint64_t id;            /* query, request, stream or connection id */
  fl_addr addr;
  uint8_t key[32];        /* node id, public key or target */
  const uint8_t *data;    /* lent: valid until the next call into the node */
  size_t len;
  uint32_t flags;         /* FL_EVENT_F_* */
  uint64_t arg;           /* a number whose meaning depends on type */
  fl_addr addr2;          /* a second address (e.g. how a responder saw us) */
  uint8_t token[32];      /* FL_EVENT_F_TOKEN */
} fl_event;

#define FL_EVENT_F_ID 0x01u
#define FL_EVENT_F_TOKEN 0x02u
#define FL_EVENT_F_TARGET 0x04u
#define FL_EVENT_F_VALUE 0x08u
#define FL_EVENT_F_INTERNAL 0x10u

/* ---- Configuration and lifetime -------------------------------------------- */

/* Limits (STYLE.md: every queue and table bounded; config may override). */
/* Routing-table pool. The reference allows 256 rows x 20, but only about
 * log2(network size) rows ever fill: 1024 covers a network of 2^40 nodes
 * with room for the partial rows. Full: refuse the newcomer (counted). */
#define FL_NODE_TABLE_MAX 1024u
/* Requests in flight (the reference's list is unbounded). 10 queries x 10
 * concurrency plus checks, hints and API calls fit in a few hundred; full:
 * refuse the new request (counted; queries treat it as a failed visit). */
#define FL_NODE_INFLIGHT_MAX 1024u
/* Concurrent iterative queries; full: refuse (FL_ERR_LIMIT, counted). */
#define FL_NODE_QUERIES_MAX 64u
/* Addresses a query remembers (pending, done or down). A k = 20 walk on a
 * large network sees a few hundred; full: new candidates are ignored. */
#define FL_NODE_QUERY_SEEN_MAX 512u
/* DELAYED_PING replies waiting for their delay; full: refuse the newest
 * (counted) so a flood of delayed pings costs a bounded amount. */
#define FL_NODE_DELAYED_MAX 256u
/* User requests waiting for the application's answer; full: evict the
 * oldest (counted): an application that never answers must not leak. */
#define FL_NODE_USER_REQUESTS_MAX 256u
/* Outgoing datagrams between two drains, and their bytes. A handle call
 * emits at most a few dozen; full: drop the newest (counted; UDP may drop). */
#define FL_NODE_TX_MAX 1024u
#define FL_NODE_TX_BYTES_MAX (256u * 1024u)
/* Events between two drains, and their lent bytes; full: drop the newest. */
#define FL_NODE_EVENTS_MAX 1024u
#define FL_NODE_EVENT_BYTES_MAX (256u * 1024u)
/* Bootstrap addresses kept from the config. */
#define FL_NODE_BOOTSTRAP_MAX 16u

/* Mode: the reference's adaptive default, or forced. */
#define FL_NODE_MODE_ADAPTIVE 0
#define FL_NODE_MODE_PERSISTENT 1   /* dht-rpc ephemeral: false */
#define FL_NODE_MODE_EPHEMERAL 2    /* dht-rpc ephemeral: true */

typedef struct fl_node_config {
  uint8_t seed[FL_DRBG_SEED_BYTES]; /* the node's DRBG seed (ids, tids, secrets) */
  fl_addr host;            /* bind address of both sockets (default 0.0.0.0) */
  uint16_t port;           /* first server port to try; 0 = any */
  uint16_t port_tries;     /* candidates port .. port+port_tries-1 (default 5) */
  bool any_port;           /* after the candidates, any port (default true) */
  int mode;                /* FL_NODE_MODE_* */
  bool firewalled;         /* assume firewalled until probed (default true) */
  bool quick_firewall;     /* PING_NAT test during bootstrap (default true) */
  bool send_down_hints;    /* default true */
  int32_t down_hints_per_tick; /* default 50; -1 = unlimited */
  bool table_events;       /* emit ADD_NODE/REMOVE_NODE (default false) */
  bool user_requests;      /* surface user commands as FL_EVENT_DHT_USER_REQUEST;
                              false (default) answers them UNKNOWN_COMMAND, as a
                              dht-rpc node without a request listener does */
  fl_addr public_addr;     /* family != 0: pre-seed the NAT sampler with it
                              (DHT.bootstrapper(port, host)) */
  fl_addr bootstrap[FL_NODE_BOOTSTRAP_MAX];
  uint32_t bootstrap_len;
  uint32_t concurrency;    /* query concurrency (default 10) */
  uint32_t max_window;     /* congestion window per slot (default 80) */
  uint32_t max_ping_delay_ms; /* default 10000 */
  uint32_t query_retries;  /* default 5 */
  uint32_t table_max, inflight_max, queries_max, query_seen_max, delayed_max;
  uint32_t user_requests_max, tx_max, tx_bytes_max, events_max, event_bytes_max;
  const fl_mem *mem;       /* NULL = malloc/free */
  fl_udx_config udx;       /* the node's UDX instance (fl_udx_config_default);
                              all zero = the defaults */
} fl_node_config;

/* Fill c with the reference's defaults and the limits above (seed zero). */
FL_API void fl_node_config_default(fl_node_config *c);
/* Make a DHT.bootstrapper(port, host) config: persistent, not firewalled,
 * fixed port (no other), no bootstrap list, NAT pre-seeded with host:port.
 * Returns 0 or FL_ERR_INVALID (port 0, host not IPv4 or 0.0.0.0). */
FL_API FL_MUST_CHECK int fl_node_config_bootstrapper(fl_node_config *c, const fl_addr *host,
                                                     uint16_t port);
FL_API size_t fl_node_config_size(void);

/* Create a node. It queues FL_EVENT_SOCKET_OPEN for sockets 0 and 1 at once.
 * Returns 0, FL_ERR_INVALID (bad config), FL_ERR_NOMEM. *out NULL on error. */
FL_API FL_MUST_CHECK int fl_node_new(const fl_node_config *c, uint64_t now_us, fl_node **out);
/* Free a node (NULL is fine). Its pending requests are dropped silently. */
FL_API void fl_node_free(fl_node *n);

/* Stop the node (dht-rpc destroy()): every query ends (QUERY_DONE with
 * FL_ERR_CLOSED), every request fails (REQUEST_FAILED, FL_ERR_CLOSED),
 * pending DELAYED_PING replies are dropped, timers stop (next_deadline is
 * FL_TIME_NONE) and FL_EVENT_SOCKET_CLOSE asks the driver to close each
 * open socket. Datagrams still arriving are ignored (drop_closed); DHT
 * calls return FL_ERR_CLOSED. Drain, then fl_node_free. 0, FL_ERR_INVALID,
 * or FL_ERR_CLOSED if already closed. */
FL_API FL_MUST_CHECK int fl_node_close(fl_node *n, uint64_t now_us);

/* ---- Node state -------------------------------------------------------------- */

/* The routing-table id into out; returns 1 if the node is persistent (the id
 * goes on the wire), 0 if ephemeral (out is the random or provisional id). */
FL_API int fl_node_id(const fl_node *n, uint8_t out[32]);
/* Flags of the node's state. */
#define FL_NODE_S_BOUND 0x01u
#define FL_NODE_S_BOOTSTRAPPED 0x02u
#define FL_NODE_S_PERSISTENT 0x04u
#define FL_NODE_S_FIREWALLED 0x08u
FL_API uint32_t fl_node_state(const fl_node *n);
/* The bound address of a socket (0 or FL_ERR_INVALID/FL_ERR_STATE). */
FL_API FL_MUST_CHECK int fl_node_local_addr(const fl_node *n, uint32_t sock, fl_addr *out);
/* The NAT sampler's view of our public address: 1 known (port 0 =
 * randomized), 0 unknown. */
FL_API int fl_node_public_addr(const fl_node *n, fl_addr *out);
/* Copy up to cap table nodes (addresses, and ids if ids != NULL), in table
 * row order; returns how many. */
FL_API size_t fl_node_table(const fl_node *n, fl_addr *addrs, uint8_t (*ids)[32], size_t cap);

/* Walk the node's invariants (table rows sorted and bounded, the LRU and
 * the table agree, in-flight and congestion bookkeeping, queue bounds).
 * 0 if all hold, else a positive rule number; a simulator calls it after
 * every step. FL_ERR_INVALID for a NULL node. */
FL_API int fl_node_check(const fl_node *n);

/* Counters, current sizes and high-water marks of every bounded thing.
 * rx/tx: datagrams in and out; drop_*: datagrams dropped without an answer
 * (short = under 2 bytes, port0 = source port 0, decode = malformed,
 * unknown_type = neither dht-rpc nor UDX, udx = UDX-looking packets for
 * no live stream (the reference drops them too), unmatched_response = tid not in flight, bad_token =
 * answered with error 2 only, malformed_value = PING_NAT/DOWN_HINT/
 * DELAYED_PING values too short or port 0, no_target = FIND_NODE without
 * one, delay_too_long = DELAYED_PING over max_ping_delay_ms, invalid_id =
 * an id that is not hash(source), handled as id-less). *_active/_len =
 * now, *_hw = high-water mark, *_dropped = refused at the limit. */
typedef struct fl_node_stats {
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
  /* Per internal command (PING, PING_NAT, FIND_NODE, DOWN_HINT, DELAYED_PING),
   * as dht-rpc's stats.commands: tx = requests we sent, rx = responses to
   * them; cmd_in (below) = requests we received. */
  uint64_t cmd_tx[5], cmd_rx[5];
  uint64_t down_hints_sent, down_hints_limited, down_hints_rx;
  uint64_t unknown_command, netchecks, netcheck_busy, ticks, wakeups;
  uint64_t cmd_in[5];
  uint64_t drop_closed;
  uint64_t tx_queue_len, tx_queue_hw, event_queue_len, event_queue_hw;
  uint64_t api_misuse;
  /* UDX on the node's sockets: rx_udx = datagrams a live stream consumed
   * (rx_datagrams counts them too), tx_udx = datagrams UDX sent (also in
   * tx_datagrams), drop_udx_decode = malformed packets for a live stream
   * (dropped, the stream unchanged), udx = the instance's own counters. */
  uint64_t rx_udx, tx_udx, drop_udx_decode;
  fl_udx_stats udx;
} fl_node_stats;

/* Fill *out (size = sizeof *out, for ctypes to check). 0 or FL_ERR_INVALID. */
FL_API FL_MUST_CHECK int fl_node_stats_get(const fl_node *n, fl_node_stats *out, size_t size);
FL_API size_t fl_node_stats_size(void);

/* ---- DHT calls (each followed by the usual drain) ---------------------------- */

/* Iterative FIND_NODE toward target: events QUERY_NODE (closest k, closest
 * first) then QUERY_DONE, all with *qid. 0, FL_ERR_INVALID, FL_ERR_STATE
 * (not bound yet), FL_ERR_LIMIT (too many queries). */
FL_API FL_MUST_CHECK int fl_node_find_node(fl_node *n, uint64_t now_us, const uint8_t target[32],
                                           uint64_t *qid);
/* Iterative user-command query (dht-rpc query({target, command, value})):
 * QUERY_REPLY per successful reply, then QUERY_NODE and QUERY_DONE. With
 * commit, each closest node is sent the command again with its token
 * (dht-rpc commit: true) before QUERY_DONE. */
FL_API FL_MUST_CHECK int fl_node_query(fl_node *n, uint64_t now_us, const uint8_t target[32],
                                       uint64_t command, const uint8_t *value, size_t len,
                                       bool commit, uint64_t *qid);
/* Stop a query: QUERY_DONE with FL_ERR_CLOSED. 0 or FL_ERR_NOT_FOUND. */
FL_API FL_MUST_CHECK int fl_node_query_cancel(fl_node *n, uint64_t now_us, uint64_t qid);
/* PING addr (3 retries): RESPONSE or REQUEST_FAILED with *rid. */
FL_API FL_MUST_CHECK int fl_node_ping(fl_node *n, uint64_t now_us, const fl_addr *to,
                                      uint64_t *rid);
/* One request: internal or user command, optional target/token/value
 * (value NULL = no value field; len 0 with non-NULL value = empty value).
 * retries < 0 = the default 3. */
FL_API FL_MUST_CHECK int fl_node_request(fl_node *n, uint64_t now_us, const fl_addr *to,
                                         bool internal, uint64_t command,
                                         const uint8_t *target, const uint8_t *token,
                                         const uint8_t *value, size_t len, int retries,
                                         uint64_t *rid);
/* Answer a FL_EVENT_DHT_USER_REQUEST (handle = its id). reply: value (NULL =
 * none), token and closer nodes included unless the flags say otherwise.
 * error: code > 0, closer nodes unless FL_NODE_REPLY_NO_CLOSER, token only
 * with FL_NODE_REPLY_TOKEN. relay: forward as a one-shot request to `to`.
 * Each returns 0, FL_ERR_NOT_FOUND (unknown or already answered handle) or
 * FL_ERR_INVALID. */
#define FL_NODE_REPLY_NO_TOKEN 0x01u
#define FL_NODE_REPLY_NO_CLOSER 0x02u
#define FL_NODE_REPLY_TOKEN 0x04u
FL_API FL_MUST_CHECK int fl_node_reply(fl_node *n, uint64_t now_us, uint64_t handle,
                                       const uint8_t *value, size_t len, uint32_t flags);
FL_API FL_MUST_CHECK int fl_node_reply_error(fl_node *n, uint64_t now_us, uint64_t handle,
                                             uint64_t code, uint32_t flags);
/* fl_node_reply with another destination (dht-rpc reply(value, {to})): the
 * response goes to `to` and its `to` field names it, e.g. to answer the
 * original requester of a relayed request. */
FL_API FL_MUST_CHECK int fl_node_reply_to(fl_node *n, uint64_t now_us, uint64_t handle,
                                          const uint8_t *value, size_t len, uint32_t flags,
                                          const fl_addr *to);
FL_API FL_MUST_CHECK int fl_node_relay(fl_node *n, uint64_t now_us, uint64_t handle,
                                       const uint8_t *value, size_t len, const fl_addr *to);
/* dht-rpc addNode({host, port}). 0, FL_ERR_INVALID, FL_ERR_LIMIT. */
FL_API FL_MUST_CHECK int fl_node_add_node(fl_node *n, uint64_t now_us, const fl_addr *addr);
/* Run a refresh (background FIND_NODE) now. */
FL_API FL_MUST_CHECK int fl_node_refresh(fl_node *n, uint64_t now_us);

/* The datagram demultiplexer's verdict on a first byte: 1 dht-rpc, 2 UDX
 * (everything else of at least the UDX header size), 0 garbage. */
#define FL_NODE_DGRAM_DHT 1
#define FL_NODE_DGRAM_UDX 2
FL_API int fl_node_classify(const uint8_t *data, size_t len);

/* ---- UDX streams on the node's sockets ----------------------------------------
 *
 * The node owns one fl_udx (configured by config.udx) and demultiplexes as
 * the reference does: 0x03/0x13 go to the DHT, UDX packets (0xff 0x01, 20+
 * bytes) to the stream whose id they carry; a UDX packet for no live stream
 * is dropped (drop_udx). Streams send from the node's sockets (usually
 * FL_NODE_SOCK_SERVER, the port peers know), so one port carries both.
 * UDX events come out of fl_node_poll_event as fl_event with the fl_udx_event
 * types (FL_UDX_EVENT_*, 301-308): id = local stream id, sock, code, addr,
 * data/len as in fl_udx_event. Stream calls (write, read, end, destroy,
 * messages, relay) go straight to fl_node_udx(n) with the same now_us rules
 * (fl_udx keeps its own clock: a call into it with a time later than the
 * node's next input makes that input's UDX part misuse, counted in
 * api_misuse and dropped); the driver's usual drain after the call sends
 * what they queued.
 * After fl_node_close the streams stop with the node: no more UDX output,
 * events or timers (the peers see a vanished peer). */

/* The node's UDX instance, made on first use (a node that never opens a
 * stream does not pay for its tables; until then every UDX packet counts
 * in drop_udx). NULL only for n NULL or a failed allocation. */
FL_API fl_udx *fl_node_udx(fl_node *n);
/* Open a stream with a fresh id drawn from the node's DRBG (as hyperdht
 * does). 0 with *id set, FL_ERR_INVALID, FL_ERR_CLOSED, FL_ERR_LIMIT. */
FL_API FL_MUST_CHECK int fl_node_udx_stream_open(fl_node *n, uint64_t now_us, uint32_t *id);
/* (Both also FL_ERR_NOMEM if the instance cannot be made.)
 * Connect stream id to remote_id at `to` through the node's socket sock
 * (to NULL = learn the peer from its first packet, on any socket). 0,
 * FL_ERR_INVALID, FL_ERR_CLOSED, FL_ERR_STATE (socket not open or stream
 * already connected), FL_ERR_NOT_FOUND (no such stream). */
FL_API FL_MUST_CHECK int fl_node_udx_stream_connect(fl_node *n, uint64_t now_us, uint32_t id,
                                                    uint32_t remote_id, uint32_t sock,
                                                    const fl_addr *to);

/* Feed one received datagram. Returns 0 (also for dropped garbage, which is
 * counted), or FL_ERR_INVALID for misuse (unknown sock, time backwards). */
FL_API FL_MUST_CHECK int fl_node_handle_datagram(fl_node *n, uint64_t now_us, uint32_t sock,
                                                 const fl_addr *from, const uint8_t *data,
                                                 size_t len);

/* Write the next outgoing datagram into buf. Returns 1 (one out, *out set),
 * 0 (none), or FL_ERR_BUFFER if cap < FL_DGRAM_BYTES_MAX. DHT and UDX
 * datagrams take turns when both are ready (see node.c). */
FL_API FL_MUST_CHECK int fl_node_poll_transmit(fl_node *n, fl_dgram *out, uint8_t *buf,
                                               size_t cap);

/* The earliest time handle_timeout has work to do, or FL_TIME_NONE. Cheap. */
FL_API uint64_t fl_node_next_deadline(const fl_node *n);

/* Run timers due at now_us. Returns 0 or FL_ERR_INVALID (time backwards). */
FL_API FL_MUST_CHECK int fl_node_handle_timeout(fl_node *n, uint64_t now_us);

/* Take the next event. Returns 1 (one out), 0 (none). */
FL_API FL_MUST_CHECK int fl_node_poll_event(fl_node *n, fl_event *out);

/* The driver's answers to FL_EVENT_SOCKET_OPEN. */
FL_API FL_MUST_CHECK int fl_node_socket_opened(fl_node *n, uint64_t now_us, uint32_t sock,
                                               const fl_addr *bound);
FL_API FL_MUST_CHECK int fl_node_socket_failed(fl_node *n, uint64_t now_us, uint32_t sock,
                                               int err);

#ifdef __cplusplus
}
#endif
#endif /* FLOCK_NODE_H */
