/*
 * udx_internal.h — the inside of an fl_udx instance and its streams.
 * Not installed; tests include it as "udx/udx_internal.h".
 */
#ifndef FL_UDX_INTERNAL_H
#define FL_UDX_INTERNAL_H

#include <stdint.h>

#include "flock/udx.h"

static inline void fl_udx_put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}
static inline uint32_t fl_udx_get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Sequence numbers wrap: compare by signed difference (spec §2). */
static inline int32_t udx_seq_diff(uint32_t a, uint32_t b) { return (int32_t)(a - b); }
static inline int udx_seq_lt(uint32_t a, uint32_t b) { return udx_seq_diff(a, b) < 0; }
static inline int udx_seq_le(uint32_t a, uint32_t b) { return udx_seq_diff(a, b) <= 0; }

/* Timer constants (spec §7). */
#define UDX_RTO_INIT_US 1000000u
#define UDX_RTO_MIN_US 1000000u
#define UDX_RTO_MAX_US 30000000u
#define UDX_MAX_RTO_TIMEOUTS 6u
#define UDX_TLP_MAX_ACK_DELAY_US 2000u
#define UDX_RACK_MIN_RTT_WIN_US 300000000ull
#define UDX_MTU_MAX_PROBES 3u
/* After a clean close the reference frees the stream at once, so a lost
 * final ACK leaves the peer retransmitting its END into the void until it
 * times out. We linger this many RTOs, answering such retransmissions. */
#define UDX_LINGER_RTOS 8u
/* Copies of a closed stream's final ACK (see emit_final_ack). */
#define UDX_FINAL_ACK_COPIES 3u
/* Receive-buffer slack above the advertised window: the reference lets a
 * sender put one packet in flight whenever the window is non-zero, so a
 * receiver must take a few packets past what it advertised. */
#define UDX_RECV_SLACK (16u * FL_UDX_DGRAM_BYTES_MAX)

enum { UDX_MTU_BASE_STATE = 1, UDX_MTU_SEARCH = 2, UDX_MTU_ERROR = 3, UDX_MTU_COMPLETE = 4 };
enum { UDX_CA_OPEN = 1, UDX_CA_RECOVERY = 2, UDX_CA_LOSS = 3 };
enum { UDX_BBR_STARTUP = 0, UDX_BBR_DRAIN = 1, UDX_BBR_PROBE_BW = 2, UDX_BBR_PROBE_RTT = 3 };

/* Per-packet state in the retransmission table. */
enum { UDX_PKT_FREE = 0, UDX_PKT_INFLIGHT = 1, UDX_PKT_LOST = 2, UDX_PKT_SACKED = 3 };

typedef struct udx_pkt {
  uint32_t seq;
  uint8_t state;
  uint8_t flags;       /* DATA / END */
  uint8_t is_probe;    /* padded MTU probe (first transmission only) */
  uint8_t app_limited;
  uint16_t len;        /* payload bytes */
  uint8_t rto_timeouts;
  uint8_t transmits;
  uint64_t off;        /* stream offset of the payload in the send ring */
  uint64_t sent_us;
  /* rate-sampling snapshot at send time (udx_cc.c) */
  uint64_t delivered;
  uint64_t delivered_us;
  uint64_t first_sent_us;
} udx_pkt;

typedef struct udx_ooo {
  uint32_t seq;
  uint8_t valid;
  uint8_t flags;
  uint16_t len;
  uint8_t *buf; /* FL_UDX_DGRAM_BYTES_MAX, allocated on first use, kept */
} udx_ooo;

/* A rate sample built while one ACK is processed. */
typedef struct udx_rate_sample {
  uint64_t prior_delivered;
  uint64_t prior_us;
  int64_t send_elapsed_us;
  int64_t interval_us;
  uint32_t acked;       /* packets newly delivered by this ACK */
  uint32_t lost;        /* packets newly marked lost */
  int64_t rtt_us;       /* of the most recently sent packet acked, -1 none */
  int app_limited;
  int has_sample;
} udx_rate_sample;

typedef struct udx_bbr {
  uint8_t mode;
  uint8_t full_bw_reached;
  uint8_t full_bw_cnt;
  uint8_t cycle_idx;
  uint8_t round_start;
  uint8_t packet_conservation;
  uint8_t probe_rtt_round_done;
  double bw[10];          /* per-round max delivery rate, packets/us */
  uint64_t bw_round[10];
  double full_bw;
  double pacing_gain, cwnd_gain;
  uint64_t round_count, next_round_delivered;
  uint64_t min_rtt_us, min_rtt_stamp_us;
  uint64_t probe_rtt_done_us;
  uint64_t cycle_stamp_us;
  uint32_t prior_cwnd;
  /* ACK aggregation: how far deliveries run ahead of the bandwidth line */
  uint64_t ack_epoch_us, ack_epoch_acked;
  uint32_t extra_acked[2];
  uint8_t extra_acked_idx, extra_acked_win_rtts;
} udx_bbr;

typedef struct udx_stream udx_stream;

struct udx_stream {
  fl_udx *u;
  uint32_t local_id, remote_id;
  uint32_t sock;
  fl_addr remote;
  uint8_t connected, listening, closed, close_polled;
  uint64_t linger_until;  /* clean close: keep acking the peer's END until then */
  uint32_t live_idx;
  int32_t close_code;
  uint8_t relay;
  uint32_t relay_to_id;

  /* ---- send side */
  uint32_t seq;           /* next sequence number to send */
  uint32_t remote_acked;  /* lowest unacked seq */
  uint8_t *sbuf;          /* ring of bytes written and not yet acked */
  size_t sbuf_cap;        /* power of two */
  uint64_t snd_una_off;   /* offset of the first unacked byte */
  uint64_t snd_nxt_off;   /* offset of the first unsent byte */
  uint64_t write_off;     /* offset past the last written byte */
  uint8_t end_requested, end_sent, end_acked, drain_wanted;
  uint32_t end_seq;
  udx_pkt *pkts;          /* pkts_cap entries (power of two), indexed by seq */
  uint32_t pkts_cap;
  uint32_t inflight;      /* packets INFLIGHT (not acked, sacked or lost) */
  uint32_t lost_count;    /* packets LOST awaiting retransmission */
  uint32_t rtx_cursor;    /* no LOST packet below this seq */
  uint32_t sacked_count;
  uint32_t highest_sacked; /* one past */
  uint8_t sacks_seen;
  uint32_t rwnd_remote;
  uint32_t wl1, wl2;

  /* ---- receive side */
  uint32_t ack;           /* next seq expected */
  uint8_t *rbuf;          /* in-order bytes for the reader */
  size_t rbuf_cap, rbuf_head, rbuf_len;
  udx_ooo *ooo;           /* ooo_max entries, allocated at the first gap */
  uint32_t ooo_count;
  uint8_t remote_ended_known, eof_pending, eof_done;
  uint32_t remote_end_seq;
  uint8_t need_ack;
  uint8_t unacked_in;      /* in-order packets received since our last ACK */
  uint8_t final_ack_copies;
  uint32_t rwnd_advertised;

  /* ---- timers, RTT */
  uint64_t srtt_us, rttvar_us, rto_us;
  uint64_t rto_deadline, rack_deadline, tlp_deadline, zwp_deadline, ka_deadline;
  uint64_t pace_deadline;
  uint64_t zwp_interval_us;
  uint32_t keepalive_ms;
  uint8_t rtt_sampled_since_tlp, tlp_pending, heartbeat_pending, destroy_pending;
  uint8_t ca_state;
  uint32_t recovery_end_seq;
  uint64_t rack_xmit_us, rack_rtt_us;
  uint32_t rack_end_seq;
  uint8_t rack_valid, reordering_seen;
  uint64_t min_rtt_us, min_rtt_stamp_us;

  /* ---- congestion control and pacing */
  uint32_t cwnd;
  udx_bbr bbr;
  uint64_t delivered, delivered_us, first_sent_us, app_limited_until;
  double pacing_bytes_per_us;
  double tokens;
  uint64_t tokens_us;

  /* ---- MTU */
  uint16_t mtu, mtu_max, mtu_probe_size;
  uint8_t mtu_state, mtu_probe_fails, mtu_probe_wanted, mtu_probe_inflight;
  uint8_t change_pending;
  uint32_t change_seq;

  /* ---- scheduling: transmit list and event list membership */
  udx_stream *tx_prev, *tx_next;
  uint8_t in_tx, in_ev;
  udx_stream *ev_next;
  uint16_t ev_flags;
};

/* Per-stream pending events (udx.c). */
enum {
  UDX_EV_CONNECT = 1 << 0,
  UDX_EV_READABLE = 1 << 1,
  UDX_EV_END = 1 << 2,
  UDX_EV_DRAIN = 1 << 3,
  UDX_EV_ACKED = 1 << 4,
  UDX_EV_REMOTE_CHANGED = 1 << 5,
  UDX_EV_CLOSE = 1 << 6
};

typedef struct udx_msg {
  uint32_t sock;
  uint32_t id;   /* local id (received) or the header id (to send) */
  fl_addr addr;
  uint16_t len;
  uint8_t *buf;  /* FL_UDX_DGRAM_BYTES_MAX */
} udx_msg;

typedef struct udx_msg_ring {
  udx_msg *slots;
  uint32_t cap, head, len;
} udx_msg_ring;

struct fl_udx {
  const fl_mem *mem;
  fl_udx_config cfg;
  fl_udx_stats st;
  uint64_t now_us;
  udx_stream **table;     /* open addressing by local id */
  uint32_t table_cap;     /* power of two */
  uint32_t count;
  uint32_t id_mask;       /* hyperdht's id allocation mask */
  udx_stream *tx_head, *tx_tail;
  udx_stream *ev_head, *ev_tail;
  udx_msg_ring msg_out, msg_in, relay_out, ack_out;
  uint8_t msg_buf[FL_UDX_DGRAM_BYTES_MAX]; /* the lent bytes of the last MESSAGE event */
  udx_stream **live;      /* dense array of every stream, for timers */
};

/* udx.c */
udx_stream *udx_find(const fl_udx *u, uint32_t id);
void udx_table_insert(fl_udx *u, udx_stream *s);
void udx_kick(udx_stream *s);
void udx_emit(udx_stream *s, uint16_t ev);
void udx_close(udx_stream *s, int32_t code);
int udx_msg_push(fl_udx *u, udx_msg_ring *r, uint32_t sock, uint32_t id, const fl_addr *addr,
                 const uint8_t *data, size_t len);

/* udx_send.c */
uint32_t udx_mss(const udx_stream *s);
uint32_t udx_send_window(const udx_stream *s);
int udx_stream_emit(udx_stream *s, uint8_t *buf, size_t cap);
size_t udx_emit_ack(udx_stream *s, uint8_t *buf, size_t cap);
void udx_process_ack(udx_stream *s, const fl_udx_packet *p);
void udx_stream_timeout(udx_stream *s, uint64_t now);
uint64_t udx_stream_deadline(const udx_stream *s);
void udx_arm_rto(udx_stream *s, uint64_t now);
int udx_sbuf_reserve(udx_stream *s, size_t need);
uint32_t udx_rwnd_now(const udx_stream *s);

/* udx_recv.c */
int udx_stream_input(udx_stream *s, uint32_t sock, const fl_addr *from, const fl_udx_packet *p,
                     const uint8_t *raw, size_t raw_len);
size_t udx_build_sacks(udx_stream *s, uint8_t *out, size_t cap);
int udx_stream_read_bytes(udx_stream *s, uint8_t *out, size_t cap);
void udx_check_eof(udx_stream *s);
void udx_check_done(udx_stream *s);

/* udx_cc.c */
void udx_cc_init(udx_stream *s);
void udx_cc_on_send(udx_stream *s, udx_pkt *p, uint64_t now);
void udx_cc_on_delivered(udx_stream *s, const udx_pkt *p, udx_rate_sample *rs, uint64_t now);
void udx_cc_on_ack(udx_stream *s, udx_rate_sample *rs, uint64_t now);
void udx_cc_on_recovery(udx_stream *s);
void udx_cc_on_rto(udx_stream *s);
void udx_cc_refill(udx_stream *s, uint64_t now);

#endif /* FL_UDX_INTERNAL_H */
