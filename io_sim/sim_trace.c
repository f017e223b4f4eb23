/*
 * Replaying one node from its recorded inputs. The engine's verbosity-3 log
 * holds, for the traced host, every input in order (creation with its seed,
 * datagrams in, timer firings, socket answers, API calls) and every datagram
 * out. Feeding the inputs to a fresh node must reproduce the outputs byte
 * for byte: the sans-IO contract says a node is a function of its inputs.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

typedef struct trace_out {
  uint32_t sock;
  fl_addr to;
  size_t len;
  uint8_t data[FL_DGRAM_BYTES_MAX];
} trace_out;

/* Produced outputs not yet matched against recorded ones. */
#define TRACE_PENDING_MAX 4096u

typedef struct replay {
  fl_sim *sim;
  const fl_sim_node_ops *ops;
  void *node;
  trace_out *pending;
  uint32_t head, len;
  int64_t matched;
} replay;

static int drain(replay *r) {
  fl_dgram d;
  fl_event ev;
  for (uint32_t round = 0; round < FL_SIM_DRAIN_ROUNDS_MAX; round++) {
    int busy = 0;
    while (r->ops->poll_transmit(r->node, &d, r->sim->buf, sizeof r->sim->buf) == 1) {
      if (r->len == TRACE_PENDING_MAX) return FL_ERR_LIMIT;
      trace_out *o = &r->pending[(r->head + r->len++) % TRACE_PENDING_MAX];
      o->sock = d.sock;
      o->to = d.to;
      o->len = d.len;
      memcpy(o->data, r->sim->buf, d.len);
      busy = 1;
    }
    while (r->ops->poll_event(r->node, &ev) == 1) busy = 1;
    if (!busy) break;
  }
  return 0;
}

static int parse_addr(const unsigned char *text, fl_addr *out) {
  if (text == NULL) return FL_ERR_INVALID;
  return fl_addr_parse(out, (const char *)text);
}

static int expect_out(replay *r, uint32_t sock, const fl_addr *to, const void *data, size_t len) {
  if (r->len == 0) return FL_ERR_PROTOCOL;
  trace_out *o = &r->pending[r->head];
  r->head = (r->head + 1) % TRACE_PENDING_MAX;
  r->len--;
  if (o->sock != sock || !fl_addr_equal(&o->to, to) || o->len != len ||
      (len && memcmp(o->data, data, len) != 0))
    return FL_ERR_PROTOCOL;
  r->matched++;
  return 0;
}

static int step(replay *r, sqlite3_stmt *st, int host) {
  uint64_t t = (uint64_t)sqlite3_column_int64(st, 0);
  const char *dir = (const char *)sqlite3_column_text(st, 1);
  uint32_t sock = (uint32_t)sqlite3_column_int64(st, 2);
  fl_addr a;
  int have_addr = parse_addr(sqlite3_column_text(st, 3), &a) == 0;
  const uint8_t *data = sqlite3_column_blob(st, 4);
  size_t len = (size_t)sqlite3_column_bytes(st, 4);
  if (strcmp(dir, "create") == 0) {
    if (r->node || sock >= FL_SIM_KINDS || len < 39 || (len - 33) % 6 != 0) return FL_ERR_PROTOCOL;
    fl_sim_node_init in;
    memset(&in, 0, sizeof in);
    memcpy(in.seed, data, 32);
    in.bootstrapper = data[32] & 1;
    in.public_host = (data[32] >> 1) & 1;
    in.mode = data[32] >> 2;
    for (size_t off = 33, i = 0; off + 6 <= len && i <= FL_SIM_BOOT_MAX; off += 6, i++) {
      fl_addr a6 = fl_addr_ipv4(data[off], data[off + 1], data[off + 2], data[off + 3],
                                (uint16_t)(data[off + 4] << 8 | data[off + 5]));
      if (i == 0) in.self = a6;
      else in.boot[in.nboot++] = a6;
    }
    r->ops = r->sim->ops[sock];
    r->node = r->ops->create(r->sim, host, &in, t);
    return r->node ? 0 : FL_ERR_NOMEM;
  }
  if (r->node == NULL) return FL_ERR_PROTOCOL;
  if (strcmp(dir, "out") == 0)
    return have_addr ? expect_out(r, sock, &a, data, len) : FL_ERR_PROTOCOL;
  int rc = 0;
  if (strcmp(dir, "in") == 0 && have_addr) {
    rc = r->ops->handle_datagram(r->node, t, sock, &a, data, len);
  } else if (strcmp(dir, "timeout") == 0) {
    rc = r->ops->handle_timeout(r->node, t);
  } else if (strcmp(dir, "opened") == 0 && have_addr) {
    rc = r->ops->socket_opened(r->node, t, sock, &a);
  } else if (strcmp(dir, "failed") == 0) {
    rc = r->ops->socket_failed(r->node, t, sock, len && data[0] == 'S' ? FL_ERR_STATE : FL_ERR_LIMIT);
  } else if (strcmp(dir, "close") == 0 && r->ops->close) {
    rc = r->ops->close(r->node, t);
  } else if (strcmp(dir, "send") == 0 && have_addr) {
    rc = sim_raw_queue(r->node, &a, data, len);
  } else if (strcmp(dir, "records") == 0 && r->ops == &sim_hyperdht_ops) {
    rc = sim_records_replay(r->node, t, sock, data, len);
  } else if (strcmp(dir, "lookup") == 0 && r->ops->lookup && len == 32) {
    uint64_t qid;
    rc = r->ops->lookup(r->node, t, data, &qid);
  } else {
    return FL_ERR_PROTOCOL;
  }
  (void)rc; /* a refused input was refused in the run too; outputs decide */
  return drain(r);
}

int64_t fl_sim_trace_verify(const char *db_path, int host) {
  if (db_path == NULL || host < 0) return FL_ERR_INVALID;
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  replay r = {0};
  int64_t result = FL_ERR_NOT_FOUND;
  r.sim = fl_sim_new(0); /* only for its ops table and scratch buffer */
  r.pending = malloc(TRACE_PENDING_MAX * sizeof *r.pending);
  if (r.sim == NULL || r.pending == NULL) {
    result = FL_ERR_NOMEM;
    goto done;
  }
  if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT t_us, dir, sock, addr, data FROM io WHERE node = ?"
                             " ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
    goto done;
  sqlite3_bind_int(st, 1, host);
  int rows = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    rows++;
    int rc = step(&r, st, host);
    if (rc < 0) {
      result = rc;
      goto done;
    }
  }
  /* Anything produced but never recorded is a difference too. */
  result = rows == 0 ? FL_ERR_NOT_FOUND : (r.len ? FL_ERR_PROTOCOL : r.matched);
done:
  if (r.node) r.ops->destroy(r.node);
  sqlite3_finalize(st);
  sqlite3_close(db);
  free(r.pending);
  fl_sim_free(r.sim);
  return result;
}
