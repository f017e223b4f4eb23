/*
 * The SQLite recorder. Prepared statements, one open transaction committed
 * every FL_SIM_REC_BATCH rows and at the end of each fl_sim_run_until, and
 * journal_mode=OFF / synchronous=OFF: a log is rewritten from scratch by a
 * rerun, so crash safety buys nothing and costs most of the time.
 *
 * Nothing here feeds the fingerprint: the run is the same with or without it.
 * The schema is documented in README (io_sim section) and in SCHEMA below.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* Rows per transaction: large enough that commits cost little, small enough
 * that a killed run still leaves most of its log. */
#define FL_SIM_REC_BATCH 20000u

static const char SCHEMA[] =
    "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
    "DROP TABLE IF EXISTS meta; DROP TABLE IF EXISTS nodes; DROP TABLE IF EXISTS events;"
    "DROP TABLE IF EXISTS queries; DROP TABLE IF EXISTS metrics; DROP TABLE IF EXISTS datagrams;"
    "DROP TABLE IF EXISTS io; DROP TABLE IF EXISTS records; DROP TABLE IF EXISTS store;"
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE nodes(id INTEGER PRIMARY KEY, kind INTEGER, addr TEXT, public_ip TEXT,"
    " nat TEXT, nat_id INTEGER, region INTEGER, joined_us INTEGER, left_us INTEGER, leave TEXT);"
    "CREATE TABLE events(t_us INTEGER, node INTEGER, type TEXT, id INTEGER, code INTEGER,"
    " detail TEXT);"
    "CREATE TABLE queries(node INTEGER, id INTEGER, start_us INTEGER, end_us INTEGER,"
    " latency_us INTEGER, hops INTEGER, ok INTEGER);"
    "CREATE TABLE metrics(t_us INTEGER, live INTEGER, table_fill INTEGER, table_fill_avg REAL,"
    " mem_bytes INTEGER, inflight INTEGER, heap INTEGER, sent INTEGER, sent_bytes INTEGER,"
    " delivered INTEGER, dropped INTEGER, nat_mappings INTEGER);"
    "CREATE TABLE datagrams(t_us INTEGER, src INTEGER, dst INTEGER, from_addr TEXT,"
    " to_addr TEXT, len INTEGER, outcome TEXT);"
    "CREATE TABLE io(seq INTEGER PRIMARY KEY, node INTEGER, t_us INTEGER, dir TEXT,"
    " sock INTEGER, addr TEXT, data BLOB);"
    "CREATE TABLE records(kind TEXT, node INTEGER, item INTEGER, start_us INTEGER,"
    " end_us INTEGER, latency_us INTEGER, ok INTEGER, code INTEGER, hops INTEGER,"
    " acked INTEGER, expected INTEGER, found INTEGER, extra INTEGER, all_us INTEGER);"
    "CREATE TABLE store(t_us INTEGER, nodes INTEGER, records INTEGER, records_max INTEGER,"
    " \"values\" INTEGER, value_bytes INTEGER, mem_bytes INTEGER, mem_max INTEGER,"
    " announce_rounds INTEGER, replacements INTEGER);";

enum { ST_META, ST_NODE, ST_EVENT, ST_QUERY, ST_METRICS, ST_DGRAM, ST_IO, ST_RECORDS, ST_STORE,
       ST_BEGIN, ST_COMMIT, ST_N };

static const char *const SQL[ST_N] = {
    "INSERT OR REPLACE INTO meta VALUES(?,?)",
    "INSERT OR REPLACE INTO nodes VALUES(?,?,?,?,?,?,?,?,?,?)",
    "INSERT INTO events VALUES(?,?,?,?,?,?)",
    "INSERT INTO queries VALUES(?,?,?,?,?,?,?)",
    "INSERT INTO metrics VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
    "INSERT INTO datagrams VALUES(?,?,?,?,?,?,?)",
    "INSERT INTO io(node,t_us,dir,sock,addr,data) VALUES(?,?,?,?,?,?)",
    "INSERT INTO records VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    "INSERT INTO store VALUES(?,?,?,?,?,?,?,?,?,?)",
    "BEGIN",
    "COMMIT",
};

static const char *const OUTCOME[] = {"delivered", "loss",     "partition", "queue",
                                      "inflight",  "no_route", "no_socket", "host_down",
                                      "nat_filter", "nat_full", "hairpin",  "inbox"};
_Static_assert(sizeof OUTCOME / sizeof OUTCOME[0] == FL_SIM_DROP_REASONS + 1, "one name each");

typedef struct sim_rec {
  sqlite3 *db;
  sqlite3_stmt *st[ST_N];
  int level, in_tx;
  uint32_t trace_host;
  uint64_t rows, errors;
} sim_rec;

int sim_rec_level(const fl_sim *s) { return s->rec ? s->rec->level : -1; }

int sim_rec_traced(const fl_sim *s, uint32_t host) {
  return s->rec && s->rec->level >= 3 && s->rec->trace_host == host;
}

void sim_rec_free(fl_sim *s) {
  sim_rec *r = s->rec;
  if (r == NULL) return;
  SIM_IGNORE(fl_sim_record_flush(s));
  for (int i = 0; i < ST_N; i++) sqlite3_finalize(r->st[i]);
  sqlite3_close(r->db);
  free(r);
  s->rec = NULL;
}

int fl_sim_record_open(fl_sim *s, const char *path, int verbosity) {
  if (s == NULL || path == NULL || verbosity < 0 || verbosity > 3 || s->rec) return FL_ERR_INVALID;
  sim_rec *r = calloc(1, sizeof *r);
  if (r == NULL) return FL_ERR_NOMEM;
  r->level = verbosity;
  s->rec = r;
  if (sqlite3_open(path, &r->db) != SQLITE_OK ||
      sqlite3_exec(r->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK)
    goto fail;
  for (int i = 0; i < ST_N; i++)
    if (sqlite3_prepare_v2(r->db, SQL[i], -1, &r->st[i], NULL) != SQLITE_OK) goto fail;
  /* Hosts made before the log opened are written now. */
  for (uint32_t i = 0; i < s->nhosts; i++) sim_rec_host(s, i);
  return 0;
fail:
  sim_rec_free(s);
  return FL_ERR_INVALID;
}

static sqlite3_stmt *begin_row(fl_sim *s, int which) {
  sim_rec *r = s->rec;
  if (!r->in_tx) {
    sqlite3_step(r->st[ST_BEGIN]);
    sqlite3_reset(r->st[ST_BEGIN]);
    r->in_tx = 1;
  }
  return r->st[which];
}

static void end_row(fl_sim *s, sqlite3_stmt *st) {
  sim_rec *r = s->rec;
  if (sqlite3_step(st) != SQLITE_DONE) r->errors++;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (++r->rows % FL_SIM_REC_BATCH == 0) SIM_IGNORE(fl_sim_record_flush(s));
}

int fl_sim_record_flush(fl_sim *s) {
  if (s == NULL) return FL_ERR_INVALID;
  sim_rec *r = s->rec;
  if (r == NULL || !r->in_tx) return 0;
  int rc = sqlite3_step(r->st[ST_COMMIT]);
  sqlite3_reset(r->st[ST_COMMIT]);
  r->in_tx = 0;
  return rc == SQLITE_DONE ? 0 : FL_ERR_STATE;
}

int fl_sim_record_meta(fl_sim *s, const char *key, const char *value) {
  if (s == NULL || key == NULL || value == NULL) return FL_ERR_INVALID;
  if (s->rec == NULL) return FL_ERR_STATE;
  sqlite3_stmt *st = begin_row(s, ST_META);
  sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
  end_row(s, st);
  return 0;
}

int fl_sim_record_trace_host(fl_sim *s, int host) {
  if (s == NULL || host < 0) return FL_ERR_INVALID;
  if (s->rec == NULL) return FL_ERR_STATE;
  s->rec->trace_host = (uint32_t)host;
  return 0;
}

static const char *nat_name(const fl_sim *s, int nat, char *buf, size_t cap) {
  static const char *const B[] = {"EI", "AD", "APD"};
  static const char *const P[] = {"preserve", "sequential", "random"};
  if (nat < 0) return "public";
  const fl_sim_nat_config *c = &s->nats[nat].cfg;
  if (c->firewall) return "firewall";
  snprintf(buf, cap, "map=%s filter=%s ports=%s%s", B[c->mapping], B[c->filtering],
           P[c->ports], c->hairpin ? " hairpin" : "");
  return buf;
}

void sim_rec_host(fl_sim *s, uint32_t id) {
  if (s->rec == NULL) return;
  const sim_host *h = &s->hosts[id];
  char addr[48], pub[48], nat[96];
  fl_addr a = sim_addr(h->ip, h->port[0]), p;
  SIM_IGNORE(fl_sim_host_public_ip(s, (int)id, &p));
  fl_addr_format(&a, addr, sizeof addr);
  fl_addr_format(&p, pub, sizeof pub);
  sqlite3_stmt *st = begin_row(s, ST_NODE);
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_int(st, 2, h->kind);
  sqlite3_bind_text(st, 3, addr, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, pub, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 5, nat_name(s, h->nat, nat, sizeof nat), -1, SQLITE_TRANSIENT);
  if (h->nat >= 0) sqlite3_bind_int(st, 6, h->nat);
  sqlite3_bind_int(st, 7, (int)h->region);
  sqlite3_bind_int64(st, 8, (sqlite3_int64)h->joined_us);
  if (!h->live && h->node == NULL) {
    sqlite3_bind_int64(st, 9, (sqlite3_int64)h->left_us);
    sqlite3_bind_text(st, 10, h->crashed ? "crash" : "graceful", -1, SQLITE_STATIC);
  }
  end_row(s, st);
}

void sim_rec_event(fl_sim *s, const char *type, uint32_t host, uint64_t id, int64_t code,
                   const char *detail) {
  if (s->rec == NULL) return;
  /* Level 0 keeps queries in their own table; NAT and membership churn are 1+. */
  if (s->rec->level < 1 && strcmp(type, "node_error") != 0) return;
  sqlite3_stmt *st = begin_row(s, ST_EVENT);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)s->now_us);
  sqlite3_bind_int64(st, 2, host);
  sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, (sqlite3_int64)id);
  sqlite3_bind_int64(st, 5, code);
  if (detail) sqlite3_bind_text(st, 6, detail, -1, SQLITE_TRANSIENT);
  end_row(s, st);
}

void sim_rec_query(fl_sim *s, const sim_query *q) {
  if (s->rec == NULL) return;
  sqlite3_stmt *st = begin_row(s, ST_QUERY);
  sqlite3_bind_int64(st, 1, q->host);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)q->id);
  sqlite3_bind_int64(st, 3, (sqlite3_int64)q->start_us);
  sqlite3_bind_int64(st, 4, (sqlite3_int64)q->end_us);
  sqlite3_bind_int64(st, 5, (sqlite3_int64)(q->end_us - q->start_us));
  sqlite3_bind_int64(st, 6, q->hops);
  sqlite3_bind_int(st, 7, q->ok);
  end_row(s, st);
  if (s->rec->level >= 1) sim_rec_event(s, "query_end", q->host, q->id, q->ok, NULL);
}

void sim_rec_dgram(fl_sim *s, const sim_packet *p, uint32_t dst, int outcome) {
  if (s->rec == NULL || s->rec->level < 2) return;
  char from[48], to[48];
  fl_addr_format(&p->from, from, sizeof from);
  fl_addr_format(&p->to, to, sizeof to);
  sqlite3_stmt *st = begin_row(s, ST_DGRAM);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)s->now_us);
  sqlite3_bind_int64(st, 2, p->src_host);
  if (dst != SIM_OWNER_NONE) sqlite3_bind_int64(st, 3, dst);
  sqlite3_bind_text(st, 4, from, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 5, to, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 6, p->len);
  sqlite3_bind_text(st, 7, OUTCOME[outcome], -1, SQLITE_STATIC);
  end_row(s, st);
}

void sim_rec_io(fl_sim *s, uint32_t host, const char *dir, uint32_t sock, const fl_addr *addr,
                const uint8_t *data, size_t len) {
  if (!sim_rec_traced(s, host)) return;
  sqlite3_stmt *st = begin_row(s, ST_IO);
  sqlite3_bind_int64(st, 1, host);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)s->now_us);
  sqlite3_bind_text(st, 3, dir, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, sock);
  if (addr) {
    char a[48];
    fl_addr_format(addr, a, sizeof a);
    sqlite3_bind_text(st, 5, a, -1, SQLITE_TRANSIENT);
  }
  if (data) sqlite3_bind_blob(st, 6, data, (int)len, SQLITE_TRANSIENT);
  end_row(s, st);
}

void sim_rec_metrics(fl_sim *s, uint64_t live, uint64_t fill, uint64_t mem) {
  if (s->rec == NULL) return;
  uint64_t dropped = 0;
  for (int i = 0; i < FL_SIM_DROP_REASONS; i++) dropped += s->st.dropped[i];
  sqlite3_stmt *st = begin_row(s, ST_METRICS);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)s->now_us);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)live);
  sqlite3_bind_int64(st, 3, (sqlite3_int64)fill);
  sqlite3_bind_double(st, 4, live ? (double)fill / (double)live : 0.0);
  sqlite3_bind_int64(st, 5, (sqlite3_int64)mem);
  sqlite3_bind_int64(st, 6, (sqlite3_int64)s->st.inflight);
  sqlite3_bind_int64(st, 7, (sqlite3_int64)s->heap.len);
  sqlite3_bind_int64(st, 8, (sqlite3_int64)s->st.sent);
  sqlite3_bind_int64(st, 9, (sqlite3_int64)s->st.sent_bytes);
  sqlite3_bind_int64(st, 10, (sqlite3_int64)s->st.delivered);
  sqlite3_bind_int64(st, 11, (sqlite3_int64)dropped);
  sqlite3_bind_int64(st, 12, (sqlite3_int64)s->st.nat_mappings);
  end_row(s, st);
}

static const char *const REC_KIND[FL_SIM_REC_KINDS] = {
    "announce", "lookup", "mutable_put", "mutable_get", "immutable_put", "immutable_get"};

void sim_rec_records_op(fl_sim *s, const fl_sim_records_op *o) {
  if (s->rec == NULL || o->kind < 0 || o->kind >= FL_SIM_REC_KINDS) return;
  sqlite3_stmt *st = begin_row(s, ST_RECORDS);
  sqlite3_bind_text(st, 1, REC_KIND[o->kind], -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, o->host);
  sqlite3_bind_int64(st, 3, o->item);
  sqlite3_bind_int64(st, 4, (sqlite3_int64)o->start_us);
  sqlite3_bind_int64(st, 5, (sqlite3_int64)o->end_us);
  sqlite3_bind_int64(st, 6, (sqlite3_int64)(o->end_us - o->start_us));
  sqlite3_bind_int(st, 7, o->ok);
  sqlite3_bind_int(st, 8, o->code);
  sqlite3_bind_int64(st, 9, o->hops);
  sqlite3_bind_int64(st, 10, o->acked);
  sqlite3_bind_int64(st, 11, o->expected);
  sqlite3_bind_int64(st, 12, o->found);
  sqlite3_bind_int64(st, 13, o->extra);
  if (o->all_us) sqlite3_bind_int64(st, 14, (sqlite3_int64)(o->all_us - o->start_us));
  end_row(s, st);
}

void sim_rec_store(fl_sim *s, const fl_sim_records_store *c) {
  if (s->rec == NULL) return;
  sqlite3_stmt *st = begin_row(s, ST_STORE);
  const uint64_t v[] = {s->now_us,   c->nodes,     c->records, c->records_max,
                        c->values,   c->value_bytes, c->mem_bytes, c->mem_max,
                        c->announce_rounds, c->replacements};
  for (int i = 0; i < 10; i++) sqlite3_bind_int64(st, i + 1, (sqlite3_int64)v[i]);
  end_row(s, st);
}
