/*
 * secretstream_test.c — two fl_ss instances back to back in memory: header
 * exchange (checked against the reference's captured bytes), data in every
 * chunking, the largest message, end/close, the standalone XX handshake and
 * unordered messages.
 */
#include "testing/fl_test.h"
#include "ss_pair.h"

static const fl_ss_config CFG0 = {0};

static void test_stream_ids_match_spec(void) {
  uint8_t hash[64], id[32], want[32];
  unhex(hash, HEX_HASH);
  FL_CHECK_EQ(fl_ss_stream_id(id, hash, true), 0);
  unhex(want, "ae36f7eab22e62590445b774c6acf6eb1b0ada4cde55ea3f8a1dadb3ca8018d8");
  FL_CHECK_MEM(id, want, 32);
  FL_CHECK_EQ(fl_ss_stream_id(id, hash, false), 0);
  unhex(want, "3bf0068ceea1ddd451666cd4d979eefce99fd790967f1c424bd717bc2ef53988");
  FL_CHECK_MEM(id, want, 32);
}

/* spec §10: the reference initiator's first 84 bytes ("hello"), captured on
 * the wire, must open in our responder. */
static void test_decrypts_reference_capture(void) {
  uint8_t wire[84];
  unhex(wire, "380000ae36f7eab22e62590445b774c6acf6eb1b0ada4cde55ea3f8a1dadb3ca8018d8"
              "374d3dcaf37def2bfffa9277ce997ba75560e0bdf47fcc85"
              "16000075cc7e03b6f0bbadd5161f8a44e4ba7756149417b7da");
  ss_pair p;
  FL_CHECK_EQ(ss_pair_init(&p, &CFG0, fl_test_seed()), 0);
  FL_CHECK_EQ(ss_pair_start(&p), 0);
  ss_side *r = &p.s[1];
  size_t off = 0;
  while (off < sizeof wire) {
    int rc = fl_ss_recv(r->ss, p.now, wire + off, sizeof wire - off);
    FL_CHECK(rc > 0);
    off += (size_t)rc;
    ss_side_collect(r);
  }
  FL_CHECK_EQ(ss_side_count(r, FL_SS_EV_OPEN), 1);
  FL_CHECK_EQ(r->got_len, 5);
  FL_CHECK_MEM(r->got, "hello", 5);
  /* Our own header frame: prefix 56 and the responder id, then 24 header bytes. */
  const uint8_t *out;
  FL_CHECK_EQ(fl_ss_tx_peek(r->ss, &out), 59);
  uint8_t want[35];
  unhex(want, "3800003bf0068ceea1ddd451666cd4d979eefce99fd790967f1c424bd717bc2ef53988");
  FL_CHECK_MEM(out, want, 35);
  ss_pair_free(&p);
}

static void test_hello_both_ways_and_frame_sizes(void) {
  ss_pair p;
  FL_CHECK_EQ(ss_pair_init(&p, &CFG0, fl_test_seed()), 0);
  FL_CHECK_EQ(ss_pair_start(&p), 0);
  FL_CHECK_EQ(fl_ss_push(p.s[0].ss, p.now, (const uint8_t *)"hello", 5), 0);
  const uint8_t *out;
  FL_CHECK_EQ(fl_ss_tx_peek(p.s[0].ss, &out), 59 + 25); /* header + 3 + 5 + 17 */
  FL_CHECK_EQ(out[59], 22);
  FL_CHECK_EQ(fl_ss_push(p.s[1].ss, p.now, (const uint8_t *)"hi!", 3), 0);
  FL_CHECK_EQ(ss_pair_flush(&p), 0);
  FL_CHECK_EQ(p.s[1].got_len, 5);
  FL_CHECK_MEM(p.s[1].got, "hello", 5);
  FL_CHECK_EQ(p.s[0].got_len, 3);
  FL_CHECK_MEM(p.s[0].got, "hi!", 3);
  for (int i = 0; i < 2; i++) {
    FL_CHECK_EQ(p.s[i].ev[0].type, FL_SS_EV_HANDSHAKE);
    FL_CHECK_EQ(ss_side_count(&p.s[i], FL_SS_EV_OPEN), 1);
    FL_CHECK(fl_ss_is_open(p.s[i].ss));
  }
  fl_ss_stats st;
  fl_ss_get_stats(p.s[0].ss, &st);
  FL_CHECK_EQ(st.raw_bytes_written, 25);
  FL_CHECK_EQ(st.raw_bytes_read, 20);
  ss_pair_free(&p);
}

/* Random message sizes, every chunk size from 1 byte up: same bytes out. */
static void test_random_messages_any_chunking(void) {
  static const size_t chunks[] = {1, 2, 3, 7, 19, 20, 59, 60, 1000, 65536};
  fl_drbg r;
  uint8_t seed[32] = {7};
  seed[1] = (uint8_t)fl_test_seed();
  fl_drbg_init(&r, seed);
  for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
    ss_pair p;
    FL_CHECK_EQ(ss_pair_init(&p, &CFG0, fl_test_seed() + c), 0);
    p.chunk = chunks[c];
    FL_CHECK_EQ(ss_pair_start(&p), 0);
    uint8_t *sent = malloc(200000);
    size_t sent_len = 0;
    for (int m = 0; m < 40; m++) {
      size_t len = (size_t)fl_drbg_uniform(&r, m % 10 == 0 ? 20000 : 300);
      fl_drbg_bytes(&r, sent + sent_len, len);
      FL_CHECK_EQ(fl_ss_push(p.s[0].ss, p.now, sent + sent_len, len), 0);
      sent_len += len;
    }
    FL_CHECK_EQ(ss_pair_flush(&p), 0);
    FL_CHECK_EQ(p.s[1].got_len, sent_len);
    FL_CHECK_MEM(p.s[1].got, sent, sent_len);
    FL_CHECK_EQ(p.s[1].data_events, 40 - p.s[1].empty_events + p.s[1].empty_events);
    free(sent);
    ss_pair_free(&p);
  }
}

/* The largest message the 3-byte length allows goes through, one more fails
 * the stream as the reference does. */
static void test_largest_message(void) {
  ss_pair p;
  FL_CHECK_EQ(ss_pair_init(&p, &CFG0, fl_test_seed()), 0);
  p.chunk = 1 << 20;
  FL_CHECK_EQ(ss_pair_start(&p), 0);
  size_t n = FL_SS_MESSAGE_MAX;
  FL_CHECK_EQ(n, 16777198);
  uint8_t *msg = malloc(n + 1);
  for (size_t i = 0; i < n + 1; i++) msg[i] = (uint8_t)(i * 31 + 7);
  /* Above the output limit: refused while the header is unsent... */
  FL_CHECK_EQ(fl_ss_push(p.s[0].ss, p.now, msg, n), FL_ERR_LIMIT);
  FL_CHECK_EQ(ss_pair_flush(&p), 0);
  /* ...and taken alone into the empty buffer. */
  FL_CHECK_EQ(fl_ss_push(p.s[0].ss, p.now, msg, n), 0);
  const uint8_t *out;
  size_t q = fl_ss_tx_peek(p.s[0].ss, &out);
  FL_CHECK_EQ(q, 3 + FL_SS_FRAME_BODY_MAX);
  FL_CHECK(out[0] == 0xff && out[1] == 0xff && out[2] == 0xff);
  FL_CHECK_EQ(ss_pair_flush(&p), 0);
  FL_CHECK_EQ(p.s[1].got_len, n);
  FL_CHECK_MEM(p.s[1].got, msg, n);
  FL_CHECK_EQ(fl_ss_push(p.s[0].ss, p.now, msg, n + 1), FL_ERR_RANGE);
  FL_CHECK(fl_ss_is_failed(p.s[0].ss));
  fl_ss_event e;
  FL_CHECK_EQ(fl_ss_poll_event(p.s[0].ss, &e), 1);
  FL_CHECK_EQ(e.type, FL_SS_EV_ERROR);
  FL_CHECK(strstr(e.reason, "too large") != NULL);
  FL_CHECK_EQ(fl_ss_push(p.s[0].ss, p.now, msg, 1), FL_ERR_CLOSED);
  free(msg);
  ss_pair_free(&p);
}

static void test_end_both_sides_closes(void) {
  ss_pair p;
  FL_CHECK_EQ(ss_pair_init(&p, &CFG0, fl_test_seed()), 0);
  FL_CHECK_EQ(ss_pair_start(&p), 0);
  FL_CHECK_EQ(fl_ss_push(p.s[0].ss, p.now, (const uint8_t *)"last", 4), 0);
  FL_CHECK_EQ(fl_ss_end(p.s[0].ss), 0);
  FL_CHECK_EQ(fl_ss_end(p.s[0].ss), FL_ERR_STATE);
  FL_CHECK_EQ(fl_ss_push(p.s[0].ss, p.now, (const uint8_t *)"x", 1), FL_ERR_STATE);
  FL_CHECK_EQ(fl_ss_tx_end_due(p.s[0].ss), 0); /* output still queued */
  FL_CHECK_EQ(ss_pair_flush(&p), 0);
  FL_CHECK_EQ(fl_ss_tx_end_due(p.s[0].ss), 1);
  FL_CHECK_EQ(fl_ss_recv_end(p.s[1].ss, p.now), 0); /* the driver saw EOF */
  ss_side_collect(&p.s[1]);
  FL_CHECK_EQ(ss_side_count(&p.s[1], FL_SS_EV_END), 1);
  FL_CHECK_EQ(ss_side_count(&p.s[1], FL_SS_EV_CLOSE), 0);
  FL_CHECK_MEM(p.s[1].got, "last", 4);
  /* Half-open: the responder can still write. */
  FL_CHECK_EQ(fl_ss_push(p.s[1].ss, p.now, (const uint8_t *)"reply", 5), 0);
  FL_CHECK_EQ(fl_ss_end(p.s[1].ss), 0);
  ss_side_collect(&p.s[1]);
  FL_CHECK_EQ(ss_side_count(&p.s[1], FL_SS_EV_CLOSE), 1);
  FL_CHECK_EQ(ss_pair_flush(&p), 0);
  FL_CHECK_EQ(fl_ss_recv_end(p.s[0].ss, p.now), 0);
  ss_side_collect(&p.s[0]);
  FL_CHECK_MEM(p.s[0].got, "reply", 5);
  FL_CHECK_EQ(ss_side_count(&p.s[0], FL_SS_EV_END), 1);
  FL_CHECK_EQ(ss_side_count(&p.s[0], FL_SS_EV_CLOSE), 1);
  FL_CHECK_EQ(ss_side_count(&p.s[0], FL_SS_EV_ERROR), 0);
  ss_pair_free(&p);
}

static void test_eof_mid_frame_is_clean_error(void) {
  ss_pair p;
  FL_CHECK_EQ(ss_pair_init(&p, &CFG0, fl_test_seed()), 0);
  FL_CHECK_EQ(ss_pair_start(&p), 0);
  FL_CHECK_EQ(fl_ss_push(p.s[0].ss, p.now, (const uint8_t *)"0123456789", 10), 0);
  const uint8_t *out;
  size_t n = fl_ss_tx_peek(p.s[0].ss, &out);
  FL_CHECK_EQ(fl_ss_recv(p.s[1].ss, p.now, out, n - 5), 59); /* header: OPEN event */
  ss_side_collect(&p.s[1]);
  FL_CHECK_EQ(fl_ss_recv(p.s[1].ss, p.now, out + 59, n - 5 - 59), (int)(n - 5 - 59));
  fl_ss_stats st;
  fl_ss_get_stats(p.s[1].ss, &st);
  FL_CHECK_EQ(st.rx_buffered, 30 - 5 - 3 + 3 - 3); /* 22 of 27 body bytes held */
  FL_CHECK_EQ(fl_ss_recv_end(p.s[1].ss, p.now), FL_ERR_DECODE);
  fl_ss_event e;
  FL_CHECK_EQ(fl_ss_poll_event(p.s[1].ss, &e), 1);
  FL_CHECK_EQ(e.type, FL_SS_EV_ERROR);
  FL_CHECK_EQ(e.error, FL_ERR_DECODE);
  FL_CHECK(strstr(e.reason, "inside a frame") != NULL);
  FL_CHECK_EQ(fl_ss_recv(p.s[1].ss, p.now, out, 1), FL_ERR_CLOSED);
  ss_pair_free(&p);
}

static void test_standalone_xx(void) {
  ss_pair p;
  FL_CHECK_EQ(ss_pair_init(&p, &CFG0, fl_test_seed()), 0);
  uint8_t pk[2][32], sk[2][64], seed[32];
  for (int i = 0; i < 2; i++) {
    memset(seed, 0x51 + i, sizeof seed);
    FL_CHECK_EQ(fl_crypto_sign_seed_keypair(pk[i], sk[i], seed), 0);
  }
  FL_CHECK_EQ(fl_ss_start_xx(p.s[1].ss, p.now, pk[1], sk[1], &p.drbg), 0);
  FL_CHECK_EQ(fl_ss_push(p.s[1].ss, p.now, (const uint8_t *)"x", 1), FL_ERR_STATE);
  FL_CHECK_EQ(fl_ss_start_xx(p.s[0].ss, p.now, pk[0], sk[0], &p.drbg), 0);
  const uint8_t *out;
  /* XX message 1 is the bare ephemeral key: uint24(32) + 32 bytes. */
  FL_CHECK_EQ(fl_ss_tx_peek(p.s[0].ss, &out), 35);
  FL_CHECK(out[0] == 32 && out[1] == 0 && out[2] == 0);
  FL_CHECK_EQ(ss_pair_flush(&p), 0);
  for (int i = 0; i < 2; i++) {
    FL_CHECK(fl_ss_is_open(p.s[i].ss));
    FL_CHECK_MEM(fl_ss_remote_public_key(p.s[i].ss), pk[1 - i], 32);
    FL_CHECK_EQ(ss_side_count(&p.s[i], FL_SS_EV_HANDSHAKE), 1);
  }
  FL_CHECK_MEM(fl_ss_handshake_hash(p.s[0].ss), fl_ss_handshake_hash(p.s[1].ss), 64);
  FL_CHECK_EQ(fl_ss_push(p.s[1].ss, p.now, (const uint8_t *)"over xx", 7), 0);
  FL_CHECK_EQ(ss_pair_flush(&p), 0);
  FL_CHECK_EQ(p.s[0].got_len, 7);
  FL_CHECK_MEM(p.s[0].got, "over xx", 7);
  ss_pair_free(&p);
}

/* A flipped bit in XX message 2 fails the initiator with the reference's text. */
static void test_xx_bit_flip_fails(void) {
  for (int bit = 0; bit < 96 * 8; bit += 37) {
    ss_pair p;
    FL_CHECK_EQ(ss_pair_init(&p, &CFG0, fl_test_seed()), 0);
    uint8_t pk[2][32], sk[2][64], seed[32];
    for (int i = 0; i < 2; i++) {
      memset(seed, 0x61 + i, sizeof seed);
      FL_CHECK_EQ(fl_crypto_sign_seed_keypair(pk[i], sk[i], seed), 0);
      FL_CHECK_EQ(fl_ss_start_xx(p.s[i].ss, p.now, pk[i], sk[i], &p.drbg), 0);
    }
    FL_CHECK_EQ(ss_pair_move(&p, 0), 35);
    const uint8_t *out;
    size_t n = fl_ss_tx_peek(p.s[1].ss, &out);
    FL_CHECK_EQ(n, 3 + 96); /* e, encrypted s (32 + 16), empty payload tag */
    uint8_t msg[99];
    memcpy(msg, out, n);
    msg[3 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
    int rc = fl_ss_recv(p.s[0].ss, p.now, msg, n);
    FL_CHECK_EQ(rc, FL_ERR_CRYPTO);
    fl_ss_event e;
    FL_CHECK_EQ(fl_ss_poll_event(p.s[0].ss, &e), 1);
    FL_CHECK_EQ(e.type, FL_SS_EV_ERROR);
    FL_CHECK(strcmp(e.reason, "Noise handshake failed") == 0);
    FL_CHECK_EQ(fl_ss_tx_peek(p.s[0].ss, &out), 0); /* nothing further sent */
    ss_pair_free(&p);
  }
}

static void test_box_roundtrip_and_rejects(void) {
  ss_pair p;
  FL_CHECK_EQ(ss_pair_init(&p, &CFG0, fl_test_seed()), 0);
  uint8_t box[64], plain[64];
  FL_CHECK_EQ(fl_ss_box(p.s[0].ss, box, sizeof box, (const uint8_t *)"dgram", 5), FL_ERR_STATE);
  FL_CHECK_EQ(ss_pair_start(&p), 0);
  /* Keys per spec noise.md §9 for this hash. */
  uint8_t want[32];
  unhex(want, "dfb91dd7953b4c976a9a2e684e99bbbf8d91848d3128eb155239285d8e4a29d7");
  FL_CHECK_MEM(p.s[0].ss->box_tx, want, 32);
  FL_CHECK_MEM(p.s[1].ss->box_rx, want, 32);
  int n = fl_ss_box(p.s[0].ss, box, sizeof box, (const uint8_t *)"dgram", 5);
  FL_CHECK_EQ(n, 29);
  FL_CHECK_EQ(fl_ss_unbox(p.s[1].ss, plain, sizeof plain, box, (size_t)n), 5);
  FL_CHECK_MEM(plain, "dgram", 5);
  /* Wrong direction key: the sender cannot open its own box. */
  FL_CHECK_EQ(fl_ss_unbox(p.s[0].ss, plain, sizeof plain, box, (size_t)n), FL_ERR_CRYPTO);
  for (int i = 0; i < n; i++) {
    box[i] ^= 0x10;
    FL_CHECK_EQ(fl_ss_unbox(p.s[1].ss, plain, sizeof plain, box, (size_t)n), FL_ERR_CRYPTO);
    box[i] ^= 0x10;
  }
  for (int len = 0; len < 24; len++)
    FL_CHECK_EQ(fl_ss_unbox(p.s[1].ss, plain, sizeof plain, box, (size_t)len), FL_ERR_DECODE);
  fl_ss_stats st;
  fl_ss_get_stats(p.s[1].ss, &st);
  FL_CHECK_EQ(st.box_received, 1);
  FL_CHECK_EQ(st.box_dropped, (uint64_t)n + 24);
  FL_CHECK(!fl_ss_is_failed(p.s[1].ss)); /* bad datagrams are ignored */
  /* The counter is little endian and increments before use. */
  uint8_t c0[8];
  memcpy(c0, p.s[0].ss->box_ctr, 8);
  FL_CHECK_EQ(fl_ss_box(p.s[0].ss, box, sizeof box, NULL, 0), 24);
  FL_CHECK_EQ(box[0], (uint8_t)(c0[0] + 1));
  /* Wrapping back to the initial value destroys the stream. */
  memcpy(p.s[0].ss->box_ctr, p.s[0].ss->box_ctr0, 8);
  for (int i = 0; i < 8; i++)
    if (p.s[0].ss->box_ctr[i]-- != 0) break;
  FL_CHECK_EQ(fl_ss_box(p.s[0].ss, box, sizeof box, NULL, 0), FL_ERR_LIMIT);
  FL_CHECK(fl_ss_is_failed(p.s[0].ss));
  ss_pair_free(&p);
}

int main(void) {
  if (fl_crypto_init() != 0) return 1;
  FL_RUN(test_stream_ids_match_spec);
  FL_RUN(test_decrypts_reference_capture);
  FL_RUN(test_hello_both_ways_and_frame_sizes);
  FL_RUN(test_random_messages_any_chunking);
  FL_RUN(test_largest_message);
  FL_RUN(test_end_both_sides_closes);
  FL_RUN(test_eof_mid_frame_is_clean_error);
  FL_RUN(test_standalone_xx);
  FL_RUN(test_xx_bit_flip_fails);
  FL_RUN(test_box_roundtrip_and_rejects);
  return fl_test_done();
}
