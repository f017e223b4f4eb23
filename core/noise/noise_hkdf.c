/*
 * noise/noise_hkdf.c — HMAC and HKDF over BLAKE2b-512, the Noise spec's §4.3
 * functions with HASHLEN 64 and BLOCKLEN 128 (noise-handshake@4.2.0 hmac.js
 * and hkdf.js compute the same).
 */
#include <assert.h>
#include <string.h>

#include "noise/noise_int.h"

/* The most parts one HMAC absorbs: the pad plus the caller's parts. */
#define FL_NOISE_HMAC_PARTS_MAX 4

void fl_noise_hmac(uint8_t out[FL_NOISE_HASH_BYTES], const uint8_t *key, size_t key_len,
                   const fl_slice *data, size_t n) {
  assert(key_len <= FL_NOISE_BLOCK_BYTES);
  assert(n + 1 <= FL_NOISE_HMAC_PARTS_MAX);
  uint8_t ipad[FL_NOISE_BLOCK_BYTES], opad[FL_NOISE_BLOCK_BYTES];
  memset(ipad, 0x36, sizeof ipad);
  memset(opad, 0x5c, sizeof opad);
  for (size_t i = 0; i < key_len; i++) {
    ipad[i] ^= key[i];
    opad[i] ^= key[i];
  }
  fl_slice parts[FL_NOISE_HMAC_PARTS_MAX];
  parts[0] = (fl_slice){ipad, sizeof ipad};
  for (size_t i = 0; i < n; i++) parts[i + 1] = data[i];
  uint8_t inner[FL_NOISE_HASH_BYTES];
  int rc = fl_crypto_hash_parts(inner, sizeof inner, parts, n + 1, NULL, 0);
  assert(rc == 0);
  fl_slice outer[2] = {{opad, sizeof opad}, {inner, sizeof inner}};
  rc = fl_crypto_hash_parts(out, FL_NOISE_HASH_BYTES, outer, 2, NULL, 0);
  assert(rc == 0);
  (void)rc;
  /* The pads are the key in disguise. */
  fl_crypto_memzero(ipad, sizeof ipad);
  fl_crypto_memzero(opad, sizeof opad);
  fl_crypto_memzero(inner, sizeof inner);
}

void fl_noise_hkdf2(uint8_t out1[FL_NOISE_HASH_BYTES], uint8_t out2[FL_NOISE_HASH_BYTES],
                    const uint8_t ck[FL_NOISE_HASH_BYTES], const uint8_t *ikm,
                    size_t ikm_len) {
  assert(ikm != NULL || ikm_len == 0);
  static const uint8_t one = 0x01, two = 0x02;
  uint8_t prk[FL_NOISE_HASH_BYTES], t1[FL_NOISE_HASH_BYTES];
  fl_slice in = {ikm, ikm_len};
  fl_noise_hmac(prk, ck, FL_NOISE_HASH_BYTES, &in, ikm_len ? 1 : 0);
  fl_slice p1 = {&one, 1};
  fl_noise_hmac(t1, prk, sizeof prk, &p1, 1);
  fl_slice p2[2] = {{t1, sizeof t1}, {&two, 1}};
  fl_noise_hmac(out2, prk, sizeof prk, p2, 2);
  memcpy(out1, t1, sizeof t1); /* last: out1 may alias ck */
  fl_crypto_memzero(prk, sizeof prk);
  fl_crypto_memzero(t1, sizeof t1);
}
