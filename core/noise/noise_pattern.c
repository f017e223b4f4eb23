/*
 * noise/noise_pattern.c — the 38 handshake patterns of the Noise spec
 * (rev 34, §7.4 one-way, §7.5 interactive, §18 deferred) that need no PSK.
 *
 * Each is written as in the spec, so the table can be checked against it by
 * eye: pre-messages "initiator|responder", then messages separated by ';'
 * (the first from the initiator, then alternating), tokens by ','.
 */
#include <assert.h>
#include <string.h>

#include "noise/noise_int.h"

typedef struct pattern_text {
  const char *name;
  const char *pre;   /* "<initiator pre>|<responder pre>" */
  const char *msgs;
} pattern_text;

static const pattern_text patterns[] = {
    /* One-way (§7.4). */
    {"N", "|s", "e,es"},
    {"K", "s|s", "e,es,ss"},
    {"X", "|s", "e,es,s,ss"},
    /* Fundamental interactive (§7.5). */
    {"NN", "|", "e;e,ee"},
    {"NK", "|s", "e,es;e,ee"},
    {"NX", "|", "e;e,ee,s,es"},
    {"XN", "|", "e;e,ee;s,se"},
    {"XK", "|s", "e,es;e,ee;s,se"},
    {"XX", "|", "e;e,ee,s,es;s,se"},
    {"KN", "s|", "e;e,ee,se"},
    {"KK", "s|s", "e,es,ss;e,ee,se"},
    {"KX", "s|", "e;e,ee,se,s,es"},
    {"IN", "|", "e,s;e,ee,se"},
    {"IK", "|s", "e,es,s,ss;e,ee,se"},
    {"IX", "|", "e,s;e,ee,se,s,es"},
    /* Deferred (§18.2). */
    {"NK1", "|s", "e;e,ee,es"},
    {"NX1", "|", "e;e,ee,s;es"},
    {"X1N", "|", "e;e,ee;s;se"},
    {"X1K", "|s", "e,es;e,ee;s;se"},
    {"XK1", "|s", "e;e,ee,es;s,se"},
    {"X1K1", "|s", "e;e,ee,es;s;se"},
    {"X1X", "|", "e;e,ee,s,es;s;se"},
    {"XX1", "|", "e;e,ee,s;es,s,se"},
    {"X1X1", "|", "e;e,ee,s;es,s;se"},
    {"K1N", "s|", "e;e,ee;se"},
    {"K1K", "s|s", "e,es;e,ee;se"},
    {"KK1", "s|s", "e;e,ee,se,es"},
    {"K1K1", "s|s", "e;e,ee,es;se"},
    {"K1X", "s|", "e;e,ee,s,es;se"},
    {"KX1", "s|", "e;e,ee,se,s;es"},
    {"K1X1", "s|", "e;e,ee,s;se,es"},
    {"I1N", "|", "e,s;e,ee;se"},
    {"I1K", "|s", "e,es,s;e,ee;se"},
    {"IK1", "|s", "e,s;e,ee,se,es"},
    {"I1K1", "|s", "e,s;e,ee,es;se"},
    {"I1X", "|", "e,s;e,ee,s,es;se"},
    {"IX1", "|", "e,s;e,ee,se,s;es"},
    {"I1X1", "|", "e,s;e,ee,s;se,es"},
};

_Static_assert(sizeof patterns / sizeof patterns[0] == 38, "38 non-PSK patterns");

size_t fl_noise_pattern_count(void) { return sizeof patterns / sizeof patterns[0]; }

const char *fl_noise_pattern_name(size_t i) {
  return i < fl_noise_pattern_count() ? patterns[i].name : NULL;
}

static int token_of(const char *t, size_t len) {
  static const struct { const char *s; int tok; } names[] = {
      {"e", FL_TOK_E},   {"s", FL_TOK_S},   {"ee", FL_TOK_EE},
      {"es", FL_TOK_ES}, {"se", FL_TOK_SE}, {"ss", FL_TOK_SS}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strlen(names[i].s) == len && memcmp(names[i].s, t, len) == 0) return names[i].tok;
  return -1;
}

/* Parse "tok,tok,..." up to a terminator in stops into out (END-terminated).
 * Returns the characters consumed, or -1. */
static int parse_tokens(const char *p, const char *stops, uint8_t *out, size_t max) {
  size_t n = 0;
  const char *q = p;
  while (*q != '\0' && strchr(stops, *q) == NULL) {
    const char *t = q;
    while (*q != '\0' && *q != ',' && strchr(stops, *q) == NULL) q++;
    int tok = token_of(t, (size_t)(q - t));
    if (tok < 0 || n >= max) return -1;
    out[n++] = (uint8_t)tok;
    if (*q == ',') q++;
  }
  out[n] = FL_TOK_END;
  return (int)(q - p);
}

static int parse(fl_noise_pattern *out, const pattern_text *pt) {
  memset(out, 0, sizeof *out);
  assert(strlen(pt->name) < sizeof out->name);
  memcpy(out->name, pt->name, strlen(pt->name));
  int used = parse_tokens(pt->pre, "|", out->pre_i, sizeof out->pre_i - 1);
  if (used < 0 || pt->pre[used] != '|') return FL_ERR_INVALID;
  if (parse_tokens(pt->pre + used + 1, "", out->pre_r, sizeof out->pre_r - 1) < 0)
    return FL_ERR_INVALID;
  const char *p = pt->msgs;
  for (;;) {
    if (out->n_msgs >= FL_NOISE_PATTERN_MSGS_MAX) return FL_ERR_INVALID;
    used = parse_tokens(p, ";", out->msgs[out->n_msgs], FL_NOISE_PATTERN_TOKENS_MAX);
    if (used <= 0) return FL_ERR_INVALID;
    out->n_msgs++;
    if (p[used] == '\0') break;
    p += used + 1;
  }
  out->one_way = out->n_msgs == 1;
  return 0;
}

int fl_noise_pattern_get(fl_noise_pattern *out, const char *name) {
  assert(out != NULL);
  if (name == NULL) return FL_ERR_INVALID;
  for (size_t i = 0; i < fl_noise_pattern_count(); i++) {
    if (strcmp(patterns[i].name, name) != 0) continue;
    int rc = parse(out, &patterns[i]);
    assert(rc == 0); /* the table is ours: a parse failure is our bug */
    return rc;
  }
  return FL_ERR_INVALID;
}

int fl_noise_pattern_supported(const char *pattern) {
  fl_noise_pattern p;
  return fl_noise_pattern_get(&p, pattern) == 0 ? 1 : 0;
}
