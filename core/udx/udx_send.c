/*
 * udx_send.c — the sending half of a stream: packetising the send ring,
 * the retransmission table, ACK/SACK processing, RTT and RTO, RACK loss
 * detection, tail-loss probes, zero-window probes and MTU probing
 * (spec/udx.md §2, §5, §7, §8).
 */
#include <assert.h>
#include <string.h>

#include "udx/udx_internal.h"

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

uint32_t udx_mss(const udx_stream *s) {
  uint32_t overhead =
      s->remote.family == FL_ADDR_IPV6 ? FL_UDX_IPV6_OVERHEAD : FL_UDX_IPV4_OVERHEAD;
  return (uint32_t)s->mtu - overhead;
}

uint32_t udx_rwnd_now(const udx_stream *s) {
  uint32_t max = s->u->cfg.recv_buf_max;
  return s->rbuf_len >= max ? 0 : (uint32_t)(max - s->rbuf_len);
}

/* Packets the windows allow in flight: min(cwnd, rwnd / mss), at least one
 * while the receiver's window is open at all (spec §5). */
uint32_t udx_send_window(const udx_stream *s) {
  if (s->rwnd_remote == 0) return 0;
  uint32_t w = s->rwnd_remote / udx_mss(s);
  if (w == 0) w = 1;
  return w < s->cwnd ? w : s->cwnd;
}

int udx_sbuf_reserve(udx_stream *s, size_t need) {
  size_t used = (size_t)(s->write_off - s->snd_una_off);
  if (used + need <= s->sbuf_cap) return 0;
  size_t cap = s->sbuf_cap ? s->sbuf_cap : 65536;
  while (cap < used + need) cap *= 2;
  uint8_t *nb = fl_mem_alloc(s->u->mem, cap);
  if (nb == NULL) return FL_ERR_NOMEM;
  for (uint64_t o = s->snd_una_off; o < s->write_off; o++) /* rare: only on growth */
    nb[o & (cap - 1)] = s->sbuf[o & (s->sbuf_cap - 1)];
  fl_mem_free(s->u->mem, s->sbuf, s->sbuf_cap);
  s->sbuf = nb;
  s->sbuf_cap = cap;
  return 0;
}

static void sbuf_copy_out(const udx_stream *s, uint64_t off, uint8_t *out, size_t len) {
  if (len == 0) return; /* a bare END: there may be no ring at all */
  size_t mask = s->sbuf_cap - 1, at = (size_t)(off & mask);
  size_t first = s->sbuf_cap - at < len ? s->sbuf_cap - at : len;
  memcpy(out, s->sbuf + at, first);
  memcpy(out + first, s->sbuf, len - first);
}

static size_t put_header(udx_stream *s, uint8_t *buf, uint8_t type, uint32_t seq,
                         uint8_t data_offset) {
  fl_udx_header h = {type, data_offset, s->remote_id, udx_rwnd_now(s), seq, s->ack};
  s->rwnd_advertised = h.rwnd;
  int n = fl_udx_header_encode(&h, buf, FL_UDX_HEADER_BYTES);
  assert(n == (int)FL_UDX_HEADER_BYTES);
  return (size_t)n;
}

static udx_pkt *pkt_at(const udx_stream *s, uint32_t seq) {
  return &s->pkts[seq & (s->pkts_cap - 1)];
}

/* Room in the retransmission table for one more sequence number? The table
 * starts small and doubles up to 2 x ooo_max (FL_UDX_INFLIGHT_MAX), so an
 * idle stream costs little; past the cap the sender waits for ACKs. */
static int table_room(udx_stream *s) {
  uint32_t used = (uint32_t)udx_seq_diff(s->seq, s->remote_acked);
  if (s->pkts != NULL && used < s->pkts_cap) return 1;
  uint32_t max = s->u->cfg.ooo_max * 2;
  if (s->pkts_cap >= max) return 0;
  uint32_t cap = s->pkts_cap ? s->pkts_cap * 2 : 64;
  udx_pkt *np = fl_mem_calloc(s->u->mem, cap, sizeof(udx_pkt));
  if (np == NULL) return 0;
  for (uint32_t seq = s->remote_acked; seq != s->seq; seq++) np[seq & (cap - 1)] = *pkt_at(s, seq);
  fl_mem_free(s->u->mem, s->pkts, s->pkts_cap * sizeof(udx_pkt));
  s->pkts = np;
  s->pkts_cap = cap;
  return 1;
}

void udx_arm_rto(udx_stream *s, uint64_t now) { s->rto_deadline = now + s->rto_us; }

/* The reference arms a tail-loss probe only in the OPEN state with no SACKs
 * seen. We arm it whenever nothing is queued for retransmission and RACK
 * has no timer running: a lost retransmission with nothing sent after it
 * (RACK needs a later delivery to compare with) would otherwise wait for the
 * >= 1 s RTO. The probe resends the highest packet in flight; its ACK lets
 * RACK judge everything sent before it. Firing still needs a fresh RTT
 * sample, so a dead peer draws no extra probes. */
static void arm_tlp(udx_stream *s, uint64_t now) {
  if (s->inflight == 0) return;
  uint64_t pto = UDX_RTO_INIT_US;
  if (s->srtt_us) pto = 2 * s->srtt_us + (s->inflight == 1 ? UDX_TLP_MAX_ACK_DELAY_US : 0);
  s->tlp_deadline = min_u64(now + pto, s->rto_deadline);
}

size_t udx_emit_ack(udx_stream *s, uint8_t *buf, size_t cap) {
  size_t n = put_header(s, buf, 0, s->seq, 0);
  if (s->ooo_count > 0) {
    size_t sb = udx_build_sacks(s, buf + n, cap - n);
    if (sb > 0) buf[2] = FL_UDX_FLAG_SACK;
    n += sb;
  }
  s->need_ack = 0;
  s->unacked_in = 0;
  return n;
}

/* A closed stream only ever sends its final ACK (and, lingering, answers a
 * retransmitted END). Nothing retransmits that ACK, and the reference frees
 * its stream at once, so losing it leaves the peer retransmitting its END
 * until it times out: send UDX_FINAL_ACK_COPIES identical copies. */
static size_t emit_final_ack(udx_stream *s, uint8_t *buf, size_t cap) {
  if (!s->need_ack) return 0;
  size_t n = udx_emit_ack(s, buf, cap);
  if (++s->final_ack_copies < UDX_FINAL_ACK_COPIES) s->need_ack = 1;
  else s->final_ack_copies = 0;
  return n;
}

static size_t emit_simple(udx_stream *s, uint8_t *buf, uint8_t type, uint32_t seq) {
  return put_header(s, buf, type, seq, 0);
}

static size_t write_packet(udx_stream *s, udx_pkt *p, uint8_t *buf, uint8_t pad) {
  size_t n = put_header(s, buf, p->flags, p->seq, pad);
  memset(buf + n, 0, pad);
  n += pad;
  sbuf_copy_out(s, p->off, buf + n, p->len);
  s->need_ack = 0; /* every packet carries the current ack */
  return n + p->len;
}

static int has_new_data(const udx_stream *s) {
  return s->snd_nxt_off < s->write_off || (s->end_requested && !s->end_sent);
}

static size_t emit_new(udx_stream *s, uint8_t *buf, int is_tlp) {
  uint64_t now = s->u->now_us;
  uint32_t mss = udx_mss(s);
  uint64_t avail = s->write_off - s->snd_nxt_off;
  uint16_t len = (uint16_t)(avail < mss ? avail : mss);
  udx_pkt *p = pkt_at(s, s->seq);
  assert(p->state == UDX_PKT_FREE);
  memset(p, 0, sizeof(*p));
  p->seq = s->seq;
  p->state = UDX_PKT_INFLIGHT;
  p->flags = len ? FL_UDX_FLAG_DATA : 0;
  p->len = len;
  p->off = s->snd_nxt_off;
  p->sent_us = now;
  p->transmits = 1;
  if (s->end_requested && s->snd_nxt_off + len == s->write_off) {
    p->flags |= FL_UDX_FLAG_END;
    s->end_sent = 1;
    s->end_seq = s->seq;
  }
  uint8_t pad = 0;
  if (!is_tlp && s->mtu_probe_wanted && !s->mtu_probe_inflight && !s->change_pending &&
      len == mss && s->mtu_probe_size > s->mtu && s->mtu_probe_size - s->mtu <= 255) {
    pad = (uint8_t)(s->mtu_probe_size - s->mtu);
    p->is_probe = 1;
    s->mtu_probe_inflight = 1;
    s->mtu_probe_wanted = 0;
    s->u->st.mtu_probes++;
  }
  udx_cc_on_send(s, p, now);
  s->seq++;
  s->snd_nxt_off += len;
  s->inflight++;
  if (s->rto_deadline == FL_TIME_NONE) udx_arm_rto(s, now);
  arm_tlp(s, now);
  return write_packet(s, p, buf, pad);
}

static size_t emit_rtx(udx_stream *s, uint8_t *buf) {
  uint64_t now = s->u->now_us;
  for (uint32_t seq = s->rtx_cursor; udx_seq_lt(seq, s->seq); seq++) {
    udx_pkt *p = pkt_at(s, seq);
    if (p->state != UDX_PKT_LOST) continue;
    s->rtx_cursor = seq + 1;
    p->state = UDX_PKT_INFLIGHT;
    p->sent_us = now;
    if (p->transmits < 255) p->transmits++;
    s->lost_count--;
    udx_cc_on_send(s, p, now);
    s->inflight++;
    s->u->st.retransmits++;
    if (s->rto_deadline == FL_TIME_NONE) udx_arm_rto(s, now);
    if (s->lost_count == 0) arm_tlp(s, now);
    return write_packet(s, p, buf, 0);
  }
  assert(0 && "lost_count out of sync");
  s->lost_count = 0;
  return 0;
}

/* A tail-loss probe: new data if there is any, else the last packet again. */
static size_t emit_tlp(udx_stream *s, uint8_t *buf) {
  uint64_t now = s->u->now_us;
  s->tlp_pending = 0;
  size_t n = 0;
  if (has_new_data(s) && table_room(s)) {
    n = emit_new(s, buf, 1);
  } else {
    for (uint32_t seq = s->seq - 1; udx_seq_le(s->remote_acked, seq); seq--) {
      udx_pkt *p = pkt_at(s, seq);
      if (p->state != UDX_PKT_INFLIGHT) continue;
      p->sent_us = now;
      if (p->transmits < 255) p->transmits++;
      s->u->st.retransmits++;
      n = write_packet(s, p, buf, 0);
      break;
    }
  }
  s->tlp_deadline = FL_TIME_NONE;
  udx_arm_rto(s, now);
  return n;
}

static int may_send_new(udx_stream *s) {
  if (!has_new_data(s)) return 0;
  if (!table_room(s)) return 0;
  uint32_t wnd = udx_send_window(s);
  if (wnd == 0) {
    if (s->inflight == 0 && s->zwp_deadline == FL_TIME_NONE) {
      s->heartbeat_pending = 1;
      s->zwp_deadline = s->u->now_us + s->rto_us;
      s->zwp_interval_us = 2 * s->rto_us;
    }
    return 0;
  }
  return s->inflight < wnd;
}

/* The next packet of this stream, written into buf, or 0 when it has
 * nothing it may send now (a pacing deadline is set if that is why). */
int udx_stream_emit(udx_stream *s, uint8_t *buf, size_t cap) {
  assert(cap >= FL_UDX_DGRAM_BYTES_MAX);
  if (!s->connected) return 0;
  if (s->destroy_pending) {
    s->destroy_pending = 0;
    size_t n = emit_simple(s, buf, FL_UDX_FLAG_DESTROY, s->seq);
    s->seq++;
    return (int)n;
  }
  if (s->closed) return (int)emit_final_ack(s, buf, cap);
  if (s->need_ack && s->ooo_count > 0) return (int)udx_emit_ack(s, buf, cap);
  if (s->tlp_pending) {
    size_t n = emit_tlp(s, buf);
    if (n) return (int)n;
  }
  uint64_t now = s->u->now_us;
  int want_rtx = s->lost_count > 0 && s->inflight < s->cwnd;
  int want_new = !want_rtx && may_send_new(s);
  if (want_rtx || want_new) {
    udx_cc_refill(s, now);
    if (s->tokens > 0) {
      s->pace_deadline = FL_TIME_NONE;
      return (int)(want_rtx ? emit_rtx(s, buf) : emit_new(s, buf, 0));
    }
    uint64_t wait = (uint64_t)(-s->tokens / s->pacing_bytes_per_us) + 1;
    s->pace_deadline = now + wait;
  } else if (!has_new_data(s) && s->lost_count == 0 && s->inflight < s->cwnd) {
    /* Nothing to send with window to spare: samples now are app-limited. */
    uint64_t mark = s->delivered + s->inflight;
    s->app_limited_until = mark ? mark : 1;
  }
  if (s->need_ack) return (int)udx_emit_ack(s, buf, cap);
  if (s->heartbeat_pending) {
    s->heartbeat_pending = 0;
    return (int)emit_simple(s, buf, FL_UDX_FLAG_HEARTBEAT, s->seq);
  }
  return 0;
}

/* ---- ACK processing ------------------------------------------------------- */

static void update_rtt(udx_stream *s, uint64_t rtt) {
  if (s->srtt_us == 0) {
    if (rtt > UDX_RTO_MAX_US) return;
    s->srtt_us = rtt ? rtt : 1;
    s->rttvar_us = rtt / 2;
  } else {
    uint64_t lim = s->srtt_us + 5 * s->rttvar_us;
    if (rtt > (lim > 5000000u ? lim : 5000000u)) rtt = min_u64(lim, UDX_RTO_MAX_US);
    uint64_t d = s->srtt_us > rtt ? s->srtt_us - rtt : rtt - s->srtt_us;
    s->rttvar_us = (3 * s->rttvar_us + d) / 4;
    s->srtt_us = (7 * s->srtt_us + rtt) / 8;
    if (s->srtt_us == 0) s->srtt_us = 1;
  }
  uint64_t rto = s->srtt_us + 4 * s->rttvar_us;
  if (rto < UDX_RTO_MIN_US) rto = UDX_RTO_MIN_US;
  s->rto_us = min_u64(rto, UDX_RTO_MAX_US);
  uint64_t now = s->u->now_us;
  if (rtt < s->min_rtt_us || now > s->min_rtt_stamp_us + UDX_RACK_MIN_RTT_WIN_US) {
    s->min_rtt_us = rtt;
    s->min_rtt_stamp_us = now;
  }
  s->rtt_sampled_since_tlp = 1;
}

static void mtu_probe_done(udx_stream *s, int acked) {
  s->mtu_probe_inflight = 0;
  if (acked) {
    s->mtu = s->mtu_probe_size;
    s->mtu_probe_fails = 0;
    if (s->mtu >= s->mtu_max) {
      s->mtu_state = UDX_MTU_COMPLETE;
      return;
    }
    uint16_t next = (uint16_t)(s->mtu + FL_UDX_MTU_STEP);
    s->mtu_probe_size = next > s->mtu_max ? s->mtu_max : next;
    s->mtu_probe_wanted = 1;
    return;
  }
  s->u->st.mtu_probe_losses++;
  if (++s->mtu_probe_fails >= UDX_MTU_MAX_PROBES) {
    s->mtu_state = UDX_MTU_COMPLETE;
    return;
  }
  s->mtu_probe_wanted = 1;
}

static void mark_lost(udx_stream *s, udx_pkt *p) {
  assert(p->state == UDX_PKT_INFLIGHT);
  p->state = UDX_PKT_LOST;
  s->inflight--;
  s->lost_count++;
  if (udx_seq_lt(p->seq, s->rtx_cursor)) s->rtx_cursor = p->seq;
  if (p->is_probe) {
    p->is_probe = 0;
    mtu_probe_done(s, 0);
  }
}

static void ack_one(udx_stream *s, uint32_t seq, int cumulative, udx_rate_sample *rs) {
  uint64_t now = s->u->now_us;
  if (s->pkts == NULL) return;
  udx_pkt *p = pkt_at(s, seq);
  if (p->state == UDX_PKT_FREE || p->seq != seq) return;
  if (p->state == UDX_PKT_SACKED) {
    if (cumulative) {
      p->state = UDX_PKT_FREE;
      s->sacked_count--;
    }
    return;
  }
  if (p->state == UDX_PKT_INFLIGHT) s->inflight--;
  else s->lost_count--;
  uint64_t rtt = now - p->sent_us;
  if (p->transmits == 1) {
    update_rtt(s, rtt);
    rs->rtt_us = (int64_t)rtt;
  }
  int spurious = p->transmits > 1 && rtt < s->min_rtt_us;
  if (!spurious && (p->sent_us > s->rack_xmit_us ||
                    (p->sent_us == s->rack_xmit_us && udx_seq_lt(s->rack_end_seq, seq + 1)))) {
    s->rack_xmit_us = p->sent_us;
    s->rack_end_seq = seq + 1;
    s->rack_rtt_us = rtt;
    s->rack_valid = 1;
  }
  if (p->transmits == 1 && udx_seq_lt(seq, s->highest_sacked)) s->reordering_seen = 1;
  if (p->is_probe) mtu_probe_done(s, 1);
  udx_cc_on_delivered(s, p, rs, now);
  if (cumulative) {
    p->state = UDX_PKT_FREE;
  } else {
    p->state = UDX_PKT_SACKED;
    s->sacked_count++;
    if (udx_seq_lt(s->highest_sacked, seq + 1)) s->highest_sacked = seq + 1;
  }
}

static uint64_t reo_wnd(const udx_stream *s) {
  if (!s->reordering_seen && (s->ca_state != UDX_CA_OPEN || s->sacked_count >= 3)) return 0;
  uint64_t r = s->min_rtt_us == UINT64_MAX ? 0 : s->min_rtt_us / 4;
  return r < s->srtt_us ? r : s->srtt_us;
}

/* RACK (RFC 8985): a packet sent before the most recently delivered one is
 * lost once its RTT plus the reordering window has passed. */
static void rack_detect(udx_stream *s, udx_rate_sample *rs) {
  s->rack_deadline = FL_TIME_NONE;
  if (!s->rack_valid) return;
  uint64_t now = s->u->now_us, reo = reo_wnd(s);
  int real_loss = 0;
  for (uint32_t seq = s->remote_acked; udx_seq_lt(seq, s->rack_end_seq); seq++) {
    udx_pkt *p = pkt_at(s, seq);
    if (p->state != UDX_PKT_INFLIGHT || p->sent_us > s->rack_xmit_us) continue;
    uint64_t deadline = p->sent_us + s->rack_rtt_us + reo;
    if (now >= deadline) {
      if (!p->is_probe) real_loss = 1;
      mark_lost(s, p);
      rs->lost++;
      s->u->st.rack_losses++;
    } else if (deadline < s->rack_deadline) {
      s->rack_deadline = deadline;
    }
  }
  if (real_loss && s->ca_state == UDX_CA_OPEN) {
    s->ca_state = UDX_CA_RECOVERY;
    s->recovery_end_seq = s->seq;
    udx_cc_on_recovery(s);
  }
}

static void process_sacks(udx_stream *s, const fl_udx_packet *p, udx_rate_sample *rs) {
  for (size_t i = 0; i < p->sack_count; i++) {
    fl_udx_sack b = fl_udx_packet_sack(p, i);
    /* Accept only remote_acked <= start < end <= seq (spec §3 step 11),
     * measured as unsigned distances from remote_acked: signed sequence
     * comparisons are ambiguous 2^31 apart, and a fuzzed block that slipped
     * through one made us walk two billion sequence numbers. */
    uint32_t from = b.start - s->remote_acked, to = b.end - s->remote_acked;
    if (from >= to || to > s->seq - s->remote_acked) {
      s->u->st.bad_sacks++;
      continue;
    }
    s->sacks_seen = 1;
    s->tlp_deadline = FL_TIME_NONE;
    for (uint32_t seq = b.start; seq != b.end; seq++) ack_one(s, seq, 0, rs);
  }
}

static void after_ack_timers(udx_stream *s, int advanced) {
  uint64_t now = s->u->now_us;
  if (s->inflight + s->lost_count + s->sacked_count == 0) {
    s->rto_deadline = FL_TIME_NONE;
    s->tlp_deadline = FL_TIME_NONE;
    s->sacks_seen = 0;
    if (s->keepalive_ms) s->ka_deadline = now + (uint64_t)s->keepalive_ms * 1000u;
  } else {
    if (advanced) udx_arm_rto(s, now);
    if (s->lost_count == 0 && s->rack_deadline == FL_TIME_NONE &&
        (advanced || s->tlp_deadline == FL_TIME_NONE))
      arm_tlp(s, now);
  }
}

static void window_update(udx_stream *s, const fl_udx_header *h) {
  if (udx_seq_lt(h->ack, s->remote_acked)) return;
  if (udx_seq_lt(s->wl1, h->seq) || (s->wl1 == h->seq && udx_seq_le(s->wl2, h->ack))) {
    s->rwnd_remote = h->rwnd;
    s->wl1 = h->seq;
    s->wl2 = h->ack;
    if (h->rwnd > 0) s->zwp_deadline = FL_TIME_NONE;
  }
}

void udx_process_ack(udx_stream *s, const fl_udx_packet *p) {
  const fl_udx_header *h = &p->h;
  if (udx_seq_lt(s->seq, h->ack)) { /* acks what we never sent: ignore it */
    s->u->st.bad_acks++;
    return;
  }
  window_update(s, h);
  udx_rate_sample rs;
  memset(&rs, 0, sizeof(rs));
  rs.rtt_us = -1;
  int advanced = udx_seq_lt(s->remote_acked, h->ack);
  while (udx_seq_lt(s->remote_acked, h->ack)) {
    ack_one(s, s->remote_acked, 1, &rs);
    s->remote_acked++;
  }
  if (advanced) {
    s->snd_una_off =
        s->remote_acked == s->seq ? s->snd_nxt_off : pkt_at(s, s->remote_acked)->off;
    if (udx_seq_lt(s->rtx_cursor, s->remote_acked)) s->rtx_cursor = s->remote_acked;
    if (s->mtu_state == UDX_MTU_BASE_STATE && s->mtu_max > s->mtu) {
      s->mtu_state = UDX_MTU_SEARCH;
      s->mtu_probe_size = (uint16_t)(s->mtu + FL_UDX_MTU_STEP);
      if (s->mtu_probe_size > s->mtu_max) s->mtu_probe_size = s->mtu_max;
      s->mtu_probe_wanted = 1;
    }
  }
  if (s->end_sent && !s->end_acked && udx_seq_lt(s->end_seq, s->remote_acked)) {
    /* The reference answers the ACK of its END with an ACK and skips SACKs. */
    s->end_acked = 1;
    s->need_ack = 1;
    udx_emit(s, UDX_EV_ACKED);
  } else {
    process_sacks(s, p, &rs);
  }
  if (s->ca_state != UDX_CA_OPEN && udx_seq_le(s->recovery_end_seq, s->remote_acked)) {
    s->ca_state = UDX_CA_OPEN;
    if (s->cwnd < s->bbr.prior_cwnd) s->cwnd = s->bbr.prior_cwnd;
  }
  rack_detect(s, &rs);
  if (rs.acked || rs.lost) udx_cc_on_ack(s, &rs, s->u->now_us);
  after_ack_timers(s, advanced);
  if (s->change_pending && udx_seq_le(s->change_seq, s->remote_acked)) {
    s->change_pending = 0;
    udx_emit(s, UDX_EV_REMOTE_CHANGED);
  }
  if (s->drain_wanted && s->write_off - s->snd_una_off <= s->u->cfg.send_buf_max / 2) {
    s->drain_wanted = 0;
    udx_emit(s, UDX_EV_DRAIN);
  }
  udx_kick(s);
}

/* ---- Timers ---------------------------------------------------------------- */

static void rto_fire(udx_stream *s, uint64_t now) {
  s->u->st.rto_fires++;
  uint64_t reo = reo_wnd(s);
  int first = 1;
  for (uint32_t seq = s->remote_acked; udx_seq_lt(seq, s->seq); seq++) {
    udx_pkt *p = pkt_at(s, seq);
    if (p->state != UDX_PKT_INFLIGHT && p->state != UDX_PKT_LOST) continue;
    int due = first || (s->rack_valid && p->sent_us + s->rack_rtt_us + reo <= now);
    first = 0;
    if (!due) continue;
    if (p->rto_timeouts >= UDX_MAX_RTO_TIMEOUTS) {
      udx_close(s, FL_ERR_TIMEOUT);
      return;
    }
    p->rto_timeouts++;
    if (p->state == UDX_PKT_INFLIGHT) mark_lost(s, p);
  }
  udx_cc_on_rto(s);
  s->ca_state = UDX_CA_LOSS;
  s->recovery_end_seq = s->seq;
  s->rto_deadline = now + 2 * s->rto_us;
  s->tlp_deadline = FL_TIME_NONE;
  udx_kick(s);
}

void udx_stream_timeout(udx_stream *s, uint64_t now) {
  if (s->closed) {
    if (s->linger_until != 0 && now >= s->linger_until) {
      s->linger_until = 0;
      udx_kick(s); /* poll_transmit frees it */
    }
    return;
  }
  if (now >= s->rto_deadline) {
    if (s->inflight + s->lost_count + s->sacked_count == 0) s->rto_deadline = FL_TIME_NONE;
    else rto_fire(s, now);
    if (s->closed) return;
  }
  if (now >= s->rack_deadline) {
    udx_rate_sample rs;
    memset(&rs, 0, sizeof(rs));
    rs.rtt_us = -1;
    rack_detect(s, &rs);
    if (rs.lost) {
      udx_cc_on_ack(s, &rs, now);
      udx_kick(s);
    }
  }
  if (now >= s->tlp_deadline) {
    s->tlp_deadline = FL_TIME_NONE;
    if (s->rtt_sampled_since_tlp && s->inflight > 0) {
      s->rtt_sampled_since_tlp = 0;
      s->tlp_pending = 1;
      s->u->st.tlp_fires++;
      udx_kick(s);
    }
  }
  if (now >= s->zwp_deadline) {
    if (s->rwnd_remote == 0) {
      s->heartbeat_pending = 1;
      s->zwp_deadline = now + s->zwp_interval_us;
      udx_kick(s);
    } else {
      s->zwp_deadline = FL_TIME_NONE;
    }
  }
  if (now >= s->ka_deadline) {
    s->ka_deadline = s->keepalive_ms ? now + (uint64_t)s->keepalive_ms * 1000u : FL_TIME_NONE;
    if (s->keepalive_ms && s->inflight + s->lost_count == 0) {
      s->heartbeat_pending = 1;
      udx_kick(s);
    }
  }
  if (now >= s->pace_deadline) {
    s->pace_deadline = FL_TIME_NONE;
    udx_kick(s);
  }
}

uint64_t udx_stream_deadline(const udx_stream *s) {
  if (s->closed) return s->linger_until ? s->linger_until : FL_TIME_NONE;
  uint64_t d = min_u64(s->rto_deadline, s->rack_deadline);
  d = min_u64(d, s->tlp_deadline);
  d = min_u64(d, s->zwp_deadline);
  d = min_u64(d, s->ka_deadline);
  return min_u64(d, s->pace_deadline);
}
