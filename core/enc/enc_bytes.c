/*
 * Byte codecs: fixed(n), the length-prefixed buffer and string, bool and the
 * array count (compact-encoding@3.5.2 index.js: fixed, buffer, utf8, bool,
 * array; spec/dht-rpc.md §0).
 *
 * Decoders lend pointers into the input rather than copying: the wire
 * formats built on these (dht-rpc, hyperdht) parse a datagram once and copy
 * what they keep, so a copy here would be paid twice.
 */
#include "enc/enc_internal.h"

/* ---- fixed(n) ---------------------------------------------------------------- */

void fl_enc_fixed_preencode(fl_enc_state *s, size_t n) { enc_grow(s, n); }

int fl_enc_fixed_encode(fl_enc_state *s, const uint8_t *p, size_t n) {
  if (p == NULL && n != 0) return FL_ERR_INVALID;
  int rc = enc_room(s, n);
  if (rc != FL_OK) return rc;
  if (n != 0) memcpy(s->buf + s->start, p, n);
  s->start += n;
  return FL_OK;
}

int fl_enc_fixed_decode(fl_dec_state *s, size_t n, const uint8_t **p) {
  if (p == NULL) return FL_ERR_INVALID;
  *p = NULL;
  int rc = dec_valid(s);
  if (rc != FL_OK) return rc;
  if (dec_left(s) < n) return FL_ERR_DECODE;
  *p = s->buf ? s->buf + s->start : NULL;
  s->start += n;
  return FL_OK;
}

int fl_enc_fixed_decode_copy(fl_dec_state *s, uint8_t *out, size_t n) {
  if (out == NULL && n != 0) return FL_ERR_INVALID;
  const uint8_t *p = NULL;
  int rc = fl_enc_fixed_decode(s, n, &p);
  if (n == 0) return rc;
  if (rc != FL_OK) {
    memset(out, 0, n);
    return rc;
  }
  memcpy(out, p, n);
  return FL_OK;
}

/* ---- buffer and string ------------------------------------------------------- */

void fl_enc_buffer_preencode(fl_enc_state *s, size_t len) {
  fl_enc_uint_preencode(s, len);
  enc_grow(s, len);
}

int fl_enc_buffer_encode(fl_enc_state *s, const uint8_t *p, size_t len) {
  if (p == NULL && len != 0) return FL_ERR_INVALID;
  /* Check the room for prefix and bytes together, so a refusal writes neither. */
  size_t prefix = fl_enc_uint_size(len);
  if (len > SIZE_MAX - prefix) return FL_ERR_BUFFER;
  int rc = enc_room(s, prefix + len);
  if (rc != FL_OK) return rc;
  rc = fl_enc_uint_encode(s, len);
  assert(rc == FL_OK);
  if (len != 0) memcpy(s->buf + s->start, p, len);
  s->start += len;
  return rc;
}

int fl_enc_buffer_decode(fl_dec_state *s, const uint8_t **p, size_t *len) {
  if (p == NULL || len == NULL) return FL_ERR_INVALID;
  *p = NULL;
  *len = 0;
  int rc = dec_valid(s);
  if (rc != FL_OK) return rc;
  uint64_t n = 0;
  size_t used = 0;
  rc = enc_uint_peek(s, &n, &used);
  if (rc != FL_OK) return rc;
  /* An over-long length is the classic forged-field attack: compare in 64
   * bits against what is really there before it becomes a size_t. */
  if (n > (uint64_t)(dec_left(s) - used)) return FL_ERR_DECODE;
  s->start += used;
  if (n != 0) *p = s->buf + s->start;
  *len = (size_t)n;
  s->start += (size_t)n;
  return FL_OK;
}

void fl_enc_string_preencode(fl_enc_state *s, size_t len) { fl_enc_buffer_preencode(s, len); }

int fl_enc_string_encode(fl_enc_state *s, const char *p, size_t len) {
  return fl_enc_buffer_encode(s, (const uint8_t *)p, len);
}

int fl_enc_string_decode(fl_dec_state *s, const char **p, size_t *len) {
  if (p == NULL) return FL_ERR_INVALID;
  const uint8_t *b = NULL;
  int rc = fl_enc_buffer_decode(s, &b, len);
  *p = (const char *)b;
  return rc;
}

/* Length of the UTF-8 sequence led by byte c and the range its second byte
 * must fall in (RFC 3629 table 3-7): this one test excludes overlong forms,
 * UTF-16 surrogates and code points past U+10FFFF. 0 for a bad lead byte. */
static size_t utf8_lead(uint8_t c, uint8_t *lo, uint8_t *hi) {
  *lo = 0x80;
  *hi = 0xbf;
  if (c < 0x80) return 1;
  if (c < 0xc2) return 0;
  if (c < 0xe0) return 2;
  if (c < 0xf0) {
    if (c == 0xe0) *lo = 0xa0;
    if (c == 0xed) *hi = 0x9f;
    return 3;
  }
  if (c < 0xf5) {
    if (c == 0xf0) *lo = 0x90;
    if (c == 0xf4) *hi = 0x8f;
    return 4;
  }
  return 0;
}

int fl_enc_utf8_valid(const uint8_t *p, size_t len) {
  if (p == NULL) return len == 0;
  size_t i = 0;
  while (i < len) {
    uint8_t lo, hi;
    size_t n = utf8_lead(p[i], &lo, &hi);
    if (n == 0 || len - i < n) return 0;
    if (n > 1 && (p[i + 1] < lo || p[i + 1] > hi)) return 0;
    for (size_t k = 2; k < n; k++) {
      if (p[i + k] < 0x80 || p[i + k] > 0xbf) return 0;
    }
    i += n;
  }
  return 1;
}

/* ---- bool ----------------------------------------------------------------------- */

void fl_enc_bool_preencode(fl_enc_state *s, bool v) { (void)v; enc_grow(s, 1); }

int fl_enc_bool_encode(fl_enc_state *s, bool v) { return fl_enc_uint8_encode(s, v ? 1 : 0); }

int fl_enc_bool_decode(fl_dec_state *s, bool *v) {
  if (v == NULL) return FL_ERR_INVALID;
  uint8_t b = 0;
  int rc = fl_enc_uint8_decode(s, &b);
  /* The reference compares with 1, so 2 or 0xff read as false; refusing them
   * would make us drop messages it accepts. */
  *v = (rc == FL_OK && b == 1);
  return rc;
}

/* ---- array count ------------------------------------------------------------------ */

void fl_enc_array_len_preencode(fl_enc_state *s, size_t n) { fl_enc_uint_preencode(s, n); }

int fl_enc_array_len_encode(fl_enc_state *s, size_t n) {
  /* The reference's decoder refuses more, so such a message could never be read. */
  if (n > FL_ENC_ARRAY_MAX) return FL_ERR_RANGE;
  return fl_enc_uint_encode(s, n);
}

int fl_enc_array_decode_len(fl_dec_state *s, size_t max, size_t elem_min, size_t *n) {
  if (n == NULL) return FL_ERR_INVALID;
  *n = 0;
  int rc = dec_valid(s);
  if (rc != FL_OK) return rc;
  uint64_t count = 0;
  size_t used = 0;
  rc = enc_uint_peek(s, &count, &used);
  if (rc != FL_OK) return rc;
  if (count > FL_ENC_ARRAY_MAX || count > (uint64_t)max) return FL_ERR_DECODE;
  /* Division, not multiplication, so a forged count cannot overflow the test. */
  size_t left = dec_left(s) - used;
  if (elem_min != 0 && count > (uint64_t)(left / elem_min)) return FL_ERR_DECODE;
  s->start += used;
  *n = (size_t)count;
  return FL_OK;
}

size_t fl_enc_array_max(void) { return FL_ENC_ARRAY_MAX; }
