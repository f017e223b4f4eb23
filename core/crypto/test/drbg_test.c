/*
 * drbg_test.c — the per-node deterministic random bit generator: the same
 * seed gives the same stream (the simulator's replay rests on it), the stream
 * is the documented ChaCha20 fast-key-erasure construction, forks are
 * independent, accounting is exact and fl_drbg_uniform has no modulo bias.
 */
#include "flock/crypto.h"

#include <sodium.h>
#include <string.h>

#include "testing/fl_test.h"

static void seed_from(uint8_t seed[FL_DRBG_SEED_BYTES], uint8_t salt) {
  uint64_t s = fl_test_seed();
  memset(seed, 0, FL_DRBG_SEED_BYTES);
  memcpy(seed, &s, sizeof s);
  seed[31] = salt;
}

static void test_drbg_same_seed_same_stream(void) {
  uint8_t seed[32], a[1000], b[1000];
  seed_from(seed, 1);
  fl_drbg d1, d2;
  fl_drbg_init(&d1, seed);
  fl_drbg_init(&d2, seed);
  fl_drbg_bytes(&d1, a, sizeof a);
  fl_drbg_bytes(&d2, b, sizeof b);
  FL_CHECK_MEM(a, b, sizeof a);
  FL_CHECK_EQ(fl_drbg_u64(&d1), fl_drbg_u64(&d2));
}

static void test_drbg_different_seed_different_stream(void) {
  uint8_t s1[32], s2[32], a[64], b[64];
  seed_from(s1, 2);
  memcpy(s2, s1, 32);
  s2[0] ^= 1; /* one bit apart */
  fl_drbg d1, d2;
  fl_drbg_init(&d1, s1);
  fl_drbg_init(&d2, s2);
  fl_drbg_bytes(&d1, a, sizeof a);
  fl_drbg_bytes(&d2, b, sizeof b);
  FL_CHECK(memcmp(a, b, sizeof a) != 0);
  int same = 0;
  for (size_t i = 0; i < sizeof a; i++) same += a[i] == b[i];
  FL_CHECK(same < 8); /* about 64/256 expected by chance */
}

/* The construction the header documents: refill = ChaCha20(key, nonce 0),
 * 32 + FL_DRBG_BUF_BYTES bytes; the first 32 become the next key, the rest
 * is output. Pinning it keeps recorded simulator seeds replayable. */
static void test_drbg_is_chacha20_fast_key_erasure(void) {
  uint8_t seed[32], want[2 * FL_DRBG_BUF_BYTES], got[sizeof want];
  uint8_t block[32 + FL_DRBG_BUF_BYTES], key[32];
  static const uint8_t nonce[crypto_stream_chacha20_NONCEBYTES] = {0};
  seed_from(seed, 3);
  memcpy(key, seed, 32);
  for (int r = 0; r < 2; r++) {
    FL_CHECK_EQ(crypto_stream_chacha20(block, sizeof block, nonce, key), 0);
    memcpy(key, block, 32);
    memcpy(want + r * FL_DRBG_BUF_BYTES, block + 32, FL_DRBG_BUF_BYTES);
  }
  fl_drbg d;
  fl_drbg_init(&d, seed);
  fl_drbg_bytes(&d, got, sizeof got);
  FL_CHECK_MEM(got, want, sizeof want);
  FL_CHECK_MEM(d.key, key, 32); /* the old keys are gone */
}

static void test_drbg_chunked_draws_equal_one_draw(void) {
  static const size_t chunks[] = {1, 7, 255, 256, 257, 0, 3, 512, 31, 700};
  uint8_t seed[32], whole[2100], parts[2100];
  size_t total = 0;
  for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) total += chunks[i];
  FL_CHECK(total <= sizeof whole);
  seed_from(seed, 4);
  fl_drbg d1, d2;
  fl_drbg_init(&d1, seed);
  fl_drbg_init(&d2, seed);
  fl_drbg_bytes(&d1, whole, total);
  size_t off = 0;
  for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
    fl_drbg_bytes(&d2, parts + off, chunks[i]);
    off += chunks[i];
  }
  FL_CHECK_MEM(parts, whole, total);
  FL_CHECK_EQ(d1.bytes_out, d2.bytes_out);
  /* u32/u64 are little-endian reads of the same stream. */
  uint8_t b[12];
  fl_drbg_bytes(&d1, b, 12);
  uint32_t w = fl_drbg_u32(&d2);
  uint64_t q = fl_drbg_u64(&d2);
  uint32_t w_want = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                    (uint32_t)b[3] << 24;
  uint64_t q_want = 0;
  for (int i = 7; i >= 0; i--) q_want = q_want << 8 | b[4 + i];
  FL_CHECK_EQ(w, w_want);
  FL_CHECK(q == q_want);
}

static void test_drbg_bytes_out_accounting(void) {
  uint8_t seed[32], buf[1000];
  seed_from(seed, 5);
  fl_drbg d, child;
  fl_drbg_init(&d, seed);
  FL_CHECK_EQ(d.bytes_out, 0);
  fl_drbg_bytes(&d, buf, 5);
  FL_CHECK_EQ(d.bytes_out, 5);
  (void)fl_drbg_u32(&d);
  FL_CHECK_EQ(d.bytes_out, 9);
  (void)fl_drbg_u64(&d);
  FL_CHECK_EQ(d.bytes_out, 17);
  fl_drbg_bytes(&d, buf, 1000);
  FL_CHECK_EQ(d.bytes_out, 1017);
  fl_drbg_bytes(&d, NULL, 0);
  FL_CHECK_EQ(d.bytes_out, 1017);
  fl_drbg_fork(&d, &child);
  FL_CHECK_EQ(d.bytes_out, 1017 + FL_DRBG_SEED_BYTES);
  FL_CHECK_EQ(child.bytes_out, 0);
  /* uniform(2^63 + 1) rejects almost half of all draws: 8 bytes per try. */
  uint64_t before = d.bytes_out;
  (void)fl_drbg_uniform(&d, 10);
  FL_CHECK((d.bytes_out - before) % 8 == 0 && d.bytes_out > before);
  before = d.bytes_out;
  (void)fl_drbg_uniform(&d, 1);
  FL_CHECK_EQ(d.bytes_out, before); /* nothing to draw */
}

static void test_drbg_fork_independence(void) {
  uint8_t seed[32], p[256], c1[256], c2[256];
  seed_from(seed, 6);
  fl_drbg parent, twin, k1, k2, t1;
  fl_drbg_init(&parent, seed);
  fl_drbg_init(&twin, seed);
  fl_drbg_fork(&parent, &k1);
  fl_drbg_fork(&parent, &k2);
  fl_drbg_bytes(&parent, p, sizeof p);
  fl_drbg_bytes(&k1, c1, sizeof c1);
  fl_drbg_bytes(&k2, c2, sizeof c2);
  FL_CHECK(memcmp(c1, c2, sizeof c1) != 0);
  FL_CHECK(memcmp(c1, p, sizeof c1) != 0);
  FL_CHECK(memcmp(c2, p, sizeof c2) != 0);
  /* The child's seed is not visible in the parent's later output either. */
  uint8_t child_seed_seen[32];
  fl_drbg_bytes(&twin, child_seed_seen, 32);
  for (size_t i = 0; i + 32 <= sizeof p; i++)
    FL_CHECK(memcmp(p + i, child_seed_seen, 32) != 0);
  /* Forking is deterministic: the same parent state forks the same child. */
  fl_drbg_init(&twin, seed);
  fl_drbg_fork(&twin, &t1);
  uint8_t again[256];
  fl_drbg_bytes(&t1, again, sizeof again);
  FL_CHECK_MEM(again, c1, sizeof again);
  /* Drawing from a child does not move its parent. */
  FL_CHECK_EQ(parent.bytes_out, 64 + sizeof p);
}

static void test_drbg_uniform_bounds(void) {
  uint8_t seed[32];
  seed_from(seed, 7);
  fl_drbg d;
  fl_drbg_init(&d, seed);
  FL_CHECK(fl_drbg_uniform(&d, 0) == 0);
  FL_CHECK(fl_drbg_uniform(&d, 1) == 0);
  static const uint64_t uppers[] = {2, 3, 7, 10, 255, 256, 257, 1000003, (1ull << 32) + 1,
                                    (1ull << 63) + 1, UINT64_MAX};
  for (size_t i = 0; i < sizeof uppers / sizeof uppers[0]; i++) {
    for (int k = 0; k < 2000; k++) FL_CHECK(fl_drbg_uniform(&d, uppers[i]) < uppers[i]);
  }
  /* Both ends of a small range are reachable. */
  int seen[3] = {0};
  for (int k = 0; k < 300; k++) seen[fl_drbg_uniform(&d, 3)]++;
  FL_CHECK(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
}

/* Pearson's chi-square of `n` counts against a uniform expectation. */
static double chi_square(const unsigned *counts, int n, unsigned total) {
  double expect = (double)total / n, x = 0;
  for (int i = 0; i < n; i++) {
    double diff = counts[i] - expect;
    x += diff * diff / expect;
  }
  return x;
}

static void test_drbg_uniform_unbiased_chi_square(void) {
  uint8_t seed[32];
  seed_from(seed, 8);
  fl_drbg d;
  fl_drbg_init(&d, seed);
  /* 10 buckets, 9 degrees of freedom: 27.88 is the p = 0.001 critical value.
   * The seed is fixed, so this is a deterministic sanity check, not a flake. */
  unsigned counts[10] = {0};
  for (unsigned k = 0; k < 100000; k++) counts[fl_drbg_uniform(&d, 10)]++;
  double x = chi_square(counts, 10, 100000);
  if (x >= 27.88) fl_test_err("  chi-square(9) = %.2f\n", x);
  FL_CHECK(x < 27.88);
  /* A range where naive `r % upper` is grossly biased: upper = 3 * 2^62, so
   * 2^64 mod upper = 2^62 and the first third would get half of all draws.
   * 2 degrees of freedom: 13.82 is the p = 0.001 critical value. */
  const uint64_t upper = 3ull << 62;
  unsigned thirds[3] = {0};
  for (unsigned k = 0; k < 30000; k++) thirds[fl_drbg_uniform(&d, upper) >> 62]++;
  x = chi_square(thirds, 3, 30000);
  if (x >= 13.82) fl_test_err("  chi-square(2) = %.2f (%u %u %u)\n", x, thirds[0],
                          thirds[1], thirds[2]);
  FL_CHECK(x < 13.82);
}

static void test_drbg_wipe(void) {
  uint8_t seed[32], zero[sizeof(fl_drbg)] = {0}, b[10];
  seed_from(seed, 9);
  fl_drbg d;
  fl_drbg_init(&d, seed);
  fl_drbg_bytes(&d, b, sizeof b);
  fl_drbg_wipe(&d);
  FL_CHECK_MEM(&d, zero, sizeof d);
}

int main(void) {
  if (fl_crypto_init() != 0) return 1;
  FL_RUN(test_drbg_same_seed_same_stream);
  FL_RUN(test_drbg_different_seed_different_stream);
  FL_RUN(test_drbg_is_chacha20_fast_key_erasure);
  FL_RUN(test_drbg_chunked_draws_equal_one_draw);
  FL_RUN(test_drbg_bytes_out_accounting);
  FL_RUN(test_drbg_fork_independence);
  FL_RUN(test_drbg_uniform_bounds);
  FL_RUN(test_drbg_uniform_unbiased_chi_square);
  FL_RUN(test_drbg_wipe);
  return fl_test_done();
}
