/*
 * hyperdht/records.c — the record messages of hyperdht@6.34.0
 * (lib/messages.js peer, announce, lookupRawReply, mutablePutRequest,
 * mutableGetResponse; spec/hyperdht-records.md §1-§2), their targets and
 * their signables, on top of core/enc and core/crypto.
 */
#include <assert.h>
#include <string.h>

#include "flock/hyperdht.h"

#define ANN_PEER 1u
#define ANN_REFRESH 2u
#define ANN_SIGNATURE 4u
#define ANN_BUMP 8u

size_t fl_hyperdht_value_max(void) { return FL_HYPERDHT_VALUE_MAX; }
size_t fl_hyperdht_reply_value_max(void) { return FL_HYPERDHT_REPLY_VALUE_MAX; }
size_t fl_hyperdht_announce_struct_size(void) { return sizeof(fl_hyperdht_announce); }
size_t fl_hyperdht_lookup_reply_struct_size(void) { return sizeof(fl_hyperdht_lookup_reply); }
size_t fl_hyperdht_mutable_struct_size(void) { return sizeof(fl_hyperdht_mutable); }

/* ---- peer ------------------------------------------------------------------- */

static bool peer_valid(const fl_hyperdht_peer *p) {
  if (p->relays_len > FL_HYPERDHT_RELAYS_MAX) return false;
  for (size_t i = 0; i < p->relays_len; i++)
    if (p->relays[i].family != FL_ADDR_IPV4) return false;
  return true;
}

static size_t peer_size(const fl_hyperdht_peer *p) {
  return FL_PUBLIC_KEY_BYTES + fl_enc_uint_size(p->relays_len) +
         p->relays_len * FL_ENC_IPV4_ADDRESS_BYTES;
}

static int peer_encode(fl_enc_state *s, const fl_hyperdht_peer *p) {
  int rc = fl_enc_fixed_encode(s, p->public_key, FL_PUBLIC_KEY_BYTES);
  if (rc == 0) rc = fl_enc_array_len_encode(s, p->relays_len);
  for (size_t i = 0; rc == 0 && i < p->relays_len; i++)
    rc = fl_enc_ipv4_address_encode(s, &p->relays[i]);
  return rc;
}

/* Reads every relay the wire holds (the signature covers them all) but keeps
 * only the first FL_HYPERDHT_RELAYS_MAX, as the reference's server does. */
static int peer_decode(fl_dec_state *s, fl_hyperdht_peer *p) {
  int rc = fl_enc_fixed_decode_copy(s, p->public_key, FL_PUBLIC_KEY_BYTES);
  size_t n = 0;
  if (rc == 0) rc = fl_enc_array_decode_len(s, FL_ENC_ARRAY_MAX, FL_ENC_IPV4_ADDRESS_BYTES, &n);
  if (rc != 0) return rc;
  p->relays_wire = n;
  p->relays_raw = s->buf + s->start;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    fl_addr a;
    rc = fl_enc_ipv4_address_decode(s, &a);
    if (rc == 0 && i < FL_HYPERDHT_RELAYS_MAX) p->relays[p->relays_len++] = a;
  }
  return rc;
}

int fl_hyperdht_peer_size(const fl_hyperdht_peer *p) {
  if (p == NULL || !peer_valid(p)) return FL_ERR_INVALID;
  return (int)peer_size(p);
}

/* Shared tail of every encoder: size, bounds, encode, check the size was exact. */
typedef int (*encode_fn)(fl_enc_state *s, const void *m, bool flag);

static int encode_exact(encode_fn fn, const void *m, bool flag, int size, uint8_t *out,
                        size_t cap, size_t *out_len) {
  if (size < 0) return size;
  if ((size_t)size > cap) return FL_ERR_BUFFER;
  fl_enc_state s;
  fl_enc_state_init(&s, out, (size_t)size);
  int rc = fn(&s, m, flag);
  assert(rc == 0);
  assert(s.start == (size_t)size);
  if (rc != 0) return rc;
  *out_len = s.start;
  return 0;
}

static int peer_encode_fn(fl_enc_state *s, const void *m, bool flag) {
  (void)flag;
  return peer_encode(s, m);
}

int fl_hyperdht_peer_encode(const fl_hyperdht_peer *p, uint8_t *out, size_t cap,
                            size_t *out_len) {
  if (out_len != NULL) *out_len = 0;
  if (p == NULL || out == NULL || out_len == NULL) return FL_ERR_INVALID;
  return encode_exact(peer_encode_fn, p, false, fl_hyperdht_peer_size(p), out, cap, out_len);
}

/* Decode with fn over (in, len); on failure zero the output (size n). */
typedef int (*decode_fn)(fl_dec_state *s, void *m, bool flag);

static int decode_all(decode_fn fn, void *m, size_t n, bool flag, const uint8_t *in,
                      size_t len) {
  if (m == NULL || (in == NULL && len > 0)) return FL_ERR_INVALID;
  memset(m, 0, n);
  fl_dec_state s;
  fl_dec_state_init(&s, in, len);
  int rc = fn(&s, m, flag);
  if (rc != 0) {
    memset(m, 0, n);
    return FL_ERR_DECODE;
  }
  assert(s.start <= len);
  return (int)s.start;
}

static int peer_decode_fn(fl_dec_state *s, void *m, bool flag) {
  (void)flag;
  return peer_decode(s, m);
}

int fl_hyperdht_peer_decode(fl_hyperdht_peer *p, const uint8_t *in, size_t len) {
  return decode_all(peer_decode_fn, p, sizeof *p, false, in, len);
}

/* ---- announce --------------------------------------------------------------- */

static uint64_t announce_flags(const fl_hyperdht_announce *a) {
  return (a->has_peer ? ANN_PEER : 0) | (a->has_refresh ? ANN_REFRESH : 0) |
         (a->has_signature ? ANN_SIGNATURE : 0) | (a->bump != 0 ? ANN_BUMP : 0);
}

int fl_hyperdht_announce_size(const fl_hyperdht_announce *a) {
  if (a == NULL || (a->has_peer && !peer_valid(&a->peer))) return FL_ERR_INVALID;
  size_t n = 1; /* flags < 16: one byte */
  if (a->has_peer) n += peer_size(&a->peer);
  if (a->has_refresh) n += 32;
  if (a->has_signature) n += FL_SIGNATURE_BYTES;
  if (a->bump != 0) n += fl_enc_uint_size(a->bump);
  return (int)n;
}

static int announce_encode_fn(fl_enc_state *s, const void *m, bool flag) {
  const fl_hyperdht_announce *a = m;
  (void)flag;
  int rc = fl_enc_uint_encode(s, announce_flags(a));
  if (rc == 0 && a->has_peer) rc = peer_encode(s, &a->peer);
  if (rc == 0 && a->has_refresh) rc = fl_enc_fixed_encode(s, a->refresh, 32);
  if (rc == 0 && a->has_signature) rc = fl_enc_fixed_encode(s, a->signature, FL_SIGNATURE_BYTES);
  if (rc == 0 && a->bump != 0) rc = fl_enc_uint_encode(s, a->bump);
  return rc;
}

int fl_hyperdht_announce_encode(const fl_hyperdht_announce *a, uint8_t *out, size_t cap,
                                size_t *out_len) {
  if (out_len != NULL) *out_len = 0;
  if (a == NULL || out == NULL || out_len == NULL) return FL_ERR_INVALID;
  return encode_exact(announce_encode_fn, a, false, fl_hyperdht_announce_size(a), out, cap,
                      out_len);
}

static int announce_decode_fn(fl_dec_state *s, void *m, bool flag) {
  fl_hyperdht_announce *a = m;
  uint64_t flags = 0;
  (void)flag;
  int rc = fl_enc_uint_decode(s, &flags);
  /* Unknown bits are ignored, as the reference ignores them. */
  if (rc == 0 && (flags & ANN_PEER)) {
    a->has_peer = true;
    rc = peer_decode(s, &a->peer);
  }
  if (rc == 0 && (flags & ANN_REFRESH)) {
    a->has_refresh = true;
    rc = fl_enc_fixed_decode_copy(s, a->refresh, 32);
  }
  if (rc == 0 && (flags & ANN_SIGNATURE)) {
    a->has_signature = true;
    rc = fl_enc_fixed_decode_copy(s, a->signature, FL_SIGNATURE_BYTES);
  }
  if (rc == 0 && (flags & ANN_BUMP)) rc = fl_enc_uint_decode(s, &a->bump);
  return rc;
}

int fl_hyperdht_announce_decode(fl_hyperdht_announce *a, const uint8_t *in, size_t len) {
  return decode_all(announce_decode_fn, a, sizeof *a, false, in, len);
}

/* ---- lookup reply ----------------------------------------------------------- */

int fl_hyperdht_lookup_reply_size(const fl_hyperdht_lookup_reply *r) {
  if (r == NULL || r->peers_len > FL_HYPERDHT_LOOKUP_PEERS_MAX) return FL_ERR_INVALID;
  size_t n = fl_enc_uint_size(r->peers_len) + fl_enc_uint_size(r->bump);
  for (size_t i = 0; i < r->peers_len; i++) {
    if (!peer_valid(&r->peers[i])) return FL_ERR_INVALID;
    n += peer_size(&r->peers[i]);
  }
  return (int)n;
}

static int lookup_encode_fn(fl_enc_state *s, const void *m, bool flag) {
  const fl_hyperdht_lookup_reply *r = m;
  (void)flag;
  int rc = fl_enc_array_len_encode(s, r->peers_len);
  for (size_t i = 0; rc == 0 && i < r->peers_len; i++) rc = peer_encode(s, &r->peers[i]);
  /* The reference's server always writes the bump, 0 included. */
  if (rc == 0) rc = fl_enc_uint_encode(s, r->bump);
  return rc;
}

int fl_hyperdht_lookup_reply_encode(const fl_hyperdht_lookup_reply *r, uint8_t *out,
                                    size_t cap, size_t *out_len) {
  if (out_len != NULL) *out_len = 0;
  if (r == NULL || out == NULL || out_len == NULL) return FL_ERR_INVALID;
  return encode_exact(lookup_encode_fn, r, false, fl_hyperdht_lookup_reply_size(r), out, cap,
                      out_len);
}

static int lookup_decode_fn(fl_dec_state *s, void *m, bool flag) {
  fl_hyperdht_lookup_reply *r = m;
  (void)flag;
  int rc = fl_enc_array_decode_len(s, FL_HYPERDHT_LOOKUP_PEERS_MAX, FL_PUBLIC_KEY_BYTES + 1,
                                   &r->peers_len);
  for (size_t i = 0; rc == 0 && i < r->peers_len; i++) rc = peer_decode(s, &r->peers[i]);
  if (rc == 0 && s->start < s->end) rc = fl_enc_uint_decode(s, &r->bump);
  return rc;
}

int fl_hyperdht_lookup_reply_decode(fl_hyperdht_lookup_reply *r, const uint8_t *in,
                                    size_t len) {
  return decode_all(lookup_decode_fn, r, sizeof *r, false, in, len);
}

/* ---- mutable put request / get response ------------------------------------- */

int fl_hyperdht_mutable_size(const fl_hyperdht_mutable *m, bool with_key) {
  if (m == NULL || (m->value == NULL && m->value_len > 0)) return FL_ERR_INVALID;
  if (m->value_len > FL_HYPERDHT_VALUE_MAX) return FL_ERR_INVALID;
  size_t n = fl_enc_uint_size(m->seq) + fl_enc_uint_size(m->value_len) + m->value_len +
             FL_SIGNATURE_BYTES;
  if (with_key) n += FL_PUBLIC_KEY_BYTES;
  return (int)n;
}

static int mutable_encode_fn(fl_enc_state *s, const void *v, bool with_key) {
  const fl_hyperdht_mutable *m = v;
  int rc = 0;
  if (with_key) rc = fl_enc_fixed_encode(s, m->public_key, FL_PUBLIC_KEY_BYTES);
  if (rc == 0) rc = fl_enc_uint_encode(s, m->seq);
  if (rc == 0) rc = fl_enc_buffer_encode(s, m->value, m->value_len);
  if (rc == 0) rc = fl_enc_fixed_encode(s, m->signature, FL_SIGNATURE_BYTES);
  return rc;
}

int fl_hyperdht_mutable_encode(const fl_hyperdht_mutable *m, bool with_key, uint8_t *out,
                               size_t cap, size_t *out_len) {
  if (out_len != NULL) *out_len = 0;
  if (m == NULL || out == NULL || out_len == NULL) return FL_ERR_INVALID;
  return encode_exact(mutable_encode_fn, m, with_key, fl_hyperdht_mutable_size(m, with_key),
                      out, cap, out_len);
}

static int mutable_decode_fn(fl_dec_state *s, void *v, bool with_key) {
  fl_hyperdht_mutable *m = v;
  int rc = 0;
  if (with_key) rc = fl_enc_fixed_decode_copy(s, m->public_key, FL_PUBLIC_KEY_BYTES);
  if (rc == 0) rc = fl_enc_uint_decode(s, &m->seq);
  if (rc == 0) rc = fl_enc_buffer_decode(s, &m->value, &m->value_len);
  if (rc == 0) rc = fl_enc_fixed_decode_copy(s, m->signature, FL_SIGNATURE_BYTES);
  return rc;
}

int fl_hyperdht_mutable_decode(fl_hyperdht_mutable *m, bool with_key, const uint8_t *in,
                               size_t len) {
  return decode_all(mutable_decode_fn, m, sizeof *m, with_key, in, len);
}

/* ---- targets and signables -------------------------------------------------- */

int fl_hyperdht_target(uint8_t out[FL_HYPERDHT_TARGET_BYTES], const uint8_t *data, size_t len) {
  if (out == NULL || (data == NULL && len > 0)) return FL_ERR_INVALID;
  return fl_crypto_hash(out, FL_HYPERDHT_TARGET_BYTES, data, len);
}

int fl_hyperdht_announce_signable(uint8_t out[FL_HYPERDHT_SIGNABLE_BYTES], int ns,
                                  const uint8_t target[32], const uint8_t node_id[32],
                                  const uint8_t token[32], const fl_hyperdht_peer *peer,
                                  const uint8_t *refresh) {
  if (out == NULL || target == NULL || node_id == NULL || token == NULL || peer == NULL)
    return FL_ERR_INVALID;
  if (ns != FL_NS_ANNOUNCE && ns != FL_NS_UNANNOUNCE) return FL_ERR_INVALID;
  /* The peer as the reference re-encodes it: key, canonical count, relays. */
  uint8_t head[FL_PUBLIC_KEY_BYTES + 9];
  uint8_t relays[FL_HYPERDHT_RELAYS_MAX * FL_ENC_IPV4_ADDRESS_BYTES];
  fl_slice parts[6];
  size_t count = peer->relays_raw != NULL ? peer->relays_wire : peer->relays_len;
  fl_enc_state s;
  fl_enc_state_init(&s, head, sizeof head);
  if (fl_enc_fixed_encode(&s, peer->public_key, FL_PUBLIC_KEY_BYTES) != 0 ||
      fl_enc_uint_encode(&s, count) != 0)
    return FL_ERR_INVALID;
  parts[0] = (fl_slice){target, 32};
  parts[1] = (fl_slice){node_id, 32};
  parts[2] = (fl_slice){token, 32};
  parts[3] = (fl_slice){head, s.start};
  if (peer->relays_raw != NULL) {
    parts[4] = (fl_slice){peer->relays_raw, count * FL_ENC_IPV4_ADDRESS_BYTES};
  } else {
    if (!peer_valid(peer)) return FL_ERR_INVALID;
    fl_enc_state r;
    fl_enc_state_init(&r, relays, sizeof relays);
    for (size_t i = 0; i < peer->relays_len; i++)
      if (fl_enc_ipv4_address_encode(&r, &peer->relays[i]) != 0) return FL_ERR_INVALID;
    parts[4] = (fl_slice){relays, r.start};
  }
  parts[5] = (fl_slice){refresh, refresh != NULL ? 32 : 0};
  int rc = fl_crypto_hyperdht_ns(ns, out);
  if (rc == 0) rc = fl_crypto_hash_parts(out + 32, 32, parts, 6, NULL, 0);
  return rc;
}

int fl_hyperdht_mutable_signable(uint8_t out[FL_HYPERDHT_SIGNABLE_BYTES], uint64_t seq,
                                 const uint8_t *value, size_t len) {
  if (out == NULL || (value == NULL && len > 0)) return FL_ERR_INVALID;
  uint8_t head[18];
  fl_enc_state s;
  fl_enc_state_init(&s, head, sizeof head);
  if (fl_enc_uint_encode(&s, seq) != 0 || fl_enc_uint_encode(&s, len) != 0)
    return FL_ERR_INVALID;
  fl_slice parts[2] = {{head, s.start}, {value, len}};
  int rc = fl_crypto_hyperdht_ns(FL_NS_MUTABLE_PUT, out);
  if (rc == 0) rc = fl_crypto_hash_parts(out + 32, 32, parts, 2, NULL, 0);
  return rc;
}

int fl_hyperdht_announce_sign(fl_hyperdht_announce *a, int ns, const uint8_t target[32],
                              const uint8_t node_id[32], const uint8_t token[32],
                              const uint8_t sk[FL_SECRET_KEY_BYTES]) {
  if (a == NULL || sk == NULL || !a->has_peer) return FL_ERR_INVALID;
  uint8_t signable[FL_HYPERDHT_SIGNABLE_BYTES];
  int rc = fl_hyperdht_announce_signable(signable, ns, target, node_id, token, &a->peer,
                                         a->has_refresh ? a->refresh : NULL);
  if (rc == 0) rc = fl_crypto_sign(a->signature, signable, sizeof signable, sk);
  a->has_signature = rc == 0;
  return rc;
}

int fl_hyperdht_announce_verify(const fl_hyperdht_announce *a, int ns, const uint8_t target[32],
                                const uint8_t node_id[32], const uint8_t token[32]) {
  if (a == NULL) return FL_ERR_INVALID;
  if (!a->has_peer || !a->has_signature) return FL_ERR_CRYPTO;
  uint8_t signable[FL_HYPERDHT_SIGNABLE_BYTES];
  int rc = fl_hyperdht_announce_signable(signable, ns, target, node_id, token, &a->peer,
                                         a->has_refresh ? a->refresh : NULL);
  if (rc != 0) return rc;
  return fl_crypto_verify(a->signature, signable, sizeof signable, a->peer.public_key);
}

int fl_hyperdht_mutable_sign(fl_hyperdht_mutable *m, const uint8_t sk[FL_SECRET_KEY_BYTES]) {
  if (m == NULL || sk == NULL) return FL_ERR_INVALID;
  uint8_t signable[FL_HYPERDHT_SIGNABLE_BYTES];
  int rc = fl_hyperdht_mutable_signable(signable, m->seq, m->value, m->value_len);
  if (rc == 0) rc = fl_crypto_sign(m->signature, signable, sizeof signable, sk);
  /* libsodium's secret key is seed || public key. */
  if (rc == 0) memcpy(m->public_key, sk + 32, FL_PUBLIC_KEY_BYTES);
  return rc;
}

int fl_hyperdht_mutable_verify(const fl_hyperdht_mutable *m,
                               const uint8_t pk[FL_PUBLIC_KEY_BYTES]) {
  if (m == NULL || pk == NULL) return FL_ERR_INVALID;
  uint8_t signable[FL_HYPERDHT_SIGNABLE_BYTES];
  int rc = fl_hyperdht_mutable_signable(signable, m->seq, m->value, m->value_len);
  if (rc != 0) return rc;
  return fl_crypto_verify(m->signature, signable, sizeof signable, pk);
}
