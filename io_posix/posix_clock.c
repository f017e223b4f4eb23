/*
 * posix_clock.c — the two things the sans-IO core must never fetch itself:
 * time (CLOCK_MONOTONIC) and entropy (getrandom), plus sockaddr conversion.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "fl_posix.h"

uint64_t fl_posix_now_us(void) {
  struct timespec ts;
  /* CLOCK_MONOTONIC cannot fail with a valid pointer; it never jumps back,
   * which is what makes "now_us never goes backwards" hold in production. */
  int rc = clock_gettime(CLOCK_MONOTONIC, &ts);
  (void)rc;
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int fl_posix_entropy(uint8_t *buf, size_t len) {
  if (buf == NULL && len > 0) return FL_ERR_INVALID;
  size_t got = 0;
  /* Bounded: getrandom returns at most 32 MiB per call and only fails on
   * EINTR/EAGAIN, so a seed of a few dozen bytes takes one or two calls. */
  for (int tries = 0; got < len && tries < 64; tries++) {
    ssize_t n = getrandom(buf + got, len - got, 0);
    if (n > 0) {
      got += (size_t)n;
    } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
      break;
    }
  }
  if (got < len) {
    memset(buf, 0, len);
    return FL_ERR_STATE;
  }
  return 0;
}

void fl_posix_addr_to_sin(const fl_addr *a, struct sockaddr_in *out) {
  memset(out, 0, sizeof *out);
  out->sin_family = AF_INET;
  out->sin_port = htons(a->port);
  memcpy(&out->sin_addr.s_addr, a->ip, 4); /* fl_addr keeps network order */
}

void fl_posix_addr_from_sin(const struct sockaddr_in *in, fl_addr *out) {
  memset(out, 0, sizeof *out);
  out->family = FL_ADDR_IPV4;
  memcpy(out->ip, &in->sin_addr.s_addr, 4);
  out->port = ntohs(in->sin_port);
}
