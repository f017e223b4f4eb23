/*
 * udx_check.c — fl_udx_check: recount what the instance keeps incrementally
 * and compare. A mismatch is a bug of ours, never bad input.
 */
#include "udx/udx_internal.h"

#define REQUIRE(c)             \
  do {                         \
    if (!(c)) return FL_ERR_STATE; \
  } while (0)

static int check_send(const udx_stream *s) {
  if (s->closed) return 0; /* a DESTROY took a seq without a table entry */
  uint32_t inflight = 0, lost = 0, sacked = 0, window = s->seq - s->remote_acked;
  REQUIRE(window <= s->pkts_cap);
  REQUIRE(s->snd_una_off <= s->snd_nxt_off);
  REQUIRE(s->snd_nxt_off <= s->write_off);
  REQUIRE(s->write_off - s->snd_una_off <= s->sbuf_cap);
  for (uint32_t seq = s->remote_acked; seq != s->seq; seq++) {
    const udx_pkt *p = &s->pkts[seq & (s->pkts_cap - 1)];
    REQUIRE(p->seq == seq);
    REQUIRE(p->state != UDX_PKT_FREE);
    REQUIRE(p->off >= s->snd_una_off && p->off + p->len <= s->snd_nxt_off);
    inflight += p->state == UDX_PKT_INFLIGHT;
    lost += p->state == UDX_PKT_LOST;
    sacked += p->state == UDX_PKT_SACKED;
  }
  REQUIRE(inflight == s->inflight);
  REQUIRE(lost == s->lost_count);
  REQUIRE(sacked == s->sacked_count);
  REQUIRE(s->cwnd >= 1);
  return 0;
}

static int check_recv(const udx_stream *s) {
  uint32_t count = 0;
  REQUIRE(s->rbuf_len <= s->rbuf_cap);
  REQUIRE(s->rbuf_len <= (size_t)s->u->cfg.recv_buf_max + UDX_RECV_SLACK);
  if (s->ooo != NULL) {
    for (uint32_t i = 0; i < s->u->cfg.ooo_max; i++) {
      const udx_ooo *o = &s->ooo[i];
      if (!o->valid) continue;
      count++;
      REQUIRE(o->seq - s->ack < s->u->cfg.ooo_max); /* == ack: the reader is full */
      REQUIRE(o->len <= FL_UDX_DGRAM_BYTES_MAX);
    }
  }
  REQUIRE(count == s->ooo_count);
  return 0;
}

int fl_udx_check(const fl_udx *u) {
  if (u == NULL) return FL_ERR_INVALID;
  uint64_t ooo = 0;
  REQUIRE(u->count <= u->cfg.streams_max);
  for (uint32_t i = 0; i < u->count; i++) {
    const udx_stream *s = u->live[i];
    REQUIRE(s != NULL && s->live_idx == i && s->u == u);
    REQUIRE(udx_find(u, s->local_id) == s);
    int rc = check_send(s);
    if (rc == 0) rc = check_recv(s);
    if (rc != 0) return rc;
    ooo += s->ooo_count;
  }
  REQUIRE(ooo == u->st.ooo_cur);
  REQUIRE(u->msg_in.len <= u->msg_in.cap && u->msg_out.len <= u->msg_out.cap);
  REQUIRE(u->relay_out.len <= u->relay_out.cap && u->ack_out.len <= u->ack_out.cap);
  return 0;
}
