/*
 * The bounded record FIFO behind the node's transmit and event queues:
 * FIFO order, both limits (records and bytes) refusing the newest with a
 * count, and arena wrap-around checked against a simple model.
 */
#include "dht/dht_fifo.h"

#include "testing/fl_test.h"

static void test_dht_fifo_refuses_past_count_limit(void) {
  fl_dht_fifo f;
  FL_CHECK_EQ(fl_dht_fifo_init(&f, NULL, 8, 4, 1024), 0);
  void *meta;
  for (int i = 0; i < 4; i++) {
    uint8_t *p = fl_dht_fifo_push(&f, 10, &meta);
    FL_CHECK(p != NULL && meta != NULL);
    memset(p, i, 10);
    *(int *)meta = i;
  }
  FL_CHECK(fl_dht_fifo_push(&f, 1, &meta) == NULL);
  FL_CHECK(meta == NULL);
  FL_CHECK_EQ(f.dropped, 1);
  FL_CHECK_EQ(f.high_water, 4);
  const uint8_t *data;
  size_t len;
  for (int i = 0; i < 4; i++) {
    FL_CHECK_EQ(fl_dht_fifo_peek(&f, &meta, &data, &len), 1);
    FL_CHECK_EQ(*(int *)meta, i);
    FL_CHECK_EQ(len, 10);
    FL_CHECK_EQ(data[9], i);
    fl_dht_fifo_pop(&f);
  }
  FL_CHECK_EQ(fl_dht_fifo_peek(&f, &meta, &data, &len), 0);
  fl_dht_fifo_deinit(&f);
}

static void test_dht_fifo_refuses_past_byte_limit(void) {
  fl_dht_fifo f;
  FL_CHECK_EQ(fl_dht_fifo_init(&f, NULL, 4, 100, 100), 0);
  void *meta;
  FL_CHECK(fl_dht_fifo_push(&f, 60, &meta) != NULL);
  FL_CHECK(fl_dht_fifo_push(&f, 41, &meta) == NULL);
  FL_CHECK(fl_dht_fifo_push(&f, 40, &meta) != NULL);
  FL_CHECK(fl_dht_fifo_push(&f, 101, &meta) == NULL);
  FL_CHECK_EQ(f.dropped, 2);
  fl_dht_fifo_pop(&f);
  /* 60 bytes free at the front, but a record never wraps: 50 fits at 0 */
  FL_CHECK(fl_dht_fifo_push(&f, 50, &meta) != NULL);
  fl_dht_fifo_deinit(&f);
}

/* Random pushes and pops against a model queue: order and bytes survive
 * every wrap of the arena. */
static void test_dht_fifo_model(void) {
  fl_dht_fifo f;
  FL_CHECK_EQ(fl_dht_fifo_init(&f, NULL, sizeof(uint32_t), 16, 700), 0);
  uint64_t rs = fl_test_seed();
  uint32_t model_len[64], model_tag[64];
  size_t head = 0, count = 0;
  uint32_t next_tag = 1;
  for (int step = 0; step < 20000; step++) {
    if (fl_test_rand(&rs) % 2) {
      size_t len = fl_test_rand(&rs) % 120;
      void *meta;
      uint8_t *p = fl_dht_fifo_push(&f, len, &meta);
      if (!p) {
        FL_CHECK(count == 16 || len > 0);
        continue;
      }
      memset(p, (int)(next_tag & 0xff), len);
      *(uint32_t *)meta = next_tag;
      model_len[(head + count) % 64] = (uint32_t)len;
      model_tag[(head + count) % 64] = next_tag++;
      count++;
      FL_CHECK(count <= 16);
    } else if (count > 0) {
      void *meta;
      const uint8_t *data;
      size_t len;
      FL_CHECK_EQ(fl_dht_fifo_peek(&f, &meta, &data, &len), 1);
      FL_CHECK_EQ(*(uint32_t *)meta, model_tag[head]);
      FL_CHECK_EQ(len, model_len[head]);
      for (size_t i = 0; i < len; i++) FL_CHECK_EQ(data[i], model_tag[head] & 0xff);
      fl_dht_fifo_pop(&f);
      head = (head + 1) % 64;
      count--;
    }
  }
  FL_CHECK(f.dropped > 0);
  fl_dht_fifo_deinit(&f);
}

int main(void) {
  FL_RUN(test_dht_fifo_refuses_past_count_limit);
  FL_RUN(test_dht_fifo_refuses_past_byte_limit);
  FL_RUN(test_dht_fifo_model);
  return fl_test_done();
}
