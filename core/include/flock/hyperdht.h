/*
 * flock/hyperdht.h — the hyperdht layer: the peer handshake (Noise IK with
 * the NS_PEER_HANDSHAKE prologue) and its payload codec.
 *
 * Facts: spec/noise.md §6-§9; hyperdht@6.34.0 lib/noise-wrap.js (keys) and
 * lib/messages.js (noisePayload).
 *
 * The record commands (announce, lookup, find-peer, mutable/immutable
 * storage): spec/hyperdht-records.md; hyperdht@6.34.0 lib/messages.js,
 * lib/persistent.js, lib/constants.js; record-cache@1.2.0 and xache@1.3.0
 * for the stores.
 */
#ifndef FLOCK_HYPERDHT_H
#define FLOCK_HYPERDHT_H

#include <stdbool.h>
#include "flock/common.h"
#include "flock/enc.h"
#include "flock/noise.h"
#include "flock/crypto.h"

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

/* ==== Records: announce, lookup, find-peer, mutable and immutable values ==== */

/* hyperdht's command numbers (non-internal dht-rpc requests; lib/constants.js). */
enum {
  FL_HYPERDHT_CMD_PEER_HANDSHAKE = 0,
  FL_HYPERDHT_CMD_PEER_HOLEPUNCH = 1,
  FL_HYPERDHT_CMD_FIND_PEER = 2,
  FL_HYPERDHT_CMD_LOOKUP = 3,
  FL_HYPERDHT_CMD_ANNOUNCE = 4,
  FL_HYPERDHT_CMD_UNANNOUNCE = 5,
  FL_HYPERDHT_CMD_MUTABLE_PUT = 6,
  FL_HYPERDHT_CMD_MUTABLE_GET = 7,
  FL_HYPERDHT_CMD_IMMUTABLE_PUT = 8,
  FL_HYPERDHT_CMD_IMMUTABLE_GET = 9,
  FL_HYPERDHT_CMD_PLUGIN = 10
};

/* The dht-rpc reply error field as the record commands use it. */
enum {
  FL_HYPERDHT_REPLY_OK = 0,
  FL_HYPERDHT_REPLY_UNKNOWN_COMMAND = 1, /* dht-rpc: ephemeral node or unknown command */
  FL_HYPERDHT_REPLY_INVALID_TOKEN = 2,   /* dht-rpc: a token this node did not issue */
  FL_HYPERDHT_REPLY_SEQ_REUSED = 16,     /* MUTABLE_PUT: same seq, other value */
  FL_HYPERDHT_REPLY_SEQ_TOO_LOW = 17     /* MUTABLE_PUT: seq below the stored one */
};

#define FL_HYPERDHT_TARGET_BYTES 32
#define FL_HYPERDHT_TOKEN_BYTES 32
#define FL_HYPERDHT_SIGNABLE_BYTES 64  /* namespace (32) || inner hash (32) */

/* Relay addresses kept per peer record. The reference's server cuts an
 * announce to its first 3 relays after checking the signature
 * (lib/persistent.js onannounce), so no stored record, and no lookup reply
 * from a reference node, carries more. Decoders keep the first 3 and record
 * how many the wire held (relays_wire) with the wire bytes, so a signature
 * over all of them can still be checked. */
#define FL_HYPERDHT_RELAYS_MAX 3

/* Peers per lookup reply. The reference's server returns at most 20 (a
 * random sample of the topic, lib/persistent.js onlookup); a reply with more
 * is refused (FL_ERR_DECODE) rather than truncated. */
#define FL_HYPERDHT_LOOKUP_PEERS_MAX 20

/* The largest value (mutable or immutable) we store or accept. The reference
 * has no explicit limit, but its UDP socket (udx-native 1.21.3) receives
 * datagrams of at most 2048 bytes (spec/hyperdht-records.md §3), so no
 * reference node can put or fetch a larger one; anything bigger is dropped
 * and counted. */
#define FL_HYPERDHT_VALUE_MAX 2048

/* The largest reply value the server-side handlers write: a mutable record
 * (seq 9 + length 3 + value + signature 64) and a full lookup reply both fit. */
#define FL_HYPERDHT_REPLY_VALUE_MAX (FL_HYPERDHT_VALUE_MAX + 9 + 3 + 64)

FL_API size_t fl_hyperdht_value_max(void);
FL_API size_t fl_hyperdht_reply_value_max(void);

/* A peer record (lib/messages.js peer): public key, IPv4 relay addresses. */
typedef struct fl_hyperdht_peer {
  uint8_t public_key[FL_PUBLIC_KEY_BYTES];
  size_t relays_len;                       /* kept, <= FL_HYPERDHT_RELAYS_MAX */
  fl_addr relays[FL_HYPERDHT_RELAYS_MAX];
  /* Set by decoders: the count on the wire and its 6-byte items (lent from
   * the decoded input, valid while it is). Encoders and signables ignore
   * relays_raw when it is NULL and use relays[] instead. */
  size_t relays_wire;
  const uint8_t *relays_raw;
} fl_hyperdht_peer;

/* Encoded size of a peer built by the caller (relays[] only), or
 * FL_ERR_INVALID (more than FL_HYPERDHT_RELAYS_MAX relays, a non-IPv4 one). */
FL_API int fl_hyperdht_peer_size(const fl_hyperdht_peer *p);
/* Encode p (relays[] only). 0 and *out_len; FL_ERR_INVALID; FL_ERR_BUFFER. */
FL_API FL_MUST_CHECK int fl_hyperdht_peer_encode(const fl_hyperdht_peer *p, uint8_t *out,
                                                 size_t cap, size_t *out_len);
/* Decode a peer record. Returns the bytes consumed, or FL_ERR_DECODE
 * (truncated, bad varint, a relay count over FL_ENC_ARRAY_MAX); p zeroed on
 * failure. Trailing bytes are ignored, as the reference ignores them. */
FL_API FL_MUST_CHECK int fl_hyperdht_peer_decode(fl_hyperdht_peer *p, const uint8_t *in,
                                                 size_t len);

/* The announce/unannounce message (lib/messages.js announce). Flags on the
 * wire: bit0 peer, bit1 refresh, bit2 signature, bit3 bump (set only when
 * bump != 0); unknown bits are ignored. */
typedef struct fl_hyperdht_announce {
  bool has_peer;
  fl_hyperdht_peer peer;
  bool has_refresh;
  uint8_t refresh[32];
  bool has_signature;
  uint8_t signature[FL_SIGNATURE_BYTES];
  uint64_t bump;  /* 0 = absent */
} fl_hyperdht_announce;

FL_API size_t fl_hyperdht_announce_struct_size(void);
FL_API int fl_hyperdht_announce_size(const fl_hyperdht_announce *a);
FL_API FL_MUST_CHECK int fl_hyperdht_announce_encode(const fl_hyperdht_announce *a,
                                                     uint8_t *out, size_t cap,
                                                     size_t *out_len);
/* Returns the bytes consumed, or FL_ERR_DECODE (a zeroed). */
FL_API FL_MUST_CHECK int fl_hyperdht_announce_decode(fl_hyperdht_announce *a,
                                                     const uint8_t *in, size_t len);

/* A LOOKUP reply (lib/messages.js lookupRawReply): peers, then bump (read as
 * 0 when no bytes are left, as the reference reads it). */
typedef struct fl_hyperdht_lookup_reply {
  size_t peers_len;
  fl_hyperdht_peer peers[FL_HYPERDHT_LOOKUP_PEERS_MAX];
  uint64_t bump;
} fl_hyperdht_lookup_reply;

FL_API size_t fl_hyperdht_lookup_reply_struct_size(void);
FL_API int fl_hyperdht_lookup_reply_size(const fl_hyperdht_lookup_reply *r);
FL_API FL_MUST_CHECK int fl_hyperdht_lookup_reply_encode(const fl_hyperdht_lookup_reply *r,
                                                         uint8_t *out, size_t cap,
                                                         size_t *out_len);
/* Returns the bytes consumed, or FL_ERR_DECODE (also for more than
 * FL_HYPERDHT_LOOKUP_PEERS_MAX peers); r zeroed on failure. */
FL_API FL_MUST_CHECK int fl_hyperdht_lookup_reply_decode(fl_hyperdht_lookup_reply *r,
                                                         const uint8_t *in, size_t len);

/* MUTABLE_PUT request (mutablePutRequest) and MUTABLE_GET reply
 * (mutableGetResponse, which has no public key). value is lent: the caller's
 * bytes when encoding, the input's when decoding. */
typedef struct fl_hyperdht_mutable {
  uint8_t public_key[FL_PUBLIC_KEY_BYTES];  /* put request only */
  uint64_t seq;
  const uint8_t *value;
  size_t value_len;
  uint8_t signature[FL_SIGNATURE_BYTES];
} fl_hyperdht_mutable;

FL_API size_t fl_hyperdht_mutable_struct_size(void);
/* with_key true: mutablePutRequest; false: mutableGetResponse. */
FL_API int fl_hyperdht_mutable_size(const fl_hyperdht_mutable *m, bool with_key);
FL_API FL_MUST_CHECK int fl_hyperdht_mutable_encode(const fl_hyperdht_mutable *m, bool with_key,
                                                    uint8_t *out, size_t cap,
                                                    size_t *out_len);
/* Returns the bytes consumed, or FL_ERR_DECODE (m zeroed). */
FL_API FL_MUST_CHECK int fl_hyperdht_mutable_decode(fl_hyperdht_mutable *m, bool with_key,
                                                    const uint8_t *in, size_t len);

/* ---- Targets and signatures ----------------------------------------------- */

/* H(x) = BLAKE2b-256: the target of FIND_PEER and mutables is H(public key),
 * of immutables H(value). 0 or FL_ERR_INVALID. */
FL_API FL_MUST_CHECK int fl_hyperdht_target(uint8_t out[FL_HYPERDHT_TARGET_BYTES],
                                            const uint8_t *data, size_t len);

/* The announce (ns = FL_NS_ANNOUNCE) or unannounce (FL_NS_UNANNOUNCE)
 * signable: NS || H(target || node_id || token || peer bytes || refresh),
 * where node_id is the receiving node's id and token the one this request
 * carries (spec/hyperdht-records.md §2.3). The peer bytes are the peer as
 * the reference re-encodes it: a canonical count, then every relay the wire
 * held. refresh may be NULL. 0 or FL_ERR_INVALID. */
FL_API FL_MUST_CHECK int fl_hyperdht_announce_signable(
    uint8_t out[FL_HYPERDHT_SIGNABLE_BYTES], int ns, const uint8_t target[32],
    const uint8_t node_id[32], const uint8_t token[32], const fl_hyperdht_peer *peer,
    const uint8_t *refresh);

/* The mutable signable: NS_MUTABLE_PUT || H(uint seq || buffer value). */
FL_API FL_MUST_CHECK int fl_hyperdht_mutable_signable(uint8_t out[FL_HYPERDHT_SIGNABLE_BYTES],
                                                      uint64_t seq, const uint8_t *value,
                                                      size_t len);

/* Sign a as an announce or unannounce (ns as above) with the 64-byte secret
 * key, setting a->signature and a->has_signature. 0 or FL_ERR_INVALID. */
FL_API FL_MUST_CHECK int fl_hyperdht_announce_sign(fl_hyperdht_announce *a, int ns,
                                                   const uint8_t target[32],
                                                   const uint8_t node_id[32],
                                                   const uint8_t token[32],
                                                   const uint8_t sk[FL_SECRET_KEY_BYTES]);
/* 0 if a carries a peer and a signature that verifies under its key;
 * FL_ERR_CRYPTO if not; FL_ERR_INVALID on NULL arguments. */
FL_API FL_MUST_CHECK int fl_hyperdht_announce_verify(const fl_hyperdht_announce *a, int ns,
                                                     const uint8_t target[32],
                                                     const uint8_t node_id[32],
                                                     const uint8_t token[32]);
/* Sign m (seq, value) with sk: sets m->signature and m->public_key. */
FL_API FL_MUST_CHECK int fl_hyperdht_mutable_sign(fl_hyperdht_mutable *m,
                                                  const uint8_t sk[FL_SECRET_KEY_BYTES]);
/* 0 if m->signature verifies for (seq, value) under pk; FL_ERR_CRYPTO. */
FL_API FL_MUST_CHECK int fl_hyperdht_mutable_verify(const fl_hyperdht_mutable *m,
                                                    const uint8_t pk[FL_PUBLIC_KEY_BYTES]);

/* ---- The server-side stores --------------------------------------------------
 *
 * All of a node's record state, with the reference's limits and its
 * two-generation expiry (record-cache / xache): each store has a fresh and a
 * stale generation. Writes go to fresh; a rotation drops stale and demotes
 * fresh. Rotations happen every ceil(2/3 * max_age) unless one already
 * happened since the previous tick, and whenever the fresh generation fills
 * up, so a store holds at most 2 * its max entries and untouched entries
 * live 2/3 to 4/3 of max_age. */

/* Reference defaults (hyperdht index.js defaultCacheOpts). */
#define FL_HYPERDHT_RECORDS_MAX 65536      /* topic records, all topics */
#define FL_HYPERDHT_FORWARDS_MAX 65536     /* FIND_PEER forwards */
#define FL_HYPERDHT_BUMPS_MAX 65536
#define FL_HYPERDHT_REFRESHES_MAX 65536
#define FL_HYPERDHT_MUTABLES_MAX 32768     /* maxSize / 2 */
#define FL_HYPERDHT_IMMUTABLES_MAX 32768
#define FL_HYPERDHT_MAX_AGE_US (20ull * 60 * 1000000)           /* 20 min */
#define FL_HYPERDHT_VALUES_MAX_AGE_US (48ull * 3600 * 1000000)  /* 48 h */
/* Our own bound on the value bytes of each value store (mutables,
 * immutables), fresh and stale together. The entry limits alone would let a
 * flood of 2 * 32768 values near FL_HYPERDHT_VALUE_MAX pin ~130 MiB per store;
 * with this the fresh generation also rotates when it holds half this many
 * bytes. A node under normal load never reaches it (the reference has no
 * such bound; it only changes what a flood evicts). */
#define FL_HYPERDHT_VALUE_BYTES_MAX (16u * 1024 * 1024)
/* Bump drift: a bump more than 60 s ahead of our wall clock is ignored. */
#define FL_HYPERDHT_BUMP_DRIFT_MS 60000

typedef struct fl_hyperdht_store_config {
  size_t records_max, forwards_max, bumps_max, refreshes_max;
  size_t mutables_max, immutables_max;
  size_t value_bytes_max;      /* per value store, both generations */
  uint64_t max_age_us;         /* records, forwards, bumps, refreshes */
  uint64_t values_max_age_us;  /* mutables, immutables */
} fl_hyperdht_store_config;

/* Fill c with the reference defaults above. */
FL_API void fl_hyperdht_store_config_default(fl_hyperdht_store_config *c);

/* One store's counters: entries now (both generations), high-water mark,
 * entries dropped by rotation or deletion at the limit, rotations. */
typedef struct fl_hyperdht_cache_stats {
  uint64_t current, high_water, evicted, rotations, bytes, bytes_high_water;
} fl_hyperdht_cache_stats;

typedef struct fl_hyperdht_store_stats {
  fl_hyperdht_cache_stats records, topics, forwards, bumps, refreshes, mutables, immutables;
  /* Requests by outcome. */
  uint64_t replied, err_unknown_command, err_invalid_token, err_seq_reused, err_seq_too_low;
  /* Silent drops by reason. */
  uint64_t drop_no_target, drop_no_token, drop_no_value, drop_decode, drop_signature,
      drop_hash, drop_too_large, drop_refresh_unknown, drop_plugin, drop_nomem;
} fl_hyperdht_store_stats;

FL_API size_t fl_hyperdht_store_stats_struct_size(void);

typedef struct fl_hyperdht_store fl_hyperdht_store;

/* Create a store. config NULL = defaults; a zero limit or age is
 * FL_ERR_INVALID. seed (32 bytes) keys the hash tables (so remote peers
 * cannot aim targets at one bucket) and seeds the random lookup samples.
 * now_us starts the expiry clock. 0, FL_ERR_INVALID or FL_ERR_NOMEM. */
FL_API FL_MUST_CHECK int fl_hyperdht_store_new(fl_hyperdht_store **out, const fl_mem *mem,
                                               const fl_hyperdht_store_config *config,
                                               const uint8_t seed[32], uint64_t now_us);
FL_API void fl_hyperdht_store_free(fl_hyperdht_store *st);

/* The next expiry tick, and running the ticks due at now_us (an early or
 * repeated call changes nothing). handle_timeout: 0 or FL_ERR_INVALID (time
 * going backwards). */
FL_API uint64_t fl_hyperdht_store_next_deadline(const fl_hyperdht_store *st);
FL_API FL_MUST_CHECK int fl_hyperdht_store_handle_timeout(fl_hyperdht_store *st,
                                                          uint64_t now_us);

FL_API void fl_hyperdht_store_get_stats(const fl_hyperdht_store *st, fl_hyperdht_store_stats *out);
/* Walk the invariants (counts match the tables, bounds hold). 0, or
 * FL_ERR_STATE naming nothing: a bug. */
FL_API int fl_hyperdht_store_check(const fl_hyperdht_store *st);

/* A request for commands 2..10 as dht-rpc hands it over (non-internal). */
typedef struct fl_hyperdht_request {
  uint64_t command;
  const uint8_t *target;  /* 32 bytes, or NULL when absent */
  const uint8_t *token;   /* 32 bytes, or NULL when absent */
  bool token_valid;       /* dht-rpc's check of token against its secrets */
  const uint8_t *value;   /* NULL when absent (an empty value is not absent) */
  size_t value_len;
  fl_addr from;           /* the requester: relay of a self announce */
  uint64_t unix_ms;       /* our wall clock, for the bump drift check */
} fl_hyperdht_request;

enum {
  FL_HYPERDHT_ACTION_SILENT = 0, /* send nothing: the requester times out */
  FL_HYPERDHT_ACTION_REPLY = 1,  /* send a reply with error field out->error */
  FL_HYPERDHT_ACTION_NOT_MINE = 2 /* commands 0 and 1: the handshake router's */
};

typedef struct fl_hyperdht_reply {
  int action;
  uint64_t error;     /* FL_HYPERDHT_REPLY_* */
  bool token;         /* attach a fresh token */
  bool closer_nodes;  /* attach closer nodes (if the request had a target) */
  bool has_value;
  size_t value_len;   /* bytes written at the caller's buffer */
} fl_hyperdht_reply;

/* Serve one request as the reference's persistent node does
 * (lib/persistent.js; spec §1). node_id is our dht-rpc id, NULL when we are
 * ephemeral (then every command 2..10 is answered UNKNOWN_COMMAND). Every
 * signature and hash is checked before anything is stored or returned. The
 * reply value, if any, is written to buf (cap >= FL_HYPERDHT_REPLY_VALUE_MAX
 * always suffices).
 *
 * Returns 0 with out set (REPLY or NOT_MINE), or a negative code with
 * out->action SILENT and the matching drop counter bumped:
 *   FL_ERR_PROTOCOL  target, token or a required value missing; a refresh
 *                    nobody registered; an unused plugin;
 *   FL_ERR_DECODE    the value does not decode;
 *   FL_ERR_CRYPTO    a signature missing or wrong, or H(value) != target;
 *   FL_ERR_RANGE     a value over FL_HYPERDHT_VALUE_MAX;
 *   FL_ERR_NOMEM     the allocation hook failed: the request is dropped and
 *                    the store stays consistent (store_test's fail-at-N loop);
 *   FL_ERR_INVALID   NULL arguments, time going backwards (nothing counted);
 *   FL_ERR_BUFFER    cap too small for the reply (nothing counted). */
FL_API FL_MUST_CHECK int fl_hyperdht_store_handle(fl_hyperdht_store *st, uint64_t now_us,
                                                  const uint8_t *node_id,
                                                  const fl_hyperdht_request *req, uint8_t *buf,
                                                  size_t cap, fl_hyperdht_reply *out);

/* Pin a forward for a key pair this node itself listens with (a local
 * server; never evicted) or drop it (record NULL). record is the encoded
 * peer. 0, FL_ERR_INVALID, FL_ERR_NOMEM. */
FL_API FL_MUST_CHECK int fl_hyperdht_store_pin_forward(fl_hyperdht_store *st, uint64_t now_us,
                                                       const uint8_t pk[32],
                                                       const uint8_t *record, size_t len);


/* ---- The records on a node: server and client (fl_hyperdht) ------------------
 *
 * fl_hyperdht serves the record commands for an fl_node (config.user_requests
 * must be on) from a store, and runs the client operations as sans-IO state
 * machines over the node's queries and requests (hyperdht@6.34.0 index.js;
 * spec/hyperdht-records.md §4). The driver passes every node event through
 * fl_hyperdht_on_event first; it consumes the user requests it serves and the
 * events of its own queries and requests, and reports results as its own
 * events (types FL_EVENT_HYPERDHT_*, drained with fl_hyperdht_poll_event).
 * Events lend their bytes until the next call into the fl_hyperdht. */

struct fl_node;
struct fl_event;
typedef struct fl_hyperdht fl_hyperdht;

/* Operations at once; full: refuse (FL_ERR_LIMIT). Each holds a node query,
 * and the node allows 64 (FL_NODE_QUERIES_MAX). */
#define FL_HYPERDHT_OPS_MAX 32
/* Results queued for fl_hyperdht_poll_event; full: the oldest is dropped
 * (counted in events_dropped). Drivers drain after every input, and one
 * input yields at most one reply's worth: 20 PEER events (a full lookup
 * reply) plus a COMMIT, ANNOUNCED and DONE, so 64 leaves room for a driver
 * that drains a little late, at ~10 KiB per node (simulations run
 * thousands). */
#define FL_HYPERDHT_EVENTS_MAX 64
/* Closest nodes a commit goes to (dht-rpc k). */
#define FL_HYPERDHT_COMMIT_MAX 20

enum {
  /* A peer found by a lookup: id = op, key = its public key, addr = the node
   * that answered, data = the encoded peer record, arg = that reply's bump. */
  FL_EVENT_HYPERDHT_PEER = 200,
  /* find-peer: id = op, key = public key, addr = the answering node,
   * data = the encoded peer record. */
  FL_EVENT_HYPERDHT_FOUND = 201,
  /* mutable-get: id = op, key = public key, arg = seq, data = value,
   * token = first 32 bytes of the signature (all 64 checked). */
  FL_EVENT_HYPERDHT_MUTABLE = 202,
  /* immutable-get: id = op, key = hash, data = value (hash checked). */
  FL_EVENT_HYPERDHT_IMMUTABLE = 203,
  /* A commit request was answered: id = op, addr = node, code = its wire
   * error (0, or 16/17 for a mutable put), arg = the command. */
  FL_EVENT_HYPERDHT_COMMIT = 204,
  /* An announce round finished (and, with a refresh interval, each later
   * round): id = op, key = topic, arg = nodes that stored it. */
  FL_EVENT_HYPERDHT_ANNOUNCED = 205,
  /* The operation ended: id = op, key = its target, code = 0, FL_ERR_NOT_FOUND
   * (a get found nothing; a commit had no node to go to), FL_ERR_TIMEOUT
   * (every commit failed) or FL_ERR_CLOSED (cancelled); arg = commits acked. */
  FL_EVENT_HYPERDHT_DONE = 206
};

typedef struct fl_hyperdht_stats {
  fl_hyperdht_store_stats store;
  uint64_t ops_active, ops_hw, ops_refused, events_dropped;
  uint64_t replies_bad;       /* client: reply values that did not decode or verify */
  uint64_t served_not_mine;   /* commands 0/1 left to the caller */
} fl_hyperdht_stats;

/* Create over node (borrowed; it must outlive h). config NULL = defaults;
 * seed keys the store. 0, FL_ERR_INVALID, FL_ERR_NOMEM. */
FL_API FL_MUST_CHECK int fl_hyperdht_new(fl_hyperdht **out, struct fl_node *node,
                                         const fl_mem *mem,
                                         const fl_hyperdht_store_config *config,
                                         const uint8_t seed[32], uint64_t now_us);
FL_API void fl_hyperdht_free(fl_hyperdht *h);
/* The wall clock at now_us (Unix ms), for the bump rule; default 0. */
FL_API void fl_hyperdht_set_clock(fl_hyperdht *h, uint64_t now_us, uint64_t unix_ms);

/* Offer a node event. 1 = consumed (do not handle it again), 0 = not ours,
 * FL_ERR_INVALID. Node calls it makes (replies, requests) leave datagrams in
 * the node's transmit queue: drain it afterwards as usual. */
FL_API FL_MUST_CHECK int fl_hyperdht_on_event(fl_hyperdht *h, uint64_t now_us,
                                              const struct fl_event *ev);
/* 1 and *out set, or 0 when empty. */
FL_API FL_MUST_CHECK int fl_hyperdht_poll_event(fl_hyperdht *h, struct fl_event *out);
FL_API uint64_t fl_hyperdht_next_deadline(const fl_hyperdht *h);
FL_API FL_MUST_CHECK int fl_hyperdht_handle_timeout(fl_hyperdht *h, uint64_t now_us);
FL_API void fl_hyperdht_get_stats(const fl_hyperdht *h, fl_hyperdht_stats *out);
FL_API size_t fl_hyperdht_stats_struct_size(void);

/* Client operations. Each returns 0 and *op, FL_ERR_INVALID, FL_ERR_LIMIT
 * (too many operations) or what fl_node_query returns (FL_ERR_STATE before
 * the node is bound). Secret keys are 64 bytes and copied (wiped when done).
 *
 * announce: LOOKUP the topic, then ANNOUNCE (signed per node) to the closest
 * nodes; ANNOUNCED then DONE. With refresh_us > 0 it repeats every
 * refresh_us until cancelled (fl_hyperdht_cancel), without DONE between. */
FL_API FL_MUST_CHECK int fl_hyperdht_start_announce(fl_hyperdht *h, uint64_t now_us,
                                              const uint8_t topic[32], const uint8_t sk[64],
                                              const fl_addr *relays, size_t relays_len,
                                              uint64_t refresh_us, uint64_t *op);
/* unannounce: drop our own record, LOOKUP, and UNANNOUNCE at every node that
 * listed our key (or listed 20 peers). */
FL_API FL_MUST_CHECK int fl_hyperdht_start_unannounce(fl_hyperdht *h, uint64_t now_us,
                                                const uint8_t topic[32], const uint8_t sk[64],
                                                uint64_t *op);
/* lookup: PEER per peer per replying node as they arrive, then DONE. */
FL_API FL_MUST_CHECK int fl_hyperdht_start_lookup(fl_hyperdht *h, uint64_t now_us,
                                            const uint8_t topic[32], uint64_t *op);
/* find-peer: FOUND per answering node, then DONE. */
FL_API FL_MUST_CHECK int fl_hyperdht_start_find_peer(fl_hyperdht *h, uint64_t now_us,
                                               const uint8_t pk[32], uint64_t *op);
/* mutable-put: sign (seq, value), MUTABLE_GET query, commit MUTABLE_PUT;
 * COMMIT per node (16/17 count as answered), then DONE. */
FL_API FL_MUST_CHECK int fl_hyperdht_start_mutable_put(fl_hyperdht *h, uint64_t now_us,
                                                 const uint8_t sk[64], uint64_t seq,
                                                 const uint8_t *value, size_t len,
                                                 uint64_t *op);
/* mutable-get: replies with seq >= min_seq whose signature verifies; latest
 * = the highest after the whole query, else the first. MUTABLE then DONE, or
 * DONE with FL_ERR_NOT_FOUND. */
FL_API FL_MUST_CHECK int fl_hyperdht_start_mutable_get(fl_hyperdht *h, uint64_t now_us,
                                                 const uint8_t pk[32], uint64_t min_seq,
                                                 bool latest, uint64_t *op);
/* immutable-put: target H(value), IMMUTABLE_GET query, commit IMMUTABLE_PUT. */
FL_API FL_MUST_CHECK int fl_hyperdht_start_immutable_put(fl_hyperdht *h, uint64_t now_us,
                                                   const uint8_t *value, size_t len,
                                                   uint64_t *op);
/* immutable-get: the first reply whose hash matches; IMMUTABLE then DONE. */
FL_API FL_MUST_CHECK int fl_hyperdht_start_immutable_get(fl_hyperdht *h, uint64_t now_us,
                                                   const uint8_t hash[32], uint64_t *op);
/* Stop an operation (DONE with FL_ERR_CLOSED). 0 or FL_ERR_NOT_FOUND. */
FL_API FL_MUST_CHECK int fl_hyperdht_cancel(fl_hyperdht *h, uint64_t now_us, uint64_t op);

/* Remove our own record for (target, pk) from the store (unannounce does). */
FL_API void fl_hyperdht_store_remove(fl_hyperdht_store *st, const uint8_t target[32],
                                     const uint8_t pk[32]);

#ifdef __cplusplus
}
#endif
#endif /* FLOCK_HYPERDHT_H */
