/*
 * store_test.c — the server side of the record commands: what is stored,
 * answered, dropped and counted (spec/hyperdht-records.md §1, §3, §7), the
 * two-generation expiry on virtual time, floods against the limits, and the
 * fail-at-N allocation loop.
 */
#include <string.h>

#include "flock/hyperdht.h"
#include "testing/fl_test.h"

#define S 1000000ull /* one second in us */

static uint8_t NODE_ID[32], TOKEN[32], SEED[32];
static uint8_t BUF[FL_HYPERDHT_REPLY_VALUE_MAX];

static fl_hyperdht_store *new_store(const fl_hyperdht_store_config *cfg, const fl_mem *mem) {
  fl_hyperdht_store *st = NULL;
  memset(SEED, (int)fl_test_seed(), 32);
  if (fl_hyperdht_store_new(&st, mem, cfg, SEED, 0) != 0) return NULL;
  return st;
}

static void keypair(uint8_t pk[32], uint8_t sk[64], uint32_t n) {
  uint8_t seed[32];
  memset(seed, 0, 32);
  memcpy(seed, &n, sizeof n);
  if (fl_crypto_sign_seed_keypair(pk, sk, seed) != 0) abort();
}

static fl_hyperdht_request request(uint64_t cmd, const uint8_t *target, const uint8_t *value,
                                   size_t len) {
  fl_hyperdht_request r;
  memset(&r, 0, sizeof r);
  r.command = cmd;
  r.target = target;
  r.token = TOKEN;
  r.token_valid = true;
  r.value = value;
  r.value_len = len;
  r.from = fl_addr_ipv4(127, 0, 0, 1, 40000);
  r.unix_ms = 1700000000000ull;
  return r;
}

/* Encode a signed (un)announce for key with nrelays relays (any number:
 * the peer bytes are built by hand, as a client sending more than 3 would). */
static size_t announce_value(uint8_t *out, bool un, const uint8_t target[32], uint32_t key,
                             size_t nrelays, uint64_t bump, const uint8_t *refresh) {
  uint8_t pk[32], sk[64], peer[64];
  keypair(pk, sk, key);
  size_t n = 0;
  memcpy(peer, pk, 32);
  n = 32;
  peer[n++] = (uint8_t)nrelays;
  for (size_t i = 0; i < nrelays; i++) {
    uint8_t r[6] = {10, 0, 0, (uint8_t)i, 9, 0};
    memcpy(peer + n, r, 6);
    n += 6;
  }
  fl_hyperdht_peer p;
  if (fl_hyperdht_peer_decode(&p, peer, n) != (int)n) abort();
  uint8_t signable[64];
  if (fl_hyperdht_announce_signable(signable, un ? FL_NS_UNANNOUNCE : FL_NS_ANNOUNCE, target,
                                    NODE_ID, TOKEN, &p, refresh) != 0)
    abort();
  size_t len = 0;
  out[len++] = (uint8_t)(1 | (refresh ? 2 : 0) | 4 | (bump ? 8 : 0));
  memcpy(out + len, peer, n);
  len += n;
  if (refresh != NULL) {
    memcpy(out + len, refresh, 32);
    len += 32;
  }
  if (fl_crypto_sign(out + len, signable, 64, sk) != 0) abort();
  len += 64;
  if (bump != 0) {
    fl_enc_state s;
    fl_enc_state_init(&s, out + len, 9);
    if (fl_enc_uint_encode(&s, bump) != 0) abort();
    len += s.start;
  }
  return len;
}

static int handle(fl_hyperdht_store *st, uint64_t now, const fl_hyperdht_request *r,
                  fl_hyperdht_reply *out) {
  return fl_hyperdht_store_handle(st, now, NODE_ID, r, BUF, sizeof BUF, out);
}

static int lookup(fl_hyperdht_store *st, uint64_t now, const uint8_t target[32],
                  fl_hyperdht_lookup_reply *lr) {
  fl_hyperdht_request r = request(FL_HYPERDHT_CMD_LOOKUP, target, NULL, 0);
  r.token = NULL;
  fl_hyperdht_reply out;
  if (handle(st, now, &r, &out) != 0 || out.action != FL_HYPERDHT_ACTION_REPLY) return -100;
  memset(lr, 0, sizeof *lr);
  if (!out.has_value) return 0;
  int rc = fl_hyperdht_lookup_reply_decode(lr, BUF, out.value_len);
  return rc < 0 ? rc : (int)lr->peers_len;
}

static void test_announce_is_stored_and_looked_up(void) {
  fl_hyperdht_store *st = new_store(NULL, NULL);
  FL_CHECK(st != NULL);
  uint8_t topic[32], val[256];
  memset(topic, 0x42, 32);
  size_t len = announce_value(val, false, topic, 1, 5, 1700000030000ull, NULL);
  fl_hyperdht_request r = request(FL_HYPERDHT_CMD_ANNOUNCE, topic, val, len);
  fl_hyperdht_reply out;
  FL_CHECK_EQ(handle(st, 1, &r, &out), 0);
  FL_CHECK_EQ(out.action, FL_HYPERDHT_ACTION_REPLY);
  FL_CHECK_EQ(out.error, 0);
  FL_CHECK(!out.token && !out.closer_nodes && !out.has_value);
  fl_hyperdht_lookup_reply lr;
  FL_CHECK_EQ(lookup(st, 2, topic, &lr), 1);
  FL_CHECK_EQ(lr.peers[0].relays_wire, 3); /* 5 sent, 3 kept */
  FL_CHECK_EQ(lr.bump, 1700000030000ull);
  /* A bump over 60 s ahead of our clock is ignored; an older one too. */
  len = announce_value(val, false, topic, 2, 0, 1700000070001ull, NULL);
  r = request(FL_HYPERDHT_CMD_ANNOUNCE, topic, val, len);
  FL_CHECK_EQ(handle(st, 3, &r, &out), 0);
  FL_CHECK_EQ(lookup(st, 4, topic, &lr), 2);
  FL_CHECK_EQ(lr.bump, 1700000030000ull);
  /* Re-announcing a fresh record keeps its old relays. */
  len = announce_value(val, false, topic, 1, 1, 0, NULL);
  r = request(FL_HYPERDHT_CMD_ANNOUNCE, topic, val, len);
  FL_CHECK_EQ(handle(st, 5, &r, &out), 0);
  FL_CHECK_EQ(lookup(st, 6, topic, &lr), 2);
  for (size_t i = 0; i < 2; i++) FL_CHECK(lr.peers[i].relays_wire == 3 || lr.peers[i].relays_wire == 0);
  fl_hyperdht_store_stats s;
  fl_hyperdht_store_get_stats(st, &s);
  FL_CHECK_EQ(s.records.current, 2);
  FL_CHECK_EQ(s.topics.current, 1);
  FL_CHECK_EQ(fl_hyperdht_store_check(st), 0);
  fl_hyperdht_store_free(st);
}

static void test_forged_unsigned_and_tokenless_announces_are_dropped(void) {
  fl_hyperdht_store *st = new_store(NULL, NULL);
  uint8_t topic[32], val[256];
  memset(topic, 0x43, 32);
  size_t len = announce_value(val, false, topic, 1, 1, 0, NULL);
  fl_hyperdht_reply out;
  fl_hyperdht_request r;
  /* Every single-bit flip of the signature. */
  for (size_t bit = 0; bit < 64 * 8; bit += 37) {
    val[len - 64 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
    r = request(FL_HYPERDHT_CMD_ANNOUNCE, topic, val, len);
    FL_CHECK_EQ(handle(st, 1, &r, &out), FL_ERR_CRYPTO);
    FL_CHECK_EQ(out.action, FL_HYPERDHT_ACTION_SILENT);
    val[len - 64 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
  }
  /* Signed for another node id, or as an unannounce. */
  uint8_t other[256];
  size_t olen = announce_value(other, true, topic, 1, 1, 0, NULL);
  r = request(FL_HYPERDHT_CMD_ANNOUNCE, topic, other, olen);
  FL_CHECK_EQ(handle(st, 1, &r, &out), FL_ERR_CRYPTO);
  /* Truncated: every prefix is undecodable or unsigned. */
  for (size_t i = 0; i < len; i++) {
    r = request(FL_HYPERDHT_CMD_ANNOUNCE, topic, val, i);
    int rc = handle(st, 1, &r, &out);
    FL_CHECK(rc == FL_ERR_DECODE || rc == FL_ERR_PROTOCOL);
    FL_CHECK_EQ(out.action, FL_HYPERDHT_ACTION_SILENT);
  }
  /* No token: silence. A token we did not issue: error 2 with a token. */
  r = request(FL_HYPERDHT_CMD_ANNOUNCE, topic, val, len);
  r.token = NULL;
  FL_CHECK_EQ(handle(st, 1, &r, &out), FL_ERR_PROTOCOL);
  r = request(FL_HYPERDHT_CMD_ANNOUNCE, topic, val, len);
  r.token_valid = false;
  FL_CHECK_EQ(handle(st, 1, &r, &out), 0);
  FL_CHECK_EQ(out.error, FL_HYPERDHT_REPLY_INVALID_TOKEN);
  FL_CHECK(out.token && out.closer_nodes);
  r = request(FL_HYPERDHT_CMD_ANNOUNCE, NULL, val, len);
  FL_CHECK_EQ(handle(st, 1, &r, &out), FL_ERR_PROTOCOL);
  fl_hyperdht_store_stats s;
  fl_hyperdht_store_get_stats(st, &s);
  FL_CHECK_EQ(s.records.current, 0);
  FL_CHECK_EQ(s.drop_signature, 15); /* 14 flips + the unannounce signature */
  FL_CHECK_EQ(s.drop_no_token, 1);
  FL_CHECK_EQ(s.drop_no_target, 1);
  FL_CHECK_EQ(s.err_invalid_token, 1);
  FL_CHECK_EQ(s.drop_decode + s.drop_no_value + s.drop_signature - 15, len);
  FL_CHECK_EQ(s.replied, 0);
  fl_hyperdht_lookup_reply lr;
  FL_CHECK_EQ(lookup(st, 2, topic, &lr), 0);
  fl_hyperdht_store_free(st);
}

static void test_ephemeral_unknown_and_handshake_commands(void) {
  fl_hyperdht_store *st = new_store(NULL, NULL);
  uint8_t t[32] = {0};
  fl_hyperdht_request r = request(FL_HYPERDHT_CMD_LOOKUP, t, NULL, 0);
  fl_hyperdht_reply out;
  FL_CHECK_EQ(fl_hyperdht_store_handle(st, 1, NULL, &r, BUF, sizeof BUF, &out), 0);
  FL_CHECK_EQ(out.error, FL_HYPERDHT_REPLY_UNKNOWN_COMMAND);
  FL_CHECK(!out.token && out.closer_nodes);
  r.command = 11;
  FL_CHECK_EQ(handle(st, 1, &r, &out), 0);
  FL_CHECK_EQ(out.error, FL_HYPERDHT_REPLY_UNKNOWN_COMMAND);
  r.command = FL_HYPERDHT_CMD_PEER_HANDSHAKE;
  FL_CHECK_EQ(handle(st, 1, &r, &out), 0);
  FL_CHECK_EQ(out.action, FL_HYPERDHT_ACTION_NOT_MINE);
  r.command = FL_HYPERDHT_CMD_PLUGIN;
  FL_CHECK_EQ(handle(st, 1, &r, &out), FL_ERR_PROTOCOL);
  /* Misuse: time going backwards, no output, a buffer too small. */
  r.command = FL_HYPERDHT_CMD_LOOKUP;
  FL_CHECK_EQ(handle(st, 0, &r, &out), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_hyperdht_store_handle(st, 2, NODE_ID, &r, BUF, sizeof BUF, NULL), FL_ERR_INVALID);
  fl_hyperdht_store_stats s;
  fl_hyperdht_store_get_stats(st, &s);
  FL_CHECK_EQ(s.err_unknown_command, 2);
  FL_CHECK_EQ(s.drop_plugin, 1);
  fl_hyperdht_store_free(st);
}

static void test_self_announce_is_a_forward_and_unannounce_removes(void) {
  fl_hyperdht_store *st = new_store(NULL, NULL);
  uint8_t pk[32], sk[64], target[32], val[256];
  keypair(pk, sk, 7);
  FL_CHECK_EQ(fl_hyperdht_target(target, pk, 32), 0);
  size_t len = announce_value(val, false, target, 7, 0, 0, NULL);
  fl_hyperdht_request r = request(FL_HYPERDHT_CMD_ANNOUNCE, target, val, len);
  fl_hyperdht_reply out;
  FL_CHECK_EQ(handle(st, 1, &r, &out), 0);
  r = request(FL_HYPERDHT_CMD_FIND_PEER, target, NULL, 0);
  FL_CHECK_EQ(handle(st, 2, &r, &out), 0);
  FL_CHECK(out.has_value && out.token && out.closer_nodes);
  FL_CHECK_EQ(out.value_len, 33); /* <pk> 00 */
  FL_CHECK_MEM(BUF, pk, 32);
  fl_hyperdht_lookup_reply lr;
  FL_CHECK_EQ(lookup(st, 3, target, &lr), 1); /* 01 <pk> 00 00 */
  FL_CHECK_MEM(lr.peers[0].public_key, pk, 32);
  fl_hyperdht_store_stats s;
  fl_hyperdht_store_get_stats(st, &s);
  FL_CHECK_EQ(s.forwards.current, 1);
  FL_CHECK_EQ(s.records.current, 0);
  /* Unannounce: the forward goes; a second one still answers 0. */
  len = announce_value(val, true, target, 7, 0, 0, NULL);
  for (int i = 0; i < 2; i++) {
    r = request(FL_HYPERDHT_CMD_UNANNOUNCE, target, val, len);
    FL_CHECK_EQ(handle(st, 4, &r, &out), 0);
    FL_CHECK(out.error == 0 && !out.token && !out.closer_nodes);
  }
  r = request(FL_HYPERDHT_CMD_FIND_PEER, target, NULL, 0);
  FL_CHECK_EQ(handle(st, 5, &r, &out), 0);
  FL_CHECK(!out.has_value);
  /* A topic record goes too, and its topic with it. */
  uint8_t topic[32];
  memset(topic, 9, 32);
  len = announce_value(val, false, topic, 7, 2, 0, NULL);
  r = request(FL_HYPERDHT_CMD_ANNOUNCE, topic, val, len);
  FL_CHECK_EQ(handle(st, 6, &r, &out), 0);
  FL_CHECK_EQ(lookup(st, 7, topic, &lr), 1);
  len = announce_value(val, true, topic, 7, 0, 0, NULL);
  r = request(FL_HYPERDHT_CMD_UNANNOUNCE, topic, val, len);
  FL_CHECK_EQ(handle(st, 8, &r, &out), 0);
  FL_CHECK_EQ(lookup(st, 9, topic, &lr), 0);
  fl_hyperdht_store_get_stats(st, &s);
  FL_CHECK_EQ(s.topics.current, 0);
  FL_CHECK_EQ(fl_hyperdht_store_check(st), 0);
  fl_hyperdht_store_free(st);
}

static void test_refresh_chain_restores_a_record(void) {
  fl_hyperdht_store *st = new_store(NULL, NULL);
  uint8_t topic[32], secret[32], link[32], val[256];
  memset(topic, 5, 32);
  memset(secret, 6, 32);
  FL_CHECK_EQ(fl_hyperdht_target(link, secret, 32), 0);
  size_t len = announce_value(val, false, topic, 3, 1, 0, link);
  fl_hyperdht_request r = request(FL_HYPERDHT_CMD_ANNOUNCE, topic, val, len);
  fl_hyperdht_reply out;
  FL_CHECK_EQ(handle(st, 1, &r, &out), 0);
  uint8_t un[256];
  size_t ulen = announce_value(un, true, topic, 3, 0, 0, NULL);
  r = request(FL_HYPERDHT_CMD_UNANNOUNCE, topic, un, ulen);
  FL_CHECK_EQ(handle(st, 2, &r, &out), 0);
  fl_hyperdht_lookup_reply lr;
  FL_CHECK_EQ(lookup(st, 3, topic, &lr), 0);
  /* Refresh-only (flags 0x02): reveal the preimage of the remembered link. */
  uint8_t ref[33];
  ref[0] = 0x02;
  memcpy(ref + 1, secret, 32);
  r = request(FL_HYPERDHT_CMD_ANNOUNCE, topic, ref, 33);
  FL_CHECK_EQ(handle(st, 4, &r, &out), 0);
  FL_CHECK(out.error == 0 && !out.token);
  FL_CHECK_EQ(lookup(st, 5, topic, &lr), 1);
  /* The link itself (not its preimage) is unknown. */
  memcpy(ref + 1, link, 32);
  r = request(FL_HYPERDHT_CMD_ANNOUNCE, topic, ref, 33);
  FL_CHECK_EQ(handle(st, 6, &r, &out), FL_ERR_PROTOCOL);
  fl_hyperdht_store_stats s;
  fl_hyperdht_store_get_stats(st, &s);
  FL_CHECK_EQ(s.drop_refresh_unknown, 1);
  FL_CHECK_EQ(s.refreshes.current, 1);
  fl_hyperdht_store_free(st);
}

static void test_lookup_returns_a_sample_of_twenty(void) {
  fl_hyperdht_store *st = new_store(NULL, NULL);
  uint8_t topic[32], val[256];
  memset(topic, 0x26, 32);
  fl_hyperdht_reply out;
  for (uint32_t k = 0; k < 26; k++) {
    size_t len = announce_value(val, false, topic, 100 + k, 1, 0, NULL);
    fl_hyperdht_request r = request(FL_HYPERDHT_CMD_ANNOUNCE, topic, val, len);
    FL_CHECK_EQ(handle(st, 1, &r, &out), 0);
  }
  fl_hyperdht_lookup_reply lr;
  bool seen[26] = {false};
  for (int round = 0; round < 20; round++) {
    FL_CHECK_EQ(lookup(st, 2, topic, &lr), 20);
    for (size_t i = 0; i < 20; i++)
      for (size_t j = i + 1; j < 20; j++)
        FL_CHECK(memcmp(lr.peers[i].public_key, lr.peers[j].public_key, 32) != 0);
    for (size_t i = 0; i < 20; i++)
      for (uint32_t k = 0; k < 26; k++) {
        uint8_t pk[32], sk[64];
        keypair(pk, sk, 100 + k);
        if (memcmp(pk, lr.peers[i].public_key, 32) == 0) seen[k] = true;
      }
  }
  /* Random, not the first twenty: all 26 show up over 20 rounds. */
  for (int k = 0; k < 26; k++) FL_CHECK(seen[k]);
  FL_CHECK_EQ(fl_hyperdht_store_check(st), 0);
  fl_hyperdht_store_free(st);
}

static size_t mutable_put_value(uint8_t *out, uint32_t key, uint64_t seq, const char *v) {
  uint8_t pk[32], sk[64];
  keypair(pk, sk, key);
  fl_hyperdht_mutable m;
  memset(&m, 0, sizeof m);
  m.seq = seq;
  m.value = (const uint8_t *)v;
  m.value_len = strlen(v);
  size_t len;
  if (fl_hyperdht_mutable_sign(&m, sk) != 0 ||
      fl_hyperdht_mutable_encode(&m, true, out, 4096, &len) != 0)
    abort();
  return len;
}

static uint64_t MPUT_NOW = 1;

static int mput(fl_hyperdht_store *st, uint32_t key, uint64_t seq, const char *v,
                fl_hyperdht_reply *out) {
  uint8_t val[4096], pk[32], sk[64], target[32];
  keypair(pk, sk, key);
  if (fl_hyperdht_target(target, pk, 32) != 0) abort();
  size_t len = mutable_put_value(val, key, seq, v);
  fl_hyperdht_request r = request(FL_HYPERDHT_CMD_MUTABLE_PUT, target, val, len);
  return handle(st, MPUT_NOW, &r, out);
}

static void test_mutable_sequence_rules(void) {
  fl_hyperdht_store *st = new_store(NULL, NULL);
  fl_hyperdht_reply out;
  FL_CHECK_EQ(mput(st, 1, 1, "hello", &out), 0);
  FL_CHECK(out.error == 0 && out.token && !out.has_value);
  FL_CHECK_EQ(mput(st, 1, 2, "world", &out), 0);
  FL_CHECK_EQ(out.error, 0);
  FL_CHECK_EQ(mput(st, 1, 1, "stale", &out), 0);
  FL_CHECK_EQ(out.error, FL_HYPERDHT_REPLY_SEQ_TOO_LOW);
  FL_CHECK(!out.token && out.closer_nodes);
  FL_CHECK_EQ(mput(st, 1, 2, "other", &out), 0);
  FL_CHECK_EQ(out.error, FL_HYPERDHT_REPLY_SEQ_REUSED);
  FL_CHECK_EQ(mput(st, 1, 2, "world", &out), 0);
  FL_CHECK_EQ(out.error, 0);
  /* GET: the highest stored; minSeq above it gives no value. */
  uint8_t pk[32], sk[64], target[32], seq[1] = {0};
  keypair(pk, sk, 1);
  FL_CHECK_EQ(fl_hyperdht_target(target, pk, 32), 0);
  fl_hyperdht_request r = request(FL_HYPERDHT_CMD_MUTABLE_GET, target, seq, 1);
  r.token = NULL;
  FL_CHECK_EQ(handle(st, 2, &r, &out), 0);
  FL_CHECK(out.has_value);
  fl_hyperdht_mutable m;
  FL_CHECK(fl_hyperdht_mutable_decode(&m, false, BUF, out.value_len) > 0);
  FL_CHECK_EQ(m.seq, 2);
  FL_CHECK(m.value_len == 5 && memcmp(m.value, "world", 5) == 0);
  FL_CHECK_EQ(fl_hyperdht_mutable_verify(&m, pk), 0);
  seq[0] = 3;
  FL_CHECK_EQ(handle(st, 3, &r, &out), 0);
  FL_CHECK(!out.has_value && out.error == 0);
  r.value = NULL;
  r.value_len = 0;
  FL_CHECK_EQ(handle(st, 3, &r, &out), FL_ERR_PROTOCOL);
  /* Empty values are accepted. */
  MPUT_NOW = 3;
  FL_CHECK_EQ(mput(st, 2, 0, "", &out), 0);
  MPUT_NOW = 1;
  FL_CHECK_EQ(out.error, 0);
  fl_hyperdht_store_stats s;
  fl_hyperdht_store_get_stats(st, &s);
  FL_CHECK_EQ(s.err_seq_too_low, 1);
  FL_CHECK_EQ(s.err_seq_reused, 1);
  FL_CHECK_EQ(s.mutables.current, 2);
  fl_hyperdht_store_free(st);
}

static void test_mutable_forgeries_and_oversize_are_dropped(void) {
  fl_hyperdht_store *st = new_store(NULL, NULL);
  uint8_t val[4096], pk[32], sk[64], target[32];
  keypair(pk, sk, 1);
  FL_CHECK_EQ(fl_hyperdht_target(target, pk, 32), 0);
  size_t len = mutable_put_value(val, 1, 1, "hello");
  fl_hyperdht_reply out;
  /* A forged signature, a wrong target, a truncated request. */
  val[len - 1] ^= 1;
  fl_hyperdht_request r = request(FL_HYPERDHT_CMD_MUTABLE_PUT, target, val, len);
  FL_CHECK_EQ(handle(st, 1, &r, &out), FL_ERR_CRYPTO);
  val[len - 1] ^= 1;
  uint8_t wrong[32];
  memset(wrong, 0, 32);
  r = request(FL_HYPERDHT_CMD_MUTABLE_PUT, wrong, val, len);
  FL_CHECK_EQ(handle(st, 1, &r, &out), FL_ERR_CRYPTO);
  r = request(FL_HYPERDHT_CMD_MUTABLE_PUT, target, val, len - 1);
  FL_CHECK_EQ(handle(st, 1, &r, &out), FL_ERR_DECODE);
  /* A value over FL_HYPERDHT_VALUE_MAX, signed correctly. */
  static char big[FL_HYPERDHT_VALUE_MAX + 2];
  memset(big, 'x', FL_HYPERDHT_VALUE_MAX + 1);
  fl_hyperdht_mutable m;
  memset(&m, 0, sizeof m);
  m.seq = 1;
  m.value = (const uint8_t *)big;
  m.value_len = FL_HYPERDHT_VALUE_MAX + 1;
  FL_CHECK_EQ(fl_hyperdht_mutable_sign(&m, sk), 0);
  FL_CHECK_EQ(fl_hyperdht_mutable_size(&m, true), FL_ERR_INVALID);
  /* Build it by hand: the encoder refuses too. */
  size_t n = 0;
  memcpy(val, pk, 32);
  n = 32;
  val[n++] = 1;
  val[n++] = 0xfd;
  val[n++] = (uint8_t)((FL_HYPERDHT_VALUE_MAX + 1) & 0xff);
  val[n++] = (uint8_t)((FL_HYPERDHT_VALUE_MAX + 1) >> 8);
  memcpy(val + n, big, FL_HYPERDHT_VALUE_MAX + 1);
  n += FL_HYPERDHT_VALUE_MAX + 1;
  memcpy(val + n, m.signature, 64);
  n += 64;
  r = request(FL_HYPERDHT_CMD_MUTABLE_PUT, target, val, n);
  FL_CHECK_EQ(handle(st, 1, &r, &out), FL_ERR_RANGE);
  fl_hyperdht_store_stats s;
  fl_hyperdht_store_get_stats(st, &s);
  FL_CHECK_EQ(s.drop_signature, 1);
  FL_CHECK_EQ(s.drop_hash, 1);
  FL_CHECK_EQ(s.drop_decode, 1);
  FL_CHECK_EQ(s.drop_too_large, 1);
  FL_CHECK_EQ(s.mutables.current, 0);
  fl_hyperdht_store_free(st);
}

static void test_immutable_put_get_and_wrong_hash(void) {
  fl_hyperdht_store *st = new_store(NULL, NULL);
  uint8_t h[32];
  FL_CHECK_EQ(fl_hyperdht_target(h, (const uint8_t *)"hello", 5), 0);
  fl_hyperdht_request r = request(FL_HYPERDHT_CMD_IMMUTABLE_PUT, h, (const uint8_t *)"hello", 5);
  fl_hyperdht_reply out;
  FL_CHECK_EQ(handle(st, 1, &r, &out), 0);
  FL_CHECK(out.error == 0 && !out.has_value);
  r = request(FL_HYPERDHT_CMD_IMMUTABLE_PUT, h, (const uint8_t *)"hellp", 5);
  FL_CHECK_EQ(handle(st, 1, &r, &out), FL_ERR_CRYPTO);
  r = request(FL_HYPERDHT_CMD_IMMUTABLE_PUT, h, (const uint8_t *)"hello", 5);
  r.token = NULL;
  FL_CHECK_EQ(handle(st, 1, &r, &out), FL_ERR_PROTOCOL);
  r = request(FL_HYPERDHT_CMD_IMMUTABLE_GET, h, NULL, 0);
  FL_CHECK_EQ(handle(st, 2, &r, &out), 0);
  FL_CHECK(out.has_value && out.value_len == 5 && memcmp(BUF, "hello", 5) == 0);
  /* The reply buffer too small: nothing counted, nothing written. */
  uint8_t small[4];
  FL_CHECK_EQ(fl_hyperdht_store_handle(st, 2, NODE_ID, &r, small, sizeof small, &out),
              FL_ERR_BUFFER);
  FL_CHECK_EQ(out.action, FL_HYPERDHT_ACTION_SILENT);
  uint8_t empty_h[32];
  FL_CHECK_EQ(fl_hyperdht_target(empty_h, NULL, 0), 0);
  r = request(FL_HYPERDHT_CMD_IMMUTABLE_PUT, empty_h, (const uint8_t *)"", 0);
  FL_CHECK_EQ(handle(st, 3, &r, &out), 0);
  fl_hyperdht_store_stats s;
  fl_hyperdht_store_get_stats(st, &s);
  FL_CHECK_EQ(s.drop_hash, 1);
  FL_CHECK_EQ(s.immutables.current, 2);
  fl_hyperdht_store_free(st);
}

static void test_records_expire_in_two_generations(void) {
  fl_hyperdht_store *st = new_store(NULL, NULL);
  uint8_t topic[32], val[256];
  memset(topic, 0x77, 32);
  size_t len = announce_value(val, false, topic, 1, 1, 0, NULL);
  fl_hyperdht_request r = request(FL_HYPERDHT_CMD_ANNOUNCE, topic, val, len);
  fl_hyperdht_reply out;
  FL_CHECK_EQ(handle(st, 1, &r, &out), 0);
  uint64_t tick = fl_hyperdht_store_next_deadline(st);
  FL_CHECK_EQ(tick, 800 * S); /* ceil(2/3 * 20 min) */
  fl_hyperdht_lookup_reply lr;
  FL_CHECK_EQ(fl_hyperdht_store_handle_timeout(st, tick - 1), 0);
  FL_CHECK_EQ(lookup(st, tick - 1, topic, &lr), 1);
  /* First tick: stale but still served. An early or repeated call is a no-op. */
  FL_CHECK_EQ(fl_hyperdht_store_handle_timeout(st, tick), 0);
  FL_CHECK_EQ(fl_hyperdht_store_handle_timeout(st, tick), 0);
  FL_CHECK_EQ(lookup(st, tick, topic, &lr), 1);
  /* Second tick: gone, and so is its topic. */
  uint64_t tick2 = fl_hyperdht_store_next_deadline(st);
  FL_CHECK_EQ(tick2, 1600 * S);
  FL_CHECK_EQ(fl_hyperdht_store_handle_timeout(st, tick2), 0);
  FL_CHECK_EQ(lookup(st, tick2, topic, &lr), 0);
  fl_hyperdht_store_stats s;
  fl_hyperdht_store_get_stats(st, &s);
  FL_CHECK_EQ(s.topics.current, 0);
  FL_CHECK_EQ(s.records.evicted, 1);
  /* Re-announcing a stale record makes it fresh: it survives one more tick. */
  FL_CHECK_EQ(handle(st, tick2 + 1, &r, &out), 0);
  FL_CHECK_EQ(fl_hyperdht_store_handle_timeout(st, 2400 * S), 0);
  FL_CHECK_EQ(handle(st, 2400 * S, &r, &out), 0);
  FL_CHECK_EQ(fl_hyperdht_store_handle_timeout(st, 3200 * S), 0);
  FL_CHECK_EQ(lookup(st, 3200 * S, topic, &lr), 1);
  /* Mutables live for 48 h: after 2 * 32 h they are gone, reads refresh. */
  MPUT_NOW = 3200 * S;
  FL_CHECK_EQ(mput(st, 9, 1, "v", &out), 0);
  MPUT_NOW = 1;
  fl_hyperdht_store_get_stats(st, &s);
  FL_CHECK_EQ(s.mutables.current, 1);
  uint64_t t = 3200 * S;
  for (int i = 0; i < 1000 && s.mutables.current > 0; i++) {
    t = fl_hyperdht_store_next_deadline(st);
    FL_CHECK_EQ(fl_hyperdht_store_handle_timeout(st, t), 0);
    fl_hyperdht_store_get_stats(st, &s);
  }
  FL_CHECK_EQ(s.mutables.current, 0);
  FL_CHECK(t >= 64ull * 3600 * S && t <= 3200 * S + 64ull * 3600 * S);
  FL_CHECK_EQ(fl_hyperdht_store_check(st), 0);
  fl_hyperdht_store_free(st);
}

static void test_floods_stay_within_the_limits(void) {
  fl_hyperdht_store_config cfg;
  fl_hyperdht_store_config_default(&cfg);
  cfg.records_max = 64;
  cfg.mutables_max = 32;
  cfg.immutables_max = 32;
  cfg.value_bytes_max = 4 * FL_HYPERDHT_REPLY_VALUE_MAX;
  fl_mem_counter mc;
  fl_mem_counter_init(&mc, 0);
  fl_hyperdht_store *st = new_store(&cfg, &mc.mem);
  FL_CHECK(st != NULL);
  uint8_t topic[32], val[256];
  fl_hyperdht_reply out;
  /* 1000 announcers over 10 topics. */
  for (uint32_t k = 0; k < 1000; k++) {
    memset(topic, (int)(k % 10), 32);
    size_t len = announce_value(val, false, topic, k, 3, 0, NULL);
    fl_hyperdht_request r = request(FL_HYPERDHT_CMD_ANNOUNCE, topic, val, len);
    FL_CHECK_EQ(handle(st, 1, &r, &out), 0);
  }
  FL_CHECK_EQ(fl_hyperdht_store_check(st), 0);
  fl_hyperdht_store_stats s;
  fl_hyperdht_store_get_stats(st, &s);
  /* record-cache rotates once fresh exceeds max: at most max + 1 fresh
   * and max + 1 stale at the instant before a rotation. */
  FL_CHECK(s.records.high_water <= 2 * (cfg.records_max + 1));
  FL_CHECK(s.records.high_water > cfg.records_max);
  FL_CHECK(s.records.current <= 2 * (cfg.records_max + 1));
  FL_CHECK(s.records.evicted >= 1000 - s.records.current - 0);
  FL_CHECK(s.records.rotations >= 1000 / (cfg.records_max + 1) - 1);
  /* Immutables near the size limit: the byte budget rotates first. */
  static uint8_t blob[FL_HYPERDHT_VALUE_MAX];
  for (uint32_t k = 0; k < 200; k++) {
    memset(blob, 0, sizeof blob);
    memcpy(blob, &k, sizeof k);
    uint8_t h[32];
    FL_CHECK_EQ(fl_hyperdht_target(h, blob, sizeof blob), 0);
    fl_hyperdht_request r = request(FL_HYPERDHT_CMD_IMMUTABLE_PUT, h, blob, sizeof blob);
    FL_CHECK_EQ(handle(st, 2, &r, &out), 0);
  }
  fl_hyperdht_store_get_stats(st, &s);
  FL_CHECK(s.immutables.bytes_high_water <= cfg.value_bytes_max);
  FL_CHECK(s.immutables.high_water <= 2 * cfg.immutables_max);
  FL_CHECK(s.immutables.evicted > 0);
  MPUT_NOW = 2;
  for (uint32_t k = 0; k < 200; k++) FL_CHECK_EQ(mput(st, k, 1, "x", &out), 0);
  MPUT_NOW = 1;
  fl_hyperdht_store_get_stats(st, &s);
  FL_CHECK(s.mutables.high_water <= 2 * cfg.mutables_max);
  FL_CHECK_EQ(fl_hyperdht_store_check(st), 0);
  fl_test_log("  flood: records peak %llu (bound %zu), immutables peak %llu entries / %llu bytes "
         "(bound %zu bytes), memory peak %llu bytes\n",
         (unsigned long long)s.records.high_water, 2 * (cfg.records_max + 1),
         (unsigned long long)s.immutables.high_water,
         (unsigned long long)s.immutables.bytes_high_water, cfg.value_bytes_max,
         (unsigned long long)mc.bytes_peak);
  fl_hyperdht_store_free(st);
  FL_CHECK_EQ(mc.bytes_in_use, 0);
}

/* SQLite's loop: fail allocation N for N = 1, 2, ... until a run completes. */
static void test_allocation_failures_leave_a_consistent_store(void) {
  enum { KEYS = 12 };
  static uint8_t topics[KEYS][32], vals[KEYS][256];
  size_t lens[KEYS];
  for (uint32_t k = 0; k < KEYS; k++) {
    memset(topics[k], (int)(k % 3), 32);
    lens[k] = announce_value(vals[k], false, topics[k], k, 1, 0, NULL);
  }
  bool done = false;
  for (uint64_t n = 1; n < 500 && !done; n++) {
    fl_mem_counter mc;
    fl_mem_counter_init(&mc, n);
    fl_hyperdht_store *st = NULL;
    memset(SEED, 1, 32);
    int rc = fl_hyperdht_store_new(&st, &mc.mem, NULL, SEED, 0);
    if (rc != 0) {
      FL_CHECK_EQ(rc, FL_ERR_NOMEM);
      FL_CHECK_EQ(mc.bytes_in_use, 0);
      continue;
    }
    fl_hyperdht_reply out;
    int fails = 0;
    for (uint32_t k = 0; k < KEYS; k++) {
      fl_hyperdht_request r = request(FL_HYPERDHT_CMD_ANNOUNCE, topics[k], vals[k], lens[k]);
      rc = handle(st, 1, &r, &out);
      FL_CHECK(rc == 0 || rc == FL_ERR_NOMEM);
      fails += rc != 0;
      FL_CHECK_EQ(fl_hyperdht_store_check(st), 0);
      rc = mput(st, k, 1, "v", &out);
      FL_CHECK(rc == 0 || rc == FL_ERR_NOMEM);
      fails += rc != 0;
      FL_CHECK_EQ(fl_hyperdht_store_check(st), 0);
    }
    fl_hyperdht_store_free(st);
    FL_CHECK_EQ(mc.bytes_in_use, 0);
    done = fails == 0;
  }
  FL_CHECK(done);
}

int main(void) {
  if (fl_crypto_init() != 0) return 1;
  memset(NODE_ID, 0xbb, 32);
  memset(TOKEN, 0xcc, 32);
  FL_RUN(test_announce_is_stored_and_looked_up);
  FL_RUN(test_forged_unsigned_and_tokenless_announces_are_dropped);
  FL_RUN(test_ephemeral_unknown_and_handshake_commands);
  FL_RUN(test_self_announce_is_a_forward_and_unannounce_removes);
  FL_RUN(test_refresh_chain_restores_a_record);
  FL_RUN(test_lookup_returns_a_sample_of_twenty);
  FL_RUN(test_mutable_sequence_rules);
  FL_RUN(test_mutable_forgeries_and_oversize_are_dropped);
  FL_RUN(test_immutable_put_get_and_wrong_hash);
  FL_RUN(test_records_expire_in_two_generations);
  FL_RUN(test_floods_stay_within_the_limits);
  FL_RUN(test_allocation_failures_leave_a_consistent_store);
  return fl_test_done();
}
