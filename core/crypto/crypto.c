/* Thin wrappers over libsodium's pure functions (see flock/crypto.h). */
#include "flock/crypto.h"

#include <assert.h>
#include <sodium.h>
#include <string.h>

_Static_assert(FL_HASH_BYTES == crypto_generichash_BYTES, "BLAKE2b-256");
_Static_assert(FL_HASH_BYTES_MIN == crypto_generichash_BYTES_MIN, "hash min");
_Static_assert(FL_HASH_BYTES_MAX == crypto_generichash_BYTES_MAX, "hash max");
_Static_assert(FL_SEED_BYTES == crypto_sign_SEEDBYTES, "seed");
_Static_assert(FL_PUBLIC_KEY_BYTES == crypto_sign_PUBLICKEYBYTES, "pk");
_Static_assert(FL_SECRET_KEY_BYTES == crypto_sign_SECRETKEYBYTES, "sk");
_Static_assert(FL_SIGNATURE_BYTES == crypto_sign_BYTES, "sig");
_Static_assert(FL_AEAD_NONCE_BYTES == crypto_aead_chacha20poly1305_ietf_NPUBBYTES, "nonce");
_Static_assert(FL_AEAD_TAG_BYTES == crypto_aead_chacha20poly1305_ietf_ABYTES, "tag");
_Static_assert(FL_SECRETBOX_NONCE_BYTES == crypto_secretbox_NONCEBYTES, "box nonce");
_Static_assert(FL_SECRETBOX_MAC_BYTES == crypto_secretbox_MACBYTES, "box mac");
_Static_assert(FL_SSTREAM_HEADER_BYTES == crypto_secretstream_xchacha20poly1305_HEADERBYTES,
               "sstream header");
_Static_assert(FL_SSTREAM_ABYTES == crypto_secretstream_xchacha20poly1305_ABYTES, "abytes");
_Static_assert(FL_SSTREAM_TAG_FINAL == crypto_secretstream_xchacha20poly1305_TAG_FINAL, "tag");
_Static_assert(sizeof(fl_sstream) >= sizeof(crypto_secretstream_xchacha20poly1305_state),
               "fl_sstream must hold libsodium's state");

size_t fl_hash_bytes(void) { return FL_HASH_BYTES; }
size_t fl_public_key_bytes(void) { return FL_PUBLIC_KEY_BYTES; }
size_t fl_secret_key_bytes(void) { return FL_SECRET_KEY_BYTES; }
size_t fl_signature_bytes(void) { return FL_SIGNATURE_BYTES; }
size_t fl_seed_bytes(void) { return FL_SEED_BYTES; }

int fl_crypto_init(void) { return sodium_init() < 0 ? FL_ERR_UNSUPPORTED : 0; }

static int hash_args_ok(size_t out_len, const uint8_t *key, size_t key_len) {
  if (out_len < FL_HASH_BYTES_MIN || out_len > FL_HASH_BYTES_MAX) return 0;
  if (key_len == 0) return 1;
  return key != NULL && key_len >= crypto_generichash_KEYBYTES_MIN &&
         key_len <= crypto_generichash_KEYBYTES_MAX;
}

int fl_crypto_hash(uint8_t *out, size_t out_len, const uint8_t *in, size_t len) {
  return fl_crypto_hash_keyed(out, out_len, in, len, NULL, 0);
}

int fl_crypto_hash_keyed(uint8_t *out, size_t out_len, const uint8_t *in, size_t len,
                         const uint8_t *key, size_t key_len) {
  fl_slice part = {in, len};
  return fl_crypto_hash_parts(out, out_len, &part, 1, key, key_len);
}

int fl_crypto_hash_parts(uint8_t *out, size_t out_len, const fl_slice *parts, size_t n,
                         const uint8_t *key, size_t key_len) {
  if (out == NULL || (n > 0 && parts == NULL)) return FL_ERR_INVALID;
  if (!hash_args_ok(out_len, key, key_len)) return FL_ERR_INVALID;
  crypto_generichash_state st;
  crypto_generichash_init(&st, key_len ? key : NULL, key_len, out_len);
  for (size_t i = 0; i < n; i++) {
    if (parts[i].len > 0 && parts[i].p == NULL) {
      sodium_memzero(&st, sizeof st);
      return FL_ERR_INVALID;
    }
    if (parts[i].len > 0) crypto_generichash_update(&st, parts[i].p, parts[i].len);
  }
  crypto_generichash_final(&st, out, out_len);
  return 0;
}

int fl_crypto_namespace(const char *name, size_t name_len, const uint8_t *ids, size_t n,
                        uint8_t (*out)[FL_HASH_BYTES]) {
  if ((name == NULL && name_len > 0) || (n > 0 && (ids == NULL || out == NULL)))
    return FL_ERR_INVALID;
  uint8_t root[FL_HASH_BYTES + 1];
  int rc = fl_crypto_hash(root, FL_HASH_BYTES, (const uint8_t *)name, name_len);
  assert(rc == 0);
  for (size_t i = 0; i < n && rc == 0; i++) {
    root[FL_HASH_BYTES] = ids[i];
    rc = fl_crypto_hash(out[i], FL_HASH_BYTES, root, sizeof root);
  }
  return rc;
}

int fl_crypto_hyperdht_ns(int id, uint8_t out[FL_HASH_BYTES]) {
  switch (id) {
    case FL_NS_PEER_HANDSHAKE:
    case FL_NS_PEER_HOLEPUNCH:
    case FL_NS_ANNOUNCE:
    case FL_NS_UNANNOUNCE:
    case FL_NS_MUTABLE_PUT:
    case FL_NS_PLUGIN:
      break;
    default:
      return FL_ERR_INVALID;
  }
  static const char name[] = "hyperswarm/dht";
  uint8_t b = (uint8_t)id;
  return fl_crypto_namespace(name, sizeof name - 1, &b, 1, (uint8_t(*)[FL_HASH_BYTES])out);
}

int fl_crypto_sign_seed_keypair(uint8_t pk[FL_PUBLIC_KEY_BYTES], uint8_t sk[FL_SECRET_KEY_BYTES],
                                const uint8_t seed[FL_SEED_BYTES]) {
  if (pk == NULL || sk == NULL || seed == NULL) return FL_ERR_INVALID;
  return crypto_sign_seed_keypair(pk, sk, seed) == 0 ? 0 : FL_ERR_CRYPTO;
}

int fl_crypto_sign(uint8_t sig[FL_SIGNATURE_BYTES], const uint8_t *msg, size_t len,
                   const uint8_t sk[FL_SECRET_KEY_BYTES]) {
  if (sig == NULL || sk == NULL || (msg == NULL && len > 0)) return FL_ERR_INVALID;
  return crypto_sign_detached(sig, NULL, msg, len, sk) == 0 ? 0 : FL_ERR_CRYPTO;
}

int fl_crypto_verify(const uint8_t sig[FL_SIGNATURE_BYTES], const uint8_t *msg, size_t len,
                     const uint8_t pk[FL_PUBLIC_KEY_BYTES]) {
  if (sig == NULL || pk == NULL || (msg == NULL && len > 0)) return FL_ERR_INVALID;
  return crypto_sign_verify_detached(sig, msg, len, pk) == 0 ? 0 : FL_ERR_CRYPTO;
}

int fl_crypto_dh_ed25519(uint8_t out[FL_DH_BYTES], const uint8_t local_sk[FL_SECRET_KEY_BYTES],
                         const uint8_t remote_pk[FL_PUBLIC_KEY_BYTES]) {
  if (out == NULL || local_sk == NULL || remote_pk == NULL) return FL_ERR_INVALID;
  /* noise-curve-ed@2.1.0 index.js dh() (spec/noise.md section 3): the scalar
   * is SHA-512 of the seed half of the secret key, clamped; the result is the
   * compressed Edwards point s*P from crypto_scalarmult_ed25519_noclamp. This
   * is NOT X25519 of the birationally mapped keys: that yields the Montgomery
   * u-coordinate of the same point, i.e. different bytes. libsodium refuses a
   * non-canonical, small-order or off-subgroup P and an identity result; the
   * JS then throws, and we return FL_ERR_CRYPTO. */
  uint8_t h[crypto_hash_sha512_BYTES];
  crypto_hash_sha512(h, local_sk, FL_SEED_BYTES);
  h[0] &= 248;
  h[31] &= 127;
  h[31] |= 64;
  _Static_assert(crypto_scalarmult_ed25519_SCALARBYTES == 32, "scalar is h[0..32)");
  _Static_assert(crypto_scalarmult_ed25519_BYTES == FL_DH_BYTES, "dh output");
  int rc = crypto_scalarmult_ed25519_noclamp(out, h, remote_pk) == 0 ? 0 : FL_ERR_CRYPTO;
  sodium_memzero(h, sizeof h);
  if (rc != 0) sodium_memzero(out, FL_DH_BYTES);
  return rc;
}

int fl_crypto_x25519_public(uint8_t pk[FL_X25519_KEY_BYTES], const uint8_t sk[FL_X25519_KEY_BYTES]) {
  if (pk == NULL || sk == NULL) return FL_ERR_INVALID;
  return crypto_scalarmult_curve25519_base(pk, sk) == 0 ? 0 : FL_ERR_CRYPTO;
}

int fl_crypto_x25519(uint8_t out[FL_DH_BYTES], const uint8_t sk[FL_X25519_KEY_BYTES],
                     const uint8_t remote_pk[FL_X25519_KEY_BYTES]) {
  if (out == NULL || sk == NULL || remote_pk == NULL) return FL_ERR_INVALID;
  if (crypto_scalarmult_curve25519(out, sk, remote_pk) != 0) {
    sodium_memzero(out, FL_DH_BYTES);
    return FL_ERR_CRYPTO;
  }
  return 0;
}

int fl_crypto_aead_encrypt(uint8_t *c, size_t c_cap, size_t *clen, const uint8_t *m, size_t mlen,
                           const uint8_t *ad, size_t adlen,
                           const uint8_t nonce[FL_AEAD_NONCE_BYTES],
                           const uint8_t key[FL_AEAD_KEY_BYTES]) {
  if (c == NULL || clen == NULL || nonce == NULL || key == NULL) return FL_ERR_INVALID;
  if ((m == NULL && mlen > 0) || (ad == NULL && adlen > 0)) return FL_ERR_INVALID;
  /* libsodium aborts the process past its limit; refuse instead. */
  if (mlen > crypto_aead_chacha20poly1305_ietf_MESSAGEBYTES_MAX) return FL_ERR_RANGE;
  if (c_cap < mlen + FL_AEAD_TAG_BYTES) return FL_ERR_BUFFER;
  unsigned long long n = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(c, &n, m, mlen, ad, adlen, NULL, nonce, key);
  *clen = (size_t)n;
  return 0;
}

int fl_crypto_aead_decrypt(uint8_t *m, size_t m_cap, size_t *mlen, const uint8_t *c, size_t clen,
                           const uint8_t *ad, size_t adlen,
                           const uint8_t nonce[FL_AEAD_NONCE_BYTES],
                           const uint8_t key[FL_AEAD_KEY_BYTES]) {
  if (mlen == NULL || nonce == NULL || key == NULL || (c == NULL && clen > 0))
    return FL_ERR_INVALID;
  if ((ad == NULL && adlen > 0) || (m == NULL && clen > FL_AEAD_TAG_BYTES)) return FL_ERR_INVALID;
  *mlen = 0;
  if (clen < FL_AEAD_TAG_BYTES) return FL_ERR_DECODE;
  if (m_cap < clen - FL_AEAD_TAG_BYTES) return FL_ERR_BUFFER;
  unsigned long long n = 0;
  uint8_t dummy[1];
  uint8_t *dst = m ? m : dummy;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(dst, &n, NULL, c, clen, ad, adlen, nonce, key) !=
      0) {
    if (m) sodium_memzero(m, clen - FL_AEAD_TAG_BYTES);
    return FL_ERR_CRYPTO;
  }
  *mlen = (size_t)n;
  return 0;
}

int fl_crypto_secretbox_seal(uint8_t *c, size_t c_cap, const uint8_t *m, size_t mlen,
                             const uint8_t nonce[FL_SECRETBOX_NONCE_BYTES],
                             const uint8_t key[FL_SECRETBOX_KEY_BYTES]) {
  if (c == NULL || nonce == NULL || key == NULL || (m == NULL && mlen > 0)) return FL_ERR_INVALID;
  if (mlen > SIZE_MAX - FL_SECRETBOX_MAC_BYTES || c_cap < mlen + FL_SECRETBOX_MAC_BYTES)
    return FL_ERR_BUFFER;
  uint8_t empty[1] = {0};
  return crypto_secretbox_easy(c, m ? m : empty, mlen, nonce, key) == 0 ? 0 : FL_ERR_CRYPTO;
}

int fl_crypto_secretbox_open(uint8_t *m, size_t m_cap, const uint8_t *c, size_t clen,
                             const uint8_t nonce[FL_SECRETBOX_NONCE_BYTES],
                             const uint8_t key[FL_SECRETBOX_KEY_BYTES]) {
  if (nonce == NULL || key == NULL || (c == NULL && clen > 0)) return FL_ERR_INVALID;
  if (clen < FL_SECRETBOX_MAC_BYTES) return FL_ERR_DECODE;
  size_t mlen = clen - FL_SECRETBOX_MAC_BYTES;
  if (m_cap < mlen || (m == NULL && mlen > 0)) return FL_ERR_BUFFER;
  uint8_t dummy[1];
  if (crypto_secretbox_open_easy(m ? m : dummy, c, clen, nonce, key) != 0) {
    if (m) sodium_memzero(m, mlen);
    return FL_ERR_CRYPTO;
  }
  return 0;
}

static crypto_secretstream_xchacha20poly1305_state *sstate(fl_sstream *st) {
  return (crypto_secretstream_xchacha20poly1305_state *)(void *)st->opaque;
}

int fl_crypto_sstream_push_init(fl_sstream *st, const uint8_t header[FL_SSTREAM_HEADER_BYTES],
                                const uint8_t key[FL_SSTREAM_KEY_BYTES]) {
  /* libsodium's init_push draws a header from the global generator, then
   * derives the state from (key, header) exactly as init_pull does; so with
   * the header from our DRBG, init_pull gives the very state init_push would.
   * crypto_test.c checks both yield the same stream. */
  return fl_crypto_sstream_pull_init(st, header, key);
}

int fl_crypto_sstream_pull_init(fl_sstream *st, const uint8_t header[FL_SSTREAM_HEADER_BYTES],
                                const uint8_t key[FL_SSTREAM_KEY_BYTES]) {
  if (st == NULL || header == NULL || key == NULL) return FL_ERR_INVALID;
  memset(st, 0, sizeof *st);
  return crypto_secretstream_xchacha20poly1305_init_pull(sstate(st), header, key) == 0
             ? 0
             : FL_ERR_CRYPTO;
}

int fl_crypto_sstream_push(fl_sstream *st, uint8_t *c, size_t c_cap, size_t *clen,
                           const uint8_t *m, size_t mlen, const uint8_t *ad, size_t adlen,
                           uint8_t tag) {
  if (st == NULL || c == NULL || clen == NULL || (m == NULL && mlen > 0) ||
      (ad == NULL && adlen > 0))
    return FL_ERR_INVALID;
  if (mlen > crypto_secretstream_xchacha20poly1305_MESSAGEBYTES_MAX) return FL_ERR_RANGE;
  if (c_cap < mlen + FL_SSTREAM_ABYTES) return FL_ERR_BUFFER;
  unsigned long long n = 0;
  if (crypto_secretstream_xchacha20poly1305_push(sstate(st), c, &n, m, mlen, ad, adlen, tag) != 0)
    return FL_ERR_CRYPTO;
  *clen = (size_t)n;
  return 0;
}

int fl_crypto_sstream_pull(fl_sstream *st, uint8_t *m, size_t m_cap, size_t *mlen, uint8_t *tag,
                           const uint8_t *c, size_t clen, const uint8_t *ad, size_t adlen) {
  if (st == NULL || mlen == NULL || tag == NULL || (c == NULL && clen > 0) ||
      (ad == NULL && adlen > 0))
    return FL_ERR_INVALID;
  *mlen = 0;
  *tag = 0;
  if (clen < FL_SSTREAM_ABYTES) return FL_ERR_DECODE;
  size_t plain = clen - FL_SSTREAM_ABYTES;
  if (m_cap < plain || (m == NULL && plain > 0)) return FL_ERR_BUFFER;
  /* libsodium leaves the state untouched when the MAC fails; keep a copy
   * anyway so "no state change on failure" does not rest on that detail. */
  fl_sstream saved = *st;
  unsigned long long n = 0;
  unsigned char t = 0;
  uint8_t dummy[1];
  if (crypto_secretstream_xchacha20poly1305_pull(sstate(st), m ? m : dummy, &n, &t, c, clen, ad,
                                                 adlen) != 0) {
    *st = saved;
    if (m) sodium_memzero(m, plain);
    sodium_memzero(&saved, sizeof saved);
    return FL_ERR_CRYPTO;
  }
  sodium_memzero(&saved, sizeof saved);
  *mlen = (size_t)n;
  *tag = t;
  return 0;
}

void fl_crypto_sstream_rekey(fl_sstream *st) {
  if (st == NULL) return;
  crypto_secretstream_xchacha20poly1305_rekey(sstate(st));
}

void fl_crypto_memzero(void *p, size_t len) { sodium_memzero(p, len); }

int fl_crypto_memcmp(const void *a, const void *b, size_t len) { return sodium_memcmp(a, b, len); }
