/*
 * FL_SIM_KIND_RAW: a host that is nothing but a socket. The caller queues
 * datagrams (fl_sim_raw_send) and reads what arrived (fl_sim_raw_recv); the
 * engine drives it through the same five calls as a real node, so the NAT
 * and network tests exercise exactly the path fl_node datagrams take.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

typedef struct raw_msg {
  fl_addr addr;
  size_t len;
  uint8_t data[];
} raw_msg;

typedef struct raw_ring {
  raw_msg *m[FL_SIM_RAW_INBOX_MAX];
  uint32_t head, len;
} raw_ring;

typedef struct raw_node {
  raw_ring in, out;
  int want_open, opened;
  uint64_t now_us, dropped;
  fl_sim *sim; /* to count inbox drops in its stats */
} raw_node;

static int ring_push(raw_ring *r, const fl_addr *a, const uint8_t *d, size_t len) {
  if (r->len == FL_SIM_RAW_INBOX_MAX) return FL_ERR_LIMIT;
  raw_msg *m = malloc(sizeof *m + len);
  if (m == NULL) return FL_ERR_NOMEM;
  m->addr = *a;
  m->len = len;
  if (len) memcpy(m->data, d, len);
  r->m[(r->head + r->len++) % FL_SIM_RAW_INBOX_MAX] = m;
  return 0;
}

static raw_msg *ring_pop(raw_ring *r) {
  if (r->len == 0) return NULL;
  raw_msg *m = r->m[r->head];
  r->head = (r->head + 1) % FL_SIM_RAW_INBOX_MAX;
  r->len--;
  return m;
}

static void *raw_create(fl_sim *s, int host, const fl_sim_node_init *init, uint64_t now_us) {
  (void)host, (void)init;
  raw_node *n = calloc(1, sizeof *n);
  if (n == NULL) return NULL;
  n->sim = s;
  n->want_open = 1;
  n->now_us = now_us;
  return n;
}

static void raw_destroy(void *node) {
  raw_node *n = node;
  raw_msg *m;
  while ((m = ring_pop(&n->in)) != NULL) free(m);
  while ((m = ring_pop(&n->out)) != NULL) free(m);
  free(n);
}

static int raw_handle_datagram(void *node, uint64_t now_us, uint32_t sock, const fl_addr *from,
                               const uint8_t *data, size_t len) {
  raw_node *n = node;
  if (sock != 0 || now_us < n->now_us) return FL_ERR_INVALID;
  n->now_us = now_us;
  if (ring_push(&n->in, from, data, len) != 0) {
    n->dropped++;
    n->sim->st.dropped[FL_SIM_DROP_INBOX]++;
  }
  return 0;
}

static int raw_poll_transmit(void *node, fl_dgram *out, uint8_t *buf, size_t cap) {
  raw_node *n = node;
  if (cap < FL_DGRAM_BYTES_MAX) return FL_ERR_BUFFER;
  if (!n->opened) return 0;
  raw_msg *m = ring_pop(&n->out);
  if (m == NULL) return 0;
  out->sock = 0;
  out->to = m->addr;
  out->len = m->len;
  memcpy(buf, m->data, m->len);
  free(m);
  return 1;
}

static uint64_t raw_next_deadline(const void *node) {
  (void)node;
  return FL_TIME_NONE;
}

static int raw_handle_timeout(void *node, uint64_t now_us) {
  raw_node *n = node;
  if (now_us < n->now_us) return FL_ERR_INVALID;
  n->now_us = now_us;
  return 0;
}

static int raw_poll_event(void *node, fl_event *out) {
  raw_node *n = node;
  if (!n->want_open) return 0;
  n->want_open = 0;
  memset(out, 0, sizeof *out);
  out->type = FL_EVENT_SOCKET_OPEN;
  out->sock = 0;
  out->addr = fl_addr_ipv4(0, 0, 0, 0, 0);
  return 1;
}

static int raw_socket_opened(void *node, uint64_t now_us, uint32_t sock, const fl_addr *bound) {
  raw_node *n = node;
  (void)bound;
  if (sock != 0) return FL_ERR_INVALID;
  n->now_us = now_us;
  n->opened = 1;
  return 0;
}

static int raw_socket_failed(void *node, uint64_t now_us, uint32_t sock, int err) {
  (void)node, (void)now_us, (void)sock, (void)err;
  return 0;
}

static int raw_dump(const void *node, char *out, size_t cap) {
  const raw_node *n = node;
  int w = snprintf(out, cap, "raw: %u unread, %u unsent, %llu dropped\n", n->in.len, n->out.len,
                   (unsigned long long)n->dropped);
  return w < 0 ? 0 : w;
}

int sim_raw_queue(void *node, const fl_addr *to, const uint8_t *data, size_t len) {
  return ring_push(&((raw_node *)node)->out, to, data, len);
}

int sim_raw_pop(void *node, fl_addr *from, uint8_t *buf, size_t cap) {
  raw_node *n = node;
  if (n->in.len == 0) return FL_ERR_NOT_FOUND;
  raw_msg *m = n->in.m[n->in.head];
  if (m->len > cap) return FL_ERR_BUFFER;
  (void)ring_pop(&n->in);
  *from = m->addr;
  if (m->len) memcpy(buf, m->data, m->len);
  int len = (int)m->len;
  free(m);
  return len;
}

const fl_sim_node_ops sim_raw_ops = {
    .create = raw_create,
    .destroy = raw_destroy,
    .handle_datagram = raw_handle_datagram,
    .poll_transmit = raw_poll_transmit,
    .next_deadline = raw_next_deadline,
    .handle_timeout = raw_handle_timeout,
    .poll_event = raw_poll_event,
    .socket_opened = raw_socket_opened,
    .socket_failed = raw_socket_failed,
    .dump = raw_dump,
};
