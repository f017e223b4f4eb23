/*
 * secretstream/ss_box.c — unordered messages (the reference's send/trySend
 * and _onmessage): secretbox over datagrams with keys derived from the
 * handshake hash and an 8-byte counter as the nonce. Only the codec and the
 * crypto live here; UDX carries the datagrams.
 */
#include <string.h>

#include "secretstream/ss_internal.h"

static const char NS_NAME[] = "hyperswarm/secret-stream";

/* key = BLAKE2b-256(NS_<role> || NS_SEND, key = handshake hash) per direction. */
int ss_box_setup(fl_ss *ss) {
  uint8_t ns[3][FL_HASH_BYTES];
  static const uint8_t ids[3] = {0, 1, 2};
  int rc = fl_crypto_namespace(NS_NAME, sizeof NS_NAME - 1, ids, 3, ns);
  if (rc != 0) return rc;
  int own = ss->cfg.is_initiator ? 0 : 1;
  fl_slice tx[2] = {{ns[own], FL_HASH_BYTES}, {ns[2], FL_HASH_BYTES}};
  fl_slice rx[2] = {{ns[1 - own], FL_HASH_BYTES}, {ns[2], FL_HASH_BYTES}};
  rc = fl_crypto_hash_parts(ss->box_tx, sizeof ss->box_tx, tx, 2, ss->hash, FL_SS_HASH_BYTES);
  if (rc == 0)
    rc = fl_crypto_hash_parts(ss->box_rx, sizeof ss->box_rx, rx, 2, ss->hash, FL_SS_HASH_BYTES);
  return rc;
}

/* libsodium's sodium_increment: the counter is a little-endian number. */
static void ctr_increment(uint8_t c[8]) {
  for (int i = 0; i < 8; i++)
    if (++c[i] != 0) break;
}

int fl_ss_box(fl_ss *ss, uint8_t *out, size_t cap, const uint8_t *msg, size_t len) {
  if (ss == NULL || out == NULL || (msg == NULL && len > 0)) return FL_ERR_INVALID;
  if (ss->phase == SS_PHASE_FAILED) return FL_ERR_CLOSED;
  if (!ss->keys) return FL_ERR_STATE;
  if (len > (size_t)INT32_MAX - FL_SS_BOX_OVERHEAD) return FL_ERR_RANGE;
  if (cap < len + FL_SS_BOX_OVERHEAD) return FL_ERR_BUFFER;
  ctr_increment(ss->box_ctr);
  if (memcmp(ss->box_ctr, ss->box_ctr0, sizeof ss->box_ctr) == 0)
    return ss_fail(ss, FL_ERR_LIMIT, "udp send nonce exchausted");
  uint8_t nonce[FL_SECRETBOX_NONCE_BYTES] = {0};
  memcpy(nonce, ss->box_ctr, sizeof ss->box_ctr);
  memcpy(out, ss->box_ctr, sizeof ss->box_ctr);
  int rc = fl_crypto_secretbox_seal(out + 8, cap - 8, msg, len, nonce, ss->box_tx);
  if (rc != 0) return rc;
  ss->st.box_sent++;
  return (int)(len + FL_SS_BOX_OVERHEAD);
}

int fl_ss_unbox(fl_ss *ss, uint8_t *out, size_t cap, const uint8_t *in, size_t len) {
  if (ss == NULL || (in == NULL && len > 0)) return FL_ERR_INVALID;
  if (ss->phase == SS_PHASE_FAILED) return FL_ERR_CLOSED;
  if (!ss->keys) {
    ss->st.box_dropped++; /* before the handshake: dropped, as the reference does */
    return FL_ERR_STATE;
  }
  if (len < FL_SS_BOX_OVERHEAD || len > (size_t)INT32_MAX) {
    ss->st.box_dropped++;
    return FL_ERR_DECODE;
  }
  size_t plain = len - FL_SS_BOX_OVERHEAD;
  if (cap < plain || (out == NULL && plain > 0)) return FL_ERR_BUFFER;
  uint8_t nonce[FL_SECRETBOX_NONCE_BYTES] = {0};
  memcpy(nonce, in, 8);
  int rc = fl_crypto_secretbox_open(out, cap, in + 8, len - 8, nonce, ss->box_rx);
  if (rc != 0) {
    ss->st.box_dropped++;
    return rc == FL_ERR_CRYPTO ? FL_ERR_CRYPTO : rc;
  }
  ss->st.box_received++;
  return (int)plain;
}
