/*
 * flock/node.h — fl_node, one Flock node: its sockets, the demultiplexing of
 * datagrams between the DHT and UDX, and the five sans-IO calls every driver
 * (io_posix, io_sim) runs the same loop over:
 *
 *   handle one input (fl_node_handle_datagram / fl_node_handle_timeout /
 *   an API call), then drain fl_node_poll_transmit until it returns 0, drain
 *   fl_node_poll_event until it returns 0, and re-arm the timer from
 *   fl_node_next_deadline.
 *
 * Sockets: the node never binds. It asks through FL_EVENT_SOCKET_OPEN events
 * (socket handle, requested local address; port 0 = any) and the driver
 * answers with fl_node_socket_opened (the bound address) or
 * fl_node_socket_failed. Handles are small integers chosen by the node.
 * Socket 0 is the server socket and socket 1 the client socket, as the
 * reference's dht-rpc keeps two; holepunching asks for more.
 *
 * Time: every call takes now_us (monotonic microseconds). A now_us earlier
 * than the last one seen is misuse: FL_ERR_INVALID, nothing changes.
 * An early or repeated fl_node_handle_timeout changes nothing.
 *
 * Memory: input is borrowed for the call only; bytes inside an fl_event stay
 * valid until the next call into the same node; datagrams are written into
 * the caller's buffer. Every queue and table is bounded (fl_node_config).
 *
 * Owned by the dht-rpc work (issue 5); layers above add event types in their
 * reserved ranges and fields at the end of the structs.
 */
#ifndef FLOCK_NODE_H
#define FLOCK_NODE_H

#include "flock/common.h"
#include "flock/crypto.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fl_node fl_node;

#define FL_NODE_SOCK_SERVER 0u
#define FL_NODE_SOCK_CLIENT 1u

/* The largest datagram the core emits; a driver's send buffers hold this much. */
#define FL_DGRAM_BYTES_MAX 2048u

/* One outgoing datagram: bytes were written into the caller's buffer. */
typedef struct fl_dgram {
  uint32_t sock;  /* which of the node's sockets sends it */
  fl_addr to;
  size_t len;     /* bytes written into the buffer passed to poll_transmit */
} fl_dgram;

/* Event types. Ranges: 1-99 node, 100-199 dht, 200-299 hyperdht,
 * 300-399 udx, 400-499 swarm. */
enum {
  FL_EVENT_NONE = 0,
  FL_EVENT_SOCKET_OPEN = 1,  /* sock, addr = requested local address */
  FL_EVENT_SOCKET_CLOSE = 2, /* sock */
  FL_EVENT_LOG = 3,          /* code = level (0 debug .. 3 error), data = text, no NUL */
  FL_EVENT_DHT_BASE = 100,
  FL_EVENT_HYPERDHT_BASE = 200,
  FL_EVENT_UDX_BASE = 300,
  FL_EVENT_SWARM_BASE = 400
};

/* One event. Which fields mean something depends on type (see its comment). */
typedef struct fl_event {
  uint32_t type;
  uint32_t sock;
  int32_t code;
  uint64_t id;            /* query, request, stream or connection id */
  fl_addr addr;
  uint8_t key[32];        /* node id, public key or target */
  const uint8_t *data;    /* lent: valid until the next call into the node */
  size_t len;
} fl_event;

/* Feed one received datagram. Returns 0 (also for dropped garbage, which is
 * counted), or FL_ERR_INVALID for misuse (unknown sock, time backwards). */
FL_API FL_MUST_CHECK int fl_node_handle_datagram(fl_node *n, uint64_t now_us, uint32_t sock,
                                                 const fl_addr *from, const uint8_t *data,
                                                 size_t len);

/* Write the next outgoing datagram into buf. Returns 1 (one out, *out set),
 * 0 (none), or FL_ERR_BUFFER if cap < FL_DGRAM_BYTES_MAX. */
FL_API FL_MUST_CHECK int fl_node_poll_transmit(fl_node *n, fl_dgram *out, uint8_t *buf,
                                               size_t cap);

/* The earliest time handle_timeout has work to do, or FL_TIME_NONE. Cheap. */
FL_API uint64_t fl_node_next_deadline(const fl_node *n);

/* Run timers due at now_us. Returns 0 or FL_ERR_INVALID (time backwards). */
FL_API FL_MUST_CHECK int fl_node_handle_timeout(fl_node *n, uint64_t now_us);

/* Take the next event. Returns 1 (one out), 0 (none). */
FL_API FL_MUST_CHECK int fl_node_poll_event(fl_node *n, fl_event *out);

/* The driver's answers to FL_EVENT_SOCKET_OPEN. */
FL_API FL_MUST_CHECK int fl_node_socket_opened(fl_node *n, uint64_t now_us, uint32_t sock,
                                               const fl_addr *bound);
FL_API FL_MUST_CHECK int fl_node_socket_failed(fl_node *n, uint64_t now_us, uint32_t sock,
                                               int err);

#ifdef __cplusplus
}
#endif
#endif /* FLOCK_NODE_H */
