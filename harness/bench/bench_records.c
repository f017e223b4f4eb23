/*
 * bench_records.c — server-side cost of hyperdht's record commands in the C
 * store, compiled and run by bench_records.py against build/lib/libflock.a.
 * Requests are built (and signed) before the clock starts, so the figures
 * are what a node pays per request: decode, Ed25519 verify, BLAKE2b, store.
 * Prints one JSON line.
 *
 *   bench_records N
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flock/hyperdht.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: the machine is shared */
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t ID[32], TOKEN[32], BUF[FL_HYPERDHT_REPLY_VALUE_MAX];

static void serve(fl_hyperdht_store *st, uint64_t cmd, const uint8_t *target,
                  const uint8_t *value, size_t len) {
  fl_hyperdht_request r;
  memset(&r, 0, sizeof r);
  r.command = cmd;
  r.target = target;
  r.token = TOKEN;
  r.token_valid = true;
  r.value = value;
  r.value_len = len;
  r.from = fl_addr_ipv4(127, 0, 0, 1, 5);
  fl_hyperdht_reply out;
  if (fl_hyperdht_store_handle(st, 1, ID, &r, BUF, sizeof BUF, &out) != 0 ||
      out.action != FL_HYPERDHT_ACTION_REPLY) {
    fprintf(stderr, "request refused\n");
    exit(1);
  }
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 20000;
  if (n <= 0 || fl_crypto_init() != 0) return 1;
  memset(ID, 0xbb, 32);
  memset(TOKEN, 0xcc, 32);
  uint8_t seed[32] = {0}, pk[32], sk[64];
  fl_mem_counter mc;
  fl_mem_counter_init(&mc, 0);
  fl_hyperdht_store *st;
  if (fl_crypto_sign_seed_keypair(pk, sk, seed) != 0 ||
      fl_hyperdht_store_new(&st, &mc.mem, NULL, (uint8_t[32]){1}, 0) != 0)
    return 1;
  uint8_t (*targets)[32] = malloc((size_t)n * 32), (*values)[128] = malloc((size_t)n * 128);
  size_t *lens = malloc((size_t)n * sizeof *lens);
  uint8_t *blobs = malloc((size_t)n * 2048), (*hashes)[32] = malloc((size_t)n * 32);
  if (!targets || !values || !lens || !blobs || !hashes) return 1;
  for (int i = 0; i < n; i++) {
    memset(targets[i], 0, 32);
    memcpy(targets[i], &i, sizeof i);
    fl_hyperdht_announce a;
    memset(&a, 0, sizeof a);
    a.has_peer = true;
    memcpy(a.peer.public_key, pk, 32);
    a.peer.relays_len = 3;
    for (int r = 0; r < 3; r++) a.peer.relays[r] = fl_addr_ipv4(10, 0, 0, (uint8_t)r, 9);
    if (fl_hyperdht_announce_sign(&a, FL_NS_ANNOUNCE, targets[i], ID, TOKEN, sk) != 0 ||
        fl_hyperdht_announce_encode(&a, values[i], 128, &lens[i]) != 0)
      return 1;
    memset(blobs + (size_t)i * 2048, 0, 2048);
    memcpy(blobs + (size_t)i * 2048, &i, sizeof i);
    if (fl_hyperdht_target(hashes[i], blobs + (size_t)i * 2048, 2048) != 0) return 1;
  }
  double t0 = now_s();
  for (int i = 0; i < n; i++) serve(st, FL_HYPERDHT_CMD_ANNOUNCE, targets[i], values[i], lens[i]);
  double t1 = now_s();
  for (int i = 0; i < n; i++) serve(st, FL_HYPERDHT_CMD_LOOKUP, targets[i], NULL, 0);
  double t2 = now_s();
  for (int i = 0; i < n; i++)
    serve(st, FL_HYPERDHT_CMD_IMMUTABLE_PUT, hashes[i], blobs + (size_t)i * 2048, 2048);
  double t3 = now_s();
  fl_hyperdht_store_stats s;
  fl_hyperdht_store_get_stats(st, &s);
  printf("{\"n\":%d,\"announce_us\":%.2f,\"lookup_us\":%.2f,\"immutable_put_us\":%.2f,"
         "\"records\":%llu,\"memory_peak_bytes\":%llu}\n",
         n, (t1 - t0) / n * 1e6, (t2 - t1) / n * 1e6, (t3 - t2) / n * 1e6,
         (unsigned long long)s.records.current, (unsigned long long)mc.bytes_peak);
  fl_hyperdht_store_free(st);
  free(targets);
  free(values);
  free(lens);
  free(blobs);
  free(hashes);
  return 0;
}
