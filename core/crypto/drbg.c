/*
 * The per-node deterministic random bit generator: a ChaCha20 keystream with
 * fast key erasure. Each refill produces 32 + FL_DRBG_BUF_BYTES bytes of
 * keystream under the current key; the first 32 become the next key and the
 * rest are handed out. The old key is gone after a refill, so a state captured
 * later cannot replay what was drawn before (the same construction libsodium
 * and Bernstein's "fast-key-erasure RNG" use).
 */
#include "flock/crypto.h"

#include <assert.h>
#include <sodium.h>
#include <string.h>

_Static_assert(FL_DRBG_SEED_BYTES == crypto_stream_chacha20_KEYBYTES, "seed is a key");

static void drbg_refill(fl_drbg *d) {
  /* The nonce stays zero: every key is used for exactly one refill. */
  static const uint8_t nonce[crypto_stream_chacha20_NONCEBYTES] = {0};
  uint8_t block[32 + FL_DRBG_BUF_BYTES];
  crypto_stream_chacha20(block, sizeof block, nonce, d->key);
  memcpy(d->key, block, 32);
  memcpy(d->buf, block + 32, FL_DRBG_BUF_BYTES);
  sodium_memzero(block, sizeof block);
  d->pos = 0;
}

void fl_drbg_init(fl_drbg *d, const uint8_t seed[FL_DRBG_SEED_BYTES]) {
  memset(d, 0, sizeof *d);
  memcpy(d->key, seed, 32);
  d->pos = FL_DRBG_BUF_BYTES; /* refill on first use */
}

void fl_drbg_bytes(fl_drbg *d, uint8_t *out, size_t len) {
  while (len > 0) {
    if (d->pos == FL_DRBG_BUF_BYTES) drbg_refill(d);
    size_t n = FL_DRBG_BUF_BYTES - d->pos;
    if (n > len) n = len;
    memcpy(out, d->buf + d->pos, n);
    /* Handed-out bytes do not stay in the buffer. */
    sodium_memzero(d->buf + d->pos, n);
    d->pos += n;
    out += n;
    len -= n;
    d->bytes_out += n;
  }
  assert(d->pos <= FL_DRBG_BUF_BYTES);
}

uint32_t fl_drbg_u32(fl_drbg *d) {
  uint8_t b[4];
  fl_drbg_bytes(d, b, sizeof b);
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

uint64_t fl_drbg_u64(fl_drbg *d) {
  uint64_t lo = fl_drbg_u32(d);
  uint64_t hi = fl_drbg_u32(d);
  return lo | hi << 32;
}

uint64_t fl_drbg_uniform(fl_drbg *d, uint64_t upper) {
  if (upper < 2) return 0;
  /* Reject the top partial range so every residue is equally likely. */
  uint64_t min = (0 - upper) % upper; /* 2^64 mod upper */
  for (;;) {
    uint64_t r = fl_drbg_u64(d);
    if (r >= min) return r % upper;
  }
}

void fl_drbg_fork(fl_drbg *parent, fl_drbg *child) {
  uint8_t seed[FL_DRBG_SEED_BYTES];
  fl_drbg_bytes(parent, seed, sizeof seed);
  fl_drbg_init(child, seed);
  sodium_memzero(seed, sizeof seed);
}

void fl_drbg_wipe(fl_drbg *d) { sodium_memzero(d, sizeof *d); }
