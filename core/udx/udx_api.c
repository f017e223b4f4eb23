/*
 * udx_api.c — the stream calls of the public API: ids, open/connect,
 * write/end/destroy/read, messages, relaying, remote change, keepalive.
 */
#include <assert.h>
#include <string.h>

#include "udx/udx_internal.h"

static int time_ok(fl_udx *u, uint64_t now) {
  if (now < u->now_us) return 0;
  u->now_us = now;
  return 1;
}

/* A live (not closed) stream by id, after the common argument checks. */
static int lookup(fl_udx *u, uint64_t now, uint32_t id, udx_stream **out) {
  *out = NULL;
  if (u == NULL || !time_ok(u, now)) return FL_ERR_INVALID;
  udx_stream *s = udx_find(u, id);
  if (s == NULL) return FL_ERR_NOT_FOUND;
  if (s->closed) return FL_ERR_CLOSED;
  *out = s;
  return 0;
}

int fl_udx_stream_id_alloc(fl_udx *u, fl_drbg *rng, uint32_t *out_id) {
  if (out_id) *out_id = 0;
  if (u == NULL || rng == NULL || out_id == NULL) return FL_ERR_INVALID;
  if (u->count >= u->cfg.streams_max) return FL_ERR_LIMIT;
  /* hyperdht's raw-stream-set: keep ids distinct in their low bits, widening
   * the mask as the set grows, so the reference's table indexes cleanly. */
  while (u->count >= u->id_mask / 2 && u->id_mask < 0x7FFFFFFFu) u->id_mask = 2 * u->id_mask + 1;
  for (int tries = 0; tries < 1000; tries++) {
    uint32_t id = fl_drbg_u32(rng);
    int clash = 0;
    for (uint32_t i = 0; i < u->count && !clash; i++)
      clash = (u->live[i]->local_id & u->id_mask) == (id & u->id_mask);
    if (!clash) {
      *out_id = id;
      return 0;
    }
  }
  return FL_ERR_LIMIT;
}

int fl_udx_stream_open(fl_udx *u, uint64_t now_us, uint32_t local_id) {
  if (u == NULL || !time_ok(u, now_us)) return FL_ERR_INVALID;
  if (udx_find(u, local_id) != NULL) return FL_ERR_INVALID;
  if (u->count >= u->cfg.streams_max) {
    u->st.streams_refused++;
    return FL_ERR_LIMIT;
  }
  udx_stream *s = fl_mem_calloc(u->mem, 1, sizeof(*s));
  if (s == NULL) return FL_ERR_NOMEM;
  s->u = u;
  s->local_id = local_id;
  s->remote.family = FL_ADDR_IPV4;
  s->mtu = FL_UDX_MTU_BASE;
  s->mtu_max = u->cfg.mtu_max;
  s->mtu_state = UDX_MTU_BASE_STATE;
  s->rto_us = UDX_RTO_INIT_US;
  s->rwnd_remote = FL_UDX_DEFAULT_RWND;
  s->rwnd_advertised = u->cfg.recv_buf_max;
  s->ca_state = UDX_CA_OPEN;
  s->min_rtt_us = UINT64_MAX;
  s->rto_deadline = s->rack_deadline = s->tlp_deadline = FL_TIME_NONE;
  s->zwp_deadline = s->ka_deadline = s->pace_deadline = FL_TIME_NONE;
  udx_cc_init(s);
  s->live_idx = u->count;
  u->live[u->count++] = s;
  udx_table_insert(u, s);
  assert(udx_find(u, local_id) == s);
  u->st.streams_cur = u->count;
  if (u->count > u->st.streams_high) u->st.streams_high = u->count;
  return 0;
}

int fl_udx_stream_connect(fl_udx *u, uint64_t now_us, uint32_t local_id, uint32_t remote_id,
                          uint32_t sock, const fl_addr *to) {
  udx_stream *s;
  int rc = lookup(u, now_us, local_id, &s);
  if (rc) return rc;
  if (s->connected || s->listening) return FL_ERR_STATE;
  if (to != NULL && to->family != FL_ADDR_IPV4 && to->family != FL_ADDR_IPV6)
    return FL_ERR_INVALID;
  s->remote_id = remote_id;
  s->sock = sock;
  if (to == NULL) {
    s->listening = 1;
  } else {
    s->remote = *to;
    s->connected = 1;
    udx_kick(s);
  }
  return 0;
}

int fl_udx_stream_write(fl_udx *u, uint64_t now_us, uint32_t id, const uint8_t *data,
                        size_t len) {
  udx_stream *s;
  int rc = lookup(u, now_us, id, &s);
  if (rc) return rc;
  if (data == NULL && len > 0) return FL_ERR_INVALID;
  if (s->end_requested) return FL_ERR_STATE;
  size_t used = (size_t)(s->write_off - s->snd_una_off);
  size_t room = used >= u->cfg.send_buf_max ? 0 : u->cfg.send_buf_max - used;
  size_t n = len < room ? len : room;
  if (n > 0x7FFFFFFF) n = 0x7FFFFFFF;
  if (n < len) {
    s->drain_wanted = 1;
    u->st.write_refused++;
  }
  if (n == 0) return 0;
  if (udx_sbuf_reserve(s, n) != 0) return FL_ERR_NOMEM;
  size_t mask = s->sbuf_cap - 1, at = (size_t)(s->write_off & mask);
  size_t first = s->sbuf_cap - at < n ? s->sbuf_cap - at : n;
  memcpy(s->sbuf + at, data, first);
  memcpy(s->sbuf, data + first, n - first);
  s->write_off += n;
  if (used + n > u->st.send_buf_high) u->st.send_buf_high = used + n;
  udx_kick(s);
  return (int)n;
}

int fl_udx_stream_end(fl_udx *u, uint64_t now_us, uint32_t id) {
  udx_stream *s;
  int rc = lookup(u, now_us, id, &s);
  if (rc) return rc;
  if (s->end_requested) return FL_ERR_STATE;
  s->end_requested = 1;
  udx_kick(s);
  return 0;
}

int fl_udx_stream_destroy(fl_udx *u, uint64_t now_us, uint32_t id) {
  udx_stream *s;
  int rc = lookup(u, now_us, id, &s);
  if (rc) return rc;
  /* One DESTROY, never retransmitted (spec §12); nothing if never connected. */
  if (s->connected) s->destroy_pending = 1;
  udx_close(s, 0);
  return 0;
}

int fl_udx_stream_read(fl_udx *u, uint64_t now_us, uint32_t id, uint8_t *out, size_t cap) {
  if (u == NULL || (out == NULL && cap > 0)) return FL_ERR_INVALID;
  if (!time_ok(u, now_us)) return FL_ERR_INVALID;
  udx_stream *s = udx_find(u, id);
  if (s == NULL) return FL_ERR_NOT_FOUND;
  if (cap > 0x7FFFFFFF) cap = 0x7FFFFFFF;
  int n = udx_stream_read_bytes(s, out, cap);
  udx_check_done(s);
  return n;
}

int fl_udx_stream_send_message(fl_udx *u, uint64_t now_us, uint32_t id, const uint8_t *data,
                               size_t len) {
  udx_stream *s;
  int rc = lookup(u, now_us, id, &s);
  if (rc) return rc;
  if (data == NULL && len > 0) return FL_ERR_INVALID;
  if (!s->connected) return FL_ERR_STATE;
  if (len > udx_mss(s)) return FL_ERR_RANGE;
  uint8_t pkt[FL_UDX_DGRAM_BYTES_MAX];
  fl_udx_header h = {FL_UDX_FLAG_MESSAGE, 0, s->remote_id, udx_rwnd_now(s), s->seq, s->ack};
  int hn = fl_udx_header_encode(&h, pkt, sizeof(pkt));
  assert(hn == (int)FL_UDX_HEADER_BYTES);
  if (len) memcpy(pkt + hn, data, len);
  rc = udx_msg_push(u, &u->msg_out, s->sock, s->local_id, &s->remote, pkt, (size_t)hn + len);
  if (rc) {
    u->st.msgs_dropped++;
    return rc;
  }
  u->st.msgs_out++;
  return 0;
}

int fl_udx_stream_relay_to(fl_udx *u, uint32_t id, uint32_t to_id) {
  if (u == NULL) return FL_ERR_INVALID;
  udx_stream *s = udx_find(u, id);
  if (s == NULL || udx_find(u, to_id) == NULL) return FL_ERR_NOT_FOUND;
  if (s->closed) return FL_ERR_CLOSED;
  s->relay = 1;
  s->relay_to_id = to_id;
  return 0;
}

int fl_udx_stream_change_remote(fl_udx *u, uint64_t now_us, uint32_t id, uint32_t remote_id,
                                uint32_t sock, const fl_addr *to) {
  udx_stream *s;
  int rc = lookup(u, now_us, id, &s);
  if (rc) return rc;
  if (to == NULL || !s->connected) return FL_ERR_STATE;
  s->remote_id = remote_id;
  s->sock = sock;
  s->remote = *to;
  /* MTU is per path: start over at the base (spec §9). */
  s->mtu = FL_UDX_MTU_BASE;
  s->mtu_state = UDX_MTU_BASE_STATE;
  s->mtu_probe_wanted = 0;
  s->mtu_probe_fails = 0;
  if (s->seq != s->remote_acked) {
    s->change_pending = 1;
    s->change_seq = s->seq;
  } else {
    udx_emit(s, UDX_EV_REMOTE_CHANGED);
  }
  udx_kick(s);
  return 0;
}

int fl_udx_stream_set_mtu_max(fl_udx *u, uint32_t id, uint32_t mtu) {
  if (u == NULL) return FL_ERR_INVALID;
  udx_stream *s = udx_find(u, id);
  if (s == NULL) return FL_ERR_NOT_FOUND;
  if (mtu > FL_UDX_MTU_MAX) mtu = FL_UDX_MTU_MAX;
  if (mtu < s->mtu) mtu = s->mtu; /* never below what is already proven */
  s->mtu_max = (uint16_t)mtu;
  if (s->mtu_max <= s->mtu) {
    s->mtu_state = UDX_MTU_COMPLETE;
    s->mtu_probe_wanted = 0;
  } else if (s->mtu_probe_size > s->mtu_max) {
    s->mtu_probe_size = s->mtu_max;
  }
  return 0;
}

int fl_udx_stream_set_keepalive(fl_udx *u, uint32_t id, uint32_t ms) {
  if (u == NULL) return FL_ERR_INVALID;
  udx_stream *s = udx_find(u, id);
  if (s == NULL) return FL_ERR_NOT_FOUND;
  s->keepalive_ms = ms;
  s->ka_deadline = ms ? u->now_us + (uint64_t)ms * 1000u : FL_TIME_NONE;
  return 0;
}

int fl_udx_stream_info_get(const fl_udx *u, uint32_t id, fl_udx_stream_info *out) {
  if (out) memset(out, 0, sizeof(*out));
  if (u == NULL || out == NULL) return FL_ERR_INVALID;
  const udx_stream *s = udx_find(u, id);
  if (s == NULL) return FL_ERR_NOT_FOUND;
  out->local_id = s->local_id;
  out->remote_id = s->remote_id;
  out->connected = s->connected;
  out->ended_local = s->end_acked;
  out->ended_remote = s->eof_done;
  out->seq = s->seq;
  out->ack = s->ack;
  out->remote_acked = s->remote_acked;
  out->inflight = s->inflight;
  out->cwnd = s->cwnd;
  out->mtu = s->mtu;
  out->rwnd_remote = s->rwnd_remote;
  out->srtt_us = s->srtt_us;
  out->rto_us = s->rto_us;
  out->pacing_bytes_per_s = (uint64_t)(s->pacing_bytes_per_us * 1e6);
  out->send_buffered = (size_t)(s->write_off - s->snd_una_off);
  out->recv_buffered = s->rbuf_len;
  out->mtu_state = s->mtu_state;
  out->cc_state = s->bbr.mode;
  return 0;
}
