/*
 * fuzz_enc_util.h — what the core/enc fuzz targets share: a check that
 * aborts (so libFuzzer and the gcc replay both report it), and a growable
 * encode buffer sized by preencode.
 *
 * Every target follows the same plan: decode the input until the first
 * error, re-encode what decoded (sizing it with preencode first, and
 * requiring the encoder to fill exactly that), decode the re-encoding again
 * and require the same values. Where the format is canonical the bytes must
 * match the input too; varint-prefixed fields are compared by value, since
 * non-minimal varints decode but re-encode shorter.
 */
#ifndef FUZZ_ENC_UTIL_H
#define FUZZ_ENC_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flock/enc.h"
#include "testing/fl_log.h"

/* The libFuzzer entry point every target defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_CHECK(cond)                                                         \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fl_test_err("%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      abort();                                                                 \
    }                                                                          \
  } while (0)

/* A failed decode must leave the state exactly as it was. */
#define FZ_CHECK_UNCHANGED(s, before)                                          \
  FZ_CHECK((s).start == (before).start && (s).end == (before).end &&          \
           (s).buf == (before).buf)

/* Allocate an encode buffer of the preencoded size (at least 1 byte so
 * malloc(0) never returns NULL for an empty message). */
static inline uint8_t *fz_alloc(size_t n) {
  uint8_t *p = malloc(n ? n : 1);
  FZ_CHECK(p != NULL);
  return p;
}

#endif /* FUZZ_ENC_UTIL_H */
