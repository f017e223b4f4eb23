/*
 * cli_udx_cat.h — what `flocknet udx-cat`'s two loops share: the standalone
 * one (cli_udx_cat.c, its own socket and an fl_udx) and --node
 * (cli_udx_node.c, the stream on an fl_node's server socket driven by the
 * epoll loop, so the same port answers DHT requests).
 */
#ifndef FL_CLI_UDX_CAT_H
#define FL_CLI_UDX_CAT_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include <sodium.h>

#include "flock/udx.h"

#define BATCH 64
#define CHUNK 65536

typedef struct cat {
  fl_udx *u;
  int fd;
  uint32_t id;
  int listen;
  uint64_t gen_left; /* --gen: pattern bytes still to queue */
  uint64_t gen_off;
  int gen;
  int sink;
  int stats;
  int hash; /* --hash: sha256 of each direction in the stats line */
  int raw; /* --raw: plain UDP datagrams, the benchmark's floor */
  int node; /* --node: the stream rides an fl_node's server socket */
  int stdin_direct; /* --node, stdin not pollable (a file): read it when needed */
  int in_eof, ended, got_end, closed, close_code;
  int write_blocked;
  uint8_t pending[CHUNK]; /* stdin bytes the stream has not taken yet */
  size_t pending_off, pending_len;
  uint64_t bytes_in, bytes_out, start_us, end_us;
  crypto_hash_sha256_state h_in, h_out; /* --stats: digests of each direction */
  /* transmit batch that the kernel has not taken yet */
  uint8_t tx[BATCH][FL_UDX_DGRAM_BYTES_MAX];
  struct mmsghdr tx_msgs[BATCH];
  struct iovec tx_iov[BATCH];
  struct sockaddr_in tx_addr[BATCH];
  int tx_len, tx_sent;
} cat;

/* Path MTU toward peer (IP_MTU of a connected socket) into the stream. */
void udx_cat_set_path_mtu(cat *c, const fl_addr *peer);
/* Offer pending input (stdin or --gen) to the stream; END when done. */
void udx_cat_feed(cat *c, uint64_t now);
/* Read what the stream holds to stdout (or count it with --sink). */
void udx_cat_read_stream(cat *c, uint64_t now);
/* One read of stdin when nothing is pending, then feed. */
void udx_cat_read_stdin(cat *c, uint64_t now);
/* The --stats JSON line; extra (NULL or ", \"k\": v...") goes before the }. */
void udx_cat_print_stats(cat *c, const char *extra);
/* --node: run the stream on an fl_node's server socket (cli_udx_node.c). */
int udx_cat_node_run(cat *c, const char *host, uint32_t port, uint32_t remote_id,
                     const fl_addr *peer);

#endif
