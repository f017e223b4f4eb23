/*
 * enc_test_util.h — checks shared by the core/enc unit tests: encode with
 * preencode sizing, and the "truncated at every byte" loop.
 *
 * Every decoder is wrapped as a dec_fn writing into a caller-supplied output
 * of known size, so one loop can check, for any codec, that a failed decode
 * returns the exact code, leaves the state alone and zeroes the output.
 */
#ifndef ENC_TEST_UTIL_H
#define ENC_TEST_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "flock/enc.h"
#include "testing/fl_test.h"

typedef int (*dec_fn)(fl_dec_state *s, void *out);

typedef struct {
  const uint8_t *p;
  size_t len;
} lent_bytes;

static inline int dec_uint(fl_dec_state *s, void *o) { return fl_enc_uint_decode(s, o); }
static inline int dec_uint8(fl_dec_state *s, void *o) { return fl_enc_uint8_decode(s, o); }
static inline int dec_uint16(fl_dec_state *s, void *o) { return fl_enc_uint16_decode(s, o); }
static inline int dec_uint24(fl_dec_state *s, void *o) { return fl_enc_uint24_decode(s, o); }
static inline int dec_uint32(fl_dec_state *s, void *o) { return fl_enc_uint32_decode(s, o); }
static inline int dec_uint64(fl_dec_state *s, void *o) { return fl_enc_uint64_decode(s, o); }
static inline int dec_bool(fl_dec_state *s, void *o) { return fl_enc_bool_decode(s, o); }
static inline int dec_fixed32(fl_dec_state *s, void *o) { return fl_enc_fixed_decode(s, 32, o); }
static inline int dec_fixed64(fl_dec_state *s, void *o) { return fl_enc_fixed_decode(s, 64, o); }
static inline int dec_buffer(fl_dec_state *s, void *o) {
  lent_bytes *b = o;
  return fl_enc_buffer_decode(s, &b->p, &b->len);
}
static inline int dec_string(fl_dec_state *s, void *o) {
  lent_bytes *b = o;
  return fl_enc_string_decode(s, (const char **)&b->p, &b->len);
}
static inline int dec_array_len(fl_dec_state *s, void *o) {
  return fl_enc_array_decode_len(s, FL_ENC_ARRAY_MAX, 0, o);
}
static inline int dec_flags(fl_dec_state *s, void *o) {
  return fl_enc_flags_decode(s, UINT64_MAX, false, o);
}
static inline int dec_ipv4(fl_dec_state *s, void *o) { return fl_enc_ipv4_address_decode(s, o); }
static inline int dec_ipv6(fl_dec_state *s, void *o) { return fl_enc_ipv6_address_decode(s, o); }
static inline int dec_ip(fl_dec_state *s, void *o) { return fl_enc_ip_address_decode(s, o); }

static inline int all_zero(const void *p, size_t n) {
  const uint8_t *b = p;
  for (size_t i = 0; i < n; i++) {
    if (b[i] != 0) return 0;
  }
  return 1;
}

/* Decode every strict prefix of (full, len) from its own exact-size heap copy
 * (so ASan sees any read past the end) and require FL_ERR_DECODE, an
 * unchanged state and a zeroed output; then the whole input must decode and
 * consume exactly len bytes. Returns 0, or the failing prefix length + 1. */
static inline size_t check_truncations(dec_fn fn, const uint8_t *full, size_t len,
                                       size_t out_size) {
  uint8_t out[64];
  if (out_size > sizeof out) return 1;
  for (size_t k = 0; k <= len; k++) {
    uint8_t *copy = malloc(k ? k : 1);
    if (!copy) abort();
    memcpy(copy, full, k);
    fl_dec_state s;
    fl_dec_state_init(&s, copy, k);
    memset(out, 0xaa, sizeof out);
    int rc = fn(&s, out);
    int ok;
    if (k < len) {
      ok = rc == FL_ERR_DECODE && s.start == 0 && s.end == k && all_zero(out, out_size);
    } else {
      ok = rc == FL_OK && s.start == len && s.end == len;
    }
    free(copy);
    if (!ok) {
      fl_test_err("  truncation to %zu of %zu bytes: rc=%d\n", k, len, rc);
      return k + 1;
    }
  }
  return 0;
}

/* Encoders wrapped the same way: a codec is its preencode and encode over a
 * pointer to the value. */
typedef struct {
  void (*pre)(fl_enc_state *s, const void *v);
  int (*enc)(fl_enc_state *s, const void *v);
} enc_codec;

/* Size with preencode, encode into buf (capacity cap) and require the encoder
 * to write exactly that many bytes. Returns the byte count, or 0 on any
 * mismatch (no codec encodes to zero bytes). */
static inline size_t enc_exact(const enc_codec *c, const void *v, uint8_t *buf, size_t cap) {
  fl_enc_state pre;
  fl_enc_state_init(&pre, NULL, 0);
  c->pre(&pre, v);
  if (pre.start != 0 || pre.end == 0 || pre.end > cap) return 0;
  fl_enc_state st;
  fl_enc_state_init(&st, buf, pre.end);
  if (c->enc(&st, v) != FL_OK || st.start != pre.end) return 0;
  return pre.end;
}

/* Every capacity below the encoded size must be refused with FL_ERR_BUFFER,
 * writing nothing and leaving the state alone. Returns 0 or the failing
 * capacity + 1. */
static inline size_t check_small_buffers(const enc_codec *c, const void *v, size_t need) {
  uint8_t *buf = malloc(need + 1);
  if (!buf) abort();
  size_t bad = 0;
  for (size_t cap = 0; cap < need && !bad; cap++) {
    memset(buf, 0xaa, need + 1);
    fl_enc_state st;
    fl_enc_state_init(&st, buf, cap);
    int rc = c->enc(&st, v);
    int untouched = 1;
    for (size_t i = 0; i <= need; i++) untouched &= buf[i] == 0xaa;
    if (rc != FL_ERR_BUFFER || st.start != 0 || st.end != cap || !untouched) bad = cap + 1;
  }
  free(buf);
  return bad;
}

#define ENC_WRAP(name, type, pre_fn, enc_fn)                                    \
  static inline void pre_##name(fl_enc_state *s, const void *v) {              \
    pre_fn(s, *(const type *)v);                                               \
  }                                                                            \
  static inline int enc_##name(fl_enc_state *s, const void *v) {               \
    return enc_fn(s, *(const type *)v);                                        \
  }                                                                            \
  __attribute__((unused)) static const enc_codec codec_##name = {pre_##name, enc_##name};

ENC_WRAP(uint, uint64_t, fl_enc_uint_preencode, fl_enc_uint_encode)
ENC_WRAP(uint8, uint8_t, fl_enc_uint8_preencode, fl_enc_uint8_encode)
ENC_WRAP(uint16, uint16_t, fl_enc_uint16_preencode, fl_enc_uint16_encode)
ENC_WRAP(uint24, uint32_t, fl_enc_uint24_preencode, fl_enc_uint24_encode)
ENC_WRAP(uint32, uint32_t, fl_enc_uint32_preencode, fl_enc_uint32_encode)
ENC_WRAP(uint64, uint64_t, fl_enc_uint64_preencode, fl_enc_uint64_encode)
ENC_WRAP(bool, bool, fl_enc_bool_preencode, fl_enc_bool_encode)
ENC_WRAP(flags, uint64_t, fl_enc_flags_preencode, fl_enc_flags_encode)
ENC_WRAP(array_len, size_t, fl_enc_array_len_preencode, fl_enc_array_len_encode)

/* Address codecs already take a pointer: v is the fl_addr. */
#define ENC_WRAP_ADDR(name, pre_fn, enc_fn)                                     \
  static inline void pre_##name(fl_enc_state *s, const void *v) { pre_fn(s, v); } \
  static inline int enc_##name(fl_enc_state *s, const void *v) { return enc_fn(s, v); } \
  __attribute__((unused)) static const enc_codec codec_##name = {pre_##name, enc_##name};

ENC_WRAP_ADDR(ipv4, fl_enc_ipv4_address_preencode, fl_enc_ipv4_address_encode)
ENC_WRAP_ADDR(ipv6, fl_enc_ipv6_address_preencode, fl_enc_ipv6_address_encode)
ENC_WRAP_ADDR(ip, fl_enc_ip_address_preencode, fl_enc_ip_address_encode)

/* Byte-range codecs take a lent_bytes. */
static inline void pre_buffer(fl_enc_state *s, const void *v) {
  fl_enc_buffer_preencode(s, ((const lent_bytes *)v)->len);
}
static inline int enc_buffer(fl_enc_state *s, const void *v) {
  const lent_bytes *b = v;
  return fl_enc_buffer_encode(s, b->p, b->len);
}
__attribute__((unused)) static const enc_codec codec_buffer = {pre_buffer, enc_buffer};
static inline void pre_string(fl_enc_state *s, const void *v) {
  fl_enc_string_preencode(s, ((const lent_bytes *)v)->len);
}
static inline int enc_string(fl_enc_state *s, const void *v) {
  const lent_bytes *b = v;
  return fl_enc_string_encode(s, (const char *)b->p, b->len);
}
__attribute__((unused)) static const enc_codec codec_string = {pre_string, enc_string};
static inline void pre_fixed(fl_enc_state *s, const void *v) {
  fl_enc_fixed_preencode(s, ((const lent_bytes *)v)->len);
}
static inline int enc_fixed(fl_enc_state *s, const void *v) {
  const lent_bytes *b = v;
  return fl_enc_fixed_encode(s, b->p, b->len);
}
__attribute__((unused)) static const enc_codec codec_fixed = {pre_fixed, enc_fixed};

#endif /* ENC_TEST_UTIL_H */
