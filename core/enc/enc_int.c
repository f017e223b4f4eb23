/*
 * Integer codecs: the varint uint and the fixed-width uint8/16/24/32/64
 * (compact-encoding@3.5.2 index.js: uint, uint8 .. uint64; spec/dht-rpc.md §0).
 *
 * The varint is 1 byte for values up to 0xfc, else a marker byte followed by
 * a little-endian integer: 0xfd + 2 bytes, 0xfe + 4 bytes, 0xff + 8 bytes.
 * We always write the shortest form, as the reference does, but read any
 * form (0xfd 05 00 is 5), as the reference does. Unlike the reference, all 64
 * bits are carried both ways.
 */
#include "enc/enc_internal.h"

void fl_enc_state_init(fl_enc_state *s, uint8_t *buf, size_t cap) {
  if (s == NULL) return;
  s->buf = buf;
  s->start = 0;
  s->end = buf ? cap : 0;
}

void fl_dec_state_init(fl_dec_state *s, const uint8_t *buf, size_t len) {
  if (s == NULL) return;
  s->buf = buf;
  s->start = 0;
  s->end = buf ? len : 0;
}

/* ---- varint uint ---------------------------------------------------------- */

size_t fl_enc_uint_size(uint64_t v) {
  if (v <= 0xfc) return 1;
  if (v <= 0xffff) return 3;
  if (v <= 0xffffffffu) return 5;
  return 9;
}

void fl_enc_uint_preencode(fl_enc_state *s, uint64_t v) { enc_grow(s, fl_enc_uint_size(v)); }

int fl_enc_uint_encode(fl_enc_state *s, uint64_t v) {
  size_t n = fl_enc_uint_size(v);
  int rc = enc_room(s, n);
  if (rc != FL_OK) return rc;
  uint8_t *p = s->buf + s->start;
  switch (n) {
    case 1: p[0] = (uint8_t)v; break;
    case 3: p[0] = 0xfd; put_le16(p + 1, (uint16_t)v); break;
    case 5: p[0] = 0xfe; put_le32(p + 1, (uint32_t)v); break;
    default: p[0] = 0xff; put_le64(p + 1, v); break;
  }
  s->start += n;
  assert(s->start <= s->end);
  return FL_OK;
}

int enc_uint_peek(const fl_dec_state *s, uint64_t *v, size_t *used) {
  assert(dec_valid(s) == FL_OK);
  size_t left = dec_left(s);
  if (left < 1) return FL_ERR_DECODE;
  const uint8_t *p = s->buf + s->start;
  size_t n = p[0] <= 0xfc ? 1 : p[0] == 0xfd ? 3 : p[0] == 0xfe ? 5 : 9;
  /* The marker promises n - 1 more bytes; a short tail is truncation. */
  if (left < n) return FL_ERR_DECODE;
  switch (n) {
    case 1: *v = p[0]; break;
    case 3: *v = get_le16(p + 1); break;
    case 5: *v = get_le32(p + 1); break;
    default: *v = get_le64(p + 1); break;
  }
  *used = n;
  return FL_OK;
}

int fl_enc_uint_decode(fl_dec_state *s, uint64_t *v) {
  if (v == NULL) return FL_ERR_INVALID;
  *v = 0;
  int rc = dec_valid(s);
  if (rc != FL_OK) return rc;
  uint64_t x = 0;
  size_t used = 0;
  rc = enc_uint_peek(s, &x, &used);
  if (rc != FL_OK) return rc;
  s->start += used;
  *v = x;
  return FL_OK;
}

/* ---- fixed-width little-endian -------------------------------------------- */

/* Write the low `width` bytes of v, little-endian, or refuse. */
static int enc_le(fl_enc_state *s, uint64_t v, size_t width) {
  assert(width >= 1 && width <= 8);
  int rc = enc_room(s, width);
  if (rc != FL_OK) return rc;
  for (size_t i = 0; i < width; i++) s->buf[s->start + i] = (uint8_t)(v >> (8 * i));
  s->start += width;
  return FL_OK;
}

/* Read `width` little-endian bytes, or refuse leaving the state unchanged. */
static int dec_le(fl_dec_state *s, uint64_t *v, size_t width) {
  assert(width >= 1 && width <= 8);
  *v = 0;
  int rc = dec_valid(s);
  if (rc != FL_OK) return rc;
  if (dec_left(s) < width) return FL_ERR_DECODE;
  uint64_t x = 0;
  for (size_t i = 0; i < width; i++) x |= (uint64_t)s->buf[s->start + i] << (8 * i);
  s->start += width;
  *v = x;
  return FL_OK;
}

void fl_enc_uint8_preencode(fl_enc_state *s, uint8_t v) { (void)v; enc_grow(s, 1); }
int fl_enc_uint8_encode(fl_enc_state *s, uint8_t v) { return enc_le(s, v, 1); }
int fl_enc_uint8_decode(fl_dec_state *s, uint8_t *v) {
  if (v == NULL) return FL_ERR_INVALID;
  uint64_t x;
  int rc = dec_le(s, &x, 1);
  *v = (uint8_t)x;
  return rc;
}

void fl_enc_uint16_preencode(fl_enc_state *s, uint16_t v) { (void)v; enc_grow(s, 2); }
int fl_enc_uint16_encode(fl_enc_state *s, uint16_t v) { return enc_le(s, v, 2); }
int fl_enc_uint16_decode(fl_dec_state *s, uint16_t *v) {
  if (v == NULL) return FL_ERR_INVALID;
  uint64_t x;
  int rc = dec_le(s, &x, 2);
  *v = (uint16_t)x;
  return rc;
}

void fl_enc_uint24_preencode(fl_enc_state *s, uint32_t v) { (void)v; enc_grow(s, 3); }
int fl_enc_uint24_encode(fl_enc_state *s, uint32_t v) {
  /* Three bytes cannot carry it; silently dropping the top byte (as the
   * reference's `n >>> 16` store does) would put a different value on the wire. */
  if (v > 0xffffffu) return FL_ERR_RANGE;
  return enc_le(s, v, 3);
}
int fl_enc_uint24_decode(fl_dec_state *s, uint32_t *v) {
  if (v == NULL) return FL_ERR_INVALID;
  uint64_t x;
  int rc = dec_le(s, &x, 3);
  *v = (uint32_t)x;
  return rc;
}

void fl_enc_uint32_preencode(fl_enc_state *s, uint32_t v) { (void)v; enc_grow(s, 4); }
int fl_enc_uint32_encode(fl_enc_state *s, uint32_t v) { return enc_le(s, v, 4); }
int fl_enc_uint32_decode(fl_dec_state *s, uint32_t *v) {
  if (v == NULL) return FL_ERR_INVALID;
  uint64_t x;
  int rc = dec_le(s, &x, 4);
  *v = (uint32_t)x;
  return rc;
}

void fl_enc_uint64_preencode(fl_enc_state *s, uint64_t v) { (void)v; enc_grow(s, 8); }
int fl_enc_uint64_encode(fl_enc_state *s, uint64_t v) { return enc_le(s, v, 8); }
int fl_enc_uint64_decode(fl_dec_state *s, uint64_t *v) {
  if (v == NULL) return FL_ERR_INVALID;
  return dec_le(s, v, 8);
}

/* ---- flag words -------------------------------------------------------------- */

void fl_enc_flags_preencode(fl_enc_state *s, uint64_t flags) { fl_enc_uint_preencode(s, flags); }

int fl_enc_flags_encode(fl_enc_state *s, uint64_t flags) { return fl_enc_uint_encode(s, flags); }

int fl_enc_flags_decode(fl_dec_state *s, uint64_t allowed_mask, bool strict, uint64_t *flags) {
  if (flags == NULL) return FL_ERR_INVALID;
  *flags = 0;
  int rc = dec_valid(s);
  if (rc != FL_OK) return rc;
  uint64_t x = 0;
  size_t used = 0;
  rc = enc_uint_peek(s, &x, &used);
  if (rc != FL_OK) return rc;
  /* A strict caller has no meaning for unknown bits and must not act on a
   * message it only half understands. */
  if (strict && (x & ~allowed_mask) != 0) return FL_ERR_DECODE;
  s->start += used;
  *flags = x;
  return FL_OK;
}
