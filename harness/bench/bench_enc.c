/*
 * bench_enc.c — decode throughput of core/enc, compiled and run by
 * bench_enc.py (which builds it against build/lib/libflock.a with the system
 * compiler, so no CMake change is needed). Reads a file of concatenated
 * encodings and decodes it `reps` times; prints one JSON line of figures.
 *
 *   bench_enc varint FILE COUNT REPS
 *   bench_enc buffer FILE COUNT REPS
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flock/enc.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *len = (size_t)n;
  return buf;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s varint|buffer FILE COUNT REPS\n", argv[0]);
    return 2;
  }
  int varint = strcmp(argv[1], "varint") == 0;
  size_t len, count = strtoull(argv[3], NULL, 10), reps = strtoull(argv[4], NULL, 10);
  uint8_t *data = read_file(argv[2], &len);
  if (!data) return 2;
  uint64_t sink = 0;
  double t0 = now_s();
  for (size_t r = 0; r < reps; r++) {
    fl_dec_state s;
    fl_dec_state_init(&s, data, len);
    for (size_t i = 0; i < count; i++) {
      int rc;
      if (varint) {
        uint64_t v;
        rc = fl_enc_uint_decode(&s, &v);
        sink += v;
      } else {
        const uint8_t *p;
        size_t n;
        rc = fl_enc_buffer_decode(&s, &p, &n);
        sink += n + (n ? p[0] : 0);
      }
      if (rc != FL_OK) {
        fprintf(stderr, "decode failed at item %zu: %d\n", i, rc);
        return 1;
      }
    }
    if (s.start != len) return 1;
  }
  double dt = now_s() - t0;
  printf("{\"seconds\": %.6f, \"items\": %zu, \"bytes\": %zu, \"sink\": %llu}\n", dt, count * reps,
         len * reps, (unsigned long long)sink);
  free(data);
  return 0;
}
