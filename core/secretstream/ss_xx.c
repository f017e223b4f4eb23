/*
 * secretstream/ss_xx.c — the standalone handshake of lib/handshake.js:
 * Noise XX with Ed25519 DH and an empty prologue, each message framed with a
 * uint24 length on the raw stream. Waits for the noise layer.
 */
#include "secretstream/ss_internal.h"

int ss_xx_start(fl_ss *ss, uint64_t now_us, const uint8_t pk[FL_PUBLIC_KEY_BYTES],
                const uint8_t sk[FL_SECRET_KEY_BYTES], fl_drbg *drbg) {
  (void)now_us, (void)pk, (void)sk, (void)drbg;
  ss->phase = SS_PHASE_NEW;
  return FL_ERR_UNSUPPORTED;
}

int ss_xx_recv(fl_ss *ss, uint64_t now_us, const uint8_t *msg, size_t len) {
  (void)now_us, (void)msg, (void)len;
  return ss_fail(ss, FL_ERR_CRYPTO, "Noise handshake failed");
}

void ss_xx_free(fl_ss *ss) { (void)ss; }
