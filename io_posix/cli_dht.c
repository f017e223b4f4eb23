/*
 * cli_dht.c — the dht-rpc subcommands of flocknet: dht-node, find-node,
 * ping. Each runs one fl_node in the epoll loop and turns its events into
 * lines (JSON with --json, human text otherwise).
 */
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "fl_posix.h"
#include "flock/node.h"

/* ---- Shared helpers ----------------------------------------------------------- */

void fl_cli_json_node(FILE *out, const fl_addr *a, const uint8_t *id) {
  char host[16];
  fl_cli_host(a, host);
  fprintf(out, "{\"host\":\"%s\",\"port\":%u,\"id\":", host, a->port);
  fl_cli_json_id(out, id);
  fputc('}', out);
}

/* A free UDP port on host, for a bootstrapper that must know its port
 * before binding (its NAT sampler is pre-seeded with it). The tiny race
 * with another process taking it shows up as a bind failure, reported. */
static uint16_t pick_free_port(const fl_addr *host) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  fl_addr a = *host;
  a.port = 0;
  struct sockaddr_in sin;
  fl_posix_addr_to_sin(&a, &sin);
  socklen_t len = sizeof sin;
  uint16_t port = 0;
  if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0 &&
      getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
    port = ntohs(sin.sin_port);
  close(fd);
  return port;
}

int fl_cli_node_config(const char *cmd, const fl_cli_opts *o, int mode, int bootstrap_node,
                       int unfirewalled, fl_node_config *c) {
  fl_node_config_default(c);
  if (o->has_host) c->host = o->host;
  if (bootstrap_node) {
    if (!o->has_host) {
      fl_cli_error(cmd, "--bootstrap-node needs --host ADDR: the address other nodes reach it "
                        "at (e.g. --host 127.0.0.1)");
      return FL_CLI_EXIT_USAGE;
    }
    uint16_t port = o->has_port && o->port ? o->port : pick_free_port(&o->host);
    if (fl_node_config_bootstrapper(c, &o->host, port) != 0) {
      fl_cli_error(cmd, "--bootstrap-node: --host must be an IPv4 address other than 0.0.0.0");
      return FL_CLI_EXIT_USAGE;
    }
    c->host = o->host;
  } else {
    if (o->has_port) c->port = o->port;
    c->mode = mode;
  }
  if (unfirewalled) c->firewalled = false;
  for (uint32_t i = 0; i < o->bootstrap_len && i < FL_NODE_BOOTSTRAP_MAX; i++)
    c->bootstrap[c->bootstrap_len++] = o->bootstrap[i];
  if (fl_posix_entropy(c->seed, sizeof c->seed) != 0) {
    fl_cli_error(cmd, "the kernel gave no entropy (getrandom failed)");
    return FL_CLI_EXIT_FAIL;
  }
  return 0;
}

/* ---- One node in a loop ----------------------------------------------------------- */

/* Per-command state; the event callback dispatches on kind. */
enum { KIND_NODE, KIND_FIND, KIND_PING };

#define FIND_NODES_MAX 64u /* a k = 20 answer with room to spare */

typedef struct app {
  const char *cmd;
  int kind;
  fl_cli_opts o;
  fl_posix_loop *loop;
  fl_node *node;
  int slot;
  int ready, persistent_seen, exit_code, done;
  uint8_t target[32];
  uint64_t qid, rid;
  fl_addr ping_to;
  uint32_t found;
} app;

static void print_listening(app *a) {
  fl_addr bound;
  memset(&bound, 0, sizeof bound);
  if (fl_node_local_addr(a->node, FL_NODE_SOCK_SERVER, &bound) != 0) bound.family = 0;
  uint8_t id[32];
  int persistent = fl_node_id(a->node, id) == 1;
  char host[16];
  fl_cli_host(&bound, host);
  if (a->o.json) {
    printf("{\"event\":\"listening\",\"host\":\"%s\",\"port\":%u,\"id\":", host, bound.port);
    fl_cli_json_id(stdout, persistent ? id : NULL);
    printf("}\n");
  } else {
    char hex[65];
    fl_cli_hex(id, 32, hex);
    printf("listening on %s:%u, %s%s\n", host, bound.port,
           persistent ? "persistent, id " : "ephemeral (no id on the wire yet)",
           persistent ? hex : "");
  }
  if (persistent) a->persistent_seen = 1;
}

static void print_persistent(app *a, const uint8_t *id) {
  if (a->o.json) {
    printf("{\"event\":\"persistent\",\"id\":");
    fl_cli_json_id(stdout, id);
    printf("}\n");
  } else {
    char hex[65];
    fl_cli_hex(id, 32, hex);
    printf("persistent now, id %s\n", hex);
  }
}

static void on_node_event(app *a, const fl_event *ev) {
  switch (ev->type) {
    case FL_EVENT_DHT_READY:
      a->ready = 1;
      print_listening(a);
      break;
    case FL_EVENT_DHT_PERSISTENT:
      if (a->ready && !a->persistent_seen) print_persistent(a, ev->key);
      a->persistent_seen = 1;
      break;
    case FL_EVENT_DHT_EPHEMERAL:
      a->persistent_seen = 0;
      if (a->ready) printf(a->o.json ? "{\"event\":\"ephemeral\"}\n" : "ephemeral again\n");
      break;
    case FL_EVENT_DHT_WAKEUP:
      printf(a->o.json ? "{\"event\":\"wakeup\"}\n" : "woke up from a sleep\n");
      break;
    case FL_EVENT_DHT_USER_REQUEST: {
      /* No application here: answer as a dht-rpc node with no request
       * listener does, UNKNOWN_COMMAND (+ closer nodes if targeted). */
      int rc = fl_node_reply_error(a->node, fl_posix_now_us(), ev->id, 1, 0);
      (void)rc; /* NOT_FOUND only if evicted meanwhile: nothing to do */
      break;
    }
    default:
      break;
  }
}

static void on_find_event(app *a, const fl_event *ev) {
  if (ev->type == FL_EVENT_DHT_READY && !a->ready) {
    a->ready = 1;
    if (fl_node_find_node(a->node, fl_posix_now_us(), a->target, &a->qid) != 0) {
      fl_cli_error(a->cmd, "could not start the query");
      a->exit_code = FL_CLI_EXIT_FAIL;
      fl_posix_loop_stop(a->loop);
    }
  } else if (ev->type == FL_EVENT_DHT_QUERY_NODE && a->ready && ev->id == a->qid) {
    a->found++;
    if (a->o.json) {
      fl_cli_json_node(stdout, &ev->addr, ev->key);
      putchar('\n');
    } else {
      char hex[65], host[16];
      fl_cli_hex(ev->key, 32, hex);
      fl_cli_host(&ev->addr, host);
      printf("%s %s:%u\n", hex, host, ev->addr.port);
    }
  } else if (ev->type == FL_EVENT_DHT_QUERY_DONE && a->ready && ev->id == a->qid) {
    a->done = 1;
    if (a->found == 0) {
      fl_cli_error(a->cmd, "no node answered the query: check that --bootstrap names a "
                           "running node");
      a->exit_code = FL_CLI_EXIT_FAIL;
    }
    fl_posix_loop_stop(a->loop);
  }
}

static void on_ping_event(app *a, const fl_event *ev) {
  if (ev->id != a->rid) return;
  if (ev->type == FL_EVENT_DHT_RESPONSE) {
    char host[16], seen[16];
    fl_cli_host(&ev->addr, host);
    fl_cli_host(&ev->addr2, seen);
    const uint8_t *id = (ev->flags & FL_EVENT_F_ID) ? ev->key : NULL;
    double rtt_ms = (double)ev->arg / 1000.0;
    if (a->o.json) {
      printf("{\"event\":\"pong\",\"host\":\"%s\",\"port\":%u,\"id\":", host, ev->addr.port);
      fl_cli_json_id(stdout, id);
      printf(",\"seen_as\":{\"host\":\"%s\",\"port\":%u},\"rtt_ms\":%.3f}\n", seen,
             ev->addr2.port, rtt_ms);
    } else {
      char hex[65] = "(none: ephemeral)";
      if (id) fl_cli_hex(id, 32, hex);
      printf("pong from %s:%u id %s, it sees us as %s:%u, rtt %.3f ms\n", host, ev->addr.port,
             hex, seen, ev->addr2.port, rtt_ms);
    }
    a->done = 1;
    fl_posix_loop_stop(a->loop);
  } else if (ev->type == FL_EVENT_DHT_REQUEST_FAILED) {
    char host[16];
    fl_cli_host(&a->ping_to, host);
    fl_cli_error(a->cmd, "no reply from %s:%u after 4 tries; is a DHT node listening there?",
                 host, a->ping_to.port);
    a->exit_code = FL_CLI_EXIT_FAIL;
    a->done = 1;
    fl_posix_loop_stop(a->loop);
  }
}

static void on_event(fl_posix_loop *loop, int slot, const fl_event *ev, void *user) {
  (void)loop;
  (void)slot;
  app *a = user;
  if (a->kind == KIND_NODE) on_node_event(a, ev);
  if (a->kind == KIND_FIND) on_find_event(a, ev);
  if (a->kind == KIND_PING) on_ping_event(a, ev);
  fflush(stdout);
}

/* Make the loop and the node; 0 or an exit code (message printed). */
static int app_start(app *a, const fl_node_config *c) {
  a->loop = fl_posix_loop_new(1, 1);
  if (a->loop == NULL) {
    fl_cli_error(a->cmd, "could not create the event loop (epoll/signalfd)");
    return FL_CLI_EXIT_FAIL;
  }
  if (fl_node_new(c, fl_posix_now_us(), &a->node) != 0) {
    fl_cli_error(a->cmd, "could not create the node (bad configuration or out of memory)");
    return FL_CLI_EXIT_FAIL;
  }
  a->slot = fl_posix_loop_add(a->loop, &fl_posix_node_ops, a->node, NULL, on_event, a);
  if (a->slot < 0) return FL_CLI_EXIT_FAIL;
  if (!(fl_node_state(a->node) & FL_NODE_S_BOUND)) {
    char host[16];
    fl_cli_host(&c->host, host);
    fl_cli_error(a->cmd, "could not bind UDP sockets on %s (port %u%s): in use or not a local "
                         "address; try another --port or --host",
                 host, c->port, c->port ? " and the next few" : "");
    return FL_CLI_EXIT_FAIL;
  }
  return 0;
}

static void app_stop(app *a) {
  fl_posix_loop_free(a->loop);
  fl_node_free(a->node);
}

/* Run until done, signalled, or the deadline; returns the exit code. */
static int app_run(app *a, uint64_t timeout_us, const char *what) {
  uint64_t until = timeout_us ? fl_posix_now_us() + timeout_us : FL_TIME_NONE;
  int rc = fl_posix_loop_run(a->loop, until);
  if (rc < 0) {
    fl_cli_error(a->cmd, "the event loop failed (epoll_wait)");
    return FL_CLI_EXIT_FAIL;
  }
  if (fl_posix_loop_signal(a->loop)) {
    if (a->kind == KIND_NODE && a->o.json) printf("{\"event\":\"closed\"}\n");
    return a->kind == KIND_NODE ? FL_CLI_EXIT_OK : FL_CLI_EXIT_FAIL;
  }
  if (rc == 0 && !a->done) {
    fl_cli_error(a->cmd, "timed out after %llu s waiting for %s; raise --timeout or check "
                         "--bootstrap",
                 (unsigned long long)(timeout_us / 1000000u), what);
    return FL_CLI_EXIT_FAIL;
  }
  return a->exit_code;
}

/* ---- dht-node -------------------------------------------------------------------- */

enum { F_BOOTSTRAP_NODE = 1, F_EPHEMERAL, F_PERSISTENT, F_UNFIREWALLED, F_TIMEOUT };

typedef struct node_flags {
  int bootstrap_node, mode, unfirewalled;
  uint64_t timeout_us;
} node_flags;

static int on_node_flag(int id, const char *arg, void *ctx) {
  node_flags *f = ctx;
  if (id == F_BOOTSTRAP_NODE) f->bootstrap_node = 1;
  if (id == F_EPHEMERAL) f->mode = FL_NODE_MODE_EPHEMERAL;
  if (id == F_PERSISTENT) f->mode = FL_NODE_MODE_PERSISTENT;
  if (id == F_UNFIREWALLED) f->unfirewalled = 1;
  if (id == F_TIMEOUT) {
    char *end = NULL;
    double s = strtod(arg, &end);
    if (end == arg || *end || !(s > 0 && s <= 3600)) {
      fprintf(stderr, "flocknet: --timeout: '%s' is not a number of seconds (0-3600]\n", arg);
      return FL_CLI_EXIT_USAGE;
    }
    f->timeout_us = (uint64_t)(s * 1e6);
  }
  return 0;
}

static const fl_cli_flag node_flag_set[] = {
    {"--bootstrap-node", 0, F_BOOTSTRAP_NODE,
     "start a new network: no bootstrap list, persistent (needs --host; --port optional)"},
    {"--ephemeral", 0, F_EPHEMERAL, "never become persistent (no id on the wire)"},
    {"--persistent", 0, F_PERSISTENT, "become persistent as soon as the network check passes"},
    {"--unfirewalled", 0, F_UNFIREWALLED, "assume reachable, skip the firewall probe"},
    {NULL, 0, 0, NULL},
};

int fl_cli_cmd_dht_node(int argc, char **argv) {
  app a;
  memset(&a, 0, sizeof a);
  a.cmd = argv[0];
  a.kind = KIND_NODE;
  node_flags f = {0, FL_NODE_MODE_ADAPTIVE, 0, 0};
  if (fl_cli_parse(argc, argv, node_flag_set, on_node_flag, &f, 0, &a.o) != 0)
    return FL_CLI_EXIT_USAGE;
  if (a.o.help) {
    fl_cli_help(stdout, a.cmd, "[FLAGS]",
                "Run a DHT node until SIGINT/SIGTERM. With --json the first line, printed once\n"
                "the sockets are bound and the bootstrap has finished, is\n"
                "{\"event\":\"listening\",\"host\":...,\"port\":...,\"id\":...} (id null while "
                "ephemeral);\nthen events such as {\"event\":\"persistent\",\"id\":...}.\n"
                "The default mode is the reference's adaptive one.",
                node_flag_set);
    return FL_CLI_EXIT_OK;
  }
  if (f.bootstrap_node && f.mode == FL_NODE_MODE_EPHEMERAL) {
    fl_cli_error(a.cmd, "--bootstrap-node and --ephemeral contradict each other; pass one");
    return FL_CLI_EXIT_USAGE;
  }
  if (!f.bootstrap_node && fl_cli_need_network(a.cmd, &a.o) != 0) return FL_CLI_EXIT_USAGE;
  fl_node_config c;
  int rc = fl_cli_node_config(a.cmd, &a.o, f.mode, f.bootstrap_node, f.unfirewalled, &c);
  if (rc == 0) rc = app_start(&a, &c);
  if (rc == 0) rc = app_run(&a, 0, "a signal");
  app_stop(&a);
  return rc;
}

/* ---- find-node ------------------------------------------------------------------- */

static const fl_cli_flag client_flag_set[] = {
    {"--timeout", 1, F_TIMEOUT, "SECONDS  give up after this long (default 30)"},
    {NULL, 0, 0, NULL},
};

int fl_cli_cmd_find_node(int argc, char **argv) {
  app a;
  memset(&a, 0, sizeof a);
  a.cmd = argv[0];
  a.kind = KIND_FIND;
  node_flags f = {0, FL_NODE_MODE_EPHEMERAL, 0, 30000000};
  if (fl_cli_parse(argc, argv, client_flag_set, on_node_flag, &f, 1, &a.o) != 0)
    return FL_CLI_EXIT_USAGE;
  if (a.o.help) {
    fl_cli_help(stdout, a.cmd, "TARGET_HEX [FLAGS]",
                "Bootstrap an ephemeral node, walk the DHT toward TARGET_HEX (32 bytes, 64 hex\n"
                "characters) and print the closest nodes found, closest first: one\n"
                "{\"host\",\"port\",\"id\"} per line with --json, else \"ID HOST:PORT\".",
                client_flag_set);
    return FL_CLI_EXIT_OK;
  }
  if (a.o.positional_len != 1 || fl_cli_hex32(a.o.positional[0], a.target) != 0) {
    fl_cli_error(a.cmd, "expected one TARGET_HEX: 64 hex characters (32 bytes)");
    return FL_CLI_EXIT_USAGE;
  }
  if (fl_cli_need_network(a.cmd, &a.o) != 0) return FL_CLI_EXIT_USAGE;
  fl_node_config c;
  int rc = fl_cli_node_config(a.cmd, &a.o, FL_NODE_MODE_EPHEMERAL, 0, 0, &c);
  if (rc == 0) rc = app_start(&a, &c);
  if (rc == 0) rc = app_run(&a, f.timeout_us, "the query to finish");
  app_stop(&a);
  return rc;
}

/* ---- ping ------------------------------------------------------------------------- */

int fl_cli_cmd_ping(int argc, char **argv) {
  app a;
  memset(&a, 0, sizeof a);
  a.cmd = argv[0];
  a.kind = KIND_PING;
  node_flags f = {0, FL_NODE_MODE_EPHEMERAL, 0, 30000000};
  if (fl_cli_parse(argc, argv, client_flag_set, on_node_flag, &f, 1, &a.o) != 0)
    return FL_CLI_EXIT_USAGE;
  if (a.o.help) {
    fl_cli_help(stdout, a.cmd, "HOST:PORT [FLAGS]",
                "Send a dht-rpc PING to HOST:PORT (up to 4 tries, 1 s apart) and print the\n"
                "reply: the node's id (null if it is ephemeral), the address it saw us as,\n"
                "and the round-trip time. Exits 1 if nobody answers. The address is explicit,\n"
                "so no --bootstrap is needed.",
                client_flag_set);
    return FL_CLI_EXIT_OK;
  }
  if (a.o.positional_len != 1 || fl_addr_parse(&a.ping_to, a.o.positional[0]) != 0 ||
      a.ping_to.port == 0) {
    fl_cli_error(a.cmd, "expected one HOST:PORT (IPv4 address, port 1-65535), e.g. "
                        "127.0.0.1:49737");
    return FL_CLI_EXIT_USAGE;
  }
  /* A ping needs no walk: the node gets no bootstrap list, so it contacts
   * nobody but HOST:PORT. */
  a.o.bootstrap_len = 0;
  a.o.public_net = 0;
  fl_node_config c;
  int rc = fl_cli_node_config(a.cmd, &a.o, FL_NODE_MODE_EPHEMERAL, 0, 0, &c);
  if (rc == 0) rc = app_start(&a, &c);
  if (rc == 0 && fl_node_ping(a.node, fl_posix_now_us(), &a.ping_to, &a.rid) != 0) {
    fl_cli_error(a.cmd, "could not send the ping");
    rc = FL_CLI_EXIT_FAIL;
  }
  if (rc == 0 && fl_posix_loop_drain(a.loop, a.slot) != 0) rc = FL_CLI_EXIT_FAIL;
  if (rc == 0) rc = app_run(&a, f.timeout_us, "a reply");
  app_stop(&a);
  return rc;
}
