/*
 * fuzz_handshake_payload — hyperdht's noisePayload decoder, then re-encode.
 *
 * Whatever decodes must re-encode, decode back to the same values (version
 * fields aside: the encoder writes 1 as the reference does) and re-encode
 * to the same bytes. Failures must leave the output zeroed.
 */
#include <stdlib.h>
#include <string.h>

#include "flock/hyperdht.h"

static void same_values(const fl_hyperdht_noise_payload *a, const fl_hyperdht_noise_payload *b) {
  if (a->version != b->version || a->error != b->error || a->firewall != b->firewall) abort();
  if (a->has_holepunch != b->has_holepunch || a->holepunch.id != b->holepunch.id ||
      a->holepunch.relays_len != b->holepunch.relays_len)
    abort();
  if (memcmp(a->holepunch.relays, b->holepunch.relays,
             a->holepunch.relays_len * sizeof a->holepunch.relays[0]) != 0)
    abort();
  if (a->addresses4_len != b->addresses4_len || a->addresses6_len != b->addresses6_len ||
      a->relay_addresses_len != b->relay_addresses_len)
    abort();
  for (size_t i = 0; i < a->addresses4_len; i++)
    if (!fl_addr_equal(&a->addresses4[i], &b->addresses4[i])) abort();
  for (size_t i = 0; i < a->addresses6_len; i++)
    if (!fl_addr_equal(&a->addresses6[i], &b->addresses6[i])) abort();
  for (size_t i = 0; i < a->relay_addresses_len; i++)
    if (!fl_addr_equal(&a->relay_addresses[i], &b->relay_addresses[i])) abort();
  if (a->has_udx != b->has_udx || a->udx.id != b->udx.id || a->udx.seq != b->udx.seq ||
      a->udx.reusable_socket != b->udx.reusable_socket)
    abort();
  if (a->has_secret_stream != b->has_secret_stream || a->has_relay_through != b->has_relay_through ||
      a->has_relay_addresses != b->has_relay_addresses)
    abort();
  if (memcmp(a->relay_through.public_key, b->relay_through.public_key, 32) != 0 ||
      memcmp(a->relay_through.token, b->relay_through.token, 32) != 0)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static fl_hyperdht_noise_payload d1, d2;
  static uint8_t e1[8192], e2[8192];
  int n = fl_hyperdht_noise_payload_decode(&d1, data, size);
  if (n < 0) {
    if (n != FL_ERR_DECODE || d1.version != 0 || d1.has_udx || d1.addresses4_len != 0) abort();
    return 0;
  }
  if (n < 1 || (size_t)n > size) abort();
  size_t l1, l2;
  if (fl_hyperdht_noise_payload_encode(&d1, e1, sizeof e1, &l1) != 0) abort();
  int m = fl_hyperdht_noise_payload_decode(&d2, e1, l1);
  if (m < 1) abort();
  if (d1.version == 1 && (size_t)m != l1) abort();
  same_values(&d1, &d2);
  if (fl_hyperdht_noise_payload_encode(&d2, e2, sizeof e2, &l2) != 0) abort();
  if (d1.version == 1 && (l1 != l2 || memcmp(e1, e2, l1) != 0)) abort();
  return 0;
}
