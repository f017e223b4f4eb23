/*
 * udx_cc.c — congestion control as libudx does it: BBR (v1 shape) over
 * delivery-rate samples, and a byte-budget pacer (spec/udx.md §5, §6).
 *
 * Units: packets for windows, microseconds for time, bandwidth in packets
 * per microsecond (double; deterministic on one platform, which is all the
 * simulator needs). The gains, the 8-phase cycle, the 10-round bandwidth
 * filter and the 10 s min-RTT window follow the reference's constants.
 */
#include <assert.h>
#include <string.h>

#include "udx/udx_internal.h"

#define BBR_HIGH_GAIN 2.88539
#define BBR_DRAIN_GAIN (1.0 / 2.88539)
#define BBR_CWND_GAIN 2.0
#define BBR_CWND_MIN 4u
#define BBR_INIT_CWND 10u
#define BBR_FULL_BW_THRESH 1.25
#define BBR_FULL_BW_ROUNDS 3u
#define BBR_BW_ROUNDS 10u
#define BBR_MIN_RTT_WIN_US 10000000ull
#define BBR_PROBE_RTT_US 200000ull
#define BBR_PACING_MARGIN 0.99
/* The window is computed over at least 1 ms of RTT: the reference counts
 * RTT in whole milliseconds, and drivers wake on ~1 ms timers, so a
 * loopback RTT of 30 us must not shrink the window to a handful of packets. */
#define BBR_RTT_FLOOR_US 1000ull
/* Pacing bursts: the reference refills a byte budget once per elapsed
 * millisecond; we refill continuously but allow up to 1 ms of budget. */
#define PACE_BURST_US 1000.0
#define PACE_INIT_BUDGET 25000.0
#define CWND_MAX 65535u

static const double cycle_gain[8] = {1.25, 0.75, 1, 1, 1, 1, 1, 1};

void udx_cc_init(udx_stream *s) {
  memset(&s->bbr, 0, sizeof(s->bbr));
  s->cwnd = BBR_INIT_CWND;
  s->bbr.mode = UDX_BBR_STARTUP;
  s->bbr.pacing_gain = BBR_HIGH_GAIN;
  s->bbr.cwnd_gain = BBR_HIGH_GAIN;
  s->bbr.min_rtt_us = UINT64_MAX;
  /* Initial rate: high gain x initial window per (assumed) 1 ms RTT. */
  s->pacing_bytes_per_us = BBR_HIGH_GAIN * BBR_INIT_CWND * (double)udx_mss(s) / 1000.0;
  s->tokens = PACE_INIT_BUDGET;
  s->tokens_us = s->u->now_us;
}

void udx_cc_refill(udx_stream *s, uint64_t now) {
  if (now <= s->tokens_us) return;
  double burst = s->pacing_bytes_per_us * PACE_BURST_US;
  if (burst < 4.0 * udx_mss(s)) burst = 4.0 * udx_mss(s);
  s->tokens += (double)(now - s->tokens_us) * s->pacing_bytes_per_us;
  if (s->tokens > burst) s->tokens = burst;
  s->tokens_us = now;
}

void udx_cc_on_send(udx_stream *s, udx_pkt *p, uint64_t now) {
  /* Rate-sampling snapshot (draft-cheng-iccrg-delivery-rate-estimation). */
  if (s->inflight == 0) {
    s->first_sent_us = now;
    s->delivered_us = now;
  }
  p->delivered = s->delivered;
  p->delivered_us = s->delivered_us;
  p->first_sent_us = s->first_sent_us;
  p->app_limited = s->app_limited_until != 0;
  s->tokens -= (double)(p->len + FL_UDX_HEADER_BYTES);
}

void udx_cc_on_delivered(udx_stream *s, const udx_pkt *p, udx_rate_sample *rs, uint64_t now) {
  s->delivered++;
  s->delivered_us = now;
  rs->acked++;
  /* Take the sample from the most recently sent packet this ACK covers. */
  if (!rs->has_sample || p->delivered > rs->prior_delivered) {
    rs->has_sample = 1;
    rs->prior_delivered = p->delivered;
    rs->prior_us = p->delivered_us;
    rs->send_elapsed_us = (int64_t)(p->sent_us - p->first_sent_us);
    rs->app_limited = p->app_limited;
    s->first_sent_us = p->sent_us;
  }
}

static double bbr_max_bw(const udx_bbr *b) {
  double m = 0;
  for (unsigned i = 0; i < BBR_BW_ROUNDS; i++)
    if (b->bw_round[i] + BBR_BW_ROUNDS > b->round_count && b->bw[i] > m) m = b->bw[i];
  return m;
}

static void bbr_update_bw(udx_stream *s, udx_rate_sample *rs) {
  udx_bbr *b = &s->bbr;
  b->round_start = 0;
  if (!rs->has_sample) return;
  if (rs->prior_delivered >= b->next_round_delivered) {
    b->next_round_delivered = s->delivered;
    b->round_count++;
    b->round_start = 1;
    b->packet_conservation = 0;
  }
  int64_t ack_elapsed = (int64_t)(s->delivered_us - rs->prior_us);
  rs->interval_us = rs->send_elapsed_us > ack_elapsed ? rs->send_elapsed_us : ack_elapsed;
  if (rs->interval_us <= 0) return;
  double bw = (double)(s->delivered - rs->prior_delivered) / (double)rs->interval_us;
  if (rs->app_limited && bw < bbr_max_bw(b)) return;
  unsigned slot = (unsigned)(b->round_count % BBR_BW_ROUNDS);
  if (b->bw_round[slot] != b->round_count) {
    b->bw_round[slot] = b->round_count;
    b->bw[slot] = 0;
  }
  if (bw > b->bw[slot]) b->bw[slot] = bw;
}

static uint64_t bbr_rtt(const udx_stream *s) {
  uint64_t r = s->bbr.min_rtt_us == UINT64_MAX ? BBR_RTT_FLOOR_US : s->bbr.min_rtt_us;
  return r < BBR_RTT_FLOOR_US ? BBR_RTT_FLOOR_US : r;
}

static uint32_t bbr_target_cwnd(const udx_stream *s, double gain) {
  double bw = bbr_max_bw(&s->bbr);
  if (bw <= 0) return BBR_INIT_CWND;
  double w = gain * bw * (double)bbr_rtt(s) + 3.0; /* +3: send/ack quanta */
  if (w > CWND_MAX) w = CWND_MAX;
  uint32_t c = (uint32_t)w;
  return c < BBR_CWND_MIN ? BBR_CWND_MIN : c;
}

/* Linux BBR's ACK-aggregation estimate (the reference's "extra acked",
 * gain 1, 5-RTT window, capped at 100 ms of bandwidth): when ACKs arrive in
 * bursts (a descheduled receiver, batched drivers), deliveries run ahead of
 * bw x elapsed; the window must cover that excess or the sender stalls. */
#define BBR_EXTRA_ACKED_WIN_RTTS 5u
#define BBR_EXTRA_ACKED_MAX_US 100000.0

static void bbr_update_ack_aggregation(udx_stream *s, const udx_rate_sample *rs, uint64_t now) {
  udx_bbr *b = &s->bbr;
  if (rs->acked == 0) return;
  if (b->round_start && ++b->extra_acked_win_rtts >= BBR_EXTRA_ACKED_WIN_RTTS) {
    b->extra_acked_win_rtts = 0;
    b->extra_acked_idx ^= 1;
    b->extra_acked[b->extra_acked_idx] = 0;
  }
  double expected = bbr_max_bw(b) * (double)(now - b->ack_epoch_us);
  if ((double)b->ack_epoch_acked <= expected || b->ack_epoch_acked + rs->acked >= (1u << 20)) {
    b->ack_epoch_acked = 0;
    b->ack_epoch_us = now;
    expected = 0;
  }
  b->ack_epoch_acked += rs->acked;
  double extra = (double)b->ack_epoch_acked - expected;
  if (extra > s->cwnd) extra = s->cwnd;
  if (extra > b->extra_acked[b->extra_acked_idx]) b->extra_acked[b->extra_acked_idx] = (uint32_t)extra;
}

static uint32_t bbr_ack_aggregation_cwnd(const udx_stream *s) {
  const udx_bbr *b = &s->bbr;
  if (!b->full_bw_reached) return 0;
  double cap = bbr_max_bw(b) * BBR_EXTRA_ACKED_MAX_US;
  double extra = b->extra_acked[0] > b->extra_acked[1] ? b->extra_acked[0] : b->extra_acked[1];
  return (uint32_t)(extra < cap ? extra : cap);
}

static void bbr_update_cycle(udx_stream *s, uint64_t now) {
  udx_bbr *b = &s->bbr;
  if (b->mode != UDX_BBR_PROBE_BW) return;
  if (now - b->cycle_stamp_us <= bbr_rtt(s)) return;
  b->cycle_idx = (uint8_t)((b->cycle_idx + 1) % 8);
  b->cycle_stamp_us = now;
  b->pacing_gain = cycle_gain[b->cycle_idx];
}

static void bbr_enter_probe_bw(udx_stream *s, uint64_t now) {
  udx_bbr *b = &s->bbr;
  b->mode = UDX_BBR_PROBE_BW;
  b->cwnd_gain = BBR_CWND_GAIN;
  /* Start the cycle anywhere but the draining phase (index 1). */
  b->cycle_idx = (uint8_t)((s->delivered % 7 + 2) % 8);
  b->cycle_stamp_us = now;
  b->pacing_gain = cycle_gain[b->cycle_idx];
}

static void bbr_check_full_bw_and_drain(udx_stream *s, udx_rate_sample *rs, uint64_t now) {
  udx_bbr *b = &s->bbr;
  if (!b->full_bw_reached && b->round_start && !rs->app_limited) {
    double bw = bbr_max_bw(b);
    if (bw >= b->full_bw * BBR_FULL_BW_THRESH) {
      b->full_bw = bw;
      b->full_bw_cnt = 0;
    } else if (++b->full_bw_cnt >= BBR_FULL_BW_ROUNDS) {
      b->full_bw_reached = 1;
    }
  }
  if (b->mode == UDX_BBR_STARTUP && b->full_bw_reached) {
    b->mode = UDX_BBR_DRAIN;
    b->pacing_gain = BBR_DRAIN_GAIN;
    b->cwnd_gain = BBR_HIGH_GAIN;
  }
  if (b->mode == UDX_BBR_DRAIN && s->inflight <= bbr_target_cwnd(s, 1.0))
    bbr_enter_probe_bw(s, now);
}

static void bbr_update_min_rtt(udx_stream *s, udx_rate_sample *rs, uint64_t now) {
  udx_bbr *b = &s->bbr;
  int expired = b->min_rtt_us != UINT64_MAX && now > b->min_rtt_stamp_us + BBR_MIN_RTT_WIN_US;
  if (rs->rtt_us >= 0 && ((uint64_t)rs->rtt_us < b->min_rtt_us || expired)) {
    b->min_rtt_us = (uint64_t)rs->rtt_us;
    b->min_rtt_stamp_us = now;
  }
  if (expired && b->mode != UDX_BBR_PROBE_RTT) {
    b->mode = UDX_BBR_PROBE_RTT;
    b->pacing_gain = 1.0;
    b->cwnd_gain = 1.0;
    b->prior_cwnd = s->cwnd;
    b->probe_rtt_done_us = 0;
  }
  if (b->mode == UDX_BBR_PROBE_RTT) {
    if (b->probe_rtt_done_us == 0 && s->inflight <= BBR_CWND_MIN) {
      b->probe_rtt_done_us = now + BBR_PROBE_RTT_US;
      b->next_round_delivered = s->delivered;
      b->probe_rtt_round_done = 0;
    } else if (b->probe_rtt_done_us != 0) {
      if (b->round_start) b->probe_rtt_round_done = 1;
      if (b->probe_rtt_round_done && now >= b->probe_rtt_done_us) {
        b->min_rtt_stamp_us = now;
        if (s->cwnd < b->prior_cwnd) s->cwnd = b->prior_cwnd;
        if (b->full_bw_reached) {
          bbr_enter_probe_bw(s, now);
        } else {
          b->mode = UDX_BBR_STARTUP;
          b->pacing_gain = BBR_HIGH_GAIN;
          b->cwnd_gain = BBR_HIGH_GAIN;
        }
      }
    }
  }
}

static void bbr_set_pacing(udx_stream *s) {
  double bw = bbr_max_bw(&s->bbr);
  if (bw <= 0) return;
  double rate = s->bbr.pacing_gain * bw * (double)udx_mss(s) * BBR_PACING_MARGIN;
  /* Until the pipe is known full, only ever raise the rate (as Linux BBR). */
  if (s->bbr.full_bw_reached || rate > s->pacing_bytes_per_us) s->pacing_bytes_per_us = rate;
}

static void bbr_set_cwnd(udx_stream *s, const udx_rate_sample *rs) {
  udx_bbr *b = &s->bbr;
  uint32_t target = bbr_target_cwnd(s, b->cwnd_gain) + bbr_ack_aggregation_cwnd(s);
  if (target > CWND_MAX) target = CWND_MAX;
  uint32_t cwnd = s->cwnd;
  if (b->packet_conservation) {
    uint32_t floor = s->inflight + rs->acked;
    if (cwnd < floor) cwnd = floor;
  } else if (b->full_bw_reached) {
    cwnd = cwnd + rs->acked < target ? cwnd + rs->acked : target;
  } else if (cwnd < target || s->delivered < BBR_INIT_CWND) {
    cwnd += rs->acked;
  }
  if (cwnd < BBR_CWND_MIN) cwnd = BBR_CWND_MIN;
  if (cwnd > CWND_MAX) cwnd = CWND_MAX;
  if (b->mode == UDX_BBR_PROBE_RTT && cwnd > BBR_CWND_MIN) cwnd = BBR_CWND_MIN;
  s->cwnd = cwnd;
}

void udx_cc_on_ack(udx_stream *s, udx_rate_sample *rs, uint64_t now) {
  if (s->app_limited_until != 0 && s->delivered > s->app_limited_until) s->app_limited_until = 0;
  bbr_update_bw(s, rs);
  bbr_update_ack_aggregation(s, rs, now);
  bbr_update_cycle(s, now);
  bbr_check_full_bw_and_drain(s, rs, now);
  bbr_update_min_rtt(s, rs, now);
  bbr_set_pacing(s);
  bbr_set_cwnd(s, rs);
  assert(s->cwnd >= BBR_CWND_MIN);
  assert(s->pacing_bytes_per_us > 0);
}

void udx_cc_on_recovery(udx_stream *s) {
  /* Packet conservation for one round: send one for each one delivered. */
  s->bbr.prior_cwnd = s->cwnd;
  s->bbr.packet_conservation = 1;
  s->bbr.next_round_delivered = s->delivered;
  uint32_t c = s->inflight + 1;
  s->cwnd = c < BBR_CWND_MIN ? BBR_CWND_MIN : c;
}

void udx_cc_on_rto(udx_stream *s) {
  if (s->ca_state != UDX_CA_LOSS) s->bbr.prior_cwnd = s->cwnd;
  s->bbr.full_bw = 0;
  s->bbr.full_bw_cnt = 0;
  /* Room for exactly the retransmissions: what is still counted in flight
   * plus one (Linux BBR's cwnd = inflight + 1 on entering loss). */
  uint32_t c = s->inflight + 1;
  s->cwnd = c < BBR_CWND_MIN ? BBR_CWND_MIN : c;
}
