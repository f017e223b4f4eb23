/* Byte codecs: fixed(n), buffer, string (+ UTF-8 check), bool and the array
 * count with its limits. */
#include "enc/test/enc_test_util.h"
#include "testing/fl_log.h"

static void fill_pattern(uint8_t *p, size_t n, uint8_t seed) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(seed + i * 7);
}

/* ---- fixed --------------------------------------------------------------------- */

static void test_enc_fixed32_fixed64_roundtrip_and_truncation(void) {
  uint8_t key[64], buf[64];
  fill_pattern(key, sizeof key, 3);
  size_t sizes[] = {32, 64};
  dec_fn decs[] = {dec_fixed32, dec_fixed64};
  for (int i = 0; i < 2; i++) {
    lent_bytes v = {key, sizes[i]};
    FL_CHECK_EQ(enc_exact(&codec_fixed, &v, buf, sizeof buf), sizes[i]);
    FL_CHECK_MEM(buf, key, sizes[i]);
    FL_CHECK_EQ(check_truncations(decs[i], buf, sizes[i], sizeof(void *)), 0);
    FL_CHECK_EQ(check_small_buffers(&codec_fixed, &v, sizes[i]), 0);
    /* Decode lends a pointer into the input; decode_copy copies. */
    fl_dec_state s;
    const uint8_t *p = NULL;
    fl_dec_state_init(&s, buf, sizes[i]);
    FL_CHECK_EQ(fl_enc_fixed_decode(&s, sizes[i], &p), FL_OK);
    FL_CHECK(p == buf);
    uint8_t copy[64];
    fl_dec_state_init(&s, buf, sizes[i]);
    FL_CHECK_EQ(fl_enc_fixed_decode_copy(&s, copy, sizes[i]), FL_OK);
    FL_CHECK_MEM(copy, key, sizes[i]);
    memset(copy, 0xaa, sizeof copy);
    fl_dec_state_init(&s, buf, sizes[i] - 1);
    FL_CHECK_EQ(fl_enc_fixed_decode_copy(&s, copy, sizes[i]), FL_ERR_DECODE);
    FL_CHECK(all_zero(copy, sizes[i]));
    FL_CHECK_EQ(s.start, 0);
  }
}

static void test_enc_fixed_misuse(void) {
  uint8_t buf[4];
  fl_enc_state e;
  fl_enc_state_init(&e, buf, sizeof buf);
  FL_CHECK_EQ(fl_enc_fixed_encode(&e, NULL, 2), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_enc_fixed_encode(&e, NULL, 0), FL_OK);
  FL_CHECK_EQ(e.start, 0);
  fl_dec_state d;
  fl_dec_state_init(&d, buf, sizeof buf);
  FL_CHECK_EQ(fl_enc_fixed_decode(&d, 1, NULL), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_enc_fixed_decode_copy(&d, NULL, 1), FL_ERR_INVALID);
  FL_CHECK_EQ(d.start, 0);
}

/* ---- buffer ---------------------------------------------------------------------- */

static void test_enc_buffer_lengths_at_varint_boundaries(void) {
  size_t lens[] = {0, 1, 0xfc, 0xfd, 0xffff, 0x10000};
  size_t prefix[] = {1, 1, 1, 3, 3, 5};
  size_t cap = 0x10000 + 5;
  uint8_t *data = malloc(0x10000), *buf = malloc(cap);
  FL_CHECK(data && buf);
  fill_pattern(data, 0x10000, 11);
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    lent_bytes v = {data, lens[i]};
    size_t n = enc_exact(&codec_buffer, &v, buf, cap);
    if (n != prefix[i] + lens[i]) break;
    fl_dec_state s;
    lent_bytes got = {NULL, 99};
    fl_dec_state_init(&s, buf, n);
    if (fl_enc_buffer_decode(&s, &got.p, &got.len) != FL_OK || got.len != lens[i] ||
        s.start != n)
      break;
    /* A zero length lends (NULL, 0), as the reference's optionalBuffer reads null. */
    if (lens[i] == 0 ? got.p != NULL : (got.p != buf + prefix[i] || memcmp(got.p, data, lens[i])))
      break;
    if (lens[i] <= 0xfd && check_truncations(dec_buffer, buf, n, sizeof got)) break;
    if (lens[i] <= 0xfd && check_small_buffers(&codec_buffer, &v, n)) break;
    lens[i] = SIZE_MAX; /* mark done */
  }
  free(data);
  free(buf);
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) FL_CHECK(lens[i] == SIZE_MAX);
}

static void test_enc_buffer_decode_rejects_over_long_lengths(void) {
  static const char *cases[] = {
      "05aabbccdd",                   /* says 5, has 4 */
      "fd0001aa",                     /* says 256, has 1 */
      "fdfd00",                       /* says 253, has 0 */
      "feffffffff00",                 /* says 2^32-1 */
      "ffffffffffffffffff00",         /* says 2^64-1: must not wrap a size_t */
      "ff0000000000000080aa",         /* says 2^63 */
      "fffffffffffffffffe",           /* 2^64-2 with nothing after */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint8_t in[16];
    size_t n = strlen(cases[i]) / 2;
    fl_test_hex(in, n, cases[i]);
    fl_dec_state s;
    fl_dec_state_init(&s, in, n);
    lent_bytes got = {in, 7};
    FL_CHECK_EQ(fl_enc_buffer_decode(&s, &got.p, &got.len), FL_ERR_DECODE);
    FL_CHECK(got.p == NULL && got.len == 0);
    FL_CHECK_EQ(s.start, 0);
    const char *sp = "x";
    size_t sl = 3;
    FL_CHECK_EQ(fl_enc_string_decode(&s, &sp, &sl), FL_ERR_DECODE);
    FL_CHECK(sp == NULL && sl == 0);
  }
}

static void test_enc_buffer_decode_honours_start_and_end(void) {
  /* Two buffers back to back, then a bound that cuts the second short. */
  uint8_t in[] = {0x02, 'h', 'i', 0x03, 'a', 'b', 'c'};
  fl_dec_state s;
  fl_dec_state_init(&s, in, sizeof in - 1);
  const uint8_t *p;
  size_t len;
  FL_CHECK_EQ(fl_enc_buffer_decode(&s, &p, &len), FL_OK);
  FL_CHECK(len == 2 && p == in + 1);
  FL_CHECK_EQ(fl_enc_buffer_decode(&s, &p, &len), FL_ERR_DECODE);
  FL_CHECK_EQ(s.start, 3);
  s.end = sizeof in;
  FL_CHECK_EQ(fl_enc_buffer_decode(&s, &p, &len), FL_OK);
  FL_CHECK(len == 3 && p == in + 4);
}

/* ---- string ---------------------------------------------------------------------- */

static void test_enc_string_passes_bytes_unvalidated(void) {
  static const char *texts[] = {"", "hello", "h\xc3\xa9llo \xf0\x9f\x90\xa6", "\xff\xfe", "a\xc3",
                                "\xed\xa0\x80"};
  uint8_t buf[64];
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    lent_bytes v = {(const uint8_t *)texts[i], strlen(texts[i])};
    size_t n = enc_exact(&codec_string, &v, buf, sizeof buf);
    FL_CHECK_EQ(n, 1 + v.len);
    FL_CHECK_EQ(check_truncations(dec_string, buf, n, sizeof(lent_bytes)), 0);
    FL_CHECK_EQ(check_small_buffers(&codec_string, &v, n), 0);
    fl_dec_state s;
    const char *p;
    size_t len;
    fl_dec_state_init(&s, buf, n);
    FL_CHECK_EQ(fl_enc_string_decode(&s, &p, &len), FL_OK);
    FL_CHECK_EQ(len, v.len);
    if (len) FL_CHECK_MEM(p, texts[i], len);
  }
}

static void test_enc_utf8_valid_table(void) {
  static const struct {
    const char *s;
    int valid;
  } cases[] = {
      {"", 1},
      {"ascii", 1},
      {"\xc3\xa9", 1},                 /* U+00E9 */
      {"\xe2\x82\xac", 1},             /* U+20AC */
      {"\xf0\x9f\x90\xa6", 1},         /* U+1F426 */
      {"\xf4\x8f\xbf\xbf", 1},         /* U+10FFFF, the last */
      {"\xef\xbf\xbd", 1},             /* U+FFFD */
      {"\x80", 0},                     /* stray continuation */
      {"\xc3", 0},                     /* truncated */
      {"\xe2\x82", 0},                 /* truncated */
      {"\xc0\x80", 0},                 /* overlong NUL */
      {"\xc1\xbf", 0},                 /* overlong */
      {"\xe0\x80\xaf", 0},             /* overlong '/' */
      {"\xf0\x80\x80\xaf", 0},         /* overlong */
      {"\xed\xa0\x80", 0},             /* surrogate U+D800 */
      {"\xed\xbf\xbf", 0},             /* surrogate U+DFFF */
      {"\xf4\x90\x80\x80", 0},         /* U+110000 */
      {"\xf5\x80\x80\x80", 0},         /* bad lead */
      {"\xff", 0},
      {"\xc3\x28", 0},                 /* bad continuation */
      {"\xe2\x28\xa1", 0},
      {"\xf0\x9f\x90\x28", 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const uint8_t *p = (const uint8_t *)cases[i].s;
    if (fl_enc_utf8_valid(p, strlen(cases[i].s)) != cases[i].valid) {
      fl_test_err("  utf8 case %zu\n", i);
      FL_CHECK(0);
    }
  }
  FL_CHECK_EQ(fl_enc_utf8_valid(NULL, 0), 1);
  FL_CHECK_EQ(fl_enc_utf8_valid(NULL, 1), 0);
  /* A sequence valid on its own is invalid when cut by len. */
  FL_CHECK_EQ(fl_enc_utf8_valid((const uint8_t *)"\xf0\x9f\x90\xa6", 3), 0);
}

/* ---- bool ------------------------------------------------------------------------ */

static void test_enc_bool_lenient_like_reference(void) {
  uint8_t buf[1];
  bool t = true, f = false;
  FL_CHECK_EQ(enc_exact(&codec_bool, &t, buf, 1), 1);
  FL_CHECK_EQ(buf[0], 1);
  FL_CHECK_EQ(check_truncations(dec_bool, buf, 1, sizeof(bool)), 0);
  FL_CHECK_EQ(check_small_buffers(&codec_bool, &t, 1), 0);
  FL_CHECK_EQ(enc_exact(&codec_bool, &f, buf, 1), 1);
  FL_CHECK_EQ(buf[0], 0);
  /* Only byte 1 is true; the reference reads 2 and 0xff as false. */
  for (int b = 0; b < 256; b++) {
    uint8_t in = (uint8_t)b;
    bool v = !(b == 1);
    fl_dec_state s;
    fl_dec_state_init(&s, &in, 1);
    FL_CHECK_EQ(fl_enc_bool_decode(&s, &v), FL_OK);
    FL_CHECK_EQ(v, b == 1);
    FL_CHECK_EQ(s.start, 1);
  }
}

/* ---- array count ---------------------------------------------------------------- */

static int decode_count(const uint8_t *in, size_t n, size_t max, size_t elem_min, size_t *count,
                        size_t *start) {
  fl_dec_state s;
  fl_dec_state_init(&s, in, n);
  int rc = fl_enc_array_decode_len(&s, max, elem_min, count);
  *start = s.start;
  return rc;
}

static void test_enc_array_count_limits(void) {
  uint8_t buf[16];
  size_t count, start;
  size_t max = FL_ENC_ARRAY_MAX;
  FL_CHECK_EQ(enc_exact(&codec_array_len, &max, buf, sizeof buf), 5);
  /* Exactly the reference's limit is accepted (with elem_min 0)... */
  FL_CHECK_EQ(decode_count(buf, 5, SIZE_MAX, 0, &count, &start), FL_OK);
  FL_CHECK_EQ(count, FL_ENC_ARRAY_MAX);
  FL_CHECK_EQ(start, 5);
  FL_CHECK_EQ(check_truncations(dec_array_len, buf, 5, sizeof(size_t)), 0);
  /* ...one more is not, whatever max the caller passes. */
  fl_test_hex(buf, 5, "fe01001000");
  FL_CHECK_EQ(decode_count(buf, 5, SIZE_MAX, 0, &count, &start), FL_ERR_DECODE);
  FL_CHECK(count == 0 && start == 0);
  fl_test_hex(buf, 9, "ffffffffffffffffff");
  FL_CHECK_EQ(decode_count(buf, 9, SIZE_MAX, 0, &count, &start), FL_ERR_DECODE);
  /* The caller's own max. */
  fl_test_hex(buf, 1, "14");
  FL_CHECK_EQ(decode_count(buf, 1, 20, 0, &count, &start), FL_OK);
  FL_CHECK_EQ(count, 20);
  FL_CHECK_EQ(decode_count(buf, 1, 19, 0, &count, &start), FL_ERR_DECODE);
  FL_CHECK_EQ(start, 0);
  FL_CHECK_EQ(decode_count(buf, 1, 0, 0, &count, &start), FL_ERR_DECODE);
  /* Encode refuses what the reference could not decode. */
  fl_enc_state e;
  fl_enc_state_init(&e, buf, sizeof buf);
  FL_CHECK_EQ(fl_enc_array_len_encode(&e, FL_ENC_ARRAY_MAX + 1), FL_ERR_RANGE);
  FL_CHECK_EQ(e.start, 0);
  size_t n = 300;
  FL_CHECK_EQ(check_small_buffers(&codec_array_len, &n, 3), 0);
}

static void test_enc_array_count_cannot_exceed_remaining_bytes(void) {
  /* Count 3 of 6-byte elements: needs 18 bytes after the count. */
  uint8_t in[1 + 18] = {3};
  size_t count, start;
  FL_CHECK_EQ(decode_count(in, sizeof in, 100, 6, &count, &start), FL_OK);
  FL_CHECK_EQ(count, 3);
  FL_CHECK_EQ(start, 1);
  FL_CHECK_EQ(decode_count(in, sizeof in - 1, 100, 6, &count, &start), FL_ERR_DECODE);
  FL_CHECK(count == 0 && start == 0);
  /* A huge elem_min must not overflow the check. */
  FL_CHECK_EQ(decode_count(in, sizeof in, 100, SIZE_MAX, &count, &start), FL_ERR_DECODE);
  in[0] = 0;
  FL_CHECK_EQ(decode_count(in, 1, 100, SIZE_MAX, &count, &start), FL_OK);
  FL_CHECK_EQ(count, 0);
  /* A forged count near the limit with nothing behind it. */
  uint8_t forged[5];
  fl_test_hex(forged, 5, "fe00001000");
  FL_CHECK_EQ(decode_count(forged, 5, SIZE_MAX, 1, &count, &start), FL_ERR_DECODE);
}

static void test_enc_array_of_addresses_roundtrip(void) {
  fl_addr addrs[5];
  for (int i = 0; i < 5; i++) addrs[i] = fl_addr_ipv4(127, 0, 0, (uint8_t)(i + 1), (uint16_t)(40000 + i));
  fl_enc_state pre, e;
  fl_enc_state_init(&pre, NULL, 0);
  fl_enc_array_len_preencode(&pre, 5);
  for (int i = 0; i < 5; i++) fl_enc_ipv4_address_preencode(&pre, &addrs[i]);
  FL_CHECK_EQ(pre.end, 1 + 5 * 6);
  uint8_t buf[31];
  fl_enc_state_init(&e, buf, sizeof buf);
  FL_CHECK_EQ(fl_enc_array_len_encode(&e, 5), FL_OK);
  for (int i = 0; i < 5; i++) FL_CHECK_EQ(fl_enc_ipv4_address_encode(&e, &addrs[i]), FL_OK);
  FL_CHECK_EQ(e.start, sizeof buf);
  fl_dec_state d;
  fl_dec_state_init(&d, buf, sizeof buf);
  size_t n;
  FL_CHECK_EQ(fl_enc_array_decode_len(&d, 20, FL_ENC_IPV4_ADDRESS_BYTES, &n), FL_OK);
  FL_CHECK_EQ(n, 5);
  for (size_t i = 0; i < n; i++) {
    fl_addr a;
    FL_CHECK_EQ(fl_enc_ipv4_address_decode(&d, &a), FL_OK);
    FL_CHECK(fl_addr_equal(&a, &addrs[i]));
  }
  FL_CHECK_EQ(d.start, d.end);
}

int main(void) {
  FL_RUN(test_enc_fixed32_fixed64_roundtrip_and_truncation);
  FL_RUN(test_enc_fixed_misuse);
  FL_RUN(test_enc_buffer_lengths_at_varint_boundaries);
  FL_RUN(test_enc_buffer_decode_rejects_over_long_lengths);
  FL_RUN(test_enc_buffer_decode_honours_start_and_end);
  FL_RUN(test_enc_string_passes_bytes_unvalidated);
  FL_RUN(test_enc_utf8_valid_table);
  FL_RUN(test_enc_bool_lenient_like_reference);
  FL_RUN(test_enc_array_count_limits);
  FL_RUN(test_enc_array_count_cannot_exceed_remaining_bytes);
  FL_RUN(test_enc_array_of_addresses_roundtrip);
  return fl_test_done();
}
