/*
 * cli_records.c — flocknet's hyperdht record subcommands: keypair, announce,
 * unannounce, lookup, find-peer, mutable-put/get, immutable-put/get. Each
 * runs one fl_node with an fl_hyperdht in the epoll loop; the two are driven
 * as one machine whose events are the node's, filtered through fl_hyperdht,
 * followed by fl_hyperdht's own (FL_EVENT_HYPERDHT_*).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "fl_posix.h"
#include "flock/crypto.h"
#include "flock/hyperdht.h"
#include "flock/node.h"

/* ---- node + fl_hyperdht as one machine ------------------------------------------ */

typedef struct rec_machine {
  fl_node *node;
  fl_hyperdht *h;
} rec_machine;

static int rm_datagram(void *m, uint64_t now, uint32_t sock, const fl_addr *from,
                       const uint8_t *data, size_t len) {
  return fl_node_handle_datagram(((rec_machine *)m)->node, now, sock, from, data, len);
}
static int rm_transmit(void *m, fl_dgram *out, uint8_t *buf, size_t cap) {
  return fl_node_poll_transmit(((rec_machine *)m)->node, out, buf, cap);
}
static uint64_t rm_deadline(const void *m) {
  const rec_machine *r = m;
  uint64_t a = fl_node_next_deadline(r->node), b = fl_hyperdht_next_deadline(r->h);
  return a < b ? a : b;
}
static int rm_timeout(void *m, uint64_t now) {
  rec_machine *r = m;
  int rc = 0;
  if (fl_node_next_deadline(r->node) <= now) rc = fl_node_handle_timeout(r->node, now);
  int rc2 = fl_hyperdht_handle_timeout(r->h, now);
  return rc != 0 ? rc : rc2;
}
/* Node events go through fl_hyperdht first (it serves user requests and
 * follows its own queries); what it leaves, then its results, come out. */
static int rm_event(void *m, fl_event *out) {
  rec_machine *r = m;
  for (;;) {
    int rc = fl_node_poll_event(r->node, out);
    if (rc != 1) break;
    if (fl_hyperdht_on_event(r->h, fl_posix_now_us(), out) != 1) return 1;
  }
  return fl_hyperdht_poll_event(r->h, out);
}
static int rm_opened(void *m, uint64_t now, uint32_t sock, const fl_addr *bound) {
  return fl_node_socket_opened(((rec_machine *)m)->node, now, sock, bound);
}
static int rm_failed(void *m, uint64_t now, uint32_t sock, int err) {
  return fl_node_socket_failed(((rec_machine *)m)->node, now, sock, err);
}
static const fl_posix_ops rec_ops = {rm_datagram, rm_transmit,
                                     rm_deadline, rm_timeout, rm_event, rm_opened, rm_failed};

/* ---- the app ------------------------------------------------------------------------ */

enum { K_ANNOUNCE = 1, K_UNANNOUNCE, K_LOOKUP, K_FIND_PEER, K_MPUT, K_MGET, K_IPUT, K_IGET };

#define SEEN_MAX 256u /* distinct peers a lookup prints (a topic sample is 20 per node) */

typedef struct app {
  const char *cmd;
  int kind;
  fl_cli_opts o;
  fl_posix_loop *loop;
  rec_machine m;
  int slot, started, done, exit_code, hex, announced;
  uint64_t op, seq, timeout_us, refresh_us;
  uint8_t target[32], pk[32], sk[64];
  uint8_t value[FL_HYPERDHT_VALUE_MAX];
  size_t value_len;
  fl_addr relays[FL_HYPERDHT_RELAYS_MAX];
  size_t relays_len;
  uint8_t seen[SEEN_MAX][32];
  size_t seen_len;
} app;

static void print_value(const app *a, const uint8_t *p, size_t len) {
  if (a->hex) {
    char hex[2 * FL_HYPERDHT_VALUE_MAX + 1];
    fl_cli_hex(p, len, hex);
    printf(a->o.json ? "\"%s\"" : "%s", hex);
  } else if (a->o.json) {
    fl_cli_json_str(stdout, p, len);
  } else {
    fwrite(p, 1, len, stdout);
  }
}

/* {"publicKey":..,"relayAddresses":[{"host","port"}]} from an encoded peer. */
static void print_peer(app *a, const uint8_t *rec, size_t len) {
  fl_hyperdht_peer p;
  if (fl_hyperdht_peer_decode(&p, rec, len) < 0) return;
  for (size_t i = 0; i < a->seen_len; i++)
    if (memcmp(a->seen[i], p.public_key, 32) == 0) return; /* one line per peer */
  if (a->seen_len < SEEN_MAX) memcpy(a->seen[a->seen_len++], p.public_key, 32);
  char hex[65], host[16];
  fl_cli_hex(p.public_key, 32, hex);
  if (a->o.json) {
    printf("{\"publicKey\":\"%s\",\"relayAddresses\":[", hex);
    for (size_t i = 0; i < p.relays_len; i++) {
      fl_cli_host(&p.relays[i], host);
      printf("%s{\"host\":\"%s\",\"port\":%u}", i ? "," : "", host, p.relays[i].port);
    }
    printf("]}\n");
  } else {
    printf("%s", hex);
    for (size_t i = 0; i < p.relays_len; i++) {
      fl_cli_host(&p.relays[i], host);
      printf(" %s:%u", host, p.relays[i].port);
    }
    printf("\n");
  }
}

static void stop(app *a, int code) {
  a->exit_code = code;
  a->done = 1;
  fl_posix_loop_stop(a->loop);
}

static int start_op(app *a) {
  uint64_t now = fl_posix_now_us();
  fl_hyperdht *h = a->m.h;
  switch (a->kind) {
    case K_ANNOUNCE:
      return fl_hyperdht_start_announce(h, now, a->target, a->sk, a->relays, a->relays_len,
                                        a->refresh_us, &a->op);
    case K_UNANNOUNCE: return fl_hyperdht_start_unannounce(h, now, a->target, a->sk, &a->op);
    case K_LOOKUP: return fl_hyperdht_start_lookup(h, now, a->target, &a->op);
    case K_FIND_PEER: return fl_hyperdht_start_find_peer(h, now, a->pk, &a->op);
    case K_MPUT:
      return fl_hyperdht_start_mutable_put(h, now, a->sk, a->seq, a->value, a->value_len, &a->op);
    case K_MGET: return fl_hyperdht_start_mutable_get(h, now, a->pk, a->seq, true, &a->op);
    case K_IPUT: return fl_hyperdht_start_immutable_put(h, now, a->value, a->value_len, &a->op);
    default: return fl_hyperdht_start_immutable_get(h, now, a->target, &a->op);
  }
}

static void on_announced(app *a, const fl_event *ev) {
  if (ev->arg == 0) {
    if (!a->announced) fl_cli_error(a->cmd, "no node stored the announce (yet); will retry");
    return;
  }
  char topic[65], pk[65];
  fl_cli_hex(a->target, 32, topic);
  fl_cli_hex(a->sk + 32, 32, pk);
  const char *what = a->announced ? "refreshed" : "announced";
  if (a->o.json)
    printf("{\"event\":\"%s\",\"topic\":\"%s\",\"publicKey\":\"%s\",\"nodes\":%llu}\n", what,
           topic, pk, (unsigned long long)ev->arg);
  else
    printf("%s %s as %s at %llu nodes\n", what, topic, pk, (unsigned long long)ev->arg);
  a->announced = 1;
}

static void on_done(app *a, const fl_event *ev) {
  char hex[65], pk[65];
  fl_cli_hex(ev->key, 32, hex);
  fl_cli_hex(a->sk + 32, 32, pk);
  if (a->kind == K_UNANNOUNCE) {
    if (a->o.json)
      printf("{\"event\":\"unannounced\",\"topic\":\"%s\",\"publicKey\":\"%s\"}\n", hex, pk);
    else
      printf("unannounced %s as %s\n", hex, pk);
  } else if (a->kind == K_IPUT && ev->code == 0) {
    printf(a->o.json ? "{\"hash\":\"%s\"}\n" : "%s\n", hex);
  } else if (a->kind == K_MPUT && ev->code == 0) {
    if (a->o.json) printf("{\"publicKey\":\"%s\",\"seq\":%llu}\n", pk, (unsigned long long)a->seq);
    else printf("stored seq %llu for %s at %llu nodes\n", (unsigned long long)a->seq, pk,
                (unsigned long long)ev->arg);
  }
  int fail = ev->code != 0 && a->kind != K_LOOKUP;
  if (a->kind == K_FIND_PEER && a->seen_len == 0) fail = 1;
  if (fail)
    fl_cli_error(a->cmd, "%s", ev->code == FL_ERR_NOT_FOUND ? "not found (no node had it)"
                               : ev->code == FL_ERR_TIMEOUT ? "no node stored it"
                                                            : "the operation failed");
  stop(a, fail ? FL_CLI_EXIT_FAIL : FL_CLI_EXIT_OK);
}

static void on_result(app *a, const fl_event *ev) {
  switch (ev->type) {
    case FL_EVENT_HYPERDHT_PEER:
    case FL_EVENT_HYPERDHT_FOUND: print_peer(a, ev->data, ev->len); break;
    case FL_EVENT_HYPERDHT_ANNOUNCED: on_announced(a, ev); break;
    case FL_EVENT_HYPERDHT_MUTABLE: {
      char pk[65];
      fl_cli_hex(ev->key, 32, pk);
      if (a->o.json) {
        printf("{\"publicKey\":\"%s\",\"seq\":%llu,\"value\":", pk, (unsigned long long)ev->arg);
        print_value(a, ev->data, ev->len);
        printf("}\n");
      } else {
        printf("seq %llu: ", (unsigned long long)ev->arg);
        print_value(a, ev->data, ev->len);
        printf("\n");
      }
      break;
    }
    case FL_EVENT_HYPERDHT_IMMUTABLE:
      if (a->o.json) printf("{\"value\":");
      print_value(a, ev->data, ev->len);
      printf(a->o.json ? "}\n" : "\n");
      break;
    case FL_EVENT_HYPERDHT_DONE: on_done(a, ev); break;
    default: break;
  }
}

static void on_event(fl_posix_loop *loop, int slot, const fl_event *ev, void *user) {
  (void)loop;
  (void)slot;
  app *a = user;
  if (ev->type == FL_EVENT_DHT_READY && !a->started) {
    a->started = 1;
    if (start_op(a) != 0) {
      fl_cli_error(a->cmd, "could not start the operation");
      stop(a, FL_CLI_EXIT_FAIL);
    }
  } else if (ev->type >= FL_EVENT_HYPERDHT_BASE && ev->type < FL_EVENT_UDX_BASE &&
             ev->id == a->op) {
    on_result(a, ev);
  }
  fflush(stdout);
}

/* ---- setup and run ------------------------------------------------------------------ */

static int app_start(app *a) {
  fl_node_config c;
  int rc = fl_cli_node_config(a->cmd, &a->o, FL_NODE_MODE_EPHEMERAL, 0, 0, &c);
  if (rc != 0) return rc;
  c.user_requests = true;
  uint8_t seed[32];
  a->loop = fl_posix_loop_new(1, 1);
  uint64_t now = fl_posix_now_us();
  if (a->loop == NULL || fl_posix_entropy(seed, sizeof seed) != 0 ||
      fl_node_new(&c, now, &a->m.node) != 0 ||
      fl_hyperdht_new(&a->m.h, a->m.node, NULL, NULL, seed, now) != 0) {
    fl_cli_error(a->cmd, "could not create the node (event loop, entropy or memory)");
    return FL_CLI_EXIT_FAIL;
  }
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  fl_hyperdht_set_clock(a->m.h, fl_posix_now_us(),
                        (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
  a->slot = fl_posix_loop_add(a->loop, &rec_ops, &a->m, NULL, on_event, a);
  if (a->slot < 0 || !(fl_node_state(a->m.node) & FL_NODE_S_BOUND)) {
    fl_cli_error(a->cmd, "could not bind UDP sockets: try another --port or --host");
    return FL_CLI_EXIT_FAIL;
  }
  return 0;
}

static void app_stop(app *a) {
  if (a->loop != NULL) fl_posix_loop_free(a->loop);
  fl_hyperdht_free(a->m.h);
  fl_node_free(a->m.node);
  fl_crypto_memzero(a->sk, sizeof a->sk);
}

static int app_run(app *a) {
  uint64_t until = a->timeout_us ? fl_posix_now_us() + a->timeout_us : FL_TIME_NONE;
  int rc = fl_posix_loop_run(a->loop, until);
  if (rc < 0) {
    fl_cli_error(a->cmd, "the event loop failed (epoll_wait)");
    return FL_CLI_EXIT_FAIL;
  }
  if (a->kind == K_ANNOUNCE) {
    /* announce runs until signalled or --duration: success = stored once. */
    if (!a->announced) fl_cli_error(a->cmd, "no node stored the announce");
    return a->announced ? FL_CLI_EXIT_OK : FL_CLI_EXIT_FAIL;
  }
  if (fl_posix_loop_signal(a->loop)) return FL_CLI_EXIT_FAIL;
  if (!a->done) {
    fl_cli_error(a->cmd, "timed out after %llu s; raise --timeout or check --bootstrap",
                 (unsigned long long)(a->timeout_us / 1000000u));
    return FL_CLI_EXIT_FAIL;
  }
  return a->exit_code;
}

/* ---- flags ------------------------------------------------------------------------- */

enum { F_HEX = 1, F_SEQ, F_DURATION, F_TIMEOUT, F_REFRESH, F_RELAY };

static int seconds(app *a, const char *arg, uint64_t *out) {
  char *end = NULL;
  double s = strtod(arg, &end);
  if (end == arg || *end || !(s > 0 && s <= 86400 * 30)) {
    fl_cli_error(a->cmd, "expected a number of seconds (0 < S <= 2592000), got '%s'", arg);
    return FL_CLI_EXIT_USAGE;
  }
  *out = (uint64_t)(s * 1e6);
  return 0;
}

static int on_flag(int id, const char *arg, void *ctx) {
  app *a = ctx;
  if (id == F_HEX) a->hex = 1;
  if (id == F_DURATION) return seconds(a, arg, &a->timeout_us);
  if (id == F_TIMEOUT) return seconds(a, arg, &a->timeout_us);
  if (id == F_REFRESH) return seconds(a, arg, &a->refresh_us);
  if (id == F_SEQ) {
    char *end = NULL;
    unsigned long long v = strtoull(arg, &end, 10);
    if (end == arg || *end || arg[0] == '-') {
      fl_cli_error(a->cmd, "--seq takes a non-negative integer, got '%s'", arg);
      return FL_CLI_EXIT_USAGE;
    }
    a->seq = v;
  }
  if (id == F_RELAY) {
    if (a->relays_len == FL_HYPERDHT_RELAYS_MAX ||
        fl_addr_parse(&a->relays[a->relays_len], arg) != 0) {
      fl_cli_error(a->cmd, "--relay takes HOST:PORT (IPv4), at most 3 times");
      return FL_CLI_EXIT_USAGE;
    }
    a->relays_len++;
  }
  return 0;
}

static const fl_cli_flag flags_all[] = {
    {"--hex", 0, F_HEX, "values are hex on the command line and in the output"},
    {"--seq", 1, F_SEQ, "N  mutable-put: the sequence number; mutable-get: the minimum"},
    {"--duration", 1, F_DURATION, "SECONDS  announce: stay announced this long, then exit"},
    {"--refresh", 1, F_REFRESH, "SECONDS  announce: re-announce interval (default 600)"},
    {"--relay", 1, F_RELAY, "HOST:PORT  announce: a relay address (up to 3 times)"},
    {"--timeout", 1, F_TIMEOUT, "SECONDS  give up after this long (default 30)"},
    {NULL, 0, 0, NULL},
};

static const char *about(int kind) {
  switch (kind) {
    case K_ANNOUNCE:
      return "Announce our key pair (--seed) on TOPIC_HEX and stay announced, re-announcing\n"
             "every --refresh seconds, until signalled or --duration. Prints announced, then\n"
             "refreshed events.";
    case K_UNANNOUNCE: return "Remove our announce of TOPIC_HEX from the nodes that hold it.";
    case K_LOOKUP:
      return "Print the peers announced on TOPIC_HEX: {\"publicKey\",\"relayAddresses\"} each.";
    case K_FIND_PEER: return "Find the nodes a public key announced itself to (find-peer).";
    case K_MPUT: return "Store VALUE signed by our key pair (--seed) with --seq N.";
    case K_MGET: return "Fetch the latest value signed by PUBKEY_HEX (seq >= --seq).";
    case K_IPUT: return "Store VALUE under its hash; prints the hash.";
    default: return "Fetch the value whose hash is HASH_HEX.";
  }
}

/* The positional argument: a 32-byte hex key, or a value. */
static int parse_arg(app *a) {
  if (a->o.positional_len != 1) {
    fl_cli_error(a->cmd, "expected exactly one argument (see --help)");
    return FL_CLI_EXIT_USAGE;
  }
  const char *arg = a->o.positional[0];
  if (a->kind == K_MPUT || a->kind == K_IPUT) {
    size_t n = strlen(arg);
    if (a->hex) {
      if (n % 2 != 0 || n / 2 > sizeof a->value) goto bad_value;
      for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(arg + 2 * i, "%2x", &v) != 1) goto bad_value;
        a->value[i] = (uint8_t)v;
      }
      n /= 2;
    } else {
      if (n > sizeof a->value) goto bad_value;
      memcpy(a->value, arg, n);
    }
    if (n == 0) goto bad_value;
    a->value_len = n;
    return 0;
  }
  uint8_t *dst = (a->kind == K_FIND_PEER || a->kind == K_MGET) ? a->pk : a->target;
  if (fl_cli_hex32(arg, dst) != 0) {
    fl_cli_error(a->cmd, "expected 64 hex characters (32 bytes), got '%s'", arg);
    return FL_CLI_EXIT_USAGE;
  }
  return 0;
bad_value:
  fl_cli_error(a->cmd, "expected a non-empty VALUE of at most %d bytes%s", FL_HYPERDHT_VALUE_MAX,
               a->hex ? " as an even number of hex digits" : "");
  return FL_CLI_EXIT_USAGE;
}

static int run_kind(int argc, char **argv, int kind, const char *usage) {
  static app a; /* holds a 2 KiB value and 8 KiB of seen keys */
  memset(&a, 0, sizeof a);
  a.cmd = argv[0];
  a.kind = kind;
  a.timeout_us = kind == K_ANNOUNCE ? 0 : 30000000u;
  a.refresh_us = 600000000u;
  if (fl_cli_parse(argc, argv, flags_all, on_flag, &a, 1, &a.o) != 0) return FL_CLI_EXIT_USAGE;
  if (a.o.help) {
    fl_cli_help(stdout, a.cmd, usage, about(kind), flags_all);
    return FL_CLI_EXIT_OK;
  }
  int rc = parse_arg(&a);
  if (rc != 0) return rc;
  if ((kind == K_ANNOUNCE || kind == K_UNANNOUNCE || kind == K_MPUT) && !a.o.has_seed) {
    fl_cli_error(a.cmd, "needs the key pair: --seed HEX, --seed-file PATH or FLOCK_SEED");
    return FL_CLI_EXIT_USAGE;
  }
  if (a.o.has_seed && fl_crypto_sign_seed_keypair(a.sk + 32, a.sk, a.o.seed) != 0)
    return FL_CLI_EXIT_FAIL;
  if (fl_cli_need_network(a.cmd, &a.o) != 0) return FL_CLI_EXIT_USAGE;
  rc = app_start(&a);
  if (rc == 0) rc = app_run(&a);
  app_stop(&a);
  return rc;
}

int fl_cli_cmd_announce(int argc, char **argv) {
  return run_kind(argc, argv, K_ANNOUNCE, "TOPIC_HEX [FLAGS]");
}
int fl_cli_cmd_unannounce(int argc, char **argv) {
  return run_kind(argc, argv, K_UNANNOUNCE, "TOPIC_HEX [FLAGS]");
}
int fl_cli_cmd_lookup(int argc, char **argv) {
  return run_kind(argc, argv, K_LOOKUP, "TOPIC_HEX [FLAGS]");
}
int fl_cli_cmd_find_peer(int argc, char **argv) {
  return run_kind(argc, argv, K_FIND_PEER, "PUBKEY_HEX [FLAGS]");
}
int fl_cli_cmd_mutable_put(int argc, char **argv) {
  return run_kind(argc, argv, K_MPUT, "VALUE [--seq N] [--hex] [FLAGS]");
}
int fl_cli_cmd_mutable_get(int argc, char **argv) {
  return run_kind(argc, argv, K_MGET, "PUBKEY_HEX [--seq N] [--hex] [FLAGS]");
}
int fl_cli_cmd_immutable_put(int argc, char **argv) {
  return run_kind(argc, argv, K_IPUT, "VALUE [--hex] [FLAGS]");
}
int fl_cli_cmd_immutable_get(int argc, char **argv) {
  return run_kind(argc, argv, K_IGET, "HASH_HEX [--hex] [FLAGS]");
}

/* keypair: no network; the public key of --seed (or of a fresh seed, shown). */
int fl_cli_cmd_keypair(int argc, char **argv) {
  fl_cli_opts o;
  if (fl_cli_parse(argc, argv, NULL, NULL, NULL, 0, &o) != 0) return FL_CLI_EXIT_USAGE;
  if (o.help) {
    fl_cli_help(stdout, argv[0], "[--seed HEX]",
                "Print the Ed25519 public key of the key pair made from --seed (hyperdht's\n"
                "keyPair(seed)); without a seed, make one from OS entropy and print it too.",
                NULL);
    return FL_CLI_EXIT_OK;
  }
  int generated = !o.has_seed;
  if (generated && fl_posix_entropy(o.seed, 32) != 0) return FL_CLI_EXIT_FAIL;
  uint8_t pk[32], sk[64];
  if (fl_crypto_sign_seed_keypair(pk, sk, o.seed) != 0) return FL_CLI_EXIT_FAIL;
  fl_crypto_memzero(sk, sizeof sk);
  char hex[65], seed[65];
  fl_cli_hex(pk, 32, hex);
  fl_cli_hex(o.seed, 32, seed);
  if (o.json) {
    printf("{\"publicKey\":\"%s\"", hex);
    if (generated) printf(",\"seed\":\"%s\"", seed);
    printf("}\n");
  } else {
    printf("%s\n", hex);
    if (generated) printf("seed %s\n", seed);
  }
  return FL_CLI_EXIT_OK;
}
