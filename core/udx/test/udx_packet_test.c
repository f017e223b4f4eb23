/*
 * udx_packet_test.c — the header codec and the malformed-packet rules:
 * every header field out of range, truncations, bogus SACK areas and
 * ranges, unknown stream ids. Bad packets are dropped, counted and change
 * nothing else.
 */
#include "testing/fl_test.h"
#include "udx/test/udx_net.h"

static size_t mk(uint8_t *buf, uint8_t type, uint8_t off, uint32_t id, uint32_t seq, uint32_t ack) {
  fl_udx_header h = {type, off, id, 4194304, seq, ack};
  return (size_t)fl_udx_header_encode(&h, buf, FL_UDX_HEADER_BYTES);
}

static void test_udx_header_roundtrip_matches_reference_dump(void) {
  /* The annotated dump of spec/udx.md: A -> B DATA "abc". */
  static const uint8_t ref[] = {0xff, 0x01, 0x01, 0x00, 0x88, 0x77, 0x66, 0x55, 0x00, 0x00, 0x40, 0x00,
                                0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 'a',  'b',  'c'};
  fl_udx_packet p;
  FL_CHECK_EQ(fl_udx_packet_decode(&p, ref, sizeof(ref)), 0);
  FL_CHECK_EQ(p.h.type, FL_UDX_FLAG_DATA);
  FL_CHECK_EQ(p.h.id, 0x55667788u);
  FL_CHECK_EQ(p.h.rwnd, 4194304);
  FL_CHECK_EQ(p.h.seq, 1);
  FL_CHECK_EQ(p.h.ack, 1);
  FL_CHECK_EQ(p.payload_len, 3);
  FL_CHECK_MEM(p.payload, "abc", 3);
  uint8_t out[20];
  FL_CHECK_EQ(fl_udx_header_encode(&p.h, out, sizeof(out)), 20);
  FL_CHECK_MEM(out, ref, 20);
  FL_CHECK_EQ(fl_udx_header_encode(&p.h, out, 19), FL_ERR_BUFFER);
}

static void test_udx_decode_rejects_every_truncation(void) {
  uint8_t buf[64];
  mk(buf, 0, 0, 1, 0, 0);
  fl_udx_packet p;
  for (size_t n = 0; n < FL_UDX_HEADER_BYTES; n++) {
    FL_CHECK_EQ(fl_udx_packet_decode(&p, buf, n), FL_ERR_DECODE);
    FL_CHECK_EQ(p.h.id, 0); /* zeroed on failure */
  }
  FL_CHECK_EQ(fl_udx_packet_decode(&p, buf, 20), 0);
}

static void test_udx_decode_rejects_bad_magic_version_and_type_bits(void) {
  uint8_t buf[64];
  fl_udx_packet p;
  for (int b = 0; b < 256; b++) {
    mk(buf, 0, 0, 1, 0, 0);
    buf[0] = (uint8_t)b;
    FL_CHECK_EQ(fl_udx_packet_decode(&p, buf, 20), b == 0xFF ? 0 : FL_ERR_DECODE);
    mk(buf, 0, 0, 1, 0, 0);
    buf[1] = (uint8_t)b;
    FL_CHECK_EQ(fl_udx_packet_decode(&p, buf, 20), b == 1 ? 0 : FL_ERR_DECODE);
  }
  for (int t = 0; t < 256; t++) {
    size_t n = mk(buf, (uint8_t)t, 0, 1, 0, 0);
    int bad = (t & ~0x3F) != 0 || ((t & 0x08) && (t & 0x03));
    FL_CHECK_EQ(fl_udx_packet_decode(&p, buf, n), bad ? FL_ERR_DECODE : 0);
  }
}

static void test_udx_decode_rejects_data_offset_past_end(void) {
  uint8_t buf[64] = {0};
  fl_udx_packet p;
  for (int off = 0; off < 256; off++) {
    mk(buf, FL_UDX_FLAG_DATA, (uint8_t)off, 1, 0, 0);
    FL_CHECK_EQ(fl_udx_packet_decode(&p, buf, 30), off <= 10 ? 0 : FL_ERR_DECODE);
    if (off <= 10) FL_CHECK_EQ(p.payload_len, (size_t)(10 - off));
  }
}

static void test_udx_decode_rejects_bad_sack_areas(void) {
  uint8_t buf[1024] = {0};
  fl_udx_packet p;
  for (size_t extra = 0; extra <= 8 * 51; extra++) {
    mk(buf, FL_UDX_FLAG_SACK, 0, 1, 0, 0);
    int ok = extra % 8 == 0 && extra / 8 <= FL_UDX_MAX_SACKS;
    FL_CHECK_EQ(fl_udx_packet_decode(&p, buf, 20 + extra), ok ? 0 : FL_ERR_DECODE);
    if (ok) FL_CHECK_EQ(p.sack_count, extra / 8);
  }
  /* Payload on kinds that carry none. */
  uint8_t kinds[] = {0, FL_UDX_FLAG_DESTROY, FL_UDX_FLAG_HEARTBEAT};
  for (size_t i = 0; i < sizeof(kinds); i++) {
    mk(buf, kinds[i], 0, 1, 0, 0);
    FL_CHECK_EQ(fl_udx_packet_decode(&p, buf, 21), FL_ERR_DECODE);
  }
  /* SACK area chosen by the data offset, then a (forbidden) payload. */
  mk(buf, FL_UDX_FLAG_SACK, 8, 1, 0, 0);
  FL_CHECK_EQ(fl_udx_packet_decode(&p, buf, 20 + 12), FL_ERR_DECODE);
  FL_CHECK_EQ(fl_udx_packet_decode(&p, buf, 20 + 8), 0);
  fl_udx_put32(buf + 20, 5);
  fl_udx_put32(buf + 24, 9);
  FL_CHECK_EQ(fl_udx_packet_decode(&p, buf, 28), 0);
  fl_udx_sack s = fl_udx_packet_sack(&p, 0);
  FL_CHECK_EQ(s.start, 5);
  FL_CHECK_EQ(s.end, 9);
  s = fl_udx_packet_sack(&p, 1);
  FL_CHECK_EQ(s.end, 0);
}

/* Two connected instances with some traffic, then garbage at node 1. */
static int b_got_all(net *t) { return t->app[1].received >= t->app[0].to_send; }

static int setup(net *t) {
  if (net_init(t, 2, fl_test_seed(), NULL) != 0) return -1;
  if (net_connect(t, 0, 0xAAAA, 1, 0xBBBB) != 0) return -1;
  t->app[0].to_send = 20000;
  return net_run(t, b_got_all, 100000, 10000000) ? 0 : -1;
}

static void test_udx_malformed_for_live_stream_dropped_counted_nothing_changes(void) {
  net t;
  FL_CHECK_EQ(setup(&t), 0);
  fl_addr from = net_addr(0);
  fl_udx_stream_info before, after;
  FL_CHECK_EQ(fl_udx_stream_info_get(t.u[1], 0xBBBB, &before), 0);
  uint8_t buf[2048] = {0};
  uint64_t sent = 0;
  /* unknown type bits */
  for (int bit = 6; bit < 8; bit++) {
    size_t n = mk(buf, (uint8_t)(FL_UDX_FLAG_DATA | 1 << bit), 0, 0xBBBB, before.ack, 0);
    FL_CHECK_EQ(fl_udx_handle_datagram(t.u[1], t.now, 0, &from, buf, n + 5), FL_ERR_DECODE);
    sent++;
  }
  /* data offset past the end */
  size_t n = mk(buf, FL_UDX_FLAG_DATA, 200, 0xBBBB, before.ack, 0);
  FL_CHECK_EQ(fl_udx_handle_datagram(t.u[1], t.now, 0, &from, buf, n + 100), FL_ERR_DECODE);
  sent++;
  /* SACK area of 7 bytes, and of 51 blocks */
  n = mk(buf, FL_UDX_FLAG_SACK, 0, 0xBBBB, before.ack, 0);
  FL_CHECK_EQ(fl_udx_handle_datagram(t.u[1], t.now, 0, &from, buf, n + 7), FL_ERR_DECODE);
  FL_CHECK_EQ(fl_udx_handle_datagram(t.u[1], t.now, 0, &from, buf, n + 8 * 51), FL_ERR_DECODE);
  sent += 2;
  /* MESSAGE mixed with DATA; payload on a HEARTBEAT */
  n = mk(buf, FL_UDX_FLAG_MESSAGE | FL_UDX_FLAG_DATA, 0, 0xBBBB, before.ack, 0);
  FL_CHECK_EQ(fl_udx_handle_datagram(t.u[1], t.now, 0, &from, buf, n + 4), FL_ERR_DECODE);
  n = mk(buf, FL_UDX_FLAG_HEARTBEAT, 0, 0xBBBB, before.ack, 0);
  FL_CHECK_EQ(fl_udx_handle_datagram(t.u[1], t.now, 0, &from, buf, n + 1), FL_ERR_DECODE);
  sent += 2;
  fl_udx_stats st;
  fl_udx_get_stats(t.u[1], &st);
  FL_CHECK_EQ(st.decode_errors, sent);
  FL_CHECK_EQ(fl_udx_stream_info_get(t.u[1], 0xBBBB, &after), 0);
  FL_CHECK_MEM(&before, &after, sizeof(before));
  fl_udx_dgram d;
  FL_CHECK_EQ(fl_udx_poll_transmit(t.u[1], &d, buf, sizeof(buf)), 0); /* no reaction */
  net_free(&t);
}

static void test_udx_unknown_id_and_non_udx_are_not_ours(void) {
  net t;
  FL_CHECK_EQ(setup(&t), 0);
  fl_addr from = net_addr(0);
  uint8_t buf[64] = {0};
  size_t n = mk(buf, FL_UDX_FLAG_DATA, 0, 0xDEAD, 0, 0);
  FL_CHECK_EQ(fl_udx_handle_datagram(t.u[1], t.now, 0, &from, buf, n + 3), 0);
  uint8_t dht[] = {0x03, 0x00, 0x01};
  FL_CHECK_EQ(fl_udx_handle_datagram(t.u[1], t.now, 0, &from, dht, sizeof(dht)), 0);
  FL_CHECK_EQ(fl_udx_handle_datagram(t.u[1], t.now, 0, &from, buf, 1), 0);
  fl_udx_stats st;
  fl_udx_get_stats(t.u[1], &st);
  FL_CHECK_EQ(st.not_udx, 3);
  FL_CHECK_EQ(st.decode_errors, 0);
  FL_CHECK_EQ(fl_udx_handle_datagram(t.u[1], t.now, 0, NULL, buf, n), FL_ERR_INVALID);
  net_free(&t);
}

static void test_udx_bogus_sack_ranges_and_acks_ignored_counted(void) {
  net t;
  FL_CHECK_EQ(setup(&t), 0);
  /* Node 0 has sent some packets, all acked; give it unacked ones. */
  uint8_t data[5000] = {0};
  FL_CHECK_EQ(fl_udx_stream_write(t.u[0], t.now, 0xAAAA, data, sizeof(data)), 5000);
  uint8_t buf[2048];
  fl_udx_dgram d;
  while (fl_udx_poll_transmit(t.u[0], &d, buf, sizeof(buf)) == 1) {
  } /* lost on purpose */
  fl_udx_stream_info before, after;
  FL_CHECK_EQ(fl_udx_stream_info_get(t.u[0], 0xAAAA, &before), 0);
  FL_CHECK(before.inflight >= 4);
  fl_addr from = net_addr(1);
  uint32_t ra = before.remote_acked, seq = before.seq;
  uint32_t bad[][2] = {{ra - 1, ra + 1}, {ra + 2, ra + 2}, {ra + 3, ra + 1}, {ra, seq + 1},
                       {seq, seq + 5}, {ra + 0x80000000u, ra + 1},
                       {ra + 0x02ffffffu, ra + 0x80000006u} /* found by the fuzzer */};
  size_t nb = sizeof(bad) / sizeof(bad[0]);
  size_t n = mk(buf, FL_UDX_FLAG_SACK, 0, 0xAAAA, before.ack, ra);
  for (size_t i = 0; i < nb; i++) {
    fl_udx_put32(buf + n + 8 * i, bad[i][0]);
    fl_udx_put32(buf + n + 8 * i + 4, bad[i][1]);
  }
  FL_CHECK_EQ(fl_udx_handle_datagram(t.u[0], t.now, 0, &from, buf, n + 8 * nb), 1);
  fl_udx_stats st;
  fl_udx_get_stats(t.u[0], &st);
  FL_CHECK_EQ(st.bad_sacks, nb);
  FL_CHECK_EQ(fl_udx_stream_info_get(t.u[0], 0xAAAA, &after), 0);
  FL_CHECK_EQ(after.inflight, before.inflight); /* nothing was taken as acked */
  FL_CHECK_EQ(after.remote_acked, ra);
  /* An ack for data never sent is ignored and counted. */
  n = mk(buf, 0, 0, 0xAAAA, before.ack, seq + 10);
  FL_CHECK_EQ(fl_udx_handle_datagram(t.u[0], t.now, 0, &from, buf, n), 1);
  fl_udx_get_stats(t.u[0], &st);
  FL_CHECK_EQ(st.bad_acks, 1);
  FL_CHECK_EQ(fl_udx_stream_info_get(t.u[0], 0xAAAA, &after), 0);
  FL_CHECK_EQ(after.remote_acked, ra);
  net_free(&t);
}

static void test_udx_heartbeat_is_answered_with_an_ack(void) {
  net t;
  FL_CHECK_EQ(setup(&t), 0);
  fl_addr from = net_addr(0);
  uint8_t buf[2048];
  fl_udx_stream_info ib;
  FL_CHECK_EQ(fl_udx_stream_info_get(t.u[1], 0xBBBB, &ib), 0);
  size_t n = mk(buf, FL_UDX_FLAG_HEARTBEAT, 0, 0xBBBB, 0, 0);
  FL_CHECK_EQ(fl_udx_handle_datagram(t.u[1], t.now, 0, &from, buf, n), 1);
  fl_udx_dgram d;
  FL_CHECK_EQ(fl_udx_poll_transmit(t.u[1], &d, buf, sizeof(buf)), 1);
  FL_CHECK_EQ(d.len, 20);
  FL_CHECK_EQ(buf[2], 0);
  FL_CHECK_EQ(fl_udx_get32(buf + 4), 0xAAAA);
  FL_CHECK_EQ(fl_udx_get32(buf + 16), ib.ack);
  FL_CHECK_EQ(fl_udx_poll_transmit(t.u[1], &d, buf, sizeof(buf)), 0);
  net_free(&t);
}

/* A receiver that pads a DATA packet via the data offset still gets the bytes. */
static void test_udx_padded_data_is_delivered_intact(void) {
  net t;
  FL_CHECK_EQ(setup(&t), 0);
  fl_udx_stream_info ib;
  FL_CHECK_EQ(fl_udx_stream_info_get(t.u[1], 0xBBBB, &ib), 0);
  uint8_t buf[2048] = {0};
  size_t n = mk(buf, FL_UDX_FLAG_DATA, 255, 0xBBBB, ib.ack, 0);
  memcpy(buf + n + 255, "xyz", 3);
  fl_addr from = net_addr(0);
  FL_CHECK_EQ(fl_udx_handle_datagram(t.u[1], t.now, 0, &from, buf, n + 258), 1);
  uint8_t out[8];
  FL_CHECK_EQ(fl_udx_stream_read(t.u[1], t.now, 0xBBBB, out, sizeof(out)), 3);
  FL_CHECK_MEM(out, "xyz", 3);
  net_free(&t);
}

/* 60 separate out-of-order runs: the ACK carries 50 blocks, the lowest 49
 * runs and then the highest one (so the sender's RACK sees the top). */
static void test_udx_sack_blocks_cap_keeps_the_highest_run(void) {
  net t;
  FL_CHECK_EQ(setup(&t), 0);
  fl_udx_stream_info ib;
  FL_CHECK_EQ(fl_udx_stream_info_get(t.u[1], 0xBBBB, &ib), 0);
  fl_addr from = net_addr(0);
  uint8_t buf[2048] = {0};
  fl_udx_dgram d;
  for (uint32_t k = 1; k <= 60; k++) {
    size_t n = mk(buf, FL_UDX_FLAG_DATA, 0, 0xBBBB, ib.ack + 2 * k, 0);
    FL_CHECK_EQ(fl_udx_handle_datagram(t.u[1], t.now, 0, &from, buf, n + 10), 1);
  }
  uint8_t last[2048];
  size_t last_len = 0;
  while (fl_udx_poll_transmit(t.u[1], &d, buf, sizeof(buf)) == 1) {
    memcpy(last, buf, d.len);
    last_len = d.len;
  }
  fl_udx_packet p;
  FL_CHECK_EQ(fl_udx_packet_decode(&p, last, last_len), 0);
  FL_CHECK_EQ(p.h.type, FL_UDX_FLAG_SACK);
  FL_CHECK_EQ(p.sack_count, FL_UDX_MAX_SACKS);
  FL_CHECK_EQ(fl_udx_packet_sack(&p, 0).start, ib.ack + 2);
  FL_CHECK_EQ(fl_udx_packet_sack(&p, 48).start, ib.ack + 98);
  FL_CHECK_EQ(fl_udx_packet_sack(&p, 49).start, ib.ack + 120);
  FL_CHECK_EQ(fl_udx_packet_sack(&p, 49).end, ib.ack + 121);
  net_free(&t);
}

int main(void) {
  FL_RUN(test_udx_sack_blocks_cap_keeps_the_highest_run);
  FL_RUN(test_udx_header_roundtrip_matches_reference_dump);
  FL_RUN(test_udx_decode_rejects_every_truncation);
  FL_RUN(test_udx_decode_rejects_bad_magic_version_and_type_bits);
  FL_RUN(test_udx_decode_rejects_data_offset_past_end);
  FL_RUN(test_udx_decode_rejects_bad_sack_areas);
  FL_RUN(test_udx_malformed_for_live_stream_dropped_counted_nothing_changes);
  FL_RUN(test_udx_unknown_id_and_non_udx_are_not_ours);
  FL_RUN(test_udx_bogus_sack_ranges_and_acks_ignored_counted);
  FL_RUN(test_udx_heartbeat_is_answered_with_an_ack);
  FL_RUN(test_udx_padded_data_is_delivered_intact);
  return fl_test_done();
}
