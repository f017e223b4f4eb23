/*
 * The dht-rpc codec against datagrams captured from dht-rpc@6.27.0
 * (spec/dht-rpc.md §1, §11), and every way a datagram can be malformed.
 */
#include "dht/dht_message.h"

#include "testing/fl_test.h"

typedef struct vec {
  const char *name;
  const char *hex;
} vec;

/* Byte-exact captures; each decodes and re-encodes to the same bytes. */
static const vec VECTORS[] = {
    {"ping_req_n2", "03051d9d7f000001214e9e11f7b645f911a069349236ef5aab5aa4e41e5a6dfc"
                    "bc81d2fad1f0ce3fa87b00"},
    {"ping_res_b", "13011d9d7f000001224e9b6624720996a60b2786adade908184a455312c01a9e"
                   "711aab89690c4f4ca56c"},
    {"ping_req_e", "030414527f000001214e00"},
    {"find_node_req_e", "030c19527f000001214e02ababababababababababababababababababababab"
                        "ababababababababababab"},
    {"find_node_res_b", "130519527f00000138899b6624720996a60b2786adade908184a455312c01a9e"
                        "711aab89690c4f4ca56c047f000001234e7f000001254e7f000001244e7f0000"
                        "01224e"},
    {"ping_nat_req", "031411527f000001214e01022a4e"},
    {"ping_nat_res", "130111527f0000012a4e9b6624720996a60b2786adade908184a455312c01a9e"
                     "711aab89690c4f4ca56c"},
    {"down_hint_req", "031422527f000001244e03067f000001254e"},
    {"down_hint_res", "130122527f000001388949f67c57322dae0573fa8e1db2683d9c35e23d935e2f"
                      "810caa66624a153dff6b"},
    {"user77_req", "03081a527f000001234e4dababababababababababababababababababababab"
                   "ababababababababababab"},
    {"user77_err_res", "130d1a527f0000013889aa10ec68d3e06e67b07c49b3ab4149f7bb89b1537919"
                       "44c4d0abbc3ab8c2e4b0047f000001214e7f000001224e7f000001254e7f0000"
                       "01244e01"},
    {"user77_value_req", "03101b527f000001244e4d026869"},
    {"user77_token_res", "13131b527f000001388949f67c57322dae0573fa8e1db2683d9c35e23d935e2f"
                         "810caa66624a153dff6b64a082dd6cb1eaf70134f6fe20a1f35c87d1eea9a98f"
                         "f48b393f1613dbfb80e1026f6b"},
    {"user77_token_echo", "03121c527f000001244e64a082dd6cb1eaf70134f6fe20a1f35c87d1eea9a98f"
                          "f48b393f1613dbfb80e14d026869"},
    {"find_node_req_a", "030debb47f00000118bfa1f928f472c7922c738e4bf7eafa529baab76194bb7b"
                        "75e0426330a304490d9902abababababababababababababababababababab"
                        "abababababababababababab"},
    {"find_node_res_b2", "1305ebb47f00000100c33b81b4d4fd63c9e995a23dd1722352b0384df6af30fd"
                         "2b8c46cc54e22e6d5185047f00000100c37f0000011fda7f000001f6c27f0000"
                         "012b9d"},
};
#define NVEC (sizeof VECTORS / sizeof VECTORS[0])

static size_t unhex(uint8_t *out, size_t cap, const char *hex) {
  size_t n = strlen(hex) / 2;
  if (n > cap) abort();
  fl_test_hex(out, n, hex);
  return n;
}

static void test_dht_message_vectors_roundtrip_byte_exact(void) {
  for (size_t i = 0; i < NVEC; i++) {
    uint8_t in[256], out[256];
    size_t n = unhex(in, sizeof in, VECTORS[i].hex);
    fl_dht_msg m;
    if (fl_dht_msg_decode(&m, in, n) != 0) {
      FL_FAIL_AT(__FILE__, __LINE__, "vector %s did not decode", VECTORS[i].name);
      return;
    }
    FL_CHECK_EQ(fl_dht_msg_size(&m), n);
    FL_CHECK_EQ(fl_dht_msg_encode(&m, out, sizeof out), (int)n);
    FL_CHECK_MEM(out, in, n);
  }
}

static void test_dht_message_find_node_fields(void) {
  uint8_t in[256];
  size_t n = unhex(in, sizeof in, VECTORS[4].hex);
  fl_dht_msg m;
  FL_CHECK_EQ(fl_dht_msg_decode(&m, in, n), 0);
  FL_CHECK_EQ(m.type, FL_DHT_TYPE_RESPONSE);
  FL_CHECK_EQ(m.tid, 0x5219);
  FL_CHECK_EQ(m.to.port, 35128);
  FL_CHECK(m.has_id && !m.has_token && !m.has_value);
  FL_CHECK_EQ(m.closer_count, 4);
  fl_addr a;
  fl_dht_msg_closer_at(&m, 0, &a);
  FL_CHECK_EQ(a.port, 20003);
  FL_CHECK(a.ip[0] == 127 && a.ip[3] == 1);
  fl_dht_msg_closer_at(&m, 3, &a);
  FL_CHECK_EQ(a.port, 20002);
  /* the request */
  n = unhex(in, sizeof in, VECTORS[3].hex);
  FL_CHECK_EQ(fl_dht_msg_decode(&m, in, n), 0);
  FL_CHECK_EQ(m.type, FL_DHT_TYPE_REQUEST);
  FL_CHECK(m.internal && m.has_target && !m.has_id);
  FL_CHECK_EQ(m.command, FL_DHT_CMD_FIND_NODE);
  FL_CHECK_EQ(m.target[31], 0xab);
}

static void test_dht_message_error_and_token_fields(void) {
  uint8_t in[256];
  fl_dht_msg m;
  size_t n = unhex(in, sizeof in, VECTORS[10].hex);
  FL_CHECK_EQ(fl_dht_msg_decode(&m, in, n), 0);
  FL_CHECK_EQ(m.error, FL_DHT_ERROR_UNKNOWN_COMMAND);
  FL_CHECK_EQ(m.closer_count, 4);
  n = unhex(in, sizeof in, VECTORS[12].hex);
  FL_CHECK_EQ(fl_dht_msg_decode(&m, in, n), 0);
  FL_CHECK(m.has_token && m.has_value);
  FL_CHECK_EQ(m.value_len, 2);
  FL_CHECK_MEM(m.value, "ok", 2);
  FL_CHECK_EQ(m.token[0], 0x64);
  n = unhex(in, sizeof in, VECTORS[13].hex);
  FL_CHECK_EQ(fl_dht_msg_decode(&m, in, n), 0);
  FL_CHECK(m.has_token && !m.internal);
  FL_CHECK_EQ(m.command, 77);
  FL_CHECK_EQ(m.token[31], 0xe1);
}

/* Node ids of the capture's nodes: BLAKE2b-256(7f000001 || port LE). */
static void test_dht_node_id_matches_capture(void) {
  static const struct {
    uint16_t port;
    const char *id;
  } ids[] = {
      {20001, "9b6624720996a60b2786adade908184a455312c01a9e711aab89690c4f4ca56c"},
      {20002, "9e11f7b645f911a069349236ef5aab5aa4e41e5a6dfcbc81d2fad1f0ce3fa87b"},
      {20003, "aa10ec68d3e06e67b07c49b3ab4149f7bb89b153791944c4d0abbc3ab8c2e4b0"},
      {20004, "49f67c57322dae0573fa8e1db2683d9c35e23d935e2f810caa66624a153dff6b"},
      {20005, "2b73e967ba9ad943dfb2eb9efb347586aa2784be068dac4434badcaaa71bf4fe"},
  };
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
    uint8_t want[32], got[32];
    fl_test_hex(want, 32, ids[i].id);
    fl_addr a = fl_addr_ipv4(127, 0, 0, 1, ids[i].port);
    fl_dht_node_id(got, &a);
    FL_CHECK_MEM(got, want, 32);
  }
}

static void test_dht_message_decode_rejects_every_truncation(void) {
  for (size_t i = 0; i < NVEC; i++) {
    uint8_t in[256];
    size_t n = unhex(in, sizeof in, VECTORS[i].hex);
    for (size_t cut = 0; cut < n; cut++) {
      fl_dht_msg m;
      memset(&m, 0x5a, sizeof m);
      if (fl_dht_msg_decode(&m, in, cut) != FL_ERR_DECODE) {
        FL_FAIL_AT(__FILE__, __LINE__, "%s cut at %zu decoded", VECTORS[i].name, cut);
        return;
      }
      FL_CHECK_EQ(m.tid, 0); /* zeroed on failure */
      FL_CHECK(m.value == NULL && m.closer_count == 0);
    }
  }
}

static int decode_hex(fl_dht_msg *m, const char *hex) {
  uint8_t in[256];
  size_t n = unhex(in, sizeof in, hex);
  return fl_dht_msg_decode(m, in, n);
}

static void test_dht_message_bad_varints(void) {
  fl_dht_msg m;
  /* command as 0xff + 8 bytes above 2^53-1 */
  FL_CHECK_EQ(decode_hex(&m, "030414527f000001214eff0000000000002000"), FL_ERR_DECODE);
  /* ... exactly 2^53-1 is fine */
  FL_CHECK_EQ(decode_hex(&m, "030414527f000001214effffffffffffff1f00"), 0);
  FL_CHECK_EQ(m.command, FL_DHT_UINT_MAX);
  /* 0xfd prefix with one byte, 0xfe with three */
  FL_CHECK_EQ(decode_hex(&m, "030414527f000001214efd01"), FL_ERR_DECODE);
  FL_CHECK_EQ(decode_hex(&m, "030414527f000001214efe010203"), FL_ERR_DECODE);
  /* non-minimal forms are accepted, as compact-encoding does */
  FL_CHECK_EQ(decode_hex(&m, "030414527f000001214efd0200"), 0);
  FL_CHECK_EQ(m.command, 2);
  /* flags as a 3-byte varint */
  FL_CHECK_EQ(decode_hex(&m, "03fd040014527f000001214e00"), 0);
  FL_CHECK(m.internal);
  /* a flag word past 2^53-1 */
  FL_CHECK_EQ(decode_hex(&m, "03ffffffffffffffffff14527f000001214e00"), FL_ERR_DECODE);
  /* error code varint truncated */
  FL_CHECK_EQ(decode_hex(&m, "130814527f000001214efe0100"), FL_ERR_DECODE);
  /* value length longer than what is left */
  FL_CHECK_EQ(decode_hex(&m, "031414527f000001214e0105aabb"), FL_ERR_DECODE);
  FL_CHECK_EQ(decode_hex(&m, "031414527f000001214e01ffffffffffffff1f00"), FL_ERR_DECODE);
}

static void test_dht_message_oversized_and_short_arrays(void) {
  fl_dht_msg m;
  /* 0x100001 closer nodes: refused like compact-encoding's "Array is too big" */
  FL_CHECK_EQ(decode_hex(&m, "130414527f000001214efe01001000"), FL_ERR_DECODE);
  /* count 2 with one entry */
  FL_CHECK_EQ(decode_hex(&m, "130414527f000001214e027f000001214e"), FL_ERR_DECODE);
  /* count 0 with the flag set is legal and yields no nodes */
  FL_CHECK_EQ(decode_hex(&m, "130414527f000001214e00"), 0);
  FL_CHECK_EQ(m.closer_count, 0);
}

static void test_dht_message_first_byte_and_leniency(void) {
  fl_dht_msg m;
  FL_CHECK_EQ(decode_hex(&m, "000414527f000001214e00"), FL_ERR_DECODE);
  FL_CHECK_EQ(decode_hex(&m, "230414527f000001214e00"), FL_ERR_DECODE); /* type 2 */
  FL_CHECK_EQ(decode_hex(&m, "040414527f000001214e00"), FL_ERR_DECODE); /* version 4 */
  FL_CHECK_EQ(decode_hex(&m, "ff01"), FL_ERR_DECODE);
  FL_CHECK_EQ(fl_dht_msg_decode(&m, NULL, 0), FL_ERR_DECODE);
  /* unknown flag bits and trailing bytes are ignored */
  FL_CHECK_EQ(decode_hex(&m, "03e414527f000001214e00deadbeef"), 0);
  FL_CHECK(m.internal && !m.has_id && !m.has_value);
  FL_CHECK_EQ(m.command, 0);
  /* empty value: present, zero length */
  FL_CHECK_EQ(decode_hex(&m, "031414527f000001214e0000"), 0);
  FL_CHECK(m.has_value);
  FL_CHECK_EQ(m.value_len, 0);
}

static void test_dht_message_encode_refuses(void) {
  fl_dht_msg m;
  uint8_t out[64];
  memset(&m, 0, sizeof m);
  m.type = FL_DHT_TYPE_REQUEST;
  m.to = fl_addr_ipv4(127, 0, 0, 1, 1);
  FL_CHECK_EQ(fl_dht_msg_encode(&m, out, 10), FL_ERR_BUFFER);
  FL_CHECK_EQ(fl_dht_msg_encode(&m, out, sizeof out), 11);
  m.command = FL_DHT_UINT_MAX + 1;
  FL_CHECK_EQ(fl_dht_msg_encode(&m, out, sizeof out), FL_ERR_INVALID);
  m.command = 0;
  m.to.family = FL_ADDR_IPV6;
  FL_CHECK_EQ(fl_dht_msg_encode(&m, out, sizeof out), FL_ERR_INVALID);
  m.to.family = FL_ADDR_IPV4;
  m.type = 7;
  FL_CHECK_EQ(fl_dht_msg_encode(&m, out, sizeof out), FL_ERR_INVALID);
}

int main(void) {
  FL_RUN(test_dht_message_vectors_roundtrip_byte_exact);
  FL_RUN(test_dht_message_find_node_fields);
  FL_RUN(test_dht_message_error_and_token_fields);
  FL_RUN(test_dht_node_id_matches_capture);
  FL_RUN(test_dht_message_decode_rejects_every_truncation);
  FL_RUN(test_dht_message_bad_varints);
  FL_RUN(test_dht_message_oversized_and_short_arrays);
  FL_RUN(test_dht_message_first_byte_and_leniency);
  FL_RUN(test_dht_message_encode_refuses);
  return fl_test_done();
}
