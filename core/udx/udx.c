/*
 * udx.c — the fl_udx instance: the stream table, the five sans-IO calls,
 * the transmit round-robin, events, messages and the stream API.
 */
#include <assert.h>
#include <string.h>

#include "udx/udx_internal.h"

_Static_assert((FL_UDX_OOO_MAX & (FL_UDX_OOO_MAX - 1)) == 0, "ooo table indexes by mask");
_Static_assert(FL_UDX_INFLIGHT_MAX == 2 * FL_UDX_OOO_MAX, "the in-flight table is 2x ooo");
_Static_assert(FL_UDX_RECV_BUF_MAX <= 0xFFFFFFFFu, "the window field is 32 bits");

void fl_udx_config_default(fl_udx_config *c) {
  if (c == NULL) return;
  c->streams_max = FL_UDX_STREAMS_MAX;
  c->send_buf_max = FL_UDX_SEND_BUF_MAX;
  c->recv_buf_max = FL_UDX_RECV_BUF_MAX;
  c->ooo_max = FL_UDX_OOO_MAX;
  c->msg_queue_max = FL_UDX_MSG_QUEUE_MAX;
  c->relay_queue_max = FL_UDX_RELAY_QUEUE_MAX;
  c->mtu_max = FL_UDX_MTU_MAX;
}

static int config_ok(const fl_udx_config *c) {
  return c->streams_max > 0 && c->streams_max <= (1u << 20) && c->ooo_max >= 16 &&
         c->ooo_max <= FL_UDX_OOO_MAX && (c->ooo_max & (c->ooo_max - 1)) == 0 &&
         c->send_buf_max >= 4096 && c->recv_buf_max >= 4096 &&
         c->recv_buf_max <= (1u << 30) && c->msg_queue_max > 0 && c->relay_queue_max > 0 &&
         c->mtu_max <= FL_UDX_MTU_MAX;
}

/* ---- bounded datagram rings (messages in/out, relayed packets) ------------ */

static int ring_init(fl_udx *u, udx_msg_ring *r, uint32_t cap) {
  r->slots = fl_mem_calloc(u->mem, cap, sizeof(udx_msg));
  if (r->slots == NULL) return FL_ERR_NOMEM;
  r->cap = cap;
  return 0;
}

static void ring_deinit(fl_udx *u, udx_msg_ring *r) {
  if (r->slots == NULL) return;
  for (uint32_t i = 0; i < r->cap; i++) fl_mem_free(u->mem, r->slots[i].buf, FL_UDX_DGRAM_BYTES_MAX);
  fl_mem_free(u->mem, r->slots, r->cap * sizeof(udx_msg));
}

/* Queue a copy; the newest is refused when full (FL_ERR_LIMIT). */
int udx_msg_push(fl_udx *u, udx_msg_ring *r, uint32_t sock, uint32_t id, const fl_addr *addr,
                 const uint8_t *data, size_t len) {
  if (len > FL_UDX_DGRAM_BYTES_MAX) return FL_ERR_RANGE;
  if (r->len == r->cap) {
    if (r == &u->relay_out) u->st.relay_dropped++;
    return FL_ERR_LIMIT;
  }
  udx_msg *m = &r->slots[(r->head + r->len) % r->cap];
  if (m->buf == NULL && (m->buf = fl_mem_alloc(u->mem, FL_UDX_DGRAM_BYTES_MAX)) == NULL)
    return FL_ERR_NOMEM;
  m->sock = sock;
  m->id = id;
  m->addr = *addr;
  m->len = (uint16_t)len;
  if (len) memcpy(m->buf, data, len);
  r->len++;
  if (r == &u->relay_out) {
    u->st.relay_queue_cur = r->len;
    if (r->len > u->st.relay_queue_high) u->st.relay_queue_high = r->len;
  }
  return 0;
}

static udx_msg *ring_peek(udx_msg_ring *r) { return r->len ? &r->slots[r->head] : NULL; }
static void ring_pop(udx_msg_ring *r) {
  r->head = (r->head + 1) % r->cap;
  r->len--;
}

/* ---- the stream table: open addressing on the local id -------------------- */

static uint32_t slot_of(const fl_udx *u, uint32_t id) {
  return (id * 2654435761u) & (u->table_cap - 1);
}

udx_stream *udx_find(const fl_udx *u, uint32_t id) {
  for (uint32_t i = slot_of(u, id), n = 0; n < u->table_cap; i = (i + 1) & (u->table_cap - 1), n++) {
    udx_stream *s = u->table[i];
    if (s == NULL) return NULL;
    if (s->local_id == id) return s;
  }
  return NULL;
}

void udx_table_insert(fl_udx *u, udx_stream *s) {
  uint32_t i = slot_of(u, s->local_id);
  while (u->table[i] != NULL) i = (i + 1) & (u->table_cap - 1);
  u->table[i] = s;
}

/* Remove with backward-shift deletion, so lookups never need tombstones. */
static void table_remove(fl_udx *u, uint32_t id) {
  uint32_t mask = u->table_cap - 1, i = slot_of(u, id);
  while (u->table[i] != NULL && u->table[i]->local_id != id) i = (i + 1) & mask;
  if (u->table[i] == NULL) return;
  u->table[i] = NULL;
  for (uint32_t j = (i + 1) & mask; u->table[j] != NULL; j = (j + 1) & mask) {
    uint32_t home = slot_of(u, u->table[j]->local_id);
    if (((j - home) & mask) >= ((j - i) & mask)) {
      u->table[i] = u->table[j];
      u->table[j] = NULL;
      i = j;
    }
  }
}

/* ---- lifecycle --------------------------------------------------------------- */

fl_udx *fl_udx_new(const fl_udx_config *cfg, const fl_mem *mem) {
  fl_udx_config c;
  if (cfg) c = *cfg;
  else fl_udx_config_default(&c);
  if (!config_ok(&c)) return NULL;
  if (mem == NULL) mem = fl_mem_default();
  fl_udx *u = fl_mem_calloc(mem, 1, sizeof(*u));
  if (u == NULL) return NULL;
  u->mem = mem;
  u->cfg = c;
  u->id_mask = 0xF;
  u->table_cap = 16;
  while (u->table_cap < 2 * c.streams_max) u->table_cap *= 2;
  u->table = fl_mem_calloc(mem, u->table_cap, sizeof(udx_stream *));
  u->live = fl_mem_calloc(mem, c.streams_max, sizeof(udx_stream *));
  if (u->table == NULL || u->live == NULL || ring_init(u, &u->msg_out, c.msg_queue_max) ||
      ring_init(u, &u->msg_in, c.msg_queue_max) || ring_init(u, &u->relay_out, c.relay_queue_max) ||
      ring_init(u, &u->ack_out, FL_UDX_ACK_QUEUE_MAX)) {
    fl_udx_free(u);
    return NULL;
  }
  return u;
}

static void stream_free(fl_udx *u, udx_stream *s) {
  if (s->ooo) {
    for (uint32_t i = 0; i < u->cfg.ooo_max; i++) {
      if (s->ooo[i].valid) u->st.ooo_cur--;
      fl_mem_free(u->mem, s->ooo[i].buf, FL_UDX_DGRAM_BYTES_MAX);
    }
  }
  fl_mem_free(u->mem, s->ooo, u->cfg.ooo_max * sizeof(udx_ooo));
  fl_mem_free(u->mem, s->pkts, s->pkts_cap * sizeof(udx_pkt));
  fl_mem_free(u->mem, s->sbuf, s->sbuf_cap);
  fl_mem_free(u->mem, s->rbuf, s->rbuf_cap);
  fl_mem_free(u->mem, s, sizeof(*s));
}

static void tx_remove(fl_udx *u, udx_stream *s);

static void stream_reap(fl_udx *u, udx_stream *s) {
  tx_remove(u, s);
  table_remove(u, s->local_id);
  assert(u->live[s->live_idx] == s);
  u->live[s->live_idx] = u->live[u->count - 1];
  u->live[s->live_idx]->live_idx = s->live_idx;
  u->count--;
  u->st.streams_cur = u->count;
  stream_free(u, s);
}

void fl_udx_free(fl_udx *u) {
  if (u == NULL) return;
  if (u->table) {
    for (uint32_t i = 0; i < u->table_cap; i++)
      if (u->table[i]) stream_free(u, u->table[i]);
    fl_mem_free(u->mem, u->table, u->table_cap * sizeof(udx_stream *));
  }
  fl_mem_free(u->mem, u->live, u->cfg.streams_max * sizeof(udx_stream *));
  ring_deinit(u, &u->msg_out);
  ring_deinit(u, &u->msg_in);
  ring_deinit(u, &u->relay_out);
  ring_deinit(u, &u->ack_out);
  fl_mem_free(u->mem, u, sizeof(*u));
}

static int time_ok(fl_udx *u, uint64_t now) {
  if (now < u->now_us) return 0;
  u->now_us = now;
  return 1;
}

/* ---- transmit list (round-robin over streams with something to send) ----- */

void udx_kick(udx_stream *s) {
  fl_udx *u = s->u;
  if (s->in_tx) return;
  s->in_tx = 1;
  s->tx_next = NULL;
  s->tx_prev = u->tx_tail;
  if (u->tx_tail) u->tx_tail->tx_next = s;
  else u->tx_head = s;
  u->tx_tail = s;
}

static void tx_remove(fl_udx *u, udx_stream *s) {
  if (!s->in_tx) return;
  if (s->tx_prev) s->tx_prev->tx_next = s->tx_next;
  else u->tx_head = s->tx_next;
  if (s->tx_next) s->tx_next->tx_prev = s->tx_prev;
  else u->tx_tail = s->tx_prev;
  s->in_tx = 0;
  s->tx_prev = s->tx_next = NULL;
}

/* ---- events ------------------------------------------------------------------ */

void udx_emit(udx_stream *s, uint16_t ev) {
  fl_udx *u = s->u;
  s->ev_flags |= ev;
  if (s->in_ev) return;
  s->in_ev = 1;
  s->ev_next = NULL;
  if (u->ev_tail) u->ev_tail->ev_next = s;
  else u->ev_head = s;
  u->ev_tail = s;
  u->st.events_cur++;
  if (u->st.events_cur > u->st.events_high) u->st.events_high = u->st.events_cur;
}

void udx_close(udx_stream *s, int32_t code) {
  if (s->closed) return;
  s->closed = 1;
  s->close_code = code;
  s->rto_deadline = s->rack_deadline = s->tlp_deadline = FL_TIME_NONE;
  s->zwp_deadline = s->ka_deadline = s->pace_deadline = FL_TIME_NONE;
  udx_emit(s, UDX_EV_CLOSE);
  udx_kick(s); /* a final ACK or DESTROY may still be due */
}

static const struct { uint16_t flag; uint32_t type; } ev_order[] = {
    {UDX_EV_CONNECT, FL_UDX_EVENT_CONNECT},   {UDX_EV_READABLE, FL_UDX_EVENT_READABLE},
    {UDX_EV_END, FL_UDX_EVENT_END},           {UDX_EV_DRAIN, FL_UDX_EVENT_DRAIN},
    {UDX_EV_ACKED, FL_UDX_EVENT_ACKED},       {UDX_EV_REMOTE_CHANGED, FL_UDX_EVENT_REMOTE_CHANGED},
    {UDX_EV_CLOSE, FL_UDX_EVENT_CLOSE}};

/* A closed stream is freed once its CLOSE was polled and its last packets
 * (a final ACK, a DESTROY) have left. */
static void maybe_reap(fl_udx *u, udx_stream *s) {
  if (!s->closed || !s->close_polled || s->need_ack || s->destroy_pending) return;
  if (s->linger_until != 0 && s->linger_until > u->now_us) return;
  stream_reap(u, s);
}

static int poll_stream_event(fl_udx *u, fl_udx_event *out) {
  while (u->ev_head) {
    udx_stream *s = u->ev_head;
    for (size_t i = 0; i < sizeof(ev_order) / sizeof(ev_order[0]); i++) {
      if (!(s->ev_flags & ev_order[i].flag)) continue;
      s->ev_flags &= (uint16_t)~ev_order[i].flag;
      out->type = ev_order[i].type;
      out->id = s->local_id;
      out->sock = s->sock;
      out->addr = s->remote;
      out->code = ev_order[i].flag == UDX_EV_CLOSE ? s->close_code : 0;
      if (s->ev_flags == 0) {
        u->ev_head = s->ev_next;
        if (u->ev_head == NULL) u->ev_tail = NULL;
        s->in_ev = 0;
        u->st.events_cur--;
      }
      if (ev_order[i].flag == UDX_EV_CLOSE) {
        s->close_polled = 1;
        if (!s->in_ev) maybe_reap(u, s);
      }
      return 1;
    }
    /* flags cleared meanwhile: unlink and look at the next */
    u->ev_head = s->ev_next;
    if (u->ev_head == NULL) u->ev_tail = NULL;
    s->in_ev = 0;
    u->st.events_cur--;
  }
  return 0;
}

int fl_udx_poll_event(fl_udx *u, fl_udx_event *out) {
  if (u == NULL || out == NULL) return FL_ERR_INVALID;
  memset(out, 0, sizeof(*out));
  if (poll_stream_event(u, out)) return 1;
  udx_msg *m = ring_peek(&u->msg_in);
  if (m == NULL) return 0;
  memcpy(u->msg_buf, m->buf, m->len);
  out->type = FL_UDX_EVENT_MESSAGE;
  out->id = m->id;
  out->sock = m->sock;
  out->addr = m->addr;
  out->data = u->msg_buf;
  out->len = m->len;
  ring_pop(&u->msg_in);
  return 1;
}

/* ---- the five calls ------------------------------------------------------------ */

int fl_udx_handle_datagram(fl_udx *u, uint64_t now_us, uint32_t sock, const fl_addr *from,
                           const uint8_t *data, size_t len) {
  if (u == NULL || from == NULL || (data == NULL && len > 0)) return FL_ERR_INVALID;
  if (!time_ok(u, now_us)) return FL_ERR_INVALID;
  /* Not ours unless magic, version and a live stream id match (spec §10). */
  if (u->count == 0 || !fl_udx_is_packet(data, len)) {
    u->st.not_udx++;
    return 0;
  }
  udx_stream *s = udx_find(u, fl_udx_get32(data + 4));
  if (s == NULL || (s->closed && s->linger_until <= now_us)) {
    u->st.not_udx++;
    return 0;
  }
  u->st.dgrams_in++;
  u->st.bytes_in += len;
  if (len > u->st.dgram_in_max) u->st.dgram_in_max = len;
  fl_udx_packet p;
  if (fl_udx_packet_decode(&p, data, len) != 0) {
    u->st.decode_errors++;
    return FL_ERR_DECODE;
  }
  if (p.h.data_offset > 0 && (p.h.type & FL_UDX_FLAG_DATA)) u->st.padded_in++;
  if (s->closed) { /* lingering: a retransmitted END means our last ACK was lost */
    if (p.h.type & (FL_UDX_FLAG_DATA | FL_UDX_FLAG_END)) {
      s->need_ack = 1;
      udx_kick(s);
    }
    return 1;
  }
  if (!s->connected && !s->listening) { /* opened, not connected: nobody to accept */
    u->st.firewall_drops++;
    return 1;
  }
  (void)udx_stream_input(s, sock, from, &p, data, len);
  return 1;
}

static int poll_ring(fl_udx *u, udx_msg_ring *r, fl_udx_dgram *out, uint8_t *buf) {
  udx_msg *m = ring_peek(r);
  if (m == NULL) return 0;
  memcpy(buf, m->buf, m->len);
  out->sock = m->sock;
  out->to = m->addr;
  out->len = m->len;
  ring_pop(r);
  if (r == &u->relay_out) u->st.relay_queue_cur = r->len;
  return 1;
}

int fl_udx_poll_transmit(fl_udx *u, fl_udx_dgram *out, uint8_t *buf, size_t cap) {
  if (u == NULL || out == NULL || buf == NULL) return FL_ERR_INVALID;
  memset(out, 0, sizeof(*out));
  if (cap < FL_UDX_DGRAM_BYTES_MAX) return FL_ERR_BUFFER;
  int got = poll_ring(u, &u->ack_out, out, buf);
  if (!got) got = poll_ring(u, &u->relay_out, out, buf);
  if (!got) got = poll_ring(u, &u->msg_out, out, buf);
  while (!got && u->tx_head) {
    udx_stream *s = u->tx_head;
    int n = udx_stream_emit(s, buf, cap);
    tx_remove(u, s);
    if (n > 0) {
      udx_kick(s); /* back of the line: round-robin between streams */
      out->sock = s->sock;
      out->to = s->remote;
      out->len = (size_t)n;
      got = 1;
    } else {
      maybe_reap(u, s);
    }
  }
  if (got) {
    u->st.dgrams_out++;
    u->st.bytes_out += out->len;
  }
  return got;
}

uint64_t fl_udx_next_deadline(const fl_udx *u) {
  if (u == NULL) return FL_TIME_NONE;
  uint64_t d = FL_TIME_NONE;
  for (uint32_t i = 0; i < u->count; i++) {
    const udx_stream *s = u->live[i];
    uint64_t sd = udx_stream_deadline(s);
    if (sd < d) d = sd;
  }
  return d;
}

int fl_udx_handle_timeout(fl_udx *u, uint64_t now_us) {
  if (u == NULL || !time_ok(u, now_us)) return FL_ERR_INVALID;
  for (uint32_t i = 0; i < u->count; i++) {
    udx_stream *s = u->live[i];
    if (udx_stream_deadline(s) <= now_us) udx_stream_timeout(s, now_us);
  }
  return 0;
}

void fl_udx_get_stats(const fl_udx *u, fl_udx_stats *out) {
  if (out == NULL) return;
  if (u == NULL) {
    memset(out, 0, sizeof(*out));
    return;
  }
  *out = u->st;
}
