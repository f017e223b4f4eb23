/* Fuzz the array count decoder with the two guards callers rely on: the
 * count never exceeds min(max, FL_ENC_ARRAY_MAX), and never exceeds the
 * bytes left divided by the smallest element. The input is a header (mode
 * byte, max byte) and then arrays: of varint uints (mode 0), of
 * ipv4Addresses (mode 1), or bare counts with elem_min from the mode byte
 * (mode 2). Arrays decode until the first error, re-encode and decode again. */
#include "enc/fuzz/fuzz_enc_util.h"

typedef struct {
  uint64_t v;   /* mode 0 */
  fl_addr a;    /* mode 1 */
} elem;

static size_t elem_min_for(uint8_t mode) {
  return mode % 3 == 0 ? 1 : mode % 3 == 1 ? FL_ENC_IPV4_ADDRESS_BYTES : mode / 3u;
}

/* Decode one array; returns its element count or -1 at the first error.
 * The state is left where the array ended, or unchanged on error. */
static long decode_array(fl_dec_state *s, uint8_t mode, size_t max, elem *out) {
  fl_dec_state before = *s;
  size_t count = 7, emin = elem_min_for(mode);
  int rc = fl_enc_array_decode_len(s, max, emin, &count);
  if (rc != FL_OK) {
    FZ_CHECK(rc == FL_ERR_DECODE && count == 0);
    FZ_CHECK_UNCHANGED(*s, before);
    return -1;
  }
  FZ_CHECK(count <= max && count <= FL_ENC_ARRAY_MAX);
  if (emin) FZ_CHECK(count <= (s->end - s->start) / emin);
  if (mode % 3 == 2) return (long)count;
  for (size_t i = 0; i < count; i++) {
    rc = mode % 3 == 0 ? fl_enc_uint_decode(s, &out[i].v) : fl_enc_ipv4_address_decode(s, &out[i].a);
    if (rc != FL_OK) {
      FZ_CHECK(rc == FL_ERR_DECODE);
      *s = before; /* the array as a whole failed */
      return -1;
    }
  }
  return (long)count;
}

static void encode_array(fl_enc_state *e, uint8_t mode, const elem *el, size_t n, bool pre) {
  if (pre) fl_enc_array_len_preencode(e, n);
  else FZ_CHECK(fl_enc_array_len_encode(e, n) == FL_OK);
  if (mode % 3 == 2) return;
  for (size_t i = 0; i < n; i++) {
    if (mode % 3 == 0) {
      if (pre) fl_enc_uint_preencode(e, el[i].v);
      else FZ_CHECK(fl_enc_uint_encode(e, el[i].v) == FL_OK);
    } else {
      if (pre) fl_enc_ipv4_address_preencode(e, &el[i].a);
      else FZ_CHECK(fl_enc_ipv4_address_encode(e, &el[i].a) == FL_OK);
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  uint8_t mode = data[0];
  size_t max = data[1] == 0xff ? SIZE_MAX : (size_t)data[1] * 16;
  elem *els = calloc(size + 1, sizeof *els);
  long *counts = calloc(size + 1, sizeof *counts);
  FZ_CHECK(els != NULL && counts != NULL);
  fl_dec_state s;
  fl_dec_state_init(&s, data + 2, size - 2);
  size_t arrays = 0, total = 0;
  for (;;) {
    long c = decode_array(&s, mode, max, els + total);
    if (c < 0) break;
    counts[arrays++] = c;
    if (mode % 3 != 2) total += (size_t)c;
    if (c == 0 && s.start == s.end) break;
  }
  size_t consumed = s.start;

  fl_enc_state pre, e;
  fl_enc_state_init(&pre, NULL, 0);
  for (size_t i = 0, off = 0; i < arrays; off += mode % 3 != 2 ? (size_t)counts[i] : 0, i++)
    encode_array(&pre, mode, els + off, (size_t)counts[i], true);
  /* Mode 2 writes counts only, so it may be shorter by the skipped bytes. */
  FZ_CHECK(pre.end <= consumed);
  uint8_t *buf = fz_alloc(pre.end);
  fl_enc_state_init(&e, buf, pre.end);
  for (size_t i = 0, off = 0; i < arrays; off += mode % 3 != 2 ? (size_t)counts[i] : 0, i++)
    encode_array(&e, mode, els + off, (size_t)counts[i], false);
  FZ_CHECK(e.start == pre.end);

  /* Decode again with no caller max and elem_min 0 for bare counts, since
   * the re-encoding drops whatever bytes followed them. */
  elem *again = calloc(total + 1, sizeof *again);
  FZ_CHECK(again != NULL);
  fl_dec_state_init(&s, buf, e.start);
  uint8_t mode2 = mode % 3 == 2 ? 2 : mode;
  for (size_t i = 0, off = 0; i < arrays; i++) {
    long c = decode_array(&s, mode2, SIZE_MAX, again + off);
    FZ_CHECK(c == counts[i]);
    if (mode % 3 == 2) continue;
    for (long k = 0; k < c; k++) {
      FZ_CHECK(again[off + k].v == els[off + k].v);
      FZ_CHECK(fl_addr_equal(&again[off + k].a, &els[off + k].a) || mode % 3 == 0);
    }
    off += (size_t)c;
  }
  FZ_CHECK(s.start == s.end);
  free(again);
  free(buf);
  free(counts);
  free(els);
  return 0;
}
