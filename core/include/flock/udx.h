/*
 * flock/udx.h — UDX: reliable, ordered, congestion-controlled byte streams
 * and unreliable messages over UDP datagrams, wire-compatible with libudx /
 * udx-native (spec/udx.md).
 *
 * An fl_udx is one UDX *instance*: one table of streams shared by every UDP
 * socket of a node (socket handles are small integers chosen by the node).
 * It is sans-IO and runs the same five calls as fl_node:
 *
 *   fl_udx_handle_datagram  one received datagram in; returns 1 when it was
 *                           UDX (consumed), 0 when it was not (the caller
 *                           hands it to the DHT), FL_ERR_DECODE when it was
 *                           addressed to a live stream but malformed
 *                           (consumed, dropped, counted)
 *   fl_udx_poll_transmit    the next datagram written into the caller's buffer
 *   fl_udx_next_deadline    earliest timer (RTO, RACK, TLP, pacing, probes)
 *   fl_udx_handle_timeout   run due timers
 *   fl_udx_poll_event       readable / end / drain / close / message events
 *
 * Time: every call that changes state takes now_us; an earlier now_us than
 * the last one seen is FL_ERR_INVALID. poll_transmit stamps packets with the
 * last now_us seen. Randomness (stream ids) comes from a caller-owned fl_drbg.
 *
 * Memory: everything is bounded (fl_udx_config); send and receive buffers
 * grow on demand up to their limits and are allocated through fl_mem.
 */
#ifndef FLOCK_UDX_H
#define FLOCK_UDX_H

#include "flock/common.h"
#include "flock/crypto.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Wire constants (spec/udx.md §1, §8) ---------------------------------- */

#define FL_UDX_HEADER_BYTES 20u
#define FL_UDX_MAGIC 0xFFu
#define FL_UDX_VERSION 1u
#define FL_UDX_FLAG_DATA 0x01u
#define FL_UDX_FLAG_END 0x02u
#define FL_UDX_FLAG_SACK 0x04u
#define FL_UDX_FLAG_MESSAGE 0x08u
#define FL_UDX_FLAG_DESTROY 0x10u
#define FL_UDX_FLAG_HEARTBEAT 0x20u
#define FL_UDX_FLAGS_ALL 0x3Fu
#define FL_UDX_MTU_BASE 1200u
#define FL_UDX_MTU_MAX 1500u
#define FL_UDX_MTU_STEP 32u
#define FL_UDX_MAX_SACKS 50u
/* IPv4 + UDP + UDX header: what an MTU loses before payload. */
#define FL_UDX_IPV4_OVERHEAD 48u
#define FL_UDX_IPV6_OVERHEAD 68u
/* The largest datagram UDX emits (1500 - 28) and the largest a peer reads. */
#define FL_UDX_DGRAM_BYTES_MAX 1472u
#define FL_UDX_DEFAULT_RWND 4194304u

/* ---- The decoded header (udx_packet.c) ------------------------------------ */

typedef struct fl_udx_header {
  uint8_t type;        /* FL_UDX_FLAG_* bits */
  uint8_t data_offset; /* bytes between header and payload */
  uint32_t id;         /* the receiver's stream id */
  uint32_t rwnd;
  uint32_t seq;
  uint32_t ack;
} fl_udx_header;

typedef struct fl_udx_sack {
  uint32_t start, end; /* [start, end) in sequence space */
} fl_udx_sack;

/* A packet split into its parts; pointers borrow the input. */
typedef struct fl_udx_packet {
  fl_udx_header h;
  const uint8_t *sack; /* raw SACK area (8 bytes per block) */
  size_t sack_count;
  const uint8_t *payload;
  size_t payload_len;
} fl_udx_packet;

/* 1 if data starts with the UDX magic and version and is long enough to be
 * UDX; says nothing about the stream id. */
FL_API int fl_udx_is_packet(const uint8_t *data, size_t len);

/* Parse a datagram. Refuses (FL_ERR_DECODE, *out zeroed): short header,
 * wrong magic or version, unknown type bits, a data offset past the end,
 * a SACK flag with a SACK area that is empty or not a multiple of 8 bytes
 * or holds more than FL_UDX_MAX_SACKS blocks, payload on a kind that carries
 * none (pure ACK, SACK, DESTROY, HEARTBEAT), MESSAGE mixed with DATA/END. */
FL_API FL_MUST_CHECK int fl_udx_packet_decode(fl_udx_packet *out, const uint8_t *data,
                                              size_t len);

/* Block i of a decoded SACK area. */
FL_API fl_udx_sack fl_udx_packet_sack(const fl_udx_packet *p, size_t i);

/* Write a 20-byte header. Returns FL_UDX_HEADER_BYTES or FL_ERR_BUFFER. */
FL_API int fl_udx_header_encode(const fl_udx_header *h, uint8_t *out, size_t cap);

/* ---- Limits (fl_udx_config) ------------------------------------------------ */

/* Streams per instance: hyperdht opens one per connection; 1024 is far above
 * a swarm's maxPeers (64) and bounds the table. Full: open refuses (LIMIT). */
#define FL_UDX_STREAMS_MAX 1024u
/* Bytes a writer may queue (unsent + unacked). libudx lets the queue grow
 * and only signals backpressure; we refuse past this (write returns the
 * accepted count) and emit DRAIN once half of it is free. */
#define FL_UDX_SEND_BUF_MAX (8u << 20)
/* In-order bytes waiting for the reader; the advertised window is this
 * minus what is buffered, so a sender can never overflow it. */
#define FL_UDX_RECV_BUF_MAX FL_UDX_DEFAULT_RWND
/* Out-of-order packets held per stream, indexed by seq - ack. A 4 MiB
 * window at base MTU is ~3600 packets; past this we drop and count (the
 * sender retransmits). */
#define FL_UDX_OOO_MAX 4096u
/* Packets in flight per stream (the retransmission table). 4 MiB / 1152. */
#define FL_UDX_INFLIGHT_MAX 8192u
/* Unreliable messages queued to send / received and not yet polled per
 * instance. Full: the newest is dropped and counted. */
#define FL_UDX_MSG_QUEUE_MAX 256u
/* Relayed datagrams waiting for poll_transmit. Full: drop newest, counted. */
#define FL_UDX_RELAY_QUEUE_MAX 512u

/* ACKs snapshotted while a batch of datagrams is handled, waiting for
 * poll_transmit (one per two data packets, see udx_recv.c). A batch of 64
 * datagrams needs at most 64; full: skip the snapshot, a final ACK still
 * goes out at poll time. */
#define FL_UDX_ACK_QUEUE_MAX 256u

typedef struct fl_udx_config {
  uint32_t streams_max;
  uint32_t send_buf_max;
  uint32_t recv_buf_max;   /* also the advertised receive window */
  uint32_t ooo_max;        /* power of two, <= FL_UDX_OOO_MAX */
  uint32_t msg_queue_max;
  uint32_t relay_queue_max;
  uint16_t mtu_max;        /* path MTU cap for probing; <= 1200 disables */
} fl_udx_config;

/* The defaults above. */
FL_API void fl_udx_config_default(fl_udx_config *c);

/* ---- Counters -------------------------------------------------------------- */

typedef struct fl_udx_stats {
  uint64_t dgrams_in, dgrams_out, bytes_in, bytes_out;
  uint64_t not_udx;          /* handed back to the caller (not ours) */
  uint64_t decode_errors;    /* malformed packets for a live stream */
  uint64_t bad_sacks;        /* SACK blocks outside [remote_acked, seq): bogus, or
                                stale (a reordered ACK); ignored */
  uint64_t bad_acks;         /* acks beyond what we sent (ignored) */
  uint64_t firewall_drops;   /* from an address the stream is not bound to */
  uint64_t retransmits, rto_fires, tlp_fires, rack_losses;
  uint64_t ooo_cur, ooo_high, ooo_dropped, dup_packets;
  uint64_t streams_cur, streams_high, streams_refused;
  uint64_t msgs_in, msgs_out, msgs_dropped;
  uint64_t relay_queue_cur, relay_queue_high, relay_dropped, relayed;
  uint64_t send_buf_high, write_refused;
  uint64_t mtu_probes, mtu_probe_losses;
  uint64_t padded_in;         /* received packets padded via the data offset (peer probes) */
  uint64_t dgram_in_max;      /* largest UDX datagram received */
  uint64_t events_cur, events_high;
} fl_udx_stats;

/* ---- The instance ---------------------------------------------------------- */

typedef struct fl_udx fl_udx;

/* One outgoing datagram (bytes written into the caller's buffer). */
typedef struct fl_udx_dgram {
  uint32_t sock;
  fl_addr to;
  size_t len;
} fl_udx_dgram;

/* Event types (node.h reserves 300-399 for udx). */
enum {
  FL_UDX_EVENT_READABLE = 301, /* id: stream has bytes for fl_udx_stream_read */
  FL_UDX_EVENT_END = 302,      /* id: the remote ended; everything was read */
  FL_UDX_EVENT_DRAIN = 303,    /* id: the send buffer has room again */
  FL_UDX_EVENT_CLOSE = 304,    /* id, code: 0 clean, FL_ERR_CLOSED reset by peer,
                                  FL_ERR_TIMEOUT retransmission give-up. After a
                                  reset or timeout the id is free once this is
                                  polled; after a clean close the stream lingers
                                  8 RTOs answering a retransmitted END (calls
                                  return FL_ERR_CLOSED), then the id is free */
  FL_UDX_EVENT_MESSAGE = 305,  /* id, data/len: an unreliable message */
  FL_UDX_EVENT_CONNECT = 306,  /* id, sock, addr: a listening stream learned its peer */
  FL_UDX_EVENT_REMOTE_CHANGED = 307, /* id: change_remote completed */
  FL_UDX_EVENT_ACKED = 308     /* id: the local END was acknowledged (ENDED) */
};

typedef struct fl_udx_event {
  uint32_t type;
  uint32_t sock;
  int32_t code;
  uint32_t id;            /* local stream id */
  fl_addr addr;
  const uint8_t *data;    /* lent: valid until the next call into the instance */
  size_t len;
} fl_udx_event;

/* Create / free. cfg NULL = defaults; mem NULL = libc. Returns NULL on a
 * failed allocation or an invalid config. */
FL_API fl_udx *fl_udx_new(const fl_udx_config *cfg, const fl_mem *mem);
FL_API void fl_udx_free(fl_udx *u);

/* The five sans-IO calls (see the top of this file). */
FL_API FL_MUST_CHECK int fl_udx_handle_datagram(fl_udx *u, uint64_t now_us, uint32_t sock,
                                                const fl_addr *from, const uint8_t *data,
                                                size_t len);
/* Returns 1 (one datagram written, *out set), 0 (none now), or FL_ERR_BUFFER
 * if cap < FL_UDX_DGRAM_BYTES_MAX. */
FL_API FL_MUST_CHECK int fl_udx_poll_transmit(fl_udx *u, fl_udx_dgram *out, uint8_t *buf,
                                              size_t cap);
FL_API uint64_t fl_udx_next_deadline(const fl_udx *u);
FL_API FL_MUST_CHECK int fl_udx_handle_timeout(fl_udx *u, uint64_t now_us);
FL_API FL_MUST_CHECK int fl_udx_poll_event(fl_udx *u, fl_udx_event *out);

FL_API void fl_udx_get_stats(const fl_udx *u, fl_udx_stats *out);

/* ---- Streams ---------------------------------------------------------------- */

/* A fresh local id, unique among live streams, drawn as hyperdht does
 * (random uint32, unique in the low bits under a growing mask). */
FL_API FL_MUST_CHECK int fl_udx_stream_id_alloc(fl_udx *u, fl_drbg *rng, uint32_t *out_id);

/* Open a stream with a local id. FL_ERR_INVALID if the id is live,
 * FL_ERR_LIMIT if the table is full. */
FL_API FL_MUST_CHECK int fl_udx_stream_open(fl_udx *u, uint64_t now_us, uint32_t local_id);

/* Connect: packets go to (sock, to) carrying remote_id. to NULL = listen:
 * the first packet for local_id on any socket binds the stream to its
 * source (FL_UDX_EVENT_CONNECT). FL_ERR_NOT_FOUND, FL_ERR_STATE (connected). */
FL_API FL_MUST_CHECK int fl_udx_stream_connect(fl_udx *u, uint64_t now_us, uint32_t local_id,
                                               uint32_t remote_id, uint32_t sock,
                                               const fl_addr *to);

/* Queue bytes. Returns how many were accepted (0..len; fewer when the send
 * buffer is full: wait for FL_UDX_EVENT_DRAIN), FL_ERR_NOT_FOUND, or
 * FL_ERR_STATE after end/destroy. */
FL_API FL_MUST_CHECK int fl_udx_stream_write(fl_udx *u, uint64_t now_us, uint32_t id,
                                             const uint8_t *data, size_t len);

/* End the write side after the queued bytes (END flag). */
FL_API FL_MUST_CHECK int fl_udx_stream_end(fl_udx *u, uint64_t now_us, uint32_t id);

/* Hard close: one DESTROY packet if connected, then a CLOSE event (code 0). */
FL_API FL_MUST_CHECK int fl_udx_stream_destroy(fl_udx *u, uint64_t now_us, uint32_t id);

/* Read in-order bytes. Returns the count (0 = nothing buffered). */
FL_API FL_MUST_CHECK int fl_udx_stream_read(fl_udx *u, uint64_t now_us, uint32_t id,
                                            uint8_t *out, size_t cap);

/* Send one unreliable message (<= the stream's max payload). FL_ERR_RANGE
 * when too long, FL_ERR_LIMIT when the queue is full. */
FL_API FL_MUST_CHECK int fl_udx_stream_send_message(fl_udx *u, uint64_t now_us, uint32_t id,
                                                    const uint8_t *data, size_t len);

/* Blind relay: every packet arriving for `id` is forwarded to stream `to_id`'s
 * peer with bytes 4-7 rewritten to to_id's remote id (spec/udx.md §9). */
FL_API FL_MUST_CHECK int fl_udx_stream_relay_to(fl_udx *u, uint32_t id, uint32_t to_id);

/* Rebind a connected stream (relay -> direct). */
FL_API FL_MUST_CHECK int fl_udx_stream_change_remote(fl_udx *u, uint64_t now_us, uint32_t id,
                                                     uint32_t remote_id, uint32_t sock,
                                                     const fl_addr *to);

/* The path MTU the driver learned from the OS (Linux: IP_MTU of a socket
 * connected to the peer), capped at FL_UDX_MTU_MAX; <= FL_UDX_MTU_BASE
 * turns MTU probing off for this stream (spec §8). FL_ERR_NOT_FOUND. */
FL_API FL_MUST_CHECK int fl_udx_stream_set_mtu_max(fl_udx *u, uint32_t id, uint32_t mtu);

/* Send a HEARTBEAT whenever idle for ms (0 = off). */
FL_API FL_MUST_CHECK int fl_udx_stream_set_keepalive(fl_udx *u, uint32_t id, uint32_t ms);

/* Per-stream view for tests and the CLI. */
typedef struct fl_udx_stream_info {
  uint32_t local_id, remote_id;
  int connected, ended_local, ended_remote;
  uint32_t seq, ack, remote_acked;
  uint32_t inflight, cwnd, mtu, rwnd_remote;
  uint64_t srtt_us, rto_us, pacing_bytes_per_s, btl_bw_pkts_per_s;
  size_t send_buffered, recv_buffered;
  uint32_t mtu_state, cc_state;
} fl_udx_stream_info;

FL_API FL_MUST_CHECK int fl_udx_stream_info_get(const fl_udx *u, uint32_t id,
                                                fl_udx_stream_info *out);

/* Walk every invariant of the instance and its streams (table, counters,
 * retransmission and out-of-order tables, buffers). Returns 0, or
 * FL_ERR_STATE naming nothing: a bug of ours. Cost: O(streams x window);
 * the tests call it after every step. */
FL_API FL_MUST_CHECK int fl_udx_check(const fl_udx *u);

#ifdef __cplusplus
}
#endif
#endif /* FLOCK_UDX_H */
