/*
 * flock/noise.h — one Noise handshake engine (Noise spec rev 34), driven by
 * pattern tables, sans-IO: messages in, messages out.
 *
 * Cipher suite: ChaChaPoly + BLAKE2b always; the DH is pluggable:
 *   FL_NOISE_DH_ED25519  "Ed25519" as noise-curve-ed@2.1.0 does it (hyperdht,
 *                        secret-stream): static/ephemeral keys are libsodium
 *                        Ed25519 sign key pairs, DH is the Edwards scalar mult
 *                        of the clamped SHA-512(seed) scalar (spec/noise.md §3);
 *   FL_NOISE_DH_X25519   "25519", the standard Noise DH (test vectors).
 * Patterns: every pattern without a PSK (38): N K X NN NK NX XN XK XX KN KK KX
 * IN IK IX and the deferred NK1 NX1 X1N X1K XK1 X1K1 X1X XX1 X1X1 K1N K1K KK1
 * K1K1 K1X KX1 K1X1 I1N I1K IK1 I1K1 I1X IX1 I1X1.
 *
 * The protocol name is "Noise_<pattern>_<25519|Ed25519>_ChaChaPoly_BLAKE2b".
 *
 * Lifecycle: fl_noise_new, then alternate fl_noise_write_message /
 * fl_noise_read_message as fl_noise_status says, until FL_NOISE_DONE; then
 * fl_noise_split (keys for another layer, e.g. secret-stream) and/or the
 * transport calls fl_noise_encrypt / fl_noise_decrypt. A failed read or write
 * moves the session to FL_NOISE_FAILED for good; every later call returns
 * FL_ERR_STATE.
 *
 * Randomness: ephemeral keys come from the fl_drbg the caller passes in the
 * config (it must outlive the session), or from cfg->ephemeral_sk (tests).
 */
#ifndef FLOCK_NOISE_H
#define FLOCK_NOISE_H

#include <stdbool.h>
#include "flock/common.h"
#include "flock/crypto.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest Noise message, handshake or transport (Noise spec §3). */
#define FL_NOISE_MSG_MAX 65535
#define FL_NOISE_HASH_BYTES 64   /* BLAKE2b: HASHLEN, the handshake hash */
#define FL_NOISE_KEY_BYTES 32    /* cipher keys from Split */
#define FL_NOISE_PUBLIC_KEY_BYTES 32  /* DHLEN = PKLEN for both DHs */
#define FL_NOISE_TAG_BYTES 16
/* Secret key sizes: Ed25519 is libsodium's 64-byte seed||public form;
 * X25519 is the 32-byte private scalar. */
#define FL_NOISE_ED25519_SK_BYTES 64
#define FL_NOISE_X25519_SK_BYTES 32
#define FL_NOISE_SK_BYTES_MAX 64
/* The longest protocol name we build ("Noise_" + pattern + suite). */
#define FL_NOISE_PROTOCOL_NAME_MAX 64
/* Prologues are copied into the session only to be hashed once; bound them
 * anyway so a misuse cannot make us hash an unbounded buffer. */
#define FL_NOISE_PROLOGUE_MAX 65535

FL_API size_t fl_noise_msg_max(void);
FL_API size_t fl_noise_hash_bytes(void);

typedef enum fl_noise_dh {
  FL_NOISE_DH_ED25519 = 1,
  FL_NOISE_DH_X25519 = 2
} fl_noise_dh;

enum fl_noise_status {
  FL_NOISE_WRITE = 1,   /* our turn: call fl_noise_write_message */
  FL_NOISE_READ = 2,    /* waiting: call fl_noise_read_message */
  FL_NOISE_DONE = 3,    /* handshake complete: split / transport */
  FL_NOISE_FAILED = 4   /* a read or write failed; the session is dead */
};

typedef struct fl_noise_config {
  const char *pattern;        /* NUL-terminated pattern name: "IK", "XX", "X1K1", ... */
  fl_noise_dh dh;
  bool initiator;
  const uint8_t *prologue;    /* may be NULL when prologue_len is 0 */
  size_t prologue_len;        /* <= FL_NOISE_PROLOGUE_MAX */
  /* Our static secret key (64 bytes Ed25519, 32 bytes X25519); the public
   * key is derived from it. Required when the pattern uses our s, else NULL. */
  const uint8_t *static_sk;
  /* The peer's static public key (32 bytes) when the pattern pre-shares it
   * (the initiator's rs in NK/XK/IK..., the responder's rs in KN/KK/KX...);
   * NULL otherwise. */
  const uint8_t *remote_static;
  /* A fixed ephemeral secret key (same form as static_sk), for tests and
   * vectors only; NULL = make one from drbg when the e token is written. */
  const uint8_t *ephemeral_sk;
  fl_drbg *drbg;              /* required unless ephemeral_sk is given */
} fl_noise_config;

typedef struct fl_noise fl_noise;

/* The final values of a completed handshake. For the initiator tx = k1 and
 * rx = k2; for the responder the reverse (so one side's tx is the other's rx).
 * One-way patterns (N, K, X): only the initiator->responder key is real;
 * rx is the second Split key, unused. */
typedef struct fl_noise_keys {
  uint8_t tx[FL_NOISE_KEY_BYTES];
  uint8_t rx[FL_NOISE_KEY_BYTES];
  uint8_t hash[FL_NOISE_HASH_BYTES];            /* handshake hash h */
  uint8_t remote_static[FL_NOISE_PUBLIC_KEY_BYTES];
  bool has_remote_static;                       /* false for e.g. NN */
} fl_noise_keys;

/* Create a session through mem (NULL = default allocator), initialised with
 * the protocol name, prologue and pre-messages. Copies everything it keeps
 * from cfg (except drbg, which is borrowed for the session's life).
 * Returns 0; FL_ERR_INVALID for NULL arguments, an unknown pattern or DH, a
 * missing key the pattern needs, or a missing drbg and ephemeral;
 * FL_ERR_CRYPTO for a static key that cannot be used; FL_ERR_NOMEM. */
FL_API FL_MUST_CHECK int fl_noise_new(fl_noise **out, const fl_mem *mem,
                                      const fl_noise_config *cfg);

/* Wipe and free. NULL is a no-op. */
FL_API void fl_noise_free(fl_noise *n);

/* 1 if the engine knows the pattern name (e.g. "XX1"), else 0. */
FL_API int fl_noise_pattern_supported(const char *pattern);

/* What to do next: one of FL_NOISE_WRITE/READ/DONE/FAILED. */
FL_API int fl_noise_status(const fl_noise *n);

/* Walk the session's invariants (status and message index agree, no
 * handshake key after DONE or FAILED, the keys the pattern needs present).
 * 0 if they hold, FL_ERR_STATE if not (a bug), FL_ERR_INVALID for NULL.
 * Tests and fuzz targets call it after every step. */
FL_API int fl_noise_check(const fl_noise *n);

/* 1 if n is the initiator, 0 if the responder, FL_ERR_INVALID for NULL. */
FL_API int fl_noise_is_initiator(const fl_noise *n);

/* The exact size the next handshake message will have with a payload of
 * payload_len bytes, or FL_ERR_STATE if it is not our turn to write. */
FL_API int fl_noise_write_size(const fl_noise *n, size_t payload_len);

/* Write the next handshake message carrying payload into out.
 * Returns 0 and sets *out_len; FL_ERR_STATE if not our turn (or failed);
 * FL_ERR_BUFFER if cap is too small (state unchanged); FL_ERR_RANGE if the
 * message would exceed FL_NOISE_MSG_MAX (state unchanged); FL_ERR_CRYPTO if a
 * DH fails (e.g. a low-order remote key): session FAILED, out zeroed. */
FL_API FL_MUST_CHECK int fl_noise_write_message(fl_noise *n, const uint8_t *payload,
                                                size_t payload_len, uint8_t *out, size_t cap,
                                                size_t *out_len);

/* Read the next handshake message and write its payload into payload.
 * Returns 0 and sets *payload_len; FL_ERR_STATE if not our turn (or failed);
 * FL_ERR_BUFFER if cap cannot hold the payload (state unchanged; the payload
 * is at most msg_len bytes); FL_ERR_DECODE for a message too short or longer
 * than FL_NOISE_MSG_MAX; FL_ERR_CRYPTO for a failed AEAD or DH. On DECODE or
 * CRYPTO the session is FAILED and the payload buffer zeroed. */
FL_API FL_MUST_CHECK int fl_noise_read_message(fl_noise *n, const uint8_t *msg, size_t msg_len,
                                               uint8_t *payload, size_t cap,
                                               size_t *payload_len);

/* The peer's static public key, once known (pre-message or received).
 * 0, or FL_ERR_NOT_FOUND (out zeroed). */
FL_API FL_MUST_CHECK int fl_noise_remote_static(const fl_noise *n,
                                                uint8_t out[FL_NOISE_PUBLIC_KEY_BYTES]);

/* Our static public key (derived from static_sk). 0 or FL_ERR_NOT_FOUND. */
FL_API FL_MUST_CHECK int fl_noise_local_static(const fl_noise *n,
                                               uint8_t out[FL_NOISE_PUBLIC_KEY_BYTES]);

/* The current handshake hash h (final once DONE). 0, or FL_ERR_STATE if FAILED. */
FL_API FL_MUST_CHECK int fl_noise_handshake_hash(const fl_noise *n,
                                                 uint8_t out[FL_NOISE_HASH_BYTES]);

/* The final keys. 0, or FL_ERR_STATE (out zeroed) unless DONE. */
FL_API FL_MUST_CHECK int fl_noise_split(const fl_noise *n, fl_noise_keys *out);

/* Transport phase (after DONE), with the split cipher states and their
 * nonces: ChaChaPoly with empty associated data, as the Noise spec's
 * transport messages. encrypt: out_cap >= len + 16, len + 16 <= 65535.
 * encrypt returns 0, FL_ERR_STATE, FL_ERR_BUFFER or FL_ERR_RANGE.
 * decrypt returns 0; FL_ERR_STATE; FL_ERR_BUFFER; FL_ERR_DECODE (shorter than
 * a tag or longer than 65535); FL_ERR_CRYPTO (bad tag: out zeroed, nonce not
 * advanced, session NOT failed — a transport can drop one bad message). */
FL_API FL_MUST_CHECK int fl_noise_encrypt(fl_noise *n, const uint8_t *in, size_t len,
                                          uint8_t *out, size_t cap, size_t *out_len);
FL_API FL_MUST_CHECK int fl_noise_decrypt(fl_noise *n, const uint8_t *in, size_t len,
                                          uint8_t *out, size_t cap, size_t *out_len);

/* Make a key pair for a DH kind from a 32-byte seed, as the engine makes its
 * ephemerals: Ed25519 = crypto_sign_seed_keypair(seed) (sk 64 bytes);
 * X25519 = sk is the seed itself (32 bytes), pk = X25519 base mult.
 * sk must hold FL_NOISE_SK_BYTES_MAX. Returns the sk length, or FL_ERR_INVALID. */
FL_API FL_MUST_CHECK int fl_noise_keypair_from_seed(fl_noise_dh dh,
                                                    uint8_t pk[FL_NOISE_PUBLIC_KEY_BYTES],
                                                    uint8_t sk[FL_NOISE_SK_BYTES_MAX],
                                                    const uint8_t seed[32]);

#ifdef __cplusplus
}
#endif
#endif /* FLOCK_NOISE_H */
