/*
 * Replay driver for fuzz targets built without libFuzzer (gcc, ctest): runs
 * LLVMFuzzerTestOneInput over every file named on the command line, or every
 * file in a named folder (the seed corpus and the regression files). A crash
 * is a failed test; a missing corpus folder is not an error, but a target
 * must have run at least one input (an empty one at minimum).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "testing/fl_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return -1;
  }
  uint8_t *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      cap = cap ? cap * 2 : 4096;
      uint8_t *nb = realloc(buf, cap);
      if (!nb) abort();
      buf = nb;
    }
    size_t n = fread(buf + len, 1, cap - len, f);
    if (n == 0) break;
    len += n;
  }
  fclose(f);
  LLVMFuzzerTestOneInput(buf, len);
  free(buf);
  return 0;
}

int main(int argc, char **argv) {
  unsigned runs = 0;
  /* The empty input first: every decoder must refuse it cleanly. */
  LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
  runs++;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) continue; /* no corpus yet */
    if (S_ISDIR(st.st_mode)) {
      DIR *d = opendir(argv[i]);
      if (!d) continue;
      struct dirent *e;
      while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
        if (run_file(path) == 0) runs++;
      }
      closedir(d);
    } else if (run_file(argv[i]) == 0) {
      runs++;
    }
  }
  fl_test_log("replayed %u inputs\n", runs);
  return 0;
}
