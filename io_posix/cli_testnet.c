/*
 * cli_testnet.c — `flocknet dht-testnet --nodes N`: N fl_nodes in one
 * process and one epoll loop (a hidden command for the interop tests and
 * the benchmark: forty nodes cost one process, not forty).
 *
 * Once every node has bootstrapped it prints one line,
 *   {"event":"listening","nodes":[{"i":0,"host":..,"port":..,"id":..},...]}
 * then reads commands from stdin, one per line, and answers each with one
 * JSON line carrying its REQ number:
 *   find_node REQ NODE TARGET_HEX          -> {"event":"find_node","closest":[...]}
 *   ping      REQ NODE HOST:PORT           -> {"event":"ping","id","to","rtt_ms",...}
 *   ping_nat  REQ NODE HOST:PORT NAT_PORT  -> {"event":"ping_nat",...}
 *   down_hint REQ NODE HOST:PORT DOWN_HOST:DOWN_PORT -> {"event":"down_hint",...}
 *   request   REQ NODE HOST:PORT COMMAND VALUE|- TARGET_HEX|- TOKEN_HEX|-
 *                                          -> {"event":"response","value","token","error",...}
 *   table     REQ NODE                     -> {"event":"table","nodes":[...]}
 *   info      REQ NODE                     -> {"event":"info","id","port","persistent",...}
 * Failures answer {"event":"error","req":REQ,"message":...}. Every node
 * answers user command 77 with "c:" + the request's value, and any other
 * user command with UNKNOWN_COMMAND. End of stdin or a signal ends it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fl_posix.h"
#include "flock/node.h"

/* Nodes per process: the mixed-network test runs 40; 1024 leaves room
 * while bounding the fds (two each) well under the usual 4096 limit. */
#define TESTNET_NODES_MAX 1024u
/* Commands in flight at once; full: answer "busy" (the harness waits). */
#define TESTNET_PENDING_MAX 256u
/* A query's answer holds k = 20; room for more in case k grows. */
#define TESTNET_CLOSEST_MAX 32u
/* Longest command line; longer ones are refused whole. */
#define TESTNET_LINE_MAX 1024u
#define ECHO_COMMAND 77u

enum { P_FIND = 1, P_PING, P_PING_NAT, P_DOWN_HINT, P_REQUEST };
static const char *const kind_names[] = {"", "find_node", "ping", "ping_nat", "down_hint",
                                         "response"};

typedef struct pending {
  int kind;
  int node;
  uint64_t id;
  long req;
  uint32_t n;
  fl_addr addrs[TESTNET_CLOSEST_MAX];
  uint8_t ids[TESTNET_CLOSEST_MAX][32];
} pending;

typedef struct testnet {
  fl_cli_opts o;
  fl_posix_loop *loop;
  fl_node **nodes;
  uint32_t count, ready;
  int listening;
  pending pend[TESTNET_PENDING_MAX];
  char line[TESTNET_LINE_MAX];
  size_t line_len;
  int line_overflow;
} testnet;

static void print_error(long req, const char *msg) {
  printf("{\"event\":\"error\",\"req\":%ld,\"message\":", req);
  fl_cli_json_str(stdout, (const uint8_t *)msg, strlen(msg));
  printf("}\n");
}

static void print_listening(testnet *t) {
  printf("{\"event\":\"listening\",\"nodes\":[");
  for (uint32_t i = 0; i < t->count; i++) {
    fl_addr a;
    memset(&a, 0, sizeof a);
    if (fl_node_local_addr(t->nodes[i], FL_NODE_SOCK_SERVER, &a) != 0) a.family = 0;
    uint8_t id[32];
    int persistent = fl_node_id(t->nodes[i], id) == 1;
    char host[16];
    fl_cli_host(&a, host);
    printf("%s{\"i\":%u,\"host\":\"%s\",\"port\":%u,\"id\":", i ? "," : "", i, host, a.port);
    fl_cli_json_id(stdout, persistent ? id : NULL);
    putchar('}');
  }
  printf("]}\n");
}

static pending *find_pending(testnet *t, int node, uint64_t id) {
  for (uint32_t i = 0; i < TESTNET_PENDING_MAX; i++)
    if (t->pend[i].kind && t->pend[i].node == node && t->pend[i].id == id) return &t->pend[i];
  return NULL;
}

static void answer_user(testnet *t, int slot, const fl_event *ev) {
  uint64_t now = fl_posix_now_us();
  int rc;
  if (ev->code == (int32_t)ECHO_COMMAND) {
    uint8_t buf[2 + 1024];
    size_t n = ev->len < 1024 ? ev->len : 1024;
    memcpy(buf, "c:", 2);
    if (n) memcpy(buf + 2, ev->data, n);
    rc = fl_node_reply(t->nodes[slot], now, ev->id, buf, n + 2, 0);
  } else {
    rc = fl_node_reply_error(t->nodes[slot], now, ev->id, 1, 0);
  }
  (void)rc; /* NOT_FOUND only if the request was evicted meanwhile */
}

static void print_response(pending *p, const fl_event *ev) {
  char host[16], seen[16];
  fl_cli_host(&ev->addr, host);
  fl_cli_host(&ev->addr2, seen);
  printf("{\"event\":\"%s\",\"req\":%ld,\"host\":\"%s\",\"port\":%u,\"id\":",
         kind_names[p->kind], p->req, host, ev->addr.port);
  fl_cli_json_id(stdout, (ev->flags & FL_EVENT_F_ID) ? ev->key : NULL);
  printf(",\"to\":{\"host\":\"%s\",\"port\":%u},\"token\":", seen, ev->addr2.port);
  fl_cli_json_id(stdout, (ev->flags & FL_EVENT_F_TOKEN) ? ev->token : NULL);
  printf(",\"value\":");
  if (ev->flags & FL_EVENT_F_VALUE)
    fl_cli_json_str(stdout, ev->data, ev->len);
  else
    printf("null");
  printf(",\"error\":%d,\"rtt_ms\":%.3f}\n", ev->code, (double)ev->arg / 1000.0);
}

static void print_closest(pending *p) {
  printf("{\"event\":\"find_node\",\"req\":%ld,\"closest\":[", p->req);
  for (uint32_t i = 0; i < p->n; i++) {
    if (i) putchar(',');
    fl_cli_json_node(stdout, &p->addrs[i], p->ids[i]);
  }
  printf("]}\n");
}

static void on_event(fl_posix_loop *loop, int slot, const fl_event *ev, void *user) {
  (void)loop;
  testnet *t = user;
  pending *p = NULL;
  switch (ev->type) {
    case FL_EVENT_DHT_READY:
      if (++t->ready == t->count && !t->listening) {
        t->listening = 1;
        print_listening(t);
      }
      break;
    case FL_EVENT_DHT_USER_REQUEST:
      answer_user(t, slot, ev);
      break;
    case FL_EVENT_DHT_QUERY_NODE:
      if ((p = find_pending(t, slot, ev->id)) && p->n < TESTNET_CLOSEST_MAX) {
        p->addrs[p->n] = ev->addr;
        memcpy(p->ids[p->n++], ev->key, 32);
      }
      break;
    case FL_EVENT_DHT_QUERY_DONE:
      if ((p = find_pending(t, slot, ev->id))) {
        print_closest(p);
        p->kind = 0;
      }
      break;
    case FL_EVENT_DHT_RESPONSE:
      if ((p = find_pending(t, slot, ev->id))) {
        print_response(p, ev);
        p->kind = 0;
      }
      break;
    case FL_EVENT_DHT_REQUEST_FAILED:
      if ((p = find_pending(t, slot, ev->id))) {
        print_error(p->req, ev->code == FL_ERR_TIMEOUT ? "timeout" : fl_strerror(ev->code));
        p->kind = 0;
      }
      break;
    default:
      break;
  }
  fflush(stdout);
}

/* ---- Commands from stdin ------------------------------------------------------------ */

static int parse_u16(const char *s, uint16_t *out) {
  char *end = NULL;
  unsigned long v = strtoul(s, &end, 10);
  if (end == s || *end || v > 65535) return -1;
  *out = (uint16_t)v;
  return 0;
}

static void print_table(testnet *t, long req, int node) {
  static fl_addr addrs[FL_NODE_TABLE_MAX];
  static uint8_t ids[FL_NODE_TABLE_MAX][32];
  size_t n = fl_node_table(t->nodes[node], addrs, ids, FL_NODE_TABLE_MAX);
  printf("{\"event\":\"table\",\"req\":%ld,\"nodes\":[", req);
  for (size_t i = 0; i < n; i++) {
    if (i) putchar(',');
    fl_cli_json_node(stdout, &addrs[i], ids[i]);
  }
  printf("]}\n");
}

static void print_info(testnet *t, long req, int node) {
  fl_node *n = t->nodes[node];
  uint8_t id[32];
  int persistent = fl_node_id(n, id) == 1;
  fl_addr a;
  memset(&a, 0, sizeof a);
  if (fl_node_local_addr(n, FL_NODE_SOCK_SERVER, &a) != 0) a.family = 0;
  fl_node_stats st;
  memset(&st, 0, sizeof st);
  if (fl_node_stats_get(n, &st, sizeof st) != 0) memset(&st, 0, sizeof st);
  printf("{\"event\":\"info\",\"req\":%ld,\"port\":%u,\"persistent\":%s,\"id\":", req, a.port,
         persistent ? "true" : "false");
  fl_cli_json_id(stdout, persistent ? id : NULL);
  printf(",\"table_size\":%llu,\"rx_datagrams\":%llu,\"drop_decode\":%llu,"
         "\"drop_short\":%llu,\"drop_unknown_type\":%llu,\"drop_udx\":%llu,"
         "\"cmd_in\":[%llu,%llu,%llu,%llu,%llu],\"down_hints_rx\":%llu}\n",
         (unsigned long long)st.table_size, (unsigned long long)st.rx_datagrams,
         (unsigned long long)st.drop_decode, (unsigned long long)st.drop_short,
         (unsigned long long)st.drop_unknown_type, (unsigned long long)st.drop_udx,
         (unsigned long long)st.cmd_in[0], (unsigned long long)st.cmd_in[1],
         (unsigned long long)st.cmd_in[2], (unsigned long long)st.cmd_in[3],
         (unsigned long long)st.cmd_in[4], (unsigned long long)st.down_hints_rx);
}

/* Start the request a command line asks for; returns an error text or NULL. */
static const char *start_request(testnet *t, int node, int kind, char **w, int nw,
                                 uint64_t *id) {
  fl_node *n = t->nodes[node];
  uint64_t now = fl_posix_now_us();
  fl_addr to;
  if (kind == P_FIND) {
    uint8_t target[32];
    if (nw != 4 || fl_cli_hex32(w[3], target) != 0) return "usage: find_node REQ NODE TARGET_HEX";
    return fl_node_find_node(n, now, target, id) == 0 ? NULL : "find_node refused";
  }
  if (nw < 4 || fl_addr_parse(&to, w[3]) != 0) return "expected HOST:PORT as the 4th word";
  if (kind == P_PING) return fl_node_ping(n, now, &to, id) == 0 ? NULL : "ping refused";
  uint8_t value[1024], target[32], token[32];
  size_t len = 0;
  if (kind == P_PING_NAT) {
    uint16_t port;
    if (nw != 5 || parse_u16(w[4], &port) != 0) return "usage: ping_nat REQ NODE HOST:PORT PORT";
    value[0] = (uint8_t)port;
    value[1] = (uint8_t)(port >> 8);
    return fl_node_request(n, now, &to, true, 1, NULL, NULL, value, 2, -1, id) == 0
               ? NULL : "ping_nat refused";
  }
  if (kind == P_DOWN_HINT) {
    fl_addr down;
    if (nw != 5 || fl_addr_parse(&down, w[4]) != 0)
      return "usage: down_hint REQ NODE HOST:PORT DOWN_HOST:DOWN_PORT";
    memcpy(value, down.ip, 4);
    value[4] = (uint8_t)down.port;
    value[5] = (uint8_t)(down.port >> 8);
    return fl_node_request(n, now, &to, true, 3, NULL, NULL, value, 6, -1, id) == 0
               ? NULL : "down_hint refused";
  }
  if (nw != 8) return "usage: request REQ NODE HOST:PORT COMMAND VALUE|- TARGET|- TOKEN|-";
  char *end = NULL;
  unsigned long long command = strtoull(w[4], &end, 10);
  if (end == w[4] || *end) return "COMMAND must be a number";
  int has_value = strcmp(w[5], "-") != 0;
  if (has_value) {
    len = strlen(w[5]);
    if (len > sizeof value) return "VALUE too long";
    memcpy(value, w[5], len);
  }
  int has_target = strcmp(w[6], "-") != 0, has_token = strcmp(w[7], "-") != 0;
  if (has_target && fl_cli_hex32(w[6], target) != 0) return "TARGET must be 64 hex chars or -";
  if (has_token && fl_cli_hex32(w[7], token) != 0) return "TOKEN must be 64 hex chars or -";
  return fl_node_request(n, now, &to, false, command, has_target ? target : NULL,
                         has_token ? token : NULL, has_value ? value : NULL, len, -1, id) == 0
             ? NULL : "request refused";
}

static void run_command(testnet *t, char *line) {
  char *w[10];
  int nw = 0;
  for (char *s = strtok(line, " \t\r"); s && nw < 10; s = strtok(NULL, " \t\r")) w[nw++] = s;
  if (nw == 0) return;
  long req = nw > 1 ? strtol(w[1], NULL, 10) : -1;
  long node = nw > 2 ? strtol(w[2], NULL, 10) : -1;
  if (nw < 3 || node < 0 || (uint32_t)node >= t->count) {
    print_error(req, "expected: COMMAND REQ NODE ...; NODE must be 0..count-1");
    return;
  }
  if (strcmp(w[0], "table") == 0) return print_table(t, req, (int)node);
  if (strcmp(w[0], "info") == 0) return print_info(t, req, (int)node);
  int kind = 0;
  for (int k = P_FIND; k <= P_REQUEST; k++)
    if (strcmp(w[0], k == P_REQUEST ? "request" : kind_names[k]) == 0) kind = k;
  if (kind == 0) return print_error(req, "unknown command");
  pending *p = NULL;
  for (uint32_t i = 0; i < TESTNET_PENDING_MAX && !p; i++)
    if (!t->pend[i].kind) p = &t->pend[i];
  if (p == NULL) return print_error(req, "busy: too many commands in flight");
  uint64_t id = 0;
  const char *err = start_request(t, (int)node, kind, w, nw, &id);
  if (err) return print_error(req, err);
  *p = (pending){.kind = kind, .node = (int)node, .id = id, .req = req};
  if (fl_posix_loop_drain(t->loop, (int)node) != 0) print_error(req, "drain failed");
}

static void on_stdin(fl_posix_loop *loop, int fd, void *user) {
  testnet *t = user;
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
    fl_posix_loop_unwatch_fd(loop, fd);
    fl_posix_loop_stop(loop); /* the harness closed stdin: we are done */
    return;
  }
  for (ssize_t i = 0; i < n; i++) {
    if (buf[i] != '\n') {
      if (t->line_len + 1 < TESTNET_LINE_MAX)
        t->line[t->line_len++] = buf[i];
      else
        t->line_overflow = 1;
      continue;
    }
    t->line[t->line_len] = '\0';
    if (t->line_overflow)
      print_error(-1, "line too long");
    else
      run_command(t, t->line);
    t->line_len = 0;
    t->line_overflow = 0;
  }
  fflush(stdout);
}

/* ---- The command ------------------------------------------------------------------- */

enum { F_NODES = 1, F_BOOTSTRAP_NODE, F_PERSISTENT, F_EPHEMERAL, F_UNFIREWALLED };

typedef struct testnet_flags {
  uint32_t nodes;
  int bootstrap_node, mode, unfirewalled;
} testnet_flags;

static int on_flag(int id, const char *arg, void *ctx) {
  testnet_flags *f = ctx;
  if (id == F_NODES) {
    char *end = NULL;
    unsigned long v = strtoul(arg, &end, 10);
    if (end == arg || *end || v == 0 || v > TESTNET_NODES_MAX) {
      fprintf(stderr, "flocknet dht-testnet: --nodes must be 1..%u\n", TESTNET_NODES_MAX);
      return FL_CLI_EXIT_USAGE;
    }
    f->nodes = (uint32_t)v;
  }
  if (id == F_BOOTSTRAP_NODE) f->bootstrap_node = 1;
  if (id == F_PERSISTENT) f->mode = FL_NODE_MODE_PERSISTENT;
  if (id == F_EPHEMERAL) f->mode = FL_NODE_MODE_EPHEMERAL;
  if (id == F_UNFIREWALLED) f->unfirewalled = 1;
  return 0;
}

static const fl_cli_flag flag_set[] = {
    {"--nodes", 1, F_NODES, "N  how many nodes (default 1)"},
    {"--bootstrap-node", 0, F_BOOTSTRAP_NODE,
     "node 0 starts the network (DHT.bootstrapper); the others bootstrap off it"},
    {"--persistent", 0, F_PERSISTENT, "every node forced persistent"},
    {"--ephemeral", 0, F_EPHEMERAL, "every node forced ephemeral"},
    {"--unfirewalled", 0, F_UNFIREWALLED, "assume reachable, skip the firewall probe"},
    {NULL, 0, 0, NULL},
};

/* Create the nodes and hand them to the loop; 0 or an exit code. */
static int testnet_start(testnet *t, const testnet_flags *f) {
  const char *cmd = "dht-testnet";
  for (uint32_t i = 0; i < t->count; i++) {
    fl_node_config c;
    fl_cli_opts o = t->o;
    o.has_port = i == 0 ? t->o.has_port : 0; /* --port applies to node 0 only */
    int boot = f->bootstrap_node && i == 0;
    if (f->bootstrap_node && i > 0) {
      fl_addr first;
      if (fl_node_local_addr(t->nodes[0], FL_NODE_SOCK_SERVER, &first) != 0) return 1;
      if (o.bootstrap_len < FL_CLI_BOOTSTRAP_MAX) o.bootstrap[o.bootstrap_len++] = first;
    }
    int rc = fl_cli_node_config(cmd, &o, f->mode, boot, f->unfirewalled, &c);
    if (rc != 0) return rc;
    c.user_requests = true; /* the echo command 77 is answered here */
    if (fl_node_new(&c, fl_posix_now_us(), &t->nodes[i]) != 0) {
      fl_cli_error(cmd, "could not create node %u", i);
      return FL_CLI_EXIT_FAIL;
    }
    if (fl_posix_loop_add(t->loop, &fl_posix_node_ops, t->nodes[i], NULL, on_event, t) !=
            (int)i ||
        !(fl_node_state(t->nodes[i]) & FL_NODE_S_BOUND)) {
      fl_cli_error(cmd, "node %u could not bind its sockets", i);
      return FL_CLI_EXIT_FAIL;
    }
  }
  return 0;
}

int fl_cli_cmd_dht_testnet(int argc, char **argv) {
  testnet_flags f = {1, 0, FL_NODE_MODE_ADAPTIVE, 0};
  testnet *t = calloc(1, sizeof *t);
  if (t == NULL) return FL_CLI_EXIT_FAIL;
  int rc = fl_cli_parse(argc, argv, flag_set, on_flag, &f, 0, &t->o);
  if (rc == 0 && t->o.help) {
    fl_cli_help(stdout, argv[0], "--nodes N [FLAGS]",
                "Run N DHT nodes in one process (test tooling). See io_posix/cli_testnet.c for\n"
                "the stdin command language.",
                flag_set);
  } else if (rc == 0) {
    if (!f.bootstrap_node) rc = fl_cli_need_network(argv[0], &t->o);
    if (rc == 0 && !t->o.has_host) {
      t->o.has_host = 1; /* a test network: loopback unless told otherwise */
      t->o.host = fl_addr_ipv4(127, 0, 0, 1, 0);
    }
    t->count = f.nodes;
    t->nodes = rc == 0 ? calloc(f.nodes, sizeof *t->nodes) : NULL;
    t->loop = rc == 0 ? fl_posix_loop_new(f.nodes, 1) : NULL;
    if (rc == 0 && (t->nodes == NULL || t->loop == NULL)) rc = FL_CLI_EXIT_FAIL;
    if (rc == 0) rc = testnet_start(t, &f);
    if (rc == 0 && fl_posix_loop_watch_fd(t->loop, 0, on_stdin, t) != 0) rc = FL_CLI_EXIT_FAIL;
    if (rc == 0 && fl_posix_loop_run(t->loop, FL_TIME_NONE) < 0) rc = FL_CLI_EXIT_FAIL;
  }
  fl_posix_loop_free(t->loop);
  for (uint32_t i = 0; t->nodes && i < t->count; i++) fl_node_free(t->nodes[i]);
  free(t->nodes);
  free(t);
  return rc;
}
