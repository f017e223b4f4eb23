/* Fuzz the length-prefixed buffer decoder: decode buffers until the first
 * error, re-encode, decode again. The contents must match byte for byte; the
 * length prefix is a varint, so the re-encoding may be shorter (never
 * longer) than the input when the input used non-minimal lengths. */
#include "enc/fuzz/fuzz_enc_util.h"

typedef struct {
  const uint8_t *p;
  size_t len;
} span;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  span *items = calloc(size + 1, sizeof *items);
  FZ_CHECK(items != NULL);
  fl_dec_state s, before;
  fl_dec_state_init(&s, data, size);
  size_t n = 0;
  for (;;) {
    before = s;
    span it = {data, 1};
    int rc = fl_enc_buffer_decode(&s, &it.p, &it.len);
    if (rc != FL_OK) {
      FZ_CHECK(rc == FL_ERR_DECODE && it.p == NULL && it.len == 0);
      FZ_CHECK_UNCHANGED(s, before);
      break;
    }
    /* The lent range lies inside the input and ends where the state now is. */
    FZ_CHECK(it.len == 0 ? it.p == NULL : (it.p >= data && it.p + it.len == data + s.start));
    items[n++] = it;
  }
  size_t consumed = s.start;

  fl_enc_state pre, e;
  fl_enc_state_init(&pre, NULL, 0);
  for (size_t i = 0; i < n; i++) fl_enc_buffer_preencode(&pre, items[i].len);
  FZ_CHECK(pre.end <= consumed);
  uint8_t *buf = fz_alloc(pre.end);
  fl_enc_state_init(&e, buf, pre.end);
  for (size_t i = 0; i < n; i++) FZ_CHECK(fl_enc_buffer_encode(&e, items[i].p, items[i].len) == FL_OK);
  FZ_CHECK(e.start == pre.end);

  fl_dec_state_init(&s, buf, e.start);
  for (size_t i = 0; i < n; i++) {
    span again;
    FZ_CHECK(fl_enc_buffer_decode(&s, &again.p, &again.len) == FL_OK);
    FZ_CHECK(again.len == items[i].len);
    if (again.len) FZ_CHECK(memcmp(again.p, items[i].p, again.len) == 0);
  }
  FZ_CHECK(s.start == s.end);
  free(buf);
  free(items);
  return 0;
}
