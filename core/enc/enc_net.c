/*
 * Address codecs: ipv4Address, ipv6Address and ipAddress
 * (compact-encoding-net@1.3.0 index.js; spec/dht-rpc.md §0).
 *
 * The address bytes go in network order (127.0.0.1 is 7f 00 00 01) but the
 * port that follows is a uint16 little-endian, as the reference writes it.
 * The reference's codecs carry text ("127.0.0.1"); ours carry fl_addr, whose
 * ip[] already holds the network-order bytes, so there is no parsing here.
 */
#include "enc/enc_internal.h"

#define IPV4_BYTES 4
#define IPV6_BYTES 16
#define PORT_BYTES 2

_Static_assert(FL_ENC_IPV4_ADDRESS_BYTES == IPV4_BYTES + PORT_BYTES, "ipv4Address size");
_Static_assert(FL_ENC_IPV6_ADDRESS_BYTES == IPV6_BYTES + PORT_BYTES, "ipv6Address size");

/* Write the ip bytes then the port, or refuse writing nothing. */
static int enc_addr(fl_enc_state *s, const uint8_t *ip, size_t ip_len, uint16_t port) {
  int rc = enc_room(s, ip_len + PORT_BYTES);
  if (rc != FL_OK) return rc;
  memcpy(s->buf + s->start, ip, ip_len);
  put_le16(s->buf + s->start + ip_len, port);
  s->start += ip_len + PORT_BYTES;
  return FL_OK;
}

/* Read `skip` bytes we have already looked at (the family byte), then the ip
 * bytes and the port, committing the state only when all are there. */
static int dec_addr(fl_dec_state *s, size_t skip, uint8_t family, fl_addr *a) {
  size_t ip_len = family == FL_ADDR_IPV4 ? IPV4_BYTES : IPV6_BYTES;
  if (dec_left(s) < skip + ip_len + PORT_BYTES) return FL_ERR_DECODE;
  const uint8_t *p = s->buf + s->start + skip;
  a->family = family;
  memcpy(a->ip, p, ip_len);
  a->port = get_le16(p + ip_len);
  s->start += skip + ip_len + PORT_BYTES;
  return FL_OK;
}

static int dec_begin(fl_dec_state *s, fl_addr *a) {
  if (a == NULL) return FL_ERR_INVALID;
  memset(a, 0, sizeof *a);
  return dec_valid(s);
}

void fl_enc_ipv4_address_preencode(fl_enc_state *s, const fl_addr *a) {
  (void)a;
  enc_grow(s, FL_ENC_IPV4_ADDRESS_BYTES);
}

int fl_enc_ipv4_address_encode(fl_enc_state *s, const fl_addr *a) {
  if (a == NULL || a->family != FL_ADDR_IPV4) return FL_ERR_INVALID;
  return enc_addr(s, a->ip, IPV4_BYTES, a->port);
}

int fl_enc_ipv4_address_decode(fl_dec_state *s, fl_addr *a) {
  int rc = dec_begin(s, a);
  if (rc != FL_OK) return rc;
  return dec_addr(s, 0, FL_ADDR_IPV4, a);
}

void fl_enc_ipv6_address_preencode(fl_enc_state *s, const fl_addr *a) {
  (void)a;
  enc_grow(s, FL_ENC_IPV6_ADDRESS_BYTES);
}

int fl_enc_ipv6_address_encode(fl_enc_state *s, const fl_addr *a) {
  if (a == NULL || a->family != FL_ADDR_IPV6) return FL_ERR_INVALID;
  return enc_addr(s, a->ip, IPV6_BYTES, a->port);
}

int fl_enc_ipv6_address_decode(fl_dec_state *s, fl_addr *a) {
  int rc = dec_begin(s, a);
  if (rc != FL_OK) return rc;
  return dec_addr(s, 0, FL_ADDR_IPV6, a);
}

void fl_enc_ip_address_preencode(fl_enc_state *s, const fl_addr *a) {
  /* An unknown family is refused by encode; count the larger size meanwhile
   * so preencode never under-sizes a buffer. */
  bool v4 = a != NULL && a->family == FL_ADDR_IPV4;
  enc_grow(s, 1 + (v4 ? FL_ENC_IPV4_ADDRESS_BYTES : FL_ENC_IPV6_ADDRESS_BYTES));
}

int fl_enc_ip_address_encode(fl_enc_state *s, const fl_addr *a) {
  if (a == NULL || (a->family != FL_ADDR_IPV4 && a->family != FL_ADDR_IPV6)) return FL_ERR_INVALID;
  size_t ip_len = a->family == FL_ADDR_IPV4 ? IPV4_BYTES : IPV6_BYTES;
  int rc = enc_room(s, 1 + ip_len + PORT_BYTES);
  if (rc != FL_OK) return rc;
  s->buf[s->start++] = a->family;
  rc = enc_addr(s, a->ip, ip_len, a->port);
  assert(rc == FL_OK);
  return rc;
}

int fl_enc_ip_address_decode(fl_dec_state *s, fl_addr *a) {
  int rc = dec_begin(s, a);
  if (rc != FL_OK) return rc;
  if (dec_left(s) < 1) return FL_ERR_DECODE;
  /* The reference reads IPv4 only for family byte 4 and IPv6 for anything
   * else (0, 5, 0xff ...), so we must too or the byte counts would diverge. */
  uint8_t family = s->buf[s->start] == FL_ADDR_IPV4 ? FL_ADDR_IPV4 : FL_ADDR_IPV6;
  rc = dec_addr(s, 1, family, a);
  if (rc != FL_OK) memset(a, 0, sizeof *a);
  return rc;
}
