/*
 * flock/common.h — what every layer of libflock shares: export and
 * must-check annotations, error codes, the version, time, addresses and the
 * counting allocation hook.
 *
 * Conventions (STYLE.md): functions return 0 on success, a negative FL_ERR_*
 * on failure, and a positive value only for counts or "got one". Byte ranges
 * are (const uint8_t *p, size_t len) pairs; nothing on the wire is
 * NUL-terminated. Input is borrowed only for the duration of a call.
 */
#ifndef FLOCK_COMMON_H
#define FLOCK_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define FL_API __attribute__((visibility("default")))
#define FL_MUST_CHECK __attribute__((warn_unused_result))
#else
#define FL_API
#define FL_MUST_CHECK
#endif

/* "No deadline": what next_deadline returns for an idle state machine. */
#define FL_TIME_NONE UINT64_MAX

/* Error codes. Every public function's comment lists the ones it returns. */
enum {
  FL_OK = 0,
  FL_ERR_INVALID = -1,     /* misuse of the API: bad argument, time going backwards */
  FL_ERR_DECODE = -2,      /* bytes from outside are malformed, truncated or over-long */
  FL_ERR_NOMEM = -3,       /* the allocation hook failed */
  FL_ERR_BUFFER = -4,      /* the caller's output buffer is too small */
  FL_ERR_CRYPTO = -5,      /* authentication, signature or key check failed */
  FL_ERR_RANGE = -6,       /* a value is outside what the format can carry */
  FL_ERR_LIMIT = -7,       /* a bounded table, queue or cache is full */
  FL_ERR_STATE = -8,       /* the object is not in a state that allows this call */
  FL_ERR_TIMEOUT = -9,     /* the peer did not answer in time */
  FL_ERR_CLOSED = -10,     /* the stream, socket or node is closed or destroyed */
  FL_ERR_NOT_FOUND = -11,  /* no such peer, record, stream or key */
  FL_ERR_PROTOCOL = -12,   /* well-formed bytes that break the protocol's rules */
  FL_ERR_UNSUPPORTED = -13,/* a feature or parameter this build does not support */
  FL_ERR_REMOTE = -14      /* the remote side answered with an error */
};
#define FL_ERR_MIN FL_ERR_REMOTE

/* The name of an error code ("FL_ERR_DECODE"), or "FL_ERR_UNKNOWN". Never NULL. */
FL_API const char *fl_strerror(int code);

/* A short human description of an error code. Never NULL. */
FL_API const char *fl_strerror_desc(int code);

/* The library version, "MAJOR.MINOR.PATCH". */
FL_API const char *fl_version(void);

/* The version as one number: MAJOR * 10000 + MINOR * 100 + PATCH. */
FL_API uint32_t fl_version_number(void);

/* ---- Addresses ------------------------------------------------------------ */

#define FL_ADDR_IPV4 4
#define FL_ADDR_IPV6 6

/* A UDP endpoint. ip holds 4 bytes for IPv4 (network order, the rest zero) or
 * 16 bytes for IPv6. The port is in host order. */
typedef struct fl_addr {
  uint8_t family;   /* FL_ADDR_IPV4 or FL_ADDR_IPV6 */
  uint8_t ip[16];
  uint16_t port;
} fl_addr;

/* Make an IPv4 fl_addr from four octets and a port. */
FL_API fl_addr fl_addr_ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port);

/* 1 if equal (family, ip and port), else 0. */
FL_API int fl_addr_equal(const fl_addr *a, const fl_addr *b);

/* Parse "a.b.c.d:port" (IPv4 only). Returns 0, or FL_ERR_INVALID on bad text. */
FL_API FL_MUST_CHECK int fl_addr_parse(fl_addr *out, const char *text);

/* Format as "a.b.c.d:port" or "[v6]:port" into out (NUL-terminated).
 * Returns the length written, or FL_ERR_BUFFER if cap is too small. */
FL_API int fl_addr_format(const fl_addr *a, char *out, size_t cap);

/* ---- Memory ---------------------------------------------------------------- */

/* The allocation hook every object of the core allocates through (after
 * ngtcp2_mem). A NULL fl_mem * means the default (libc malloc/free). Tests
 * plug in a counting allocator that fails at allocation N. */
typedef struct fl_mem {
  void *user;
  void *(*alloc)(void *user, size_t size);
  void (*free)(void *user, void *ptr, size_t size);
} fl_mem;

/* The default allocator (malloc/free); never NULL. */
FL_API const fl_mem *fl_mem_default(void);

/* A counting allocator: tracks bytes and objects in use, their peaks, and
 * fails every allocation from the fail_at-th on (0 = never fail). */
typedef struct fl_mem_counter {
  fl_mem mem;            /* pass &counter->mem to the core */
  uint64_t allocs;       /* successful allocations so far */
  uint64_t frees;
  uint64_t bytes_in_use;
  uint64_t bytes_peak;
  uint64_t fail_at;      /* 0 = never; N = allocation number N and later fail */
  uint64_t attempts;     /* allocation attempts so far, failed ones included */
  uint64_t failures;
} fl_mem_counter;

/* Set up a counting allocator over malloc/free. */
FL_API void fl_mem_counter_init(fl_mem_counter *c, uint64_t fail_at);

/* Allocate and free through a hook (NULL = default). fl_mem_alloc returns
 * NULL on failure; fl_mem_free accepts NULL. */
FL_API void *fl_mem_alloc(const fl_mem *m, size_t size);
FL_API void *fl_mem_calloc(const fl_mem *m, size_t n, size_t size);
FL_API void fl_mem_free(const fl_mem *m, void *ptr, size_t size);

#ifdef __cplusplus
}
#endif
#endif /* FLOCK_COMMON_H */
