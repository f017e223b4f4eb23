/*
 * fuzz_udx_packet.c — the UDX packet parser, and the whole receive path:
 * decode the input, re-encode the header and compare; then feed the input
 * (split into datagrams at 0xFE 0xFE markers) to an instance holding one
 * connected stream with data in flight, and drain everything it answers.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "flock/udx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const uint8_t *data, size_t size) {
  fl_udx_packet p;
  if (fl_udx_packet_decode(&p, data, size) != 0) return;
  uint8_t h[FL_UDX_HEADER_BYTES];
  int n = fl_udx_header_encode(&p.h, h, sizeof(h));
  assert(n == (int)FL_UDX_HEADER_BYTES);
  assert(memcmp(h, data, FL_UDX_HEADER_BYTES) == 0);
  assert(p.payload_len <= size - FL_UDX_HEADER_BYTES);
  assert(p.sack_count <= FL_UDX_MAX_SACKS);
  for (size_t i = 0; i < p.sack_count; i++) (void)fl_udx_packet_sack(&p, i);
}

static void drain(fl_udx *u, uint64_t now) {
  uint8_t buf[FL_UDX_DGRAM_BYTES_MAX];
  fl_udx_dgram d;
  for (int i = 0; i < 10000 && fl_udx_poll_transmit(u, &d, buf, sizeof(buf)) == 1; i++)
    assert(d.len <= sizeof(buf));
  fl_udx_event e;
  for (int i = 0; i < 10000 && fl_udx_poll_event(u, &e) == 1; i++) {
    uint8_t r[4096];
    if (e.type == FL_UDX_EVENT_READABLE) {
      int n = fl_udx_stream_read(u, now, e.id, r, sizeof(r));
      assert(n >= 0);
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  roundtrip(data, size);
  fl_udx_config c;
  fl_udx_config_default(&c);
  c.ooo_max = 64;
  c.send_buf_max = 65536;
  c.recv_buf_max = 65536;
  fl_udx *u = fl_udx_new(&c, NULL);
  if (u == NULL) return 0;
  fl_addr peer = fl_addr_ipv4(127, 0, 0, 1, 9);
  static const uint8_t payload[5000];
  if (fl_udx_stream_open(u, 0, 1) == 0 && fl_udx_stream_connect(u, 0, 1, 2, 0, &peer) == 0 &&
      fl_udx_stream_write(u, 0, 1, payload, sizeof(payload)) > 0) {
    drain(u, 0);
    uint64_t now = 0;
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
      if (i < size && !(i + 1 < size && data[i] == 0xFE && data[i + 1] == 0xFE)) continue;
      now += 1000;
      int rc = fl_udx_handle_datagram(u, now, 0, &peer, data + start, i - start);
      assert(rc == 0 || rc == 1 || rc == FL_ERR_DECODE);
      drain(u, now);
      start = i + 2;
      i++;
    }
    uint64_t d = fl_udx_next_deadline(u);
    if (d != FL_TIME_NONE && d > now) now = d;
    if (fl_udx_handle_timeout(u, now) == 0) drain(u, now);
  }
  fl_udx_free(u);
  return 0;
}
