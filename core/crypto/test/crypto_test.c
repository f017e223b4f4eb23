/*
 * crypto_test.c — the libsodium wrappers of flock/crypto.h against published
 * known answers (RFC 7693, RFC 8032, RFC 7748, RFC 8439, spec/noise.md) and
 * their failure contracts: the exact error code, outputs zeroed, and state
 * left unchanged after a refused message.
 */
#include "flock/crypto.h"

#include <sodium.h>
#include <string.h>

#include "testing/fl_test.h"

/* Decodes exactly `len` bytes of hex; a bad vector string is a test bug. */
static void unhex(uint8_t *out, size_t len, const char *hex) {
  size_t bin_len = 0;
  int rc = sodium_hex2bin(out, len, hex, strlen(hex), NULL, &bin_len, NULL);
  if (rc != 0 || bin_len != len) {
    fl_test_err("bad hex vector (want %zu bytes): %.40s...\n", len, hex);
    abort();
  }
}

static int is_zero(const uint8_t *p, size_t len) { return sodium_is_zero(p, len); }

/* A deterministic stream for test inputs, from FL_TEST_SEED. */
static fl_drbg test_rng;
static void test_rng_init(uint8_t salt) {
  uint8_t seed[FL_DRBG_SEED_BYTES] = {0};
  uint64_t s = fl_test_seed();
  memcpy(seed, &s, sizeof s);
  seed[31] = salt;
  fl_drbg_init(&test_rng, seed);
}

/* ---- BLAKE2b ------------------------------------------------------------- */

static void test_blake2b_512_rfc7693_abc(void) {
  uint8_t want[64], got[64];
  unhex(want, 64,
        "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
        "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
  FL_CHECK_EQ(fl_crypto_hash(got, 64, (const uint8_t *)"abc", 3), 0);
  FL_CHECK_MEM(got, want, 64);
}

static void test_blake2b_256_abc(void) {
  uint8_t want[32], got[32];
  /* BLAKE2b with a 32-byte digest is a different hash (the length is in the
   * parameter block), not a truncation of the 512-bit one. */
  unhex(want, 32, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
  FL_CHECK_EQ(fl_crypto_hash(got, FL_HASH_BYTES, (const uint8_t *)"abc", 3), 0);
  FL_CHECK_MEM(got, want, 32);
}

static void test_blake2b_keyed_kat(void) {
  /* blake2b-kat.txt (BLAKE2 reference), first keyed entry: empty input,
   * key 00 01 .. 3f. */
  uint8_t key[64], want[64], got[64];
  for (int i = 0; i < 64; i++) key[i] = (uint8_t)i;
  unhex(want, 64,
        "10ebb67700b1868efb4417987acf4690ae9d972fb7a590c2f02871799aaa4786"
        "b5e996e8f0f4eb981fc214b005f42d2ff4233499391653df7aefcbc13fc51568");
  FL_CHECK_EQ(fl_crypto_hash_keyed(got, 64, NULL, 0, key, 64), 0);
  FL_CHECK_MEM(got, want, 64);
  /* A different key gives a different hash; no key is the plain hash. */
  uint8_t other[64], plain[64];
  key[0] ^= 1;
  FL_CHECK_EQ(fl_crypto_hash_keyed(other, 64, NULL, 0, key, 64), 0);
  FL_CHECK(memcmp(other, want, 64) != 0);
  FL_CHECK_EQ(fl_crypto_hash_keyed(plain, 64, NULL, 0, NULL, 0), 0);
  FL_CHECK_EQ(fl_crypto_hash(other, 64, NULL, 0), 0);
  FL_CHECK_MEM(plain, other, 64);
}

static void test_hash_parts_equals_hash_of_concatenation(void) {
  test_rng_init(1);
  uint8_t buf[600], key[32];
  fl_drbg_bytes(&test_rng, buf, sizeof buf);
  fl_drbg_bytes(&test_rng, key, sizeof key);
  for (int round = 0; round < 50; round++) {
    fl_slice parts[5];
    size_t off = 0;
    for (int i = 0; i < 5; i++) {
      size_t len = (size_t)fl_drbg_uniform(&test_rng, 121); /* 0 included */
      parts[i].p = buf + off;
      parts[i].len = len;
      off += len;
    }
    size_t out_len = 16 + (size_t)fl_drbg_uniform(&test_rng, 49);
    size_t key_len = (round & 1) ? 32 : 0;
    uint8_t a[64], b[64];
    FL_CHECK_EQ(fl_crypto_hash_parts(a, out_len, parts, 5, key_len ? key : NULL, key_len), 0);
    FL_CHECK_EQ(fl_crypto_hash_keyed(b, out_len, buf, off, key, key_len), 0);
    FL_CHECK_MEM(a, b, out_len);
  }
  uint8_t a[32], b[32];
  FL_CHECK_EQ(fl_crypto_hash_parts(a, 32, NULL, 0, NULL, 0), 0);
  FL_CHECK_EQ(fl_crypto_hash(b, 32, NULL, 0), 0);
  FL_CHECK_MEM(a, b, 32);
}

static void test_hash_refuses_misuse(void) {
  uint8_t out[64], key[65] = {0};
  fl_slice bad = {NULL, 3};
  FL_CHECK_EQ(fl_crypto_hash(out, 15, (const uint8_t *)"x", 1), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_hash(out, 65, (const uint8_t *)"x", 1), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_hash(NULL, 32, (const uint8_t *)"x", 1), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_hash(out, 32, NULL, 1), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_hash_keyed(out, 32, NULL, 0, key, 15), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_hash_keyed(out, 32, NULL, 0, key, 65), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_hash_keyed(out, 32, NULL, 0, NULL, 32), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_hash_parts(out, 32, &bad, 1, NULL, 0), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_hash_parts(out, 32, NULL, 2, NULL, 0), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_hash_keyed(out, 16, NULL, 0, key, 16), 0);
  FL_CHECK_EQ(fl_crypto_hash_keyed(out, 64, NULL, 0, key, 64), 0);
}

/* ---- Namespaces (spec/noise.md section 2) --------------------------------- */

static void test_namespace_hyperdht_constants(void) {
  static const struct {
    int id;
    const char *hex;
  } ns[] = {
      {FL_NS_PEER_HANDSHAKE, "14d6d4b49214ab1033ed204976caa258bae9e1e8543b9ad1fd996a910b0c4e3a"},
      {FL_NS_PEER_HOLEPUNCH, "f1191cd5e67b10b54a507033280ed1ff0e12278268d5679c8f93d417210d168b"},
      {FL_NS_ANNOUNCE, "36386adddf9f6fd60db83a6f42fc159d1146aa8644037664230aaa1f0179d497"},
      {FL_NS_UNANNOUNCE, "ded293cd93fb395e756ecf5fff426529e72c36eacc22e5ed944d9099a2561e32"},
      {FL_NS_MUTABLE_PUT, "668e823edd5ce7f5338d68bf1161f4a3c28ce437ee2ab49efd30d99366039b1e"},
      {FL_NS_PLUGIN, "6b8a2a8623f28c6c02a1e22abe515ce31cafd9af61d4b69970639aa7eb96a8d5"},
  };
  for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
    uint8_t want[32], got[32];
    unhex(want, 32, ns[i].hex);
    FL_CHECK_EQ(fl_crypto_hyperdht_ns(ns[i].id, got), 0);
    FL_CHECK_MEM(got, want, 32);
  }
  uint8_t out[32];
  memset(out, 0xaa, sizeof out);
  FL_CHECK_EQ(fl_crypto_hyperdht_ns(2, out), FL_ERR_INVALID); /* FIND_PEER has none */
  FL_CHECK_EQ(fl_crypto_hyperdht_ns(-1, out), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_hyperdht_ns(11, out), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_hyperdht_ns(FL_NS_ANNOUNCE, NULL), FL_ERR_INVALID);
}

static void test_namespace_root_and_batch(void) {
  /* The root of "hyperswarm/dht" (spec/noise.md section 2), and that a batch
   * of ids gives the same values as one at a time. */
  uint8_t root[32], want_root[32];
  unhex(want_root, 32, "d70d90f7efc42f93e1ad5837e682a6010cf551013c2d2d043f40d8fbe07dcb90");
  FL_CHECK_EQ(fl_crypto_hash(root, 32, (const uint8_t *)"hyperswarm/dht", 14), 0);
  FL_CHECK_MEM(root, want_root, 32);
  const uint8_t ids[3] = {4, 0, 10};
  uint8_t out[3][FL_HASH_BYTES], one[32];
  FL_CHECK_EQ(fl_crypto_namespace("hyperswarm/dht", 14, ids, 3, out), 0);
  FL_CHECK_EQ(fl_crypto_hyperdht_ns(FL_NS_ANNOUNCE, one), 0);
  FL_CHECK_MEM(out[0], one, 32);
  FL_CHECK_EQ(fl_crypto_hyperdht_ns(FL_NS_PEER_HANDSHAKE, one), 0);
  FL_CHECK_MEM(out[1], one, 32);
  FL_CHECK_EQ(fl_crypto_hyperdht_ns(FL_NS_PLUGIN, one), 0);
  FL_CHECK_MEM(out[2], one, 32);
  FL_CHECK_EQ(fl_crypto_namespace(NULL, 3, ids, 1, out), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_namespace("x", 1, NULL, 1, out), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_namespace("x", 1, ids, 1, NULL), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_namespace("x", 1, NULL, 0, NULL), 0);
}

/* ---- Ed25519 (RFC 8032 section 7.1, tests 1-3) ---------------------------- */

static const struct {
  const char *seed, *pk, *msg, *sig;
} rfc8032[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46b"
     "d25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c"
     "387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc659"
     "4a7c15e9716ed28dc027beceea1ec40a"},
};

static void test_ed25519_rfc8032_vectors(void) {
  for (size_t i = 0; i < sizeof rfc8032 / sizeof rfc8032[0]; i++) {
    uint8_t seed[32], pk_want[32], sig_want[64], msg[2];
    uint8_t pk[32], sk[64], sig[64];
    size_t mlen = strlen(rfc8032[i].msg) / 2;
    unhex(seed, 32, rfc8032[i].seed);
    unhex(pk_want, 32, rfc8032[i].pk);
    unhex(sig_want, 64, rfc8032[i].sig);
    if (mlen) unhex(msg, mlen, rfc8032[i].msg);
    FL_CHECK_EQ(fl_crypto_sign_seed_keypair(pk, sk, seed), 0);
    FL_CHECK_MEM(pk, pk_want, 32);
    FL_CHECK_MEM(sk, seed, 32); /* libsodium's layout: seed || pk */
    FL_CHECK_MEM(sk + 32, pk_want, 32);
    FL_CHECK_EQ(fl_crypto_sign(sig, mlen ? msg : NULL, mlen, sk), 0);
    FL_CHECK_MEM(sig, sig_want, 64);
    FL_CHECK_EQ(fl_crypto_verify(sig, mlen ? msg : NULL, mlen, pk), 0);
  }
}

static void test_ed25519_flipped_bit_fails(void) {
  test_rng_init(2);
  uint8_t seed[32], pk[32], sk[64], sig[64], msg[100];
  fl_drbg_bytes(&test_rng, seed, 32);
  fl_drbg_bytes(&test_rng, msg, sizeof msg);
  FL_CHECK_EQ(fl_crypto_sign_seed_keypair(pk, sk, seed), 0);
  FL_CHECK_EQ(fl_crypto_sign(sig, msg, sizeof msg, sk), 0);
  FL_CHECK_EQ(fl_crypto_verify(sig, msg, sizeof msg, pk), 0);
  /* Every bit of the message, and every byte of signature and key. */
  for (size_t bit = 0; bit < sizeof msg * 8; bit++) {
    msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    FL_CHECK_EQ(fl_crypto_verify(sig, msg, sizeof msg, pk), FL_ERR_CRYPTO);
    msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
  }
  for (size_t i = 0; i < 64; i++) {
    sig[i] ^= 0x10;
    FL_CHECK_EQ(fl_crypto_verify(sig, msg, sizeof msg, pk), FL_ERR_CRYPTO);
    sig[i] ^= 0x10;
  }
  for (size_t i = 0; i < 32; i++) {
    pk[i] ^= 0x01;
    FL_CHECK_EQ(fl_crypto_verify(sig, msg, sizeof msg, pk), FL_ERR_CRYPTO);
    pk[i] ^= 0x01;
  }
  FL_CHECK_EQ(fl_crypto_verify(sig, msg, sizeof msg - 1, pk), FL_ERR_CRYPTO);
  FL_CHECK_EQ(fl_crypto_verify(sig, msg, sizeof msg, pk), 0);
}

static void test_ed25519_refuses_misuse(void) {
  uint8_t seed[32] = {1}, pk[32], sk[64], sig[64];
  FL_CHECK_EQ(fl_crypto_sign_seed_keypair(NULL, sk, seed), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_sign_seed_keypair(pk, NULL, seed), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_sign_seed_keypair(pk, sk, NULL), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_sign_seed_keypair(pk, sk, seed), 0);
  FL_CHECK_EQ(fl_crypto_sign(NULL, seed, 1, sk), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_sign(sig, NULL, 1, sk), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_sign(sig, seed, 1, NULL), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_sign(sig, seed, 1, sk), 0);
  FL_CHECK_EQ(fl_crypto_verify(NULL, seed, 1, pk), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_verify(sig, NULL, 1, pk), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_verify(sig, seed, 1, NULL), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_verify(sig, seed, 1, pk), 0);
}

/* ---- Ed25519 DH of noise-curve-ed (spec/noise.md section 3) --------------- */

static void seeded_pair(uint8_t pk[32], uint8_t sk[64], uint8_t fill) {
  uint8_t seed[32];
  memset(seed, fill, sizeof seed);
  int rc = fl_crypto_sign_seed_keypair(pk, sk, seed);
  if (rc != 0) abort();
}

static void test_dh_ed25519_spec_vector(void) {
  uint8_t cpk[32], csk[64], spk[32], ssk[64], want[32], a[32], b[32];
  seeded_pair(cpk, csk, 0x01);
  seeded_pair(spk, ssk, 0x02);
  unhex(want, 32, "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c");
  FL_CHECK_MEM(cpk, want, 32);
  unhex(want, 32, "5612509e82825296cbaaae306ffe1088cbbe200de8ba23dad06f67e607f861df");
  FL_CHECK_EQ(fl_crypto_dh_ed25519(a, csk, spk), 0);
  FL_CHECK_MEM(a, want, 32);
  FL_CHECK_EQ(fl_crypto_dh_ed25519(b, ssk, cpk), 0);
  FL_CHECK_MEM(b, want, 32);
  /* Not X25519 of the mapped keys (spec/noise.md section 3 gives those bytes). */
  uint8_t xsk[32], xpk[32], x[32];
  FL_CHECK_EQ(crypto_sign_ed25519_sk_to_curve25519(xsk, csk), 0);
  FL_CHECK_EQ(crypto_sign_ed25519_pk_to_curve25519(xpk, spk), 0);
  FL_CHECK_EQ(fl_crypto_x25519(x, xsk, xpk), 0);
  unhex(want, 32, "4181d7302557342bdb6d061c4b1eebea828ecb625c3368b7111680793307220b");
  FL_CHECK_MEM(x, want, 32);
  FL_CHECK(memcmp(x, a, 32) != 0);
}

static void test_dh_ed25519_symmetric(void) {
  test_rng_init(3);
  for (int i = 0; i < 64; i++) {
    uint8_t sa[32], sb[32], apk[32], ask[64], bpk[32], bsk[64], ab[32], ba[32];
    fl_drbg_bytes(&test_rng, sa, 32);
    fl_drbg_bytes(&test_rng, sb, 32);
    FL_CHECK_EQ(fl_crypto_sign_seed_keypair(apk, ask, sa), 0);
    FL_CHECK_EQ(fl_crypto_sign_seed_keypair(bpk, bsk, sb), 0);
    FL_CHECK_EQ(fl_crypto_dh_ed25519(ab, ask, bpk), 0);
    FL_CHECK_EQ(fl_crypto_dh_ed25519(ba, bsk, apk), 0);
    FL_CHECK_MEM(ab, ba, 32);
    FL_CHECK(!is_zero(ab, 32));
  }
}

/* Each must be refused the way libsodium's crypto_scalarmult_ed25519_noclamp
 * refuses it (the reference then throws). */
static void test_dh_ed25519_refuses_bad_points(void) {
  static const char *bad[] = {
      /* identity (0, 1): small order */
      "0100000000000000000000000000000000000000000000000000000000000000",
      /* (0, -1): order 2 */
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      /* y = 0: order 4 */
      "0000000000000000000000000000000000000000000000000000000000000000",
      /* y = p: non-canonical encoding of y = 0 */
      "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      /* y = 2: no x on the curve */
      "0200000000000000000000000000000000000000000000000000000000000000",
      /* all ones: y = 2^255 - 1 >= p, non-canonical */
      "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
  };
  uint8_t pk[32], sk[64], out[32], remote[32];
  seeded_pair(pk, sk, 0x05);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    unhex(remote, 32, bad[i]);
    memset(out, 0xaa, sizeof out);
    FL_CHECK_EQ(fl_crypto_dh_ed25519(out, sk, remote), FL_ERR_CRYPTO);
    FL_CHECK(is_zero(out, 32));
  }
  /* A valid key plus a point of order 2 is on the curve but off the
   * prime-order subgroup: refused too. */
  uint8_t order2[32];
  unhex(order2, 32, bad[1]);
  FL_CHECK_EQ(crypto_core_ed25519_add(remote, pk, order2), 0);
  FL_CHECK(crypto_core_ed25519_is_valid_point(remote) == 0);
  memset(out, 0xaa, sizeof out);
  FL_CHECK_EQ(fl_crypto_dh_ed25519(out, sk, remote), FL_ERR_CRYPTO);
  FL_CHECK(is_zero(out, 32));
  FL_CHECK_EQ(fl_crypto_dh_ed25519(NULL, sk, pk), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_dh_ed25519(out, NULL, pk), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_dh_ed25519(out, sk, NULL), FL_ERR_INVALID);
}

/* ---- X25519 (RFC 7748 sections 5.2 and 6.1) ------------------------------- */

static void test_x25519_rfc7748_5_2(void) {
  static const char *v[2][3] = {
      {"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
       "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
       "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
      {"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
       "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
       "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
  };
  for (int i = 0; i < 2; i++) {
    uint8_t k[32], u[32], want[32], out[32];
    unhex(k, 32, v[i][0]);
    unhex(u, 32, v[i][1]);
    unhex(want, 32, v[i][2]);
    FL_CHECK_EQ(fl_crypto_x25519(out, k, u), 0);
    FL_CHECK_MEM(out, want, 32);
  }
}

static void test_x25519_rfc7748_6_1(void) {
  uint8_t ask[32], apk_want[32], bsk[32], bpk_want[32], shared[32];
  uint8_t apk[32], bpk[32], k1[32], k2[32];
  unhex(ask, 32, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  unhex(apk_want, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  unhex(bsk, 32, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  unhex(bpk_want, 32, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  unhex(shared, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  FL_CHECK_EQ(fl_crypto_x25519_public(apk, ask), 0);
  FL_CHECK_MEM(apk, apk_want, 32);
  FL_CHECK_EQ(fl_crypto_x25519_public(bpk, bsk), 0);
  FL_CHECK_MEM(bpk, bpk_want, 32);
  FL_CHECK_EQ(fl_crypto_x25519(k1, ask, bpk), 0);
  FL_CHECK_EQ(fl_crypto_x25519(k2, bsk, apk), 0);
  FL_CHECK_MEM(k1, shared, 32);
  FL_CHECK_MEM(k2, shared, 32);
}

static void test_x25519_refuses_low_order(void) {
  uint8_t sk[32], out[32], zero[32] = {0}, one[32] = {1};
  memset(sk, 0x42, sizeof sk);
  memset(out, 0xaa, sizeof out);
  FL_CHECK_EQ(fl_crypto_x25519(out, sk, zero), FL_ERR_CRYPTO);
  FL_CHECK(is_zero(out, 32));
  memset(out, 0xaa, sizeof out);
  FL_CHECK_EQ(fl_crypto_x25519(out, sk, one), FL_ERR_CRYPTO);
  FL_CHECK(is_zero(out, 32));
  FL_CHECK_EQ(fl_crypto_x25519(NULL, sk, one), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_x25519(out, NULL, one), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_x25519(out, sk, NULL), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_x25519_public(NULL, sk), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_x25519_public(out, NULL), FL_ERR_INVALID);
}

/* ---- ChaCha20-Poly1305 IETF (RFC 8439 section 2.8.2) ---------------------- */

static const char sunscreen[] =
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
    "future, sunscreen would be it.";

static void rfc8439_inputs(uint8_t key[32], uint8_t nonce[12], uint8_t ad[12]) {
  for (int i = 0; i < 32; i++) key[i] = (uint8_t)(0x80 + i);
  unhex(nonce, 12, "070000004041424344454647");
  unhex(ad, 12, "50515253c0c1c2c3c4c5c6c7");
}

static void test_aead_rfc8439_2_8_2(void) {
  uint8_t key[32], nonce[12], ad[12], want[114 + 16], c[114 + 16], m[114];
  size_t mlen = sizeof sunscreen - 1, clen = 0, outlen = 0;
  FL_CHECK_EQ(mlen, 114);
  rfc8439_inputs(key, nonce, ad);
  unhex(want, sizeof want,
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
        "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
        "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
        "3ff4def08e4b7a9de576d26586cec64b6116"
        "1ae10b594f09e26a7e902ecbd0600691");
  FL_CHECK_EQ(fl_crypto_aead_encrypt(c, sizeof c, &clen, (const uint8_t *)sunscreen, mlen, ad, 12,
                                     nonce, key),
              0);
  FL_CHECK_EQ(clen, sizeof want);
  FL_CHECK_MEM(c, want, sizeof want);
  FL_CHECK_EQ(fl_crypto_aead_decrypt(m, sizeof m, &outlen, c, clen, ad, 12, nonce, key), 0);
  FL_CHECK_EQ(outlen, mlen);
  FL_CHECK_MEM(m, sunscreen, mlen);
}

static void test_aead_forged_is_refused_and_zeroed(void) {
  uint8_t key[32], nonce[12], ad[12], c[130], m[114];
  size_t clen = 0, mlen = 99;
  rfc8439_inputs(key, nonce, ad);
  FL_CHECK_EQ(fl_crypto_aead_encrypt(c, sizeof c, &clen, (const uint8_t *)sunscreen, 114, ad, 12,
                                     nonce, key),
              0);
  size_t flips[] = {0, 57, 113, 114, 129}; /* body and tag */
  for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
    c[flips[i]] ^= 0x80;
    memset(m, 0xaa, sizeof m);
    FL_CHECK_EQ(fl_crypto_aead_decrypt(m, sizeof m, &mlen, c, clen, ad, 12, nonce, key),
                FL_ERR_CRYPTO);
    FL_CHECK(is_zero(m, sizeof m));
    FL_CHECK_EQ(mlen, 0);
    c[flips[i]] ^= 0x80;
  }
  ad[0] ^= 1; /* wrong associated data */
  FL_CHECK_EQ(fl_crypto_aead_decrypt(m, sizeof m, &mlen, c, clen, ad, 12, nonce, key),
              FL_ERR_CRYPTO);
  ad[0] ^= 1;
  nonce[11] ^= 1;
  FL_CHECK_EQ(fl_crypto_aead_decrypt(m, sizeof m, &mlen, c, clen, ad, 12, nonce, key),
              FL_ERR_CRYPTO);
  nonce[11] ^= 1;
  FL_CHECK_EQ(fl_crypto_aead_decrypt(m, sizeof m, &mlen, c, clen, ad, 12, nonce, key), 0);
}

static void test_aead_refuses_misuse(void) {
  uint8_t key[32] = {0}, nonce[12] = {0}, c[40], m[24] = {0};
  size_t clen = 0, mlen = 0;
  FL_CHECK_EQ(fl_crypto_aead_encrypt(c, 39, &clen, m, 24, NULL, 0, nonce, key), FL_ERR_BUFFER);
  /* Past libsodium's limit (where it would abort): refused before any read. */
  FL_CHECK_EQ(fl_crypto_aead_encrypt(c, 40, &clen, m, SIZE_MAX - 100, NULL, 0, nonce, key),
              FL_ERR_RANGE);
  FL_CHECK_EQ(fl_crypto_aead_encrypt(c, 40, &clen, NULL, 24, NULL, 0, nonce, key),
              FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_aead_encrypt(c, 40, &clen, m, 24, NULL, 1, nonce, key), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_aead_encrypt(c, 40, &clen, m, 24, NULL, 0, NULL, key), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_aead_encrypt(c, 40, &clen, m, 24, NULL, 0, nonce, NULL), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_aead_encrypt(c, 40, NULL, m, 24, NULL, 0, nonce, key), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_aead_encrypt(c, 40, &clen, m, 24, NULL, 0, nonce, key), 0);
  FL_CHECK_EQ(clen, 40);
  FL_CHECK_EQ(fl_crypto_aead_decrypt(m, 23, &mlen, c, 40, NULL, 0, nonce, key), FL_ERR_BUFFER);
  FL_CHECK_EQ(fl_crypto_aead_decrypt(m, 24, &mlen, c, 15, NULL, 0, nonce, key), FL_ERR_DECODE);
  FL_CHECK_EQ(fl_crypto_aead_decrypt(m, 24, &mlen, NULL, 40, NULL, 0, nonce, key),
              FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_aead_decrypt(m, 24, NULL, c, 40, NULL, 0, nonce, key), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_aead_decrypt(m, 24, &mlen, c, 40, NULL, 0, nonce, key), 0);
  FL_CHECK_EQ(mlen, 24);
  /* An empty message: a bare tag, decrypted with no output buffer. */
  FL_CHECK_EQ(fl_crypto_aead_encrypt(c, 16, &clen, NULL, 0, NULL, 0, nonce, key), 0);
  FL_CHECK_EQ(clen, 16);
  FL_CHECK_EQ(fl_crypto_aead_decrypt(NULL, 0, &mlen, c, 16, NULL, 0, nonce, key), 0);
  FL_CHECK_EQ(mlen, 0);
}

/* ---- XSalsa20-Poly1305 secretbox ------------------------------------------ */

static void test_secretbox_round_trip_and_forgery(void) {
  test_rng_init(4);
  uint8_t key[32], nonce[24], m[200], c[216], back[200];
  fl_drbg_bytes(&test_rng, key, 32);
  fl_drbg_bytes(&test_rng, nonce, 24);
  fl_drbg_bytes(&test_rng, m, sizeof m);
  FL_CHECK_EQ(fl_crypto_secretbox_seal(c, sizeof c, m, sizeof m, nonce, key), 0);
  FL_CHECK_EQ(fl_crypto_secretbox_open(back, sizeof back, c, sizeof c, nonce, key), 0);
  FL_CHECK_MEM(back, m, sizeof m);
  for (size_t i = 0; i < sizeof c; i += 23) {
    c[i] ^= 4;
    memset(back, 0xaa, sizeof back);
    FL_CHECK_EQ(fl_crypto_secretbox_open(back, sizeof back, c, sizeof c, nonce, key),
                FL_ERR_CRYPTO);
    FL_CHECK(is_zero(back, sizeof back));
    c[i] ^= 4;
  }
  key[5] ^= 1;
  FL_CHECK_EQ(fl_crypto_secretbox_open(back, sizeof back, c, sizeof c, nonce, key),
              FL_ERR_CRYPTO);
}

static void test_secretbox_refuses_misuse(void) {
  uint8_t key[32] = {0}, nonce[24] = {0}, m[8] = {0}, c[24];
  FL_CHECK_EQ(fl_crypto_secretbox_seal(c, 23, m, 8, nonce, key), FL_ERR_BUFFER);
  FL_CHECK_EQ(fl_crypto_secretbox_seal(NULL, 24, m, 8, nonce, key), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_secretbox_seal(c, 24, NULL, 8, nonce, key), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_secretbox_seal(c, 24, m, 8, NULL, key), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_secretbox_seal(c, 24, m, 8, nonce, NULL), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_secretbox_seal(c, 24, m, 8, nonce, key), 0);
  FL_CHECK_EQ(fl_crypto_secretbox_open(m, 7, c, 24, nonce, key), FL_ERR_BUFFER);
  FL_CHECK_EQ(fl_crypto_secretbox_open(m, 8, c, 15, nonce, key), FL_ERR_DECODE);
  FL_CHECK_EQ(fl_crypto_secretbox_open(m, 8, NULL, 24, nonce, key), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_secretbox_open(m, 8, c, 24, NULL, key), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_secretbox_open(m, 8, c, 24, nonce, key), 0);
  FL_CHECK_EQ(fl_crypto_secretbox_seal(c, 16, NULL, 0, nonce, key), 0);
  FL_CHECK_EQ(fl_crypto_secretbox_open(NULL, 0, c, 16, nonce, key), 0);
}

/* ---- XChaCha20-Poly1305 secretstream -------------------------------------- */

static void sstream_pair(fl_sstream *push, fl_sstream *pull, uint8_t salt) {
  uint8_t key[32], header[24];
  test_rng_init(salt);
  fl_drbg_bytes(&test_rng, key, 32);
  fl_drbg_bytes(&test_rng, header, 24);
  if (fl_crypto_sstream_push_init(push, header, key) != 0) abort();
  if (fl_crypto_sstream_pull_init(pull, header, key) != 0) abort();
}

static void test_sstream_init_push_is_hchacha20_of_header(void) {
  /* libsodium's init_push: k = HChaCha20(key, header[0..16)), counter = 1,
   * inonce = header[16..24), pad zero. Our push state, made from a caller's
   * header, must be exactly that (harness/tests/crypto also checks the
   * stream against libsodium's own init_push). */
  uint8_t key[32], header[24], k[32];
  test_rng_init(5);
  fl_drbg_bytes(&test_rng, key, 32);
  fl_drbg_bytes(&test_rng, header, 24);
  fl_sstream st;
  FL_CHECK_EQ(fl_crypto_sstream_push_init(&st, header, key), 0);
  FL_CHECK_EQ(crypto_core_hchacha20(k, header, key, NULL), 0);
  const crypto_secretstream_xchacha20poly1305_state *s =
      (const crypto_secretstream_xchacha20poly1305_state *)(const void *)st.opaque;
  static const uint8_t counter_one[4] = {1, 0, 0, 0};
  FL_CHECK_MEM(s->k, k, 32);
  FL_CHECK_MEM(s->nonce, counter_one, 4);
  FL_CHECK_MEM(s->nonce + 4, header + 16, 8);
  FL_CHECK(is_zero(s->_pad, sizeof s->_pad));
}

static void test_sstream_round_trip_with_tags_and_rekey(void) {
  fl_sstream push, pull;
  sstream_pair(&push, &pull, 6);
  static const uint8_t tags[] = {FL_SSTREAM_TAG_MESSAGE, FL_SSTREAM_TAG_PUSH,
                                 FL_SSTREAM_TAG_MESSAGE, FL_SSTREAM_TAG_REKEY,
                                 FL_SSTREAM_TAG_MESSAGE, 0xff /* explicit rekey */,
                                 FL_SSTREAM_TAG_MESSAGE, FL_SSTREAM_TAG_FINAL};
  uint8_t m[300], c[300 + FL_SSTREAM_ABYTES], back[300];
  uint8_t prev_c[sizeof c];
  size_t prev_len = 0;
  for (size_t i = 0; i < sizeof tags; i++) {
    if (tags[i] == 0xff) {
      fl_crypto_sstream_rekey(&push);
      fl_crypto_sstream_rekey(&pull);
      continue;
    }
    size_t mlen = i * 37, clen = 0, outlen = 0;
    uint8_t tag = 0xee, ad[3] = {(uint8_t)i, 1, 2};
    fl_drbg_bytes(&test_rng, m, mlen);
    FL_CHECK_EQ(fl_crypto_sstream_push(&push, c, sizeof c, &clen, m, mlen, ad, 3, tags[i]), 0);
    FL_CHECK_EQ(clen, mlen + FL_SSTREAM_ABYTES);
    FL_CHECK(prev_len == 0 || prev_len != clen || memcmp(prev_c, c, clen) != 0);
    FL_CHECK_EQ(fl_crypto_sstream_pull(&pull, back, sizeof back, &outlen, &tag, c, clen, ad, 3),
                0);
    FL_CHECK_EQ(outlen, mlen);
    FL_CHECK_EQ(tag, tags[i]);
    FL_CHECK_MEM(back, m, mlen);
    memcpy(prev_c, c, clen);
    prev_len = clen;
  }
}

static void test_sstream_same_plaintext_differs_per_message(void) {
  fl_sstream push, pull;
  sstream_pair(&push, &pull, 7);
  uint8_t m[16] = {0}, c1[33], c2[33];
  size_t l1 = 0, l2 = 0;
  FL_CHECK_EQ(fl_crypto_sstream_push(&push, c1, 33, &l1, m, 16, NULL, 0, 0), 0);
  FL_CHECK_EQ(fl_crypto_sstream_push(&push, c2, 33, &l2, m, 16, NULL, 0, 0), 0);
  FL_CHECK(memcmp(c1, c2, 33) != 0);
  /* Out of order: the second message does not pull first. */
  uint8_t back[16], tag = 0;
  size_t outlen = 0;
  FL_CHECK_EQ(fl_crypto_sstream_pull(&pull, back, 16, &outlen, &tag, c2, l2, NULL, 0),
              FL_ERR_CRYPTO);
  FL_CHECK_EQ(fl_crypto_sstream_pull(&pull, back, 16, &outlen, &tag, c1, l1, NULL, 0), 0);
  FL_CHECK_EQ(fl_crypto_sstream_pull(&pull, back, 16, &outlen, &tag, c2, l2, NULL, 0), 0);
}

static void test_sstream_tampered_refused_state_unchanged(void) {
  fl_sstream push, pull;
  sstream_pair(&push, &pull, 8);
  uint8_t m1[40], m2[40], c1[57], c2[57], back[40];
  size_t l1 = 0, l2 = 0, outlen = 0;
  uint8_t tag = 0;
  fl_drbg_bytes(&test_rng, m1, 40);
  fl_drbg_bytes(&test_rng, m2, 40);
  FL_CHECK_EQ(fl_crypto_sstream_push(&push, c1, 57, &l1, m1, 40, NULL, 0, 0), 0);
  FL_CHECK_EQ(fl_crypto_sstream_push(&push, c2, 57, &l2, m2, 40, NULL, 0, FL_SSTREAM_TAG_FINAL),
              0);
  fl_sstream before = pull;
  for (size_t i = 0; i < l1; i += 7) { /* tag byte, body and MAC */
    c1[i] ^= 0x20;
    memset(back, 0xaa, sizeof back);
    tag = 0x55;
    outlen = 99;
    FL_CHECK_EQ(fl_crypto_sstream_pull(&pull, back, 40, &outlen, &tag, c1, l1, NULL, 0),
                FL_ERR_CRYPTO);
    FL_CHECK(is_zero(back, 40));
    FL_CHECK_EQ(outlen, 0);
    FL_CHECK_EQ(tag, 0);
    FL_CHECK_MEM(&pull, &before, sizeof pull);
    c1[i] ^= 0x20;
  }
  uint8_t ad = 1; /* the right bytes with the wrong associated data */
  FL_CHECK_EQ(fl_crypto_sstream_pull(&pull, back, 40, &outlen, &tag, c1, l1, &ad, 1),
              FL_ERR_CRYPTO);
  FL_CHECK_MEM(&pull, &before, sizeof pull);
  /* The genuine messages still pull, in order. */
  FL_CHECK_EQ(fl_crypto_sstream_pull(&pull, back, 40, &outlen, &tag, c1, l1, NULL, 0), 0);
  FL_CHECK_MEM(back, m1, 40);
  FL_CHECK_EQ(tag, FL_SSTREAM_TAG_MESSAGE);
  FL_CHECK_EQ(fl_crypto_sstream_pull(&pull, back, 40, &outlen, &tag, c2, l2, NULL, 0), 0);
  FL_CHECK_MEM(back, m2, 40);
  FL_CHECK_EQ(tag, FL_SSTREAM_TAG_FINAL);
}

static void test_sstream_refuses_misuse(void) {
  fl_sstream push, pull;
  uint8_t key[32] = {0}, header[24] = {0}, m[8] = {0}, c[25], tag = 0;
  size_t clen = 0, mlen = 0;
  FL_CHECK_EQ(fl_crypto_sstream_push_init(NULL, header, key), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_sstream_push_init(&push, NULL, key), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_sstream_push_init(&push, header, NULL), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_sstream_pull_init(&pull, NULL, key), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_sstream_push_init(&push, header, key), 0);
  FL_CHECK_EQ(fl_crypto_sstream_pull_init(&pull, header, key), 0);
  FL_CHECK_EQ(fl_crypto_sstream_push(&push, c, 24, &clen, m, 8, NULL, 0, 0), FL_ERR_BUFFER);
  FL_CHECK_EQ(fl_crypto_sstream_push(&push, c, 25, &clen, m, SIZE_MAX - 100, NULL, 0, 0),
              FL_ERR_RANGE);
  FL_CHECK_EQ(fl_crypto_sstream_push(NULL, c, 25, &clen, m, 8, NULL, 0, 0), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_sstream_push(&push, NULL, 25, &clen, m, 8, NULL, 0, 0), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_sstream_push(&push, c, 25, NULL, m, 8, NULL, 0, 0), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_sstream_push(&push, c, 25, &clen, NULL, 8, NULL, 0, 0), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_sstream_push(&push, c, 25, &clen, m, 8, NULL, 2, 0), FL_ERR_INVALID);
  /* None of the refusals above advanced the push state. */
  FL_CHECK_EQ(fl_crypto_sstream_push(&push, c, 25, &clen, m, 8, NULL, 0, 0), 0);
  FL_CHECK_EQ(fl_crypto_sstream_pull(&pull, m, 7, &mlen, &tag, c, 25, NULL, 0), FL_ERR_BUFFER);
  FL_CHECK_EQ(fl_crypto_sstream_pull(&pull, m, 8, &mlen, &tag, c, 16, NULL, 0), FL_ERR_DECODE);
  FL_CHECK_EQ(fl_crypto_sstream_pull(&pull, m, 8, &mlen, NULL, c, 25, NULL, 0), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_sstream_pull(&pull, m, 8, NULL, &tag, c, 25, NULL, 0), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_sstream_pull(NULL, m, 8, &mlen, &tag, c, 25, NULL, 0), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_sstream_pull(&pull, m, 8, &mlen, &tag, NULL, 25, NULL, 0),
              FL_ERR_INVALID);
  FL_CHECK_EQ(fl_crypto_sstream_pull(&pull, m, 8, &mlen, &tag, c, 25, NULL, 0), 0);
  FL_CHECK_EQ(mlen, 8);
  fl_crypto_sstream_rekey(NULL); /* tolerated, does nothing */
}

/* ---- Helpers --------------------------------------------------------------- */

static void test_memcmp_and_memzero(void) {
  uint8_t a[33], b[33];
  memset(a, 7, sizeof a);
  memset(b, 7, sizeof b);
  FL_CHECK_EQ(fl_crypto_memcmp(a, b, sizeof a), 0);
  b[32] = 8;
  FL_CHECK_EQ(fl_crypto_memcmp(a, b, sizeof a), -1);
  fl_crypto_memzero(a, sizeof a);
  FL_CHECK(is_zero(a, sizeof a));
  FL_CHECK_EQ(fl_hash_bytes(), FL_HASH_BYTES);
  FL_CHECK_EQ(fl_public_key_bytes(), 32);
  FL_CHECK_EQ(fl_secret_key_bytes(), 64);
  FL_CHECK_EQ(fl_signature_bytes(), 64);
  FL_CHECK_EQ(fl_seed_bytes(), 32);
}

int main(void) {
  if (fl_crypto_init() != 0) return 1;
  FL_RUN(test_blake2b_512_rfc7693_abc);
  FL_RUN(test_blake2b_256_abc);
  FL_RUN(test_blake2b_keyed_kat);
  FL_RUN(test_hash_parts_equals_hash_of_concatenation);
  FL_RUN(test_hash_refuses_misuse);
  FL_RUN(test_namespace_hyperdht_constants);
  FL_RUN(test_namespace_root_and_batch);
  FL_RUN(test_ed25519_rfc8032_vectors);
  FL_RUN(test_ed25519_flipped_bit_fails);
  FL_RUN(test_ed25519_refuses_misuse);
  FL_RUN(test_dh_ed25519_spec_vector);
  FL_RUN(test_dh_ed25519_symmetric);
  FL_RUN(test_dh_ed25519_refuses_bad_points);
  FL_RUN(test_x25519_rfc7748_5_2);
  FL_RUN(test_x25519_rfc7748_6_1);
  FL_RUN(test_x25519_refuses_low_order);
  FL_RUN(test_aead_rfc8439_2_8_2);
  FL_RUN(test_aead_forged_is_refused_and_zeroed);
  FL_RUN(test_aead_refuses_misuse);
  FL_RUN(test_secretbox_round_trip_and_forgery);
  FL_RUN(test_secretbox_refuses_misuse);
  FL_RUN(test_sstream_init_push_is_hchacha20_of_header);
  FL_RUN(test_sstream_round_trip_with_tags_and_rekey);
  FL_RUN(test_sstream_same_plaintext_differs_per_message);
  FL_RUN(test_sstream_tampered_refused_state_unchanged);
  FL_RUN(test_sstream_refuses_misuse);
  FL_RUN(test_memcmp_and_memzero);
  return fl_test_done();
}
