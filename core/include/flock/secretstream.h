/*
 * flock/secretstream.h — @hyperswarm/secret-stream@6.9.2 over any reliable
 * byte stream, sans-IO.
 *
 * Wire format (spec/secret-stream.md): every frame is a 3-byte little-endian
 * length and a body. Each side first sends a header frame (its 32-byte stream
 * id, derived from the handshake hash and its role's namespace, and the
 * 24-byte secretstream header), then one frame per message: the XChaCha20-
 * Poly1305 secretstream push of the plaintext with TAG_MESSAGE. An empty
 * message is a keep-alive. Without a handshake result, a Noise XX handshake
 * (Ed25519 DH) runs first, its messages framed the same way.
 *
 * The driver owns the byte stream and the clock:
 *   - bytes that arrive: fl_ss_recv (consumes input until it has produced one
 *     event, so each event's bytes stay valid until the next call), then
 *     fl_ss_poll_event until it returns 0;
 *   - bytes to send: fl_ss_tx_peek gives a pointer into the stream's output
 *     buffer, fl_ss_tx_consume says how many were written; fl_ss_tx_end_due
 *     says when to half-close the raw stream (after end() and all output);
 *   - the raw stream ending or failing: fl_ss_recv_end, fl_ss_recv_error;
 *   - time: fl_ss_next_deadline / fl_ss_handle_timeout(now_us).
 * Application calls: fl_ss_push (one message = one frame), fl_ss_end
 * (half-close), fl_ss_destroy.
 *
 * Errors: FL_ERR_INVALID for misuse, FL_ERR_STATE when the stream is not in
 * a state that allows the call, FL_ERR_LIMIT when a bounded buffer is full.
 * Bad bytes from the peer fail the session: the call returns FL_ERR_DECODE
 * (framing), FL_ERR_PROTOCOL (wrong header id) or FL_ERR_CRYPTO (forged
 * frame, failed handshake), an FL_SS_EV_ERROR event carries the same code
 * and a reason, and every later call returns FL_ERR_CLOSED.
 */
#ifndef FLOCK_SECRETSTREAM_H
#define FLOCK_SECRETSTREAM_H

#include <stdbool.h>
#include "flock/common.h"
#include "flock/crypto.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FL_SS_PREFIX_BYTES 3
#define FL_SS_ID_BYTES 32
#define FL_SS_IDHEADER_BYTES 56          /* id + secretstream header */
/* MAX_ATOMIC_WRITE of the reference: the largest body a uint24 can announce. */
#define FL_SS_FRAME_BODY_MAX 16777215u
/* ...so the largest message is the body limit minus the secretstream overhead. */
#define FL_SS_MESSAGE_MAX (FL_SS_FRAME_BODY_MAX - FL_SSTREAM_ABYTES)
#define FL_SS_HASH_BYTES 64              /* Noise handshake hash (BLAKE2b-512) */
#define FL_SS_BOX_OVERHEAD 24            /* unordered message: counter(8) + MAC(16) */

/* Output buffer limit (default). A push is refused with FL_ERR_LIMIT when its
 * frame would take the unsent output past this; a single frame of any legal
 * size is always accepted into an empty buffer, so the limit is a back-pressure
 * point, not a cap on message size. 4 MiB keeps a stalled peer from holding
 * more than a few large messages of ours in memory. */
#define FL_SS_TX_BYTES_MAX (4u * 1024u * 1024u)
/* Receive frame limit (default = what the 3-byte length allows). A node short
 * of memory may lower it; a larger announced frame then fails the session
 * with FL_ERR_LIMIT before a byte of it is buffered. */
#define FL_SS_RX_FRAME_MAX FL_SS_FRAME_BODY_MAX
/* Events waiting to be polled. fl_ss_recv stops after each data event, so at
 * most a data event plus open/end/close/error bookkeeping can queue up. */
#define FL_SS_EVENT_MAX 8

typedef struct fl_ss fl_ss;

typedef struct fl_ss_config {
  bool is_initiator;
  uint32_t keepalive_ms;       /* 0 = off; > 0 also filters empty messages */
  uint32_t timeout_ms;         /* 0 = off; destroy if no raw bytes arrive for this long */
  bool filter_empty;           /* drop received empty messages even without keep-alive */
  size_t rx_frame_max;         /* 0 = FL_SS_RX_FRAME_MAX */
  size_t tx_bytes_max;         /* 0 = FL_SS_TX_BYTES_MAX */
  const fl_mem *mem;           /* NULL = default */
} fl_ss_config;

/* The handshake result secret-stream starts from (hyperdht's IK, or our XX). */
typedef struct fl_ss_handshake {
  uint8_t tx[FL_SSTREAM_KEY_BYTES];
  uint8_t rx[FL_SSTREAM_KEY_BYTES];
  uint8_t hash[FL_SS_HASH_BYTES];
  uint8_t public_key[FL_PUBLIC_KEY_BYTES];
  uint8_t remote_public_key[FL_PUBLIC_KEY_BYTES];
} fl_ss_handshake;

enum {
  FL_SS_EV_HANDSHAKE = 1, /* keys set up, our header frame queued (XX: handshake done) */
  FL_SS_EV_OPEN,          /* the remote header arrived and checked out (the reference's
                             'connect' comes earlier, at HANDSHAKE, when keys are given) */
  FL_SS_EV_DATA,          /* one message: data/len, valid until the next call */
  FL_SS_EV_END,           /* the remote half-closed after all its data */
  FL_SS_EV_CLOSE,         /* both sides ended: the stream is finished cleanly */
  FL_SS_EV_ERROR          /* the session failed: error + reason; nothing more follows */
};

typedef struct fl_ss_event {
  int type;
  int error;              /* FL_SS_EV_ERROR: the FL_ERR_* code */
  const char *reason;     /* FL_SS_EV_ERROR: static text (the reference's message where it has one) */
  const uint8_t *data;    /* FL_SS_EV_DATA */
  size_t len;
} fl_ss_event;

typedef struct fl_ss_stats {
  uint64_t frames_sent, frames_received;
  uint64_t keepalives_sent, keepalives_received;
  uint64_t raw_bytes_written;   /* as the reference: data frames incl. prefix, header excluded */
  uint64_t raw_bytes_read;      /* as the reference: data-frame bodies */
  uint64_t tx_bytes, tx_bytes_high;     /* unsent output now, and its high-water mark */
  uint64_t tx_refused;                  /* pushes refused with FL_ERR_LIMIT */
  uint64_t rx_buffered, rx_buffered_high; /* partial frame bytes held */
  uint64_t events, events_high, events_dropped;
  uint64_t decode_errors;       /* bad frames/headers/handshake messages seen */
  uint64_t box_sent, box_received, box_dropped; /* unordered messages */
} fl_ss_stats;

/* Allocate a stream. 0, FL_ERR_INVALID (bad config), FL_ERR_NOMEM. */
FL_API FL_MUST_CHECK int fl_ss_new(fl_ss **out, const fl_ss_config *cfg);
/* Free it (wipes keys). NULL is fine. */
FL_API void fl_ss_free(fl_ss *ss);

/* Start with a handshake result (hyperdht): the header frame is queued at
 * once. The DRBG supplies the 24-byte secretstream header and the unordered-
 * message counter; it is used only during this call. 0, FL_ERR_INVALID,
 * FL_ERR_STATE (already started), FL_ERR_NOMEM. */
FL_API FL_MUST_CHECK int fl_ss_start(fl_ss *ss, uint64_t now_us, const fl_ss_handshake *hs,
                                     fl_drbg *drbg);

/* Start standalone: run Noise XX (Ed25519) with this static key pair first,
 * as the reference does without a `handshake` option. The initiator's first
 * message is queued at once. FL_ERR_UNSUPPORTED when built without noise. */
FL_API FL_MUST_CHECK int fl_ss_start_xx(fl_ss *ss, uint64_t now_us,
                                        const uint8_t public_key[FL_PUBLIC_KEY_BYTES],
                                        const uint8_t secret_key[FL_SECRET_KEY_BYTES],
                                        fl_drbg *drbg);

/* Feed raw bytes. Consumes until one event is produced or the input is used
 * up; returns the number of bytes consumed (>= 0; call again with the rest
 * after polling events). A failure of the session returns its error code
 * (see the top comment). FL_ERR_STATE before start, after the raw stream
 * ended, or while a DATA event is still unpolled (its bytes would be
 * overwritten); FL_ERR_CLOSED after a failure or destroy. A frame straddling
 * calls is gathered in a buffer that grows with the bytes that arrive (never
 * past the announced length, itself capped by rx_frame_max). */
FL_API int fl_ss_recv(fl_ss *ss, uint64_t now_us, const uint8_t *data, size_t len);
/* The raw stream ended (EOF). At a frame boundary after the remote header:
 * FL_SS_EV_END (and FL_SS_EV_CLOSE if we ended too), returns 0. Inside a
 * frame or before the remote header: the session fails with FL_ERR_DECODE. */
FL_API int fl_ss_recv_end(fl_ss *ss, uint64_t now_us);
/* The raw stream failed (reset, timeout): the session fails with `error`
 * (a negative FL_ERR_*, e.g. FL_ERR_CLOSED for a reset). */
FL_API void fl_ss_recv_error(fl_ss *ss, int error, const char *reason);

/* Next event: 1 and *ev filled, or 0 when none. */
FL_API int fl_ss_poll_event(fl_ss *ss, fl_ss_event *ev);

/* Encrypt one message into one frame in the output buffer. len may be 0 (a
 * keep-alive). 0; FL_ERR_RANGE if len > FL_SS_MESSAGE_MAX (the stream is
 * destroyed, as the reference does); FL_ERR_LIMIT if the output buffer is
 * full (nothing changes; send some and retry); FL_ERR_NOMEM (nothing
 * changes); FL_ERR_STATE before the keys exist (standalone XX still running;
 * the reference would queue the write) or after end(); FL_ERR_CLOSED once
 * failed/destroyed. */
FL_API FL_MUST_CHECK int fl_ss_push(fl_ss *ss, uint64_t now_us, const uint8_t *msg, size_t len);
/* Bytes a push of len would add to the output (3 + 17 + len). */
FL_API size_t fl_ss_frame_bytes(size_t len);

/* Unsent output: *p points at it (valid until the next call), returns its length. */
FL_API size_t fl_ss_tx_peek(fl_ss *ss, const uint8_t **p);
/* n bytes of it were written. FL_ERR_INVALID if n is more than pending. */
FL_API FL_MUST_CHECK int fl_ss_tx_consume(fl_ss *ss, size_t n);
/* 1 once end() was called and all output is consumed: half-close the raw stream now. */
FL_API int fl_ss_tx_end_due(const fl_ss *ss);

/* Half-close: no more pushes; keep-alives stop. 0, FL_ERR_STATE if already ended. */
FL_API FL_MUST_CHECK int fl_ss_end(fl_ss *ss);
/* Tear down now; pending output is dropped. The driver resets the raw stream. */
FL_API void fl_ss_destroy(fl_ss *ss);

/* Earliest time fl_ss_handle_timeout wants to run, or FL_TIME_NONE. */
FL_API uint64_t fl_ss_next_deadline(const fl_ss *ss);
/* Run due timers: keep-alives are queued as frames, the receive timeout
 * fails the session with FL_ERR_TIMEOUT. A call before the deadline does
 * nothing. Returns 0, or the error that failed the session. */
FL_API int fl_ss_handle_timeout(fl_ss *ss, uint64_t now_us);
/* Change keep-alive (0 = off) as setKeepAlive does: restarts the timer at now. */
FL_API FL_MUST_CHECK int fl_ss_set_keepalive(fl_ss *ss, uint64_t now_us, uint32_t ms);

/* Unordered messages (the reference's send/trySend): secretbox with the
 * NS_SEND-derived key, nonce = 8-byte little-endian counter + 16 zero bytes.
 * box writes counter || MAC || ciphertext (len + 24 bytes) into out and
 * returns its length; FL_ERR_BUFFER, FL_ERR_STATE before keys exist,
 * FL_ERR_LIMIT when the counter wrapped (the stream is destroyed). */
FL_API int fl_ss_box(fl_ss *ss, uint8_t *out, size_t cap, const uint8_t *msg, size_t len);
/* open returns the plaintext length, or FL_ERR_DECODE (shorter than 24),
 * FL_ERR_CRYPTO (forged), FL_ERR_STATE (no keys yet); a failure is counted as
 * dropped and changes nothing else (the reference ignores such datagrams). */
FL_API int fl_ss_unbox(fl_ss *ss, uint8_t *out, size_t cap, const uint8_t *in, size_t len);

/* The stream ids of a handshake hash: id(hash, initiator) and responder. */
FL_API FL_MUST_CHECK int fl_ss_stream_id(uint8_t out[FL_SS_ID_BYTES],
                                         const uint8_t hash[FL_SS_HASH_BYTES], bool initiator);

/* Fields the reference exposes. NULL until known. */
FL_API const uint8_t *fl_ss_handshake_hash(const fl_ss *ss);
FL_API const uint8_t *fl_ss_remote_public_key(const fl_ss *ss);
FL_API const uint8_t *fl_ss_public_key(const fl_ss *ss);
FL_API int fl_ss_is_open(const fl_ss *ss);      /* 1 after FL_SS_EV_OPEN */
FL_API int fl_ss_is_failed(const fl_ss *ss);    /* 1 after an error or destroy */
FL_API void fl_ss_get_stats(const fl_ss *ss, fl_ss_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* FLOCK_SECRETSTREAM_H */
