/*
 * udx_packet.c — the 20-byte UDX header and the parts of a datagram
 * (spec/udx.md §1-§4). Pure functions; no state.
 */
#include <string.h>

#include "flock/udx.h"
#include "udx/udx_internal.h"

int fl_udx_is_packet(const uint8_t *data, size_t len) {
  return data != NULL && len >= FL_UDX_HEADER_BYTES && data[0] == FL_UDX_MAGIC &&
         data[1] == FL_UDX_VERSION;
}

int fl_udx_header_encode(const fl_udx_header *h, uint8_t *out, size_t cap) {
  if (h == NULL || out == NULL || cap < FL_UDX_HEADER_BYTES) return FL_ERR_BUFFER;
  out[0] = FL_UDX_MAGIC;
  out[1] = FL_UDX_VERSION;
  out[2] = h->type;
  out[3] = h->data_offset;
  fl_udx_put32(out + 4, h->id);
  fl_udx_put32(out + 8, h->rwnd);
  fl_udx_put32(out + 12, h->seq);
  fl_udx_put32(out + 16, h->ack);
  return (int)FL_UDX_HEADER_BYTES;
}

/* Which kinds may carry bytes after the header (besides SACK blocks). */
static int carries_payload(uint8_t type) {
  return (type & (FL_UDX_FLAG_DATA | FL_UDX_FLAG_END | FL_UDX_FLAG_MESSAGE)) != 0;
}

static int refuse(fl_udx_packet *out) {
  memset(out, 0, sizeof(*out));
  return FL_ERR_DECODE;
}

int fl_udx_packet_decode(fl_udx_packet *out, const uint8_t *data, size_t len) {
  if (out == NULL) return FL_ERR_INVALID;
  if (!fl_udx_is_packet(data, len)) return refuse(out);
  fl_udx_header h;
  h.type = data[2];
  h.data_offset = data[3];
  h.id = fl_udx_get32(data + 4);
  h.rwnd = fl_udx_get32(data + 8);
  h.seq = fl_udx_get32(data + 12);
  h.ack = fl_udx_get32(data + 16);
  if (h.type & ~FL_UDX_FLAGS_ALL) return refuse(out);
  /* A message is never part of the reliable sequence: mixing is nonsense. */
  if ((h.type & FL_UDX_FLAG_MESSAGE) && (h.type & (FL_UDX_FLAG_DATA | FL_UDX_FLAG_END)))
    return refuse(out);
  size_t rest = len - FL_UDX_HEADER_BYTES;
  const uint8_t *body = data + FL_UDX_HEADER_BYTES;
  if (h.data_offset > rest) return refuse(out);
  const uint8_t *sack = NULL;
  size_t sack_bytes = 0;
  if (h.type & FL_UDX_FLAG_SACK) {
    /* The reference reads the SACK area as the data-offset bytes when that
     * leaves a payload, else the whole remainder (spec §3 step 6). */
    sack = body;
    sack_bytes = (h.data_offset > 0 && h.data_offset < rest) ? h.data_offset : rest;
    if (sack_bytes % 8 != 0) return refuse(out);
    if (sack_bytes / 8 > FL_UDX_MAX_SACKS) return refuse(out);
  }
  const uint8_t *payload = body + h.data_offset;
  size_t payload_len = rest - h.data_offset;
  if ((h.type & FL_UDX_FLAG_SACK) && h.data_offset == 0) payload_len = 0;
  if (!carries_payload(h.type) && payload_len != 0) return refuse(out);
  out->h = h;
  out->sack = sack;
  out->sack_count = sack_bytes / 8;
  out->payload = payload_len ? payload : NULL;
  out->payload_len = payload_len;
  return 0;
}

fl_udx_sack fl_udx_packet_sack(const fl_udx_packet *p, size_t i) {
  fl_udx_sack s = {0, 0};
  if (p == NULL || i >= p->sack_count) return s;
  s.start = fl_udx_get32(p->sack + 8 * i);
  s.end = fl_udx_get32(p->sack + 8 * i + 4);
  return s;
}
