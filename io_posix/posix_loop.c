/*
 * posix_loop.c — the epoll loop of fl_posix.h: sockets opened on the
 * machines' request, recvmmsg in, sendmmsg out, timers from next_deadline,
 * SIGINT/SIGTERM through a signalfd.
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fl_posix.h"

/* Extra fds a loop watches (stdin of a test peer, a pipe): a handful. */
#define FL_POSIX_WATCH_MAX 8u

/* epoll data: kind in the top byte, slot and socket handle below. */
enum { TAG_SOCK = 1, TAG_SIGNAL = 2, TAG_WATCH = 3 };
#define TAG(kind, slot, sock) (((uint64_t)(kind) << 56) | ((uint64_t)(slot) << 8) | (sock))

struct slot {
  int used;
  const fl_posix_ops *ops;
  void *m;
  int has_bind_host;
  fl_addr bind_host;
  fl_posix_event_fn on_event;
  void *user;
  int fds[FL_POSIX_SOCKS_MAX];
  fl_addr bound[FL_POSIX_SOCKS_MAX];
  uint64_t deadline;
};

struct watch {
  int fd;
  fl_posix_fd_fn fn;
  void *user;
};

struct fl_posix_loop {
  int ep;
  int sigfd;
  sigset_t oldmask;
  uint32_t slots_max;
  struct slot *slots;
  struct watch watches[FL_POSIX_WATCH_MAX];
  int stop;
  int signal;
  uint64_t last_now_us;
  fl_posix_stats st;
  /* One receive batch and one send batch, allocated once with the loop. */
  struct mmsghdr rmsg[FL_POSIX_BATCH_MAX];
  struct iovec riov[FL_POSIX_BATCH_MAX];
  struct sockaddr_in raddr[FL_POSIX_BATCH_MAX];
  uint8_t rbuf[FL_POSIX_BATCH_MAX][FL_POSIX_RECV_BYTES];
  struct mmsghdr smsg[FL_POSIX_BATCH_MAX];
  struct iovec siov[FL_POSIX_BATCH_MAX];
  struct sockaddr_in saddr[FL_POSIX_BATCH_MAX];
  int sfd[FL_POSIX_BATCH_MAX];
  uint32_t scount;
  uint8_t sbuf[FL_POSIX_BATCH_MAX][FL_DGRAM_BYTES_MAX];
};

/* The clock as the loop hands it to machines: never behind the last value
 * given, even across slots, so no machine ever sees time go backwards. */
static uint64_t loop_now(fl_posix_loop *loop) {
  uint64_t now = fl_posix_now_us();
  if (now < loop->last_now_us) now = loop->last_now_us;
  loop->last_now_us = now;
  return now;
}

fl_posix_loop *fl_posix_loop_new(uint32_t slots_max, int handle_signals) {
  if (slots_max == 0 || slots_max > (1u << 20)) return NULL;
  fl_posix_loop *loop = calloc(1, sizeof *loop);
  if (loop == NULL) return NULL;
  loop->sigfd = -1;
  for (uint32_t i = 0; i < FL_POSIX_WATCH_MAX; i++) loop->watches[i].fd = -1;
  loop->slots = calloc(slots_max, sizeof *loop->slots);
  loop->ep = epoll_create1(EPOLL_CLOEXEC);
  if (loop->slots == NULL || loop->ep < 0) goto fail;
  loop->slots_max = slots_max;
  for (uint32_t i = 0; i < FL_POSIX_BATCH_MAX; i++) {
    loop->riov[i].iov_base = loop->rbuf[i];
    loop->riov[i].iov_len = FL_POSIX_RECV_BYTES;
    loop->rmsg[i].msg_hdr.msg_iov = &loop->riov[i];
    loop->rmsg[i].msg_hdr.msg_iovlen = 1;
    loop->rmsg[i].msg_hdr.msg_name = &loop->raddr[i];
    loop->smsg[i].msg_hdr.msg_iov = &loop->siov[i];
    loop->smsg[i].msg_hdr.msg_iovlen = 1;
    loop->smsg[i].msg_hdr.msg_name = &loop->saddr[i];
    loop->smsg[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
    loop->siov[i].iov_base = loop->sbuf[i];
  }
  if (handle_signals) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    /* Blocked, then read from a signalfd: the handler runs in the loop, with
     * no async-signal-safety puzzles, and shutdown is an ordinary event. */
    if (sigprocmask(SIG_BLOCK, &set, &loop->oldmask) != 0) goto fail;
    loop->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (loop->sigfd < 0) goto fail;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG(TAG_SIGNAL, 0, 0)};
    if (epoll_ctl(loop->ep, EPOLL_CTL_ADD, loop->sigfd, &ev) != 0) goto fail;
  }
  return loop;
fail:
  fl_posix_loop_free(loop);
  return NULL;
}

static void close_sock(fl_posix_loop *loop, struct slot *s, uint32_t sock) {
  if (s->fds[sock] < 0) return;
  /* Datagrams still queued for this fd in the send batch go first. */
  for (uint32_t i = 0; i < loop->scount; i++)
    if (loop->sfd[i] == s->fds[sock]) loop->sfd[i] = -1;
  epoll_ctl(loop->ep, EPOLL_CTL_DEL, s->fds[sock], NULL);
  close(s->fds[sock]);
  s->fds[sock] = -1;
  memset(&s->bound[sock], 0, sizeof s->bound[sock]);
}

void fl_posix_loop_free(fl_posix_loop *loop) {
  if (loop == NULL) return;
  for (uint32_t i = 0; loop->slots && i < loop->slots_max; i++)
    if (loop->slots[i].used) fl_posix_loop_remove(loop, (int)i);
  if (loop->sigfd >= 0) {
    close(loop->sigfd);
    sigprocmask(SIG_SETMASK, &loop->oldmask, NULL);
  }
  if (loop->ep >= 0) close(loop->ep);
  free(loop->slots);
  free(loop);
}

static struct slot *get_slot(const fl_posix_loop *loop, int slot) {
  if (loop == NULL || slot < 0 || (uint32_t)slot >= loop->slots_max) return NULL;
  struct slot *s = &loop->slots[slot];
  return s->used ? s : NULL;
}

void fl_posix_loop_remove(fl_posix_loop *loop, int slot) {
  struct slot *s = get_slot(loop, slot);
  if (s == NULL) return;
  for (uint32_t i = 0; i < FL_POSIX_SOCKS_MAX; i++) close_sock(loop, s, i);
  memset(s, 0, sizeof *s);
}

/* ---- Sending ------------------------------------------------------------------ */

/* Hand the send batch to the kernel, one sendmmsg per run of equal fds.
 * UDP is fire-and-forget (as in the reference): what the kernel refuses is
 * counted and dropped, never retried here. */
static void flush_sends(fl_posix_loop *loop) {
  uint32_t i = 0;
  while (i < loop->scount) {
    int fd = loop->sfd[i];
    uint32_t j = i + 1;
    while (j < loop->scount && loop->sfd[j] == fd) j++;
    if (fd < 0) {
      loop->st.tx_dropped += j - i; /* its socket closed meanwhile */
      i = j;
      continue;
    }
    /* Each pass sends at least one or skips one, so this ends. */
    while (i < j) {
      int n = sendmmsg(fd, &loop->smsg[i], j - i, MSG_DONTWAIT);
      loop->st.tx_batches++;
      if (n > 0) {
        loop->st.tx_datagrams += (uint64_t)n;
        i += (uint32_t)n;
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
        loop->st.tx_dropped += j - i; /* buffer full: the rest would fail too */
        i = j;
      } else {
        loop->st.tx_dropped++; /* this one datagram is bad (unreachable, ...) */
        i++;
      }
    }
  }
  loop->scount = 0;
}

/* Pull every pending datagram of one machine into the send batch. */
static int drain_transmit(fl_posix_loop *loop, struct slot *s) {
  int moved = 0;
  for (uint32_t rounds = 0; rounds < FL_POSIX_DRAIN_ROUNDS_MAX; rounds++) {
    if (loop->scount == FL_POSIX_BATCH_MAX) flush_sends(loop);
    uint32_t k = loop->scount;
    fl_dgram d;
    memset(&d, 0, sizeof d);
    int rc = s->ops->poll_transmit(s->m, &d, loop->sbuf[k], FL_DGRAM_BYTES_MAX);
    if (rc != 1) return moved;
    moved = 1;
    assert(d.len <= FL_DGRAM_BYTES_MAX);
    if (d.sock >= FL_POSIX_SOCKS_MAX || s->fds[d.sock] < 0 || d.to.family != FL_ADDR_IPV4) {
      loop->st.tx_dropped++; /* no such socket (closed, never opened) or IPv6 */
      continue;
    }
    loop->sfd[k] = s->fds[d.sock];
    fl_posix_addr_to_sin(&d.to, &loop->saddr[k]);
    loop->siov[k].iov_len = d.len;
    loop->scount = k + 1;
  }
  loop->st.drain_overruns++;
  return moved;
}

/* ---- Sockets on request --------------------------------------------------------- */

static int open_sock(fl_posix_loop *loop, int slot, struct slot *s, uint32_t sock,
                     const fl_addr *want, fl_addr *bound) {
  if (sock >= FL_POSIX_SOCKS_MAX) return FL_ERR_LIMIT;
  if (s->fds[sock] >= 0) return FL_ERR_INVALID; /* already open */
  if (want->family != FL_ADDR_IPV4) return FL_ERR_UNSUPPORTED;
  fl_addr a = *want;
  static const uint8_t any[4] = {0, 0, 0, 0};
  if (s->has_bind_host && memcmp(a.ip, any, 4) == 0) memcpy(a.ip, s->bind_host.ip, 4);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return FL_ERR_STATE;
  int size = (int)FL_POSIX_SOCK_BUF_BYTES;
  /* Best effort: the kernel caps these at net.core.[rw]mem_max. */
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  struct sockaddr_in sin;
  fl_posix_addr_to_sin(&a, &sin);
  socklen_t len = sizeof sin;
  if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
      getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
    close(fd);
    return FL_ERR_STATE; /* port in use, address not ours, ... */
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG(TAG_SOCK, slot, sock)};
  if (epoll_ctl(loop->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
    close(fd);
    return FL_ERR_STATE;
  }
  s->fds[sock] = fd;
  fl_posix_addr_from_sin(&sin, bound);
  s->bound[sock] = *bound;
  return 0;
}

static void handle_event(fl_posix_loop *loop, int slot, struct slot *s, const fl_event *ev) {
  if (ev->type == FL_EVENT_SOCKET_OPEN) {
    fl_addr bound;
    int rc = open_sock(loop, slot, s, ev->sock, &ev->addr, &bound);
    uint64_t now = loop_now(loop);
    int rc2;
    if (rc == 0) {
      loop->st.sockets_opened++;
      rc2 = s->ops->socket_opened(s->m, now, ev->sock, &bound);
    } else {
      loop->st.sockets_failed++;
      rc2 = s->ops->socket_failed(s->m, now, ev->sock, rc);
    }
    (void)rc2; /* only misuse can fail here, and the handle came from the machine */
  } else if (ev->type == FL_EVENT_SOCKET_CLOSE) {
    if (ev->sock < FL_POSIX_SOCKS_MAX) close_sock(loop, s, ev->sock);
  } else {
    loop->st.events++;
    if (s->on_event) s->on_event(loop, slot, ev, s->user);
  }
}

/* The loop of STYLE.md after one input: transmit, events, again until both
 * are empty (an event callback may have called into the machine). */
static void drain(fl_posix_loop *loop, int slot) {
  struct slot *s = &loop->slots[slot];
  for (uint32_t rounds = 0; rounds < FL_POSIX_DRAIN_ROUNDS_MAX; rounds++) {
    int progress = drain_transmit(loop, s);
    fl_event ev;
    memset(&ev, 0, sizeof ev);
    if (s->ops->poll_event(s->m, &ev) == 1) {
      progress = 1;
      handle_event(loop, slot, s, &ev);
      if (!s->used) return; /* the callback removed the slot */
    }
    if (!progress) {
      s->deadline = s->ops->next_deadline(s->m);
      return;
    }
  }
  loop->st.drain_overruns++;
  s->deadline = s->ops->next_deadline(s->m);
}

int fl_posix_loop_add(fl_posix_loop *loop, const fl_posix_ops *ops, void *machine,
                      const fl_addr *bind_host, fl_posix_event_fn on_event, void *user) {
  if (loop == NULL || ops == NULL || machine == NULL) return FL_ERR_INVALID;
  for (uint32_t i = 0; i < loop->slots_max; i++) {
    struct slot *s = &loop->slots[i];
    if (s->used) continue;
    memset(s, 0, sizeof *s);
    s->used = 1;
    s->ops = ops;
    s->m = machine;
    if (bind_host) {
      s->has_bind_host = 1;
      s->bind_host = *bind_host;
    }
    s->on_event = on_event;
    s->user = user;
    for (uint32_t k = 0; k < FL_POSIX_SOCKS_MAX; k++) s->fds[k] = -1;
    drain(loop, (int)i);
    flush_sends(loop);
    return (int)i;
  }
  return FL_ERR_LIMIT;
}

int fl_posix_loop_drain(fl_posix_loop *loop, int slot) {
  if (get_slot(loop, slot) == NULL) return FL_ERR_INVALID;
  drain(loop, slot);
  flush_sends(loop);
  return 0;
}

int fl_posix_loop_sock_addr(const fl_posix_loop *loop, int slot, uint32_t sock, fl_addr *out) {
  struct slot *s = get_slot(loop, slot);
  if (s == NULL || out == NULL || sock >= FL_POSIX_SOCKS_MAX) return FL_ERR_INVALID;
  if (s->fds[sock] < 0) return FL_ERR_NOT_FOUND;
  *out = s->bound[sock];
  return 0;
}

int fl_posix_loop_watch_fd(fl_posix_loop *loop, int fd, fl_posix_fd_fn fn, void *user) {
  if (loop == NULL || fd < 0 || fn == NULL) return FL_ERR_INVALID;
  for (uint32_t i = 0; i < FL_POSIX_WATCH_MAX; i++) {
    if (loop->watches[i].fd >= 0) continue;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG(TAG_WATCH, i, 0)};
    if (epoll_ctl(loop->ep, EPOLL_CTL_ADD, fd, &ev) != 0) return FL_ERR_STATE;
    loop->watches[i] = (struct watch){fd, fn, user};
    return 0;
  }
  return FL_ERR_LIMIT;
}

void fl_posix_loop_unwatch_fd(fl_posix_loop *loop, int fd) {
  for (uint32_t i = 0; loop && i < FL_POSIX_WATCH_MAX; i++) {
    if (loop->watches[i].fd != fd) continue;
    epoll_ctl(loop->ep, EPOLL_CTL_DEL, fd, NULL);
    loop->watches[i].fd = -1;
  }
}

/* ---- Receiving -------------------------------------------------------------------- */

static void on_readable(fl_posix_loop *loop, int slot, uint32_t sock) {
  for (uint32_t round = 0; round < FL_POSIX_RECV_ROUNDS_MAX; round++) {
    struct slot *s = get_slot(loop, slot);
    if (s == NULL || sock >= FL_POSIX_SOCKS_MAX || s->fds[sock] < 0) return;
    for (uint32_t i = 0; i < FL_POSIX_BATCH_MAX; i++)
      loop->rmsg[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
    int n = recvmmsg(s->fds[sock], loop->rmsg, FL_POSIX_BATCH_MAX, MSG_DONTWAIT, NULL);
    if (n <= 0) return; /* EAGAIN: drained; other errors: epoll tells us again */
    loop->st.rx_batches++;
    uint64_t now = loop_now(loop);
    for (int i = 0; i < n; i++) {
      struct msghdr *h = &loop->rmsg[i].msg_hdr;
      if ((h->msg_flags & MSG_TRUNC) || h->msg_namelen != sizeof(struct sockaddr_in)) {
        loop->st.rx_truncated++;
        continue;
      }
      loop->st.rx_datagrams++;
      fl_addr from;
      fl_posix_addr_from_sin(&loop->raddr[i], &from);
      s = get_slot(loop, slot);
      if (s == NULL || s->fds[sock] < 0) return; /* closed by an event callback */
      if (s->ops->handle_datagram(s->m, now, sock, &from, loop->rbuf[i], loop->rmsg[i].msg_len) < 0)
        loop->st.rx_rejected++;
      drain(loop, slot);
    }
    flush_sends(loop);
    if ((uint32_t)n < FL_POSIX_BATCH_MAX) return;
  }
}

static void run_timers(fl_posix_loop *loop) {
  uint64_t now = loop_now(loop);
  for (uint32_t i = 0; i < loop->slots_max; i++) {
    struct slot *s = &loop->slots[i];
    if (!s->used || s->deadline > now) continue;
    loop->st.timeouts++;
    if (s->ops->handle_timeout(s->m, now) < 0) loop->st.rx_rejected++;
    drain(loop, (int)i);
  }
  flush_sends(loop);
}

static int next_timeout_ms(fl_posix_loop *loop, uint64_t until_us) {
  uint64_t first = until_us;
  for (uint32_t i = 0; i < loop->slots_max; i++)
    if (loop->slots[i].used && loop->slots[i].deadline < first) first = loop->slots[i].deadline;
  if (first == FL_TIME_NONE) return -1;
  uint64_t now = fl_posix_now_us();
  if (first <= now) return 0;
  uint64_t ms = (first - now + 999) / 1000; /* round up: never wake early and spin */
  return ms > 60000 ? 60000 : (int)ms;
}

static void on_signal(fl_posix_loop *loop) {
  struct signalfd_siginfo si;
  while (read(loop->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
    loop->signal = (int)si.ssi_signo;
    loop->stop = 1;
  }
}

int fl_posix_loop_run(fl_posix_loop *loop, uint64_t until_us) {
  if (loop == NULL) return FL_ERR_INVALID;
  struct epoll_event evs[64];
  while (!loop->stop) {
    if (until_us != FL_TIME_NONE && fl_posix_now_us() >= until_us) return 0;
    int n = epoll_wait(loop->ep, evs, 64, next_timeout_ms(loop, until_us));
    if (n < 0 && errno != EINTR) return FL_ERR_STATE;
    for (int i = 0; i < n && !loop->stop; i++) {
      uint64_t tag = evs[i].data.u64;
      uint32_t kind = (uint32_t)(tag >> 56), slot = (uint32_t)((tag >> 8) & 0xffffffffu);
      if (kind == TAG_SIGNAL) {
        on_signal(loop);
      } else if (kind == TAG_SOCK) {
        on_readable(loop, (int)slot, (uint32_t)(tag & 0xff));
      } else if (kind == TAG_WATCH && slot < FL_POSIX_WATCH_MAX && loop->watches[slot].fd >= 0) {
        loop->watches[slot].fn(loop, loop->watches[slot].fd, loop->watches[slot].user);
      }
    }
    run_timers(loop);
  }
  loop->stop = 0; /* the next run starts afresh */
  return 1;
}

void fl_posix_loop_stop(fl_posix_loop *loop) {
  if (loop) loop->stop = 1;
}

int fl_posix_loop_signal(const fl_posix_loop *loop) { return loop ? loop->signal : 0; }

void fl_posix_loop_stats(const fl_posix_loop *loop, fl_posix_stats *out) {
  if (loop && out) *out = loop->st;
}
