/*
 * dht/dht_fifo.h — a bounded FIFO of variable-length records: a ring of
 * fixed-size headers plus a byte arena that holds each record's bytes
 * contiguously. The node's outgoing datagrams and events live in two of them.
 *
 * Both the record count and the arena bytes are fixed at init (allocated
 * once). Full policy: refuse the newest (push returns FL_ERR_LIMIT and the
 * caller counts the drop), because the oldest record is what the driver is
 * about to read. A popped record's bytes stay valid until the next push.
 */
#ifndef FL_DHT_FIFO_H
#define FL_DHT_FIFO_H

#include <stdbool.h>
#include "flock/common.h"

typedef struct fl_dht_fifo {
  const fl_mem *mem;
  uint8_t *meta;      /* count_max x meta_size */
  uint32_t *off;      /* arena offset of each record's bytes */
  uint32_t *len;
  uint8_t *arena;
  size_t meta_size;
  size_t count_max, bytes_max;
  size_t head, count; /* ring of records: oldest at head */
  size_t wr;          /* next arena write offset */
  size_t bytes_used;  /* live bytes incl. wasted wrap gaps */
  uint64_t high_water, dropped, pushed;
} fl_dht_fifo;

int fl_dht_fifo_init(fl_dht_fifo *f, const fl_mem *mem, size_t meta_size, size_t count_max,
                     size_t bytes_max);
void fl_dht_fifo_deinit(fl_dht_fifo *f);

/* Reserve a record with len bytes; returns the bytes to fill (or NULL when
 * full: FL_ERR_LIMIT is implied, dropped counted) and its meta in *meta. */
uint8_t *fl_dht_fifo_push(fl_dht_fifo *f, size_t len, void **meta);

/* Look at the oldest record without removing it; 0 if empty, 1 if one. */
int fl_dht_fifo_peek(const fl_dht_fifo *f, void **meta, const uint8_t **data, size_t *len);
/* Remove the oldest record (its bytes stay readable until the next push). */
void fl_dht_fifo_pop(fl_dht_fifo *f);

#endif
