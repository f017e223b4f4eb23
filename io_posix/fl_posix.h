/*
 * fl_posix.h — the production driver: an epoll loop that runs any number of
 * sans-IO state machines (fl_node, or anything else with the five calls of
 * STYLE.md) over real UDP sockets, the monotonic clock and OS entropy.
 *
 * The loop is generic over the five calls through fl_posix_ops, so the same
 * code drives an fl_node (fl_posix_node_ops, in posix_node.c), a test double
 * in io_posix/test, or anything later layers add. For every input it runs the
 * loop STYLE.md fixes: one handle_* call, drain poll_transmit into a sendmmsg
 * batch, drain poll_event (answering FL_EVENT_SOCKET_OPEN/CLOSE itself and
 * handing every other event to the slot's callback), then re-read the
 * machine's next_deadline. Datagrams come in through recvmmsg in batches of
 * up to FL_POSIX_BATCH_MAX and leave through sendmmsg; a batch is flushed when
 * full and at the end of each wake-up, so a burst of requests costs a couple
 * of system calls rather than two per datagram.
 *
 * Threads: none. One loop per thread; a process may run many loops only if
 * at most one of them handles signals.
 */
#ifndef FL_POSIX_H
#define FL_POSIX_H

#include <stddef.h>
#include <stdint.h>

#include "flock/common.h"
#include "flock/node.h"

/* Datagrams per recvmmsg/sendmmsg call. 64 keeps one batch's buffers at
 * 64 x 4 KiB = 256 KiB (receive) and 64 x 2 KiB (send) while amortising
 * each system call over many datagrams; a larger batch would only hold the
 * first reply back longer. */
#define FL_POSIX_BATCH_MAX 64u

/* Largest datagram we accept. The DHT has no cap of its own below UDP's, but
 * nothing the stack sends exceeds FL_DGRAM_BYTES_MAX; bigger datagrams are
 * truncated by the kernel, which we detect (MSG_TRUNC), drop and count. */
#define FL_POSIX_RECV_BYTES 4096u

/* Socket handles a machine may use (handles 0 .. FL_POSIX_SOCKS_MAX-1): the
 * DHT's server and client sockets plus room for holepunching's extra ones.
 * A SOCKET_OPEN for a larger handle is answered with socket_failed. */
#define FL_POSIX_SOCKS_MAX 8u

/* Receive batches handled per socket per wake-up before moving on, so one
 * flooded socket cannot starve the others or the timers. */
#define FL_POSIX_RECV_ROUNDS_MAX 8u

/* Bounded drain: transmit/event rounds per input. A machine that keeps
 * producing past this is buggy; we stop and count rather than spin. */
#define FL_POSIX_DRAIN_ROUNDS_MAX 100000u

/* Socket buffer sizes asked of the kernel: room for a burst of several
 * batches, so a short stall does not turn into loss. */
#define FL_POSIX_SOCK_BUF_BYTES (1u << 20)

_Static_assert(FL_DGRAM_BYTES_MAX <= FL_POSIX_RECV_BYTES,
               "we must be able to receive what we send");

/* The five calls plus the socket answers, over an opaque machine. */
typedef struct fl_posix_ops {
  int (*handle_datagram)(void *m, uint64_t now_us, uint32_t sock, const fl_addr *from,
                         const uint8_t *data, size_t len);
  int (*poll_transmit)(void *m, fl_dgram *out, uint8_t *buf, size_t cap);
  uint64_t (*next_deadline)(const void *m);
  int (*handle_timeout)(void *m, uint64_t now_us);
  int (*poll_event)(void *m, fl_event *out);
  int (*socket_opened)(void *m, uint64_t now_us, uint32_t sock, const fl_addr *bound);
  int (*socket_failed)(void *m, uint64_t now_us, uint32_t sock, int err);
} fl_posix_ops;

/* The ops of an fl_node (posix_node.c). */
extern const fl_posix_ops fl_posix_node_ops;

typedef struct fl_posix_loop fl_posix_loop;

/* Called for every event other than SOCKET_OPEN/SOCKET_CLOSE. The event's
 * bytes are valid during the call only. The callback may call into the
 * machine (start a query, reply); the loop drains afterwards. */
typedef void (*fl_posix_event_fn)(fl_posix_loop *loop, int slot, const fl_event *ev,
                                  void *user);

/* Called when an extra fd (fl_posix_loop_watch_fd) is readable. */
typedef void (*fl_posix_fd_fn)(fl_posix_loop *loop, int fd, void *user);

/* Counters of one loop (all slots together). */
typedef struct fl_posix_stats {
  uint64_t rx_datagrams;
  uint64_t rx_batches;         /* recvmmsg calls that returned >= 1 */
  uint64_t rx_truncated;       /* dropped: larger than FL_POSIX_RECV_BYTES */
  uint64_t rx_rejected;        /* handle_datagram returned an error (misuse) */
  uint64_t tx_datagrams;       /* handed to the kernel */
  uint64_t tx_batches;         /* sendmmsg calls */
  uint64_t tx_dropped;         /* kernel refused (EAGAIN, unreachable, ...) */
  uint64_t timeouts;           /* handle_timeout calls */
  uint64_t events;             /* events handed to callbacks */
  uint64_t sockets_opened;
  uint64_t sockets_failed;
  uint64_t drain_overruns;     /* drains cut short at FL_POSIX_DRAIN_ROUNDS_MAX */
} fl_posix_stats;

/* ---- Clock and entropy ------------------------------------------------------ */

/* CLOCK_MONOTONIC in microseconds: never goes backwards, as every now_us must. */
uint64_t fl_posix_now_us(void);

/* Fill buf with OS entropy (getrandom). Returns 0 or FL_ERR_STATE if the
 * kernel would not give it (never falls back to anything weaker). */
FL_MUST_CHECK int fl_posix_entropy(uint8_t *buf, size_t len);

/* ---- The loop --------------------------------------------------------------- */

/* A loop for up to slots_max machines. With handle_signals, SIGINT and
 * SIGTERM are blocked and read through a signalfd: the loop stops cleanly
 * and fl_posix_loop_signal() says which arrived. Returns NULL on failure. */
fl_posix_loop *fl_posix_loop_new(uint32_t slots_max, int handle_signals);

/* Close every socket and free the loop (machines belong to the caller). */
void fl_posix_loop_free(fl_posix_loop *loop);

/* Start driving a machine: returns its slot (>= 0), or FL_ERR_LIMIT when
 * all slots are taken, FL_ERR_INVALID for NULL arguments. The machine's
 * pending events (typically its SOCKET_OPEN requests) are drained now.
 * bind_host replaces a requested 0.0.0.0 (NULL: keep the request's). */
FL_MUST_CHECK int fl_posix_loop_add(fl_posix_loop *loop, const fl_posix_ops *ops, void *machine,
                                    const fl_addr *bind_host, fl_posix_event_fn on_event,
                                    void *user);

/* Stop driving slot: close its sockets. The machine is the caller's. */
void fl_posix_loop_remove(fl_posix_loop *loop, int slot);

/* After calling into a machine from outside a callback (an API call), run
 * the drain and re-arm its timer. Returns 0 or FL_ERR_INVALID. */
FL_MUST_CHECK int fl_posix_loop_drain(fl_posix_loop *loop, int slot);

/* The locally bound address of a slot's socket, or FL_ERR_NOT_FOUND. */
FL_MUST_CHECK int fl_posix_loop_sock_addr(const fl_posix_loop *loop, int slot, uint32_t sock,
                                          fl_addr *out);

/* Watch an extra fd for readability (stdin of a test peer, ...). */
FL_MUST_CHECK int fl_posix_loop_watch_fd(fl_posix_loop *loop, int fd, fl_posix_fd_fn fn,
                                         void *user);
void fl_posix_loop_unwatch_fd(fl_posix_loop *loop, int fd);

/* Run until fl_posix_loop_stop, a handled signal, or until_us (monotonic;
 * FL_TIME_NONE = no limit). Returns 1 if stopped or signalled, 0 if until_us
 * passed, FL_ERR_STATE if epoll failed. */
FL_MUST_CHECK int fl_posix_loop_run(fl_posix_loop *loop, uint64_t until_us);

/* Make fl_posix_loop_run return after the current wake-up. */
void fl_posix_loop_stop(fl_posix_loop *loop);

/* The signal that stopped the loop (SIGINT, SIGTERM) or 0. */
int fl_posix_loop_signal(const fl_posix_loop *loop);

void fl_posix_loop_stats(const fl_posix_loop *loop, fl_posix_stats *out);

/* ---- Addresses -------------------------------------------------------------- */

struct sockaddr_in;
void fl_posix_addr_to_sin(const fl_addr *a, struct sockaddr_in *out);
void fl_posix_addr_from_sin(const struct sockaddr_in *in, fl_addr *out);

#endif /* FL_POSIX_H */
