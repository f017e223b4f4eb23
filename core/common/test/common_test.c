/* Error names, version, addresses and the counting allocator. */
#include "flock/common.h"
#include "testing/fl_test.h"

static void common_strerror_names_every_code(void) {
  for (int code = 0; code >= FL_ERR_MIN; code--) {
    const char *name = fl_strerror(code);
    FL_CHECK(strncmp(name, "FL_", 3) == 0);
    FL_CHECK(strcmp(name, "FL_ERR_UNKNOWN") != 0);
    FL_CHECK(strlen(fl_strerror_desc(code)) > 0);
  }
  FL_CHECK(strcmp(fl_strerror(FL_ERR_DECODE), "FL_ERR_DECODE") == 0);
  FL_CHECK(strcmp(fl_strerror(FL_ERR_MIN - 1), "FL_ERR_UNKNOWN") == 0);
  FL_CHECK(strcmp(fl_strerror(7), "FL_ERR_UNKNOWN") == 0);
}

static void common_version_string_matches_number(void) {
  char buf[32];
  uint32_t n = fl_version_number();
  snprintf(buf, sizeof buf, "%u.%u.%u", n / 10000, n / 100 % 100, n % 100);
  FL_CHECK(strcmp(buf, fl_version()) == 0);
}

static void common_addr_parse_and_format_roundtrip(void) {
  fl_addr a;
  char buf[64];
  FL_CHECK_EQ(fl_addr_parse(&a, "127.0.0.1:49737"), 0);
  FL_CHECK_EQ(a.family, FL_ADDR_IPV4);
  FL_CHECK_EQ(a.port, 49737);
  fl_addr b = fl_addr_ipv4(127, 0, 0, 1, 49737);
  FL_CHECK(fl_addr_equal(&a, &b));
  FL_CHECK_EQ(fl_addr_format(&a, buf, sizeof buf), 15);
  FL_CHECK(strcmp(buf, "127.0.0.1:49737") == 0);
  b.port = 1;
  FL_CHECK(!fl_addr_equal(&a, &b));
}

static void common_addr_parse_rejects_bad_text(void) {
  static const char *bad[] = {"", "1.2.3", "1.2.3.4", "1.2.3.4:", "256.0.0.1:1",
                              "1.2.3.4:65536", "1.2.3.4:80x", "a.b.c.d:1",
                              "1..2.3:4", "1.2.3.4:000001"};
  fl_addr a = fl_addr_ipv4(9, 9, 9, 9, 9);
  fl_addr keep = a;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    FL_CHECK_EQ(fl_addr_parse(&a, bad[i]), FL_ERR_INVALID);
    FL_CHECK(fl_addr_equal(&a, &keep)); /* a failed parse writes nothing */
  }
}

static void common_addr_format_refuses_small_buffer(void) {
  fl_addr a = fl_addr_ipv4(10, 20, 30, 40, 5000);
  char buf[8];
  FL_CHECK_EQ(fl_addr_format(&a, buf, sizeof buf), FL_ERR_BUFFER);
  FL_CHECK_EQ(buf[0], '\0');
  fl_addr v6;
  memset(&v6, 0, sizeof v6);
  v6.family = FL_ADDR_IPV6;
  v6.ip[15] = 1;
  v6.port = 7;
  char big[64];
  FL_CHECK(fl_addr_format(&v6, big, sizeof big) > 0);
  FL_CHECK(strcmp(big, "[0:0:0:0:0:0:0:1]:7") == 0);
}

static void common_mem_counter_counts_and_fails_at_n(void) {
  fl_mem_counter c;
  fl_mem_counter_init(&c, 3);
  void *a = fl_mem_alloc(&c.mem, 100);
  void *b = fl_mem_calloc(&c.mem, 10, 10);
  FL_CHECK(a != NULL && b != NULL);
  FL_CHECK_EQ(c.bytes_in_use, 200);
  FL_CHECK(fl_mem_alloc(&c.mem, 1) == NULL); /* the third attempt fails */
  FL_CHECK(fl_mem_alloc(&c.mem, 1) == NULL); /* and every one after it */
  FL_CHECK_EQ(c.failures, 2);
  fl_mem_free(&c.mem, a, 100);
  fl_mem_free(&c.mem, b, 100);
  FL_CHECK_EQ(c.bytes_in_use, 0);
  FL_CHECK_EQ(c.bytes_peak, 200);
  FL_CHECK(fl_mem_calloc(NULL, SIZE_MAX / 2, 4) == NULL); /* overflow refused */
}

int main(void) {
  FL_RUN(common_strerror_names_every_code);
  FL_RUN(common_version_string_matches_number);
  FL_RUN(common_addr_parse_and_format_roundtrip);
  FL_RUN(common_addr_parse_rejects_bad_text);
  FL_RUN(common_addr_format_refuses_small_buffer);
  FL_RUN(common_mem_counter_counts_and_fails_at_n);
  return fl_test_done();
}
