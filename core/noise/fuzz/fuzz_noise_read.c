/*
 * fuzz_noise_read — arbitrary bytes as Noise handshake messages.
 *
 * The first input byte picks a reader in a fixed state: 0 = hyperdht's IK
 * responder awaiting msg1, 1 = an IK initiator awaiting msg2 (after writing
 * a fixed msg1), 2 = an XX initiator awaiting msg2, 3 = an XX responder
 * awaiting msg3. The rest is fed to fl_noise_read_message. Whatever
 * happens, the reader must end DONE/next-turn with a payload that fits, or
 * FAILED with a zeroed payload; it must never crash or read out of bounds.
 */
#include <stdlib.h>
#include <string.h>

#include "flock/noise.h"

static void seed_kp(uint8_t pk[32], uint8_t sk[64], uint8_t fill) {
  uint8_t seed[32];
  memset(seed, fill, sizeof seed);
  if (fl_noise_keypair_from_seed(FL_NOISE_DH_ED25519, pk, sk, seed) != 64) abort();
}

static fl_noise *make(const char *pattern, bool initiator, const uint8_t *sk, const uint8_t *rs,
                      const uint8_t *esk) {
  static const uint8_t prologue[32] = {0x14, 0xd6, 0xd4, 0xb4};
  fl_noise_config c = {.pattern = pattern, .dh = FL_NOISE_DH_ED25519, .initiator = initiator,
                       .prologue = prologue, .prologue_len = sizeof prologue,
                       .static_sk = sk, .remote_static = rs, .ephemeral_sk = esk};
  fl_noise *n;
  if (fl_noise_new(&n, NULL, &c) != 0) abort();
  return n;
}

static void step(fl_noise *w, fl_noise *r) {
  uint8_t m[256], pl[256];
  size_t len, plen;
  if (fl_noise_write_message(w, (const uint8_t *)"seed", 4, m, sizeof m, &len) != 0) abort();
  if (r != NULL && fl_noise_read_message(r, m, len, pl, sizeof pl, &plen) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bool ready;
  static uint8_t cpk[32], csk[64], spk[32], ssk[64], ce[64], se[64], tmp[32];
  if (!ready) {
    if (fl_crypto_init() != 0) abort();
    seed_kp(cpk, csk, 1);
    seed_kp(spk, ssk, 2);
    seed_kp(tmp, ce, 3);
    seed_kp(tmp, se, 4);
    ready = true;
  }
  if (size == 0) return 0;
  int which = data[0] % 4;
  fl_noise *reader, *other;
  if (which <= 1) {
    other = make("IK", true, csk, spk, ce);
    reader = make("IK", false, ssk, NULL, se);
    if (which == 1) {
      step(other, reader);
      fl_noise *t = reader;
      reader = other;
      other = t;
    }
  } else {
    other = make("XX", false, ssk, NULL, se);
    reader = make("XX", true, csk, NULL, ce);
    step(reader, other);
    if (which == 3) {
      step(other, reader);
      fl_noise *t = reader;
      reader = other;
      other = t;
    }
  }
  static uint8_t pl[FL_NOISE_MSG_MAX];
  size_t plen = 1;
  memset(pl, 0xaa, 64);
  int rc = fl_noise_read_message(reader, data + 1, size - 1, pl, sizeof pl, &plen);
  int st = fl_noise_status(reader);
  if (fl_noise_check(reader) != 0) abort();
  if (rc == 0) {
    if (st == FL_NOISE_FAILED || plen > size - 1) abort();
  } else {
    if (rc != FL_ERR_DECODE && rc != FL_ERR_CRYPTO) abort();
    if (st != FL_NOISE_FAILED || plen != 0) abort();
    for (size_t i = 0; i < 64; i++)
      if (pl[i] != 0) abort();
  }
  fl_noise_free(reader);
  fl_noise_free(other);
  return 0;
}
