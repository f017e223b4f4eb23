/*
 * fuzz_records — hyperdht's record decoders and the server-side handlers.
 *
 * The first byte picks what the rest is: 0 peer, 1 announce, 2 lookup reply,
 * 3 mutable put request, 4 mutable get response, 5 a request to a store
 * (the next byte: command = byte % 12, bits 0x80 no token, 0x40 invalid
 * token, 0x30 time steps; then target, token, value). Whatever decodes must
 * re-encode, decode back and re-encode to the same bytes; a failed decode
 * must leave its output zeroed; the store's invariants must hold after
 * every request.
 */
#include <stdlib.h>
#include <string.h>

#include "flock/hyperdht.h"

static uint8_t e1[8192], e2[8192];

static void check_zero(const void *p, size_t n) {
  const uint8_t *b = p;
  for (size_t i = 0; i < n; i++)
    if (b[i] != 0) abort();
}

static void fuzz_announce(const uint8_t *d, size_t n) {
  static fl_hyperdht_announce a, b;
  size_t l1, l2;
  int rc = fl_hyperdht_announce_decode(&a, d, n);
  if (rc < 0) {
    if (rc != FL_ERR_DECODE) abort();
    check_zero(&a, sizeof a);
    return;
  }
  a.peer.relays_raw = NULL; /* re-encode what was kept */
  if (fl_hyperdht_announce_encode(&a, e1, sizeof e1, &l1) != 0) abort();
  if (fl_hyperdht_announce_decode(&b, e1, l1) != (int)l1) abort();
  if (b.has_peer != a.has_peer || b.bump != a.bump || b.has_refresh != a.has_refresh) abort();
  if (fl_hyperdht_announce_encode(&b, e2, sizeof e2, &l2) != 0) abort();
  if (l1 != l2 || memcmp(e1, e2, l1) != 0) abort();
}

static void fuzz_lookup(const uint8_t *d, size_t n) {
  static fl_hyperdht_lookup_reply a, b;
  size_t l1, l2;
  int rc = fl_hyperdht_lookup_reply_decode(&a, d, n);
  if (rc < 0) {
    if (rc != FL_ERR_DECODE) abort();
    check_zero(&a, sizeof a);
    return;
  }
  if (fl_hyperdht_lookup_reply_encode(&a, e1, sizeof e1, &l1) != 0) abort();
  if (fl_hyperdht_lookup_reply_decode(&b, e1, l1) != (int)l1) abort();
  if (b.peers_len != a.peers_len || b.bump != a.bump) abort();
  if (fl_hyperdht_lookup_reply_encode(&b, e2, sizeof e2, &l2) != 0) abort();
  if (l1 != l2 || memcmp(e1, e2, l1) != 0) abort();
}

static void fuzz_mutable(const uint8_t *d, size_t n, bool with_key) {
  fl_hyperdht_mutable a, b;
  size_t l1, l2;
  int rc = fl_hyperdht_mutable_decode(&a, with_key, d, n);
  if (rc < 0) {
    if (rc != FL_ERR_DECODE) abort();
    check_zero(&a, sizeof a);
    return;
  }
  if (a.value_len > FL_HYPERDHT_VALUE_MAX) return; /* the encoder refuses these */
  if (fl_hyperdht_mutable_encode(&a, with_key, e1, sizeof e1, &l1) != 0) abort();
  if (fl_hyperdht_mutable_decode(&b, with_key, e1, l1) != (int)l1) abort();
  if (b.seq != a.seq || b.value_len != a.value_len) abort();
  if (fl_hyperdht_mutable_encode(&b, with_key, e2, sizeof e2, &l2) != 0) abort();
  if (l1 != l2 || memcmp(e1, e2, l1) != 0) abort();
}

static void fuzz_store(uint8_t sel, const uint8_t *d, size_t n) {
  static fl_hyperdht_store *st;
  static uint64_t now;
  static uint8_t buf[FL_HYPERDHT_REPLY_VALUE_MAX];
  if (st == NULL) {
    fl_hyperdht_store_config c;
    fl_hyperdht_store_config_default(&c);
    c.records_max = c.forwards_max = c.bumps_max = c.refreshes_max = 64;
    c.mutables_max = c.immutables_max = 32;
    c.value_bytes_max = 4 * FL_HYPERDHT_REPLY_VALUE_MAX;
    uint8_t seed[32] = {1};
    if (fl_hyperdht_store_new(&st, NULL, &c, seed, 0) != 0) abort();
  }
  if (n < 64) return;
  static const uint8_t node_id[32] = {7};
  fl_hyperdht_request r;
  memset(&r, 0, sizeof r);
  r.command = sel % 12;
  r.target = d;
  r.token = (sel & 0x80) ? NULL : d + 32;
  r.token_valid = (sel & 0x40) == 0;
  r.value = d + 64;
  r.value_len = n - 64;
  r.from = fl_addr_ipv4(127, 0, 0, 1, 1000);
  r.unix_ms = 1700000000000ull;
  now += (uint64_t)(sel & 0x30) * 10000000ull; /* let the ticks run now and then */
  fl_hyperdht_reply out;
  int rc = fl_hyperdht_store_handle(st, now, node_id, &r, buf, sizeof buf, &out);
  if (rc == FL_ERR_INVALID || rc == FL_ERR_BUFFER) abort();
  if (rc < 0 && out.action != FL_HYPERDHT_ACTION_SILENT) abort();
  if (rc == 0 && out.has_value && out.value_len > sizeof buf) abort();
  if (fl_hyperdht_store_check(st) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const uint8_t *d = data + 1;
  size_t n = size - 1;
  switch (data[0] % 6) {
    case 0: {
      fl_hyperdht_peer p;
      int rc = fl_hyperdht_peer_decode(&p, d, n);
      if (rc < 0) check_zero(&p, sizeof p);
      else if (p.relays_len > FL_HYPERDHT_RELAYS_MAX || p.relays_wire < p.relays_len) abort();
      break;
    }
    case 1: fuzz_announce(d, n); break;
    case 2: fuzz_lookup(d, n); break;
    case 3: fuzz_mutable(d, n, true); break;
    case 4: fuzz_mutable(d, n, false); break;
    default:
      if (n > 0) fuzz_store(d[0], d + 1, n - 1);
      break;
  }
  return 0;
}
