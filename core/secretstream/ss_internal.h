/*
 * secretstream/ss_internal.h — the fl_ss state shared by the files of the
 * secretstream layer (framing and data in ss.c, unordered messages in
 * ss_box.c, the standalone XX handshake in ss_xx.c). Tests include it to
 * reach the limits that the public API cannot hit on its own.
 */
#ifndef FL_SECRETSTREAM_SS_INTERNAL_H
#define FL_SECRETSTREAM_SS_INTERNAL_H

#include "flock/noise.h"
#include "flock/secretstream.h"

/* A Noise XX message is at most 96 + payload bytes; the reference sends no
 * payload, and Noise caps a message at 65535. Anything bigger announced while
 * handshaking is rejected before buffering. */
#define FL_SS_HANDSHAKE_FRAME_MAX 65535u

enum {
  SS_PHASE_NEW = 0,   /* not started */
  SS_PHASE_NOISE,     /* standalone XX in progress */
  SS_PHASE_HEADER,    /* keys set, waiting for the remote header frame */
  SS_PHASE_DATA,      /* remote header accepted: data frames */
  SS_PHASE_FAILED     /* failed or destroyed: everything returns FL_ERR_CLOSED */
};

struct fl_ss {
  fl_ss_config cfg;
  const fl_mem *mem;
  int phase;
  bool keys;             /* push state and box keys exist */
  bool local_ended, remote_ended, closed;
  bool keepalive_owed;   /* keep-alive fell due before the keys existed */
  int error;
  uint64_t last_now;

  fl_sstream push, pull;
  uint8_t header[FL_SSTREAM_HEADER_BYTES]; /* drawn at start, used at setup */
  uint8_t rx_key[FL_SSTREAM_KEY_BYTES];      /* until the remote header arrives */
  uint8_t hash[FL_SS_HASH_BYTES];
  uint8_t pk[FL_PUBLIC_KEY_BYTES], rpk[FL_PUBLIC_KEY_BYTES];
  bool have_pk, have_rpk, have_hash;

  /* unordered messages */
  uint8_t box_tx[FL_SECRETBOX_KEY_BYTES], box_rx[FL_SECRETBOX_KEY_BYTES];
  uint8_t box_ctr[8], box_ctr0[8];

  /* receive framing: prefix bytes, then the body */
  uint8_t prefix[FL_SS_PREFIX_BYTES];
  unsigned prefix_got;
  bool in_body;
  size_t body_len, body_got;
  uint8_t *rbuf;         /* partial frames, and decrypted plaintext */
  size_t rbuf_cap;

  /* output: bytes [thead, ttail) of tbuf are unsent */
  uint8_t *tbuf;
  size_t tcap, thead, ttail;

  fl_ss_event ev[FL_SS_EVENT_MAX];
  unsigned ev_head, ev_count;
  bool data_unpolled;
  uint64_t emitted;      /* events ever queued: fl_ss_recv stops when it moves */
  bool filter_empty;     /* drop received empty messages (keep-alives) */

  uint64_t ka_deadline, to_deadline;
  uint32_t keepalive_ms;

  fl_noise *xx;          /* standalone XX in progress */
  fl_ss_stats st;
};

/* Queue an event; counted as dropped when the queue is full. */
void ss_emit(fl_ss *ss, int type, int error, const char *reason, const uint8_t *data,
             size_t len);
/* Fail the session: error event, output dropped, keys wiped. Returns code. */
int ss_fail(fl_ss *ss, int code, const char *reason);
/* Reserve n contiguous output bytes (limit applies unless force); NULL on
 * FL_ERR_LIMIT / FL_ERR_NOMEM, with *rc set. */
uint8_t *ss_tx_reserve(fl_ss *ss, size_t n, bool force, int *rc);
void ss_tx_commit(fl_ss *ss, size_t n);
/* Set up the secret stream from handshake keys: header frame queued. */
int ss_setup(fl_ss *ss, uint64_t now_us, const fl_ss_handshake *hs);
/* Derive the unordered-message keys from the hash (ss_box.c). */
int ss_box_setup(fl_ss *ss);

/* Standalone XX (ss_xx.c). */
int ss_xx_start(fl_ss *ss, uint64_t now_us, const uint8_t pk[FL_PUBLIC_KEY_BYTES],
                const uint8_t sk[FL_SECRET_KEY_BYTES], fl_drbg *drbg);
int ss_xx_recv(fl_ss *ss, uint64_t now_us, const uint8_t *msg, size_t len);
void ss_xx_free(fl_ss *ss);

static inline void ss_put_u24(uint8_t *p, size_t v) {
  p[0] = (uint8_t)(v & 0xff);
  p[1] = (uint8_t)((v >> 8) & 0xff);
  p[2] = (uint8_t)((v >> 16) & 0xff);
}

#endif
