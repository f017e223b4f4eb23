/*
 * udx_oom_test.c — SQLite-style allocation failure loop: every allocation
 * an instance makes fails in turn (once, and from then on), while two
 * instances open a stream, move data with loss and close. Nothing may
 * crash, every call must return a defined code, and freeing must return
 * every byte (the counting allocator ends at zero in use).
 */
#include "testing/fl_test.h"
#include "udx/test/udx_net.h"

static int b_got_all(net *t) { return t->app[1].received >= t->app[0].to_send; }

/* A counting allocator failing the n-th attempt only, or every one from it. */
typedef struct failing {
  fl_mem mem;
  uint64_t attempts, fail_at, failures;
  int sticky;
  int64_t bytes_in_use;
} failing;

static void *f_alloc(void *user, size_t size) {
  failing *f = user;
  f->attempts++;
  if (f->fail_at && (f->sticky ? f->attempts >= f->fail_at : f->attempts == f->fail_at)) {
    f->failures++;
    return NULL;
  }
  void *p = malloc(size);
  if (p) f->bytes_in_use += (int64_t)size;
  return p;
}

static void f_free(void *user, void *ptr, size_t size) {
  failing *f = user;
  if (ptr == NULL) return;
  f->bytes_in_use -= (int64_t)size;
  free(ptr);
}

/* One run with node 0 allocating through f. Returns 1 if it completed. */
static int run_once(failing *f) {
  net t;
  memset(&t, 0, sizeof(t));
  t.n = 2;
  t.rng = fl_test_seed() * 7 + f->fail_at;
  t.delay_us = 2000;
  t.queue_us_max = 50000;
  t.now = 1000000;
  t.loss = 0.05;
  fl_udx_config c;
  fl_udx_config_default(&c);
  c.ooo_max = 64;
  t.u[0] = fl_udx_new(&c, &f->mem);
  t.u[1] = fl_udx_new(&c, NULL);
  int done = 0;
  if (t.u[0] != NULL && t.u[1] != NULL && net_connect(&t, 0, 1, 1, 2) == 0) {
    t.app[0].reading = t.app[1].reading = 1;
    t.app[0].to_send = 40000;
    t.app[1].to_send = 20000;
    done = net_run(&t, b_got_all, 20000, 20000000);
  }
  net_free(&t);
  return done;
}

static void test_udx_allocation_failures_never_crash_or_leak(void) {
  uint64_t completed = 0, runs = 0;
  for (int sticky = 0; sticky < 2; sticky++) {
    for (uint64_t n = 1; n < 1000; n++) {
      failing f = {{NULL, f_alloc, f_free}, 0, n, 0, sticky, 0};
      f.mem.user = &f;
      int ok = run_once(&f);
      runs++;
      completed += (uint64_t)ok;
      FL_CHECK_EQ(f.bytes_in_use, 0); /* every allocation was given back */
      if (f.failures == 0) break;     /* past the last allocation: done */
    }
  }
  fl_test_log("  %llu runs, %llu completed despite a failed allocation\n",
         (unsigned long long)runs, (unsigned long long)completed);
  FL_CHECK(runs > 20);      /* the loop really walked through allocations */
  FL_CHECK(completed >= 2); /* the unhindered runs (one per mode) completed */
}

int main(void) {
  FL_RUN(test_udx_allocation_failures_never_crash_or_leak);
  return fl_test_done();
}
