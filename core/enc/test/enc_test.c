/* Integer codecs: varint uint at every width boundary, the fixed-width
 * uints, flags, and API misuse. Byte vectors come from compact-encoding@3.5.2
 * (the pytest suite cross-checks the same codecs against it at random). */
#include "enc/test/enc_test_util.h"

typedef struct {
  uint64_t v;
  size_t size;
  const char *hex;
} uint_vector;

/* The width boundaries on both sides, with the bytes the reference writes. */
static const uint_vector uint_vectors[] = {
    {0, 1, "00"},
    {1, 1, "01"},
    {0xfc, 1, "fc"},
    {0xfd, 3, "fdfd00"},
    {0xfe, 3, "fdfe00"},
    {0xff, 3, "fdff00"},
    {0x100, 3, "fd0001"},
    {0xffff, 3, "fdffff"},
    {0x10000, 5, "fe00000100"},
    {0xffffffffu, 5, "feffffffff"},
    {0x100000000ull, 9, "ff0000000001000000"},
    {(1ull << 53) - 1, 9, "ffffffffffffff1f00"},
    {1ull << 53, 9, "ff0000000000002000"},
    {0x8000000000000000ull, 9, "ff0000000000000080"},
    {UINT64_MAX, 9, "ffffffffffffffffff"},
};
#define N_UINT_VECTORS (sizeof uint_vectors / sizeof uint_vectors[0])

static void test_enc_uint_vectors_encode_to_reference_bytes(void) {
  for (size_t i = 0; i < N_UINT_VECTORS; i++) {
    const uint_vector *t = &uint_vectors[i];
    uint8_t want[9], got[9];
    fl_test_hex(want, t->size, t->hex);
    FL_CHECK_EQ(fl_enc_uint_size(t->v), t->size);
    FL_CHECK_EQ(enc_exact(&codec_uint, &t->v, got, sizeof got), t->size);
    FL_CHECK_MEM(got, want, t->size);
  }
}

static void test_enc_uint_vectors_decode_and_consume_exactly(void) {
  for (size_t i = 0; i < N_UINT_VECTORS; i++) {
    const uint_vector *t = &uint_vectors[i];
    uint8_t in[10];
    fl_test_hex(in, t->size, t->hex);
    in[t->size] = 0x77; /* a trailing byte the decoder must not take */
    fl_dec_state s;
    fl_dec_state_init(&s, in, t->size + 1);
    uint64_t v = 0;
    FL_CHECK_EQ(fl_enc_uint_decode(&s, &v), FL_OK);
    FL_CHECK(v == t->v);
    FL_CHECK_EQ(s.start, t->size);
  }
}

static void test_enc_uint_decode_rejects_every_truncation(void) {
  for (size_t i = 0; i < N_UINT_VECTORS; i++) {
    uint8_t in[9];
    fl_test_hex(in, uint_vectors[i].size, uint_vectors[i].hex);
    FL_CHECK_EQ(check_truncations(dec_uint, in, uint_vectors[i].size, sizeof(uint64_t)), 0);
  }
}

static void test_enc_uint_encode_refuses_small_buffers(void) {
  for (size_t i = 0; i < N_UINT_VECTORS; i++) {
    FL_CHECK_EQ(check_small_buffers(&codec_uint, &uint_vectors[i].v, uint_vectors[i].size), 0);
  }
}

static void test_enc_uint_decode_accepts_non_minimal_forms(void) {
  static const struct {
    const char *hex;
    size_t size;
    uint64_t v;
  } cases[] = {
      {"fd0500", 3, 5},
      {"fdfc00", 3, 0xfc},
      {"fe05000000", 5, 5},
      {"feffff0000", 5, 0xffff},
      {"ff0500000000000000", 9, 5},
      {"ffffffffff00000000", 9, 0xffffffffu},
      {"ff0000000000000000", 9, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint8_t in[9];
    fl_test_hex(in, cases[i].size, cases[i].hex);
    fl_dec_state s;
    fl_dec_state_init(&s, in, cases[i].size);
    uint64_t v = 1;
    FL_CHECK_EQ(fl_enc_uint_decode(&s, &v), FL_OK);
    FL_CHECK(v == cases[i].v);
    FL_CHECK_EQ(s.start, cases[i].size);
    /* Re-encoding gives the minimal form, so byte equality is not expected. */
    FL_CHECK(fl_enc_uint_size(v) <= cases[i].size);
  }
}

/* Seeded random values spread over every width: draw a width, then a value
 * inside it, so the short widths are not drowned out by 64-bit draws. */
static uint64_t rand_uint(uint64_t *rng) {
  uint64_t r = fl_test_rand(rng);
  switch (r % 5) {
    case 0: return r >> 56 & 0xff;
    case 1: return fl_test_rand(rng) & 0xffff;
    case 2: return fl_test_rand(rng) & 0xffffffffu;
    case 3: return fl_test_rand(rng) >> (fl_test_rand(rng) % 64);
    default: return fl_test_rand(rng);
  }
}

static void test_enc_uint_random_roundtrip_seeded(void) {
  uint64_t rng = fl_test_seed();
  size_t widths[10] = {0};
  for (int i = 0; i < 20000; i++) {
    uint64_t v = rand_uint(&rng), back = 0;
    uint8_t buf[9];
    size_t n = enc_exact(&codec_uint, &v, buf, sizeof buf);
    FL_CHECK(n == fl_enc_uint_size(v));
    widths[n]++;
    fl_dec_state s;
    fl_dec_state_init(&s, buf, n);
    FL_CHECK_EQ(fl_enc_uint_decode(&s, &back), FL_OK);
    FL_CHECK(back == v);
    FL_CHECK_EQ(s.start, n);
  }
  /* The distribution must really reach every width. */
  FL_CHECK(widths[1] > 0 && widths[3] > 0 && widths[5] > 0 && widths[9] > 0);
}

static void test_enc_uint_many_in_sequence(void) {
  uint8_t buf[9 * N_UINT_VECTORS];
  fl_enc_state pre, st;
  fl_enc_state_init(&pre, NULL, 0);
  for (size_t i = 0; i < N_UINT_VECTORS; i++) fl_enc_uint_preencode(&pre, uint_vectors[i].v);
  FL_CHECK(pre.end <= sizeof buf);
  fl_enc_state_init(&st, buf, pre.end);
  for (size_t i = 0; i < N_UINT_VECTORS; i++) FL_CHECK_EQ(fl_enc_uint_encode(&st, uint_vectors[i].v), FL_OK);
  FL_CHECK_EQ(st.start, pre.end);
  fl_dec_state s;
  fl_dec_state_init(&s, buf, st.start);
  for (size_t i = 0; i < N_UINT_VECTORS; i++) {
    uint64_t v;
    FL_CHECK_EQ(fl_enc_uint_decode(&s, &v), FL_OK);
    FL_CHECK(v == uint_vectors[i].v);
  }
  uint64_t extra = 9;
  FL_CHECK_EQ(fl_enc_uint_decode(&s, &extra), FL_ERR_DECODE);
  FL_CHECK(extra == 0);
}

/* ---- fixed-width ------------------------------------------------------------ */

static void test_enc_fixed_ints_boundaries_roundtrip(void) {
  uint8_t buf[8], want[8];
  uint8_t u8s[] = {0, 1, 0x7f, 0x80, 0xff};
  for (size_t i = 0; i < sizeof u8s; i++) {
    FL_CHECK_EQ(enc_exact(&codec_uint8, &u8s[i], buf, sizeof buf), 1);
    FL_CHECK_EQ(buf[0], u8s[i]);
    FL_CHECK_EQ(check_truncations(dec_uint8, buf, 1, 1), 0);
    FL_CHECK_EQ(check_small_buffers(&codec_uint8, &u8s[i], 1), 0);
  }
  uint16_t u16 = 0xbeef;
  FL_CHECK_EQ(enc_exact(&codec_uint16, &u16, buf, sizeof buf), 2);
  fl_test_hex(want, 2, "efbe");
  FL_CHECK_MEM(buf, want, 2);
  FL_CHECK_EQ(check_truncations(dec_uint16, buf, 2, 2), 0);
  FL_CHECK_EQ(check_small_buffers(&codec_uint16, &u16, 2), 0);
  uint32_t u24 = 0xffffff;
  FL_CHECK_EQ(enc_exact(&codec_uint24, &u24, buf, sizeof buf), 3);
  FL_CHECK_MEM(buf, "\xff\xff\xff", 3);
  FL_CHECK_EQ(check_truncations(dec_uint24, buf, 3, 4), 0);
  FL_CHECK_EQ(check_small_buffers(&codec_uint24, &u24, 3), 0);
  uint32_t u32 = 0x01020304;
  FL_CHECK_EQ(enc_exact(&codec_uint32, &u32, buf, sizeof buf), 4);
  fl_test_hex(want, 4, "04030201");
  FL_CHECK_MEM(buf, want, 4);
  FL_CHECK_EQ(check_truncations(dec_uint32, buf, 4, 4), 0);
  FL_CHECK_EQ(check_small_buffers(&codec_uint32, &u32, 4), 0);
  uint64_t u64s[] = {0, 0xffffffffu, 1ull << 53, UINT64_MAX, 0x0102030405060708ull};
  for (size_t i = 0; i < 5; i++) {
    FL_CHECK_EQ(enc_exact(&codec_uint64, &u64s[i], buf, sizeof buf), 8);
    FL_CHECK_EQ(check_truncations(dec_uint64, buf, 8, 8), 0);
    FL_CHECK_EQ(check_small_buffers(&codec_uint64, &u64s[i], 8), 0);
    fl_dec_state s;
    fl_dec_state_init(&s, buf, 8);
    uint64_t back = 0;
    FL_CHECK_EQ(fl_enc_uint64_decode(&s, &back), FL_OK);
    FL_CHECK(back == u64s[i]);
  }
  fl_test_hex(want, 8, "0807060504030201");
  FL_CHECK_MEM(buf, want, 8);
}

static void test_enc_fixed_ints_decode_values(void) {
  uint8_t in[8];
  fl_test_hex(in, 8, "0102030405060708");
  fl_dec_state s;
  uint16_t v16;
  uint32_t v24, v32;
  fl_dec_state_init(&s, in, 8);
  FL_CHECK_EQ(fl_enc_uint16_decode(&s, &v16), FL_OK);
  FL_CHECK_EQ(v16, 0x0201);
  FL_CHECK_EQ(fl_enc_uint24_decode(&s, &v24), FL_OK);
  FL_CHECK_EQ(v24, 0x050403);
  FL_CHECK_EQ(fl_enc_uint32_decode(&s, &v32), FL_ERR_DECODE); /* 3 bytes left */
  FL_CHECK_EQ(v32, 0);
  FL_CHECK_EQ(s.start, 5);
  FL_CHECK_EQ(fl_enc_uint24_decode(&s, &v24), FL_OK);
  FL_CHECK_EQ(v24, 0x080706);
  FL_CHECK_EQ(s.start, 8);
}

static void test_enc_uint24_encode_refuses_out_of_range(void) {
  uint8_t buf[4] = {0xaa, 0xaa, 0xaa, 0xaa};
  fl_enc_state st;
  fl_enc_state_init(&st, buf, sizeof buf);
  FL_CHECK_EQ(fl_enc_uint24_encode(&st, 0x1000000), FL_ERR_RANGE);
  FL_CHECK_EQ(fl_enc_uint24_encode(&st, UINT32_MAX), FL_ERR_RANGE);
  FL_CHECK_EQ(st.start, 0);
  FL_CHECK_EQ(buf[0], 0xaa);
}

/* ---- flags ------------------------------------------------------------------- */

static void test_enc_flags_strict_refuses_unknown_bits(void) {
  uint8_t buf[9];
  uint64_t f = 0x1f;
  FL_CHECK_EQ(enc_exact(&codec_flags, &f, buf, sizeof buf), 1);
  fl_dec_state s;
  uint64_t got = 7;
  fl_dec_state_init(&s, buf, 1);
  FL_CHECK_EQ(fl_enc_flags_decode(&s, 0x0f, true, &got), FL_ERR_DECODE);
  FL_CHECK_EQ(got, 0);
  FL_CHECK_EQ(s.start, 0);
  FL_CHECK_EQ(fl_enc_flags_decode(&s, 0x1f, true, &got), FL_OK);
  FL_CHECK_EQ(got, 0x1f);
  /* Lenient: unknown bits are kept for the caller, as the reference ignores them. */
  fl_dec_state_init(&s, buf, 1);
  FL_CHECK_EQ(fl_enc_flags_decode(&s, 0x0f, false, &got), FL_OK);
  FL_CHECK_EQ(got, 0x1f);
  /* Flags are a varint, so wide words and non-minimal forms work too. */
  uint64_t wide = 1ull << 40;
  FL_CHECK_EQ(enc_exact(&codec_flags, &wide, buf, sizeof buf), 9);
  FL_CHECK_EQ(check_truncations(dec_flags, buf, 9, 8), 0);
  FL_CHECK_EQ(check_small_buffers(&codec_flags, &wide, 9), 0);
}

/* ---- misuse -------------------------------------------------------------------- */

static void test_enc_misuse_returns_invalid(void) {
  uint8_t buf[16] = {0};
  uint64_t v = 5;
  fl_dec_state d;
  fl_dec_state_init(&d, buf, sizeof buf);
  FL_CHECK_EQ(fl_enc_uint_decode(NULL, &v), FL_ERR_INVALID);
  FL_CHECK_EQ(v, 0);
  FL_CHECK_EQ(fl_enc_uint_decode(&d, NULL), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_enc_uint64_decode(&d, NULL), FL_ERR_INVALID);
  d.start = 17; /* past end: a caller bug, not bad input */
  FL_CHECK_EQ(fl_enc_uint8_decode(&d, (uint8_t *)buf), FL_ERR_INVALID);
  FL_CHECK_EQ(d.start, 17);
  fl_dec_state nobuf = {NULL, 0, 4};
  FL_CHECK_EQ(fl_enc_uint_decode(&nobuf, &v), FL_ERR_INVALID);
  fl_dec_state empty = {NULL, 0, 0};
  FL_CHECK_EQ(fl_enc_uint_decode(&empty, &v), FL_ERR_DECODE);

  fl_enc_state e;
  fl_enc_state_init(&e, NULL, 0);
  FL_CHECK_EQ(fl_enc_uint_encode(&e, 1), FL_ERR_INVALID); /* preencode state */
  FL_CHECK_EQ(fl_enc_uint_encode(NULL, 1), FL_ERR_INVALID);
  fl_enc_state_init(&e, buf, sizeof buf);
  e.start = 20;
  FL_CHECK_EQ(fl_enc_uint32_encode(&e, 1), FL_ERR_INVALID);
  FL_CHECK_EQ(e.start, 20);
  fl_enc_uint_preencode(NULL, 1); /* must not crash */
  fl_dec_state_init(NULL, buf, 1);
  fl_enc_state_init(NULL, buf, 1);
}

static void test_enc_preencode_saturates_instead_of_wrapping(void) {
  fl_enc_state e;
  fl_enc_state_init(&e, NULL, 0);
  e.end = SIZE_MAX - 2;
  fl_enc_buffer_preencode(&e, 100);
  FL_CHECK(e.end == SIZE_MAX);
  fl_enc_uint_preencode(&e, 1);
  FL_CHECK(e.end == SIZE_MAX);
}

static void test_enc_state_init(void) {
  uint8_t buf[3];
  fl_enc_state e;
  fl_enc_state_init(&e, buf, 3);
  FL_CHECK(e.buf == buf && e.start == 0 && e.end == 3);
  fl_enc_state_init(&e, NULL, 3);
  FL_CHECK(e.buf == NULL && e.start == 0 && e.end == 0);
  fl_dec_state d;
  fl_dec_state_init(&d, buf, 2);
  FL_CHECK(d.buf == buf && d.start == 0 && d.end == 2);
  FL_CHECK_EQ(fl_enc_array_max(), FL_ENC_ARRAY_MAX);
}

int main(void) {
  FL_RUN(test_enc_uint_vectors_encode_to_reference_bytes);
  FL_RUN(test_enc_uint_vectors_decode_and_consume_exactly);
  FL_RUN(test_enc_uint_decode_rejects_every_truncation);
  FL_RUN(test_enc_uint_encode_refuses_small_buffers);
  FL_RUN(test_enc_uint_decode_accepts_non_minimal_forms);
  FL_RUN(test_enc_uint_random_roundtrip_seeded);
  FL_RUN(test_enc_uint_many_in_sequence);
  FL_RUN(test_enc_fixed_ints_boundaries_roundtrip);
  FL_RUN(test_enc_fixed_ints_decode_values);
  FL_RUN(test_enc_uint24_encode_refuses_out_of_range);
  FL_RUN(test_enc_flags_strict_refuses_unknown_bits);
  FL_RUN(test_enc_misuse_returns_invalid);
  FL_RUN(test_enc_preencode_saturates_instead_of_wrapping);
  FL_RUN(test_enc_state_init);
  return fl_test_done();
}
