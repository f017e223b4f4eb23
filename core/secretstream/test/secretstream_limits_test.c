/*
 * secretstream_limits_test.c — malformed input (every truncation and bit
 * flip of the header frame and a data frame), the bounded buffers and event
 * queue, keep-alive and receive-timeout timers in virtual time, allocation
 * failure and API misuse.
 */
#include "testing/fl_test.h"
#include "ss_pair.h"

static const fl_ss_config CFG0 = {0};

/* The initiator's first bytes: header frame (59) + frame of "abcdefgh" (28). */
static size_t first_bytes(ss_pair *p, uint8_t *out) {
  if (fl_ss_push(p->s[0].ss, p->now, (const uint8_t *)"abcdefgh", 8) != 0) return 0;
  const uint8_t *q;
  size_t n = fl_ss_tx_peek(p->s[0].ss, &q);
  memcpy(out, q, n);
  return n;
}

/* Feed all of buf to a fresh responder, then EOF; return the error seen (0 if none). */
static int feed_responder(const uint8_t *buf, size_t len, int *data_events, uint64_t *frames) {
  ss_pair p;
  if (ss_pair_init(&p, &CFG0, 1) != 0 || ss_pair_start(&p) != 0) return 1;
  ss_side *r = &p.s[1];
  size_t off = 0;
  int rc = 0;
  while (off < len) {
    rc = fl_ss_recv(r->ss, p.now, buf + off, len - off);
    ss_side_collect(r);
    if (rc < 0) break;
    off += (size_t)rc;
    rc = 0;
  }
  if (rc == 0) rc = fl_ss_recv_end(r->ss, p.now);
  ss_side_collect(r);
  fl_ss_stats st;
  fl_ss_get_stats(r->ss, &st);
  *data_events = r->data_events;
  *frames = st.frames_received;
  /* A failure always comes with exactly one error event carrying the code. */
  if (rc < 0 && (ss_side_count(r, FL_SS_EV_ERROR) != 1 || r->ev[r->nev - 1].error != rc)) rc = 2;
  if (rc < 0 && fl_ss_recv(r->ss, p.now, buf, 1) != FL_ERR_CLOSED) rc = 3;
  ss_pair_free(&p);
  return rc;
}

static void test_every_truncation_rejected(void) {
  ss_pair p;
  uint8_t buf[128];
  FL_CHECK_EQ(ss_pair_init(&p, &CFG0, 1), 0);
  FL_CHECK_EQ(ss_pair_start(&p), 0);
  size_t n = first_bytes(&p, buf);
  FL_CHECK_EQ(n, 87);
  ss_pair_free(&p);
  for (size_t cut = 0; cut < n; cut++) {
    int data = 0;
    uint64_t frames = 0;
    int rc = feed_responder(buf, cut, &data, &frames);
    if (cut == 59) {
      FL_CHECK_EQ(rc, 0); /* a clean EOF after the header is an ordinary end */
      continue;
    }
    FL_CHECK_EQ(rc, FL_ERR_DECODE);
    FL_CHECK_EQ(data, 0);
    FL_CHECK_EQ(frames, 0);
  }
  int data = 0;
  uint64_t frames = 0;
  FL_CHECK_EQ(feed_responder(buf, n, &data, &frames), 0);
  FL_CHECK_EQ(data, 1);
}

/* Which error a flipped bit must give, by where it lands. */
static int expected_flip_error(size_t byte, int bit, const uint8_t *orig) {
  if (byte < 3) return FL_ERR_DECODE;               /* header length != 56 */
  if (byte < 35) return FL_ERR_PROTOCOL;            /* stream id */
  if (byte < 59) return FL_ERR_CRYPTO;              /* header: the first pull fails */
  if (byte < 62) {
    size_t len = (size_t)orig[59] | (size_t)orig[60] << 8 | (size_t)orig[61] << 16;
    len ^= (size_t)1 << ((byte - 59) * 8 + (size_t)bit);
    if (len < 17) return FL_ERR_DECODE;             /* "Invalid message received" */
    if (len > 25) return FL_ERR_DECODE;             /* longer: EOF inside the frame */
    return FL_ERR_CRYPTO;                            /* shorter: MAC fails */
  }
  return FL_ERR_CRYPTO;                              /* body: MAC fails */
}

static void test_every_bit_flip_rejected(void) {
  ss_pair p;
  uint8_t buf[128], bad[128];
  FL_CHECK_EQ(ss_pair_init(&p, &CFG0, 1), 0);
  FL_CHECK_EQ(ss_pair_start(&p), 0);
  size_t n = first_bytes(&p, buf);
  ss_pair_free(&p);
  for (size_t byte = 0; byte < n; byte++) {
    for (int bit = 0; bit < 8; bit++) {
      memcpy(bad, buf, n);
      bad[byte] ^= (uint8_t)(1u << bit);
      int data = 0;
      uint64_t frames = 0;
      int rc = feed_responder(bad, n, &data, &frames);
      int want = expected_flip_error(byte, bit, buf);
      if (rc != want) fl_test_err("  byte %zu bit %d: %d\n", byte, bit, rc);
      FL_CHECK_EQ(rc, want);
      FL_CHECK_EQ(data, 0);
      FL_CHECK_EQ(frames, 0);
    }
  }
}

/* A huge announced frame is refused before any of it is buffered. */
static void test_rx_frame_limit(void) {
  fl_ss_config c = CFG0;
  c.rx_frame_max = 4096;
  ss_pair p;
  FL_CHECK_EQ(ss_pair_init(&p, &c, 1), 0);
  FL_CHECK_EQ(ss_pair_start(&p), 0);
  FL_CHECK_EQ(ss_pair_flush(&p), 0);
  uint8_t big[5000] = {0};
  FL_CHECK_EQ(fl_ss_push(p.s[0].ss, p.now, big, 4096 - 17), 0); /* at the limit: fine */
  FL_CHECK_EQ(ss_pair_flush(&p), 0);
  FL_CHECK_EQ(p.s[1].got_len, 4096 - 17);
  FL_CHECK_EQ(fl_ss_push(p.s[0].ss, p.now, big, 4096 - 16), 0);
  FL_CHECK_EQ(ss_pair_flush(&p), FL_ERR_LIMIT);
  fl_ss_stats st;
  fl_ss_get_stats(p.s[1].ss, &st);
  FL_CHECK_EQ(st.rx_buffered, 0);
  FL_CHECK(st.rx_buffered_high < 4096);
  FL_CHECK(fl_ss_is_failed(p.s[1].ss));
  ss_pair_free(&p);
  /* Out-of-range limits are misuse. */
  fl_ss *ss;
  c.rx_frame_max = 55;
  FL_CHECK_EQ(fl_ss_new(&ss, &c), FL_ERR_INVALID);
  c.rx_frame_max = FL_SS_FRAME_BODY_MAX + 1;
  FL_CHECK_EQ(fl_ss_new(&ss, &c), FL_ERR_INVALID);
}

/* A peer announcing the largest frame and sending a little of it costs us
 * only what it sent, not the 16 MiB it announced. */
static void test_announced_frame_costs_only_what_arrives(void) {
  fl_mem_counter mc;
  fl_mem_counter_init(&mc, 0);
  fl_ss_config c = CFG0;
  c.mem = &mc.mem;
  ss_pair p;
  FL_CHECK_EQ(ss_pair_init(&p, &c, 1), 0);
  FL_CHECK_EQ(ss_pair_start(&p), 0);
  FL_CHECK_EQ(ss_pair_flush(&p), 0);
  uint8_t frame[3 + 1000] = {0xff, 0xff, 0xff};
  FL_CHECK_EQ(fl_ss_recv(p.s[1].ss, p.now, frame, sizeof frame), (int)sizeof frame);
  fl_ss_stats st;
  fl_ss_get_stats(p.s[1].ss, &st);
  FL_CHECK_EQ(st.rx_buffered, 1000);
  FL_CHECK(mc.bytes_peak < 64 * 1024);
  FL_CHECK_EQ(fl_ss_recv_end(p.s[1].ss, p.now), FL_ERR_DECODE);
  ss_pair_free(&p);
  FL_CHECK_EQ(mc.bytes_in_use, 0);
}

static void test_tx_limit_backpressure(void) {
  fl_ss_config c = CFG0;
  c.tx_bytes_max = 1000;
  ss_pair p;
  FL_CHECK_EQ(ss_pair_init(&p, &c, 1), 0);
  FL_CHECK_EQ(ss_pair_start(&p), 0);
  uint8_t msg[300] = {1};
  int ok = 0;
  while (fl_ss_push(p.s[0].ss, p.now, msg, sizeof msg) == 0) ok++;
  FL_CHECK_EQ(ok, 2); /* 59 + 2 * 320 = 699; a third would pass 1000 */
  fl_ss_stats st;
  fl_ss_get_stats(p.s[0].ss, &st);
  FL_CHECK_EQ(st.tx_refused, 1);
  FL_CHECK_EQ(st.tx_bytes, 699);
  FL_CHECK_EQ(st.tx_bytes_high, 699);
  FL_CHECK(!fl_ss_is_failed(p.s[0].ss)); /* refusing changes nothing */
  FL_CHECK_EQ(ss_pair_flush(&p), 0);
  FL_CHECK_EQ(fl_ss_push(p.s[0].ss, p.now, msg, sizeof msg), 0);
  FL_CHECK_EQ(ss_pair_flush(&p), 0);
  FL_CHECK_EQ(p.s[1].data_events, 3);
  /* Partial consumption keeps the rest in order. */
  FL_CHECK_EQ(fl_ss_push(p.s[0].ss, p.now, msg, 10), 0);
  const uint8_t *out;
  FL_CHECK_EQ(fl_ss_tx_peek(p.s[0].ss, &out), 30);
  FL_CHECK_EQ(fl_ss_tx_consume(p.s[0].ss, 31), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_ss_tx_consume(p.s[0].ss, 7), 0);
  FL_CHECK_EQ(fl_ss_tx_peek(p.s[0].ss, &out), 23);
  ss_pair_free(&p);
}

static void test_event_queue_limit(void) {
  fl_ss *ss;
  FL_CHECK_EQ(fl_ss_new(&ss, &CFG0), 0);
  for (int i = 0; i < FL_SS_EVENT_MAX + 3; i++) ss_emit(ss, FL_SS_EV_OPEN, 0, NULL, NULL, 0);
  fl_ss_stats st;
  fl_ss_get_stats(ss, &st);
  FL_CHECK_EQ(st.events, FL_SS_EVENT_MAX);
  FL_CHECK_EQ(st.events_high, FL_SS_EVENT_MAX);
  FL_CHECK_EQ(st.events_dropped, 3);
  fl_ss_event e;
  int n = 0;
  while (fl_ss_poll_event(ss, &e) == 1) n++;
  FL_CHECK_EQ(n, FL_SS_EVENT_MAX);
  fl_ss_free(ss);
}

/* recv stops at each DATA event and refuses more input until it is polled. */
static void test_one_data_event_per_recv(void) {
  ss_pair p;
  FL_CHECK_EQ(ss_pair_init(&p, &CFG0, 1), 0);
  FL_CHECK_EQ(ss_pair_start(&p), 0);
  FL_CHECK_EQ(ss_pair_flush(&p), 0);
  FL_CHECK_EQ(fl_ss_push(p.s[0].ss, p.now, (const uint8_t *)"one", 3), 0);
  FL_CHECK_EQ(fl_ss_push(p.s[0].ss, p.now, (const uint8_t *)"two", 3), 0);
  const uint8_t *out;
  FL_CHECK_EQ(fl_ss_tx_peek(p.s[0].ss, &out), 46);
  FL_CHECK_EQ(fl_ss_recv(p.s[1].ss, p.now, out, 46), 23);
  FL_CHECK_EQ(fl_ss_recv(p.s[1].ss, p.now, out + 23, 23), FL_ERR_STATE);
  fl_ss_event e;
  FL_CHECK_EQ(fl_ss_poll_event(p.s[1].ss, &e), 1);
  FL_CHECK_EQ(e.len, 3);
  FL_CHECK_MEM(e.data, "one", 3);
  FL_CHECK_EQ(fl_ss_poll_event(p.s[1].ss, &e), 0);
  FL_CHECK_EQ(fl_ss_recv(p.s[1].ss, p.now, out + 23, 23), 23);
  FL_CHECK_EQ(fl_ss_poll_event(p.s[1].ss, &e), 1);
  FL_CHECK_MEM(e.data, "two", 3);
  ss_pair_free(&p);
}

/* Keep-alive as timeout-refresh does it: every 5 s after the last write,
 * an empty message (a 20-byte frame); the receiver eats it. */
static void test_keepalive_timer(void) {
  fl_ss_config c = CFG0;
  c.keepalive_ms = 5000;
  ss_pair p;
  FL_CHECK_EQ(ss_pair_init(&p, &c, 1), 0);
  uint64_t t0 = p.now;
  FL_CHECK_EQ(fl_ss_next_deadline(p.s[0].ss), FL_TIME_NONE); /* not started */
  FL_CHECK_EQ(ss_pair_start(&p), 0);
  FL_CHECK_EQ(fl_ss_next_deadline(p.s[0].ss), t0 + 5000000);
  FL_CHECK_EQ(ss_pair_flush(&p), 0);
  /* Early call: nothing. */
  FL_CHECK_EQ(fl_ss_handle_timeout(p.s[0].ss, t0 + 2999999), 0);
  const uint8_t *out;
  FL_CHECK_EQ(fl_ss_tx_peek(p.s[0].ss, &out), 0);
  /* A write at 3 s pushes the deadline to 8 s. */
  p.now = t0 + 3000000;
  FL_CHECK_EQ(fl_ss_push(p.s[0].ss, p.now, (const uint8_t *)"x", 1), 0);
  FL_CHECK_EQ(fl_ss_next_deadline(p.s[0].ss), t0 + 8000000);
  FL_CHECK_EQ(ss_pair_flush(&p), 0);
  FL_CHECK_EQ(fl_ss_handle_timeout(p.s[0].ss, t0 + 7999999), 0);
  FL_CHECK_EQ(fl_ss_tx_peek(p.s[0].ss, &out), 0);
  /* Incoming traffic does not refresh it. */
  FL_CHECK_EQ(fl_ss_next_deadline(p.s[1].ss), t0 + 5000000);
  for (int k = 0; k < 3; k++) {
    p.now = fl_ss_next_deadline(p.s[0].ss);
    FL_CHECK_EQ(fl_ss_handle_timeout(p.s[0].ss, p.now), 0);
    FL_CHECK_EQ(fl_ss_tx_peek(p.s[0].ss, &out), 20);
    FL_CHECK(out[0] == 17 && out[1] == 0 && out[2] == 0);
    FL_CHECK_EQ(fl_ss_next_deadline(p.s[0].ss), p.now + 5000000);
    FL_CHECK_EQ(ss_pair_move(&p, 0), 20);
  }
  fl_ss_stats st;
  fl_ss_get_stats(p.s[1].ss, &st);
  FL_CHECK_EQ(st.keepalives_received, 3);
  FL_CHECK_EQ(p.s[1].data_events, 1); /* only "x" */
  fl_ss_get_stats(p.s[0].ss, &st);
  FL_CHECK_EQ(st.keepalives_sent, 3);
  FL_CHECK_EQ(st.raw_bytes_written, 21 + 3 * 20);
  /* end() stops it. */
  FL_CHECK_EQ(fl_ss_end(p.s[0].ss), 0);
  FL_CHECK_EQ(fl_ss_next_deadline(p.s[0].ss), FL_TIME_NONE);
  FL_CHECK_EQ(fl_ss_handle_timeout(p.s[0].ss, p.now + 60000000), 0);
  FL_CHECK_EQ(fl_ss_tx_peek(p.s[0].ss, &out), 0);
  ss_pair_free(&p);
}

/* Without keep-alive (and no filter), an empty message is delivered as an
 * empty chunk; with filter_empty it is eaten; set_keepalive turns it on. */
static void test_empty_message_delivery(void) {
  for (int mode = 0; mode < 3; mode++) {
    fl_ss_config c = CFG0;
    c.filter_empty = mode == 1;
    ss_pair p;
    FL_CHECK_EQ(ss_pair_init(&p, &c, 1), 0);
    FL_CHECK_EQ(ss_pair_start(&p), 0);
    if (mode == 2) {
      FL_CHECK_EQ(fl_ss_set_keepalive(p.s[1].ss, p.now, 1000), 0);
      FL_CHECK_EQ(fl_ss_next_deadline(p.s[1].ss), p.now + 1000000);
    }
    FL_CHECK_EQ(fl_ss_push(p.s[0].ss, p.now, NULL, 0), 0);
    FL_CHECK_EQ(ss_pair_flush(&p), 0);
    FL_CHECK_EQ(p.s[1].empty_events, mode == 0 ? 1 : 0);
    FL_CHECK_EQ(fl_ss_set_keepalive(p.s[1].ss, p.now, 0), 0);
    FL_CHECK_EQ(fl_ss_next_deadline(p.s[1].ss), FL_TIME_NONE);
    ss_pair_free(&p);
  }
}

static void test_receive_timeout(void) {
  fl_ss_config c = CFG0;
  c.timeout_ms = 2000;
  ss_pair p;
  FL_CHECK_EQ(ss_pair_init(&p, &c, 1), 0);
  FL_CHECK_EQ(ss_pair_start(&p), 0);
  uint64_t t0 = p.now;
  p.now += 1500000;
  FL_CHECK_EQ(ss_pair_flush(&p), 0); /* raw bytes arrive: refreshed */
  FL_CHECK_EQ(fl_ss_next_deadline(p.s[1].ss), t0 + 3500000);
  FL_CHECK_EQ(fl_ss_handle_timeout(p.s[1].ss, t0 + 3499999), 0);
  FL_CHECK_EQ(fl_ss_handle_timeout(p.s[1].ss, t0 + 3500000), FL_ERR_TIMEOUT);
  fl_ss_event e;
  while (fl_ss_poll_event(p.s[1].ss, &e) == 1 && e.type != FL_SS_EV_ERROR) {
  }
  FL_CHECK_EQ(e.type, FL_SS_EV_ERROR);
  FL_CHECK(strcmp(e.reason, "Stream timed out") == 0);
  FL_CHECK_EQ(fl_ss_next_deadline(p.s[1].ss), FL_TIME_NONE);
  ss_pair_free(&p);
}

/* A keep-alive due before the XX handshake finishes is sent right after it. */
static void test_keepalive_owed_during_xx(void) {
  fl_ss_config c = CFG0;
  c.keepalive_ms = 100;
  ss_pair p;
  FL_CHECK_EQ(ss_pair_init(&p, &c, 1), 0);
  uint8_t pk[2][32], sk[2][64], seed[32];
  for (int i = 0; i < 2; i++) {
    memset(seed, 0x71 + i, sizeof seed);
    FL_CHECK_EQ(fl_crypto_sign_seed_keypair(pk[i], sk[i], seed), 0);
    FL_CHECK_EQ(fl_ss_start_xx(p.s[i].ss, p.now, pk[i], sk[i], &p.drbg), 0);
  }
  p.now += 100000;
  FL_CHECK_EQ(fl_ss_handle_timeout(p.s[1].ss, p.now), 0);
  FL_CHECK_EQ(ss_pair_flush(&p), 0);
  fl_ss_stats st;
  fl_ss_get_stats(p.s[1].ss, &st);
  FL_CHECK_EQ(st.keepalives_sent, 1);
  fl_ss_get_stats(p.s[0].ss, &st);
  FL_CHECK_EQ(st.keepalives_received, 1);
  ss_pair_free(&p);
}

static void test_misuse(void) {
  fl_ss *ss;
  FL_CHECK_EQ(fl_ss_new(NULL, &CFG0), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_ss_new(&ss, NULL), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_ss_new(&ss, &CFG0), 0);
  uint8_t b[4] = {0};
  FL_CHECK_EQ(fl_ss_recv(ss, 0, b, 4), FL_ERR_STATE);   /* not started */
  FL_CHECK_EQ(fl_ss_push(ss, 0, b, 1), FL_ERR_STATE);
  FL_CHECK_EQ(fl_ss_end(ss), FL_ERR_STATE);
  FL_CHECK_EQ(fl_ss_recv(ss, 0, NULL, 4), FL_ERR_INVALID);
  fl_ss_handshake hs;
  ss_test_hs(&hs, 1);
  fl_drbg d;
  uint8_t seed[32] = {3};
  fl_drbg_init(&d, seed);
  FL_CHECK_EQ(fl_ss_start(ss, 100, &hs, &d), 0);
  FL_CHECK_EQ(fl_ss_start(ss, 100, &hs, &d), FL_ERR_STATE);
  FL_CHECK_EQ(fl_ss_push(ss, 99, b, 1), FL_ERR_INVALID); /* time going backwards */
  fl_ss_destroy(ss);
  FL_CHECK(fl_ss_is_failed(ss));
  FL_CHECK_EQ(fl_ss_push(ss, 100, b, 1), FL_ERR_CLOSED);
  const uint8_t *out;
  FL_CHECK_EQ(fl_ss_tx_peek(ss, &out), 0); /* pending output dropped */
  fl_ss_free(ss);
  fl_ss_free(NULL);
}

/* Every allocation failing in turn: a clean FL_ERR_NOMEM, never a crash. */
static void test_allocation_failures(void) {
  for (uint64_t fail = 1; fail < 12; fail++) {
    fl_mem_counter mc;
    fl_mem_counter_init(&mc, fail);
    fl_ss_config c = CFG0;
    c.mem = &mc.mem;
    ss_pair p;
    int rc = ss_pair_init(&p, &c, 1);
    if (rc == 0) rc = ss_pair_start(&p);
    if (rc == 0) rc = fl_ss_push(p.s[0].ss, p.now, (const uint8_t *)"abc", 3);
    if (rc == 0) rc = ss_pair_flush(&p);
    FL_CHECK(rc == 0 || rc == FL_ERR_NOMEM);
    if (rc == 0) FL_CHECK_EQ(p.s[1].got_len, 3);
    ss_pair_free(&p);
    FL_CHECK_EQ(mc.bytes_in_use, 0);
  }
}

int main(void) {
  if (fl_crypto_init() != 0) return 1;
  FL_RUN(test_every_truncation_rejected);
  FL_RUN(test_every_bit_flip_rejected);
  FL_RUN(test_rx_frame_limit);
  FL_RUN(test_announced_frame_costs_only_what_arrives);
  FL_RUN(test_tx_limit_backpressure);
  FL_RUN(test_event_queue_limit);
  FL_RUN(test_one_data_event_per_recv);
  FL_RUN(test_keepalive_timer);
  FL_RUN(test_empty_message_delivery);
  FL_RUN(test_receive_timeout);
  FL_RUN(test_keepalive_owed_during_xx);
  FL_RUN(test_misuse);
  FL_RUN(test_allocation_failures);
  return fl_test_done();
}
