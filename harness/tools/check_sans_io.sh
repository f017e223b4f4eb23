#!/usr/bin/env bash
# The sans-IO rule (DESIGN.md) as a check over compiled objects: no object of
# core/ may import a clock, socket, print, thread or global-randomness symbol,
# including libsodium calls that draw from its global generator inside.
#   check_sans_io.sh OBJ...                     fails if any OBJ imports one
#   check_sans_io.sh --expect-violation OBJ...  fails unless one does (proves
#                                               the check can fail at all)
set -u
expect=0
if [ "${1:-}" = "--expect-violation" ]; then expect=1; shift; fi
[ $# -gt 0 ] || { echo "usage: $0 [--expect-violation] OBJ..." >&2; exit 2; }

forbidden='^(clock_gettime|clock_getres|clock|gettimeofday|time|times|ftime|timespec_get|nanosleep|usleep|sleep|getrandom|getentropy|rand|srand|random|srandom|rand_r|drand48|erand48|lrand48|mrand48|arc4random.*|socket|socketpair|bind|connect|listen|accept|accept4|send|sendto|sendmsg|sendmmsg|recv|recvfrom|recvmsg|recvmmsg|getaddrinfo|gethostbyname|select|poll|ppoll|epoll_.*|open|open64|openat|fopen|fopen64|read|write|printf|fprintf|vprintf|vfprintf|dprintf|puts|fputs|putchar|fputc|putc|fwrite|perror|syslog|pthread_.*|thrd_.*|mtx_.*|cnd_.*|fork|exit|getenv|randombytes_.*|.*_keygen|crypto_sign_keypair|crypto_sign_ed25519_keypair|crypto_box_keypair|crypto_box_curve25519xsalsa20poly1305_keypair|crypto_kx_keypair|crypto_box_seal|crypto_core_.*_scalar_random|crypto_secretstream_xchacha20poly1305_init_push)$'

found=0
for obj in "$@"; do
  syms=$(nm -u "$obj" 2>/dev/null | awk '{print $NF}' | sed 's/@.*//') || {
    echo "cannot read symbols of $obj" >&2; exit 2; }
  bad=$(printf '%s\n' "$syms" | grep -E "$forbidden" || true)
  if [ -n "$bad" ]; then
    found=1
    for s in $bad; do echo "sans-IO violation: $(basename "$obj") imports $s"; done
  fi
done

if [ "$expect" = 1 ]; then
  if [ "$found" = 1 ]; then echo "ok: the check caught the planted violation"; exit 0; fi
  echo "FAIL: the planted violation was not caught" >&2; exit 1
fi
if [ "$found" = 1 ]; then exit 1; fi
echo "ok: $# core objects import no clock, socket, print, thread or global-randomness symbol"
