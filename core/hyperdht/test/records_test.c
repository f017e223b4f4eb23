/*
 * records_test.c — hyperdht's record messages, targets and signables against
 * the vectors and loopback captures of spec/hyperdht-records.md §2, §5, §8,
 * and every truncation of each message refused with FL_ERR_DECODE.
 */
#include <string.h>

#include "flock/hyperdht.h"
#include "testing/fl_test.h"

static const char *PK_HEX = "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c";
/* §8: the captured ANNOUNCE (113 bytes) and its context. */
static const char *CAP_ANN_HEX =
    "0d8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c017f0000014ac2"
    "871bf90c57f2b550b19b68e95b2411e5075e64e150939e03688b9c35d9901ba1"
    "433b567bdcf8f378a737f1c6eae9bbab78a5409388e374a2d84f2fb936b1d30e"
    "ff0c2a3411a2010000";
static const char *CAP_TARGET = "a594b381a08711a41327c62843d51f9fe46916133521f5af7c685f9265aa4523";
static const char *CAP_NODE_ID = "ea50f55683100864aa622153cff29c6f99eea9e753f8e211d6b01e0a8af2ac6c";
static const char *CAP_TOKEN = "94cc25484a8ba3a3adadf6cd9ddb64107bfa04a06b3737815bdc80db693452c6";
static const char *CAP_LOOKUP_HEX =
    "018a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c017f0000014ac2"
    "ff0c2a3411a2010000";
static const char *MUT_SIG_HEX =
    "210a2e371db5add08771c6527b18f38ab48cd429ff1194e7e3eb7ced8ba69275"
    "87f275792c23cc829f26af8c59b83d00c44ab7821c2952878db6c5daee86b608";

static void keypair01(uint8_t pk[32], uint8_t sk[64]) {
  uint8_t seed[32];
  memset(seed, 1, 32);
  if (fl_crypto_sign_seed_keypair(pk, sk, seed) != 0) abort();
}

static void test_hashes_and_targets_match_the_spec(void) {
  uint8_t h[32], want[32], pk[32], sk[64];
  FL_CHECK_EQ(fl_hyperdht_target(h, NULL, 0), 0);
  fl_test_hex(want, 32, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  FL_CHECK_MEM(h, want, 32);
  keypair01(pk, sk);
  fl_test_hex(want, 32, PK_HEX);
  FL_CHECK_MEM(pk, want, 32);
  FL_CHECK_EQ(fl_hyperdht_target(h, pk, 32), 0);
  fl_test_hex(want, 32, "c5e21ab1c9f6022d81c3b25e3436cb7f1df77f9652ae3e1310c28e621dd87b4c");
  FL_CHECK_MEM(h, want, 32);
  FL_CHECK_EQ(fl_hyperdht_target(h, (const uint8_t *)"hello", 5), 0);
  fl_test_hex(want, 32, "324dcf027dd4a30a932c441f365a25e86b173defa4b8e58948253471b81b72cf");
  FL_CHECK_MEM(h, want, 32);
  FL_CHECK_EQ(fl_hyperdht_target(NULL, pk, 32), FL_ERR_INVALID);
}

static void test_captured_announce_decodes_verifies_and_reencodes(void) {
  uint8_t in[113], out[128], target[32], id[32], token[32];
  size_t len;
  fl_hyperdht_announce a;
  fl_test_hex(in, 113, CAP_ANN_HEX);
  fl_test_hex(target, 32, CAP_TARGET);
  fl_test_hex(id, 32, CAP_NODE_ID);
  fl_test_hex(token, 32, CAP_TOKEN);
  FL_CHECK_EQ(fl_hyperdht_announce_decode(&a, in, sizeof in), 113);
  FL_CHECK(a.has_peer && a.has_signature && !a.has_refresh);
  FL_CHECK_EQ(a.bump, 1795584961036ull);
  FL_CHECK_EQ(a.peer.relays_len, 1);
  FL_CHECK_EQ(a.peer.relays_wire, 1);
  FL_CHECK_EQ(a.peer.relays[0].port, 49738);
  FL_CHECK_EQ(fl_hyperdht_announce_verify(&a, FL_NS_ANNOUNCE, target, id, token), 0);
  /* The same bytes under the other namespace, or another token, fail. */
  FL_CHECK_EQ(fl_hyperdht_announce_verify(&a, FL_NS_UNANNOUNCE, target, id, token),
              FL_ERR_CRYPTO);
  token[0] ^= 1;
  FL_CHECK_EQ(fl_hyperdht_announce_verify(&a, FL_NS_ANNOUNCE, target, id, token),
              FL_ERR_CRYPTO);
  FL_CHECK_EQ(fl_hyperdht_announce_size(&a), 113);
  FL_CHECK_EQ(fl_hyperdht_announce_encode(&a, out, sizeof out, &len), 0);
  FL_CHECK_EQ(len, 113);
  FL_CHECK_MEM(out, in, 113);
  FL_CHECK_EQ(fl_hyperdht_announce_encode(&a, out, 112, &len), FL_ERR_BUFFER);
  FL_CHECK_EQ(len, 0);
}

static void test_announce_signable_vectors(void) {
  uint8_t pk[32], sk[64], t[32], id[32], tok[32], sig[64], signable[64], want[32], out[128];
  size_t len;
  keypair01(pk, sk);
  memset(t, 0xaa, 32);
  memset(id, 0xbb, 32);
  memset(tok, 0xcc, 32);
  fl_hyperdht_announce a;
  memset(&a, 0, sizeof a);
  a.has_peer = true;
  memcpy(a.peer.public_key, pk, 32);
  a.peer.relays_len = 1;
  a.peer.relays[0] = fl_addr_ipv4(127, 0, 0, 1, 49737);
  FL_CHECK_EQ(fl_hyperdht_announce_signable(signable, FL_NS_ANNOUNCE, t, id, tok, &a.peer, NULL), 0);
  fl_test_hex(want, 32, "23faf167bee997119515d21f49c0fe1eadd5d9ecbd3300bd8d8e67d76f7eb402");
  FL_CHECK_MEM(signable + 32, want, 32);
  fl_test_hex(want, 32, "36386adddf9f6fd60db83a6f42fc159d1146aa8644037664230aaa1f0179d497");
  FL_CHECK_MEM(signable, want, 32);
  FL_CHECK_EQ(fl_hyperdht_announce_sign(&a, FL_NS_ANNOUNCE, t, id, tok, sk), 0);
  fl_test_hex(sig, 8, "5bacedecc209316b");
  FL_CHECK_MEM(a.signature, sig, 8);
  fl_test_hex(sig, 4, "b7f75e0e");
  FL_CHECK_MEM(a.signature + 60, sig, 4);
  FL_CHECK_EQ(fl_hyperdht_announce_encode(&a, out, sizeof out, &len), 0);
  /* flags 1 + peer 39 + signature 64. The spec's "105 bytes" counts the
   * peer as 40; hyperdht's own encoder gives 104 (checked in pytest). */
  FL_CHECK_EQ(len, 104);
  FL_CHECK_EQ(out[0], 0x05);
  /* Unannounce with an empty relay list. */
  a.peer.relays_len = 0;
  FL_CHECK_EQ(fl_hyperdht_announce_sign(&a, FL_NS_UNANNOUNCE, t, id, tok, sk), 0);
  fl_test_hex(sig, 8, "562005063fc07cb3");
  FL_CHECK_MEM(a.signature, sig, 8);
  fl_test_hex(sig, 4, "cdaf690f");
  FL_CHECK_MEM(a.signature + 60, sig, 4);
  FL_CHECK_EQ(fl_hyperdht_announce_verify(&a, FL_NS_UNANNOUNCE, t, id, tok), 0);
  FL_CHECK_EQ(fl_hyperdht_announce_signable(signable, 6, t, id, tok, &a.peer, NULL),
              FL_ERR_INVALID);
}

static void test_signature_covers_every_relay_sent(void) {
  /* Five relays signed and sent; the decoder keeps three, yet the signature
   * must still verify over all five (the reference cuts after verifying). */
  uint8_t pk[32], sk[64], t[32], id[32], tok[32], buf[256];
  keypair01(pk, sk);
  memset(t, 1, 32);
  memset(id, 2, 32);
  memset(tok, 3, 32);
  size_t n = 0;
  buf[n++] = 0x05;
  memcpy(buf + n, pk, 32);
  n += 32;
  buf[n++] = 5;
  for (int i = 0; i < 5; i++) {
    uint8_t r[6] = {10, 0, 0, (uint8_t)i, 0x10, 0x27};
    memcpy(buf + n, r, 6);
    n += 6;
  }
  /* Sign over the full peer bytes the way the reference does. */
  fl_hyperdht_peer full;
  FL_CHECK_EQ(fl_hyperdht_peer_decode(&full, buf + 1, n - 1), n - 1);
  FL_CHECK_EQ(full.relays_wire, 5);
  FL_CHECK_EQ(full.relays_len, FL_HYPERDHT_RELAYS_MAX);
  uint8_t signable[64];
  FL_CHECK_EQ(fl_hyperdht_announce_signable(signable, FL_NS_ANNOUNCE, t, id, tok, &full, NULL), 0);
  FL_CHECK_EQ(fl_crypto_sign(buf + n, signable, 64, sk), 0);
  n += 64;
  fl_hyperdht_announce a;
  FL_CHECK_EQ(fl_hyperdht_announce_decode(&a, buf, n), n);
  FL_CHECK_EQ(fl_hyperdht_announce_verify(&a, FL_NS_ANNOUNCE, t, id, tok), 0);
  /* Signed over the first three only: fails against the five sent. */
  a.peer.relays_raw = NULL;
  FL_CHECK_EQ(fl_hyperdht_announce_verify(&a, FL_NS_ANNOUNCE, t, id, tok), FL_ERR_CRYPTO);
}

static void test_lookup_reply_capture_and_bump_default(void) {
  uint8_t in[49], out[64];
  size_t len;
  fl_hyperdht_lookup_reply r;
  fl_test_hex(in, 49, CAP_LOOKUP_HEX);
  FL_CHECK_EQ(fl_hyperdht_lookup_reply_decode(&r, in, 49), 49);
  FL_CHECK_EQ(r.peers_len, 1);
  FL_CHECK_EQ(r.bump, 1795584961036ull);
  FL_CHECK_EQ(r.peers[0].relays[0].port, 49738);
  FL_CHECK_EQ(fl_hyperdht_lookup_reply_encode(&r, out, sizeof out, &len), 0);
  FL_CHECK_EQ(len, 49);
  FL_CHECK_MEM(out, in, 49);
  /* No bump bytes: read as 0, as the reference reads it. */
  FL_CHECK_EQ(fl_hyperdht_lookup_reply_decode(&r, in, 40), 40);
  FL_CHECK_EQ(r.bump, 0);
  FL_CHECK_EQ(r.peers_len, 1);
  /* 21 peers: more than any reference server sends. */
  uint8_t big[1 + 21 * 33];
  memset(big, 0, sizeof big);
  big[0] = 21;
  FL_CHECK_EQ(fl_hyperdht_lookup_reply_decode(&r, big, sizeof big), FL_ERR_DECODE);
  FL_CHECK_EQ(r.peers_len, 0);
}

static void test_mutable_vector_and_roundtrip(void) {
  uint8_t pk[32], sk[64], want[64], out[256];
  size_t len;
  keypair01(pk, sk);
  fl_hyperdht_mutable m, d;
  memset(&m, 0, sizeof m);
  m.seq = 1;
  m.value = (const uint8_t *)"hello";
  m.value_len = 5;
  FL_CHECK_EQ(fl_hyperdht_mutable_sign(&m, sk), 0);
  fl_test_hex(want, 64, MUT_SIG_HEX);
  FL_CHECK_MEM(m.signature, want, 64);
  FL_CHECK_MEM(m.public_key, pk, 32);
  FL_CHECK_EQ(fl_hyperdht_mutable_encode(&m, true, out, sizeof out, &len), 0);
  FL_CHECK_EQ(len, 103);
  FL_CHECK_EQ(out[32], 1);
  FL_CHECK_EQ(out[33], 5);
  FL_CHECK_EQ(fl_hyperdht_mutable_decode(&d, true, out, len), 103);
  FL_CHECK_EQ(d.seq, 1);
  FL_CHECK_EQ(d.value_len, 5);
  FL_CHECK(d.value == out + 34);
  FL_CHECK_EQ(fl_hyperdht_mutable_verify(&d, pk), 0);
  d.seq = 2;
  FL_CHECK_EQ(fl_hyperdht_mutable_verify(&d, pk), FL_ERR_CRYPTO);
  FL_CHECK_EQ(fl_hyperdht_mutable_encode(&m, false, out, sizeof out, &len), 0);
  FL_CHECK_EQ(len, 71);
  FL_CHECK_EQ(fl_hyperdht_mutable_decode(&d, false, out, len), 71);
  FL_CHECK_MEM(d.signature, want, 64);
}

/* Every proper prefix of a valid encoding must be refused, output zeroed. */
static void test_every_truncation_is_refused(void) {
  uint8_t ann[113], look[49], mut[103], peer[39];
  fl_test_hex(ann, 113, CAP_ANN_HEX);
  fl_test_hex(look, 49, CAP_LOOKUP_HEX);
  memcpy(peer, ann + 1, 39);
  uint8_t pk[32], sk[64];
  keypair01(pk, sk);
  fl_hyperdht_mutable m;
  memset(&m, 0, sizeof m);
  m.seq = 1;
  m.value = (const uint8_t *)"hello";
  m.value_len = 5;
  size_t len;
  FL_CHECK_EQ(fl_hyperdht_mutable_sign(&m, sk), 0);
  FL_CHECK_EQ(fl_hyperdht_mutable_encode(&m, true, mut, sizeof mut, &len), 0);
  fl_hyperdht_announce a;
  fl_hyperdht_lookup_reply r;
  fl_hyperdht_peer p;
  fl_hyperdht_mutable d;
  /* The announce's bump is its last field, so every prefix lacks a part. */
  for (size_t i = 0; i < 113; i++) {
    FL_CHECK_EQ(fl_hyperdht_announce_decode(&a, ann, i), FL_ERR_DECODE);
    FL_CHECK(!a.has_peer && a.bump == 0);
  }
  /* The lookup reply's bump may be absent (40 bytes); any other cut fails. */
  for (size_t i = 0; i < 49; i++) {
    int rc = fl_hyperdht_lookup_reply_decode(&r, look, i);
    if (i == 40) {
      FL_CHECK_EQ(rc, 40);
    } else {
      FL_CHECK_EQ(rc, FL_ERR_DECODE);
      FL_CHECK_EQ(r.peers_len, 0);
    }
  }
  for (size_t i = 0; i < 39; i++) FL_CHECK_EQ(fl_hyperdht_peer_decode(&p, peer, i), FL_ERR_DECODE);
  for (size_t i = 0; i < 103; i++) {
    FL_CHECK_EQ(fl_hyperdht_mutable_decode(&d, true, mut, i), FL_ERR_DECODE);
    FL_CHECK(d.value == NULL && d.seq == 0);
  }
}

static void test_overlong_counts_and_bad_varints_are_refused(void) {
  fl_hyperdht_peer p;
  fl_hyperdht_mutable m;
  fl_hyperdht_announce a;
  uint8_t buf[64];
  memset(buf, 0, sizeof buf);
  /* A relay count of 2^32 with nothing behind it. */
  buf[32] = 0xfe;
  buf[33] = buf[34] = buf[35] = 0;
  buf[36] = 1;
  FL_CHECK_EQ(fl_hyperdht_peer_decode(&p, buf, 37), FL_ERR_DECODE);
  /* A varint marker without its bytes, as the announce flags. */
  uint8_t ff[1] = {0xff};
  FL_CHECK_EQ(fl_hyperdht_announce_decode(&a, ff, 1), FL_ERR_DECODE);
  /* A value length past the end. */
  memset(buf, 0, sizeof buf);
  buf[32] = 1;
  buf[33] = 0xfd;
  buf[34] = 0xff;
  buf[35] = 0xff;
  FL_CHECK_EQ(fl_hyperdht_mutable_decode(&m, true, buf, 64), FL_ERR_DECODE);
  FL_CHECK_EQ(m.value_len, 0);
  /* Non-minimal varints decode, as the reference accepts them. */
  uint8_t flags[3] = {0xfd, 0x00, 0x00};
  FL_CHECK_EQ(fl_hyperdht_announce_decode(&a, flags, 3), 3);
  FL_CHECK(!a.has_peer && !a.has_signature);
  /* Misuse. */
  FL_CHECK_EQ(fl_hyperdht_announce_decode(NULL, flags, 3), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_hyperdht_announce_decode(&a, NULL, 3), FL_ERR_INVALID);
  memset(&p, 0, sizeof p);
  p.relays_len = 4;
  FL_CHECK_EQ(fl_hyperdht_peer_size(&p), FL_ERR_INVALID);
  p.relays_len = 1;
  p.relays[0].family = FL_ADDR_IPV6;
  FL_CHECK_EQ(fl_hyperdht_peer_size(&p), FL_ERR_INVALID);
}

int main(void) {
  if (fl_crypto_init() != 0) return 1;
  FL_RUN(test_hashes_and_targets_match_the_spec);
  FL_RUN(test_captured_announce_decodes_verifies_and_reencodes);
  FL_RUN(test_announce_signable_vectors);
  FL_RUN(test_signature_covers_every_relay_sent);
  FL_RUN(test_lookup_reply_capture_and_bump_default);
  FL_RUN(test_mutable_vector_and_roundtrip);
  FL_RUN(test_every_truncation_is_refused);
  FL_RUN(test_overlong_counts_and_bad_varints_are_refused);
  return fl_test_done();
}
