/* Fuzz the address decoders (ipv4Address, ipv6Address, ipAddress): the
 * input is a run of (selector byte, address) pairs. ipv4Address and
 * ipv6Address are canonical, so their re-encoding must equal the input;
 * ipAddress is compared by value, because every family byte other than 4
 * reads as IPv6 and re-encodes as 6. */
#include "enc/fuzz/fuzz_enc_util.h"

typedef struct {
  uint8_t sel;
  fl_addr a;
} item;

static int decode_one(fl_dec_state *s, uint8_t kind, fl_addr *a) {
  switch (kind) {
    case 0: return fl_enc_ipv4_address_decode(s, a);
    case 1: return fl_enc_ipv6_address_decode(s, a);
    default: return fl_enc_ip_address_decode(s, a);
  }
}

static const fl_addr zero_addr;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  item *items = calloc(size + 1, sizeof *items);
  FZ_CHECK(items != NULL);
  fl_dec_state s, before;
  fl_dec_state_init(&s, data, size);
  size_t n = 0, consumed = 0;
  bool canonical = true;
  for (;;) {
    item *it = &items[n];
    if (fl_enc_uint8_decode(&s, &it->sel) != FL_OK) break;
    before = s;
    memset(&it->a, 0x5a, sizeof it->a);
    int rc = decode_one(&s, it->sel % 3, &it->a);
    if (rc != FL_OK) {
      FZ_CHECK(rc == FL_ERR_DECODE && memcmp(&it->a, &zero_addr, sizeof it->a) == 0);
      FZ_CHECK_UNCHANGED(s, before);
      break;
    }
    FZ_CHECK(it->a.family == FL_ADDR_IPV4 || it->a.family == FL_ADDR_IPV6);
    if (it->sel % 3 == 2 && data[before.start] != it->a.family) canonical = false;
    consumed = s.start;
    n++;
  }

  fl_enc_state pre, e;
  fl_enc_state_init(&pre, NULL, 0);
  for (size_t i = 0; i < n; i++) {
    fl_enc_uint8_preencode(&pre, items[i].sel);
    switch (items[i].sel % 3) {
      case 0: fl_enc_ipv4_address_preencode(&pre, &items[i].a); break;
      case 1: fl_enc_ipv6_address_preencode(&pre, &items[i].a); break;
      default: fl_enc_ip_address_preencode(&pre, &items[i].a); break;
    }
  }
  FZ_CHECK(pre.end == consumed);
  uint8_t *buf = fz_alloc(pre.end);
  fl_enc_state_init(&e, buf, pre.end);
  for (size_t i = 0; i < n; i++) {
    FZ_CHECK(fl_enc_uint8_encode(&e, items[i].sel) == FL_OK);
    int rc = items[i].sel % 3 == 0   ? fl_enc_ipv4_address_encode(&e, &items[i].a)
             : items[i].sel % 3 == 1 ? fl_enc_ipv6_address_encode(&e, &items[i].a)
                                     : fl_enc_ip_address_encode(&e, &items[i].a);
    FZ_CHECK(rc == FL_OK);
  }
  FZ_CHECK(e.start == pre.end);
  if (canonical) FZ_CHECK(memcmp(buf, data, consumed) == 0);

  fl_dec_state_init(&s, buf, e.start);
  for (size_t i = 0; i < n; i++) {
    uint8_t sel;
    fl_addr again;
    FZ_CHECK(fl_enc_uint8_decode(&s, &sel) == FL_OK && sel == items[i].sel);
    FZ_CHECK(decode_one(&s, sel % 3, &again) == FL_OK);
    FZ_CHECK(memcmp(&again, &items[i].a, sizeof again) == 0);
  }
  FZ_CHECK(s.start == s.end);
  free(buf);
  free(items);
  return 0;
}
