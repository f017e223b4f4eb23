/*
 * hyperdht/handshake_payload.c — the payload carried inside the peer
 * handshake's Noise messages (hyperdht@6.34.0 lib/messages.js noisePayload;
 * spec/noise.md §8), on top of core/enc.
 *
 * Layout: version, flags, error, firewall (uints), then the optional fields
 * in flag order: holepunch {id, [relayAddress ipv4, peerAddress ipv4]},
 * addresses4 [ipv4], addresses6 [ipv6], udx {version, features, id, seq},
 * secretStream {version}, relayThrough {version, flags, publicKey 32,
 * token 32}, relayAddresses [ipv4].
 */
#include <assert.h>
#include <string.h>

#include "flock/hyperdht.h"

#define F_HOLEPUNCH FL_HYPERDHT_PAYLOAD_HOLEPUNCH
#define F_ADDR4 FL_HYPERDHT_PAYLOAD_ADDRESSES4
#define F_ADDR6 FL_HYPERDHT_PAYLOAD_ADDRESSES6
#define F_UDX FL_HYPERDHT_PAYLOAD_UDX
#define F_SSTREAM FL_HYPERDHT_PAYLOAD_SECRET_STREAM
#define F_RELAY_THROUGH FL_HYPERDHT_PAYLOAD_RELAY_THROUGH
#define F_RELAY_ADDRS FL_HYPERDHT_PAYLOAD_RELAY_ADDRESSES

size_t fl_hyperdht_noise_payload_struct_size(void) { return sizeof(fl_hyperdht_noise_payload); }

void fl_hyperdht_noise_payload_init(fl_hyperdht_noise_payload *p) {
  if (p == NULL) return;
  memset(p, 0, sizeof *p);
  p->version = 1;
}

/* The flags the reference's encoder would set for p. */
static uint64_t payload_flags(const fl_hyperdht_noise_payload *p) {
  uint64_t f = 0;
  if (p->has_holepunch) f |= F_HOLEPUNCH;
  if (p->addresses4_len > 0) f |= F_ADDR4;
  if (p->addresses6_len > 0) f |= F_ADDR6;
  if (p->has_udx) f |= F_UDX;
  if (p->has_secret_stream) f |= F_SSTREAM;
  if (p->has_relay_through) f |= F_RELAY_THROUGH;
  if (p->has_relay_addresses) f |= F_RELAY_ADDRS;
  return f;
}

static bool all_family(const fl_addr *a, size_t n, uint8_t family) {
  for (size_t i = 0; i < n; i++)
    if (a[i].family != family) return false;
  return true;
}

static bool payload_valid(const fl_hyperdht_noise_payload *p) {
  if (p->holepunch.relays_len > FL_HYPERDHT_PAYLOAD_RELAYS_MAX) return false;
  if (p->addresses4_len > FL_HYPERDHT_PAYLOAD_ADDRESSES_MAX) return false;
  if (p->addresses6_len > FL_HYPERDHT_PAYLOAD_ADDRESSES_MAX) return false;
  if (p->relay_addresses_len > FL_HYPERDHT_PAYLOAD_ADDRESSES_MAX) return false;
  for (size_t i = 0; p->has_holepunch && i < p->holepunch.relays_len; i++)
    if (p->holepunch.relays[i].relay_address.family != FL_ADDR_IPV4 ||
        p->holepunch.relays[i].peer_address.family != FL_ADDR_IPV4)
      return false;
  return all_family(p->addresses4, p->addresses4_len, FL_ADDR_IPV4) &&
         all_family(p->addresses6, p->addresses6_len, FL_ADDR_IPV6) &&
         (!p->has_relay_addresses ||
          all_family(p->relay_addresses, p->relay_addresses_len, FL_ADDR_IPV4));
}

static size_t uint_size(uint64_t v) { return fl_enc_uint_size(v); }

int fl_hyperdht_noise_payload_size(const fl_hyperdht_noise_payload *p) {
  if (p == NULL || !payload_valid(p)) return FL_ERR_INVALID;
  size_t n = uint_size(p->version) + uint_size(payload_flags(p)) + uint_size(p->error) +
             uint_size(p->firewall);
  if (p->has_holepunch)
    n += uint_size(p->holepunch.id) + uint_size(p->holepunch.relays_len) +
         p->holepunch.relays_len * 2 * FL_ENC_IPV4_ADDRESS_BYTES;
  if (p->addresses4_len > 0)
    n += uint_size(p->addresses4_len) + p->addresses4_len * FL_ENC_IPV4_ADDRESS_BYTES;
  if (p->addresses6_len > 0)
    n += uint_size(p->addresses6_len) + p->addresses6_len * FL_ENC_IPV6_ADDRESS_BYTES;
  if (p->has_udx) n += 2 + uint_size(p->udx.id) + uint_size(p->udx.seq);
  if (p->has_secret_stream) n += 1;
  if (p->has_relay_through) n += 2 + 32 + 32;
  if (p->has_relay_addresses)
    n += uint_size(p->relay_addresses_len) +
         p->relay_addresses_len * FL_ENC_IPV4_ADDRESS_BYTES;
  return (int)n;
}

static int encode_addrs(fl_enc_state *s, const fl_addr *a, size_t n, bool v6) {
  int rc = fl_enc_array_len_encode(s, n);
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = v6 ? fl_enc_ipv6_address_encode(s, &a[i]) : fl_enc_ipv4_address_encode(s, &a[i]);
  return rc;
}

static int encode_body(fl_enc_state *s, const fl_hyperdht_noise_payload *p) {
  int rc = fl_enc_uint_encode(s, p->version);
  if (rc == 0) rc = fl_enc_uint_encode(s, payload_flags(p));
  if (rc == 0) rc = fl_enc_uint_encode(s, p->error);
  if (rc == 0) rc = fl_enc_uint_encode(s, p->firewall);
  if (rc == 0 && p->has_holepunch) {
    rc = fl_enc_uint_encode(s, p->holepunch.id);
    if (rc == 0) rc = fl_enc_array_len_encode(s, p->holepunch.relays_len);
    for (size_t i = 0; rc == 0 && i < p->holepunch.relays_len; i++) {
      rc = fl_enc_ipv4_address_encode(s, &p->holepunch.relays[i].relay_address);
      if (rc == 0) rc = fl_enc_ipv4_address_encode(s, &p->holepunch.relays[i].peer_address);
    }
  }
  if (rc == 0 && p->addresses4_len > 0)
    rc = encode_addrs(s, p->addresses4, p->addresses4_len, false);
  if (rc == 0 && p->addresses6_len > 0)
    rc = encode_addrs(s, p->addresses6, p->addresses6_len, true);
  if (rc == 0 && p->has_udx) {
    /* The reference writes version 1 and only the reusableSocket feature. */
    rc = fl_enc_uint_encode(s, 1);
    if (rc == 0) rc = fl_enc_uint_encode(s, p->udx.reusable_socket ? 1 : 0);
    if (rc == 0) rc = fl_enc_uint_encode(s, p->udx.id);
    if (rc == 0) rc = fl_enc_uint_encode(s, p->udx.seq);
  }
  if (rc == 0 && p->has_secret_stream) rc = fl_enc_uint_encode(s, 1);
  if (rc == 0 && p->has_relay_through) {
    rc = fl_enc_uint_encode(s, 1);
    if (rc == 0) rc = fl_enc_uint_encode(s, 0);
    if (rc == 0) rc = fl_enc_fixed_encode(s, p->relay_through.public_key, 32);
    if (rc == 0) rc = fl_enc_fixed_encode(s, p->relay_through.token, 32);
  }
  if (rc == 0 && p->has_relay_addresses)
    rc = encode_addrs(s, p->relay_addresses, p->relay_addresses_len, false);
  return rc;
}

int fl_hyperdht_noise_payload_encode(const fl_hyperdht_noise_payload *p, uint8_t *out,
                                     size_t cap, size_t *out_len) {
  if (out_len != NULL) *out_len = 0;
  if (p == NULL || out == NULL || out_len == NULL) return FL_ERR_INVALID;
  int size = fl_hyperdht_noise_payload_size(p);
  if (size < 0) return size;
  if ((size_t)size > cap) return FL_ERR_BUFFER;
  fl_enc_state s;
  fl_enc_state_init(&s, out, (size_t)size);
  int rc = encode_body(&s, p);
  assert(rc == 0);          /* the size above was exact and the payload valid */
  assert(s.start == (size_t)size);
  if (rc != 0) return rc;
  *out_len = s.start;
  return 0;
}

/* ---- Decoding --------------------------------------------------------------- */

static int decode_addrs(fl_dec_state *s, fl_addr *a, size_t *n, bool v6) {
  size_t elem = v6 ? FL_ENC_IPV6_ADDRESS_BYTES : FL_ENC_IPV4_ADDRESS_BYTES;
  int rc = fl_enc_array_decode_len(s, FL_HYPERDHT_PAYLOAD_ADDRESSES_MAX, elem, n);
  for (size_t i = 0; rc == 0 && i < *n; i++)
    rc = v6 ? fl_enc_ipv6_address_decode(s, &a[i]) : fl_enc_ipv4_address_decode(s, &a[i]);
  return rc;
}

static int decode_holepunch(fl_dec_state *s, fl_hyperdht_noise_payload *p) {
  p->has_holepunch = true;
  int rc = fl_enc_uint_decode(s, &p->holepunch.id);
  if (rc == 0)
    rc = fl_enc_array_decode_len(s, FL_HYPERDHT_PAYLOAD_RELAYS_MAX,
                                 2 * FL_ENC_IPV4_ADDRESS_BYTES, &p->holepunch.relays_len);
  for (size_t i = 0; rc == 0 && i < p->holepunch.relays_len; i++) {
    rc = fl_enc_ipv4_address_decode(s, &p->holepunch.relays[i].relay_address);
    if (rc == 0) rc = fl_enc_ipv4_address_decode(s, &p->holepunch.relays[i].peer_address);
  }
  return rc;
}

static int decode_udx(fl_dec_state *s, fl_hyperdht_noise_payload *p) {
  uint64_t features = 0;
  p->has_udx = true;
  int rc = fl_enc_uint_decode(s, &p->udx.version);
  if (rc == 0) rc = fl_enc_uint_decode(s, &features);
  if (rc == 0) rc = fl_enc_uint_decode(s, &p->udx.id);
  if (rc == 0) rc = fl_enc_uint_decode(s, &p->udx.seq);
  p->udx.reusable_socket = (features & 1) != 0;
  return rc;
}

static int decode_relay_through(fl_dec_state *s, fl_hyperdht_noise_payload *p) {
  uint64_t flags = 0; /* read and dropped, as the reference does */
  p->has_relay_through = true;
  int rc = fl_enc_uint_decode(s, &p->relay_through.version);
  if (rc == 0) rc = fl_enc_uint_decode(s, &flags);
  if (rc == 0) rc = fl_enc_fixed_decode_copy(s, p->relay_through.public_key, 32);
  if (rc == 0) rc = fl_enc_fixed_decode_copy(s, p->relay_through.token, 32);
  return rc;
}

static int decode_body(fl_dec_state *s, fl_hyperdht_noise_payload *p) {
  uint64_t flags = 0;
  int rc = fl_enc_uint_decode(s, &flags);
  if (rc == 0) rc = fl_enc_uint_decode(s, &p->error);
  if (rc == 0) rc = fl_enc_uint_decode(s, &p->firewall);
  /* Unknown flag bits are ignored, as the reference ignores them. */
  if (rc == 0 && (flags & F_HOLEPUNCH)) rc = decode_holepunch(s, p);
  if (rc == 0 && (flags & F_ADDR4)) rc = decode_addrs(s, p->addresses4, &p->addresses4_len, false);
  if (rc == 0 && (flags & F_ADDR6)) rc = decode_addrs(s, p->addresses6, &p->addresses6_len, true);
  if (rc == 0 && (flags & F_UDX)) rc = decode_udx(s, p);
  if (rc == 0 && (flags & F_SSTREAM)) {
    p->has_secret_stream = true;
    rc = fl_enc_uint_decode(s, &p->secret_stream.version);
  }
  if (rc == 0 && (flags & F_RELAY_THROUGH)) rc = decode_relay_through(s, p);
  if (rc == 0 && (flags & F_RELAY_ADDRS)) {
    p->has_relay_addresses = true;
    rc = decode_addrs(s, p->relay_addresses, &p->relay_addresses_len, false);
  }
  return rc;
}

int fl_hyperdht_noise_payload_decode(fl_hyperdht_noise_payload *p, const uint8_t *in,
                                     size_t len) {
  if (p == NULL || (in == NULL && len > 0)) return FL_ERR_INVALID;
  memset(p, 0, sizeof *p);
  fl_dec_state s;
  fl_dec_state_init(&s, in, len);
  int rc = fl_enc_uint_decode(&s, &p->version);
  /* Another version: nothing else is read, so a newer peer's payload still
   * yields its version for the VERSION_MISMATCH reply. */
  if (rc == 0 && p->version == 1) rc = decode_body(&s, p);
  if (rc != 0) {
    memset(p, 0, sizeof *p);
    return FL_ERR_DECODE;
  }
  assert(s.start >= 1 && s.start <= len);
  return (int)s.start;
}
