/*
 * secretstream/ss.c — the secret-stream state machine: header exchange,
 * uint24 framing, secretstream push/pull, keep-alives, end and destroy.
 * Mirrors @hyperswarm/secret-stream@6.9.2 index.js; spec/secret-stream.md.
 */
#include <string.h>

#include "secretstream/ss_internal.h"

static const char NS_NAME[] = "hyperswarm/secret-stream";

/* ---- life cycle ------------------------------------------------------------ */

int fl_ss_new(fl_ss **out, const fl_ss_config *cfg) {
  if (out == NULL) return FL_ERR_INVALID;
  *out = NULL;
  if (cfg == NULL) return FL_ERR_INVALID;
  size_t rx_max = cfg->rx_frame_max ? cfg->rx_frame_max : FL_SS_RX_FRAME_MAX;
  /* Below the header frame size the stream could never start. */
  if (rx_max < FL_SS_IDHEADER_BYTES || rx_max > FL_SS_FRAME_BODY_MAX) return FL_ERR_INVALID;
  const fl_mem *mem = cfg->mem ? cfg->mem : fl_mem_default();
  fl_ss *ss = fl_mem_calloc(mem, 1, sizeof *ss);
  if (ss == NULL) return FL_ERR_NOMEM;
  ss->cfg = *cfg;
  ss->cfg.rx_frame_max = rx_max;
  if (ss->cfg.tx_bytes_max == 0) ss->cfg.tx_bytes_max = FL_SS_TX_BYTES_MAX;
  ss->mem = mem;
  ss->keepalive_ms = cfg->keepalive_ms;
  /* As the reference: keep-alive on implies that empty messages are eaten. */
  ss->filter_empty = cfg->filter_empty || cfg->keepalive_ms > 0;
  ss->ka_deadline = FL_TIME_NONE;
  ss->to_deadline = FL_TIME_NONE;
  *out = ss;
  return 0;
}

static void ss_wipe_keys(fl_ss *ss) {
  fl_crypto_memzero(&ss->push, sizeof ss->push);
  fl_crypto_memzero(&ss->pull, sizeof ss->pull);
  fl_crypto_memzero(ss->box_tx, sizeof ss->box_tx);
  fl_crypto_memzero(ss->box_rx, sizeof ss->box_rx);
  fl_crypto_memzero(ss->header, sizeof ss->header);
  fl_crypto_memzero(ss->rx_key, sizeof ss->rx_key);
  ss->keys = false;
}

void fl_ss_free(fl_ss *ss) {
  if (ss == NULL) return;
  ss_xx_free(ss);
  ss_wipe_keys(ss);
  if (ss->rbuf) {
    fl_crypto_memzero(ss->rbuf, ss->rbuf_cap);
    fl_mem_free(ss->mem, ss->rbuf, ss->rbuf_cap);
  }
  if (ss->tbuf) fl_mem_free(ss->mem, ss->tbuf, ss->tcap);
  const fl_mem *mem = ss->mem;
  fl_crypto_memzero(ss, sizeof *ss);
  fl_mem_free(mem, ss, sizeof *ss);
}

/* Time only moves forward; a call with an earlier now is misuse. */
static int ss_clock(fl_ss *ss, uint64_t now_us) {
  if (now_us < ss->last_now) return FL_ERR_INVALID;
  ss->last_now = now_us;
  return 0;
}

static uint64_t ss_after(uint64_t now_us, uint32_t ms) {
  uint64_t d = (uint64_t)ms * 1000u;
  return now_us > FL_TIME_NONE - 1 - d ? FL_TIME_NONE - 1 : now_us + d;
}

/* ---- events ---------------------------------------------------------------- */

void ss_emit(fl_ss *ss, int type, int error, const char *reason, const uint8_t *data,
             size_t len) {
  if (ss->ev_count == FL_SS_EVENT_MAX) {
    ss->st.events_dropped++;
    return;
  }
  fl_ss_event *e = &ss->ev[(ss->ev_head + ss->ev_count) % FL_SS_EVENT_MAX];
  e->type = type;
  e->error = error;
  e->reason = reason;
  e->data = data;
  e->len = len;
  ss->ev_count++;
  ss->emitted++;
  ss->st.events = ss->ev_count;
  if (ss->ev_count > ss->st.events_high) ss->st.events_high = ss->ev_count;
  if (type == FL_SS_EV_DATA) ss->data_unpolled = true;
}

int fl_ss_poll_event(fl_ss *ss, fl_ss_event *ev) {
  if (ss == NULL || ev == NULL) return FL_ERR_INVALID;
  memset(ev, 0, sizeof *ev);
  if (ss->ev_count == 0) {
    ss->data_unpolled = false;
    return 0;
  }
  *ev = ss->ev[ss->ev_head];
  ss->ev_head = (ss->ev_head + 1) % FL_SS_EVENT_MAX;
  ss->ev_count--;
  ss->st.events = ss->ev_count;
  if (ev->type == FL_SS_EV_DATA || ss->ev_count == 0) ss->data_unpolled = false;
  return 1;
}

int ss_fail(fl_ss *ss, int code, const char *reason) {
  if (ss->phase == SS_PHASE_FAILED) return code;
  ss->phase = SS_PHASE_FAILED;
  ss->error = code;
  if (code == FL_ERR_DECODE || code == FL_ERR_PROTOCOL || code == FL_ERR_CRYPTO)
    ss->st.decode_errors++;
  ss_wipe_keys(ss);
  ss_xx_free(ss);
  ss->thead = ss->ttail = 0;
  ss->st.tx_bytes = 0;
  ss->ka_deadline = ss->to_deadline = FL_TIME_NONE;
  ss_emit(ss, FL_SS_EV_ERROR, code, reason, NULL, 0);
  return code;
}

void fl_ss_destroy(fl_ss *ss) {
  if (ss == NULL || ss->phase == SS_PHASE_FAILED) return;
  ss->phase = SS_PHASE_FAILED;
  ss->error = FL_ERR_CLOSED;
  ss_wipe_keys(ss);
  ss_xx_free(ss);
  ss->thead = ss->ttail = 0;
  ss->st.tx_bytes = 0;
  ss->ka_deadline = ss->to_deadline = FL_TIME_NONE;
  ss->ev_count = 0;
  ss->data_unpolled = false;
}

void fl_ss_recv_error(fl_ss *ss, int error, const char *reason) {
  if (ss == NULL) return;
  if (error >= 0 || error < FL_ERR_MIN) error = FL_ERR_CLOSED;
  ss_fail(ss, error, reason ? reason : "raw stream failed");
}

/* ---- output buffer --------------------------------------------------------- */

static int ss_tx_grow(fl_ss *ss, size_t need) {
  size_t pending = ss->ttail - ss->thead;
  size_t cap = ss->tcap ? ss->tcap : 4096;
  while (cap < pending + need) cap = cap > SIZE_MAX / 2 ? pending + need : cap * 2;
  uint8_t *nb = fl_mem_alloc(ss->mem, cap);
  if (nb == NULL) return FL_ERR_NOMEM;
  if (pending) memcpy(nb, ss->tbuf + ss->thead, pending);
  if (ss->tbuf) fl_mem_free(ss->mem, ss->tbuf, ss->tcap);
  ss->tbuf = nb;
  ss->tcap = cap;
  ss->thead = 0;
  ss->ttail = pending;
  return 0;
}

uint8_t *ss_tx_reserve(fl_ss *ss, size_t n, bool force, int *rc) {
  size_t pending = ss->ttail - ss->thead;
  if (!force && pending > 0 && pending + n > ss->cfg.tx_bytes_max) {
    ss->st.tx_refused++;
    *rc = FL_ERR_LIMIT;
    return NULL;
  }
  if (pending == 0) ss->thead = ss->ttail = 0;
  if (ss->tcap - ss->ttail < n) {
    if (ss->thead > 0 && ss->tcap - pending >= n) {
      memmove(ss->tbuf, ss->tbuf + ss->thead, pending);
      ss->thead = 0;
      ss->ttail = pending;
    } else if ((*rc = ss_tx_grow(ss, n)) != 0) {
      return NULL;
    }
  }
  *rc = 0;
  return ss->tbuf + ss->ttail;
}

void ss_tx_commit(fl_ss *ss, size_t n) {
  ss->ttail += n;
  ss->st.tx_bytes = ss->ttail - ss->thead;
  if (ss->st.tx_bytes > ss->st.tx_bytes_high) ss->st.tx_bytes_high = ss->st.tx_bytes;
}

size_t fl_ss_tx_peek(fl_ss *ss, const uint8_t **p) {
  if (ss == NULL || p == NULL) return 0;
  *p = ss->tbuf ? ss->tbuf + ss->thead : NULL;
  return ss->ttail - ss->thead;
}

int fl_ss_tx_consume(fl_ss *ss, size_t n) {
  if (ss == NULL || n > ss->ttail - ss->thead) return FL_ERR_INVALID;
  ss->thead += n;
  if (ss->thead == ss->ttail) ss->thead = ss->ttail = 0;
  ss->st.tx_bytes = ss->ttail - ss->thead;
  return 0;
}

int fl_ss_tx_end_due(const fl_ss *ss) {
  return ss != NULL && ss->phase != SS_PHASE_FAILED && ss->local_ended &&
         ss->ttail == ss->thead;
}

/* ---- set-up ---------------------------------------------------------------- */

int fl_ss_stream_id(uint8_t out[FL_SS_ID_BYTES], const uint8_t hash[FL_SS_HASH_BYTES],
                    bool initiator) {
  if (out == NULL || hash == NULL) return FL_ERR_INVALID;
  uint8_t ns[3][FL_HASH_BYTES];
  static const uint8_t ids[3] = {0, 1, 2};
  int rc = fl_crypto_namespace(NS_NAME, sizeof NS_NAME - 1, ids, 3, ns);
  if (rc != 0) return rc;
  return fl_crypto_hash_keyed(out, FL_SS_ID_BYTES, ns[initiator ? 0 : 1], FL_HASH_BYTES, hash,
                              FL_SS_HASH_BYTES);
}

/* As _setupSecretStream: push state from our header, id + header frame out. */
static int ss_push_frame(fl_ss *ss, uint64_t now_us, const uint8_t *msg, size_t len);

int ss_setup(fl_ss *ss, uint64_t now_us, const fl_ss_handshake *hs) {
  memcpy(ss->hash, hs->hash, sizeof ss->hash);
  memcpy(ss->pk, hs->public_key, sizeof ss->pk);
  memcpy(ss->rpk, hs->remote_public_key, sizeof ss->rpk);
  ss->have_pk = ss->have_rpk = true;
  int rc = fl_crypto_sstream_push_init(&ss->push, ss->header, hs->tx);
  if (rc == 0) rc = ss_box_setup(ss);
  if (rc != 0) return ss_fail(ss, rc, "key set-up failed");
  uint8_t *p = ss_tx_reserve(ss, FL_SS_PREFIX_BYTES + FL_SS_IDHEADER_BYTES, true, &rc);
  if (p == NULL) return ss_fail(ss, rc, "out of memory");
  ss_put_u24(p, FL_SS_IDHEADER_BYTES);
  rc = fl_ss_stream_id(p + 3, ss->hash, ss->cfg.is_initiator);
  if (rc != 0) return ss_fail(ss, rc, "stream id");
  memcpy(p + 3 + FL_SS_ID_BYTES, ss->header, FL_SSTREAM_HEADER_BYTES);
  ss_tx_commit(ss, FL_SS_PREFIX_BYTES + FL_SS_IDHEADER_BYTES);
  /* The pull side waits for the remote header; keep rx for it. */
  memcpy(ss->rx_key, hs->rx, sizeof ss->rx_key);
  ss->keys = true;
  ss->have_hash = true;
  ss->phase = SS_PHASE_HEADER;
  ss_emit(ss, FL_SS_EV_HANDSHAKE, 0, NULL, NULL, 0);
  if (ss->keepalive_owed) {
    ss->keepalive_owed = false;
    rc = ss_push_frame(ss, now_us, NULL, 0);
    if (rc < 0 && ss->phase == SS_PHASE_FAILED) return rc;
  }
  return 0;
}

static int ss_start_common(fl_ss *ss, uint64_t now_us, fl_drbg *drbg) {
  if (ss->phase != SS_PHASE_NEW) return FL_ERR_STATE;
  int rc = ss_clock(ss, now_us);
  if (rc != 0) return rc;
  fl_drbg_bytes(drbg, ss->header, sizeof ss->header);
  fl_drbg_bytes(drbg, ss->box_ctr0, sizeof ss->box_ctr0);
  memcpy(ss->box_ctr, ss->box_ctr0, sizeof ss->box_ctr);
  /* The reference arms both timers when the raw stream is attached. */
  if (ss->keepalive_ms) ss->ka_deadline = ss_after(now_us, ss->keepalive_ms);
  if (ss->cfg.timeout_ms) ss->to_deadline = ss_after(now_us, ss->cfg.timeout_ms);
  return 0;
}

int fl_ss_start(fl_ss *ss, uint64_t now_us, const fl_ss_handshake *hs, fl_drbg *drbg) {
  if (ss == NULL || hs == NULL || drbg == NULL) return FL_ERR_INVALID;
  int rc = ss_start_common(ss, now_us, drbg);
  if (rc != 0) return rc;
  return ss_setup(ss, now_us, hs);
}

int fl_ss_start_xx(fl_ss *ss, uint64_t now_us, const uint8_t public_key[FL_PUBLIC_KEY_BYTES],
                   const uint8_t secret_key[FL_SECRET_KEY_BYTES], fl_drbg *drbg) {
  if (ss == NULL || public_key == NULL || secret_key == NULL || drbg == NULL)
    return FL_ERR_INVALID;
  int rc = ss_start_common(ss, now_us, drbg);
  if (rc != 0) return rc;
  ss->phase = SS_PHASE_NOISE;
  memcpy(ss->pk, public_key, sizeof ss->pk);
  ss->have_pk = true;
  return ss_xx_start(ss, now_us, public_key, secret_key, drbg);
}

/* ---- sending ----------------------------------------------------------------- */

size_t fl_ss_frame_bytes(size_t len) {
  return len > FL_SS_MESSAGE_MAX ? 0 : FL_SS_PREFIX_BYTES + FL_SSTREAM_ABYTES + len;
}

/* One message, one frame, encrypted straight into the output buffer. */
static int ss_push_frame(fl_ss *ss, uint64_t now_us, const uint8_t *msg, size_t len) {
  size_t n = fl_ss_frame_bytes(len);
  int rc;
  uint8_t *p = ss_tx_reserve(ss, n, false, &rc);
  if (p == NULL) return rc;
  size_t clen = 0;
  ss_put_u24(p, len + FL_SSTREAM_ABYTES);
  rc = fl_crypto_sstream_push(&ss->push, p + FL_SS_PREFIX_BYTES, n - FL_SS_PREFIX_BYTES, &clen,
                              msg, len, NULL, 0, FL_SSTREAM_TAG_MESSAGE);
  if (rc != 0) return ss_fail(ss, rc, "secretstream push failed");
  ss_tx_commit(ss, n);
  ss->st.frames_sent++;
  ss->st.raw_bytes_written += n;
  if (len == 0) ss->st.keepalives_sent++;
  /* Every write refreshes the keep-alive interval (timeout-refresh). */
  if (ss->keepalive_ms && !ss->local_ended) ss->ka_deadline = ss_after(now_us, ss->keepalive_ms);
  return 0;
}

int fl_ss_push(fl_ss *ss, uint64_t now_us, const uint8_t *msg, size_t len) {
  if (ss == NULL || (msg == NULL && len > 0)) return FL_ERR_INVALID;
  if (ss->phase == SS_PHASE_FAILED) return FL_ERR_CLOSED;
  int rc = ss_clock(ss, now_us);
  if (rc != 0) return rc;
  if (!ss->keys || ss->local_ended) return FL_ERR_STATE;
  if (len > FL_SS_MESSAGE_MAX)
    return ss_fail(ss, FL_ERR_RANGE,
                   "Message is too large for an atomic write. Max size is 16777215 bytes.");
  return ss_push_frame(ss, now_us, msg, len);
}

int fl_ss_end(fl_ss *ss) {
  if (ss == NULL) return FL_ERR_INVALID;
  if (ss->phase == SS_PHASE_FAILED) return FL_ERR_CLOSED;
  if (!ss->keys || ss->local_ended) return FL_ERR_STATE;
  ss->local_ended = true;
  ss->ka_deadline = FL_TIME_NONE; /* _final clears the keep-alive */
  if (ss->remote_ended && !ss->closed) {
    ss->closed = true;
    ss_emit(ss, FL_SS_EV_CLOSE, 0, NULL, NULL, 0);
  }
  return 0;
}

/* ---- receiving ------------------------------------------------------------- */

/* Make rbuf hold at least n bytes, doubling but never past max: a peer that
 * announces a large frame costs us only what it has actually sent. */
static int ss_rbuf_reserve(fl_ss *ss, size_t n, size_t max) {
  if (n <= ss->rbuf_cap) return 0;
  size_t cap = ss->rbuf_cap ? ss->rbuf_cap : 4096;
  while (cap < n) cap *= 2;
  if (cap > max) cap = max;
  if (cap < n) cap = n;
  uint8_t *nb = fl_mem_alloc(ss->mem, cap);
  if (nb == NULL) return FL_ERR_NOMEM;
  /* A partial frame may be held: keep it. */
  if (ss->body_got) memcpy(nb, ss->rbuf, ss->body_got);
  if (ss->rbuf) {
    fl_crypto_memzero(ss->rbuf, ss->rbuf_cap);
    fl_mem_free(ss->mem, ss->rbuf, ss->rbuf_cap);
  }
  ss->rbuf = nb;
  ss->rbuf_cap = cap;
  return 0;
}

/* A complete prefix: check the announced length before buffering any body. */
static int ss_frame_begin(fl_ss *ss) {
  size_t len = (size_t)ss->prefix[0] | (size_t)ss->prefix[1] << 8 | (size_t)ss->prefix[2] << 16;
  if (ss->phase == SS_PHASE_NOISE && len > FL_SS_HANDSHAKE_FRAME_MAX)
    return ss_fail(ss, FL_ERR_DECODE, "Noise handshake failed: message too large");
  if (ss->phase == SS_PHASE_HEADER && len != FL_SS_IDHEADER_BYTES)
    return ss_fail(ss, FL_ERR_DECODE, "Invalid header message received");
  if (ss->phase == SS_PHASE_DATA && len < FL_SSTREAM_ABYTES)
    return ss_fail(ss, FL_ERR_DECODE, "Invalid message received");
  if (len > ss->cfg.rx_frame_max)
    return ss_fail(ss, FL_ERR_LIMIT, "frame larger than the receive limit");
  ss->in_body = true;
  ss->body_len = len;
  ss->body_got = 0;
  return 0;
}

static int ss_on_header(fl_ss *ss, const uint8_t *body) {
  uint8_t expect[FL_SS_ID_BYTES];
  int rc = fl_ss_stream_id(expect, ss->hash, !ss->cfg.is_initiator);
  if (rc != 0) return ss_fail(ss, rc, "stream id");
  if (fl_crypto_memcmp(expect, body, FL_SS_ID_BYTES) != 0)
    return ss_fail(ss, FL_ERR_PROTOCOL, "Invalid header received");
  rc = fl_crypto_sstream_pull_init(&ss->pull, body + FL_SS_ID_BYTES, ss->rx_key);
  if (rc != 0) return ss_fail(ss, rc, "secretstream init_pull failed");
  fl_crypto_memzero(ss->rx_key, sizeof ss->rx_key);
  ss->phase = SS_PHASE_DATA;
  ss_emit(ss, FL_SS_EV_OPEN, 0, NULL, NULL, 0);
  return 0;
}

/* A data frame: decrypt into rbuf (in place when the body is already there). */
static int ss_on_data(fl_ss *ss, const uint8_t *body, size_t len, bool in_rbuf) {
  size_t plain_len = len - FL_SSTREAM_ABYTES;
  uint8_t *plain;
  if (in_rbuf) {
    plain = ss->rbuf + 1; /* the body starts with the tag byte: decrypt over itself */
  } else {
    int rc = ss_rbuf_reserve(ss, plain_len ? plain_len : 1, len);
    if (rc != 0) return ss_fail(ss, rc, "out of memory");
    plain = ss->rbuf;
  }
  size_t mlen = 0;
  uint8_t tag = 0;
  int rc = fl_crypto_sstream_pull(&ss->pull, plain, plain_len, &mlen, &tag, body, len, NULL, 0);
  if (rc != 0) return ss_fail(ss, rc == FL_ERR_CRYPTO ? FL_ERR_CRYPTO : rc,
                              "invalid frame: authentication failed");
  /* The tag is ignored, as the reference does (a FINAL tag ends nothing). */
  ss->st.frames_received++;
  ss->st.raw_bytes_read += len;
  if (mlen == 0) {
    ss->st.keepalives_received++;
    if (ss->filter_empty) return 0;
  }
  ss_emit(ss, FL_SS_EV_DATA, 0, NULL, plain, mlen);
  return 0;
}

static int ss_frame_done(fl_ss *ss, uint64_t now_us, const uint8_t *body, size_t len,
                         bool in_rbuf) {
  ss->in_body = false;
  ss->body_got = 0;
  ss->st.rx_buffered = 0;
  switch (ss->phase) {
    case SS_PHASE_NOISE: return ss_xx_recv(ss, now_us, body, len);
    case SS_PHASE_HEADER: return ss_on_header(ss, body);
    case SS_PHASE_DATA: return ss_on_data(ss, body, len, in_rbuf);
    default: return FL_ERR_CLOSED;
  }
}

/* Body bytes of the current frame: straight from the input when the whole
 * frame is there, else gathered in rbuf. Returns bytes used or an error. */
static int64_t ss_take_body(fl_ss *ss, uint64_t now_us, const uint8_t *data, size_t avail) {
  size_t need = ss->body_len - ss->body_got;
  int rc;
  if (ss->body_got == 0 && avail >= need) {
    rc = ss_frame_done(ss, now_us, data, need, false);
    return rc < 0 ? rc : (int64_t)need;
  }
  size_t n = avail < need ? avail : need;
  rc = ss_rbuf_reserve(ss, ss->body_got + n, ss->body_len);
  if (rc != 0) return ss_fail(ss, rc, "out of memory");
  memcpy(ss->rbuf + ss->body_got, data, n);
  ss->body_got += n;
  ss->st.rx_buffered = ss->body_got;
  if (ss->body_got > ss->st.rx_buffered_high) ss->st.rx_buffered_high = ss->body_got;
  if (ss->body_got == ss->body_len) {
    rc = ss_frame_done(ss, now_us, ss->rbuf, ss->body_len, true);
    if (rc < 0) return rc;
  }
  return (int64_t)n;
}

int fl_ss_recv(fl_ss *ss, uint64_t now_us, const uint8_t *data, size_t len) {
  if (ss == NULL || (data == NULL && len > 0)) return FL_ERR_INVALID;
  if (ss->phase == SS_PHASE_FAILED) return FL_ERR_CLOSED;
  if (ss->phase == SS_PHASE_NEW || ss->data_unpolled || ss->remote_ended) return FL_ERR_STATE;
  int rc = ss_clock(ss, now_us);
  if (rc != 0) return rc;
  if (len > 0 && ss->cfg.timeout_ms) ss->to_deadline = ss_after(now_us, ss->cfg.timeout_ms);
  uint64_t before = ss->emitted;
  size_t off = 0;
  if (len > (size_t)INT32_MAX) len = (size_t)INT32_MAX; /* the count must fit the return */
  while (off < len && ss->emitted == before) {
    if (!ss->in_body) {
      while (ss->prefix_got < FL_SS_PREFIX_BYTES && off < len)
        ss->prefix[ss->prefix_got++] = data[off++];
      if (ss->prefix_got < FL_SS_PREFIX_BYTES) break;
      ss->prefix_got = 0;
      if ((rc = ss_frame_begin(ss)) != 0) return rc;
      if (ss->body_len == 0 && (rc = ss_frame_done(ss, now_us, data + off, 0, false)) < 0)
        return rc;
      continue;
    }
    int64_t n = ss_take_body(ss, now_us, data + off, len - off);
    if (n < 0) return (int)n;
    off += (size_t)n;
  }
  return (int)off;
}

int fl_ss_recv_end(fl_ss *ss, uint64_t now_us) {
  if (ss == NULL) return FL_ERR_INVALID;
  if (ss->phase == SS_PHASE_FAILED) return FL_ERR_CLOSED;
  int rc = ss_clock(ss, now_us);
  if (rc != 0) return rc;
  if (ss->remote_ended || ss->phase == SS_PHASE_NEW) return FL_ERR_STATE;
  if (ss->prefix_got || ss->in_body)
    return ss_fail(ss, FL_ERR_DECODE, "raw stream ended inside a frame");
  if (ss->phase != SS_PHASE_DATA)
    return ss_fail(ss, FL_ERR_DECODE, "raw stream ended before the secret stream was set up");
  ss->remote_ended = true;
  ss->to_deadline = FL_TIME_NONE;
  ss_emit(ss, FL_SS_EV_END, 0, NULL, NULL, 0);
  if (ss->local_ended && !ss->closed) {
    ss->closed = true;
    ss_emit(ss, FL_SS_EV_CLOSE, 0, NULL, NULL, 0);
  }
  return 0;
}

/* ---- timers ---------------------------------------------------------------- */

uint64_t fl_ss_next_deadline(const fl_ss *ss) {
  if (ss == NULL || ss->phase == SS_PHASE_FAILED) return FL_TIME_NONE;
  return ss->ka_deadline < ss->to_deadline ? ss->ka_deadline : ss->to_deadline;
}

int fl_ss_handle_timeout(fl_ss *ss, uint64_t now_us) {
  if (ss == NULL) return FL_ERR_INVALID;
  if (ss->phase == SS_PHASE_FAILED) return FL_ERR_CLOSED;
  int rc = ss_clock(ss, now_us);
  if (rc != 0) return rc;
  if (now_us >= ss->to_deadline) return ss_fail(ss, FL_ERR_TIMEOUT, "Stream timed out");
  if (now_us < ss->ka_deadline) return 0;
  ss->ka_deadline = ss_after(now_us, ss->keepalive_ms);
  if (!ss->keys) {
    /* The reference queues the write until the stream opens. */
    ss->keepalive_owed = true;
    return 0;
  }
  rc = ss_push_frame(ss, now_us, NULL, 0);
  /* A full output buffer already carries traffic; the next interval retries. */
  return rc == FL_ERR_LIMIT || rc == FL_ERR_NOMEM ? 0 : rc;
}

int fl_ss_set_keepalive(fl_ss *ss, uint64_t now_us, uint32_t ms) {
  if (ss == NULL) return FL_ERR_INVALID;
  if (ss->phase == SS_PHASE_FAILED) return FL_ERR_CLOSED;
  int rc = ss_clock(ss, now_us);
  if (rc != 0) return rc;
  ss->keepalive_ms = ms;
  if (ms > 0) ss->filter_empty = true;
  bool running = ss->phase != SS_PHASE_NEW && !ss->local_ended;
  ss->ka_deadline = ms && running ? ss_after(now_us, ms) : FL_TIME_NONE;
  return 0;
}

/* ---- introspection --------------------------------------------------------- */

const uint8_t *fl_ss_handshake_hash(const fl_ss *ss) {
  return ss && ss->have_hash ? ss->hash : NULL;
}
const uint8_t *fl_ss_remote_public_key(const fl_ss *ss) {
  return ss && ss->have_rpk ? ss->rpk : NULL;
}
const uint8_t *fl_ss_public_key(const fl_ss *ss) { return ss && ss->have_pk ? ss->pk : NULL; }
int fl_ss_is_open(const fl_ss *ss) { return ss && ss->phase == SS_PHASE_DATA; }
int fl_ss_is_failed(const fl_ss *ss) { return ss && ss->phase == SS_PHASE_FAILED; }

void fl_ss_get_stats(const fl_ss *ss, fl_ss_stats *out) {
  if (out == NULL) return;
  if (ss == NULL) {
    memset(out, 0, sizeof *out);
    return;
  }
  *out = ss->st;
}
