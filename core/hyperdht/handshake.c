/*
 * hyperdht/handshake.c — hyperdht's peer handshake (lib/noise-wrap.js):
 * Noise IK over the Ed25519 DH with NS_PEER_HANDSHAKE as prologue, the
 * noisePayload in both messages, and final() (spec/noise.md §1, §6).
 */
#include <assert.h>
#include <string.h>

#include "flock/hyperdht.h"

int fl_hyperdht_handshake_new(fl_noise **out, const fl_mem *mem, bool initiator,
                              const uint8_t sk[64], const uint8_t *remote_pk,
                              const uint8_t *ephemeral_sk, fl_drbg *drbg) {
  if (out == NULL) return FL_ERR_INVALID;
  *out = NULL;
  if (sk == NULL || (initiator && remote_pk == NULL)) return FL_ERR_INVALID;
  uint8_t prologue[FL_HASH_BYTES];
  int rc = fl_crypto_hyperdht_ns(FL_NS_PEER_HANDSHAKE, prologue);
  if (rc != 0) return rc;
  fl_noise_config cfg = {.pattern = "IK", .dh = FL_NOISE_DH_ED25519, .initiator = initiator,
                         .prologue = prologue, .prologue_len = sizeof prologue,
                         .static_sk = sk, .remote_static = initiator ? remote_pk : NULL,
                         .ephemeral_sk = ephemeral_sk, .drbg = drbg};
  return fl_noise_new(out, mem, &cfg);
}

int fl_hyperdht_handshake_send(fl_noise *n, const fl_hyperdht_noise_payload *payload,
                               uint8_t *out, size_t cap, size_t *out_len) {
  if (out_len != NULL) *out_len = 0;
  if (n == NULL || payload == NULL || out == NULL || out_len == NULL) return FL_ERR_INVALID;
  /* Payloads are small (tens of bytes; at most ~3 KiB with every list full),
   * so a stack buffer holds any valid one. */
  uint8_t buf[4096];
  size_t len = 0;
  int rc = fl_hyperdht_noise_payload_encode(payload, buf, sizeof buf, &len);
  if (rc == FL_ERR_BUFFER) rc = FL_ERR_INVALID;
  if (rc == 0) rc = fl_noise_write_message(n, buf, len, out, cap, out_len);
  fl_crypto_memzero(buf, sizeof buf);
  return rc;
}

int fl_hyperdht_handshake_recv(fl_noise *n, const uint8_t *msg, size_t len,
                               fl_hyperdht_noise_payload *payload) {
  if (n == NULL || payload == NULL || (msg == NULL && len > 0)) return FL_ERR_INVALID;
  fl_hyperdht_noise_payload_init(payload);
  payload->version = 0;
  /* The payload is at most the message's length; decode straight from a
   * buffer that can hold any Noise message. */
  uint8_t buf[FL_NOISE_MSG_MAX];
  size_t plen = 0;
  int rc = fl_noise_read_message(n, msg, len, buf, sizeof buf, &plen);
  if (rc == 0) {
    rc = fl_hyperdht_noise_payload_decode(payload, buf, plen);
    rc = rc > 0 ? 0 : FL_ERR_DECODE;
  }
  fl_crypto_memzero(buf, plen);
  return rc;
}

int fl_hyperdht_handshake_final(const fl_noise *n, fl_hyperdht_handshake_result *out) {
  if (n == NULL || out == NULL) return FL_ERR_INVALID;
  memset(out, 0, sizeof *out);
  fl_noise_keys k;
  int rc = fl_noise_split(n, &k);
  if (rc != 0) return rc;
  assert(k.has_remote_static); /* IK: both sides know both statics */
  out->is_initiator = fl_noise_is_initiator(n) == 1;
  rc = fl_noise_local_static(n, out->public_key);
  assert(rc == 0);
  memcpy(out->remote_public_key, k.remote_static, 32);
  memcpy(out->hash, k.hash, sizeof out->hash);
  memcpy(out->tx, k.tx, sizeof out->tx);
  memcpy(out->rx, k.rx, sizeof out->rx);
  uint8_t ns[FL_HASH_BYTES];
  rc = fl_crypto_hyperdht_ns(FL_NS_PEER_HOLEPUNCH, ns);
  if (rc == 0)
    rc = fl_crypto_hash_keyed(out->holepunch_secret, 32, ns, sizeof ns, k.hash, sizeof k.hash);
  fl_crypto_memzero(&k, sizeof k);
  if (rc != 0) memset(out, 0, sizeof *out);
  return rc;
}
