/*
 * flock/crypto.h — thin wrappers over libsodium's pure functions, and the
 * per-node deterministic random bit generator (DRBG).
 *
 * Nothing here draws from libsodium's global generator: key pairs come from
 * seeds, the secretstream header comes from the caller (made with the DRBG),
 * and all randomness the core needs comes from an fl_drbg the driver seeds.
 */
#ifndef FLOCK_CRYPTO_H
#define FLOCK_CRYPTO_H

#include <stdbool.h>
#include "flock/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FL_HASH_BYTES 32          /* BLAKE2b-256: ids, targets, namespaces */
#define FL_HASH64_BYTES 64        /* BLAKE2b-512: Noise's HASH */
#define FL_HASH_BYTES_MIN 16
#define FL_HASH_BYTES_MAX 64
#define FL_HASH_KEY_BYTES_MAX 64
#define FL_SEED_BYTES 32
#define FL_PUBLIC_KEY_BYTES 32
#define FL_SECRET_KEY_BYTES 64    /* Ed25519: seed || public key, as libsodium */
#define FL_SIGNATURE_BYTES 64
#define FL_DH_BYTES 32
#define FL_X25519_KEY_BYTES 32
#define FL_AEAD_KEY_BYTES 32
#define FL_AEAD_NONCE_BYTES 12    /* ChaCha20-Poly1305 IETF */
#define FL_AEAD_TAG_BYTES 16
#define FL_SECRETBOX_KEY_BYTES 32
#define FL_SECRETBOX_NONCE_BYTES 24
#define FL_SECRETBOX_MAC_BYTES 16
#define FL_SSTREAM_KEY_BYTES 32
#define FL_SSTREAM_HEADER_BYTES 24
#define FL_SSTREAM_ABYTES 17      /* 1 tag byte + 16 MAC bytes per message */
#define FL_SSTREAM_TAG_MESSAGE 0x00
#define FL_SSTREAM_TAG_PUSH 0x01
#define FL_SSTREAM_TAG_REKEY 0x02
#define FL_SSTREAM_TAG_FINAL 0x03

FL_API size_t fl_hash_bytes(void);
FL_API size_t fl_public_key_bytes(void);
FL_API size_t fl_secret_key_bytes(void);
FL_API size_t fl_signature_bytes(void);
FL_API size_t fl_seed_bytes(void);

/* Process-wide set-up of libsodium (picks CPU-specific implementations).
 * Drivers call it once before anything else; the core's results do not
 * depend on it, only its speed. Returns 0, or FL_ERR_UNSUPPORTED. */
FL_API FL_MUST_CHECK int fl_crypto_init(void);

/* A borrowed byte range, for hashing several parts without concatenating. */
typedef struct fl_slice {
  const uint8_t *p;
  size_t len;
} fl_slice;

/* BLAKE2b with out_len in [16, 64]; key_len 0 (key may be NULL) or [16, 64]
 * for the keyed form. Returns 0 or FL_ERR_INVALID. */
FL_API FL_MUST_CHECK int fl_crypto_hash(uint8_t *out, size_t out_len, const uint8_t *in,
                                        size_t len);
FL_API FL_MUST_CHECK int fl_crypto_hash_keyed(uint8_t *out, size_t out_len, const uint8_t *in,
                                              size_t len, const uint8_t *key, size_t key_len);
/* BLAKE2b of the concatenation of parts[0..n). key may be NULL. */
FL_API FL_MUST_CHECK int fl_crypto_hash_parts(uint8_t *out, size_t out_len,
                                              const fl_slice *parts, size_t n,
                                              const uint8_t *key, size_t key_len);

/* hypercore-crypto's namespace(name, ids): root = BLAKE2b-256(name), then
 * out[i] = BLAKE2b-256(root || ids[i]) for i < n. */
FL_API FL_MUST_CHECK int fl_crypto_namespace(const char *name, size_t name_len,
                                             const uint8_t *ids, size_t n,
                                             uint8_t (*out)[FL_HASH_BYTES]);

/* hyperdht's protocol namespaces, namespace("hyperswarm/dht", [id]). */
enum {
  FL_NS_PEER_HANDSHAKE = 0,
  FL_NS_PEER_HOLEPUNCH = 1,
  FL_NS_ANNOUNCE = 4,
  FL_NS_UNANNOUNCE = 5,
  FL_NS_MUTABLE_PUT = 6,
  FL_NS_PLUGIN = 10
};
/* Writes the 32-byte namespace for one of the FL_NS_* ids. 0 or FL_ERR_INVALID. */
FL_API FL_MUST_CHECK int fl_crypto_hyperdht_ns(int id, uint8_t out[FL_HASH_BYTES]);

/* Ed25519 (libsodium's crypto_sign_*). */
FL_API FL_MUST_CHECK int fl_crypto_sign_seed_keypair(uint8_t pk[FL_PUBLIC_KEY_BYTES],
                                                     uint8_t sk[FL_SECRET_KEY_BYTES],
                                                     const uint8_t seed[FL_SEED_BYTES]);
FL_API FL_MUST_CHECK int fl_crypto_sign(uint8_t sig[FL_SIGNATURE_BYTES], const uint8_t *msg,
                                        size_t len, const uint8_t sk[FL_SECRET_KEY_BYTES]);
/* 0 if valid, FL_ERR_CRYPTO if not. */
FL_API FL_MUST_CHECK int fl_crypto_verify(const uint8_t sig[FL_SIGNATURE_BYTES],
                                          const uint8_t *msg, size_t len,
                                          const uint8_t pk[FL_PUBLIC_KEY_BYTES]);

/* The Ed25519 Diffie-Hellman of noise-curve-ed@2.1.0 (spec/noise.md section 3):
 * s = clamp(SHA-512(local_sk[0..32))[0..32)), out = compressed Edwards s*P
 * (crypto_scalarmult_ed25519_noclamp). Not X25519: the bytes differ.
 * 0; FL_ERR_INVALID for a NULL argument; FL_ERR_CRYPTO (out zeroed) when
 * remote_pk is non-canonical, of small order, off the prime-order subgroup,
 * or the product is the identity -- exactly where the reference throws. */
FL_API FL_MUST_CHECK int fl_crypto_dh_ed25519(uint8_t out[FL_DH_BYTES],
                                              const uint8_t local_sk[FL_SECRET_KEY_BYTES],
                                              const uint8_t remote_pk[FL_PUBLIC_KEY_BYTES]);

/* X25519 (RFC 7748), for the standard Noise vectors. 0; FL_ERR_INVALID for a
 * NULL argument; fl_crypto_x25519 returns FL_ERR_CRYPTO (out zeroed) when the
 * result is all zero, i.e. remote_pk is of small order. */
FL_API FL_MUST_CHECK int fl_crypto_x25519_public(uint8_t pk[FL_X25519_KEY_BYTES],
                                                 const uint8_t sk[FL_X25519_KEY_BYTES]);
FL_API FL_MUST_CHECK int fl_crypto_x25519(uint8_t out[FL_DH_BYTES],
                                          const uint8_t sk[FL_X25519_KEY_BYTES],
                                          const uint8_t remote_pk[FL_X25519_KEY_BYTES]);

/* ChaCha20-Poly1305 (IETF, 12-byte nonce); c = ciphertext || 16-byte tag.
 * c_cap must be >= mlen + 16; m_cap >= clen - 16. Both return FL_ERR_INVALID
 * for a NULL pointer with a non-zero length (or a NULL clen/mlen/nonce/key)
 * and FL_ERR_BUFFER if the output is too small; encrypt returns FL_ERR_RANGE
 * past libsodium's message limit (~256 GiB). decrypt returns FL_ERR_DECODE
 * if clen < 16 and FL_ERR_CRYPTO (m zeroed, *mlen 0) on a bad tag. */
FL_API FL_MUST_CHECK int fl_crypto_aead_encrypt(uint8_t *c, size_t c_cap, size_t *clen,
                                                const uint8_t *m, size_t mlen,
                                                const uint8_t *ad, size_t adlen,
                                                const uint8_t nonce[FL_AEAD_NONCE_BYTES],
                                                const uint8_t key[FL_AEAD_KEY_BYTES]);
FL_API FL_MUST_CHECK int fl_crypto_aead_decrypt(uint8_t *m, size_t m_cap, size_t *mlen,
                                                const uint8_t *c, size_t clen,
                                                const uint8_t *ad, size_t adlen,
                                                const uint8_t nonce[FL_AEAD_NONCE_BYTES],
                                                const uint8_t key[FL_AEAD_KEY_BYTES]);

/* XSalsa20-Poly1305 secretbox (easy form: 16-byte MAC first, c holds
 * mlen + 16). FL_ERR_INVALID / FL_ERR_BUFFER as for the AEAD; open returns
 * FL_ERR_DECODE if clen < 16 and FL_ERR_CRYPTO (m zeroed) on a bad MAC. */
FL_API FL_MUST_CHECK int fl_crypto_secretbox_seal(uint8_t *c, size_t c_cap, const uint8_t *m,
                                                  size_t mlen,
                                                  const uint8_t nonce[FL_SECRETBOX_NONCE_BYTES],
                                                  const uint8_t key[FL_SECRETBOX_KEY_BYTES]);
FL_API FL_MUST_CHECK int fl_crypto_secretbox_open(uint8_t *m, size_t m_cap, const uint8_t *c,
                                                  size_t clen,
                                                  const uint8_t nonce[FL_SECRETBOX_NONCE_BYTES],
                                                  const uint8_t key[FL_SECRETBOX_KEY_BYTES]);

/* XChaCha20-Poly1305 secretstream. The push state is made from a header the
 * caller supplies (from its DRBG), derived exactly as libsodium's init_push
 * derives it from the header it draws itself. */
typedef struct fl_sstream {
  _Alignas(16) uint8_t opaque[64]; /* libsodium's 52-byte state */
} fl_sstream;

FL_API FL_MUST_CHECK int fl_crypto_sstream_push_init(fl_sstream *st,
                                                     const uint8_t header[FL_SSTREAM_HEADER_BYTES],
                                                     const uint8_t key[FL_SSTREAM_KEY_BYTES]);
FL_API FL_MUST_CHECK int fl_crypto_sstream_pull_init(fl_sstream *st,
                                                     const uint8_t header[FL_SSTREAM_HEADER_BYTES],
                                                     const uint8_t key[FL_SSTREAM_KEY_BYTES]);
/* The init calls return 0 or FL_ERR_INVALID (NULL argument).
 * push: c_cap >= mlen + FL_SSTREAM_ABYTES, else FL_ERR_BUFFER; FL_ERR_RANGE
 * past libsodium's message limit; FL_ERR_INVALID for NULL pointers. tag is
 * one of FL_SSTREAM_TAG_* (libsodium carries any byte; the reference uses
 * these four). A refused push leaves the state unchanged. */
FL_API FL_MUST_CHECK int fl_crypto_sstream_push(fl_sstream *st, uint8_t *c, size_t c_cap,
                                                size_t *clen, const uint8_t *m, size_t mlen,
                                                const uint8_t *ad, size_t adlen, uint8_t tag);
/* pull: 0 with *mlen and *tag set; FL_ERR_DECODE if clen < FL_SSTREAM_ABYTES,
 * FL_ERR_BUFFER if m_cap < clen - FL_SSTREAM_ABYTES, FL_ERR_INVALID for NULL
 * pointers, FL_ERR_CRYPTO on a forged, reordered or replayed message. On any
 * error *mlen and *tag are 0, m is zeroed and the state is unchanged, so the
 * next genuine message still pulls. */
FL_API FL_MUST_CHECK int fl_crypto_sstream_pull(fl_sstream *st, uint8_t *m, size_t m_cap,
                                                size_t *mlen, uint8_t *tag, const uint8_t *c,
                                                size_t clen, const uint8_t *ad, size_t adlen);
/* Explicit rekey; both sides must call it at the same point. NULL: no-op. */
FL_API void fl_crypto_sstream_rekey(fl_sstream *st);

/* Wipe secrets; constant-time comparison (0 if equal, -1 if not). */
FL_API void fl_crypto_memzero(void *p, size_t len);
FL_API int fl_crypto_memcmp(const void *a, const void *b, size_t len);

/* ---- The deterministic random bit generator ------------------------------- */

/* ChaCha20 keystream with fast key erasure: every refill also replaces the
 * key, so a captured state does not reveal earlier output. The same seed
 * always yields the same stream (the simulator's determinism rests on it). */
#define FL_DRBG_SEED_BYTES 32
#define FL_DRBG_BUF_BYTES 256

typedef struct fl_drbg {
  uint8_t key[32];
  uint8_t buf[FL_DRBG_BUF_BYTES];
  size_t pos;             /* next unread byte of buf */
  uint64_t bytes_out;     /* total bytes handed out (for stats and tests) */
} fl_drbg;

FL_API void fl_drbg_init(fl_drbg *d, const uint8_t seed[FL_DRBG_SEED_BYTES]);
FL_API void fl_drbg_bytes(fl_drbg *d, uint8_t *out, size_t len);
FL_API uint32_t fl_drbg_u32(fl_drbg *d);
FL_API uint64_t fl_drbg_u64(fl_drbg *d);
/* Uniform in [0, upper) without modulo bias; 0 when upper is 0. */
FL_API uint64_t fl_drbg_uniform(fl_drbg *d, uint64_t upper);
/* Seed a child generator from the parent (e.g. one per node from a scenario's). */
FL_API void fl_drbg_fork(fl_drbg *parent, fl_drbg *child);
/* Wipe the state. */
FL_API void fl_drbg_wipe(fl_drbg *d);

#ifdef __cplusplus
}
#endif
#endif /* FLOCK_CRYPTO_H */
