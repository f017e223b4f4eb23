/*
 * fuzz_secretstream_frames.c — the secret-stream frame parser on arbitrary
 * bytes. The first input byte picks the set-up: bit 0 = standalone XX
 * responder (else a responder holding the spec's fixed handshake keys, so
 * seeds made by an initiator with those keys reach the data frames), bit 1 =
 * a 4 KiB receive frame limit, bit 2 = keep-alive on, bits 3..7 = the chunk
 * size the rest is fed in (0 = all at once). The rest is fed to fl_ss_recv,
 * then EOF; the same bytes also go through the unordered-message opener.
 * Checked: consumption never exceeds the input, no event follows an error,
 * a data event never exceeds the largest message, memory is all returned.
 */
#include <stdlib.h>
#include <string.h>

#include "flock/secretstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void hexin(uint8_t *out, const char *hex, size_t n) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    const char *hi = strchr(digits, hex[2 * i]), *lo = strchr(digits, hex[2 * i + 1]);
    out[i] = (uint8_t)((hi - digits) << 4 | (lo - digits));
  }
}

static int start(fl_ss *ss, uint8_t mode, fl_drbg *d) {
  if (mode & 1) {
    uint8_t seed[32], pk[32], sk[64];
    memset(seed, 0x42, sizeof seed);
    if (fl_crypto_sign_seed_keypair(pk, sk, seed) != 0) abort();
    return fl_ss_start_xx(ss, 1000, pk, sk, d);
  }
  fl_ss_handshake hs;
  memset(&hs, 0, sizeof hs);
  hexin(hs.hash, "2222e888ddda3faa1ce91640580e2fd5f11d93ecc6c9723829cde5a1805b470a"
                 "8f31d30fe5b8b93313636f891ae1418a40d0e484df89c4e81169ad6480540eeb", 64);
  hexin(hs.rx, "cc00d99bd3a15a6779df38fd42fd25a84d73264023e7c1da95cf3bcbdce9c210", 32);
  hexin(hs.tx, "78dd48ecef5d11fd953197694a8ee2d9f8d86d49d56d856e3dd7c8e78047826b", 32);
  return fl_ss_start(ss, 1000, &hs, d);
}

/* Drain events; returns 1 once an error was seen. */
static int drain(fl_ss *ss, int errored) {
  fl_ss_event e;
  while (fl_ss_poll_event(ss, &e) == 1) {
    if (errored) abort(); /* nothing may follow an error */
    if (e.type == FL_SS_EV_ERROR) {
      if (e.error >= 0 || e.reason == NULL) abort();
      errored = 1;
    }
    if (e.type == FL_SS_EV_DATA && (e.len > FL_SS_MESSAGE_MAX || (e.len && !e.data))) abort();
  }
  return errored;
}

static void feed(fl_ss *ss, const uint8_t *data, size_t size, size_t chunk) {
  size_t off = 0;
  int errored = 0;
  uint64_t now = 1000;
  while (off < size && !errored) {
    size_t len = chunk && size - off > chunk ? chunk : size - off;
    int rc = fl_ss_recv(ss, now, data + off, len);
    errored = drain(ss, errored);
    if (rc < 0) {
      if (!fl_ss_is_failed(ss) || !errored) abort(); /* a failure is always reported */
      return;
    }
    if ((size_t)rc > len) abort();
    off += (size_t)rc;
    now += 10;
  }
  if (!errored) {
    (void)fl_ss_recv_end(ss, now);
    drain(ss, 0);
    (void)fl_ss_handle_timeout(ss, now + 10000000);
    drain(ss, fl_ss_is_failed(ss));
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int inited;
  if (!inited) {
    if (fl_crypto_init() != 0) abort();
    inited = 1;
  }
  if (size < 1) return 0;
  uint8_t mode = data[0];
  data++, size--;
  fl_mem_counter mc;
  fl_mem_counter_init(&mc, 0);
  fl_ss_config cfg = {0};
  cfg.rx_frame_max = mode & 2 ? 4096 : 0;
  cfg.keepalive_ms = mode & 4 ? 1000 : 0;
  cfg.mem = &mc.mem;
  fl_ss *ss;
  if (fl_ss_new(&ss, &cfg) != 0) abort();
  fl_drbg d;
  uint8_t seed[32] = {9};
  fl_drbg_init(&d, seed);
  if (start(ss, mode, &d) != 0) abort();
  drain(ss, 0);
  feed(ss, data, size, (size_t)(mode >> 3) * 7);
  uint8_t out[256];
  int n = fl_ss_unbox(ss, out, sizeof out, data, size);
  if (n > (int)sizeof out) abort();
  fl_ss_free(ss);
  if (mc.bytes_in_use != 0) abort();
  return 0;
}
