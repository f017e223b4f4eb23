/*
 * noise_bench.c — hyperdht's IK handshake (Ed25519) timed in C, and the
 * floor: the same primitive operations timed alone in libsodium.
 *
 * Built by bench_noise.py with cc against build/lib/libflock.a and
 * libsodium; not part of the library or the tests (it reads the clock).
 *
 *   noise_bench ITERATIONS ROUNDS
 *
 * Prints one "name seconds_per_op" line per figure (best of ROUNDS rounds,
 * each of ITERATIONS operations, in thread CPU time), which bench_noise.py
 * turns into ratios.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "flock/hyperdht.h"
#include "flock/noise.h"

/* CPU time of this thread, not wall time: on a machine shared with other
 * jobs, time spent preempted would otherwise land in whichever batch it
 * interrupted and skew the ratios. */
static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what) {
  fprintf(stderr, "noise_bench: %s failed\n", what);
  exit(1);
}

static uint8_t cpk[32], csk[64], spk[32], ssk[64], prologue[32];
static uint8_t pl1[20], pl2[34];
static fl_drbg drbg;
static volatile uint8_t sink;

/* One complete IK handshake, both sides, as hyperdht runs it: msg1 and msg2
 * with payloads of the sizes hyperdht sends, then split on both sides. */
static void ik_once(void) {
  fl_noise *c, *s;
  uint8_t m1[256], m2[256], pl[128];
  size_t l1, l2, plen;
  fl_noise_config cc = {.pattern = "IK", .dh = FL_NOISE_DH_ED25519, .initiator = true,
                        .prologue = prologue, .prologue_len = 32, .static_sk = csk,
                        .remote_static = spk, .drbg = &drbg};
  fl_noise_config sc = {.pattern = "IK", .dh = FL_NOISE_DH_ED25519, .initiator = false,
                        .prologue = prologue, .prologue_len = 32, .static_sk = ssk,
                        .drbg = &drbg};
  if (fl_noise_new(&c, NULL, &cc) != 0 || fl_noise_new(&s, NULL, &sc) != 0) die("new");
  if (fl_noise_write_message(c, pl1, sizeof pl1, m1, sizeof m1, &l1) != 0) die("msg1");
  if (fl_noise_read_message(s, m1, l1, pl, sizeof pl, &plen) != 0) die("read1");
  if (fl_noise_write_message(s, pl2, sizeof pl2, m2, sizeof m2, &l2) != 0) die("msg2");
  if (fl_noise_read_message(c, m2, l2, pl, sizeof pl, &plen) != 0) die("read2");
  fl_noise_keys kc, ks;
  if (fl_noise_split(c, &kc) != 0 || fl_noise_split(s, &ks) != 0) die("split");
  if (memcmp(kc.tx, ks.rx, 32) != 0) die("keys");
  sink ^= kc.tx[0];
  fl_noise_free(c);
  fl_noise_free(s);
}

/* The same through the hyperdht layer: payload codec and holepunch secret. */
static void hyperdht_once(void) {
  fl_noise *c, *s;
  fl_hyperdht_noise_payload p, got;
  fl_hyperdht_noise_payload_init(&p);
  p.has_udx = p.has_secret_stream = true;
  p.udx.id = 0x11223344;
  p.addresses4_len = 1;
  p.addresses4[0] = fl_addr_ipv4(127, 0, 0, 1, 40000);
  uint8_t m[256];
  size_t l;
  if (fl_hyperdht_handshake_new(&c, NULL, true, csk, spk, NULL, &drbg) != 0) die("hnew");
  if (fl_hyperdht_handshake_new(&s, NULL, false, ssk, NULL, NULL, &drbg) != 0) die("hnew");
  if (fl_hyperdht_handshake_send(c, &p, m, sizeof m, &l) != 0) die("hsend1");
  if (fl_hyperdht_handshake_recv(s, m, l, &got) != 0) die("hrecv1");
  if (fl_hyperdht_handshake_send(s, &p, m, sizeof m, &l) != 0) die("hsend2");
  if (fl_hyperdht_handshake_recv(c, m, l, &got) != 0) die("hrecv2");
  fl_hyperdht_handshake_result rc, rs;
  if (fl_hyperdht_handshake_final(c, &rc) != 0 || fl_hyperdht_handshake_final(s, &rs) != 0)
    die("final");
  sink ^= rc.tx[0];
  fl_noise_free(c);
  fl_noise_free(s);
}

/* ---- The floor: each primitive alone ------------------------------------------ */

static uint8_t scalar[32], point[32], out[64], buf[512], key[32], nonce[12];

static void op_base(void) {
  scalar[0]++;
  if (crypto_scalarmult_ed25519_base_noclamp(point, scalar) != 0) die("base");
}

static void op_var(void) {
  scalar[0]++;
  if (crypto_scalarmult_ed25519_noclamp(out, scalar, cpk) != 0) die("var");
}

static void op_sha512(void) { crypto_hash_sha512(buf, buf, 32); }

/* MixHash: BLAKE2b-512 over h (64) plus the data (at most 48 + payload). */
static void op_mixhash(void) { crypto_generichash(buf, 64, buf, 64 + 50, NULL, 0); }

/* One HMAC-BLAKE2b: inner over pad (128) + data (<= 65), outer over 128 + 64. */
static void op_hmac(void) {
  crypto_generichash(out, 64, buf, 128 + 64, NULL, 0);
  crypto_generichash(out, 64, buf, 128 + 64, NULL, 0);
}

/* One AEAD seal of a handshake field (32-34 bytes) with 64 bytes of AD. */
static void op_aead(void) {
  unsigned long long clen;
  crypto_aead_chacha20poly1305_ietf_encrypt(buf + 256, &clen, buf, 34, buf + 128, 64, NULL,
                                            nonce, key);
}

static double time_batch(void (*fn)(void), int iters) {
  double t0 = now_s();
  for (int i = 0; i < iters; i++) fn();
  return (now_s() - t0) / iters;
}

typedef struct figure {
  const char *name;
  void (*fn)(void);
  int scale;    /* primitives are cheap: run more of them per batch */
  double best;
} figure;

static figure figures[] = {
    {"ik_handshake", ik_once, 1, 1e9},       {"hyperdht_handshake", hyperdht_once, 1, 1e9},
    {"scalarmult_base", op_base, 10, 1e9},   {"scalarmult_var", op_var, 8, 1e9},
    {"sha512", op_sha512, 100, 1e9},         {"mixhash", op_mixhash, 100, 1e9},
    {"hmac", op_hmac, 100, 1e9},             {"aead", op_aead, 100, 1e9},
};

/* Rounds interleave every figure, and each keeps its best batch: on a
 * shared machine a burst of load then hits all figures alike instead of
 * skewing the ratio between the handshake and its floor. */
static void measure(int iters, int rounds) {
  size_t n = sizeof figures / sizeof figures[0];
  for (int r = 0; r < rounds; r++)
    for (size_t i = 0; i < n; i++) {
      double t = time_batch(figures[i].fn, iters * figures[i].scale);
      if (t < figures[i].best) figures[i].best = t;
    }
  for (size_t i = 0; i < n; i++) printf("%s %.9f\n", figures[i].name, figures[i].best);
}

int main(int argc, char **argv) {
  int iters = argc > 1 ? atoi(argv[1]) : 200;
  int rounds = argc > 2 ? atoi(argv[2]) : 5;
  if (iters < 1 || rounds < 1 || fl_crypto_init() != 0) die("args/init");
  uint8_t seed[32];
  memset(seed, 1, 32);
  crypto_sign_seed_keypair(cpk, csk, seed);
  memset(seed, 2, 32);
  crypto_sign_seed_keypair(spk, ssk, seed);
  memset(seed, 9, 32);
  fl_drbg_init(&drbg, seed);
  if (fl_crypto_hyperdht_ns(FL_NS_PEER_HANDSHAKE, prologue) != 0) die("ns");
  memset(scalar, 0x42, 32);
  scalar[31] &= 127;
  scalar[31] |= 64;
  /* Warm up caches and CPU clocks before timing. */
  for (int i = 0; i < iters; i++) ik_once();
  measure(iters, rounds);
  return sink == 0xff ? 2 : 0;
}
