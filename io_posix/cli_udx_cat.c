/*
 * cli_udx_cat.c — `flocknet udx-cat`: netcat for one UDX stream.
 *
 *   flocknet udx-cat --host H --port P --id LOCAL_ID --remote-id REMOTE_ID
 *                    (--connect RHOST:RPORT | --listen) [--gen BYTES] [--sink]
 *                    [--stats]
 *
 * Binds H:P, opens stream LOCAL_ID to REMOTE_ID, copies stdin to the stream
 * (ending it at EOF) and the stream to stdout, and exits 0 once both
 * directions have ended. --listen learns the peer from its first packet.
 * --gen sends BYTES of a fixed pattern instead of stdin and --sink counts
 * what arrives instead of writing it (both for benchmarks); --stats prints
 * one JSON line of counters to stderr at exit, with --hash the sha256 of
 * each direction; --raw blasts plain UDP instead (the benchmark's floor).
 *
 * Its own small poll loop drives an fl_udx directly (recvmmsg in, sendmmsg
 * out, ppoll with microsecond timeouts for pacing), independent of the
 * node's epoll driver. --node instead opens an fl_node bound to H:P and runs
 * the stream on its server socket under the epoll driver (cli_udx_node.c):
 * the port then also answers dht-rpc requests, as a hyperdht node's does.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli_udx_cat.h"
#include "flock/udx.h"


/* The OS's path MTU towards the peer, as the reference reads it: IP_MTU
 * of a UDP socket connected there (loopback says 65536; UDX caps at 1500). */
void udx_cat_set_path_mtu(cat *c, const fl_addr *peer) {
#ifdef IP_MTU
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  struct sockaddr_in to = {0};
  to.sin_family = AF_INET;
  memcpy(&to.sin_addr, peer->ip, 4);
  to.sin_port = htons(peer->port);
  int mtu = 0;
  socklen_t len = sizeof(mtu);
  if (connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0 &&
      getsockopt(fd, IPPROTO_IP, IP_MTU, &mtu, &len) == 0 && mtu > 0) {
    int rc = fl_udx_stream_set_mtu_max(c->u, c->id, (uint32_t)mtu);
    (void)rc;
  }
  close(fd);
#else
  (void)c;
  (void)peer;
#endif
}

static uint64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int parse_u32(const char *s, uint32_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 0);
  if (errno || *end || v > 0xFFFFFFFFull) return -1;
  *out = (uint32_t)v;
  return 0;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: flocknet udx-cat --host H --port P --id LOCAL_ID --remote-id REMOTE_ID\n"
          "                        (--connect RHOST:RPORT | --listen)\n"
          "                        [--gen BYTES] [--sink] [--stats] [--hash] [--raw] [--node]\n"
          "Copy stdin to a UDX stream (END at EOF) and the stream to stdout;\n"
          "exit 0 when both directions have ended.\n"
          "--node runs the stream on a DHT node's server socket bound to H:P (a\n"
          "persistent dht-rpc node, as DHT.bootstrapper): the same port answers\n"
          "PING and FIND_NODE while it carries the stream.\n");
}

static int open_socket(const char *host, uint32_t port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int sz = 4 << 20;
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
  (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
#ifdef IP_MTU_DISCOVER
  int pmtu = IP_PMTUDISC_DO; /* UDX probes the MTU itself: never fragment */
  (void)setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
#endif
  fl_addr a;
  char text[64];
  snprintf(text, sizeof(text), "%s:%u", host, port);
  struct sockaddr_in sin = {0};
  sin.sin_family = AF_INET;
  if (fl_addr_parse(&a, text) != 0) {
    close(fd);
    return -1;
  }
  memcpy(&sin.sin_addr, a.ip, 4);
  sin.sin_port = htons(a.port);
  if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* The benchmark pattern, periodic in 512 KiB (the JS twin builds the same),
 * built once so generating it costs a memcpy, not the benchmark's CPU. */
#define PATTERN_BYTES (512u * 1024u)
static uint8_t pattern[PATTERN_BYTES];

static void pattern_init(void) {
  for (uint32_t off = 0; off < PATTERN_BYTES; off++)
    pattern[off] = (uint8_t)(off * 131u + (off >> 11));
}

static void gen_fill(uint8_t *out, uint64_t off, size_t len) {
  while (len > 0) {
    size_t at = (size_t)(off % PATTERN_BYTES);
    size_t n = PATTERN_BYTES - at < len ? PATTERN_BYTES - at : len;
    memcpy(out, pattern + at, n);
    out += n;
    off += n;
    len -= n;
  }
}

/* Hand queued datagrams to the kernel; returns 0, or 1 if it would block. */
static int tx_push(cat *c) {
  while (c->tx_sent < c->tx_len) {
    int n = sendmmsg(c->fd, c->tx_msgs + c->tx_sent, (unsigned)(c->tx_len - c->tx_sent), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return 1;
      c->tx_sent++; /* e.g. ECONNREFUSED from ICMP: UDP, let UDX retransmit */
      continue;
    }
    c->tx_sent += n;
  }
  c->tx_len = c->tx_sent = 0;
  return 0;
}

static int flush_tx(cat *c) {
  for (;;) {
    if (c->tx_len > 0 && tx_push(c)) return 1;
    while (c->tx_len < BATCH) {
      fl_udx_dgram d;
      int r = fl_udx_poll_transmit(c->u, &d, c->tx[c->tx_len], FL_UDX_DGRAM_BYTES_MAX);
      if (r != 1) break;
      int i = c->tx_len++;
      memset(&c->tx_addr[i], 0, sizeof(c->tx_addr[i]));
      c->tx_addr[i].sin_family = AF_INET;
      memcpy(&c->tx_addr[i].sin_addr, d.to.ip, 4);
      c->tx_addr[i].sin_port = htons(d.to.port);
      c->tx_iov[i].iov_base = c->tx[i];
      c->tx_iov[i].iov_len = d.len;
      memset(&c->tx_msgs[i], 0, sizeof(c->tx_msgs[i]));
      c->tx_msgs[i].msg_hdr.msg_name = &c->tx_addr[i];
      c->tx_msgs[i].msg_hdr.msg_namelen = sizeof(c->tx_addr[i]);
      c->tx_msgs[i].msg_hdr.msg_iov = &c->tx_iov[i];
      c->tx_msgs[i].msg_hdr.msg_iovlen = 1;
    }
    if (c->tx_len == 0) return 0;
  }
}

static int write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        struct pollfd pf = {fd, POLLOUT, 0};
        (void)poll(&pf, 1, 1000);
        continue;
      }
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

void udx_cat_read_stream(cat *c, uint64_t now) {
  static uint8_t buf[CHUNK * 4];
  for (;;) {
    int n = fl_udx_stream_read(c->u, now, c->id, buf, sizeof(buf));
    if (n <= 0) return;
    c->bytes_in += (uint64_t)n;
    if (c->hash) crypto_hash_sha256_update(&c->h_in, buf, (unsigned long long)n);
    if (!c->sink && write_all(1, buf, (size_t)n) != 0) {
      c->closed = 1;
      c->close_code = FL_ERR_CLOSED;
      return;
    }
  }
}

/* Offer queued input to the stream; end it when the input is done. */
void udx_cat_feed(cat *c, uint64_t now) {
  while (!c->write_blocked) {
    if (c->pending_len == 0 && c->gen && c->gen_left > 0) {
      size_t n = c->gen_left < CHUNK ? (size_t)c->gen_left : CHUNK;
      gen_fill(c->pending, c->gen_off, n);
      c->gen_off += n;
      c->gen_left -= n;
      c->pending_off = 0;
      c->pending_len = n;
      if (c->gen_left == 0) c->in_eof = 1;
    }
    if (c->pending_len == 0) break;
    int w = fl_udx_stream_write(c->u, now, c->id, c->pending + c->pending_off, c->pending_len);
    if (w < 0) return;
    c->bytes_out += (uint64_t)w;
    if (c->hash)
      crypto_hash_sha256_update(&c->h_out, c->pending + c->pending_off, (unsigned long long)w);
    c->pending_off += (size_t)w;
    c->pending_len -= (size_t)w;
    if (c->pending_len > 0) c->write_blocked = 1;
  }
  if (c->in_eof && c->pending_len == 0 && !c->ended) {
    if (fl_udx_stream_end(c->u, now, c->id) == 0) c->ended = 1;
  }
}

void udx_cat_read_stdin(cat *c, uint64_t now) {
  if (c->pending_len > 0 || c->in_eof || c->gen) return;
  ssize_t n = read(0, c->pending, CHUNK);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) c->in_eof = 1;
  else {
    c->pending_off = 0;
    c->pending_len = (size_t)n;
  }
  udx_cat_feed(c, now);
}

static void events(cat *c, uint64_t now) {
  fl_udx_event e;
  while (fl_udx_poll_event(c->u, &e) == 1) {
    if (e.id != c->id) continue;
    switch (e.type) {
      case FL_UDX_EVENT_READABLE: udx_cat_read_stream(c, now); break;
      case FL_UDX_EVENT_END: c->got_end = 1; break;
      case FL_UDX_EVENT_CONNECT: udx_cat_set_path_mtu(c, &e.addr); break;
      case FL_UDX_EVENT_DRAIN: c->write_blocked = 0; udx_cat_feed(c, now); break;
      case FL_UDX_EVENT_CLOSE:
        c->closed = 1;
        c->close_code = e.code;
        break;
      default: break;
    }
  }
}

static void receive(cat *c, uint64_t now) {
  static uint8_t bufs[BATCH][2048];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_in from[BATCH];
  for (int round = 0; round < 16; round++) {
    for (int i = 0; i < BATCH; i++) {
      iov[i].iov_base = bufs[i];
      iov[i].iov_len = sizeof(bufs[i]);
      memset(&msgs[i], 0, sizeof(msgs[i]));
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(c->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) return;
    for (int i = 0; i < n; i++) {
      fl_addr a = {0};
      a.family = FL_ADDR_IPV4;
      memcpy(a.ip, &from[i].sin_addr, 4);
      a.port = ntohs(from[i].sin_port);
      int rc = fl_udx_handle_datagram(c->u, now, 0, &a, bufs[i], msgs[i].msg_len);
      (void)rc; /* not ours / malformed: counted inside, nothing to do here */
    }
    if (n < BATCH) return;
  }
}

static int parse_args(cat *c, int argc, char **argv, const char **host, uint32_t *port,
                      uint32_t *remote_id, fl_addr *peer, int *have_peer) {
  int have_id = 0, have_rid = 0, have_port = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      exit(0);
    } else if (!strcmp(a, "--listen")) {
      c->listen = 1;
    } else if (!strcmp(a, "--sink")) {
      c->sink = 1;
    } else if (!strcmp(a, "--stats")) {
      c->stats = 1;
    } else if (!strcmp(a, "--hash")) {
      c->hash = 1;
    } else if (!strcmp(a, "--raw")) {
      c->raw = 1;
    } else if (!strcmp(a, "--node")) {
      c->node = 1;
    } else if (v == NULL) {
      return -1;
    } else if (!strcmp(a, "--host")) {
      *host = v, i++;
    } else if (!strcmp(a, "--port")) {
      if (parse_u32(v, port) || *port > 65535) return -1;
      have_port = 1, i++;
    } else if (!strcmp(a, "--id")) {
      if (parse_u32(v, &c->id)) return -1;
      have_id = 1, i++;
    } else if (!strcmp(a, "--remote-id")) {
      if (parse_u32(v, remote_id)) return -1;
      have_rid = 1, i++;
    } else if (!strcmp(a, "--connect")) {
      if (fl_addr_parse(peer, v) != 0) return -1;
      *have_peer = 1, i++;
    } else if (!strcmp(a, "--gen")) {
      c->gen = 1;
      c->gen_left = strtoull(v, NULL, 0), i++;
    } else {
      return -1;
    }
  }
  if (!have_id || !have_rid || !have_port || (*have_peer == c->listen)) return -1;
  if (c->gen && c->gen_left == 0) c->in_eof = 1; /* --gen 0: only end */
  return 0;
}

void udx_cat_print_stats(cat *c, const char *extra) {
  fl_udx_stats st;
  fl_udx_get_stats(c->u, &st);
  uint8_t din[32], dout[32];
  char hin[65], hout[65];
  crypto_hash_sha256_final(&c->h_in, din);
  crypto_hash_sha256_final(&c->h_out, dout);
  sodium_bin2hex(hin, sizeof(hin), din, sizeof(din));
  sodium_bin2hex(hout, sizeof(hout), dout, sizeof(dout));
  double secs = (double)(c->end_us - c->start_us) / 1e6;
  fprintf(stderr,
          "{\"bytes_in\": %" PRIu64 ", \"bytes_out\": %" PRIu64 ", \"seconds\": %.6f, "
          "\"dgrams_in\": %" PRIu64 ", \"dgrams_out\": %" PRIu64 ", \"retransmits\": %" PRIu64
          ", \"rto_fires\": %" PRIu64 ", \"tlp_fires\": %" PRIu64 ", \"rack_losses\": %" PRIu64
          ", \"mtu_probes\": %" PRIu64 ", \"decode_errors\": %" PRIu64 ", \"bad_sacks\": %" PRIu64
          ", \"bad_acks\": %" PRIu64 ", \"padded_in\": %" PRIu64 ", \"dgram_in_max\": %" PRIu64
          ", \"close_code\": %d, "
          "\"sha256_in\": \"%s\", \"sha256_out\": \"%s\"%s}\n",
          c->bytes_in, c->bytes_out, secs, st.dgrams_in, st.dgrams_out, st.retransmits,
          st.rto_fires, st.tlp_fires, st.rack_losses, st.mtu_probes, st.decode_errors,
          st.bad_sacks, st.bad_acks, st.padded_in, st.dgram_in_max, c->close_code, hin, hout,
          extra ? extra : "");
}

/* After a clean close the core keeps answering a peer whose copy of our
 * final ACK was lost (it retransmits its END after its RTO, >= 1 s). Stay
 * up for that long, unless the core already let the stream go. */
#define CAT_LINGER_US 1500000u

static int still_lingering(cat *c, uint64_t *linger_end) {
  fl_udx_stream_info si;
  uint64_t now = mono_us();
  if (c->close_code != 0) return 0;
  if (*linger_end == 0) {
    *linger_end = now + CAT_LINGER_US;
    c->end_us = now;
  }
  return now < *linger_end && fl_udx_stream_info_get(c->u, c->id, &si) == 0;
}

static void loop(cat *c) {
  events(c, mono_us());
  int tx_blocked = flush_tx(c); /* what the initial writes queued */
  uint64_t last_trace = 0;
  uint64_t linger_end = 0;
  while (!c->closed || still_lingering(c, &linger_end)) {
    uint64_t now = mono_us();
    uint64_t dl = fl_udx_next_deadline(c->u);
    if (linger_end != 0 && linger_end < dl) dl = linger_end;
    struct pollfd pf[2];
    int npf = 1;
    pf[0].fd = c->fd;
    pf[0].events = (short)(POLLIN | (tx_blocked ? POLLOUT : 0));
    pf[0].revents = 0;
    int want_stdin = !c->gen && !c->in_eof && !c->write_blocked && c->pending_len == 0;
    if (want_stdin) {
      pf[1].fd = 0;
      pf[1].events = POLLIN;
      pf[1].revents = 0;
      npf = 2;
    }
    struct timespec ts, *tsp = NULL;
    if (dl != FL_TIME_NONE) {
      uint64_t wait = dl > now ? dl - now : 0;
      ts.tv_sec = (time_t)(wait / 1000000u);
      ts.tv_nsec = (long)(wait % 1000000u) * 1000;
      tsp = &ts;
    }
    int r = ppoll(pf, (nfds_t)npf, tsp, NULL);
    if (r < 0 && errno != EINTR) break;
    now = mono_us();
    if (pf[0].revents & POLLIN) receive(c, now);
    if (fl_udx_next_deadline(c->u) <= now && fl_udx_handle_timeout(c->u, now) != 0) break;
    if (npf == 2 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR))) udx_cat_read_stdin(c, now);
    udx_cat_feed(c, now);
    events(c, now);
    tx_blocked = flush_tx(c);
    if (getenv("FL_UDX_CAT_TRACE") && now - last_trace > 500000) {
      fl_udx_stream_info si;
      last_trace = now;
      if (fl_udx_stream_info_get(c->u, c->id, &si) == 0)
        fprintf(stderr, "trace cwnd=%u inflight=%u srtt=%" PRIu64 " pacing=%" PRIu64
                " mtu=%u cc=%u sendbuf=%zu rwnd=%u\n", si.cwnd, si.inflight, si.srtt_us,
                si.pacing_bytes_per_s, si.mtu, si.cc_state, si.send_buffered, si.rwnd_remote);
    }
  }
  (void)flush_tx(c); /* a final ACK or DESTROY */
}


/* --raw: the floor for the benchmark. The connecting side blasts --gen
 * bytes as full-size (1472-byte) datagrams with sendmmsg, then a few 1-byte
 * end markers; the listening side counts with recvmmsg until a marker or
 * 1 s of silence, and reports bytes and the first-to-last-datagram time. */
static int raw_send(cat *c, const fl_addr *peer) {
  struct sockaddr_in to = {0};
  to.sin_family = AF_INET;
  memcpy(&to.sin_addr, peer->ip, 4);
  to.sin_port = htons(peer->port);
  uint64_t start = mono_us();
  while (c->gen_left > 0) {
    int n = 0;
    for (; n < BATCH && c->gen_left > 0; n++) {
      size_t len = c->gen_left < FL_UDX_DGRAM_BYTES_MAX ? (size_t)c->gen_left : FL_UDX_DGRAM_BYTES_MAX;
      gen_fill(c->tx[n], c->gen_off, len);
      c->gen_off += len;
      c->gen_left -= len;
      c->tx_iov[n].iov_base = c->tx[n];
      c->tx_iov[n].iov_len = len;
      memset(&c->tx_msgs[n], 0, sizeof(c->tx_msgs[n]));
      c->tx_msgs[n].msg_hdr.msg_name = &to;
      c->tx_msgs[n].msg_hdr.msg_namelen = sizeof(to);
      c->tx_msgs[n].msg_hdr.msg_iov = &c->tx_iov[n];
      c->tx_msgs[n].msg_hdr.msg_iovlen = 1;
    }
    for (int done = 0; done < n;) {
      int r = sendmmsg(c->fd, c->tx_msgs + done, (unsigned)(n - done), 0);
      if (r < 0) {
        struct pollfd pf = {c->fd, POLLOUT, 0};
        (void)poll(&pf, 1, 100);
        continue;
      }
      done += r;
    }
    c->bytes_out = c->gen_off;
  }
  for (int i = 0; i < 20; i++) (void)sendto(c->fd, "E", 1, 0, (struct sockaddr *)&to, sizeof(to));
  c->start_us = start;
  c->end_us = mono_us();
  return 0;
}

static int raw_recv(cat *c) {
  static uint8_t bufs[BATCH][2048];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  uint64_t first = 0, last = 0;
  for (;;) {
    struct pollfd pf = {c->fd, POLLIN, 0};
    if (poll(&pf, 1, first ? 1000 : 30000) <= 0) break;
    for (int i = 0; i < BATCH; i++) {
      iov[i].iov_base = bufs[i];
      iov[i].iov_len = sizeof(bufs[i]);
      memset(&msgs[i], 0, sizeof(msgs[i]));
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(c->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
    int end = 0;
    for (int i = 0; i < n; i++) {
      if (msgs[i].msg_len == 1) {
        end = 1;
        continue;
      }
      if (!first) first = mono_us();
      last = mono_us();
      c->bytes_in += msgs[i].msg_len;
    }
    if (end) break;
  }
  c->start_us = first;
  c->end_us = last;
  return 0;
}

int fl_cli_udx_cat(int argc, char **argv);

int fl_cli_udx_cat(int argc, char **argv) {
  static cat c;
  const char *host = "127.0.0.1";
  uint32_t port = 0, remote_id = 0;
  fl_addr peer;
  int have_peer = 0;
  memset(&c, 0, sizeof(c));
  if (parse_args(&c, argc, argv, &host, &port, &remote_id, &peer, &have_peer) != 0) {
    usage(stderr);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  pattern_init();
  crypto_hash_sha256_init(&c.h_in);
  crypto_hash_sha256_init(&c.h_out);
  if (c.node && !c.raw) {
    int rc = udx_cat_node_run(&c, host, port, remote_id, have_peer ? &peer : NULL);
    if (rc == 0 && c.close_code != 0) {
      fprintf(stderr, "udx-cat: stream closed: %s\n", fl_strerror(c.close_code));
      rc = 1;
    }
    return rc;
  }
  c.fd = open_socket(host, port);
  if (c.fd < 0) {
    fprintf(stderr, "udx-cat: cannot bind %s:%u: %s\n", host, port, strerror(errno));
    return 1;
  }
  if (c.raw) {
    int rc = have_peer ? raw_send(&c, &peer) : raw_recv(&c);
    if (c.stats)
      fprintf(stderr, "{\"bytes_in\": %" PRIu64 ", \"bytes_out\": %" PRIu64 ", \"seconds\": %.6f}\n",
              c.bytes_in, c.bytes_out, (double)(c.end_us - c.start_us) / 1e6);
    close(c.fd);
    return rc;
  }
  int fl = fcntl(0, F_GETFL);
  if (fl >= 0) (void)fcntl(0, F_SETFL, fl | O_NONBLOCK);
  c.u = fl_udx_new(NULL, NULL);
  uint64_t now = mono_us();
  c.start_us = now;
  if (c.u == NULL || fl_udx_handle_timeout(c.u, now) != 0 ||
      fl_udx_stream_open(c.u, now, c.id) != 0 ||
      fl_udx_stream_connect(c.u, now, c.id, remote_id, 0, have_peer ? &peer : NULL) != 0) {
    fprintf(stderr, "udx-cat: cannot open the stream\n");
    return 1;
  }
  if (have_peer) udx_cat_set_path_mtu(&c, &peer);
  udx_cat_feed(&c, now);
  loop(&c);
  if (c.end_us == 0) c.end_us = mono_us();
  if (c.stats) udx_cat_print_stats(&c, NULL);
  fl_udx_free(c.u);
  close(c.fd);
  if (c.close_code != 0) {
    fprintf(stderr, "udx-cat: stream closed: %s\n", fl_strerror(c.close_code));
    return 1;
  }
  return 0;
}
