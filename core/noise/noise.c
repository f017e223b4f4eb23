/*
 * noise/noise.c — the Noise handshake state machine (Noise spec rev 34 §5):
 * CipherState, SymmetricState and HandshakeState in one object, walking a
 * parsed pattern (noise_pattern.c). Suite: ChaChaPoly + BLAKE2b, DH pluggable
 * (noise_dh.c). Semantics match noise-handshake@4.2.0 (spec/noise.md §4-5).
 */
#include <assert.h>
#include <string.h>

#include "noise/noise_int.h"

size_t fl_noise_msg_max(void) { return FL_NOISE_MSG_MAX; }
size_t fl_noise_hash_bytes(void) { return FL_NOISE_HASH_BYTES; }

/* ---- SymmetricState -------------------------------------------------------- */

static void mix_hash(fl_noise *n, const uint8_t *data, size_t len) {
  fl_slice parts[2] = {{n->h, sizeof n->h}, {data, len}};
  int rc = fl_crypto_hash_parts(n->h, sizeof n->h, parts, 2, NULL, 0);
  assert(rc == 0);
  (void)rc;
}

static void mix_key(fl_noise *n, const uint8_t *ikm, size_t len) {
  uint8_t temp_k[FL_NOISE_HASH_BYTES];
  fl_noise_hkdf2(n->ck, temp_k, n->ck, ikm, len);
  memcpy(n->k, temp_k, FL_NOISE_KEY_BYTES); /* HASHLEN 64: truncate to 32 */
  n->has_k = true;
  n->n = 0;
  fl_crypto_memzero(temp_k, sizeof temp_k);
}

static void nonce_bytes(uint8_t out[FL_AEAD_NONCE_BYTES], uint64_t n) {
  /* ChaChaPoly: 32 zero bits then the counter little-endian (Noise §12.3). */
  memset(out, 0, 4);
  for (int i = 0; i < 8; i++) out[4 + i] = (uint8_t)(n >> (8 * i));
}

/* EncryptAndHash: out holds len (+16 once a key is set). */
static void encrypt_and_hash(fl_noise *n, const uint8_t *p, size_t len, uint8_t *out,
                             size_t *out_len) {
  if (!n->has_k) {
    /* An empty payload may come as NULL: memmove must not see it (UB). */
    if (len > 0) memmove(out, p, len);
    *out_len = len;
  } else {
    uint8_t nonce[FL_AEAD_NONCE_BYTES];
    nonce_bytes(nonce, n->n);
    int rc = fl_crypto_aead_encrypt(out, len + FL_NOISE_TAG_BYTES, out_len, p, len, n->h,
                                    sizeof n->h, nonce, n->k);
    assert(rc == 0);
    (void)rc;
    n->n++;
  }
  mix_hash(n, out, *out_len);
}

static int decrypt_and_hash(fl_noise *n, const uint8_t *c, size_t len, uint8_t *out,
                            size_t *out_len) {
  if (!n->has_k) {
    if (len > 0) memmove(out, c, len);
    *out_len = len;
  } else {
    uint8_t nonce[FL_AEAD_NONCE_BYTES];
    nonce_bytes(nonce, n->n);
    if (len < FL_NOISE_TAG_BYTES) return FL_ERR_DECODE;
    int rc = fl_crypto_aead_decrypt(out, len - FL_NOISE_TAG_BYTES, out_len, c, len, n->h,
                                    sizeof n->h, nonce, n->k);
    if (rc != 0) return rc == FL_ERR_DECODE ? FL_ERR_DECODE : FL_ERR_CRYPTO;
    n->n++;
  }
  mix_hash(n, c, len);
  return 0;
}

/* ---- Creation -------------------------------------------------------------- */

static bool pattern_uses(const fl_noise_pattern *p, bool initiator_side, int tok) {
  const uint8_t *pre = initiator_side ? p->pre_i : p->pre_r;
  for (const uint8_t *t = pre; *t != FL_TOK_END; t++)
    if (*t == tok) return true;
  for (uint8_t i = (initiator_side ? 0 : 1); i < p->n_msgs; i += 2)
    for (const uint8_t *t = p->msgs[i]; *t != FL_TOK_END; t++)
      if (*t == tok) return true;
  return false;
}

static int check_config(const fl_noise_config *cfg, fl_noise_pattern *pat) {
  if (cfg->dh != FL_NOISE_DH_ED25519 && cfg->dh != FL_NOISE_DH_X25519) return FL_ERR_INVALID;
  if (fl_noise_pattern_get(pat, cfg->pattern) != 0) return FL_ERR_INVALID;
  if (cfg->prologue == NULL && cfg->prologue_len > 0) return FL_ERR_INVALID;
  if (cfg->prologue_len > FL_NOISE_PROLOGUE_MAX) return FL_ERR_INVALID;
  /* Our s: sent in a message or pre-shared on our side. */
  bool need_s = pattern_uses(pat, cfg->initiator, FL_TOK_S);
  /* Their s known up front: their pre-message. */
  const uint8_t *their_pre = cfg->initiator ? pat->pre_r : pat->pre_i;
  bool need_rs = their_pre[0] == FL_TOK_S;
  if (need_s && cfg->static_sk == NULL) return FL_ERR_INVALID;
  if (need_rs && cfg->remote_static == NULL) return FL_ERR_INVALID;
  /* Only a side that writes e draws randomness (the responder of N, K, X
   * never does). */
  bool need_e = pattern_uses(pat, cfg->initiator, FL_TOK_E);
  if (need_e && cfg->ephemeral_sk == NULL && cfg->drbg == NULL) return FL_ERR_INVALID;
  return 0;
}

static int init_keys(fl_noise *n, const fl_noise_config *cfg) {
  if (cfg->static_sk != NULL && fl_noise_kp_from_sk(&n->s, cfg->dh, cfg->static_sk) != 0)
    return FL_ERR_CRYPTO;
  if (cfg->ephemeral_sk != NULL) {
    if (fl_noise_kp_from_sk(&n->e, cfg->dh, cfg->ephemeral_sk) != 0) return FL_ERR_CRYPTO;
    n->fixed_e = true;
  }
  const uint8_t *their_pre = cfg->initiator ? n->pat.pre_r : n->pat.pre_i;
  if (their_pre[0] == FL_TOK_S || cfg->remote_static != NULL) {
    /* A remote static given for a pattern that sends it is ignored: the
     * received one is authoritative. */
    if (their_pre[0] == FL_TOK_S) {
      memcpy(n->rs, cfg->remote_static, sizeof n->rs);
      n->has_rs = true;
    }
  }
  return 0;
}

static void init_symmetric(fl_noise *n, const fl_noise_config *cfg) {
  char name[FL_NOISE_PROTOCOL_NAME_MAX];
  const char *dh = cfg->dh == FL_NOISE_DH_ED25519 ? "Ed25519" : "25519";
  size_t len = 0;
  const char *parts[] = {"Noise_", n->pat.name, "_", dh, "_ChaChaPoly_BLAKE2b"};
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
    size_t l = strlen(parts[i]);
    assert(len + l <= sizeof name);
    memcpy(name + len, parts[i], l);
    len += l;
  }
  /* Names are at most 37 bytes here, below HASHLEN: h = name, zero-padded. */
  _Static_assert(FL_NOISE_PROTOCOL_NAME_MAX <= FL_NOISE_HASH_BYTES, "name fits h");
  memset(n->h, 0, sizeof n->h);
  memcpy(n->h, name, len);
  memcpy(n->ck, n->h, sizeof n->ck);
  mix_hash(n, cfg->prologue, cfg->prologue_len);
  /* Pre-messages: the initiator's first, each side hashing the same keys. */
  if (n->pat.pre_i[0] == FL_TOK_S) mix_hash(n, n->initiator ? n->s.pk : n->rs, 32);
  if (n->pat.pre_r[0] == FL_TOK_S) mix_hash(n, n->initiator ? n->rs : n->s.pk, 32);
}

int fl_noise_new(fl_noise **out, const fl_mem *mem, const fl_noise_config *cfg) {
  if (out == NULL) return FL_ERR_INVALID;
  *out = NULL;
  if (cfg == NULL) return FL_ERR_INVALID;
  fl_noise_pattern pat;
  int rc = check_config(cfg, &pat);
  if (rc != 0) return rc;
  fl_noise *n = fl_mem_alloc(mem, sizeof *n);
  if (n == NULL) return FL_ERR_NOMEM;
  memset(n, 0, sizeof *n);
  n->mem = mem;
  n->pat = pat;
  n->dh = cfg->dh;
  n->initiator = cfg->initiator;
  n->drbg = cfg->drbg;
  rc = init_keys(n, cfg);
  if (rc != 0) {
    fl_noise_free(n);
    return rc;
  }
  init_symmetric(n, cfg);
  n->status = n->initiator ? FL_NOISE_WRITE : FL_NOISE_READ;
  *out = n;
  return 0;
}

void fl_noise_free(fl_noise *n) {
  if (n == NULL) return;
  const fl_mem *mem = n->mem;
  fl_crypto_memzero(n, sizeof *n);
  fl_mem_free(mem, n, sizeof *n);
}

int fl_noise_status(const fl_noise *n) {
  return n == NULL ? FL_ERR_INVALID : n->status;
}

int fl_noise_check(const fl_noise *n) {
  if (n == NULL) return FL_ERR_INVALID;
  bool ok = n->pat.n_msgs >= 1 && n->pat.n_msgs <= FL_NOISE_PATTERN_MSGS_MAX;
  ok = ok && n->msg_index <= n->pat.n_msgs;
  ok = ok && (n->dh == FL_NOISE_DH_ED25519 || n->dh == FL_NOISE_DH_X25519);
  switch (n->status) {
    case FL_NOISE_WRITE:
    case FL_NOISE_READ: {
      /* Message i is the initiator's when i is even. */
      bool ours = (n->msg_index % 2 == 0) == n->initiator;
      ok = ok && n->msg_index < n->pat.n_msgs;
      ok = ok && ours == (n->status == FL_NOISE_WRITE);
      break;
    }
    case FL_NOISE_DONE:
      ok = ok && n->msg_index == n->pat.n_msgs && !n->has_k && !n->e.set;
      break;
    case FL_NOISE_FAILED:
      ok = ok && !n->has_k && !n->e.set;
      break;
    default:
      ok = false;
  }
  /* A key the pattern needs from us was checked at creation. */
  ok = ok && (n->s.set || !pattern_uses(&n->pat, n->initiator, FL_TOK_S));
  return ok ? 0 : FL_ERR_STATE;
}

int fl_noise_is_initiator(const fl_noise *n) {
  return n == NULL ? FL_ERR_INVALID : (n->initiator ? 1 : 0);
}

/* ---- Handshake messages ---------------------------------------------------- */

/* The DH a token asks for, from our side's point of view. */
static int token_dh(fl_noise *n, int tok) {
  /* es: initiator's e with responder's s; se: initiator's s with responder's e. */
  bool local_s = tok == FL_TOK_SS || (n->initiator ? tok == FL_TOK_SE : tok == FL_TOK_ES);
  bool remote_s = tok == FL_TOK_SS || (n->initiator ? tok == FL_TOK_ES : tok == FL_TOK_SE);
  const fl_noise_kp *local = local_s ? &n->s : &n->e;
  const uint8_t *remote = remote_s ? n->rs : n->re;
  if (!local->set || !(remote_s ? n->has_rs : n->has_re)) return FL_ERR_STATE;
  uint8_t dh[FL_DH_BYTES];
  int rc = fl_noise_dh_run(n->dh, dh, local, remote);
  if (rc == 0) mix_key(n, dh, sizeof dh);
  fl_crypto_memzero(dh, sizeof dh);
  return rc;
}

/* Bytes message msg_index adds around its payload, and whether the payload
 * itself is encrypted (a key exists by then). */
static size_t message_overhead(const fl_noise *n, bool *payload_keyed) {
  bool has_k = n->has_k;
  size_t len = 0;
  for (const uint8_t *t = n->pat.msgs[n->msg_index]; *t != FL_TOK_END; t++) {
    if (*t == FL_TOK_E) len += FL_NOISE_PUBLIC_KEY_BYTES;
    else if (*t == FL_TOK_S) len += FL_NOISE_PUBLIC_KEY_BYTES + (has_k ? FL_NOISE_TAG_BYTES : 0);
    else has_k = true;
  }
  *payload_keyed = has_k;
  return len + (has_k ? FL_NOISE_TAG_BYTES : 0);
}

int fl_noise_write_size(const fl_noise *n, size_t payload_len) {
  if (n == NULL) return FL_ERR_INVALID;
  if (n->status != FL_NOISE_WRITE) return FL_ERR_STATE;
  bool keyed;
  size_t total = message_overhead(n, &keyed) + payload_len;
  if (payload_len > FL_NOISE_MSG_MAX || total > FL_NOISE_MSG_MAX) return FL_ERR_RANGE;
  return (int)total;
}

static void split(fl_noise *n) {
  uint8_t t1[FL_NOISE_HASH_BYTES], t2[FL_NOISE_HASH_BYTES];
  fl_noise_hkdf2(t1, t2, n->ck, NULL, 0);
  memcpy(n->k1, t1, sizeof n->k1);
  memcpy(n->k2, t2, sizeof n->k2);
  fl_crypto_memzero(t1, sizeof t1);
  fl_crypto_memzero(t2, sizeof t2);
  /* The handshake's secrets are no longer needed; h stays as the hash. */
  fl_crypto_memzero(n->ck, sizeof n->ck);
  fl_crypto_memzero(n->k, sizeof n->k);
  fl_crypto_memzero(&n->e, sizeof n->e);
  n->has_k = false;
  n->status = FL_NOISE_DONE;
}

static void advance(fl_noise *n) {
  n->msg_index++;
  if (n->msg_index == n->pat.n_msgs) split(n);
  else n->status = n->status == FL_NOISE_WRITE ? FL_NOISE_READ : FL_NOISE_WRITE;
}

static void fail(fl_noise *n) {
  /* A dead session keeps nothing that could still decrypt or sign. */
  fl_crypto_memzero(n->ck, sizeof n->ck);
  fl_crypto_memzero(n->k, sizeof n->k);
  fl_crypto_memzero(&n->e, sizeof n->e);
  fl_crypto_memzero(n->k1, sizeof n->k1);
  fl_crypto_memzero(n->k2, sizeof n->k2);
  n->has_k = false;
  n->status = FL_NOISE_FAILED;
}

static int write_e(fl_noise *n, uint8_t *out) {
  if (!n->fixed_e) {
    uint8_t seed[32];
    fl_drbg_bytes(n->drbg, seed, sizeof seed);
    int rc = fl_noise_kp_from_seed(&n->e, n->dh, seed);
    fl_crypto_memzero(seed, sizeof seed);
    if (rc != 0) return rc;
  }
  memcpy(out, n->e.pk, FL_NOISE_PUBLIC_KEY_BYTES);
  mix_hash(n, n->e.pk, FL_NOISE_PUBLIC_KEY_BYTES);
  return FL_NOISE_PUBLIC_KEY_BYTES;
}

int fl_noise_write_message(fl_noise *n, const uint8_t *payload, size_t payload_len,
                           uint8_t *out, size_t cap, size_t *out_len) {
  if (n == NULL || out == NULL || out_len == NULL) return FL_ERR_INVALID;
  if (payload == NULL && payload_len > 0) return FL_ERR_INVALID;
  *out_len = 0;
  int total = fl_noise_write_size(n, payload_len);
  if (total < 0) return total;
  if ((size_t)total > cap) return FL_ERR_BUFFER;
  size_t off = 0;
  int rc = 0;
  for (const uint8_t *t = n->pat.msgs[n->msg_index]; *t != FL_TOK_END && rc == 0; t++) {
    size_t w = 0;
    if (*t == FL_TOK_E) {
      rc = write_e(n, out + off);
      w = rc > 0 ? (size_t)rc : 0;
      rc = rc > 0 ? 0 : rc;
    } else if (*t == FL_TOK_S) {
      encrypt_and_hash(n, n->s.pk, FL_NOISE_PUBLIC_KEY_BYTES, out + off, &w);
    } else {
      rc = token_dh(n, *t);
    }
    off += w;
  }
  if (rc == 0) {
    size_t w = 0;
    encrypt_and_hash(n, payload, payload_len, out + off, &w);
    off += w;
    assert(off == (size_t)total);
    *out_len = off;
    advance(n);
    return 0;
  }
  fl_crypto_memzero(out, (size_t)total);
  fail(n);
  return rc;
}

/* Process the tokens of the message being read. Returns the offset of the
 * payload ciphertext, or a negative error. */
static int read_tokens(fl_noise *n, const uint8_t *msg, size_t len) {
  size_t off = 0;
  for (const uint8_t *t = n->pat.msgs[n->msg_index]; *t != FL_TOK_END; t++) {
    int rc = 0;
    if (*t == FL_TOK_E) {
      assert(off + FL_NOISE_PUBLIC_KEY_BYTES <= len);
      memcpy(n->re, msg + off, sizeof n->re);
      n->has_re = true;
      mix_hash(n, n->re, sizeof n->re);
      off += FL_NOISE_PUBLIC_KEY_BYTES;
    } else if (*t == FL_TOK_S) {
      size_t clen = FL_NOISE_PUBLIC_KEY_BYTES + (n->has_k ? FL_NOISE_TAG_BYTES : 0);
      size_t plen = 0;
      assert(off + clen <= len);
      rc = decrypt_and_hash(n, msg + off, clen, n->rs, &plen);
      n->has_rs = rc == 0;
      off += clen;
    } else {
      rc = token_dh(n, *t);
    }
    if (rc != 0) return rc;
  }
  return (int)off;
}

int fl_noise_read_message(fl_noise *n, const uint8_t *msg, size_t msg_len, uint8_t *payload,
                          size_t cap, size_t *payload_len) {
  if (n == NULL || payload_len == NULL) return FL_ERR_INVALID;
  if ((msg == NULL && msg_len > 0) || (payload == NULL && cap > 0)) return FL_ERR_INVALID;
  *payload_len = 0;
  if (n->status != FL_NOISE_READ) return FL_ERR_STATE;
  bool keyed;
  size_t overhead = message_overhead(n, &keyed);
  int rc = FL_ERR_DECODE;
  if (msg_len <= FL_NOISE_MSG_MAX && msg_len >= overhead) {
    if (msg_len - overhead > cap) return FL_ERR_BUFFER; /* nothing read yet */
    rc = read_tokens(n, msg, msg_len);
    if (rc >= 0) {
      size_t off = (size_t)rc;
      uint8_t tmp[1];
      uint8_t *dst = cap > 0 ? payload : tmp; /* empty payload, no buffer */
      rc = decrypt_and_hash(n, msg + off, msg_len - off, dst, payload_len);
    }
  }
  if (rc == 0) {
    advance(n);
    return 0;
  }
  if (payload != NULL && cap > 0) fl_crypto_memzero(payload, cap);
  *payload_len = 0;
  fail(n);
  return rc;
}

/* ---- Results --------------------------------------------------------------- */

int fl_noise_remote_static(const fl_noise *n, uint8_t out[FL_NOISE_PUBLIC_KEY_BYTES]) {
  if (n == NULL || out == NULL) return FL_ERR_INVALID;
  if (!n->has_rs || n->status == FL_NOISE_FAILED) {
    memset(out, 0, FL_NOISE_PUBLIC_KEY_BYTES);
    return FL_ERR_NOT_FOUND;
  }
  memcpy(out, n->rs, FL_NOISE_PUBLIC_KEY_BYTES);
  return 0;
}

int fl_noise_local_static(const fl_noise *n, uint8_t out[FL_NOISE_PUBLIC_KEY_BYTES]) {
  if (n == NULL || out == NULL) return FL_ERR_INVALID;
  if (!n->s.set) {
    memset(out, 0, FL_NOISE_PUBLIC_KEY_BYTES);
    return FL_ERR_NOT_FOUND;
  }
  memcpy(out, n->s.pk, FL_NOISE_PUBLIC_KEY_BYTES);
  return 0;
}

int fl_noise_handshake_hash(const fl_noise *n, uint8_t out[FL_NOISE_HASH_BYTES]) {
  if (n == NULL || out == NULL) return FL_ERR_INVALID;
  if (n->status == FL_NOISE_FAILED) {
    memset(out, 0, FL_NOISE_HASH_BYTES);
    return FL_ERR_STATE;
  }
  memcpy(out, n->h, FL_NOISE_HASH_BYTES);
  return 0;
}

int fl_noise_split(const fl_noise *n, fl_noise_keys *out) {
  if (n == NULL || out == NULL) return FL_ERR_INVALID;
  memset(out, 0, sizeof *out);
  if (n->status != FL_NOISE_DONE) return FL_ERR_STATE;
  memcpy(out->tx, n->initiator ? n->k1 : n->k2, FL_NOISE_KEY_BYTES);
  memcpy(out->rx, n->initiator ? n->k2 : n->k1, FL_NOISE_KEY_BYTES);
  memcpy(out->hash, n->h, FL_NOISE_HASH_BYTES);
  if (n->has_rs) {
    memcpy(out->remote_static, n->rs, FL_NOISE_PUBLIC_KEY_BYTES);
    out->has_remote_static = true;
  }
  return 0;
}

/* ---- Transport ------------------------------------------------------------- */

/* The nonce 2^64-1 is reserved (Noise §5.1); refuse before reaching it. */
#define FL_NOISE_NONCE_MAX (UINT64_MAX - 1)

int fl_noise_encrypt(fl_noise *n, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                     size_t *out_len) {
  if (n == NULL || out == NULL || out_len == NULL || (in == NULL && len > 0))
    return FL_ERR_INVALID;
  *out_len = 0;
  if (n->status != FL_NOISE_DONE) return FL_ERR_STATE;
  /* One-way patterns carry transport only from the initiator. */
  if (n->pat.one_way && !n->initiator) return FL_ERR_STATE;
  if (len > FL_NOISE_MSG_MAX - FL_NOISE_TAG_BYTES) return FL_ERR_RANGE;
  if (cap < len + FL_NOISE_TAG_BYTES) return FL_ERR_BUFFER;
  if (n->n_tx >= FL_NOISE_NONCE_MAX) return FL_ERR_RANGE;
  uint8_t nonce[FL_AEAD_NONCE_BYTES];
  nonce_bytes(nonce, n->n_tx);
  int rc = fl_crypto_aead_encrypt(out, cap, out_len, in, len, NULL, 0, nonce,
                                  n->initiator ? n->k1 : n->k2);
  if (rc != 0) return rc;
  n->n_tx++;
  return 0;
}

int fl_noise_decrypt(fl_noise *n, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                     size_t *out_len) {
  if (n == NULL || out_len == NULL || (in == NULL && len > 0) || (out == NULL && cap > 0))
    return FL_ERR_INVALID;
  *out_len = 0;
  if (n->status != FL_NOISE_DONE) return FL_ERR_STATE;
  if (n->pat.one_way && n->initiator) return FL_ERR_STATE;
  if (len < FL_NOISE_TAG_BYTES || len > FL_NOISE_MSG_MAX) return FL_ERR_DECODE;
  if (cap < len - FL_NOISE_TAG_BYTES) return FL_ERR_BUFFER;
  if (n->n_rx >= FL_NOISE_NONCE_MAX) return FL_ERR_RANGE;
  uint8_t nonce[FL_AEAD_NONCE_BYTES];
  nonce_bytes(nonce, n->n_rx);
  uint8_t tmp[1];
  int rc = fl_crypto_aead_decrypt(cap > 0 ? out : tmp, cap > 0 ? cap : 0, out_len, in, len,
                                  NULL, 0, nonce, n->initiator ? n->k2 : n->k1);
  if (rc != 0) {
    if (out != NULL && cap > 0) fl_crypto_memzero(out, cap);
    *out_len = 0;
    return FL_ERR_CRYPTO;
  }
  n->n_rx++;
  return 0;
}
