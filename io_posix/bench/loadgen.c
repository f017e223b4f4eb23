/*
 * loadgen.c — the benchmark's one load generator: sends dht-rpc FIND_NODE
 * requests (43 bytes, no id, a fresh pseudo-random target each) to one
 * address, one datagram per system call, keeping WINDOW requests in
 * flight; a request unanswered for 200 ms is counted lost and replaced.
 * Stops after SECONDS or COUNT answers and prints one JSON line.
 *
 * usage: loadgen HOST PORT SECONDS COUNT WINDOW
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WINDOW_MAX 1024
#define LOST_US 200000ull

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void) { /* xorshift64: targets need spread, not secrecy */
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static int fd;
static struct sockaddr_in to;
static uint64_t sent_at[65536];
static uint16_t next_tid;
static uint64_t sent, answers, lost, reply_bytes;

static void send_one(void) {
  uint8_t p[43];
  uint16_t tid = next_tid++;
  if (tid == 0) tid = next_tid++; /* 0 marks "free" in sent_at */
  p[0] = 0x03;
  p[1] = 0x0c; /* internal + target */
  p[2] = (uint8_t)tid;
  p[3] = (uint8_t)(tid >> 8);
  memcpy(&p[4], &to.sin_addr.s_addr, 4);
  uint16_t port = ntohs(to.sin_port);
  p[8] = (uint8_t)port;
  p[9] = (uint8_t)(port >> 8);
  p[10] = 2; /* FIND_NODE */
  for (int i = 0; i < 32; i += 8) {
    uint64_t r = next_rand();
    memcpy(&p[11 + i], &r, 8);
  }
  sent_at[tid] = now_us();
  sent++;
  (void)sendto(fd, p, sizeof p, 0, (struct sockaddr *)&to, sizeof to);
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: loadgen HOST PORT SECONDS COUNT WINDOW\n");
    return 2;
  }
  double seconds = atof(argv[3]);
  uint64_t count = strtoull(argv[4], NULL, 10);
  int window = atoi(argv[5]);
  if (window < 1 || window > WINDOW_MAX || seconds <= 0) {
    fprintf(stderr, "loadgen: WINDOW 1..%d, SECONDS > 0\n", WINDOW_MAX);
    return 2;
  }
  fd = socket(AF_INET, SOCK_DGRAM, 0);
  to.sin_family = AF_INET;
  to.sin_port = htons((uint16_t)atoi(argv[2]));
  if (fd < 0 || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
    fprintf(stderr, "loadgen: bad address\n");
    return 2;
  }
  struct sockaddr_in me = {.sin_family = AF_INET};
  me.sin_addr.s_addr = htonl(0x7f000001);
  bind(fd, (struct sockaddr *)&me, sizeof me);
  int size = 1 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  rng ^= (uint64_t)getpid() << 32;
  uint64_t start = now_us(), end = start + (uint64_t)(seconds * 1e6), last_sweep = start;
  for (int i = 0; i < window; i++) send_one();
  uint8_t buf[4096];
  while (answers < count) {
    uint64_t t = now_us();
    if (t >= end) break;
    struct pollfd pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, 50) <= 0) goto sweep;
    for (;;) {
      ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0) break;
      if (n < 10 || buf[0] != 0x13) continue;
      uint16_t tid = (uint16_t)(buf[2] | buf[3] << 8);
      if (sent_at[tid] == 0) continue; /* late, already counted lost */
      sent_at[tid] = 0;
      answers++;
      reply_bytes += (uint64_t)n;
      send_one();
    }
  sweep:
    t = now_us();
    if (t - last_sweep < LOST_US / 2) continue;
    last_sweep = t;
    /* Bounded: one pass over the 65536 tid slots every 100 ms. */
    for (uint32_t tid = 0; tid < 65536; tid++) {
      if (sent_at[tid] && t - sent_at[tid] > LOST_US) {
        sent_at[tid] = 0;
        lost++;
        send_one();
      }
    }
  }
  double el = (double)(now_us() - start) / 1e6;
  printf("{\"sent\":%llu,\"answers\":%llu,\"lost\":%llu,\"seconds\":%.3f,"
         "\"answers_per_s\":%.0f,\"reply_bytes_avg\":%.1f}\n",
         (unsigned long long)sent, (unsigned long long)answers, (unsigned long long)lost, el,
         answers / el, answers ? (double)reply_bytes / answers : 0.0);
  return 0;
}
