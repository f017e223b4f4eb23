/*
 * secretstream_bench.c — throughput of the C secret stream against its floor,
 * built and run by bench_secretstream.py (cc against build/lib/libflock.a and
 * libsodium). For each message size it prints one JSON line:
 *   floor_push / floor_pull: libsodium's raw secretstream push / pull, one
 *     message at a time into a reused buffer (nothing else);
 *   c_push: fl_ss_push (frame + encrypt into the output buffer) and the
 *     driver consuming the output, as a socket writer would;
 *   c_pull: fl_ss_recv + fl_ss_poll_event over a buffer of frames another
 *     stream made (decrypt + unframe, one event per message).
 * Every figure is MB/s of plaintext (1 MB = 10^6 bytes), best of 5 interleaved runs.
 * This program is a driver: it may read the clock and libsodium's RNG.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flock/secretstream.h"

static double now_s(void) {
  struct timespec ts;
  /* CPU time of this thread: other processes on a shared machine do not
   * count against us (wall time swung by 2x under load). */
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static fl_ss *make(bool initiator, fl_drbg *d) {
  fl_ss_config cfg = {0};
  cfg.is_initiator = initiator;
  cfg.tx_bytes_max = 64u << 20;
  fl_ss *ss;
  if (fl_ss_new(&ss, &cfg) != 0) abort();
  fl_ss_handshake hs;
  memset(&hs, 0, sizeof hs);
  memset(initiator ? hs.tx : hs.rx, 1, 32);
  memset(initiator ? hs.rx : hs.tx, 2, 32);
  memset(hs.hash, 3, sizeof hs.hash);
  if (fl_ss_start(ss, 1, &hs, d) != 0) abort();
  return ss;
}

static double floor_push(const uint8_t *msg, size_t size, size_t count, uint8_t *out) {
  crypto_secretstream_xchacha20poly1305_state st;
  uint8_t key[32] = {1}, header[24];
  crypto_secretstream_xchacha20poly1305_init_push(&st, header, key);
  double t0 = now_s();
  for (size_t i = 0; i < count; i++)
    crypto_secretstream_xchacha20poly1305_push(&st, out, NULL, msg, size, NULL, 0, 0);
  return now_s() - t0;
}

static double floor_pull(const uint8_t *msg, size_t size, size_t count, uint8_t *out) {
  crypto_secretstream_xchacha20poly1305_state st, pl;
  uint8_t key[32] = {1}, header[24];
  crypto_secretstream_xchacha20poly1305_init_push(&st, header, key);
  crypto_secretstream_xchacha20poly1305_init_pull(&pl, header, key);
  uint8_t *c = malloc((size + 17) * count);
  for (size_t i = 0; i < count; i++)
    crypto_secretstream_xchacha20poly1305_push(&st, c + i * (size + 17), NULL, msg, size, NULL,
                                               0, 0);
  unsigned char tag;
  double t0 = now_s();
  for (size_t i = 0; i < count; i++)
    if (crypto_secretstream_xchacha20poly1305_pull(&pl, out, NULL, &tag, c + i * (size + 17),
                                                   size + 17, NULL, 0) != 0)
      abort();
  double t = now_s() - t0;
  free(c);
  return t;
}

static double c_push(const uint8_t *msg, size_t size, size_t count, fl_drbg *d) {
  fl_ss *a = make(true, d);
  const uint8_t *p;
  if (fl_ss_tx_consume(a, fl_ss_tx_peek(a, &p)) != 0) abort();
  double t0 = now_s();
  for (size_t i = 0; i < count; i++) {
    if (fl_ss_push(a, 1, msg, size) != 0) abort();
    if (fl_ss_tx_consume(a, fl_ss_tx_peek(a, &p)) != 0) abort();
  }
  double t = now_s() - t0;
  fl_ss_free(a);
  return t;
}

/* Frames of count messages from a to b, then b decodes them all. */
static double c_pull(const uint8_t *msg, size_t size, size_t count, fl_drbg *d) {
  fl_ss *a = make(true, d), *b = make(false, d);
  size_t cap = 59 + (size + 20) * count, len = 0;
  uint8_t *wire = malloc(cap);
  const uint8_t *p;
  for (size_t i = 0; i <= count; i++) {
    size_t n = fl_ss_tx_peek(a, &p);
    memcpy(wire + len, p, n);
    len += n;
    if (fl_ss_tx_consume(a, n) != 0) abort();
    if (i < count && fl_ss_push(a, 1, msg, size) != 0) abort();
  }
  fl_ss_event ev;
  size_t got = 0, off = 0;
  double t0 = now_s();
  while (off < len) {
    int rc = fl_ss_recv(b, 1, wire + off, len - off);
    if (rc < 0) abort();
    off += (size_t)rc;
    while (fl_ss_poll_event(b, &ev) == 1)
      if (ev.type == FL_SS_EV_DATA) got += ev.len;
  }
  double t = now_s() - t0;
  if (got != size * count) abort();
  free(wire);
  fl_ss_free(a);
  fl_ss_free(b);
  return t;
}

int main(int argc, char **argv) {
  if (sodium_init() < 0 || fl_crypto_init() != 0) return 1;
  size_t total = argc > 1 ? strtoull(argv[1], NULL, 0) : (64u << 20);
  fl_drbg d;
  uint8_t seed[32] = {5};
  fl_drbg_init(&d, seed);
  static const size_t sizes[] = {64, 1024, 65536, 1048576};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    size_t size = sizes[k], count = total / size;
    uint8_t *msg = malloc(size), *out = malloc(size + 17);
    randombytes_buf(msg, size);
    double mb = (double)(size * count) / 1e6;
    /* Best of 5, the four measurements interleaved so that load from other
     * processes and frequency changes hit them alike. */
    double fp = 1e9, fpl = 1e9, cp = 1e9, cpl = 1e9;
    for (int r = 0; r < 5; r++) {
      double t = floor_push(msg, size, count, out);
      fp = t < fp ? t : fp;
      t = c_push(msg, size, count, &d);
      cp = t < cp ? t : cp;
      t = floor_pull(msg, size, count, out);
      fpl = t < fpl ? t : fpl;
      t = c_pull(msg, size, count, &d);
      cpl = t < cpl ? t : cpl;
    }
    printf("{\"size\": %zu, \"bytes\": %zu, \"floor_push\": %.1f, \"floor_pull\": %.1f, "
           "\"c_push\": %.1f, \"c_pull\": %.1f}\n",
           size, size * count, mb / fp, mb / fpl, mb / cp, mb / cpl);
    fflush(stdout);
    free(msg);
    free(out);
  }
  return 0;
}
