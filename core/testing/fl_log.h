/*
 * fl_log.h — the one place test and fuzz-replay programs print from.
 *
 * These programs live beside their layer (core/<layer>/test, fuzz) but are
 * never part of libflock; the sans-IO rule holds for the library, and the
 * ctest sans_io_core_imports_nothing_forbidden checks its compiled objects.
 * Routing every diagnostic through here keeps printing out of the test
 * files themselves, so a reader (or a grep over core/) sees at once that
 * output comes from the test harness and nowhere else.
 */
#ifndef FL_LOG_H
#define FL_LOG_H

#include <stdarg.h>
#include <stdio.h>

/* Progress and results, on stdout. */
__attribute__((format(printf, 1, 2))) static inline void fl_test_log(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stdout, fmt, ap);
  va_end(ap);
}

/* Diagnostics about a failure, on stderr. */
__attribute__((format(printf, 1, 2))) static inline void fl_test_err(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
}

#endif /* FL_LOG_H */
