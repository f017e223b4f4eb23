/*
 * Arbitrary datagrams into a bootstrapped fl_node: it must never crash,
 * never emit an oversized datagram, and answer a PING afterwards. The input
 * is split into datagrams at 0x0a bytes so one run can mix several; the
 * first byte of each chooses the socket and the source port.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "flock/node.h"

static fl_node *node;
static uint64_t now_us = 1000000;

static void drain(void) {
  fl_dgram g;
  static uint8_t buf[FL_DGRAM_BYTES_MAX];
  fl_event ev;
  while (fl_node_poll_transmit(node, &g, buf, sizeof buf) == 1) assert(g.len <= sizeof buf);
  while (fl_node_poll_event(node, &ev) == 1) {
    if (ev.type == FL_EVENT_SOCKET_OPEN) {
      fl_addr b = fl_addr_ipv4(127, 0, 0, 1, ev.sock == 0 ? 20001 : 30001);
      int rc = fl_node_socket_opened(node, now_us, ev.sock, &b);
      assert(rc == 0);
    } else if (ev.type == FL_EVENT_DHT_USER_REQUEST) {
      int rc = fl_node_reply(node, now_us, ev.id, ev.data, ev.len > 64 ? 64 : ev.len, 0);
      assert(rc == 0);
    }
  }
}

static void setup(void) {
  fl_node_config c;
  fl_node_config_default(&c);
  fl_addr host = fl_addr_ipv4(127, 0, 0, 1, 0);
  int rc = fl_node_config_bootstrapper(&c, &host, 20001);
  assert(rc == 0);
  c.user_requests = true;
  c.table_events = true;
  rc = fl_node_new(&c, now_us, &node);
  assert(rc == 0);
  drain();
  drain();
}

static int answers_ping(void) {
  static const uint8_t ping[11] = {0x03, 0x04, 0x77, 0x77, 127, 0, 0, 1, 0x21, 0x4e, 0x00};
  fl_addr from = fl_addr_ipv4(127, 0, 0, 1, 41000);
  int rc = fl_node_handle_datagram(node, now_us, 0, &from, ping, sizeof ping);
  assert(rc == 0);
  fl_dgram g;
  static uint8_t buf[FL_DGRAM_BYTES_MAX];
  int got = 0;
  while (fl_node_poll_transmit(node, &g, buf, sizeof buf) == 1)
    if (g.to.port == 41000 && buf[0] == 0x13 && buf[2] == 0x77 && buf[3] == 0x77) got = 1;
  drain();
  return got;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!node) setup();
  size_t start = 0;
  for (size_t i = 0; i <= size; i++) {
    if (i < size && data[i] != 0x0a) continue;
    if (i > start) {
      uint8_t sel = data[start];
      fl_addr from = fl_addr_ipv4(127, 0, 0, (uint8_t)(1 + (sel & 3)), (uint16_t)(20000 + sel));
      int rc = fl_node_handle_datagram(node, now_us, sel >> 7, &from, data + start + 1,
                                       i - start - 1);
      assert(rc == 0);
      drain();
      now_us += 1000 * (sel & 0x0f);
      rc = fl_node_handle_timeout(node, now_us);
      assert(rc == 0);
      drain();
    }
    start = i + 1;
  }
  assert(answers_ping());
  assert(fl_node_check(node) == 0);
  return 0;
}
