/*
 * dht/dht_message.h — the dht-rpc datagram codec (spec/dht-rpc.md §1; the
 * reference's lib/io.js Request.decode, decodeReply, _encodeRequest and
 * _sendReply).
 *
 * One struct for both kinds. Decoding lends pointers into the input (value,
 * closer nodes), valid as long as the input is. A decode that fails zeroes
 * the struct and returns FL_ERR_DECODE; nothing else changes.
 */
#ifndef FL_DHT_MESSAGE_H
#define FL_DHT_MESSAGE_H

#include <stdbool.h>
#include "flock/common.h"

#define FL_DHT_VERSION 3u
#define FL_DHT_TYPE_REQUEST 0u
#define FL_DHT_TYPE_RESPONSE 1u
/* Byte 0 of every dht-rpc datagram: (type << 4) | version. */
#define FL_DHT_REQUEST_BYTE 0x03u
#define FL_DHT_RESPONSE_BYTE 0x13u

#define FL_DHT_ID_BYTES 32u
#define FL_DHT_K 20u
#define FL_DHT_ADDR_BYTES 6u

/* Request flag bits. */
#define FL_DHT_REQ_F_ID 0x01u
#define FL_DHT_REQ_F_TOKEN 0x02u
#define FL_DHT_REQ_F_INTERNAL 0x04u
#define FL_DHT_REQ_F_TARGET 0x08u
#define FL_DHT_REQ_F_VALUE 0x10u
/* Response flag bits. */
#define FL_DHT_RES_F_ID 0x01u
#define FL_DHT_RES_F_TOKEN 0x02u
#define FL_DHT_RES_F_CLOSER 0x04u
#define FL_DHT_RES_F_ERROR 0x08u
#define FL_DHT_RES_F_VALUE 0x10u

/* Internal commands (lib/commands.js). */
enum {
  FL_DHT_CMD_PING = 0,
  FL_DHT_CMD_PING_NAT = 1,
  FL_DHT_CMD_FIND_NODE = 2,
  FL_DHT_CMD_DOWN_HINT = 3,
  FL_DHT_CMD_DELAYED_PING = 4
};

/* Wire error codes (lib/errors.js); others are application-defined. */
#define FL_DHT_ERROR_UNKNOWN_COMMAND 1u
#define FL_DHT_ERROR_INVALID_TOKEN 2u

/* The reference refuses larger varints (compact-encoding validateSafeUint). */
#define FL_DHT_UINT_MAX ((uint64_t)0x1fffffffffffffull)
/* compact-encoding's array decoder refuses more elements than this. */
#define FL_DHT_ARRAY_MAX 0x100000u
/* Smallest legal datagrams: a request needs a 1-byte command, a response not. */
#define FL_DHT_REQUEST_BYTES_MIN 11u
#define FL_DHT_RESPONSE_BYTES_MIN 10u

typedef struct fl_dht_msg {
  uint8_t type;         /* FL_DHT_TYPE_REQUEST or FL_DHT_TYPE_RESPONSE */
  uint16_t tid;
  fl_addr to;           /* IPv4 */
  bool has_id, has_token, has_target, has_value, internal;
  uint8_t id[FL_DHT_ID_BYTES];
  uint8_t token[FL_DHT_ID_BYTES];
  uint8_t target[FL_DHT_ID_BYTES]; /* requests only */
  uint64_t command;     /* requests only */
  uint64_t error;       /* responses only; 0 = none (flag only when > 0) */
  const uint8_t *value; /* has_value: lent; may be NULL when value_len is 0 */
  size_t value_len;
  const uint8_t *closer; /* responses: closer_count x 6-byte ipv4Address */
  size_t closer_count;   /* 0 = no closer nodes (flag only when > 0) */
} fl_dht_msg;

/* Decode one datagram. Returns 0, or FL_ERR_DECODE (m zeroed) when the first
 * byte is not 0x03/0x13, a field is truncated, a varint exceeds 2^53-1 or the
 * closer-node count exceeds FL_DHT_ARRAY_MAX. Unknown flag bits and trailing
 * bytes are ignored, as the reference does. */
int fl_dht_msg_decode(fl_dht_msg *m, const uint8_t *p, size_t len);

/* The encoded size of m. */
size_t fl_dht_msg_size(const fl_dht_msg *m);

/* Encode m into out. Returns the length (> 0), FL_ERR_BUFFER if cap is too
 * small, FL_ERR_INVALID if m is not encodable (non-IPv4 to, a varint above
 * 2^53-1, a bad type). Flags are written as one byte. */
int fl_dht_msg_encode(const fl_dht_msg *m, uint8_t *out, size_t cap);

/* The i-th closer node of a decoded response. */
void fl_dht_msg_closer_at(const fl_dht_msg *m, size_t i, fl_addr *out);

/* ipv4Address codec (4 octets + uint16 LE port). */
void fl_dht_addr_write(uint8_t out[FL_DHT_ADDR_BYTES], const fl_addr *a);
void fl_dht_addr_read(fl_addr *a, const uint8_t in[FL_DHT_ADDR_BYTES]);

/* Node id = BLAKE2b-256(ipv4Address(addr)) (lib/peer.js). */
void fl_dht_node_id(uint8_t out[FL_DHT_ID_BYTES], const fl_addr *addr);

#endif
