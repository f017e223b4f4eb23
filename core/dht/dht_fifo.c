/*
 * The bounded record FIFO (see dht_fifo.h). Records never wrap inside the
 * arena: one that does not fit before the end starts again at offset 0 and
 * the gap is accounted as used until the records before it are gone.
 */
#include "dht/dht_fifo.h"

#include <assert.h>
#include <string.h>

int fl_dht_fifo_init(fl_dht_fifo *f, const fl_mem *mem, size_t meta_size, size_t count_max,
                     size_t bytes_max) {
  memset(f, 0, sizeof *f);
  if (count_max == 0 || bytes_max == 0 || bytes_max > UINT32_MAX) return FL_ERR_INVALID;
  f->mem = mem;
  f->meta_size = meta_size;
  f->count_max = count_max;
  f->bytes_max = bytes_max;
  f->meta = fl_mem_calloc(mem, count_max, meta_size);
  f->off = fl_mem_calloc(mem, count_max, sizeof *f->off);
  f->len = fl_mem_calloc(mem, count_max, sizeof *f->len);
  f->arena = fl_mem_alloc(mem, bytes_max);
  if (!f->meta || !f->off || !f->len || !f->arena) {
    fl_dht_fifo_deinit(f);
    return FL_ERR_NOMEM;
  }
  return 0;
}

void fl_dht_fifo_deinit(fl_dht_fifo *f) {
  fl_mem_free(f->mem, f->meta, f->count_max * f->meta_size);
  fl_mem_free(f->mem, f->off, f->count_max * sizeof *f->off);
  fl_mem_free(f->mem, f->len, f->count_max * sizeof *f->len);
  fl_mem_free(f->mem, f->arena, f->bytes_max);
  memset(f, 0, sizeof *f);
}

/* Where a record of len bytes can start, or SIZE_MAX if the arena is full. */
static size_t arena_place(const fl_dht_fifo *f, size_t len) {
  if (f->count == 0) return len <= f->bytes_max ? 0 : SIZE_MAX;
  size_t tail = f->off[f->head];
  if (f->wr >= tail) {
    if (len <= f->bytes_max - f->wr) return f->wr;
    return len < tail ? 0 : SIZE_MAX;
  }
  return f->wr + len < tail ? f->wr : SIZE_MAX;
}

uint8_t *fl_dht_fifo_push(fl_dht_fifo *f, size_t len, void **meta) {
  size_t at = f->count < f->count_max ? arena_place(f, len) : SIZE_MAX;
  if (at == SIZE_MAX) {
    f->dropped++;
    *meta = NULL;
    return NULL;
  }
  if (f->count == 0) f->wr = 0;
  size_t i = (f->head + f->count) % f->count_max;
  f->off[i] = (uint32_t)at;
  f->len[i] = (uint32_t)len;
  f->wr = at + len;
  f->count++;
  f->pushed++;
  if (f->count > f->high_water) f->high_water = f->count;
  *meta = f->meta + i * f->meta_size;
  memset(*meta, 0, f->meta_size);
  assert(f->wr <= f->bytes_max);
  return f->arena + at;
}

int fl_dht_fifo_peek(const fl_dht_fifo *f, void **meta, const uint8_t **data, size_t *len) {
  if (f->count == 0) return 0;
  *meta = f->meta + f->head * f->meta_size;
  *data = f->arena + f->off[f->head];
  *len = f->len[f->head];
  return 1;
}

void fl_dht_fifo_pop(fl_dht_fifo *f) {
  assert(f->count > 0);
  f->head = (f->head + 1) % f->count_max;
  f->count--;
}
