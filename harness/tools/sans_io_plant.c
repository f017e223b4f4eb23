/* A planted sans-IO violation, compiled outside core/ on purpose: ctest runs
 * the sans-IO check on this object and expects it to fail, which proves the
 * check can catch what it is for. Never link this into anything. */
#define _POSIX_C_SOURCE 200809L
#include <sodium.h>
#include <stdio.h>
#include <time.h>

int fl_plant_reads_clock(void);
int fl_plant_reads_clock(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  unsigned char header[24];
  randombytes_buf(header, sizeof header);
  printf("%ld\n", (long)ts.tv_sec);
  return header[0];
}
