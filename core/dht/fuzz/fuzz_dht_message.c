/*
 * Fuzz the dht-rpc datagram decoder: whatever decodes must re-encode, and
 * the re-encoding must decode to the same message (byte equality is too
 * strict: the reference accepts non-minimal varints and ignores unknown
 * flag bits and trailing bytes, which a re-encode normalises).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "dht/dht_message.h"

static void same(const fl_dht_msg *a, const fl_dht_msg *b) {
  assert(a->type == b->type && a->tid == b->tid);
  assert(fl_addr_equal(&a->to, &b->to));
  assert(a->has_id == b->has_id && a->has_token == b->has_token);
  assert(a->has_value == b->has_value && a->value_len == b->value_len);
  assert(a->value_len == 0 || memcmp(a->value, b->value, a->value_len) == 0);
  if (a->has_id) assert(memcmp(a->id, b->id, 32) == 0);
  if (a->has_token) assert(memcmp(a->token, b->token, 32) == 0);
  if (a->type == FL_DHT_TYPE_REQUEST) {
    assert(a->internal == b->internal && a->command == b->command);
    assert(a->has_target == b->has_target);
    if (a->has_target) assert(memcmp(a->target, b->target, 32) == 0);
  } else {
    assert(a->error == b->error && a->closer_count == b->closer_count);
    assert(a->closer_count == 0 || memcmp(a->closer, b->closer, a->closer_count * 6) == 0);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fl_dht_msg m, m2;
  if (fl_dht_msg_decode(&m, data, size) != 0) {
    assert(m.tid == 0 && m.value == NULL && m.closer == NULL);
    return 0;
  }
  size_t need = fl_dht_msg_size(&m);
  assert(need <= size + 8); /* flags normalise to one byte; nothing grows */
  uint8_t *out = malloc(need ? need : 1);
  assert(out != NULL);
  int n = fl_dht_msg_encode(&m, out, need);
  assert(n == (int)need);
  assert(fl_dht_msg_decode(&m2, out, (size_t)n) == 0);
  same(&m, &m2);
  free(out);
  return 0;
}
