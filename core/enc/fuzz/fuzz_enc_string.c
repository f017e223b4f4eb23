/* Fuzz the string decoder and the UTF-8 check: decode strings until the
 * first error, re-encode, decode again (contents byte-equal; the varint
 * length may shrink). For each string, fl_enc_utf8_valid must agree with a
 * second, independent check written as a code-point decoder. */
#include "enc/fuzz/fuzz_enc_util.h"

/* Decode code points the slow way and apply the Unicode rules afterwards
 * (shortest form, no surrogates, at most U+10FFFF). */
static int utf8_valid_slow(const uint8_t *p, size_t len) {
  size_t i = 0;
  while (i < len) {
    uint8_t c = p[i];
    size_t n;
    uint32_t cp;
    if (c < 0x80) { n = 1; cp = c; }
    else if ((c & 0xe0) == 0xc0) { n = 2; cp = c & 0x1f; }
    else if ((c & 0xf0) == 0xe0) { n = 3; cp = c & 0x0f; }
    else if ((c & 0xf8) == 0xf0) { n = 4; cp = c & 0x07; }
    else return 0;
    if (len - i < n) return 0;
    for (size_t k = 1; k < n; k++) {
      if ((p[i + k] & 0xc0) != 0x80) return 0;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    static const uint32_t min_for_len[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_len[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    i += n;
  }
  return 1;
}

typedef struct {
  const char *p;
  size_t len;
} text;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  text *items = calloc(size + 1, sizeof *items);
  FZ_CHECK(items != NULL);
  FZ_CHECK(fl_enc_utf8_valid(data, size) == utf8_valid_slow(data, size));
  fl_dec_state s, before;
  fl_dec_state_init(&s, data, size);
  size_t n = 0;
  for (;;) {
    before = s;
    text it = {"x", 1};
    int rc = fl_enc_string_decode(&s, &it.p, &it.len);
    if (rc != FL_OK) {
      FZ_CHECK(rc == FL_ERR_DECODE && it.p == NULL && it.len == 0);
      FZ_CHECK_UNCHANGED(s, before);
      break;
    }
    const uint8_t *u = (const uint8_t *)it.p;
    FZ_CHECK(fl_enc_utf8_valid(u, it.len) == utf8_valid_slow(u, it.len));
    items[n++] = it;
  }
  size_t consumed = s.start;

  fl_enc_state pre, e;
  fl_enc_state_init(&pre, NULL, 0);
  for (size_t i = 0; i < n; i++) fl_enc_string_preencode(&pre, items[i].len);
  FZ_CHECK(pre.end <= consumed);
  uint8_t *buf = fz_alloc(pre.end);
  fl_enc_state_init(&e, buf, pre.end);
  for (size_t i = 0; i < n; i++) FZ_CHECK(fl_enc_string_encode(&e, items[i].p, items[i].len) == FL_OK);
  FZ_CHECK(e.start == pre.end);

  fl_dec_state_init(&s, buf, e.start);
  for (size_t i = 0; i < n; i++) {
    text again;
    FZ_CHECK(fl_enc_string_decode(&s, &again.p, &again.len) == FL_OK);
    FZ_CHECK(again.len == items[i].len);
    if (again.len) FZ_CHECK(memcmp(again.p, items[i].p, again.len) == 0);
  }
  FZ_CHECK(s.start == s.end);
  free(buf);
  free(items);
  return 0;
}
