/*
 * noise/noise_int.h — the engine's internal pieces: HMAC/HKDF over BLAKE2b,
 * the pattern tables, and the pluggable DH. Not part of the public API.
 */
#ifndef FLOCK_NOISE_INT_H
#define FLOCK_NOISE_INT_H

#include "flock/noise.h"

#define FL_NOISE_BLOCK_BYTES 128 /* BLAKE2b block: HMAC's pad width */

/* HMAC-BLAKE2b-512 (RFC 2104 over BLAKE2b, as noise-handshake's hmac.js):
 * out = H(key ^ opad || H(key ^ ipad || data[0] || ... || data[n-1])).
 * key_len <= FL_NOISE_BLOCK_BYTES here (Noise keys are ck/prk, 64 bytes). */
void fl_noise_hmac(uint8_t out[FL_NOISE_HASH_BYTES], const uint8_t *key, size_t key_len,
                   const fl_slice *data, size_t n);

/* HKDF(ck, ikm) with empty info: out1 = HMAC(prk, 0x01),
 * out2 = HMAC(prk, out1 || 0x02) where prk = HMAC(ck, ikm). out1/out2 are
 * 64 bytes each; out1 may alias ck. */
void fl_noise_hkdf2(uint8_t out1[FL_NOISE_HASH_BYTES], uint8_t out2[FL_NOISE_HASH_BYTES],
                    const uint8_t ck[FL_NOISE_HASH_BYTES], const uint8_t *ikm,
                    size_t ikm_len);

/* ---- Patterns -------------------------------------------------------------- */

enum fl_noise_token {
  FL_TOK_END = 0,
  FL_TOK_E,
  FL_TOK_S,
  FL_TOK_EE,
  FL_TOK_ES,
  FL_TOK_SE,
  FL_TOK_SS
};

#define FL_NOISE_PATTERN_MSGS_MAX 4  /* X1K, X1K1, X1X, X1X1 have 4 */
#define FL_NOISE_PATTERN_TOKENS_MAX 6 /* IX's second message has 5 */

/* A parsed pattern: pre-messages and messages (message i is sent by the
 * initiator when i is even). Token lists end with FL_TOK_END. */
typedef struct fl_noise_pattern {
  char name[8];
  uint8_t pre_i[3];      /* initiator's pre-message: s or nothing */
  uint8_t pre_r[3];      /* responder's pre-message */
  uint8_t msgs[FL_NOISE_PATTERN_MSGS_MAX][FL_NOISE_PATTERN_TOKENS_MAX + 1];
  uint8_t n_msgs;
  bool one_way;          /* N, K, X: transport only initiator -> responder */
} fl_noise_pattern;

/* Look a pattern up by name; 0 or FL_ERR_INVALID. */
int fl_noise_pattern_get(fl_noise_pattern *out, const char *name);
/* How many patterns the table holds, and the i-th name (tests). */
size_t fl_noise_pattern_count(void);
const char *fl_noise_pattern_name(size_t i);

/* ---- DH ------------------------------------------------------------------- */

/* A key pair as the engine keeps it. For Ed25519, scalar holds the clamped
 * SHA-512(seed) half that noise-curve-ed recomputes on every DH; caching it
 * saves a SHA-512 per DH. For X25519, scalar is the private key itself. */
typedef struct fl_noise_kp {
  uint8_t pk[FL_NOISE_PUBLIC_KEY_BYTES];
  uint8_t scalar[32];
  bool set;
} fl_noise_kp;

/* Build a key pair from a secret key in the DH's form (Ed25519: 64 bytes
 * seed||pk; X25519: 32 bytes). 0 or FL_ERR_CRYPTO (kp wiped). */
int fl_noise_kp_from_sk(fl_noise_kp *kp, fl_noise_dh dh, const uint8_t *sk);
/* Build a key pair from a 32-byte seed (ephemerals). 0 or FL_ERR_CRYPTO. */
int fl_noise_kp_from_seed(fl_noise_kp *kp, fl_noise_dh dh, const uint8_t seed[32]);
/* DH(local, remote_pk) into out. 0, or FL_ERR_CRYPTO (out zeroed) when the
 * remote key is invalid or of low order, or the result is the identity. */
int fl_noise_dh_run(fl_noise_dh dh, uint8_t out[FL_DH_BYTES], const fl_noise_kp *local,
                    const uint8_t remote_pk[FL_NOISE_PUBLIC_KEY_BYTES]);

/* ---- The session (opaque outside core/noise; tests inspect it) --------------- */

struct fl_noise {
  const fl_mem *mem;
  fl_noise_pattern pat;
  fl_noise_dh dh;
  bool initiator;
  int status;
  uint8_t msg_index;         /* next handshake message */
  fl_drbg *drbg;
  /* SymmetricState */
  uint8_t h[FL_NOISE_HASH_BYTES];
  uint8_t ck[FL_NOISE_HASH_BYTES];
  /* CipherState of the handshake */
  uint8_t k[FL_NOISE_KEY_BYTES];
  bool has_k;
  uint64_t n;
  /* HandshakeState */
  fl_noise_kp s, e;
  bool fixed_e;              /* e was given by the caller (tests) */
  uint8_t rs[FL_NOISE_PUBLIC_KEY_BYTES], re[FL_NOISE_PUBLIC_KEY_BYTES];
  bool has_rs, has_re;
  /* Split result and transport CipherStates */
  uint8_t k1[FL_NOISE_KEY_BYTES], k2[FL_NOISE_KEY_BYTES];
  uint64_t n_tx, n_rx;
};

#endif /* FLOCK_NOISE_INT_H */
