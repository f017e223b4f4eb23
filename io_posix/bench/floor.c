/*
 * floor.c — the benchmark's floor: answers every dht-rpc request datagram
 * with a response of a fixed size (the size the real nodes' FIND_NODE
 * replies have) in recvmmsg/sendmmsg batches, and does nothing else. No
 * routing table, no decoding beyond the first byte and the tid: the CPU it
 * spends per answer is the cost of the system calls and the kernel's UDP
 * path, which no DHT node can go below.
 *
 * usage: floor HOST PORT REPLY_BYTES     (PORT 0 = any; prints the port)
 * Built by harness/bench/bench_dht.py with cc -O2; runs until killed, and
 * at most FLOOR_LIFETIME_S, so a bench that dies cannot leave it behind.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define FLOOR_LIFETIME_S 600
#define BYTES_MAX 2048

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: floor HOST PORT REPLY_BYTES\n");
    return 2;
  }
  size_t reply_len = (size_t)atoi(argv[3]);
  if (reply_len < 10 || reply_len > BYTES_MAX) {
    fprintf(stderr, "floor: REPLY_BYTES must be 10..%d\n", BYTES_MAX);
    return 2;
  }
  alarm(FLOOR_LIFETIME_S); /* SIGALRM's default action ends the process */
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
  int size = 1 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  if (fd < 0 || inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1 ||
      bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
    perror("floor: bind");
    return 1;
  }
  socklen_t sl = sizeof sin;
  getsockname(fd, (struct sockaddr *)&sin, &sl);
  printf("{\"event\":\"listening\",\"port\":%u}\n", ntohs(sin.sin_port));
  fflush(stdout);

  static uint8_t in[BATCH][BYTES_MAX], out[BATCH][BYTES_MAX];
  static struct mmsghdr rm[BATCH], sm[BATCH];
  static struct iovec riov[BATCH], siov[BATCH];
  static struct sockaddr_in from[BATCH];
  /* The reply template: response, flags id + closerNodes, a fixed id and
   * as many 6-byte nodes as fit; the tid and `to` are patched per reply. */
  uint8_t tmpl[BYTES_MAX];
  memset(tmpl, 0x5a, sizeof tmpl);
  tmpl[0] = 0x13;
  tmpl[1] = 0x05;
  size_t nodes = reply_len >= 43 ? (reply_len - 43) / 6 : 0;
  if (reply_len >= 43) tmpl[42] = (uint8_t)(nodes > 0xfc ? 0xfc : nodes);
  for (int i = 0; i < BATCH; i++) {
    riov[i] = (struct iovec){in[i], BYTES_MAX};
    rm[i].msg_hdr = (struct msghdr){.msg_name = &from[i], .msg_iov = &riov[i], .msg_iovlen = 1};
    memcpy(out[i], tmpl, reply_len);
    siov[i] = (struct iovec){out[i], reply_len};
  }
  for (;;) {
    for (int i = 0; i < BATCH; i++) rm[i].msg_hdr.msg_namelen = sizeof from[i];
    int n = recvmmsg(fd, rm, BATCH, MSG_WAITFORONE, NULL);
    if (n <= 0) continue;
    int k = 0;
    for (int i = 0; i < n; i++) {
      if (rm[i].msg_len < 11 || in[i][0] != 0x03) continue; /* not a request */
      out[k][2] = in[i][2];
      out[k][3] = in[i][3];
      memcpy(&out[k][4], &from[i].sin_addr.s_addr, 4);
      uint16_t port = ntohs(from[i].sin_port);
      out[k][8] = (uint8_t)(port & 0xff);
      out[k][9] = (uint8_t)(port >> 8);
      sm[k].msg_hdr = (struct msghdr){.msg_name = &from[i], .msg_namelen = sizeof from[i],
                                      .msg_iov = &siov[k], .msg_iovlen = 1};
      k++;
    }
    for (int sent = 0; sent < k;) {
      int r = sendmmsg(fd, sm + sent, (unsigned)(k - sent), 0);
      if (r <= 0) break; /* UDP: drop the rest, like a node would */
      sent += r;
    }
  }
}
