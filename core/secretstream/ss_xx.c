/*
 * secretstream/ss_xx.c — the standalone handshake of lib/handshake.js:
 * Noise XX with Ed25519 DH (noise-curve-ed), an empty prologue and empty
 * payloads, each message framed with a uint24 length on the raw stream like
 * any other frame. The initiator writes first; when the handshake completes
 * the header exchange follows with the split keys and the handshake hash.
 */
#include <string.h>

#include "secretstream/ss_internal.h"

static int ss_xx_fail(fl_ss *ss, int rc) {
  return ss_fail(ss, rc == FL_ERR_DECODE ? FL_ERR_DECODE : FL_ERR_CRYPTO,
                 "Noise handshake failed");
}

static int ss_xx_finish(fl_ss *ss, uint64_t now_us) {
  fl_noise_keys keys;
  int rc = fl_noise_split(ss->xx, &keys);
  if (rc != 0 || !keys.has_remote_static) return ss_xx_fail(ss, rc ? rc : FL_ERR_CRYPTO);
  fl_ss_handshake hs;
  memcpy(hs.tx, keys.tx, sizeof hs.tx);
  memcpy(hs.rx, keys.rx, sizeof hs.rx);
  memcpy(hs.hash, keys.hash, sizeof hs.hash);
  memcpy(hs.public_key, ss->pk, sizeof hs.public_key);
  memcpy(hs.remote_public_key, keys.remote_static, sizeof hs.remote_public_key);
  fl_crypto_memzero(&keys, sizeof keys);
  ss_xx_free(ss);
  rc = ss_setup(ss, now_us, &hs);
  fl_crypto_memzero(&hs, sizeof hs);
  return rc;
}

/* Our next handshake message, framed, into the output buffer. */
static int ss_xx_write(fl_ss *ss, uint64_t now_us) {
  int size = fl_noise_write_size(ss->xx, 0);
  if (size < 0) return ss_xx_fail(ss, size);
  int rc;
  uint8_t *p = ss_tx_reserve(ss, FL_SS_PREFIX_BYTES + (size_t)size, true, &rc);
  if (p == NULL) return ss_fail(ss, rc, "out of memory");
  size_t olen = 0;
  /* An empty payload, as the reference sends; a real pointer even so. */
  static const uint8_t empty[1] = {0};
  rc = fl_noise_write_message(ss->xx, empty, 0, p + FL_SS_PREFIX_BYTES, (size_t)size, &olen);
  if (rc != 0) return ss_xx_fail(ss, rc);
  ss_put_u24(p, olen);
  ss_tx_commit(ss, FL_SS_PREFIX_BYTES + olen);
  if (fl_noise_status(ss->xx) == FL_NOISE_DONE) return ss_xx_finish(ss, now_us);
  return 0;
}

int ss_xx_start(fl_ss *ss, uint64_t now_us, const uint8_t pk[FL_PUBLIC_KEY_BYTES],
                const uint8_t sk[FL_SECRET_KEY_BYTES], fl_drbg *drbg) {
  (void)pk;
  /* The ephemeral is drawn now so the DRBG is borrowed only for this call. */
  uint8_t seed[32], epk[FL_NOISE_PUBLIC_KEY_BYTES], esk[FL_NOISE_SK_BYTES_MAX];
  fl_drbg_bytes(drbg, seed, sizeof seed);
  int rc = fl_noise_keypair_from_seed(FL_NOISE_DH_ED25519, epk, esk, seed);
  fl_noise_config cfg = {
      .pattern = "XX",
      .dh = FL_NOISE_DH_ED25519,
      .initiator = ss->cfg.is_initiator,
      .static_sk = sk,
      .ephemeral_sk = esk,
  };
  if (rc >= 0) rc = fl_noise_new(&ss->xx, ss->mem, &cfg);
  fl_crypto_memzero(seed, sizeof seed);
  fl_crypto_memzero(esk, sizeof esk);
  if (rc != 0) {
    ss->xx = NULL;
    ss->phase = SS_PHASE_NEW;
    return rc == FL_ERR_NOMEM ? rc : FL_ERR_INVALID;
  }
  if (ss->cfg.is_initiator) {
    rc = ss_xx_write(ss, now_us);
    if (rc < 0) return rc;
  }
  return 0;
}

int ss_xx_recv(fl_ss *ss, uint64_t now_us, const uint8_t *msg, size_t len) {
  if (ss->xx == NULL || fl_noise_status(ss->xx) != FL_NOISE_READ)
    return ss_xx_fail(ss, FL_ERR_CRYPTO);
  /* The payload is ignored (the reference sends none); it is never longer
   * than the message. */
  uint8_t *payload = fl_mem_alloc(ss->mem, len ? len : 1);
  if (payload == NULL) return ss_fail(ss, FL_ERR_NOMEM, "out of memory");
  size_t plen = 0;
  int rc = fl_noise_read_message(ss->xx, msg, len, payload, len ? len : 1, &plen);
  fl_crypto_memzero(payload, len ? len : 1);
  fl_mem_free(ss->mem, payload, len ? len : 1);
  if (rc != 0) return ss_xx_fail(ss, rc);
  switch (fl_noise_status(ss->xx)) {
    case FL_NOISE_WRITE: return ss_xx_write(ss, now_us);
    case FL_NOISE_DONE: return ss_xx_finish(ss, now_us);
    default: return 0;
  }
}

void ss_xx_free(fl_ss *ss) {
  if (ss->xx == NULL) return;
  fl_noise_free(ss->xx);
  ss->xx = NULL;
}
