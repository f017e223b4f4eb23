/*
 * Fuzz the crypto calls that take bytes from the network: AEAD and secretbox
 * decryption, secretstream pull, the Ed25519 DH on a remote public key and
 * signature verification. Byte 0 picks the call, the rest is the input.
 * Properties: a forged input is refused with FL_ERR_CRYPTO or FL_ERR_DECODE,
 * with outputs zeroed and (secretstream) the state unchanged; what we seal
 * ourselves always opens to the same bytes; the DH accepts a key exactly
 * when libsodium calls it a valid prime-order point.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "flock/crypto.h"

#define FZ_CHECK(c) \
  do {              \
    if (!(c)) abort(); \
  } while (0)

static const uint8_t key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t nonce[24] = {0x4e, 0x4f, 0x4e, 0x43, 0x45};

static void fuzz_aead(const uint8_t *d, size_t n, uint8_t *m, uint8_t *c) {
  size_t mlen = 1, clen = 0;
  int rc = fl_crypto_aead_decrypt(m, n, &mlen, d, n, NULL, 0, nonce, key);
  FZ_CHECK(rc == FL_ERR_CRYPTO || rc == FL_ERR_DECODE);
  FZ_CHECK(mlen == 0 && (n < 16 || sodium_is_zero(m, n - 16)));
  FZ_CHECK(fl_crypto_aead_encrypt(c, n + 16, &clen, d, n, d, n, nonce, key) == 0);
  FZ_CHECK(clen == n + 16);
  FZ_CHECK(fl_crypto_aead_decrypt(m, n, &mlen, c, clen, d, n, nonce, key) == 0);
  FZ_CHECK(mlen == n && (n == 0 || memcmp(m, d, n) == 0));
}

static void fuzz_secretbox(const uint8_t *d, size_t n, uint8_t *m, uint8_t *c) {
  int rc = fl_crypto_secretbox_open(m, n, d, n, nonce, key);
  FZ_CHECK(rc == FL_ERR_CRYPTO || rc == FL_ERR_DECODE);
  FZ_CHECK(n < 16 || sodium_is_zero(m, n - 16));
  FZ_CHECK(fl_crypto_secretbox_seal(c, n + 16, d, n, nonce, key) == 0);
  FZ_CHECK(fl_crypto_secretbox_open(m, n, c, n + 16, nonce, key) == 0);
  FZ_CHECK(n == 0 || memcmp(m, d, n) == 0);
}

static void fuzz_sstream(const uint8_t *d, size_t n, uint8_t *m, uint8_t *c) {
  fl_sstream push, pull, before;
  FZ_CHECK(fl_crypto_sstream_push_init(&push, nonce, key) == 0);
  FZ_CHECK(fl_crypto_sstream_pull_init(&pull, nonce, key) == 0);
  before = pull;
  size_t mlen = 1, clen = 0;
  uint8_t tag = 9;
  int rc = fl_crypto_sstream_pull(&pull, m, n, &mlen, &tag, d, n, NULL, 0);
  FZ_CHECK(rc == FL_ERR_CRYPTO || rc == FL_ERR_DECODE);
  FZ_CHECK(mlen == 0 && tag == 0 && memcmp(&pull, &before, sizeof pull) == 0);
  FZ_CHECK(n < 17 || sodium_is_zero(m, n - 17));
  uint8_t t = n ? (uint8_t)(d[0] & 3) : 0;
  FZ_CHECK(fl_crypto_sstream_push(&push, c, n + 17, &clen, d, n, NULL, 0, t) == 0);
  FZ_CHECK(fl_crypto_sstream_pull(&pull, m, n, &mlen, &tag, c, clen, NULL, 0) == 0);
  FZ_CHECK(mlen == n && tag == t && (n == 0 || memcmp(m, d, n) == 0));
}

static void fuzz_dh(const uint8_t *d, size_t n) {
  uint8_t remote[32] = {0}, pk[32], sk[64], out[32];
  memcpy(remote, d, n < 32 ? n : 32);
  FZ_CHECK(fl_crypto_sign_seed_keypair(pk, sk, key) == 0);
  memset(out, 0xaa, sizeof out);
  int rc = fl_crypto_dh_ed25519(out, sk, remote);
  FZ_CHECK(rc == 0 || rc == FL_ERR_CRYPTO);
  FZ_CHECK(rc == 0 ? !sodium_is_zero(out, 32) : sodium_is_zero(out, 32));
  FZ_CHECK((rc == 0) == (crypto_core_ed25519_is_valid_point(remote) == 1));
}

static void fuzz_verify(const uint8_t *d, size_t n) {
  uint8_t sig[64] = {0}, pk[32], sk[64];
  memcpy(sig, d, n < 64 ? n : 64);
  FZ_CHECK(fl_crypto_sign_seed_keypair(pk, sk, key) == 0);
  const uint8_t *msg = n > 64 ? d + 64 : NULL;
  size_t len = n > 64 ? n - 64 : 0;
  FZ_CHECK(fl_crypto_verify(sig, msg, len, pk) == FL_ERR_CRYPTO); /* unforgeable */
  FZ_CHECK(fl_crypto_sign(sig, msg, len, sk) == 0);
  FZ_CHECK(fl_crypto_verify(sig, msg, len, pk) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  const uint8_t *d = data + 1;
  size_t n = size - 1;
  uint8_t *m = malloc(n + 1), *c = malloc(n + 17);
  FZ_CHECK(m != NULL && c != NULL);
  switch (data[0] % 5) {
    case 0: fuzz_aead(d, n, m, c); break;
    case 1: fuzz_secretbox(d, n, m, c); break;
    case 2: fuzz_sstream(d, n, m, c); break;
    case 3: fuzz_dh(d, n); break;
    default: fuzz_verify(d, n); break;
  }
  free(m);
  free(c);
  return 0;
}
