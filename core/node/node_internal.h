/*
 * node/node_internal.h — the fl_node struct, shared by node.c (sockets, the
 * five calls) and node_api.c (the DHT calls, state and stats).
 */
#ifndef FL_NODE_INTERNAL_H
#define FL_NODE_INTERNAL_H

#include "dht/dht.h"
#include "flock/node.h"

enum { SOCK_CLOSED = 0, SOCK_OPENING, SOCK_OPEN, SOCK_FAILED };

/* The struct is shared with node_api.c. */
struct fl_node {
  const fl_mem *mem;
  fl_dht dht;
  fl_dht_fifo txq, evq;
  uint64_t last_now_us;
  uint8_t sock_state[2];
  fl_addr sock_addr[2];
  uint16_t server_try;  /* index into the candidate ports */
  uint64_t api_next, api_misuse;
};

int fl_node_advance(fl_node *n, uint64_t now_us);

#endif
