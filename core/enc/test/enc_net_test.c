/* Address codecs: ipv4Address, ipv6Address, ipAddress. Vectors follow
 * compact-encoding-net@1.3.0 and the captures in spec/dht-rpc.md §1. */
#include "enc/test/enc_test_util.h"

static fl_addr ipv6_addr(const char *hex16, uint16_t port) {
  fl_addr a;
  memset(&a, 0, sizeof a);
  a.family = FL_ADDR_IPV6;
  fl_test_hex(a.ip, 16, hex16);
  a.port = port;
  return a;
}

static void test_enc_ipv4_address_matches_capture(void) {
  /* spec/dht-rpc.md §1: responder 127.0.0.1:45003 is 7f000001 cbaf. */
  fl_addr a = fl_addr_ipv4(127, 0, 0, 1, 45003), back;
  uint8_t buf[6], want[6];
  fl_test_hex(want, 6, "7f000001cbaf");
  FL_CHECK_EQ(enc_exact(&codec_ipv4, &a, buf, sizeof buf), 6);
  FL_CHECK_MEM(buf, want, 6);
  fl_dec_state s;
  fl_dec_state_init(&s, buf, 6);
  FL_CHECK_EQ(fl_enc_ipv4_address_decode(&s, &back), FL_OK);
  FL_CHECK(fl_addr_equal(&a, &back));
  FL_CHECK_EQ(back.family, FL_ADDR_IPV4);
  FL_CHECK(all_zero(back.ip + 4, 12));
  FL_CHECK_EQ(check_truncations(dec_ipv4, buf, 6, sizeof(fl_addr)), 0);
  FL_CHECK_EQ(check_small_buffers(&codec_ipv4, &a, 6), 0);
}

static void test_enc_ipv6_address_roundtrip(void) {
  fl_addr a = ipv6_addr("20010db8000000000000000000000001", 0x1234), back;
  uint8_t buf[18], want[18];
  fl_test_hex(want, 18, "20010db80000000000000000000000013412");
  FL_CHECK_EQ(enc_exact(&codec_ipv6, &a, buf, sizeof buf), 18);
  FL_CHECK_MEM(buf, want, 18);
  fl_dec_state s;
  fl_dec_state_init(&s, buf, 18);
  FL_CHECK_EQ(fl_enc_ipv6_address_decode(&s, &back), FL_OK);
  FL_CHECK(fl_addr_equal(&a, &back));
  FL_CHECK_EQ(check_truncations(dec_ipv6, buf, 18, sizeof(fl_addr)), 0);
  FL_CHECK_EQ(check_small_buffers(&codec_ipv6, &a, 18), 0);
}

static void test_enc_ip_address_both_families(void) {
  fl_addr v4 = fl_addr_ipv4(10, 1, 2, 3, 65535), v6 = ipv6_addr("00000000000000000000000000000001", 1);
  uint8_t buf[19], want[19];
  fl_test_hex(want, 7, "040a010203ffff");
  FL_CHECK_EQ(enc_exact(&codec_ip, &v4, buf, sizeof buf), 7);
  FL_CHECK_MEM(buf, want, 7);
  FL_CHECK_EQ(check_truncations(dec_ip, buf, 7, sizeof(fl_addr)), 0);
  FL_CHECK_EQ(check_small_buffers(&codec_ip, &v4, 7), 0);
  fl_test_hex(want, 19, "06" "00000000000000000000000000000001" "0100");
  FL_CHECK_EQ(enc_exact(&codec_ip, &v6, buf, sizeof buf), 19);
  FL_CHECK_MEM(buf, want, 19);
  FL_CHECK_EQ(check_truncations(dec_ip, buf, 19, sizeof(fl_addr)), 0);
  FL_CHECK_EQ(check_small_buffers(&codec_ip, &v6, 19), 0);
  fl_addr back;
  fl_dec_state s;
  fl_dec_state_init(&s, buf, 19);
  FL_CHECK_EQ(fl_enc_ip_address_decode(&s, &back), FL_OK);
  FL_CHECK(fl_addr_equal(&back, &v6));
}

static void test_enc_ip_address_unknown_family_reads_ipv6(void) {
  /* The reference reads IPv4 only for family byte 4; anything else is IPv6. */
  uint8_t families[] = {0, 1, 5, 6, 7, 0x46, 0xff};
  uint8_t in[19];
  for (size_t i = 0; i < sizeof families; i++) {
    in[0] = families[i];
    for (int k = 1; k < 19; k++) in[k] = (uint8_t)k;
    fl_addr a;
    fl_dec_state s;
    fl_dec_state_init(&s, in, sizeof in);
    FL_CHECK_EQ(fl_enc_ip_address_decode(&s, &a), FL_OK);
    FL_CHECK_EQ(a.family, FL_ADDR_IPV6);
    FL_CHECK_EQ(s.start, 19);
    FL_CHECK_MEM(a.ip, in + 1, 16);
    FL_CHECK_EQ(a.port, 0x1211);
    FL_CHECK_EQ(check_truncations(dec_ip, in, 19, sizeof(fl_addr)), 0);
  }
}

static void test_enc_address_encode_refuses_wrong_family(void) {
  fl_addr v4 = fl_addr_ipv4(1, 2, 3, 4, 5), v6 = ipv6_addr("000102030405060708090a0b0c0d0e0f", 9);
  fl_addr bad = v4;
  bad.family = 5;
  uint8_t buf[32];
  fl_enc_state e;
  fl_enc_state_init(&e, buf, sizeof buf);
  FL_CHECK_EQ(fl_enc_ipv4_address_encode(&e, &v6), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_enc_ipv6_address_encode(&e, &v4), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_enc_ip_address_encode(&e, &bad), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_enc_ip_address_encode(&e, NULL), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_enc_ipv4_address_encode(&e, NULL), FL_ERR_INVALID);
  FL_CHECK_EQ(e.start, 0);
  /* Preencode never under-sizes, even for an address encode will refuse. */
  fl_enc_state pre;
  fl_enc_state_init(&pre, NULL, 0);
  fl_enc_ip_address_preencode(&pre, &bad);
  FL_CHECK_EQ(pre.end, 1 + FL_ENC_IPV6_ADDRESS_BYTES);
  fl_dec_state d;
  fl_dec_state_init(&d, buf, sizeof buf);
  FL_CHECK_EQ(fl_enc_ip_address_decode(&d, NULL), FL_ERR_INVALID);
}

static void test_enc_address_random_roundtrip_seeded(void) {
  uint64_t rng = fl_test_seed() ^ 0xadd7;
  for (int i = 0; i < 5000; i++) {
    fl_addr a;
    memset(&a, 0, sizeof a);
    uint64_t r = fl_test_rand(&rng);
    a.family = (r & 1) ? FL_ADDR_IPV4 : FL_ADDR_IPV6;
    a.port = (uint16_t)(r >> 8);
    uint64_t hi = fl_test_rand(&rng), lo = fl_test_rand(&rng);
    memcpy(a.ip, &hi, 8);
    memcpy(a.ip + 8, &lo, 8);
    if (a.family == FL_ADDR_IPV4) memset(a.ip + 4, 0, 12);
    uint8_t buf[19];
    const enc_codec *c = (r & 2) ? &codec_ip : a.family == FL_ADDR_IPV4 ? &codec_ipv4 : &codec_ipv6;
    size_t n = enc_exact(c, &a, buf, sizeof buf);
    FL_CHECK(n > 0);
    fl_dec_state s;
    fl_dec_state_init(&s, buf, n);
    fl_addr back;
    int rc = (r & 2) ? fl_enc_ip_address_decode(&s, &back)
             : a.family == FL_ADDR_IPV4 ? fl_enc_ipv4_address_decode(&s, &back)
                                        : fl_enc_ipv6_address_decode(&s, &back);
    FL_CHECK_EQ(rc, FL_OK);
    FL_CHECK(fl_addr_equal(&a, &back));
    FL_CHECK_EQ(s.start, n);
  }
}

int main(void) {
  FL_RUN(test_enc_ipv4_address_matches_capture);
  FL_RUN(test_enc_ipv6_address_roundtrip);
  FL_RUN(test_enc_ip_address_both_families);
  FL_RUN(test_enc_ip_address_unknown_family_reads_ipv6);
  FL_RUN(test_enc_address_encode_refuses_wrong_family);
  FL_RUN(test_enc_address_random_roundtrip_seeded);
  return fl_test_done();
}
