/*
 * noise/noise_dh.c — the two DH functions the engine plugs in.
 *
 * Ed25519 is noise-curve-ed@2.1.0's (spec/noise.md §3): the scalar is the
 * clamped first half of SHA-512(seed) and the output is the compressed
 * Edwards point s·P from crypto_scalarmult_ed25519_noclamp, which also
 * refuses non-canonical, small-order and off-subgroup points and an identity
 * result. This is not X25519 over converted keys (different bytes), so it
 * is computed here rather than through fl_crypto_dh_ed25519.
 */
#include <assert.h>
#include <string.h>

#include <sodium.h>

#include "noise/noise_int.h"

static void ed25519_scalar(uint8_t scalar[32], const uint8_t seed[32]) {
  uint8_t h[crypto_hash_sha512_BYTES];
  crypto_hash_sha512(h, seed, 32);
  h[0] &= 248;
  h[31] &= 127;
  h[31] |= 64;
  memcpy(scalar, h, 32);
  sodium_memzero(h, sizeof h);
}

int fl_noise_kp_from_sk(fl_noise_kp *kp, fl_noise_dh dh, const uint8_t *sk) {
  assert(kp != NULL && sk != NULL);
  memset(kp, 0, sizeof *kp);
  if (dh == FL_NOISE_DH_ED25519) {
    /* libsodium's secret key is seed || public key; trust the public half as
     * noise-curve-ed does (it never recomputes it). */
    ed25519_scalar(kp->scalar, sk);
    memcpy(kp->pk, sk + 32, 32);
  } else {
    assert(dh == FL_NOISE_DH_X25519);
    memcpy(kp->scalar, sk, 32);
    if (crypto_scalarmult_curve25519_base(kp->pk, kp->scalar) != 0) {
      sodium_memzero(kp, sizeof *kp);
      return FL_ERR_CRYPTO;
    }
  }
  kp->set = true;
  return 0;
}

int fl_noise_kp_from_seed(fl_noise_kp *kp, fl_noise_dh dh, const uint8_t seed[32]) {
  assert(kp != NULL && seed != NULL);
  if (dh == FL_NOISE_DH_X25519) return fl_noise_kp_from_sk(kp, dh, seed);
  assert(dh == FL_NOISE_DH_ED25519);
  memset(kp, 0, sizeof *kp);
  /* One SHA-512 and one base-point multiplication: the same public key
   * crypto_sign_seed_keypair(seed) makes, and the scalar DH needs. */
  ed25519_scalar(kp->scalar, seed);
  if (crypto_scalarmult_ed25519_base_noclamp(kp->pk, kp->scalar) != 0) {
    sodium_memzero(kp, sizeof *kp);
    return FL_ERR_CRYPTO;
  }
  kp->set = true;
  return 0;
}

int fl_noise_dh_run(fl_noise_dh dh, uint8_t out[FL_DH_BYTES], const fl_noise_kp *local,
                    const uint8_t remote_pk[FL_NOISE_PUBLIC_KEY_BYTES]) {
  assert(local != NULL && local->set);
  int rc;
  if (dh == FL_NOISE_DH_ED25519)
    rc = crypto_scalarmult_ed25519_noclamp(out, local->scalar, remote_pk);
  else
    rc = crypto_scalarmult_curve25519(out, local->scalar, remote_pk);
  if (rc != 0) {
    sodium_memzero(out, FL_DH_BYTES);
    return FL_ERR_CRYPTO;
  }
  return 0;
}

int fl_noise_keypair_from_seed(fl_noise_dh dh, uint8_t pk[FL_NOISE_PUBLIC_KEY_BYTES],
                               uint8_t sk[FL_NOISE_SK_BYTES_MAX], const uint8_t seed[32]) {
  if (pk == NULL || sk == NULL || seed == NULL) return FL_ERR_INVALID;
  if (dh == FL_NOISE_DH_ED25519) {
    crypto_sign_seed_keypair(pk, sk, seed);
    return FL_NOISE_ED25519_SK_BYTES;
  }
  if (dh != FL_NOISE_DH_X25519) return FL_ERR_INVALID;
  memcpy(sk, seed, 32);
  if (crypto_scalarmult_curve25519_base(pk, sk) != 0) return FL_ERR_INVALID;
  return FL_NOISE_X25519_SK_BYTES;
}
