/*
 * cli_common.c — flocknet's global flags, seeds, bootstrap lists and output
 * helpers (cli.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* hyperdht@6.34.0 lib/constants.js BOOTSTRAP_NODES, by IP (the reference
 * tries the IP first and only falls back to DNS; we never resolve names). */
static const char *const public_bootstrap[] = {
    "88.99.3.86:49737",
    "142.93.90.113:49737",
    "138.68.147.8:49737",
};

enum {
  G_BOOTSTRAP = -100,
  G_PUBLIC,
  G_HOST,
  G_PORT,
  G_SEED,
  G_SEED_FILE,
  G_JSON,
  G_HELP
};

static const fl_cli_flag globals[] = {
    {"--bootstrap", 1, G_BOOTSTRAP, "HOST:PORT[,...]  bootstrap nodes (IPv4 literals)"},
    {"--public", 0, G_PUBLIC, "use the public DHT's bootstrap nodes (never in tests)"},
    {"--host", 1, G_HOST, "ADDR  bind address (default 0.0.0.0)"},
    {"--port", 1, G_PORT, "N  bind port (default: any free port)"},
    {"--seed", 1, G_SEED, "HEX  32-byte key pair seed, 64 hex chars (visible to other users!)"},
    {"--seed-file", 1, G_SEED_FILE, "PATH  read the seed from a file (or set FLOCK_SEED)"},
    {"--json", 0, G_JSON, "one JSON object per line on stdout"},
    {"--help", 0, G_HELP, "this help"},
    {NULL, 0, 0, NULL},
};

void fl_cli_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "flocknet %s: ", cmd);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = tolower(c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int fl_cli_hex32(const char *text, uint8_t out[32]) {
  while (isspace((unsigned char)*text)) text++;
  size_t n = strlen(text);
  while (n > 0 && isspace((unsigned char)text[n - 1])) n--;
  if (n != 64) return -1;
  for (size_t i = 0; i < 32; i++) {
    int hi = hexval((unsigned char)text[2 * i]), lo = hexval((unsigned char)text[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      memset(out, 0, 32);
      return -1;
    }
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}

void fl_cli_hex(const uint8_t *p, size_t len, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 15];
  }
  out[2 * len] = '\0';
}

void fl_cli_host(const fl_addr *a, char *out) {
  snprintf(out, 16, "%u.%u.%u.%u", a->ip[0], a->ip[1], a->ip[2], a->ip[3]);
}

void fl_cli_json_id(FILE *out, const uint8_t *id) {
  if (id == NULL) {
    fputs("null", out);
    return;
  }
  char hex[65];
  fl_cli_hex(id, 32, hex);
  fprintf(out, "\"%s\"", hex);
}

void fl_cli_json_str(FILE *out, const uint8_t *p, size_t len) {
  fputc('"', out);
  for (size_t i = 0; i < len; i++) {
    uint8_t c = p[i];
    if (c == '"' || c == '\\')
      fprintf(out, "\\%c", c);
    else if (c < 0x20 || c >= 0x7f)
      fprintf(out, "\\u%04x", c); /* bytes, not UTF-8: each one escaped */
    else
      fputc(c, out);
  }
  fputc('"', out);
}

int fl_cli_parse_bootstrap(const char *cmd, const char *text, fl_cli_opts *o) {
  const char *p = text;
  /* Bounded by the text's length: each pass consumes at least one char. */
  while (*p) {
    const char *end = strchr(p, ',');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    char entry[64];
    if (n == 0 || n >= sizeof entry) {
      fl_cli_error(cmd, "--bootstrap: empty or over-long entry in '%s'; expected HOST:PORT[,...]",
                   text);
      return FL_CLI_EXIT_USAGE;
    }
    memcpy(entry, p, n);
    entry[n] = '\0';
    if (o->bootstrap_len == FL_CLI_BOOTSTRAP_MAX) {
      fl_cli_error(cmd, "--bootstrap: at most %u nodes", FL_CLI_BOOTSTRAP_MAX);
      return FL_CLI_EXIT_USAGE;
    }
    fl_addr a;
    if (fl_addr_parse(&a, entry) != 0 || a.port == 0) {
      fl_cli_error(cmd,
                   "--bootstrap: '%s' is not HOST:PORT with an IPv4 address and a port "
                   "1-65535 (names are not resolved; e.g. 127.0.0.1:49737)",
                   entry);
      return FL_CLI_EXIT_USAGE;
    }
    o->bootstrap[o->bootstrap_len++] = a;
    p += n;
    if (*p == ',') p++;
  }
  if (o->bootstrap_len == 0) {
    fl_cli_error(cmd, "--bootstrap: no nodes given; expected HOST:PORT[,...]");
    return FL_CLI_EXIT_USAGE;
  }
  return 0;
}

static int read_seed_file(const char *cmd, const char *path, uint8_t seed[32]) {
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    fl_cli_error(cmd, "--seed-file: cannot open '%s': %s", path, strerror(errno));
    return FL_CLI_EXIT_USAGE;
  }
  char buf[160];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  if (fl_cli_hex32(buf, seed) != 0) {
    fl_cli_error(cmd, "--seed-file: '%s' must hold 64 hex characters (a 32-byte seed)", path);
    return FL_CLI_EXIT_USAGE;
  }
  return 0;
}

static int parse_port(const char *cmd, const char *flag, const char *text, uint16_t *out) {
  char *end = NULL;
  errno = 0;
  unsigned long v = strtoul(text, &end, 10);
  if (errno || end == text || *end || v > 65535 || text[0] == '-') {
    fl_cli_error(cmd, "%s: '%s' is not a port number 0-65535", flag, text);
    return FL_CLI_EXIT_USAGE;
  }
  *out = (uint16_t)v;
  return 0;
}

/* One global flag; returns 0 or FL_CLI_EXIT_USAGE. */
static int apply_global(const char *cmd, int id, const char *arg, fl_cli_opts *o,
                        const char **seed_file, int *seed_flag) {
  switch (id) {
    case G_BOOTSTRAP: return fl_cli_parse_bootstrap(cmd, arg, o);
    case G_PUBLIC: o->public_net = 1; return 0;
    case G_JSON: o->json = 1; return 0;
    case G_HELP: o->help = 1; return 0;
    case G_PORT: o->has_port = 1; return parse_port(cmd, "--port", arg, &o->port);
    case G_SEED_FILE: *seed_file = arg; return 0;
    case G_HOST: {
      char buf[32];
      snprintf(buf, sizeof buf, "%s:0", arg);
      if (strlen(arg) > 15 || fl_addr_parse(&o->host, buf) != 0) {
        fl_cli_error(cmd, "--host: '%s' is not an IPv4 address (e.g. 127.0.0.1)", arg);
        return FL_CLI_EXIT_USAGE;
      }
      o->has_host = 1;
      return 0;
    }
    case G_SEED:
      *seed_flag = 1;
      if (fl_cli_hex32(arg, o->seed) != 0) {
        fl_cli_error(cmd, "--seed: expected 64 hex characters (32 bytes), got %zu characters",
                     strlen(arg));
        return FL_CLI_EXIT_USAGE;
      }
      o->has_seed = 1;
      return 0;
  }
  return FL_CLI_EXIT_USAGE;
}

static const fl_cli_flag *find_flag(const fl_cli_flag *set, const char *name, size_t n) {
  for (const fl_cli_flag *f = set; f && f->name; f++)
    if (strlen(f->name) == n && strncmp(f->name, name, n) == 0) return f;
  return NULL;
}

/* The seed's three sources, in order of precedence; two flags at once is
 * an error rather than a silent choice. */
static int resolve_seed(const char *cmd, const char *seed_file, int seed_flag, fl_cli_opts *o) {
  if (seed_flag && seed_file) {
    fl_cli_error(cmd, "--seed and --seed-file both given; pass one");
    return FL_CLI_EXIT_USAGE;
  }
  if (seed_file) {
    if (read_seed_file(cmd, seed_file, o->seed) != 0) return FL_CLI_EXIT_USAGE;
    o->has_seed = 1;
  } else if (!seed_flag && getenv("FLOCK_SEED") && *getenv("FLOCK_SEED")) {
    if (fl_cli_hex32(getenv("FLOCK_SEED"), o->seed) != 0) {
      fl_cli_error(cmd, "FLOCK_SEED must be 64 hex characters (a 32-byte seed)");
      return FL_CLI_EXIT_USAGE;
    }
    o->has_seed = 1;
  }
  return 0;
}

int fl_cli_parse(int argc, char **argv, const fl_cli_flag *flags, fl_cli_flag_fn on_flag,
                 void *ctx, uint32_t max_positional, fl_cli_opts *o) {
  memset(o, 0, sizeof *o);
  const char *cmd = argv[0], *seed_file = NULL;
  int seed_flag = 0, only_positional = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (only_positional || a[0] != '-' || strcmp(a, "-") == 0) {
      if (o->positional_len >= max_positional || o->positional_len >= FL_CLI_POSITIONAL_MAX) {
        fl_cli_error(cmd, "unexpected argument '%s'; see 'flocknet %s --help'", a, cmd);
        return FL_CLI_EXIT_USAGE;
      }
      o->positional[o->positional_len++] = a;
      continue;
    }
    if (strcmp(a, "--") == 0) {
      only_positional = 1;
      continue;
    }
    if (strcmp(a, "-h") == 0) a = "--help";
    const char *eq = strchr(a, '=');
    size_t n = eq ? (size_t)(eq - a) : strlen(a);
    const fl_cli_flag *g = find_flag(globals, a, n), *f = g ? NULL : find_flag(flags, a, n);
    if (g == NULL && f == NULL) {
      fl_cli_error(cmd, "unknown flag '%.*s'; see 'flocknet %s --help'", (int)n, a, cmd);
      return FL_CLI_EXIT_USAGE;
    }
    const fl_cli_flag *hit = g ? g : f;
    const char *arg = NULL;
    if (hit->has_arg) {
      if (eq) {
        arg = eq + 1;
      } else if (i + 1 < argc) {
        arg = argv[++i];
      } else {
        fl_cli_error(cmd, "%s needs a value; see 'flocknet %s --help'", hit->name, cmd);
        return FL_CLI_EXIT_USAGE;
      }
    } else if (eq) {
      fl_cli_error(cmd, "%s takes no value", hit->name);
      return FL_CLI_EXIT_USAGE;
    }
    int rc = g ? apply_global(cmd, g->id, arg, o, &seed_file, &seed_flag)
               : on_flag(f->id, arg, ctx);
    if (rc != 0) return FL_CLI_EXIT_USAGE;
  }
  if (o->help) return 0; /* --help wins over everything else */
  if (o->public_net && o->bootstrap_len > 0) {
    fl_cli_error(cmd, "--public and --bootstrap both given; pass one");
    return FL_CLI_EXIT_USAGE;
  }
  return resolve_seed(cmd, seed_file, seed_flag, o);
}

static void print_flags(FILE *out, const fl_cli_flag *set) {
  for (const fl_cli_flag *f = set; f && f->name; f++) {
    const char *h = f->help;
    if (f->has_arg) {
      /* help starts with the value's name: "HOST:PORT  text" */
      const char *sp = strstr(h, "  ");
      int vn = sp ? (int)(sp - h) : 0;
      char left[64];
      snprintf(left, sizeof left, "%s %.*s", f->name, vn, h);
      fprintf(out, "  %-30s %s\n", left, sp ? sp + 2 : h);
    } else {
      fprintf(out, "  %-30s %s\n", f->name, h);
    }
  }
}

void fl_cli_help_globals(FILE *out) { print_flags(out, globals); }

void fl_cli_help(FILE *out, const char *cmd, const char *usage, const char *about,
                 const fl_cli_flag *flags) {
  fprintf(out, "usage: flocknet %s %s\n\n%s\n", cmd, usage, about);
  if (flags && flags->name) {
    fprintf(out, "\nflags:\n");
    print_flags(out, flags);
  }
  fprintf(out, "\nglobal flags:\n");
  print_flags(out, globals);
}

int fl_cli_need_network(const char *cmd, fl_cli_opts *o) {
  if (o->public_net) {
    o->bootstrap_len = 0;
    for (size_t i = 0; i < sizeof public_bootstrap / sizeof *public_bootstrap; i++) {
      int rc = fl_addr_parse(&o->bootstrap[o->bootstrap_len], public_bootstrap[i]);
      if (rc == 0) o->bootstrap_len++;
    }
    return 0;
  }
  if (o->bootstrap_len > 0) return 0;
  fl_cli_error(cmd,
               "no bootstrap nodes: pass --bootstrap HOST:PORT[,...] (a node you run, e.g. "
               "'flocknet dht-node --bootstrap-node --port 49737') or --public to join the "
               "public DHT");
  return FL_CLI_EXIT_USAGE;
}
