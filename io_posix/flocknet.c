/*
 * flocknet — the Flock command-line tool for the real network.
 *
 * Global flags may come before or after the subcommand; each subcommand has
 * --help. There is no implicit bootstrap list: a command that needs the
 * network takes --bootstrap HOST:PORT[,...] or --public (the reference's
 * public bootstrap nodes, for users; never passed by a test).
 *
 * Add a subcommand: write `int fl_cli_cmd_x(int argc, char **argv)` in an
 * io_posix/cli_<area>.c file (parse with fl_cli_parse), declare it in cli.h
 * and list it in `commands` below.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "flock/common.h"
#include "flock/crypto.h"

struct cmd {
  const char *name;
  const char *summary;
  int (*run)(int argc, char **argv);
  int hidden; /* test tooling: works, but not listed in --help */
};

static const struct cmd commands[] = {
    {"dht-node", "run a DHT node until signalled", fl_cli_cmd_dht_node, 0},
    {"find-node", "find the nodes closest to a 32-byte target", fl_cli_cmd_find_node, 0},
    {"ping", "ping a DHT node and show how it sees us", fl_cli_cmd_ping, 0},
    {"dht-testnet", "many DHT nodes in one process, driven from stdin (tests)",
     fl_cli_cmd_dht_testnet, 1},
    {NULL, NULL, NULL, 0},
};

static void usage(FILE *out) {
  fprintf(out,
          "usage: flocknet [GLOBAL FLAGS] COMMAND [FLAGS] [ARGS]\n"
          "       flocknet --version | --help\n"
          "\n"
          "The Flock peer-to-peer stack on the real network (flocksim is the simulator).\n"
          "\n"
          "commands:\n");
  for (const struct cmd *c = commands; c->name; c++)
    if (!c->hidden) fprintf(out, "  %-14s %s\n", c->name, c->summary);
  fprintf(out, "\nglobal flags:\n");
  fl_cli_help_globals(out);
  fprintf(out,
          "\nNetwork commands need --bootstrap or --public; there is no default list.\n"
          "Run 'flocknet COMMAND --help' for a command's flags.\n");
}

/* Global flags that take a value, so that "--port 5 dht-node" is not read
 * as the command "5". */
static int takes_value(const char *flag) {
  static const char *const valued[] = {"--bootstrap", "--host", "--port", "--seed",
                                       "--seed-file", NULL};
  for (int i = 0; valued[i]; i++)
    if (strcmp(flag, valued[i]) == 0) return 1;
  return 0;
}

int main(int argc, char **argv) {
  if (fl_crypto_init() != 0) {
    fprintf(stderr, "flocknet: libsodium failed to initialise\n");
    return 1;
  }
  /* Find the subcommand: the first argument that is not a global flag or
   * a global flag's value. */
  int at = 1;
  while (at < argc && argv[at][0] == '-') {
    if (strcmp(argv[at], "--version") == 0) {
      printf("flocknet %s\n", fl_version());
      return 0;
    }
    if (strcmp(argv[at], "--help") == 0 || strcmp(argv[at], "-h") == 0) {
      usage(stdout);
      return 0;
    }
    at += takes_value(argv[at]) && !strchr(argv[at], '=') ? 2 : 1;
  }
  if (at >= argc) {
    usage(stderr);
    fprintf(stderr, "\nflocknet: no command given\n");
    return FL_CLI_EXIT_USAGE;
  }
  if (strcmp(argv[at], "help") == 0) {
    usage(stdout);
    return 0;
  }
  const struct cmd *c = commands;
  while (c->name && strcmp(argv[at], c->name) != 0) c++;
  if (c->name == NULL) {
    fprintf(stderr, "flocknet: unknown command '%s'; run 'flocknet --help' for the list\n",
            argv[at]);
    return FL_CLI_EXIT_USAGE;
  }
  /* Rebuild argv as: COMMAND, global flags given before it, the rest. */
  char **args = calloc((size_t)argc + 1, sizeof *args);
  if (args == NULL) return FL_CLI_EXIT_FAIL;
  int n = 0;
  args[n++] = argv[at];
  for (int i = 1; i < at; i++) args[n++] = argv[i];
  for (int i = at + 1; i < argc; i++) args[n++] = argv[i];
  int rc = c->run(n, args);
  free(args);
  fflush(stdout);
  return rc;
}
