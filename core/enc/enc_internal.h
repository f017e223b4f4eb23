/*
 * enc/enc_internal.h — the bounds checks and little-endian helpers every
 * codec of core/enc shares. Internal: not installed, not exported.
 *
 * Every encoder asks enc_room() before writing a byte and every decoder asks
 * dec_need() before reading one, so the check sits in one place. Decoders read
 * through a local cursor and commit s->start only once the whole value has
 * been read, which is what makes "on error the state is unchanged" true.
 */
#ifndef FL_ENC_INTERNAL_H
#define FL_ENC_INTERNAL_H

#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "flock/enc.h"

/* Adding to a preencode total saturates rather than wraps: a wrapped size
 * would make the caller allocate a small buffer, and the encoder (which
 * checks the room it is given) would then refuse with FL_ERR_BUFFER, but a
 * saturated one fails earlier and louder, at the allocation. */
static inline void enc_grow(fl_enc_state *s, size_t n) {
  if (s == NULL) return;
  s->end = (SIZE_MAX - s->end < n) ? SIZE_MAX : s->end + n;
}

/* 0 if an encoder may write n bytes at s->start; FL_ERR_INVALID for a NULL or
 * inconsistent state; FL_ERR_BUFFER when the room left is short. */
static inline int enc_room(const fl_enc_state *s, size_t n) {
  if (s == NULL || s->buf == NULL || s->start > s->end) return FL_ERR_INVALID;
  return (s->end - s->start < n) ? FL_ERR_BUFFER : FL_OK;
}

/* 0 if the state can be read at all; FL_ERR_INVALID for a NULL buffer with
 * bytes in it, or start past end (a caller bug, not bad input). */
static inline int dec_valid(const fl_dec_state *s) {
  if (s == NULL || s->start > s->end) return FL_ERR_INVALID;
  if (s->buf == NULL && s->end != 0) return FL_ERR_INVALID;
  return FL_OK;
}

/* Bytes left to decode in a valid state. */
static inline size_t dec_left(const fl_dec_state *s) {
  assert(s->start <= s->end);
  return s->end - s->start;
}

static inline void put_le16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static inline void put_le32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static inline void put_le64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t get_le16(const uint8_t *p) {
  return (uint16_t)(p[0] | ((uint16_t)p[1] << 8));
}

static inline uint32_t get_le32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}

static inline uint64_t get_le64(const uint8_t *p) {
  return (uint64_t)get_le32(p) | ((uint64_t)get_le32(p + 4) << 32);
}

/* The varint read without touching the state: on success *v and *used (1, 3,
 * 5 or 9); on error FL_ERR_DECODE and nothing written. Shared by uint,
 * buffer, string, array and flags so each can commit its own total. */
int enc_uint_peek(const fl_dec_state *s, uint64_t *v, size_t *used);

#endif /* FL_ENC_INTERNAL_H */
