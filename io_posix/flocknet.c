/*
 * flocknet — the Flock command-line tool for the real network.
 *
 * Global flags come before the subcommand; each subcommand has --help.
 * There is no implicit bootstrap list: a command that needs the network takes
 * --bootstrap HOST:PORT[,...] or --public (the reference's public bootstrap
 * nodes, for users; never passed by a test).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flock/common.h"
#include "flock/crypto.h"

struct cmd {
  const char *name;
  const char *summary;
  int (*run)(int argc, char **argv);
};

int fl_cli_udx_cat(int argc, char **argv); /* io_posix/cli_udx_cat.c */

static const struct cmd commands[] = {
    {"udx-cat", "copy stdin/stdout over one UDX stream (netcat for UDX)", fl_cli_udx_cat},
    {NULL, NULL, NULL},
};

static void usage(FILE *out) {
  fprintf(out,
          "usage: flocknet [--version] [--help] COMMAND [ARGS]\n"
          "\n"
          "The Flock peer-to-peer stack on the real network (flocksim is the simulator).\n"
          "\n"
          "commands:\n");
  for (const struct cmd *c = commands; c->name; c++)
    fprintf(out, "  %-14s %s\n", c->name, c->summary);
  if (commands[0].name == NULL) fprintf(out, "  (none yet in this build)\n");
  fprintf(out, "\nRun 'flocknet COMMAND --help' for a command's flags.\n");
}

int main(int argc, char **argv) {
  if (fl_crypto_init() != 0) {
    fprintf(stderr, "flocknet: libsodium failed to initialise\n");
    return 1;
  }
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("flocknet %s\n", fl_version());
    return 0;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return 0;
  }
  for (const struct cmd *c = commands; c->name; c++)
    if (strcmp(argv[1], c->name) == 0) return c->run(argc - 1, argv + 1);
  fprintf(stderr, "flocknet: unknown command '%s'; run 'flocknet --help' for the list\n",
          argv[1]);
  return 2;
}
