/*
 * posix_loop_test.c — the epoll driver over real loopback sockets, with a
 * small echo state machine standing in for fl_node: sockets on request,
 * recvmmsg/sendmmsg batching, timers, bind failures, signals, many machines
 * per loop, the clock and entropy. Every wait has a deadline.
 */
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fl_posix.h"
#include "testing/fl_test.h"

#define ECHO_QUEUE_MAX 256u

/* The stand-in machine: opens socket 0 on 127.0.0.1:port, echoes every
 * datagram back from the socket it came in on, and fires one timer. */
typedef struct echo {
  uint16_t want_port;
  int opened, failed, fail_code;
  fl_addr bound;
  int open_pending, log_pending;
  uint64_t last_now, time_backwards;
  uint64_t timer_at, timer_fired_at;
  fl_dgram q[ECHO_QUEUE_MAX];
  uint8_t qbuf[ECHO_QUEUE_MAX][64];
  uint32_t qhead, qlen, qdropped;
  uint64_t received;
  uint32_t send_on_sock; /* reply through this handle (to test unknown handles) */
  int two_socks;         /* open handles 0 and 1 and answer from both */
  int open1_pending;
  fl_addr bound1;
} echo;

static void see_time(echo *e, uint64_t now) {
  if (now < e->last_now) e->time_backwards++;
  e->last_now = now;
}

static int echo_datagram(void *m, uint64_t now, uint32_t sock, const fl_addr *from,
                         const uint8_t *data, size_t len) {
  echo *e = m;
  see_time(e, now);
  e->received++;
  if (e->qlen == ECHO_QUEUE_MAX || len > 64) {
    e->qdropped++;
    return 0;
  }
  for (uint32_t copy = 0; copy < (e->two_socks ? 2u : 1u) && e->qlen < ECHO_QUEUE_MAX; copy++) {
    uint32_t k = (e->qhead + e->qlen++) % ECHO_QUEUE_MAX;
    uint32_t out = e->two_socks ? copy : e->send_on_sock ? e->send_on_sock : sock;
    e->q[k] = (fl_dgram){.sock = out, .to = *from, .len = len};
    memcpy(e->qbuf[k], data, len);
  }
  return 0;
}

static int echo_transmit(void *m, fl_dgram *out, uint8_t *buf, size_t cap) {
  echo *e = m;
  if (cap < FL_DGRAM_BYTES_MAX) return FL_ERR_BUFFER;
  if (e->qlen == 0) return 0;
  *out = e->q[e->qhead];
  memcpy(buf, e->qbuf[e->qhead], out->len);
  e->qhead = (e->qhead + 1) % ECHO_QUEUE_MAX;
  e->qlen--;
  return 1;
}

static uint64_t echo_deadline(const void *m) {
  const echo *e = m;
  return e->timer_fired_at ? FL_TIME_NONE : e->timer_at;
}

static int echo_timeout(void *m, uint64_t now) {
  echo *e = m;
  see_time(e, now);
  if (e->timer_fired_at == 0 && now >= e->timer_at) {
    e->timer_fired_at = now;
    e->log_pending = 1;
  }
  return 0;
}

static int echo_event(void *m, fl_event *out) {
  echo *e = m;
  memset(out, 0, sizeof *out);
  if (e->open_pending) {
    e->open_pending = 0;
    out->type = FL_EVENT_SOCKET_OPEN;
    out->sock = 0;
    out->addr = fl_addr_ipv4(127, 0, 0, 1, e->want_port);
    return 1;
  }
  if (e->open1_pending) {
    e->open1_pending = 0;
    out->type = FL_EVENT_SOCKET_OPEN;
    out->sock = 1;
    out->addr = fl_addr_ipv4(127, 0, 0, 1, 0);
    return 1;
  }
  if (e->log_pending) {
    e->log_pending = 0;
    out->type = FL_EVENT_LOG;
    out->data = (const uint8_t *)"timer";
    out->len = 5;
    return 1;
  }
  return 0;
}

static int echo_opened(void *m, uint64_t now, uint32_t sock, const fl_addr *bound) {
  echo *e = m;
  see_time(e, now);
  if (sock > 1) return FL_ERR_INVALID;
  e->opened++;
  if (sock == 1) e->bound1 = *bound;
  else e->bound = *bound;
  return 0;
}

static int echo_failed(void *m, uint64_t now, uint32_t sock, int err) {
  echo *e = m;
  see_time(e, now);
  (void)sock;
  e->failed = 1;
  e->fail_code = err;
  return 0;
}

static const fl_posix_ops echo_ops = {echo_datagram, echo_transmit, echo_deadline, echo_timeout,
                                      echo_event,    echo_opened,   echo_failed};

static void echo_init(echo *e, uint16_t port) {
  memset(e, 0, sizeof *e);
  e->want_port = port;
  e->open_pending = 1;
  e->timer_at = FL_TIME_NONE;
}

/* A plain client socket on 127.0.0.1 and what it has received. */
typedef struct client {
  int fd;
  uint64_t got, want;
} client;

static int client_open(client *c) {
  memset(c, 0, sizeof *c);
  c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  fl_addr a = fl_addr_ipv4(127, 0, 0, 1, 0);
  struct sockaddr_in sin;
  fl_posix_addr_to_sin(&a, &sin);
  return c->fd >= 0 && bind(c->fd, (struct sockaddr *)&sin, sizeof sin) == 0 ? 0 : -1;
}

static int client_send(client *c, const fl_addr *to, const void *p, size_t len) {
  struct sockaddr_in sin;
  fl_posix_addr_to_sin(to, &sin);
  return sendto(c->fd, p, len, 0, (struct sockaddr *)&sin, sizeof sin) == (ssize_t)len ? 0 : -1;
}

static void client_readable(fl_posix_loop *loop, int fd, void *user) {
  client *c = user;
  uint8_t buf[128];
  for (int i = 0; i < 1000 && recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0; i++) c->got++;
  if (c->got >= c->want) fl_posix_loop_stop(loop);
}

static void stop_on_log(fl_posix_loop *loop, int slot, const fl_event *ev, void *user) {
  (void)slot;
  int *seen = user;
  if (ev->type == FL_EVENT_LOG) {
    (*seen)++;
    fl_posix_loop_stop(loop);
  }
}

static void test_posix_loop_opens_requested_socket_on_add(void) {
  fl_posix_loop *loop = fl_posix_loop_new(4, 0);
  FL_CHECK(loop != NULL);
  echo e;
  echo_init(&e, 0);
  int slot = fl_posix_loop_add(loop, &echo_ops, &e, NULL, NULL, NULL);
  FL_CHECK(slot >= 0);
  FL_CHECK_EQ(e.opened, 1);
  FL_CHECK(e.bound.port != 0);
  FL_CHECK_EQ(e.bound.ip[0], 127);
  fl_addr a;
  FL_CHECK_EQ(fl_posix_loop_sock_addr(loop, slot, 0, &a), 0);
  FL_CHECK(fl_addr_equal(&a, &e.bound));
  FL_CHECK_EQ(fl_posix_loop_sock_addr(loop, slot, 1, &a), FL_ERR_NOT_FOUND);
  fl_posix_loop_free(loop);
}

static void test_posix_loop_echoes_datagrams_in_batches(void) {
  fl_posix_loop *loop = fl_posix_loop_new(4, 0);
  FL_CHECK(loop != NULL);
  echo e;
  echo_init(&e, 0);
  FL_CHECK(fl_posix_loop_add(loop, &echo_ops, &e, NULL, NULL, NULL) >= 0);
  client c;
  FL_CHECK_EQ(client_open(&c), 0);
  c.want = 200;
  /* All 200 are queued in the kernel before the loop runs, so recvmmsg must
   * pick them up in batches and sendmmsg must answer in batches. */
  for (int i = 0; i < 200; i++) FL_CHECK_EQ(client_send(&c, &e.bound, &i, sizeof i), 0);
  FL_CHECK_EQ(fl_posix_loop_watch_fd(loop, c.fd, client_readable, &c), 0);
  int rc = fl_posix_loop_run(loop, fl_posix_now_us() + 5000000);
  if (rc != 1) fprintf(stderr, "  waited 5 s for 200 echoes, got %llu\n", (unsigned long long)c.got);
  FL_CHECK_EQ(rc, 1);
  FL_CHECK_EQ(c.got, 200);
  fl_posix_stats st;
  fl_posix_loop_stats(loop, &st);
  FL_CHECK_EQ(st.rx_datagrams, 200);
  FL_CHECK_EQ(st.tx_datagrams, 200);
  FL_CHECK(st.rx_batches <= 200 / 16); /* far fewer calls than datagrams */
  FL_CHECK(st.tx_batches <= 200 / 16);
  FL_CHECK_EQ(e.time_backwards, 0);
  close(c.fd);
  fl_posix_loop_free(loop);
}

static void test_posix_loop_runs_timer_at_deadline(void) {
  fl_posix_loop *loop = fl_posix_loop_new(2, 0);
  FL_CHECK(loop != NULL);
  echo e;
  echo_init(&e, 0);
  int seen = 0;
  FL_CHECK(fl_posix_loop_add(loop, &echo_ops, &e, NULL, stop_on_log, &seen) >= 0);
  uint64_t start = fl_posix_now_us();
  e.timer_at = start + 20000;
  FL_CHECK_EQ(fl_posix_loop_drain(loop, 0), 0); /* re-read the deadline */
  FL_CHECK_EQ(fl_posix_loop_run(loop, start + 2000000), 1);
  FL_CHECK_EQ(seen, 1);
  FL_CHECK(e.timer_fired_at >= start + 20000);
  fl_posix_stats st;
  fl_posix_loop_stats(loop, &st);
  FL_CHECK(st.timeouts >= 1);
  /* With no deadline and no traffic, run returns at its own limit (0). */
  FL_CHECK_EQ(fl_posix_loop_run(loop, fl_posix_now_us() + 30000), 0);
  fl_posix_loop_free(loop);
}

static void test_posix_loop_reports_bind_failure(void) {
  fl_posix_loop *loop = fl_posix_loop_new(2, 0);
  FL_CHECK(loop != NULL);
  echo a, b;
  echo_init(&a, 0);
  FL_CHECK(fl_posix_loop_add(loop, &echo_ops, &a, NULL, NULL, NULL) >= 0);
  FL_CHECK_EQ(a.opened, 1);
  echo_init(&b, a.bound.port); /* the same port: taken */
  FL_CHECK(fl_posix_loop_add(loop, &echo_ops, &b, NULL, NULL, NULL) >= 0);
  FL_CHECK_EQ(b.opened, 0);
  FL_CHECK_EQ(b.failed, 1);
  FL_CHECK_EQ(b.fail_code, FL_ERR_STATE);
  fl_posix_stats st;
  fl_posix_loop_stats(loop, &st);
  FL_CHECK_EQ(st.sockets_opened, 1);
  FL_CHECK_EQ(st.sockets_failed, 1);
  fl_posix_loop_free(loop);
}

static void test_posix_loop_slots_are_bounded(void) {
  fl_posix_loop *loop = fl_posix_loop_new(1, 0);
  FL_CHECK(loop != NULL);
  echo a, b;
  echo_init(&a, 0);
  echo_init(&b, 0);
  FL_CHECK_EQ(fl_posix_loop_add(loop, &echo_ops, &a, NULL, NULL, NULL), 0);
  FL_CHECK_EQ(fl_posix_loop_add(loop, &echo_ops, &b, NULL, NULL, NULL), FL_ERR_LIMIT);
  FL_CHECK_EQ(fl_posix_loop_add(loop, NULL, &b, NULL, NULL, NULL), FL_ERR_INVALID);
  FL_CHECK_EQ(fl_posix_loop_drain(loop, 5), FL_ERR_INVALID);
  fl_posix_loop_remove(loop, 0);
  FL_CHECK_EQ(fl_posix_loop_add(loop, &echo_ops, &b, NULL, NULL, NULL), 0);
  fl_posix_loop_free(loop);
}

static void test_posix_loop_drives_many_machines(void) {
  enum { N = 50 };
  fl_posix_loop *loop = fl_posix_loop_new(N, 0);
  FL_CHECK(loop != NULL);
  static echo es[N];
  client c;
  FL_CHECK_EQ(client_open(&c), 0);
  c.want = N;
  for (int i = 0; i < N; i++) {
    echo_init(&es[i], 0);
    FL_CHECK_EQ(fl_posix_loop_add(loop, &echo_ops, &es[i], NULL, NULL, NULL), i);
    FL_CHECK_EQ(client_send(&c, &es[i].bound, &i, sizeof i), 0);
  }
  FL_CHECK_EQ(fl_posix_loop_watch_fd(loop, c.fd, client_readable, &c), 0);
  FL_CHECK_EQ(fl_posix_loop_run(loop, fl_posix_now_us() + 5000000), 1);
  FL_CHECK_EQ(c.got, N);
  for (int i = 0; i < N; i++) FL_CHECK_EQ(es[i].received, 1);
  close(c.fd);
  fl_posix_loop_free(loop);
}

static void test_posix_loop_counts_sends_on_unopened_socket(void) {
  fl_posix_loop *loop = fl_posix_loop_new(1, 0);
  FL_CHECK(loop != NULL);
  echo e;
  echo_init(&e, 0);
  e.send_on_sock = 3; /* never opened */
  FL_CHECK(fl_posix_loop_add(loop, &echo_ops, &e, NULL, NULL, NULL) >= 0);
  client c;
  FL_CHECK_EQ(client_open(&c), 0);
  FL_CHECK_EQ(client_send(&c, &e.bound, "x", 1), 0);
  /* Run until the datagram has been handled: bounded by a 2 s deadline. */
  uint64_t deadline = fl_posix_now_us() + 2000000;
  while (e.received == 0 && fl_posix_now_us() < deadline)
    FL_CHECK(fl_posix_loop_run(loop, fl_posix_now_us() + 10000) >= 0);
  FL_CHECK_EQ(e.received, 1);
  fl_posix_stats st;
  fl_posix_loop_stats(loop, &st);
  FL_CHECK_EQ(st.tx_dropped, 1);
  FL_CHECK_EQ(st.tx_datagrams, 0);
  close(c.fd);
  fl_posix_loop_free(loop);
}

/* Replies leaving from two sockets in one drain: the send batch holds
 * datagrams for two fds and must hand each to its own socket. */
static void test_posix_loop_sends_from_each_socket_in_one_batch(void) {
  fl_posix_loop *loop = fl_posix_loop_new(1, 0);
  FL_CHECK(loop != NULL);
  echo e;
  echo_init(&e, 0);
  e.two_socks = 1;
  e.open1_pending = 1;
  FL_CHECK(fl_posix_loop_add(loop, &echo_ops, &e, NULL, NULL, NULL) >= 0);
  FL_CHECK_EQ(e.opened, 2);
  FL_CHECK(e.bound.port != e.bound1.port);
  client c;
  FL_CHECK_EQ(client_open(&c), 0);
  for (int i = 0; i < 20; i++) FL_CHECK_EQ(client_send(&c, &e.bound, &i, sizeof i), 0);
  /* Receive the 40 replies and check both source ports appear, 20 each. */
  uint64_t deadline = fl_posix_now_us() + 5000000;
  int from0 = 0, from1 = 0;
  while (from0 + from1 < 40 && fl_posix_now_us() < deadline) {
    FL_CHECK(fl_posix_loop_run(loop, fl_posix_now_us() + 10000) >= 0);
    struct sockaddr_in sin;
    socklen_t sl = sizeof sin;
    uint8_t buf[64];
    while (recvfrom(c.fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&sin, &sl) > 0) {
      fl_addr src;
      fl_posix_addr_from_sin(&sin, &src);
      from0 += src.port == e.bound.port;
      from1 += src.port == e.bound1.port;
      sl = sizeof sin;
    }
  }
  if (from0 + from1 < 40) fprintf(stderr, "  waited 5 s for 40 replies, got %d\n", from0 + from1);
  FL_CHECK_EQ(from0, 20);
  FL_CHECK_EQ(from1, 20);
  fl_posix_stats st;
  fl_posix_loop_stats(loop, &st);
  FL_CHECK_EQ(st.tx_datagrams, 40);
  FL_CHECK_EQ(st.tx_dropped, 0);
  close(c.fd);
  fl_posix_loop_free(loop);
}

static void test_posix_loop_stops_on_sigterm(void) {
  fl_posix_loop *loop = fl_posix_loop_new(1, 1);
  FL_CHECK(loop != NULL);
  /* Blocked by the loop, so raise() leaves it pending for the signalfd. */
  FL_CHECK_EQ(raise(SIGTERM), 0);
  FL_CHECK_EQ(fl_posix_loop_run(loop, fl_posix_now_us() + 2000000), 1);
  FL_CHECK_EQ(fl_posix_loop_signal(loop), SIGTERM);
  fl_posix_loop_free(loop);
}

static void test_posix_clock_is_monotonic_and_entropy_varies(void) {
  uint64_t a = fl_posix_now_us(), b = fl_posix_now_us();
  FL_CHECK(b >= a);
  FL_CHECK(a > 0);
  uint8_t x[32], y[32], zero[32] = {0};
  FL_CHECK_EQ(fl_posix_entropy(x, sizeof x), 0);
  FL_CHECK_EQ(fl_posix_entropy(y, sizeof y), 0);
  FL_CHECK(memcmp(x, y, 32) != 0);
  FL_CHECK(memcmp(x, zero, 32) != 0);
  FL_CHECK_EQ(fl_posix_entropy(NULL, 4), FL_ERR_INVALID);
}

int main(void) {
  FL_RUN(test_posix_loop_opens_requested_socket_on_add);
  FL_RUN(test_posix_loop_echoes_datagrams_in_batches);
  FL_RUN(test_posix_loop_runs_timer_at_deadline);
  FL_RUN(test_posix_loop_reports_bind_failure);
  FL_RUN(test_posix_loop_slots_are_bounded);
  FL_RUN(test_posix_loop_drives_many_machines);
  FL_RUN(test_posix_loop_counts_sends_on_unopened_socket);
  FL_RUN(test_posix_loop_sends_from_each_socket_in_one_batch);
  FL_RUN(test_posix_loop_stops_on_sigterm);
  FL_RUN(test_posix_clock_is_monotonic_and_entropy_varies);
  return fl_test_done();
}
