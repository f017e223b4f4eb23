/*
 * noise_test.c — the handshake engine: hyperdht's IK vector (spec/noise.md
 * §9), every pattern with both DHs, malformed messages, misuse, limits and
 * allocation failure. The cacophony vectors run from pytest
 * (harness/tools/noise_vectors.py).
 */
#include <string.h>

#include "flock/noise.h"
#include "noise/noise_int.h"
#include "testing/fl_test.h"

#define NS_PEER_HANDSHAKE "14d6d4b49214ab1033ed204976caa258bae9e1e8543b9ad1fd996a910b0c4e3a"

typedef struct side {
  uint8_t pk[32], sk[64];
  int sk_len;
} side;

static void keypair(side *k, fl_noise_dh dh, uint8_t fill) {
  uint8_t seed[32];
  memset(seed, fill, sizeof seed);
  k->sk_len = fl_noise_keypair_from_seed(dh, k->pk, k->sk, seed);
}

/* The §9 session: client static seed 0x01, server 0x02, ephemerals 0x03/0x04. */
typedef struct ik_pair {
  side cs, ss, ce, se;
  uint8_t prologue[32];
  fl_noise *c, *s;
} ik_pair;

static int ik_pair_new(ik_pair *p) {
  keypair(&p->cs, FL_NOISE_DH_ED25519, 1);
  keypair(&p->ss, FL_NOISE_DH_ED25519, 2);
  keypair(&p->ce, FL_NOISE_DH_ED25519, 3);
  keypair(&p->se, FL_NOISE_DH_ED25519, 4);
  fl_test_hex(p->prologue, 32, NS_PEER_HANDSHAKE);
  fl_noise_config c = {.pattern = "IK", .dh = FL_NOISE_DH_ED25519, .initiator = true,
                       .prologue = p->prologue, .prologue_len = 32, .static_sk = p->cs.sk,
                       .remote_static = p->ss.pk, .ephemeral_sk = p->ce.sk};
  fl_noise_config s = {.pattern = "IK", .dh = FL_NOISE_DH_ED25519, .initiator = false,
                       .prologue = p->prologue, .prologue_len = 32, .static_sk = p->ss.sk,
                       .ephemeral_sk = p->se.sk};
  int rc = fl_noise_new(&p->c, NULL, &c);
  if (rc != 0) return rc;
  return fl_noise_new(&p->s, NULL, &s);
}

static void ik_pair_free(ik_pair *p) {
  fl_noise_free(p->c);
  fl_noise_free(p->s);
}

static void test_noise_hyperdht_ik_vector_matches_reference(void) {
  ik_pair p;
  FL_CHECK_EQ(ik_pair_new(&p), 0);
  uint8_t want[128], msg[256], pl[128], pl1[20], pl2[34], hash[64], k[32];
  size_t len, plen;
  fl_test_hex(pl1, 20, "011a0000017f000001409c0100fe443322110001");
  fl_test_hex(pl2, 34, "011b000300017f00000149c27f00000151c3017f00000150c30100fe887766550001");
  FL_CHECK_EQ(fl_noise_write_size(p.c, 20), 116);
  FL_CHECK_EQ(fl_noise_write_message(p.c, pl1, 20, msg, sizeof msg, &len), 0);
  fl_test_hex(want, 116,
              "ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1605c88a9067c5f"
              "85bd7499907d5c869548dd90bed5350bb2e7cb47efe61f60bc315838e49205f95b5a618d7c8c21"
              "2eebf0fd5de91ac21376e31c91dd5c45e3c7b2c9804ecc7a7c37ac1bf29332c22680ef5d903c");
  FL_CHECK_EQ(len, 116);
  FL_CHECK_MEM(msg, want, 116);
  FL_CHECK_EQ(fl_noise_read_message(p.s, msg, len, pl, sizeof pl, &plen), 0);
  FL_CHECK_EQ(plen, 20);
  FL_CHECK_MEM(pl, pl1, 20);
  uint8_t rs[32];
  FL_CHECK_EQ(fl_noise_remote_static(p.s, rs), 0);
  FL_CHECK_MEM(rs, p.cs.pk, 32);
  FL_CHECK_EQ(fl_noise_write_message(p.s, pl2, 34, msg, sizeof msg, &len), 0);
  fl_test_hex(want, 82,
              "ca93ac1705187071d67b83c7ff0efe8108e8ec4530575d7726879333dbdabe7cf6c3821a71cb60"
              "7d0da9bec5317266c5f868672a1c05531ab592cff11b6b0125373780f342973523d6bc380a3b79"
              "8b0bb3bb");
  FL_CHECK_EQ(len, 82);
  FL_CHECK_MEM(msg, want, 82);
  FL_CHECK_EQ(fl_noise_read_message(p.c, msg, len, pl, sizeof pl, &plen), 0);
  FL_CHECK_MEM(pl, pl2, 34);
  FL_CHECK_EQ(fl_noise_status(p.c), FL_NOISE_DONE);
  FL_CHECK_EQ(fl_noise_status(p.s), FL_NOISE_DONE);
  fl_noise_keys ck, sk;
  FL_CHECK_EQ(fl_noise_split(p.c, &ck), 0);
  FL_CHECK_EQ(fl_noise_split(p.s, &sk), 0);
  fl_test_hex(hash, 64,
              "2222e888ddda3faa1ce91640580e2fd5f11d93ecc6c9723829cde5a1805b470a8f31d30fe5b8b9"
              "3313636f891ae1418a40d0e484df89c4e81169ad6480540eeb");
  FL_CHECK_MEM(ck.hash, hash, 64);
  FL_CHECK_MEM(sk.hash, hash, 64);
  fl_test_hex(k, 32, "cc00d99bd3a15a6779df38fd42fd25a84d73264023e7c1da95cf3bcbdce9c210");
  FL_CHECK_MEM(ck.tx, k, 32);
  FL_CHECK_MEM(sk.rx, k, 32);
  fl_test_hex(k, 32, "78dd48ecef5d11fd953197694a8ee2d9f8d86d49d56d856e3dd7c8e78047826b");
  FL_CHECK_MEM(ck.rx, k, 32);
  FL_CHECK_MEM(sk.tx, k, 32);
  FL_CHECK(ck.has_remote_static && sk.has_remote_static);
  FL_CHECK_MEM(ck.remote_static, p.ss.pk, 32);
  FL_CHECK_MEM(sk.remote_static, p.cs.pk, 32);
  ik_pair_free(&p);
}

/* Run pattern name to completion with drbg ephemerals, then one transport
 * message each way (one way only for N, K, X). */
static int run_pattern(const char *name, fl_noise_dh dh, uint64_t seed_n) {
  side is, rs;
  keypair(&is, dh, 0x11);
  keypair(&rs, dh, 0x22);
  fl_noise_pattern pat;
  if (fl_noise_pattern_get(&pat, name) != 0) return -100;
  uint8_t seed[32] = {0};
  memcpy(seed, &seed_n, sizeof seed_n);
  fl_drbg di, dr;
  fl_drbg_init(&di, seed);
  seed[31] = 1;
  fl_drbg_init(&dr, seed);
  fl_noise_config ci = {.pattern = name, .dh = dh, .initiator = true, .prologue = (const uint8_t *)"p",
                        .prologue_len = 1, .static_sk = is.sk, .drbg = &di};
  fl_noise_config cr = ci;
  cr.initiator = false;
  cr.static_sk = rs.sk;
  cr.drbg = &dr;
  if (pat.pre_r[0] == FL_TOK_S) ci.remote_static = rs.pk;
  if (pat.pre_i[0] == FL_TOK_S) cr.remote_static = is.pk;
  fl_noise *a, *b;
  if (fl_noise_new(&a, NULL, &ci) != 0) return -101;
  if (fl_noise_new(&b, NULL, &cr) != 0) return -102;
  int rc = 0;
  for (int i = 0; rc == 0 && fl_noise_status(a) != FL_NOISE_DONE; i++) {
    fl_noise *w = fl_noise_status(a) == FL_NOISE_WRITE ? a : b, *r = w == a ? b : a;
    uint8_t msg[256], pl[64];
    size_t len, plen;
    char payload[16];
    snprintf(payload, sizeof payload, "msg %d", i);
    rc = fl_noise_write_message(w, (const uint8_t *)payload, strlen(payload), msg, sizeof msg,
                                &len);
    if (rc == 0) rc = fl_noise_read_message(r, msg, len, pl, sizeof pl, &plen);
    if (rc == 0 && (fl_noise_check(a) != 0 || fl_noise_check(b) != 0)) rc = -110;
    if (rc == 0 && (plen != strlen(payload) || memcmp(pl, payload, plen) != 0)) rc = -103;
  }
  fl_noise_keys ka, kb;
  if (rc == 0 && fl_noise_status(b) != FL_NOISE_DONE) rc = -104;
  if (rc == 0) rc = fl_noise_split(a, &ka);
  if (rc == 0) rc = fl_noise_split(b, &kb);
  if (rc == 0 && (memcmp(ka.tx, kb.rx, 32) || memcmp(ka.hash, kb.hash, 64))) rc = -105;
  if (rc == 0 && !pat.one_way && memcmp(ka.rx, kb.tx, 32)) rc = -106;
  /* Whoever has a static key in this pattern is known to the other side. */
  if (rc == 0 && kb.has_remote_static != (strchr("KXI", name[0]) != NULL)) rc = -107;
  uint8_t c[64], m[64];
  size_t clen, mlen;
  if (rc == 0) rc = fl_noise_encrypt(a, (const uint8_t *)"hello", 5, c, sizeof c, &clen);
  if (rc == 0) rc = fl_noise_decrypt(b, c, clen, m, sizeof m, &mlen);
  if (rc == 0 && (mlen != 5 || memcmp(m, "hello", 5))) rc = -108;
  if (rc == 0 && !pat.one_way) {
    rc = fl_noise_encrypt(b, (const uint8_t *)"back", 4, c, sizeof c, &clen);
    if (rc == 0) rc = fl_noise_decrypt(a, c, clen, m, sizeof m, &mlen);
  }
  if (rc == 0 && pat.one_way && fl_noise_encrypt(b, m, 1, c, sizeof c, &clen) != FL_ERR_STATE)
    rc = -109;
  fl_noise_free(a);
  fl_noise_free(b);
  return rc;
}

static void test_noise_every_pattern_completes_with_both_dhs(void) {
  FL_CHECK_EQ(fl_noise_pattern_count(), 38);
  for (size_t i = 0; i < fl_noise_pattern_count(); i++) {
    const char *name = fl_noise_pattern_name(i);
    FL_CHECK(fl_noise_pattern_supported(name));
    int rc = run_pattern(name, FL_NOISE_DH_X25519, fl_test_seed() + i);
    if (rc != 0) fl_test_log("  %s X25519: %d\n", name, rc);
    FL_CHECK_EQ(rc, 0);
    rc = run_pattern(name, FL_NOISE_DH_ED25519, fl_test_seed() + i);
    if (rc != 0) fl_test_log("  %s Ed25519: %d\n", name, rc);
    FL_CHECK_EQ(rc, 0);
  }
  FL_CHECK(!fl_noise_pattern_supported("NNpsk0"));
  FL_CHECK(!fl_noise_pattern_supported("XXfallback"));
  FL_CHECK(!fl_noise_pattern_supported(""));
}

/* Every truncation and every single-bit flip of msg1 and of msg2 fails the
 * reader with DECODE or CRYPTO, zeroes its payload, and leaves it FAILED. */
static void test_noise_read_rejects_every_truncation_and_bit_flip(void) {
  for (int which = 0; which < 2; which++) {
    ik_pair p;
    FL_CHECK_EQ(ik_pair_new(&p), 0);
    uint8_t m1[128], m2[128], bad[128], pl[128];
    size_t l1, l2, plen;
    FL_CHECK_EQ(fl_noise_write_message(p.c, (const uint8_t *)"hi", 2, m1, sizeof m1, &l1), 0);
    fl_noise *reader_proto = which == 0 ? p.s : p.c;
    const uint8_t *msg = m1;
    size_t len = l1;
    if (which == 1) {
      FL_CHECK_EQ(fl_noise_read_message(p.s, m1, l1, pl, sizeof pl, &plen), 0);
      FL_CHECK_EQ(fl_noise_write_message(p.s, (const uint8_t *)"yo", 2, m2, sizeof m2, &l2), 0);
      msg = m2;
      len = l2;
    }
    (void)reader_proto;
    size_t cases = len + 8 * len;
    for (size_t t = 0; t < cases; t++) {
      /* A fresh reader in the same state for every case. */
      ik_pair q;
      FL_CHECK_EQ(ik_pair_new(&q), 0);
      size_t ql;
      uint8_t tmp[128];
      FL_CHECK_EQ(fl_noise_write_message(q.c, (const uint8_t *)"hi", 2, tmp, sizeof tmp, &ql), 0);
      fl_noise *reader = q.s;
      if (which == 1) {
        FL_CHECK_EQ(fl_noise_read_message(q.s, tmp, ql, pl, sizeof pl, &plen), 0);
        FL_CHECK_EQ(fl_noise_write_message(q.s, (const uint8_t *)"yo", 2, tmp, sizeof tmp, &ql), 0);
        reader = q.c;
      }
      memcpy(bad, msg, len);
      size_t blen = len;
      if (t < len) blen = t; /* truncation to t bytes */
      else bad[(t - len) / 8] ^= (uint8_t)(1u << ((t - len) % 8));
      memset(pl, 0xaa, sizeof pl);
      int rc = fl_noise_read_message(reader, bad, blen, pl, sizeof pl, &plen);
      if (rc != FL_ERR_DECODE && rc != FL_ERR_CRYPTO) {
        fl_test_log("  msg%d case %zu: rc %d\n", which + 1, t, rc);
        FL_CHECK(0);
      }
      /* Short of the fixed part is DECODE; everything else reaches an AEAD. */
      if (t < len) FL_CHECK_EQ(rc, blen < (which == 0 ? 96u : 48u) ? FL_ERR_DECODE : FL_ERR_CRYPTO);
      FL_CHECK_EQ(plen, 0);
      for (size_t i = 0; i < sizeof pl; i++) FL_CHECK_EQ(pl[i], 0);
      FL_CHECK_EQ(fl_noise_status(reader), FL_NOISE_FAILED);
      FL_CHECK_EQ(fl_noise_check(reader), 0);
      FL_CHECK_EQ(fl_noise_read_message(reader, msg, len, pl, sizeof pl, &plen), FL_ERR_STATE);
      fl_noise_keys k;
      FL_CHECK_EQ(fl_noise_split(reader, &k), FL_ERR_STATE);
      uint8_t h[64];
      FL_CHECK_EQ(fl_noise_handshake_hash(reader, h), FL_ERR_STATE);
      ik_pair_free(&q);
    }
    ik_pair_free(&p);
  }
}

static void test_noise_small_buffer_changes_nothing(void) {
  ik_pair p;
  FL_CHECK_EQ(ik_pair_new(&p), 0);
  uint8_t m1[128], pl[128];
  size_t l1, plen;
  FL_CHECK_EQ(fl_noise_write_message(p.c, (const uint8_t *)"hello", 5, m1, 100, &l1),
              FL_ERR_BUFFER);
  FL_CHECK_EQ(fl_noise_status(p.c), FL_NOISE_WRITE);
  FL_CHECK_EQ(fl_noise_write_message(p.c, (const uint8_t *)"hello", 5, m1, 101, &l1), 0);
  FL_CHECK_EQ(l1, 101);
  FL_CHECK_EQ(fl_noise_read_message(p.s, m1, l1, pl, 4, &plen), FL_ERR_BUFFER);
  FL_CHECK_EQ(fl_noise_status(p.s), FL_NOISE_READ);
  FL_CHECK_EQ(fl_noise_read_message(p.s, m1, l1, pl, 5, &plen), 0);
  FL_CHECK_EQ(plen, 5);
  FL_CHECK_MEM(pl, "hello", 5);
  ik_pair_free(&p);
}

static void test_noise_message_size_is_bounded(void) {
  ik_pair p;
  FL_CHECK_EQ(ik_pair_new(&p), 0);
  static uint8_t big[FL_NOISE_MSG_MAX + 2], out[FL_NOISE_MSG_MAX + 2];
  size_t len, plen;
  /* msg1 overhead is 96: the largest payload is 65535 - 96. */
  FL_CHECK_EQ(fl_noise_write_size(p.c, FL_NOISE_MSG_MAX - 95), FL_ERR_RANGE);
  FL_CHECK_EQ(fl_noise_write_message(p.c, big, FL_NOISE_MSG_MAX - 95, out, sizeof out, &len),
              FL_ERR_RANGE);
  FL_CHECK_EQ(fl_noise_status(p.c), FL_NOISE_WRITE);
  FL_CHECK_EQ(fl_noise_write_message(p.c, big, FL_NOISE_MSG_MAX - 96, out, sizeof out, &len), 0);
  FL_CHECK_EQ(len, FL_NOISE_MSG_MAX);
  FL_CHECK_EQ(fl_noise_read_message(p.s, out, len, big, sizeof big, &plen), 0);
  FL_CHECK_EQ(plen, FL_NOISE_MSG_MAX - 96);
  ik_pair_free(&p);
  FL_CHECK_EQ(ik_pair_new(&p), 0);
  FL_CHECK_EQ(fl_noise_read_message(p.s, out, FL_NOISE_MSG_MAX + 1, big, sizeof big, &plen),
              FL_ERR_DECODE);
  FL_CHECK_EQ(fl_noise_status(p.s), FL_NOISE_FAILED);
  ik_pair_free(&p);
}

static void test_noise_misuse_is_refused(void) {
  side k;
  keypair(&k, FL_NOISE_DH_ED25519, 9);
  fl_drbg d;
  uint8_t seed[32] = {7};
  fl_drbg_init(&d, seed);
  fl_noise *n = (fl_noise *)1;
  fl_noise_config c = {.pattern = "IK", .dh = FL_NOISE_DH_ED25519, .initiator = true,
                       .static_sk = k.sk, .drbg = &d};
  FL_CHECK_EQ(fl_noise_new(&n, NULL, &c), FL_ERR_INVALID); /* IK initiator needs rs */
  FL_CHECK(n == NULL);
  c.remote_static = k.pk;
  c.pattern = "IKK";
  FL_CHECK_EQ(fl_noise_new(&n, NULL, &c), FL_ERR_INVALID);
  c.pattern = "IK";
  c.dh = (fl_noise_dh)7;
  FL_CHECK_EQ(fl_noise_new(&n, NULL, &c), FL_ERR_INVALID);
  c.dh = FL_NOISE_DH_ED25519;
  c.drbg = NULL;
  FL_CHECK_EQ(fl_noise_new(&n, NULL, &c), FL_ERR_INVALID); /* no randomness for e */
  c.drbg = &d;
  c.static_sk = NULL;
  FL_CHECK_EQ(fl_noise_new(&n, NULL, &c), FL_ERR_INVALID); /* IK sends s */
  c.static_sk = k.sk;
  c.prologue_len = 3;
  FL_CHECK_EQ(fl_noise_new(&n, NULL, &c), FL_ERR_INVALID);
  c.prologue_len = 0;
  FL_CHECK_EQ(fl_noise_new(&n, NULL, &c), 0);
  uint8_t buf[256], pl[64];
  size_t len;
  FL_CHECK_EQ(fl_noise_read_message(n, buf, 100, pl, sizeof pl, &len), FL_ERR_STATE);
  FL_CHECK_EQ(fl_noise_encrypt(n, buf, 1, pl, sizeof pl, &len), FL_ERR_STATE);
  fl_noise_keys keys;
  FL_CHECK_EQ(fl_noise_split(n, &keys), FL_ERR_STATE);
  FL_CHECK_EQ(fl_noise_write_message(n, NULL, 1, buf, sizeof buf, &len), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_noise_write_message(n, NULL, 0, buf, sizeof buf, &len), 0);
  FL_CHECK_EQ(fl_noise_status(n), FL_NOISE_READ);
  FL_CHECK_EQ(fl_noise_write_message(n, NULL, 0, buf, sizeof buf, &len), FL_ERR_STATE);
  FL_CHECK(d.bytes_out >= 32); /* the ephemeral came from the caller's drbg */
  fl_noise_free(n);
  fl_noise_free(NULL);
}

static void test_noise_low_order_remote_key_fails_the_session(void) {
  /* The identity point (y = 1) is of small order: the Ed25519 DH refuses it,
   * and so does X25519 for u = 0. */
  side k;
  keypair(&k, FL_NOISE_DH_ED25519, 5);
  uint8_t ident[32] = {1};
  fl_drbg d;
  uint8_t seed[32] = {3};
  fl_drbg_init(&d, seed);
  fl_noise_config c = {.pattern = "NK", .dh = FL_NOISE_DH_ED25519, .initiator = true,
                       .remote_static = ident, .drbg = &d};
  fl_noise *n;
  FL_CHECK_EQ(fl_noise_new(&n, NULL, &c), 0);
  uint8_t buf[128];
  size_t len = 99;
  memset(buf, 0x55, sizeof buf);
  FL_CHECK_EQ(fl_noise_write_message(n, NULL, 0, buf, sizeof buf, &len), FL_ERR_CRYPTO);
  FL_CHECK_EQ(len, 0);
  for (size_t i = 0; i < 48; i++) FL_CHECK_EQ(buf[i], 0);
  FL_CHECK_EQ(fl_noise_status(n), FL_NOISE_FAILED);
  fl_noise_free(n);
  uint8_t zero[32] = {0};
  c.dh = FL_NOISE_DH_X25519;
  c.remote_static = zero;
  FL_CHECK_EQ(fl_noise_new(&n, NULL, &c), 0);
  FL_CHECK_EQ(fl_noise_write_message(n, NULL, 0, buf, sizeof buf, &len), FL_ERR_CRYPTO);
  fl_noise_free(n);
}

static void test_noise_transport_rejects_forgery_without_failing(void) {
  ik_pair p;
  FL_CHECK_EQ(ik_pair_new(&p), 0);
  uint8_t m[128], pl[64];
  size_t len, plen;
  FL_CHECK_EQ(fl_noise_write_message(p.c, NULL, 0, m, sizeof m, &len), 0);
  FL_CHECK_EQ(fl_noise_read_message(p.s, m, len, pl, sizeof pl, &plen), 0);
  FL_CHECK_EQ(fl_noise_write_message(p.s, NULL, 0, m, sizeof m, &len), 0);
  FL_CHECK_EQ(fl_noise_read_message(p.c, m, len, pl, sizeof pl, &plen), 0);
  FL_CHECK_EQ(fl_noise_encrypt(p.c, (const uint8_t *)"abc", 3, m, sizeof m, &len), 0);
  m[0] ^= 1;
  FL_CHECK_EQ(fl_noise_decrypt(p.s, m, len, pl, sizeof pl, &plen), FL_ERR_CRYPTO);
  FL_CHECK_EQ(fl_noise_decrypt(p.s, m, 15, pl, sizeof pl, &plen), FL_ERR_DECODE);
  m[0] ^= 1;
  FL_CHECK_EQ(fl_noise_decrypt(p.s, m, len, pl, sizeof pl, &plen), 0);
  FL_CHECK_MEM(pl, "abc", 3);
  FL_CHECK_EQ(fl_noise_status(p.s), FL_NOISE_DONE);
  /* Replaying the same ciphertext fails: the nonce moved on. */
  FL_CHECK_EQ(fl_noise_decrypt(p.s, m, len, pl, sizeof pl, &plen), FL_ERR_CRYPTO);
  ik_pair_free(&p);
}

static void test_noise_allocation_failure_is_nomem(void) {
  side k;
  keypair(&k, FL_NOISE_DH_X25519, 4);
  fl_mem_counter mc;
  fl_mem_counter_init(&mc, 1);
  fl_drbg d;
  uint8_t seed[32] = {1};
  fl_drbg_init(&d, seed);
  fl_noise_config c = {.pattern = "NN", .dh = FL_NOISE_DH_X25519, .initiator = true, .drbg = &d};
  fl_noise *n = NULL;
  FL_CHECK_EQ(fl_noise_new(&n, &mc.mem, &c), FL_ERR_NOMEM);
  FL_CHECK(n == NULL);
  fl_mem_counter_init(&mc, 0);
  FL_CHECK_EQ(fl_noise_new(&n, &mc.mem, &c), 0);
  FL_CHECK(mc.bytes_in_use > 0);
  fl_noise_free(n);
  FL_CHECK_EQ(mc.bytes_in_use, 0);
  FL_CHECK_EQ(mc.allocs, mc.frees);
}

static void test_noise_keypair_from_seed_matches_sign_keypair(void) {
  /* The engine's ephemeral (one SHA-512, base mult of the clamped scalar)
   * has the public key crypto_sign_seed_keypair gives for the same seed. */
  uint8_t seed[32], pk[32], sk[64];
  memset(seed, 3, sizeof seed);
  FL_CHECK_EQ(fl_noise_keypair_from_seed(FL_NOISE_DH_ED25519, pk, sk, seed), 64);
  fl_noise_kp kp;
  FL_CHECK_EQ(fl_noise_kp_from_seed(&kp, FL_NOISE_DH_ED25519, seed), 0);
  FL_CHECK_MEM(kp.pk, pk, 32);
  uint8_t want[32];
  fl_test_hex(want, 32, "ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1");
  FL_CHECK_MEM(pk, want, 32);
  FL_CHECK_EQ(fl_noise_keypair_from_seed((fl_noise_dh)0, pk, sk, seed), FL_ERR_INVALID);
}

static void test_noise_check_catches_broken_invariants(void) {
  ik_pair p;
  FL_CHECK_EQ(ik_pair_new(&p), 0);
  FL_CHECK_EQ(fl_noise_check(p.c), 0);
  FL_CHECK_EQ(fl_noise_check(p.s), 0);
  p.s->status = FL_NOISE_WRITE; /* the responder cannot write first */
  FL_CHECK_EQ(fl_noise_check(p.s), FL_ERR_STATE);
  p.s->status = FL_NOISE_DONE;  /* not after zero messages */
  FL_CHECK_EQ(fl_noise_check(p.s), FL_ERR_STATE);
  p.s->status = 99;
  FL_CHECK_EQ(fl_noise_check(p.s), FL_ERR_STATE);
  p.s->status = FL_NOISE_READ;
  p.s->s.set = false;           /* IK's responder needs its static key */
  FL_CHECK_EQ(fl_noise_check(p.s), FL_ERR_STATE);
  p.s->s.set = true;
  FL_CHECK_EQ(fl_noise_check(p.s), 0);
  FL_CHECK_EQ(fl_noise_check(NULL), FL_ERR_INVALID);
  ik_pair_free(&p);
}

/* An empty payload may be passed as (NULL, 0): the unkeyed first message of
 * NN copies nothing and must not hand NULL to memmove (UBSan caught it). */
static void test_noise_null_empty_payload_is_accepted(void) {
  fl_noise_config c = {.pattern = "NN", .dh = FL_NOISE_DH_X25519, .initiator = true};
  fl_noise_config s = {.pattern = "NN", .dh = FL_NOISE_DH_X25519, .initiator = false};
  uint8_t ce[32], se[32];
  memset(ce, 5, sizeof ce);
  memset(se, 6, sizeof se);
  c.ephemeral_sk = ce;
  s.ephemeral_sk = se;
  fl_noise *ci = NULL, *si = NULL;
  FL_CHECK_EQ(fl_noise_new(&ci, NULL, &c), 0);
  FL_CHECK_EQ(fl_noise_new(&si, NULL, &s), 0);
  uint8_t msg[128], out[64];
  size_t len = 0, olen = 99;
  FL_CHECK_EQ(fl_noise_write_message(ci, NULL, 0, msg, sizeof msg, &len), 0);
  FL_CHECK_EQ(len, 32); /* just the ephemeral key */
  FL_CHECK_EQ(fl_noise_read_message(si, msg, len, out, sizeof out, &olen), 0);
  FL_CHECK_EQ(olen, 0);
  FL_CHECK_EQ(fl_noise_write_message(si, NULL, 0, msg, sizeof msg, &len), 0);
  FL_CHECK_EQ(len, 32 + 16); /* ephemeral + tag of the empty payload */
  FL_CHECK_EQ(fl_noise_read_message(ci, msg, len, out, sizeof out, &olen), 0);
  FL_CHECK_EQ(fl_noise_status(ci), FL_NOISE_DONE);
  FL_CHECK_EQ(fl_noise_status(si), FL_NOISE_DONE);
  fl_noise_free(ci);
  fl_noise_free(si);
}

int main(void) {
  if (fl_crypto_init() != 0) return 1;
  FL_RUN(test_noise_hyperdht_ik_vector_matches_reference);
  FL_RUN(test_noise_every_pattern_completes_with_both_dhs);
  FL_RUN(test_noise_read_rejects_every_truncation_and_bit_flip);
  FL_RUN(test_noise_small_buffer_changes_nothing);
  FL_RUN(test_noise_message_size_is_bounded);
  FL_RUN(test_noise_misuse_is_refused);
  FL_RUN(test_noise_low_order_remote_key_fails_the_session);
  FL_RUN(test_noise_transport_rejects_forgery_without_failing);
  FL_RUN(test_noise_allocation_failure_is_nomem);
  FL_RUN(test_noise_keypair_from_seed_matches_sign_keypair);
  FL_RUN(test_noise_check_catches_broken_invariants);
  FL_RUN(test_noise_null_empty_payload_is_accepted);
  return fl_test_done();
}
