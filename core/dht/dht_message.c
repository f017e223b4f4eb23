/*
 * The dht-rpc datagram codec (spec/dht-rpc.md §0-§1). A small bounded reader
 * over compact-encoding's uint/uint16/fixed32/buffer/ipv4Address, kept local
 * so the hot decode path is one function without per-field calls through
 * the state API.
 */
#include "dht/dht_message.h"

#include <assert.h>
#include <string.h>

#include "flock/crypto.h"

typedef struct rd {
  const uint8_t *p;
  size_t pos, end;
} rd;

static int rd_u8(rd *r, uint8_t *v) {
  if (r->end - r->pos < 1) return FL_ERR_DECODE;
  *v = r->p[r->pos++];
  return 0;
}

static int rd_fixed(rd *r, size_t n, const uint8_t **out) {
  if (r->end - r->pos < n) return FL_ERR_DECODE;
  *out = r->p + r->pos;
  r->pos += n;
  return 0;
}

static uint64_t le(const uint8_t *b, size_t n) {
  uint64_t v = 0;
  for (size_t i = n; i-- > 0;) v = (v << 8) | b[i];
  return v;
}

/* compact-encoding uint: non-minimal forms accepted, > 2^53-1 refused. */
static int rd_uint(rd *r, uint64_t *v) {
  uint8_t a;
  const uint8_t *b;
  if (rd_u8(r, &a) < 0) return FL_ERR_DECODE;
  if (a <= 0xfc) {
    *v = a;
    return 0;
  }
  size_t n = a == 0xfd ? 2 : a == 0xfe ? 4 : 8;
  if (rd_fixed(r, n, &b) < 0) return FL_ERR_DECODE;
  *v = le(b, n);
  return *v > FL_DHT_UINT_MAX ? FL_ERR_DECODE : 0;
}

void fl_dht_addr_read(fl_addr *a, const uint8_t in[FL_DHT_ADDR_BYTES]) {
  memset(a, 0, sizeof *a);
  a->family = FL_ADDR_IPV4;
  memcpy(a->ip, in, 4);
  a->port = (uint16_t)(in[4] | (in[5] << 8));
}

void fl_dht_addr_write(uint8_t out[FL_DHT_ADDR_BYTES], const fl_addr *a) {
  memcpy(out, a->ip, 4);
  out[4] = (uint8_t)(a->port & 0xff);
  out[5] = (uint8_t)(a->port >> 8);
}

void fl_dht_node_id(uint8_t out[FL_DHT_ID_BYTES], const fl_addr *addr) {
  uint8_t b[FL_DHT_ADDR_BYTES];
  fl_dht_addr_write(b, addr);
  int rc = fl_crypto_hash(out, FL_DHT_ID_BYTES, b, sizeof b);
  assert(rc == 0);
  (void)rc;
}

static int decode_fields(fl_dht_msg *m, rd *r) {
  uint64_t flags;
  const uint8_t *b;
  uint16_t tid;
  if (rd_uint(r, &flags) < 0) return FL_ERR_DECODE;
  if (rd_fixed(r, 2, &b) < 0) return FL_ERR_DECODE;
  tid = (uint16_t)le(b, 2);
  m->tid = tid;
  if (rd_fixed(r, FL_DHT_ADDR_BYTES, &b) < 0) return FL_ERR_DECODE;
  fl_dht_addr_read(&m->to, b);
  m->has_id = (flags & 0x01) != 0;
  m->has_token = (flags & 0x02) != 0;
  if (m->has_id) {
    if (rd_fixed(r, FL_DHT_ID_BYTES, &b) < 0) return FL_ERR_DECODE;
    memcpy(m->id, b, FL_DHT_ID_BYTES);
  }
  if (m->has_token) {
    if (rd_fixed(r, FL_DHT_ID_BYTES, &b) < 0) return FL_ERR_DECODE;
    memcpy(m->token, b, FL_DHT_ID_BYTES);
  }
  if (m->type == FL_DHT_TYPE_REQUEST) {
    m->internal = (flags & FL_DHT_REQ_F_INTERNAL) != 0;
    if (rd_uint(r, &m->command) < 0) return FL_ERR_DECODE;
    m->has_target = (flags & FL_DHT_REQ_F_TARGET) != 0;
    if (m->has_target) {
      if (rd_fixed(r, FL_DHT_ID_BYTES, &b) < 0) return FL_ERR_DECODE;
      memcpy(m->target, b, FL_DHT_ID_BYTES);
    }
  } else {
    if (flags & FL_DHT_RES_F_CLOSER) {
      uint64_t n;
      if (rd_uint(r, &n) < 0 || n > FL_DHT_ARRAY_MAX) return FL_ERR_DECODE;
      if (rd_fixed(r, (size_t)n * FL_DHT_ADDR_BYTES, &b) < 0) return FL_ERR_DECODE;
      m->closer = n ? b : NULL;
      m->closer_count = (size_t)n;
    }
    if ((flags & FL_DHT_RES_F_ERROR) && rd_uint(r, &m->error) < 0) return FL_ERR_DECODE;
  }
  m->has_value = (flags & 0x10) != 0;
  if (m->has_value) {
    uint64_t n;
    if (rd_uint(r, &n) < 0 || n > r->end - r->pos) return FL_ERR_DECODE;
    if (rd_fixed(r, (size_t)n, &b) < 0) return FL_ERR_DECODE;
    m->value = n ? b : NULL;
    m->value_len = (size_t)n;
  }
  return 0;
}

int fl_dht_msg_decode(fl_dht_msg *m, const uint8_t *p, size_t len) {
  assert(m != NULL);
  memset(m, 0, sizeof *m);
  if (p == NULL || len < 2) return FL_ERR_DECODE;
  if (p[0] == FL_DHT_REQUEST_BYTE) {
    m->type = FL_DHT_TYPE_REQUEST;
  } else if (p[0] == FL_DHT_RESPONSE_BYTE) {
    m->type = FL_DHT_TYPE_RESPONSE;
  } else {
    return FL_ERR_DECODE;
  }
  rd r = {p, 1, len};
  if (decode_fields(m, &r) < 0) {
    memset(m, 0, sizeof *m);
    return FL_ERR_DECODE;
  }
  assert(r.pos <= len);
  return 0;
}

static size_t uint_size(uint64_t v) {
  return v <= 0xfc ? 1 : v <= 0xffff ? 3 : v <= 0xffffffffu ? 5 : 9;
}

size_t fl_dht_msg_size(const fl_dht_msg *m) {
  size_t n = 1 + 1 + 2 + FL_DHT_ADDR_BYTES;
  if (m->has_id) n += FL_DHT_ID_BYTES;
  if (m->has_token) n += FL_DHT_ID_BYTES;
  if (m->type == FL_DHT_TYPE_REQUEST) {
    n += uint_size(m->command);
    if (m->has_target) n += FL_DHT_ID_BYTES;
  } else {
    if (m->closer_count > 0) n += uint_size(m->closer_count) + m->closer_count * FL_DHT_ADDR_BYTES;
    if (m->error > 0) n += uint_size(m->error);
  }
  if (m->has_value) n += uint_size(m->value_len) + m->value_len;
  return n;
}

static size_t wr_uint(uint8_t *o, uint64_t v) {
  size_t n = uint_size(v);
  if (n == 1) {
    o[0] = (uint8_t)v;
    return 1;
  }
  o[0] = n == 3 ? 0xfd : n == 5 ? 0xfe : 0xff;
  for (size_t i = 0; i + 1 < n; i++) o[1 + i] = (uint8_t)(v >> (8 * i));
  return n;
}

static uint8_t msg_flags(const fl_dht_msg *m) {
  uint8_t f = (uint8_t)((m->has_id ? 0x01 : 0) | (m->has_token ? 0x02 : 0) |
                        (m->has_value ? 0x10 : 0));
  if (m->type == FL_DHT_TYPE_REQUEST) {
    f |= (uint8_t)((m->internal ? FL_DHT_REQ_F_INTERNAL : 0) |
                   (m->has_target ? FL_DHT_REQ_F_TARGET : 0));
  } else {
    f |= (uint8_t)((m->closer_count > 0 ? FL_DHT_RES_F_CLOSER : 0) |
                   (m->error > 0 ? FL_DHT_RES_F_ERROR : 0));
  }
  return f;
}

int fl_dht_msg_encode(const fl_dht_msg *m, uint8_t *out, size_t cap) {
  if (m == NULL || out == NULL) return FL_ERR_INVALID;
  if (m->type > FL_DHT_TYPE_RESPONSE || m->to.family != FL_ADDR_IPV4) return FL_ERR_INVALID;
  if (m->command > FL_DHT_UINT_MAX || m->error > FL_DHT_UINT_MAX) return FL_ERR_INVALID;
  if (m->closer_count > FL_DHT_ARRAY_MAX) return FL_ERR_INVALID;
  if (m->value_len > 0 && m->value == NULL) return FL_ERR_INVALID;
  size_t need = fl_dht_msg_size(m);
  if (need > cap) return FL_ERR_BUFFER;
  size_t o = 0;
  out[o++] = m->type == FL_DHT_TYPE_REQUEST ? FL_DHT_REQUEST_BYTE : FL_DHT_RESPONSE_BYTE;
  out[o++] = msg_flags(m);
  out[o++] = (uint8_t)(m->tid & 0xff);
  out[o++] = (uint8_t)(m->tid >> 8);
  fl_dht_addr_write(out + o, &m->to);
  o += FL_DHT_ADDR_BYTES;
  if (m->has_id) memcpy(out + o, m->id, FL_DHT_ID_BYTES), o += FL_DHT_ID_BYTES;
  if (m->has_token) memcpy(out + o, m->token, FL_DHT_ID_BYTES), o += FL_DHT_ID_BYTES;
  if (m->type == FL_DHT_TYPE_REQUEST) {
    o += wr_uint(out + o, m->command);
    if (m->has_target) memcpy(out + o, m->target, FL_DHT_ID_BYTES), o += FL_DHT_ID_BYTES;
  } else {
    if (m->closer_count > 0) {
      o += wr_uint(out + o, m->closer_count);
      memcpy(out + o, m->closer, m->closer_count * FL_DHT_ADDR_BYTES);
      o += m->closer_count * FL_DHT_ADDR_BYTES;
    }
    if (m->error > 0) o += wr_uint(out + o, m->error);
  }
  if (m->has_value) {
    o += wr_uint(out + o, m->value_len);
    if (m->value_len) memcpy(out + o, m->value, m->value_len);
    o += m->value_len;
  }
  assert(o == need);
  return (int)o;
}

void fl_dht_msg_closer_at(const fl_dht_msg *m, size_t i, fl_addr *out) {
  assert(i < m->closer_count);
  fl_dht_addr_read(out, m->closer + i * FL_DHT_ADDR_BYTES);
}
