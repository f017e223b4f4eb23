/* Fuzz the fixed-width decoders (uint8/16/24/32/64, bool, fixed(n)): the
 * input is a run of (selector byte, value) pairs. Everything here but bool
 * is canonical, so the re-encoding must equal the input bytes; bool is
 * compared by value (2 and 0xff read false and re-encode as 0). */
#include "enc/fuzz/fuzz_enc_util.h"

enum { K_U8, K_U16, K_U24, K_U32, K_U64, K_BOOL, K_FIXED, K_COUNT };

typedef struct {
  uint8_t kind;
  uint8_t sel;       /* the selector byte, re-encoded as a uint8 */
  uint64_t v;        /* integers and bool */
  const uint8_t *p;  /* fixed(n): lent from the input */
  size_t n;
} item;

/* fixed(n) takes its length from the selector so lengths up to 36 appear. */
static size_t fixed_len(uint8_t sel) { return sel / K_COUNT; }

static int decode_one(fl_dec_state *s, item *it) {
  uint8_t u8 = 0;
  uint16_t u16 = 0;
  uint32_t u32 = 0;
  bool b = false;
  int rc;
  switch (it->kind) {
    case K_U8: rc = fl_enc_uint8_decode(s, &u8); it->v = u8; FZ_CHECK(rc == FL_OK || u8 == 0); break;
    case K_U16: rc = fl_enc_uint16_decode(s, &u16); it->v = u16; FZ_CHECK(rc == FL_OK || u16 == 0); break;
    case K_U24:
      rc = fl_enc_uint24_decode(s, &u32);
      it->v = u32;
      FZ_CHECK(u32 <= 0xffffff);
      FZ_CHECK(rc == FL_OK || u32 == 0);
      break;
    case K_U32: rc = fl_enc_uint32_decode(s, &u32); it->v = u32; FZ_CHECK(rc == FL_OK || u32 == 0); break;
    case K_U64: it->v = 1; rc = fl_enc_uint64_decode(s, &it->v); FZ_CHECK(rc == FL_OK || it->v == 0); break;
    case K_BOOL: b = true; rc = fl_enc_bool_decode(s, &b); it->v = b; FZ_CHECK(rc == FL_OK || !b); break;
    default:
      it->n = fixed_len(it->sel);
      rc = fl_enc_fixed_decode(s, it->n, &it->p);
      FZ_CHECK(rc == FL_OK || it->p == NULL);
      break;
  }
  return rc;
}

static void preencode_one(fl_enc_state *e, const item *it) {
  fl_enc_uint8_preencode(e, it->sel);
  switch (it->kind) {
    case K_U8: fl_enc_uint8_preencode(e, (uint8_t)it->v); break;
    case K_U16: fl_enc_uint16_preencode(e, (uint16_t)it->v); break;
    case K_U24: fl_enc_uint24_preencode(e, (uint32_t)it->v); break;
    case K_U32: fl_enc_uint32_preencode(e, (uint32_t)it->v); break;
    case K_U64: fl_enc_uint64_preencode(e, it->v); break;
    case K_BOOL: fl_enc_bool_preencode(e, it->v != 0); break;
    default: fl_enc_fixed_preencode(e, it->n); break;
  }
}

static int encode_one(fl_enc_state *e, const item *it) {
  int rc = fl_enc_uint8_encode(e, it->sel);
  if (rc != FL_OK) return rc;
  switch (it->kind) {
    case K_U8: return fl_enc_uint8_encode(e, (uint8_t)it->v);
    case K_U16: return fl_enc_uint16_encode(e, (uint16_t)it->v);
    case K_U24: return fl_enc_uint24_encode(e, (uint32_t)it->v);
    case K_U32: return fl_enc_uint32_encode(e, (uint32_t)it->v);
    case K_U64: return fl_enc_uint64_encode(e, it->v);
    case K_BOOL: return fl_enc_bool_encode(e, it->v != 0);
    default: return fl_enc_fixed_encode(e, it->p, it->n);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  item *items = calloc(size + 1, sizeof *items);
  FZ_CHECK(items != NULL);
  fl_dec_state s, before;
  fl_dec_state_init(&s, data, size);
  size_t n = 0, consumed = 0;
  bool has_bool = false;
  for (;;) {
    item *it = &items[n];
    before = s;
    if (fl_enc_uint8_decode(&s, &it->sel) != FL_OK) break;
    it->kind = it->sel % K_COUNT;
    if (decode_one(&s, it) != FL_OK) {
      /* Only the value failed: the state is where the selector left it. */
      FZ_CHECK(s.start == before.start + 1);
      break;
    }
    has_bool |= it->kind == K_BOOL;
    consumed = s.start;
    n++;
  }

  fl_enc_state pre, e;
  fl_enc_state_init(&pre, NULL, 0);
  for (size_t i = 0; i < n; i++) preencode_one(&pre, &items[i]);
  FZ_CHECK(pre.end == consumed); /* every width is fixed */
  uint8_t *buf = fz_alloc(pre.end);
  fl_enc_state_init(&e, buf, pre.end);
  for (size_t i = 0; i < n; i++) FZ_CHECK(encode_one(&e, &items[i]) == FL_OK);
  FZ_CHECK(e.start == pre.end);
  if (!has_bool) FZ_CHECK(memcmp(buf, data, consumed) == 0);

  fl_dec_state_init(&s, buf, e.start);
  for (size_t i = 0; i < n; i++) {
    item again = {0};
    FZ_CHECK(fl_enc_uint8_decode(&s, &again.sel) == FL_OK && again.sel == items[i].sel);
    again.kind = again.sel % K_COUNT;
    FZ_CHECK(decode_one(&s, &again) == FL_OK);
    FZ_CHECK(again.v == items[i].v && again.n == items[i].n);
    if (again.n) FZ_CHECK(memcmp(again.p, items[i].p, again.n) == 0);
  }
  FZ_CHECK(s.start == s.end);
  free(buf);
  free(items);
  return 0;
}
