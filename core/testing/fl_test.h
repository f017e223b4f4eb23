/*
 * fl_test.h — the tiny C unit-test framework of core/<layer>/test/.
 *
 *   static void test_enc_uint_roundtrip(void) { FL_CHECK(x == 1); ... }
 *   int main(void) {
 *     FL_RUN(test_enc_uint_roundtrip);
 *     return fl_test_done();
 *   }
 *
 * A failed check prints file:line and the expression, marks the test failed
 * and returns from it. Tests that draw randomness use fl_test_seed(), which
 * reads FL_TEST_SEED (default 1) and is printed with every failure so the run
 * can be reproduced. The last line is "N passed, M failed".
 */
#ifndef FL_TEST_H
#define FL_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_log.h"

static int fl_test_failed_current;
static int fl_test_passed_count;
static int fl_test_failed_count;

static inline uint64_t fl_test_seed(void) {
  const char *s = getenv("FL_TEST_SEED");
  return s ? strtoull(s, NULL, 0) : 1;
}

#define FL_FAIL_AT(file, line, ...)                                              \
  do {                                                                           \
    fl_test_err("  %s:%d: ", file, line);                                    \
    fl_test_err(__VA_ARGS__);                                                \
    fl_test_err("\n");                                                       \
    fl_test_failed_current = 1;                                                  \
  } while (0)

#define FL_CHECK(cond)                                                           \
  do {                                                                           \
    if (!(cond)) {                                                               \
      FL_FAIL_AT(__FILE__, __LINE__, "check failed: %s", #cond);                 \
      return;                                                                    \
    }                                                                            \
  } while (0)

#define FL_CHECK_EQ(a, b)                                                        \
  do {                                                                           \
    long long fl_a_ = (long long)(a), fl_b_ = (long long)(b);                    \
    if (fl_a_ != fl_b_) {                                                        \
      FL_FAIL_AT(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, fl_a_,    \
                 fl_b_);                                                         \
      return;                                                                    \
    }                                                                            \
  } while (0)

#define FL_CHECK_MEM(a, b, n)                                                    \
  do {                                                                           \
    if (memcmp((a), (b), (n)) != 0) {                                            \
      FL_FAIL_AT(__FILE__, __LINE__, "bytes differ: %s vs %s (%zu bytes)", #a,   \
                 #b, (size_t)(n));                                               \
      return;                                                                    \
    }                                                                            \
  } while (0)

#define FL_RUN(fn)                                                               \
  do {                                                                           \
    fl_test_failed_current = 0;                                                  \
    fn();                                                                        \
    if (fl_test_failed_current) {                                                \
      fl_test_failed_count++;                                                    \
      fl_test_log("FAIL %s (reproduce with FL_TEST_SEED=%" PRIu64 ")\n", #fn,         \
             fl_test_seed());                                                    \
    } else {                                                                     \
      fl_test_passed_count++;                                                    \
      fl_test_log("ok   %s\n", #fn);                                                  \
    }                                                                            \
    fflush(stdout);                                                              \
  } while (0)

static inline int fl_test_done(void) {
  fl_test_log("%d passed, %d failed\n", fl_test_passed_count, fl_test_failed_count);
  return fl_test_failed_count == 0 && fl_test_passed_count > 0 ? 0 : 1;
}

/* Decode a hex string into out (exactly n bytes); aborts on bad input, since
 * that is a bug in the test itself. */
static inline void fl_test_hex(uint8_t *out, size_t n, const char *hex) {
  if (strlen(hex) != 2 * n) {
    fl_test_err("bad hex length in test: %s\n", hex);
    abort();
  }
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) abort();
    out[i] = (uint8_t)v;
  }
}

/* A small deterministic generator for tests (splitmix64). */
static inline uint64_t fl_test_rand(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

#endif /* FL_TEST_H */
