/*
 * flock/enc.h — compact-encoding, the byte format of every reference wire
 * message (facts: spec/dht-rpc.md §0; npm compact-encoding@3.5.2 and
 * compact-encoding-net@1.3.0).
 *
 * Each codec has three operations over a state with start/end, as the
 * reference does:
 *   fl_enc_X_preencode(fl_enc_state *s, v)  adds v's encoded size to s->end;
 *   fl_enc_X_encode(fl_enc_state *s, v)     writes at s->start, advances it;
 *   fl_enc_X_decode(fl_dec_state *s, &v)    reads at s->start, advances it.
 *
 * Decoding never reads at or past s->end. On any error the state is left
 * unchanged and the outputs are zeroed, so a failed decode changes nothing.
 * Encoders refuse (FL_ERR_BUFFER) to write past s->end, leaving s unchanged
 * and writing nothing. Preencode totals saturate at SIZE_MAX instead of
 * wrapping.
 *
 * Error codes, the same for every codec below:
 *   FL_ERR_DECODE   decode: input truncated (a varint marker without its
 *                   bytes, a length or count past the end), an array count
 *                   over its limit, or (strict flags) an unknown bit;
 *   FL_ERR_BUFFER   encode: fewer than the needed bytes between start and end;
 *   FL_ERR_RANGE    encode: a value the format cannot carry (uint24 above
 *                   2^24-1, an array count above FL_ENC_ARRAY_MAX);
 *   FL_ERR_INVALID  misuse: a NULL state or output, start > end, an encode
 *                   state without a buffer, an address of the wrong family.
 *
 * Where C is wider than the reference: uint and uint64 carry all 64 bits
 * (the reference refuses values above 2^53-1, encoding and decoding); decoders here accept every value the format can carry.
 * Where the reference is lenient, C accepts the same bytes: a bool is true
 * only for byte 1 and false for any other byte; a string's bytes are returned
 * as they are, without UTF-8 validation (use fl_enc_utf8_valid to check).
 */
#ifndef FLOCK_ENC_H
#define FLOCK_ENC_H

#include <stdbool.h>
#include "flock/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fl_enc_state {
  uint8_t *buf;  /* NULL while preencoding */
  size_t start;
  size_t end;
} fl_enc_state;

typedef struct fl_dec_state {
  const uint8_t *buf;
  size_t start;
  size_t end;
} fl_dec_state;

/* The largest array length the reference decodes (its "Array is too big"). */
#define FL_ENC_ARRAY_MAX 0x100000u
/* The same, for bindings that cannot see macros. */
FL_API size_t fl_enc_array_max(void);

/* Initialise states over (buf, cap) / (buf, len), start 0. A NULL buf gives
 * an empty state: for encoding, the one preencode counts into. */
FL_API void fl_enc_state_init(fl_enc_state *s, uint8_t *buf, size_t cap);
FL_API void fl_dec_state_init(fl_dec_state *s, const uint8_t *buf, size_t len);

/* Varint uint: 1, 3, 5 or 9 bytes (0xfd/0xfe/0xff prefixes, little-endian).
 * Decode accepts non-minimal forms, as the reference does. */
FL_API void fl_enc_uint_preencode(fl_enc_state *s, uint64_t v);
FL_API FL_MUST_CHECK int fl_enc_uint_encode(fl_enc_state *s, uint64_t v);
FL_API FL_MUST_CHECK int fl_enc_uint_decode(fl_dec_state *s, uint64_t *v);
/* Encoded size of a varint: 1, 3, 5 or 9. */
FL_API size_t fl_enc_uint_size(uint64_t v);

/* Fixed-width little-endian unsigned integers. */
FL_API void fl_enc_uint8_preencode(fl_enc_state *s, uint8_t v);
FL_API FL_MUST_CHECK int fl_enc_uint8_encode(fl_enc_state *s, uint8_t v);
FL_API FL_MUST_CHECK int fl_enc_uint8_decode(fl_dec_state *s, uint8_t *v);
FL_API void fl_enc_uint16_preencode(fl_enc_state *s, uint16_t v);
FL_API FL_MUST_CHECK int fl_enc_uint16_encode(fl_enc_state *s, uint16_t v);
FL_API FL_MUST_CHECK int fl_enc_uint16_decode(fl_dec_state *s, uint16_t *v);
/* uint24 takes and yields values below 2^24; encode refuses larger (FL_ERR_RANGE). */
FL_API void fl_enc_uint24_preencode(fl_enc_state *s, uint32_t v);
FL_API FL_MUST_CHECK int fl_enc_uint24_encode(fl_enc_state *s, uint32_t v);
FL_API FL_MUST_CHECK int fl_enc_uint24_decode(fl_dec_state *s, uint32_t *v);
FL_API void fl_enc_uint32_preencode(fl_enc_state *s, uint32_t v);
FL_API FL_MUST_CHECK int fl_enc_uint32_encode(fl_enc_state *s, uint32_t v);
FL_API FL_MUST_CHECK int fl_enc_uint32_decode(fl_dec_state *s, uint32_t *v);
FL_API void fl_enc_uint64_preencode(fl_enc_state *s, uint64_t v);
FL_API FL_MUST_CHECK int fl_enc_uint64_encode(fl_enc_state *s, uint64_t v);
FL_API FL_MUST_CHECK int fl_enc_uint64_decode(fl_dec_state *s, uint64_t *v);

/* Fixed-size raw bytes (fixed32, fixed64, or any n). Decode lends a pointer
 * into the input; it stays valid as long as the input does. */
FL_API void fl_enc_fixed_preencode(fl_enc_state *s, size_t n);
FL_API FL_MUST_CHECK int fl_enc_fixed_encode(fl_enc_state *s, const uint8_t *p, size_t n);
FL_API FL_MUST_CHECK int fl_enc_fixed_decode(fl_dec_state *s, size_t n, const uint8_t **p);
/* Decode n bytes into a caller array (copying). */
FL_API FL_MUST_CHECK int fl_enc_fixed_decode_copy(fl_dec_state *s, uint8_t *out, size_t n);

/* Length-prefixed buffer: varint length, then the bytes. Decode lends a
 * pointer into the input; a zero length yields (NULL, 0) — the reference's
 * optionalBuffer reads it as null. */
FL_API void fl_enc_buffer_preencode(fl_enc_state *s, size_t len);
FL_API FL_MUST_CHECK int fl_enc_buffer_encode(fl_enc_state *s, const uint8_t *p, size_t len);
FL_API FL_MUST_CHECK int fl_enc_buffer_decode(fl_dec_state *s, const uint8_t **p, size_t *len);

/* Length-prefixed string (UTF-8 in the reference). Bytes are passed and
 * returned unvalidated; see the header comment. Decode lends a pointer into
 * the input, not NUL-terminated; a zero length yields (NULL, 0). */
FL_API void fl_enc_string_preencode(fl_enc_state *s, size_t len);
FL_API FL_MUST_CHECK int fl_enc_string_encode(fl_enc_state *s, const char *p, size_t len);
FL_API FL_MUST_CHECK int fl_enc_string_decode(fl_dec_state *s, const char **p, size_t *len);
/* 1 if (p, len) is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
FL_API int fl_enc_utf8_valid(const uint8_t *p, size_t len);

/* Bool: one byte, 1 = true; decodes any other byte as false, as the reference. */
FL_API void fl_enc_bool_preencode(fl_enc_state *s, bool v);
FL_API FL_MUST_CHECK int fl_enc_bool_encode(fl_enc_state *s, bool v);
FL_API FL_MUST_CHECK int fl_enc_bool_decode(fl_dec_state *s, bool *v);

/* Arrays: a varint count, then the elements with their own codec. These
 * handle the count; the caller loops over elements.
 * fl_enc_array_decode_len refuses (FL_ERR_DECODE) a count above max (and
 * above FL_ENC_ARRAY_MAX) or one that cannot fit in the bytes left when each
 * element takes at least elem_min bytes, so a forged count cannot make a
 * caller allocate for elements that are not there. */
FL_API void fl_enc_array_len_preencode(fl_enc_state *s, size_t n);
FL_API FL_MUST_CHECK int fl_enc_array_len_encode(fl_enc_state *s, size_t n);
FL_API FL_MUST_CHECK int fl_enc_array_decode_len(fl_dec_state *s, size_t max, size_t elem_min,
                                                 size_t *n);

/* Flag words: a varint bitfield. Decode refuses (FL_ERR_DECODE) bits outside
 * allowed_mask when strict is true; otherwise unknown bits are kept, as the
 * reference ignores them. */
FL_API void fl_enc_flags_preencode(fl_enc_state *s, uint64_t flags);
FL_API FL_MUST_CHECK int fl_enc_flags_encode(fl_enc_state *s, uint64_t flags);
FL_API FL_MUST_CHECK int fl_enc_flags_decode(fl_dec_state *s, uint64_t allowed_mask, bool strict,
                                             uint64_t *flags);

/* ipv4Address: 4 address bytes then the port as uint16 LE (6 bytes).
 * Encode refuses an address that is not IPv4 (FL_ERR_INVALID). */
#define FL_ENC_IPV4_ADDRESS_BYTES 6
FL_API void fl_enc_ipv4_address_preencode(fl_enc_state *s, const fl_addr *a);
FL_API FL_MUST_CHECK int fl_enc_ipv4_address_encode(fl_enc_state *s, const fl_addr *a);
FL_API FL_MUST_CHECK int fl_enc_ipv4_address_decode(fl_dec_state *s, fl_addr *a);

/* ipv6Address: 16 address bytes then the port as uint16 LE (18 bytes). */
#define FL_ENC_IPV6_ADDRESS_BYTES 18
FL_API void fl_enc_ipv6_address_preencode(fl_enc_state *s, const fl_addr *a);
FL_API FL_MUST_CHECK int fl_enc_ipv6_address_encode(fl_enc_state *s, const fl_addr *a);
FL_API FL_MUST_CHECK int fl_enc_ipv6_address_decode(fl_dec_state *s, fl_addr *a);

/* ipAddress: a family byte (4 or 6), the address, then the port. Decode
 * follows the reference: family byte 4 reads IPv4, any other byte reads an
 * IPv6 address (and yields family FL_ADDR_IPV6). */
FL_API void fl_enc_ip_address_preencode(fl_enc_state *s, const fl_addr *a);
FL_API FL_MUST_CHECK int fl_enc_ip_address_encode(fl_enc_state *s, const fl_addr *a);
FL_API FL_MUST_CHECK int fl_enc_ip_address_decode(fl_dec_state *s, fl_addr *a);

#ifdef __cplusplus
}
#endif
#endif /* FLOCK_ENC_H */
