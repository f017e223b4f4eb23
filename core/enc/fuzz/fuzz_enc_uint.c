/* Fuzz the varint uint and flags decoders: decode a run of varints until
 * the first error, re-encode, decode again. Varints are compared by value
 * (non-minimal forms decode, then re-encode shorter); the re-encoding must be
 * the minimal form, so never longer than what was read. */
#include "enc/fuzz/fuzz_enc_util.h"

static void check_flags(const uint8_t *data, size_t size) {
  fl_dec_state s, before;
  fl_dec_state_init(&s, data, size);
  uint64_t lenient = 0, strict = 0;
  before = s;
  int rc = fl_enc_flags_decode(&s, UINT64_MAX, false, &lenient);
  if (rc != FL_OK) {
    FZ_CHECK(rc == FL_ERR_DECODE && lenient == 0);
    FZ_CHECK_UNCHANGED(s, before);
    return;
  }
  /* Strict with the dht-rpc request mask: accepts exactly the words inside it. */
  fl_dec_state t;
  fl_dec_state_init(&t, data, size);
  rc = fl_enc_flags_decode(&t, 0x1f, true, &strict);
  if (lenient & ~(uint64_t)0x1f) {
    FZ_CHECK(rc == FL_ERR_DECODE && strict == 0 && t.start == 0);
  } else {
    FZ_CHECK(rc == FL_OK && strict == lenient && t.start == s.start);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint64_t *vals = malloc((size + 1) * sizeof *vals);
  FZ_CHECK(vals != NULL);
  fl_dec_state s, before;
  fl_dec_state_init(&s, data, size);
  size_t n = 0;
  for (;;) {
    before = s;
    uint64_t v = 1;
    int rc = fl_enc_uint_decode(&s, &v);
    if (rc != FL_OK) {
      FZ_CHECK(rc == FL_ERR_DECODE && v == 0);
      FZ_CHECK_UNCHANGED(s, before);
      break;
    }
    FZ_CHECK(s.start > before.start && s.start <= s.end);
    vals[n++] = v;
  }
  size_t consumed = s.start;

  fl_enc_state pre, e;
  fl_enc_state_init(&pre, NULL, 0);
  for (size_t i = 0; i < n; i++) fl_enc_uint_preencode(&pre, vals[i]);
  FZ_CHECK(pre.end <= consumed);
  uint8_t *buf = fz_alloc(pre.end);
  fl_enc_state_init(&e, buf, pre.end);
  for (size_t i = 0; i < n; i++) FZ_CHECK(fl_enc_uint_encode(&e, vals[i]) == FL_OK);
  FZ_CHECK(e.start == pre.end);

  fl_dec_state_init(&s, buf, e.start);
  for (size_t i = 0; i < n; i++) {
    uint64_t v;
    FZ_CHECK(fl_enc_uint_decode(&s, &v) == FL_OK);
    FZ_CHECK(v == vals[i]);
  }
  FZ_CHECK(s.start == s.end);
  free(buf);
  free(vals);
  check_flags(data, size);
  return 0;
}
