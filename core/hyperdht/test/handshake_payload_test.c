/*
 * handshake_payload_test.c — hyperdht's noisePayload codec (spec/noise.md §8
 * examples) and the IK handshake with its final keys (§9).
 */
#include <string.h>

#include "flock/hyperdht.h"
#include "testing/fl_test.h"

static const char *CLIENT_HEX = "011a0000017f000001409c0100fe443322110001";
static const char *SERVER_HEX =
    "011b000300017f00000149c27f00000151c3017f00000150c30100fe887766550001";

static void client_payload(fl_hyperdht_noise_payload *p) {
  fl_hyperdht_noise_payload_init(p);
  p->addresses4_len = 1;
  p->addresses4[0] = fl_addr_ipv4(127, 0, 0, 1, 40000);
  p->has_udx = true;
  p->udx.id = 0x11223344;
  p->has_secret_stream = true;
}

static void server_payload(fl_hyperdht_noise_payload *p) {
  fl_hyperdht_noise_payload_init(p);
  p->firewall = FL_HYPERDHT_FIREWALL_RANDOM;
  p->has_holepunch = true;
  p->holepunch.relays_len = 1;
  p->holepunch.relays[0].relay_address = fl_addr_ipv4(127, 0, 0, 1, 49737);
  p->holepunch.relays[0].peer_address = fl_addr_ipv4(127, 0, 0, 1, 50001);
  p->addresses4_len = 1;
  p->addresses4[0] = fl_addr_ipv4(127, 0, 0, 1, 50000);
  p->has_udx = true;
  p->udx.id = 0x55667788;
  p->has_secret_stream = true;
}

static void test_payload_encodes_the_spec_examples(void) {
  fl_hyperdht_noise_payload p, q;
  uint8_t out[128], want[64];
  size_t len;
  client_payload(&p);
  FL_CHECK_EQ(fl_hyperdht_noise_payload_size(&p), 20);
  FL_CHECK_EQ(fl_hyperdht_noise_payload_encode(&p, out, sizeof out, &len), 0);
  fl_test_hex(want, 20, CLIENT_HEX);
  FL_CHECK_EQ(len, 20);
  FL_CHECK_MEM(out, want, 20);
  FL_CHECK_EQ(fl_hyperdht_noise_payload_decode(&q, out, len), 20);
  FL_CHECK(q.has_udx && q.udx.id == 0x11223344 && q.udx.version == 1 && !q.udx.reusable_socket);
  FL_CHECK(q.has_secret_stream && !q.has_holepunch && !q.has_relay_addresses);
  FL_CHECK(fl_addr_equal(&q.addresses4[0], &p.addresses4[0]));
  server_payload(&p);
  FL_CHECK_EQ(fl_hyperdht_noise_payload_encode(&p, out, sizeof out, &len), 0);
  fl_test_hex(want, 34, SERVER_HEX);
  FL_CHECK_EQ(len, 34);
  FL_CHECK_MEM(out, want, 34);
  FL_CHECK_EQ(fl_hyperdht_noise_payload_encode(&p, out, 33, &len), FL_ERR_BUFFER);
  FL_CHECK_EQ(fl_hyperdht_noise_payload_decode(&q, want, 34), 34);
  FL_CHECK_EQ(q.firewall, FL_HYPERDHT_FIREWALL_RANDOM);
  FL_CHECK_EQ(q.holepunch.relays_len, 1);
  FL_CHECK_EQ(q.holepunch.relays[0].peer_address.port, 50001);
}

static void test_payload_relay_through_and_empty_relay_addresses(void) {
  /* spec §8: 01 38 00 00 01 01 07 00 01 01 00 <32 x ee> <32 x dd>, then an
   * empty relayAddresses list (flag 64 set by a non-null empty list). */
  fl_hyperdht_noise_payload p, q;
  fl_hyperdht_noise_payload_init(&p);
  p.has_udx = true;
  p.udx.reusable_socket = true;
  p.udx.id = 7;
  p.has_secret_stream = true;
  p.has_relay_through = true;
  memset(p.relay_through.public_key, 0xee, 32);
  memset(p.relay_through.token, 0xdd, 32);
  uint8_t out[128];
  size_t len;
  FL_CHECK_EQ(fl_hyperdht_noise_payload_encode(&p, out, sizeof out, &len), 0);
  uint8_t head[11];
  fl_test_hex(head, 11, "0138000001010700010100");
  FL_CHECK_EQ(len, 75);
  FL_CHECK_MEM(out, head, 11);
  p.has_relay_addresses = true;
  FL_CHECK_EQ(fl_hyperdht_noise_payload_encode(&p, out, sizeof out, &len), 0);
  FL_CHECK_EQ(len, 76);
  FL_CHECK_EQ(out[1], 0x78);
  FL_CHECK_EQ(out[75], 0);
  FL_CHECK_EQ(fl_hyperdht_noise_payload_decode(&q, out, len), 76);
  FL_CHECK(q.has_relay_addresses && q.relay_addresses_len == 0 && q.udx.reusable_socket);
  FL_CHECK_MEM(q.relay_through.token, p.relay_through.token, 32);
}

static void test_payload_decode_rejects_every_truncation(void) {
  uint8_t in[64];
  fl_test_hex(in, 34, SERVER_HEX);
  fl_hyperdht_noise_payload q;
  for (size_t n = 0; n < 34; n++) {
    memset(&q, 0x5a, sizeof q);
    FL_CHECK_EQ(fl_hyperdht_noise_payload_decode(&q, in, n), FL_ERR_DECODE);
    FL_CHECK_EQ(q.version, 0);
    FL_CHECK(!q.has_udx);
  }
  /* Trailing bytes are ignored (forward compatibility). */
  in[34] = 0x99;
  FL_CHECK_EQ(fl_hyperdht_noise_payload_decode(&q, in, 35), 34);
}

static void test_payload_decode_rejects_bad_varints_and_long_lists(void) {
  fl_hyperdht_noise_payload q;
  uint8_t bad1[] = {0x01, 0xfd, 0x02};        /* flags varint cut short */
  FL_CHECK_EQ(fl_hyperdht_noise_payload_decode(&q, bad1, sizeof bad1), FL_ERR_DECODE);
  uint8_t bad2[] = {0xff, 1, 0, 0, 0};        /* 9-byte version varint cut short */
  FL_CHECK_EQ(fl_hyperdht_noise_payload_decode(&q, bad2, sizeof bad2), FL_ERR_DECODE);
  /* addresses4 claiming 33 elements, with the bytes there: over our MAX. */
  uint8_t big[4 + 1 + 33 * 6] = {0x01, 0x02, 0x00, 0x00, 33};
  FL_CHECK_EQ(fl_hyperdht_noise_payload_decode(&q, big, sizeof big), FL_ERR_DECODE);
  big[4] = 32;
  FL_CHECK_EQ(fl_hyperdht_noise_payload_decode(&q, big, sizeof big - 6), (int)sizeof big - 6);
  FL_CHECK_EQ(q.addresses4_len, 32);
  /* A count larger than the bytes left. */
  uint8_t liar[] = {0x01, 0x02, 0x00, 0x00, 0x05, 1, 2, 3, 4, 5, 6};
  FL_CHECK_EQ(fl_hyperdht_noise_payload_decode(&q, liar, sizeof liar), FL_ERR_DECODE);
}

static void test_payload_other_version_decodes_only_the_version(void) {
  uint8_t in[] = {0x02, 0xff, 0xff}; /* the rest would be garbage for v1 */
  fl_hyperdht_noise_payload q;
  FL_CHECK_EQ(fl_hyperdht_noise_payload_decode(&q, in, sizeof in), 1);
  FL_CHECK_EQ(q.version, 2);
  FL_CHECK(!q.has_udx && q.addresses4_len == 0 && q.error == 0);
}

static void test_payload_encode_refuses_invalid(void) {
  fl_hyperdht_noise_payload p;
  uint8_t out[4096];
  size_t len;
  fl_hyperdht_noise_payload_init(&p);
  p.addresses4_len = FL_HYPERDHT_PAYLOAD_ADDRESSES_MAX + 1;
  FL_CHECK_EQ(fl_hyperdht_noise_payload_encode(&p, out, sizeof out, &len), FL_ERR_INVALID);
  fl_hyperdht_noise_payload_init(&p);
  p.addresses4_len = 1; /* a zeroed fl_addr has family 0, not IPv4 */
  FL_CHECK_EQ(fl_hyperdht_noise_payload_encode(&p, out, sizeof out, &len), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_hyperdht_noise_payload_encode(NULL, out, sizeof out, &len), FL_ERR_INVALID);
}

static void seed_sk(uint8_t pk[32], uint8_t sk[64], uint8_t fill) {
  uint8_t seed[32];
  memset(seed, fill, 32);
  if (fl_crypto_sign_seed_keypair(pk, sk, seed) != 0) abort();
}

static void test_handshake_reproduces_hyperdht_vector(void) {
  uint8_t cpk[32], csk[64], spk[32], ssk[64], tmp[32], ce[64], se[64];
  seed_sk(cpk, csk, 1);
  seed_sk(spk, ssk, 2);
  seed_sk(tmp, ce, 3);
  seed_sk(tmp, se, 4);
  fl_noise *c, *s;
  FL_CHECK_EQ(fl_hyperdht_handshake_new(&c, NULL, true, csk, spk, ce, NULL), 0);
  FL_CHECK_EQ(fl_hyperdht_handshake_new(&s, NULL, false, ssk, NULL, se, NULL), 0);
  fl_hyperdht_noise_payload p, got;
  client_payload(&p);
  uint8_t m[256];
  size_t len;
  FL_CHECK_EQ(fl_hyperdht_handshake_send(c, &p, m, sizeof m, &len), 0);
  FL_CHECK_EQ(len, 116);
  FL_CHECK_EQ(fl_hyperdht_handshake_recv(s, m, len, &got), 0);
  FL_CHECK_EQ(got.udx.id, 0x11223344);
  server_payload(&p);
  FL_CHECK_EQ(fl_hyperdht_handshake_send(s, &p, m, sizeof m, &len), 0);
  FL_CHECK_EQ(len, 82);
  uint8_t want[82];
  fl_test_hex(want, 82,
              "ca93ac1705187071d67b83c7ff0efe8108e8ec4530575d7726879333dbdabe7cf6c3821a71cb60"
              "7d0da9bec5317266c5f868672a1c05531ab592cff11b6b0125373780f342973523d6bc380a3b79"
              "8b0bb3bb");
  FL_CHECK_MEM(m, want, 82);
  FL_CHECK_EQ(fl_hyperdht_handshake_recv(c, m, len, &got), 0);
  FL_CHECK_EQ(got.holepunch.relays[0].relay_address.port, 49737);
  fl_hyperdht_handshake_result rc, rs;
  FL_CHECK_EQ(fl_hyperdht_handshake_final(c, &rc), 0);
  FL_CHECK_EQ(fl_hyperdht_handshake_final(s, &rs), 0);
  FL_CHECK(rc.is_initiator && !rs.is_initiator);
  FL_CHECK_MEM(rc.public_key, cpk, 32);
  FL_CHECK_MEM(rc.remote_public_key, spk, 32);
  FL_CHECK_MEM(rs.remote_public_key, cpk, 32);
  uint8_t hp[32], k[32];
  fl_test_hex(hp, 32, "db8bbd59f56bcb53da0ebef65f33ee13234c91f05dc130d474b51d9a5281ed99");
  FL_CHECK_MEM(rc.holepunch_secret, hp, 32);
  FL_CHECK_MEM(rs.holepunch_secret, hp, 32);
  fl_test_hex(k, 32, "cc00d99bd3a15a6779df38fd42fd25a84d73264023e7c1da95cf3bcbdce9c210");
  FL_CHECK_MEM(rc.tx, k, 32);
  FL_CHECK_MEM(rs.rx, k, 32);
  fl_noise_free(c);
  fl_noise_free(s);
}

static void test_handshake_payload_that_does_not_decode_is_decode(void) {
  uint8_t cpk[32], csk[64], spk[32], ssk[64];
  seed_sk(cpk, csk, 1);
  seed_sk(spk, ssk, 2);
  fl_drbg d;
  uint8_t seed[32] = {9};
  fl_drbg_init(&d, seed);
  fl_noise *c, *s;
  FL_CHECK_EQ(fl_hyperdht_handshake_new(&c, NULL, true, csk, spk, NULL, &d), 0);
  FL_CHECK_EQ(fl_hyperdht_handshake_new(&s, NULL, false, ssk, NULL, NULL, &d), 0);
  uint8_t m[256];
  size_t len;
  static const uint8_t junk[] = {0x01, 0x08}; /* udx flag but no body */
  FL_CHECK_EQ(fl_noise_write_message(c, junk, sizeof junk, m, sizeof m, &len), 0);
  fl_hyperdht_noise_payload got;
  FL_CHECK_EQ(fl_hyperdht_handshake_recv(s, m, len, &got), FL_ERR_DECODE);
  FL_CHECK(!got.has_udx);
  fl_hyperdht_handshake_result r;
  FL_CHECK_EQ(fl_hyperdht_handshake_final(c, &r), FL_ERR_STATE);
  fl_noise *x = c;
  FL_CHECK_EQ(fl_hyperdht_handshake_new(&x, NULL, true, csk, NULL, NULL, &d), FL_ERR_INVALID);
  FL_CHECK(x == NULL);
  fl_noise_free(s);
  fl_noise_free(c);
}

int main(void) {
  if (fl_crypto_init() != 0) return 1;
  FL_RUN(test_payload_encodes_the_spec_examples);
  FL_RUN(test_payload_relay_through_and_empty_relay_addresses);
  FL_RUN(test_payload_decode_rejects_every_truncation);
  FL_RUN(test_payload_decode_rejects_bad_varints_and_long_lists);
  FL_RUN(test_payload_other_version_decodes_only_the_version);
  FL_RUN(test_payload_encode_refuses_invalid);
  FL_RUN(test_handshake_reproduces_hyperdht_vector);
  FL_RUN(test_handshake_payload_that_does_not_decode_is_decode);
  return fl_test_done();
}
