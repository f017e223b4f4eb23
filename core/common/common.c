/* Error names, the version, addresses and the allocation hook. */
#include "flock/common.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#ifndef FL_VERSION_STRING
#error "FL_VERSION_STRING must come from the build (CMake's project version)"
#endif

struct fl_err_name {
  int code;
  const char *name;
  const char *desc;
};

static const struct fl_err_name fl_err_names[] = {
    {FL_OK, "FL_OK", "success"},
    {FL_ERR_INVALID, "FL_ERR_INVALID", "invalid argument or misuse of the API"},
    {FL_ERR_DECODE, "FL_ERR_DECODE", "malformed, truncated or over-long input"},
    {FL_ERR_NOMEM, "FL_ERR_NOMEM", "out of memory"},
    {FL_ERR_BUFFER, "FL_ERR_BUFFER", "output buffer too small"},
    {FL_ERR_CRYPTO, "FL_ERR_CRYPTO", "authentication or signature check failed"},
    {FL_ERR_RANGE, "FL_ERR_RANGE", "value out of the encodable range"},
    {FL_ERR_LIMIT, "FL_ERR_LIMIT", "a bounded table, queue or cache is full"},
    {FL_ERR_STATE, "FL_ERR_STATE", "call not allowed in the current state"},
    {FL_ERR_TIMEOUT, "FL_ERR_TIMEOUT", "timed out"},
    {FL_ERR_CLOSED, "FL_ERR_CLOSED", "closed or destroyed"},
    {FL_ERR_NOT_FOUND, "FL_ERR_NOT_FOUND", "not found"},
    {FL_ERR_PROTOCOL, "FL_ERR_PROTOCOL", "protocol violation"},
    {FL_ERR_UNSUPPORTED, "FL_ERR_UNSUPPORTED", "not supported"},
    {FL_ERR_REMOTE, "FL_ERR_REMOTE", "the remote side answered with an error"},
};

_Static_assert(sizeof fl_err_names / sizeof fl_err_names[0] == (size_t)(1 - FL_ERR_MIN),
               "every error code needs a name");

static const struct fl_err_name *fl_err_lookup(int code) {
  if (code > 0 || code < FL_ERR_MIN) return NULL;
  const struct fl_err_name *e = &fl_err_names[-code];
  assert(e->code == code);
  return e;
}

const char *fl_strerror(int code) {
  const struct fl_err_name *e = fl_err_lookup(code);
  return e ? e->name : "FL_ERR_UNKNOWN";
}

const char *fl_strerror_desc(int code) {
  const struct fl_err_name *e = fl_err_lookup(code);
  return e ? e->desc : "unknown error code";
}

const char *fl_version(void) { return FL_VERSION_STRING; }

uint32_t fl_version_number(void) {
  /* Parse our own string so the two can never disagree. */
  uint32_t parts[3] = {0, 0, 0};
  unsigned i = 0;
  for (const char *p = FL_VERSION_STRING; *p && i < 3; p++) {
    if (*p == '.') i++;
    else parts[i] = parts[i] * 10 + (uint32_t)(*p - '0');
  }
  return parts[0] * 10000 + parts[1] * 100 + parts[2];
}

/* ---- Addresses ---- */

fl_addr fl_addr_ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  fl_addr r;
  memset(&r, 0, sizeof r);
  r.family = FL_ADDR_IPV4;
  r.ip[0] = a;
  r.ip[1] = b;
  r.ip[2] = c;
  r.ip[3] = d;
  r.port = port;
  return r;
}

int fl_addr_equal(const fl_addr *a, const fl_addr *b) {
  if (a->family != b->family || a->port != b->port) return 0;
  size_t n = a->family == FL_ADDR_IPV6 ? 16 : 4;
  return memcmp(a->ip, b->ip, n) == 0;
}

/* Parse a decimal number of at most max; advances *pp. */
static int parse_dec(const char **pp, uint32_t max, uint32_t *out) {
  const char *p = *pp;
  uint32_t v = 0;
  int digits = 0;
  while (*p >= '0' && *p <= '9') {
    v = v * 10 + (uint32_t)(*p - '0');
    if (v > max || ++digits > 5) return FL_ERR_INVALID;
    p++;
  }
  if (digits == 0) return FL_ERR_INVALID;
  *pp = p;
  *out = v;
  return 0;
}

int fl_addr_parse(fl_addr *out, const char *text) {
  if (out == NULL || text == NULL) return FL_ERR_INVALID;
  fl_addr r;
  memset(&r, 0, sizeof r);
  r.family = FL_ADDR_IPV4;
  const char *p = text;
  for (int i = 0; i < 4; i++) {
    uint32_t octet;
    if (parse_dec(&p, 255, &octet) < 0) return FL_ERR_INVALID;
    r.ip[i] = (uint8_t)octet;
    if (*p++ != (i < 3 ? '.' : ':')) return FL_ERR_INVALID;
  }
  uint32_t port;
  if (parse_dec(&p, 65535, &port) < 0 || *p != '\0') return FL_ERR_INVALID;
  r.port = (uint16_t)port;
  *out = r;
  return 0;
}

/* Append s to out; returns FL_ERR_BUFFER if it does not fit with a NUL. */
static int put_str(char *out, size_t cap, size_t *len, const char *s) {
  size_t n = strlen(s);
  if (*len + n + 1 > cap) return FL_ERR_BUFFER;
  memcpy(out + *len, s, n + 1);
  *len += n;
  return 0;
}

static int put_uint(char *out, size_t cap, size_t *len, uint32_t v, int base) {
  char tmp[12];
  size_t i = sizeof tmp;
  tmp[--i] = '\0';
  do {
    tmp[--i] = "0123456789abcdef"[v % (uint32_t)base];
    v /= (uint32_t)base;
  } while (v && i > 0);
  return put_str(out, cap, len, tmp + i);
}

int fl_addr_format(const fl_addr *a, char *out, size_t cap) {
  if (a == NULL || out == NULL || cap == 0) return FL_ERR_INVALID;
  size_t len = 0;
  int rc = 0;
  out[0] = '\0';
  if (a->family == FL_ADDR_IPV4) {
    for (int i = 0; i < 4 && rc == 0; i++) {
      rc = put_uint(out, cap, &len, a->ip[i], 10);
      if (rc == 0) rc = put_str(out, cap, &len, i < 3 ? "." : ":");
    }
  } else if (a->family == FL_ADDR_IPV6) {
    /* The reference's textual form: eight groups, no zero compression. */
    rc = put_str(out, cap, &len, "[");
    for (int i = 0; i < 8 && rc == 0; i++) {
      rc = put_uint(out, cap, &len, (uint32_t)a->ip[2 * i] << 8 | a->ip[2 * i + 1], 16);
      if (rc == 0) rc = put_str(out, cap, &len, i < 7 ? ":" : "]:");
    }
  } else {
    return FL_ERR_INVALID;
  }
  if (rc == 0) rc = put_uint(out, cap, &len, a->port, 10);
  if (rc < 0) {
    out[0] = '\0';
    return rc;
  }
  return (int)len;
}

/* ---- Memory ---- */

static void *default_alloc(void *user, size_t size) {
  (void)user;
  return malloc(size);
}

static void default_free(void *user, void *ptr, size_t size) {
  (void)user;
  (void)size;
  free(ptr);
}

static const fl_mem fl_mem_libc = {NULL, default_alloc, default_free};

const fl_mem *fl_mem_default(void) { return &fl_mem_libc; }

static void *counter_alloc(void *user, size_t size) {
  fl_mem_counter *c = user;
  c->attempts++;
  if (c->fail_at != 0 && c->attempts >= c->fail_at) {
    c->failures++;
    return NULL;
  }
  void *p = malloc(size);
  if (p == NULL) {
    c->failures++;
    return NULL;
  }
  c->allocs++;
  c->bytes_in_use += size;
  if (c->bytes_in_use > c->bytes_peak) c->bytes_peak = c->bytes_in_use;
  return p;
}

static void counter_free(void *user, void *ptr, size_t size) {
  fl_mem_counter *c = user;
  if (ptr == NULL) return;
  assert(c->bytes_in_use >= size);
  c->frees++;
  c->bytes_in_use -= size;
  free(ptr);
}

void fl_mem_counter_init(fl_mem_counter *c, uint64_t fail_at) {
  memset(c, 0, sizeof *c);
  c->mem.user = c;
  c->mem.alloc = counter_alloc;
  c->mem.free = counter_free;
  c->fail_at = fail_at;
}

void *fl_mem_alloc(const fl_mem *m, size_t size) {
  if (m == NULL) m = &fl_mem_libc;
  if (size == 0) size = 1;
  return m->alloc(m->user, size);
}

void *fl_mem_calloc(const fl_mem *m, size_t n, size_t size) {
  if (size != 0 && n > SIZE_MAX / size) return NULL;
  size_t total = n * size;
  void *p = fl_mem_alloc(m, total);
  if (p != NULL && total > 0) memset(p, 0, total);
  return p;
}

void fl_mem_free(const fl_mem *m, void *ptr, size_t size) {
  if (ptr == NULL) return;
  if (m == NULL) m = &fl_mem_libc;
  if (size == 0) size = 1; /* as fl_mem_alloc rounded it */
  m->free(m->user, ptr, size);
}
