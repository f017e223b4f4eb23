/*
 * posix_node.c — fl_posix_node_ops: the epoll loop's view of an fl_node.
 * Plain forwarding; the casts are the only reason this file exists.
 */
#include "fl_posix.h"

static int nd_datagram(void *m, uint64_t now, uint32_t sock, const fl_addr *from,
                       const uint8_t *data, size_t len) {
  return fl_node_handle_datagram(m, now, sock, from, data, len);
}
static int nd_transmit(void *m, fl_dgram *out, uint8_t *buf, size_t cap) {
  return fl_node_poll_transmit(m, out, buf, cap);
}
static uint64_t nd_deadline(const void *m) { return fl_node_next_deadline(m); }
static int nd_timeout(void *m, uint64_t now) { return fl_node_handle_timeout(m, now); }
static int nd_event(void *m, fl_event *out) { return fl_node_poll_event(m, out); }
static int nd_opened(void *m, uint64_t now, uint32_t sock, const fl_addr *bound) {
  return fl_node_socket_opened(m, now, sock, bound);
}
static int nd_failed(void *m, uint64_t now, uint32_t sock, int err) {
  return fl_node_socket_failed(m, now, sock, err);
}

const fl_posix_ops fl_posix_node_ops = {nd_datagram, nd_transmit, nd_deadline, nd_timeout,
                                        nd_event,    nd_opened,   nd_failed};
