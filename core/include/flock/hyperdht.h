/*
 * flock/hyperdht.h — the hyperdht layer: the peer handshake (Noise IK with
 * the NS_PEER_HANDSHAKE prologue) and its payload codec.
 *
 * Facts: spec/noise.md §6-§9; hyperdht@6.34.0 lib/noise-wrap.js (keys) and
 * lib/messages.js (noisePayload). The record commands (announce, lookup,
 * mutable/immutable storage) will extend this header.
 */
#ifndef FLOCK_HYPERDHT_H
#define FLOCK_HYPERDHT_H

#include <stdbool.h>
#include "flock/common.h"
#include "flock/enc.h"
#include "flock/noise.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- The handshake payload (hyperdht lib/messages.js noisePayload) -------- */

/* Address lists we decode into fixed arrays. The reference accepts up to
 * 2^20 elements but sends at most a handful (its remote address plus LAN
 * addresses; at most 3 relays), and a whole payload lives in one Noise
 * message (< 64 KiB). 32 leaves ample room; a payload with more is refused
 * with FL_ERR_DECODE rather than truncated. */
#define FL_HYPERDHT_PAYLOAD_ADDRESSES_MAX 32
#define FL_HYPERDHT_PAYLOAD_RELAYS_MAX 32

/* Flag bits of the payload's flags field. */
enum {
  FL_HYPERDHT_PAYLOAD_HOLEPUNCH = 1,
  FL_HYPERDHT_PAYLOAD_ADDRESSES4 = 2,
  FL_HYPERDHT_PAYLOAD_ADDRESSES6 = 4,
  FL_HYPERDHT_PAYLOAD_UDX = 8,
  FL_HYPERDHT_PAYLOAD_SECRET_STREAM = 16,
  FL_HYPERDHT_PAYLOAD_RELAY_THROUGH = 32,
  FL_HYPERDHT_PAYLOAD_RELAY_ADDRESSES = 64
};

/* The payload's error field (hyperdht lib/constants.js ERROR). */
enum {
  FL_HYPERDHT_ERROR_NONE = 0,
  FL_HYPERDHT_ERROR_ABORTED = 1,
  FL_HYPERDHT_ERROR_VERSION_MISMATCH = 2,
  FL_HYPERDHT_ERROR_TRY_LATER = 3
};

/* The payload's firewall field (hyperdht lib/constants.js FIREWALL). */
enum {
  FL_HYPERDHT_FIREWALL_UNKNOWN = 0,
  FL_HYPERDHT_FIREWALL_OPEN = 1,
  FL_HYPERDHT_FIREWALL_CONSISTENT = 2,
  FL_HYPERDHT_FIREWALL_RANDOM = 3
};

typedef struct fl_hyperdht_relay_info {
  fl_addr relay_address;  /* the DHT node the server announced to */
  fl_addr peer_address;   /* the server's address as that node saw it */
} fl_hyperdht_relay_info;

typedef struct fl_hyperdht_noise_payload {
  /* 1. A decoded payload whose version is not 1 carries nothing else (all
   * other fields default), as the reference decodes it. The encoder writes
   * this value as given (the reference always writes 1), so tests can
   * provoke VERSION_MISMATCH. */
  uint64_t version;
  uint64_t error;      /* FL_HYPERDHT_ERROR_* */
  uint64_t firewall;   /* FL_HYPERDHT_FIREWALL_* */
  bool has_holepunch;
  struct {
    uint64_t id;
    size_t relays_len;
    fl_hyperdht_relay_info relays[FL_HYPERDHT_PAYLOAD_RELAYS_MAX];
  } holepunch;
  /* Encoded (flag set) only when non-empty, as the reference does. */
  size_t addresses4_len;
  fl_addr addresses4[FL_HYPERDHT_PAYLOAD_ADDRESSES_MAX];
  size_t addresses6_len;
  fl_addr addresses6[FL_HYPERDHT_PAYLOAD_ADDRESSES_MAX];
  bool has_udx;
  struct {
    uint64_t version;       /* decoded; the encoder writes 1 */
    bool reusable_socket;   /* features bit 0 */
    uint64_t id;            /* the sender's UDX stream id */
    uint64_t seq;
  } udx;
  bool has_secret_stream;
  struct {
    uint64_t version;       /* decoded; the encoder writes 1 */
  } secret_stream;
  bool has_relay_through;
  struct {
    uint64_t version;       /* decoded; the encoder writes 1 and flags 0 */
    uint8_t public_key[32];
    uint8_t token[32];
  } relay_through;
  /* Encoded whenever has_relay_addresses is set, even when empty. */
  bool has_relay_addresses;
  size_t relay_addresses_len;
  fl_addr relay_addresses[FL_HYPERDHT_PAYLOAD_ADDRESSES_MAX];
} fl_hyperdht_noise_payload;

/* sizeof(fl_hyperdht_noise_payload), so bindings can check their layout. */
FL_API size_t fl_hyperdht_noise_payload_struct_size(void);

/* Zero p and set version 1. */
FL_API void fl_hyperdht_noise_payload_init(fl_hyperdht_noise_payload *p);

/* The encoded size of p, or FL_ERR_INVALID (a list longer than its MAX, a
 * non-IPv4 address in an IPv4 list, a non-IPv6 one in addresses6). */
FL_API int fl_hyperdht_noise_payload_size(const fl_hyperdht_noise_payload *p);

/* Encode p into out. Returns 0 and sets *out_len; FL_ERR_INVALID as above;
 * FL_ERR_BUFFER if cap is too small (out untouched beyond cap). */
FL_API FL_MUST_CHECK int fl_hyperdht_noise_payload_encode(const fl_hyperdht_noise_payload *p,
                                                          uint8_t *out, size_t cap,
                                                          size_t *out_len);

/* Decode in into p. Fields are read in order; bytes after the last field
 * are ignored (the reference's forward compatibility). Returns the number of
 * bytes consumed (>= 1), or FL_ERR_DECODE for a truncated field, a bad
 * varint or a list longer than its MAX (p zeroed). */
FL_API FL_MUST_CHECK int fl_hyperdht_noise_payload_decode(fl_hyperdht_noise_payload *p,
                                                          const uint8_t *in, size_t len);

/* ---- The handshake (hyperdht lib/noise-wrap.js) ----------------------------- */

typedef struct fl_hyperdht_handshake_result {
  bool is_initiator;
  uint8_t public_key[32];          /* our static key */
  uint8_t remote_public_key[32];
  uint8_t hash[FL_NOISE_HASH_BYTES]; /* the handshake hash */
  uint8_t tx[FL_NOISE_KEY_BYTES];
  uint8_t rx[FL_NOISE_KEY_BYTES];
  /* BLAKE2b-256(NS_PEER_HOLEPUNCH, key = hash): the PEER_HOLEPUNCH secretbox key. */
  uint8_t holepunch_secret[32];
} fl_hyperdht_handshake_result;

/* Start hyperdht's handshake: Noise IK, Ed25519 DH, prologue NS_PEER_HANDSHAKE.
 * The initiator (client) passes the server's public key as remote_pk; the
 * responder (server) passes NULL. sk is a 64-byte Ed25519 secret key.
 * ephemeral_sk (64 bytes) fixes the ephemeral for tests; NULL draws it from
 * drbg. Returns what fl_noise_new returns. */
FL_API FL_MUST_CHECK int fl_hyperdht_handshake_new(fl_noise **out, const fl_mem *mem,
                                                   bool initiator, const uint8_t sk[64],
                                                   const uint8_t *remote_pk,
                                                   const uint8_t *ephemeral_sk, fl_drbg *drbg);

/* Encode payload and write it as the next handshake message (msg1 for the
 * client, msg2 for the server). Returns 0, FL_ERR_INVALID (bad payload) or
 * what fl_noise_write_message returns. */
FL_API FL_MUST_CHECK int fl_hyperdht_handshake_send(fl_noise *n,
                                                    const fl_hyperdht_noise_payload *payload,
                                                    uint8_t *out, size_t cap, size_t *out_len);

/* Read the peer's message and decode its payload. Returns 0; what
 * fl_noise_read_message returns (session FAILED); or FL_ERR_DECODE when the
 * message authenticated but its payload does not decode — the reference
 * then abandons the handshake, and so must the caller (free the session). */
FL_API FL_MUST_CHECK int fl_hyperdht_handshake_recv(fl_noise *n, const uint8_t *msg,
                                                    size_t len,
                                                    fl_hyperdht_noise_payload *payload);

/* The final values, as noise-wrap.js final() derives them. 0, or
 * FL_ERR_STATE (out zeroed) unless the handshake is complete. */
FL_API FL_MUST_CHECK int fl_hyperdht_handshake_final(const fl_noise *n,
                                                     fl_hyperdht_handshake_result *out);

#ifdef __cplusplus
}
#endif
#endif /* FLOCK_HYPERDHT_H */
