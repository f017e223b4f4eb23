/*
 * udx_recv.c — the receiving half of a stream: the per-packet receive path
 * in the reference's order (spec/udx.md §3), the out-of-order table, the
 * in-order byte ring the reader drains, SACK blocks, EOF and clean close.
 */
#include <assert.h>
#include <string.h>

#include "udx/udx_internal.h"

static size_t rbuf_room(const udx_stream *s) {
  size_t limit = (size_t)s->u->cfg.recv_buf_max + UDX_RECV_SLACK;
  return limit - s->rbuf_len;
}

/* Grow the ring to hold `need` more bytes (never past the limit + slack). */
static int rbuf_reserve(udx_stream *s, size_t need) {
  if (s->rbuf_len + need <= s->rbuf_cap) return 0;
  size_t cap = s->rbuf_cap ? s->rbuf_cap : 65536;
  while (cap < s->rbuf_len + need) cap *= 2;
  uint8_t *nb = fl_mem_alloc(s->u->mem, cap);
  if (nb == NULL) return FL_ERR_NOMEM;
  for (size_t i = 0; i < s->rbuf_len; i++) nb[i] = s->rbuf[(s->rbuf_head + i) % s->rbuf_cap];
  fl_mem_free(s->u->mem, s->rbuf, s->rbuf_cap);
  s->rbuf = nb;
  s->rbuf_cap = cap;
  s->rbuf_head = 0;
  return 0;
}

static void rbuf_append(udx_stream *s, const uint8_t *data, size_t len) {
  size_t tail = (s->rbuf_head + s->rbuf_len) % s->rbuf_cap;
  size_t first = s->rbuf_cap - tail < len ? s->rbuf_cap - tail : len;
  memcpy(s->rbuf + tail, data, first);
  memcpy(s->rbuf, data + first, len - first);
  s->rbuf_len += len;
}

int udx_stream_read_bytes(udx_stream *s, uint8_t *out, size_t cap) {
  size_t n = s->rbuf_len < cap ? s->rbuf_len : cap;
  size_t first = s->rbuf_cap - s->rbuf_head < n ? s->rbuf_cap - s->rbuf_head : n;
  if (n == 0) return 0;
  memcpy(out, s->rbuf + s->rbuf_head, first);
  memcpy(out + first, s->rbuf, n - first);
  s->rbuf_head = (s->rbuf_head + n) % s->rbuf_cap;
  s->rbuf_len -= n;
  /* Re-open the window with an ACK once half of it is free again, so a
   * sender stalled on our window need not wait for its zero-window probe. */
  uint32_t half = s->u->cfg.recv_buf_max / 2;
  if (s->rwnd_advertised < half && udx_rwnd_now(s) >= half) {
    s->need_ack = 1;
    udx_kick(s);
  }
  udx_check_eof(s);
  return (int)n;
}

/* Deliver one in-order DATA/END payload; 0 or FL_ERR_LIMIT when the reader
 * is so far behind that even the slack is used (the sender broke the window). */
static int deliver(udx_stream *s, uint8_t flags, const uint8_t *data, size_t len) {
  if (len > 0) {
    if (len > rbuf_room(s) || rbuf_reserve(s, len) != 0) return FL_ERR_LIMIT;
    rbuf_append(s, data, len);
    udx_emit(s, UDX_EV_READABLE);
  }
  if (flags & FL_UDX_FLAG_END) {
    s->remote_ended_known = 1;
    s->remote_end_seq = s->ack;
  }
  s->ack++;
  return 0;
}

static udx_ooo *ooo_at(const udx_stream *s, uint32_t seq) {
  return &s->ooo[seq & (s->u->cfg.ooo_max - 1)];
}

static void ooo_store(udx_stream *s, const fl_udx_packet *p) {
  fl_udx *u = s->u;
  uint32_t dist = p->h.seq - s->ack;
  if (dist >= u->cfg.ooo_max) { /* beyond the table: the sender will resend */
    u->st.ooo_dropped++;
    return;
  }
  if (s->ooo == NULL && (s->ooo = fl_mem_calloc(u->mem, u->cfg.ooo_max, sizeof(udx_ooo))) == NULL) {
    u->st.ooo_dropped++;
    return;
  }
  udx_ooo *o = ooo_at(s, p->h.seq);
  if (o->valid) {
    u->st.dup_packets++;
    return;
  }
  if (o->buf == NULL) {
    o->buf = fl_mem_alloc(u->mem, FL_UDX_DGRAM_BYTES_MAX);
    if (o->buf == NULL) {
      u->st.ooo_dropped++;
      return;
    }
  }
  if (p->payload_len) memcpy(o->buf, p->payload, p->payload_len); /* a bare END has none */
  o->len = (uint16_t)p->payload_len;
  o->flags = p->h.type;
  o->seq = p->h.seq;
  o->valid = 1;
  s->ooo_count++;
  u->st.ooo_cur++;
  if (u->st.ooo_cur > u->st.ooo_high) u->st.ooo_high = u->st.ooo_cur;
}

static void ooo_drain(udx_stream *s) {
  while (s->ooo_count > 0) {
    udx_ooo *o = ooo_at(s, s->ack);
    if (!o->valid || o->seq != s->ack) return;
    if (deliver(s, o->flags, o->buf, o->len) != 0) return; /* reader full: keep it */
    o->valid = 0;
    s->ooo_count--;
    s->u->st.ooo_cur--;
  }
}

/* SACK blocks, lowest runs first as the reference sends them, at most
 * FL_UDX_MAX_SACKS. When there are more runs than blocks, the last block
 * names the highest run instead: RACK marks losses only below the highest
 * sequence it has seen delivered, so without it a heavy-loss flight beyond
 * the 50th run would wait for an RTO. (The unreported runs in between may
 * be resent needlessly; the receiver drops the duplicates.) */
size_t udx_build_sacks(udx_stream *s, uint8_t *out, size_t cap) {
  size_t n = 0, found = 0, max = cap / 8 < FL_UDX_MAX_SACKS ? cap / 8 : FL_UDX_MAX_SACKS;
  uint32_t start = 0;
  int in_run = 0;
  for (uint32_t i = 1; i < s->u->cfg.ooo_max && found < s->ooo_count; i++) {
    uint32_t seq = s->ack + i;
    udx_ooo *o = ooo_at(s, seq);
    int have = o->valid && o->seq == seq;
    if (have) found++;
    if (have && !in_run) {
      start = seq;
      in_run = 1;
    }
    int last = found == s->ooo_count;
    if (in_run && (!have || last)) {
      uint32_t end = have ? seq + 1 : seq;
      if (n / 8 == max) n -= 8; /* full: keep overwriting the last block */
      fl_udx_put32(out + n, start);
      fl_udx_put32(out + n + 4, end);
      n += 8;
      in_run = 0;
    }
  }
  return n;
}

void udx_check_eof(udx_stream *s) {
  if (s->eof_done || !s->remote_ended_known) return;
  if (udx_seq_lt(s->remote_end_seq, s->ack) && s->rbuf_len == 0) {
    s->eof_done = 1;
    udx_emit(s, UDX_EV_END);
    udx_check_done(s);
  }
}

void udx_check_done(udx_stream *s) {
  if (s->closed || !s->end_acked || !s->eof_done) return;
  udx_close(s, 0);
  s->linger_until = s->u->now_us + UDX_LINGER_RTOS * s->rto_us;
}

/* Reliable part of the receive path (spec §3 step 7). Returns 1 when the
 * stream closed (DESTROY). */
static int input_seq(udx_stream *s, const fl_udx_packet *p) {
  const fl_udx_header *h = &p->h;
  uint8_t rel = h->type & (FL_UDX_FLAG_DATA | FL_UDX_FLAG_END);
  if (!udx_seq_le(s->ack, h->seq)) {
    if (rel) { /* already have it: our ACK was lost, say so again */
      s->u->st.dup_packets++;
      s->need_ack = 1;
    }
    return 0;
  }
  if (rel && !s->eof_done) {
    if (h->seq == s->ack) {
      if (deliver(s, h->type, p->payload, p->payload_len) != 0) s->u->st.ooo_dropped++;
    } else {
      ooo_store(s, p);
    }
  }
  if (h->type & FL_UDX_FLAG_DESTROY) {
    udx_close(s, FL_ERR_CLOSED);
    return 1;
  }
  return 0;
}

/* The reference ACKs every DATA packet at once. A driver hands us a whole
 * batch before it polls, so acking only at poll time would collapse a batch
 * into one ACK and starve the sender's ACK clock (and one lost ACK then
 * costs an RTO). So: snapshot an ACK into the queue after every second
 * in-order packet and after every out-of-order one (its SACKs carry the
 * news); anything left is sent (or piggybacked) at poll time. */
static void ack_now_or_later(udx_stream *s) {
  fl_udx *u = s->u;
  s->need_ack = 1;
  if (++s->unacked_in < 2 && s->ooo_count == 0) return;
  udx_msg_ring *r = &u->ack_out;
  if (r->len == r->cap) return; /* full: the pending flag still sends one */
  udx_msg *m = &r->slots[(r->head + r->len) % r->cap];
  if (m->buf == NULL && (m->buf = fl_mem_alloc(u->mem, FL_UDX_DGRAM_BYTES_MAX)) == NULL) return;
  m->len = (uint16_t)udx_emit_ack(s, m->buf, FL_UDX_DGRAM_BYTES_MAX);
  m->sock = s->sock;
  m->addr = s->remote;
  m->id = s->local_id;
  r->len++;
}

int udx_stream_input(udx_stream *s, uint32_t sock, const fl_addr *from, const fl_udx_packet *p,
                     const uint8_t *raw, size_t raw_len) {
  fl_udx *u = s->u;
  if (!s->connected && s->listening) { /* learn the peer from its first packet */
    s->connected = 1;
    s->listening = 0;
    s->sock = sock;
    s->remote = *from;
    udx_emit(s, UDX_EV_CONNECT);
  }
  if (s->relay) {
    udx_stream *t = udx_find(u, s->relay_to_id);
    if (t != NULL && t->connected) {
      uint8_t tmp[FL_UDX_DGRAM_BYTES_MAX];
      size_t n = raw_len < sizeof(tmp) ? raw_len : sizeof(tmp);
      memcpy(tmp, raw, n);
      fl_udx_put32(tmp + 4, t->remote_id);
      if (udx_msg_push(u, &u->relay_out, t->sock, 0, &t->remote, tmp, n) == 0) u->st.relayed++;
    }
    if (p->h.type & FL_UDX_FLAG_DESTROY) udx_close(s, FL_ERR_CLOSED);
    return 0;
  }
  if (p->h.type & FL_UDX_FLAG_HEARTBEAT) {
    s->need_ack = 1;
    udx_kick(s);
    return 0;
  }
  if (input_seq(s, p)) return 0;
  if (p->h.type & FL_UDX_FLAG_MESSAGE) {
    u->st.msgs_in++;
    if (udx_msg_push(u, &u->msg_in, sock, s->local_id, from, p->payload, p->payload_len) != 0)
      u->st.msgs_dropped++;
  }
  ooo_drain(s);
  if (p->h.type & (FL_UDX_FLAG_DATA | FL_UDX_FLAG_END)) ack_now_or_later(s);
  udx_process_ack(s, p);
  udx_check_eof(s);
  udx_check_done(s);
  udx_kick(s);
  return 0;
}
