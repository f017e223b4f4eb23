/*
 * cli.h — what every flocknet subcommand shares: the global flags, their
 * parser, seed handling and the JSON/human output helpers. Each subcommand
 * lives in a cli_<area>.c file and is listed in flocknet.c's command table.
 *
 * Global flags (accepted before or after the subcommand name):
 *   --bootstrap HOST:PORT[,...]  bootstrap nodes (IPv4 literals)
 *   --public                     the reference's public bootstrap nodes
 *   --host ADDR  --port N        where to bind
 *   --seed HEX | --seed-file PATH | FLOCK_SEED   the Ed25519 key pair seed
 *   --json                       one JSON object per line on stdout
 *   --help                       the subcommand's help
 */
#ifndef FL_CLI_H
#define FL_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "flock/common.h"

/* Bootstrap entries on one command line: the reference's public list has
 * three, a local testnet rarely more than a few; the node keeps at most
 * FL_NODE_BOOTSTRAP_MAX (16), so the CLI refuses more rather than drop. */
#define FL_CLI_BOOTSTRAP_MAX 16u

/* Positional arguments a subcommand takes at most. */
#define FL_CLI_POSITIONAL_MAX 4u

/* Exit codes: 0 ok, 1 the operation failed (timeout, nobody answered),
 * 2 bad usage (the message says what to change). */
enum { FL_CLI_EXIT_OK = 0, FL_CLI_EXIT_FAIL = 1, FL_CLI_EXIT_USAGE = 2 };

typedef struct fl_cli_opts {
  fl_addr bootstrap[FL_CLI_BOOTSTRAP_MAX];
  uint32_t bootstrap_len;
  int public_net;
  int has_host;
  fl_addr host;           /* bind address (port unused) */
  int has_port;
  uint16_t port;
  int has_seed;
  uint8_t seed[32];
  int json;
  int help;
  const char *positional[FL_CLI_POSITIONAL_MAX];
  uint32_t positional_len;
} fl_cli_opts;

/* A subcommand-specific flag. has_arg: 0 = boolean, 1 = takes a value. */
typedef struct fl_cli_flag {
  const char *name;       /* "--bootstrap-node" */
  int has_arg;
  int id;
  const char *help;       /* one line */
} fl_cli_flag;

/* Handle one subcommand flag; return 0 or print a message and return
 * FL_CLI_EXIT_USAGE. */
typedef int (*fl_cli_flag_fn)(int id, const char *arg, void *ctx);

/* Parse argv (argv[0] = the subcommand's name) into o: global flags,
 * `flags` through on_flag, and up to max_positional positional arguments.
 * Seeds from --seed-file or FLOCK_SEED are resolved here too. Prints the
 * problem to stderr and returns FL_CLI_EXIT_USAGE on bad input, else 0. */
int fl_cli_parse(int argc, char **argv, const fl_cli_flag *flags, fl_cli_flag_fn on_flag,
                 void *ctx, uint32_t max_positional, fl_cli_opts *o);

/* Print a subcommand's help: usage line, description, its flags, then the
 * global flags. */
void fl_cli_help(FILE *out, const char *cmd, const char *usage, const char *about,
                 const fl_cli_flag *flags);

/* The global flags' help lines, for flocknet --help. */
void fl_cli_help_globals(FILE *out);

/* A command that needs the network calls this first: with neither
 * --bootstrap nor --public it explains and returns FL_CLI_EXIT_USAGE.
 * --public fills o->bootstrap with the public nodes. */
int fl_cli_need_network(const char *cmd, fl_cli_opts *o);

/* Parse "HOST:PORT[,HOST:PORT...]" (IPv4 literals) into o->bootstrap. */
int fl_cli_parse_bootstrap(const char *cmd, const char *text, fl_cli_opts *o);

/* Parse 64 hex characters into 32 bytes (surrounding whitespace allowed).
 * Returns 0, or -1 for anything else. */
int fl_cli_hex32(const char *text, uint8_t out[32]);

/* Lowercase hex of len bytes into out (2 * len + 1 bytes). */
void fl_cli_hex(const uint8_t *p, size_t len, char *out);

/* Print "error" lines: "flocknet CMD: message" to stderr. */
void fl_cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Format an address as "a.b.c.d" (host only) into out (>= 16 bytes). */
void fl_cli_host(const fl_addr *a, char *out);

/* JSON: the hex of 32 bytes as a quoted string, or null when absent. */
void fl_cli_json_id(FILE *out, const uint8_t *id_or_null);

/* JSON-escape len bytes as a quoted string. */
void fl_cli_json_str(FILE *out, const uint8_t *p, size_t len);

/* ---- Shared by the DHT commands (cli_dht.c, cli_testnet.c) --------------- */

struct fl_node_config;

/* Fill a node config from the global flags: OS-entropy seed, --host/--port,
 * the bootstrap list, mode (FL_NODE_MODE_*), and with bootstrap_node a
 * DHT.bootstrapper config (needs --host; a free port is picked when --port
 * is absent). Prints the problem and returns FL_CLI_EXIT_USAGE/FAIL, or 0. */
int fl_cli_node_config(const char *cmd, const fl_cli_opts *o, int mode, int bootstrap_node,
                       int unfirewalled, struct fl_node_config *c);

/* {"host":..,"port":..,"id":..} (id null if NULL), no newline. */
void fl_cli_json_node(FILE *out, const fl_addr *a, const uint8_t *id);

/* The subcommands (argv[0] = the subcommand's name). */
int fl_cli_cmd_dht_node(int argc, char **argv);
int fl_cli_cmd_find_node(int argc, char **argv);
int fl_cli_cmd_ping(int argc, char **argv);
int fl_cli_cmd_dht_testnet(int argc, char **argv);

#endif /* FL_CLI_H */
