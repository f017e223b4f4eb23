#!/usr/bin/env bash
# Fails unless every symbol libflock.so defines and exports starts with fl_.
set -u
lib=${1:?usage: check_exports.sh libflock.so}
syms=$(nm -D --defined-only "$lib" | awk '{print $NF}' | sed 's/@.*//')
[ -n "$syms" ] || { echo "FAIL: $lib exports nothing" >&2; exit 1; }
bad=$(printf '%s\n' "$syms" | grep -v '^fl_' || true)
if [ -n "$bad" ]; then echo "FAIL: exported symbols without the fl_ prefix:"; echo "$bad"; exit 1; fi
echo "ok: $(printf '%s\n' "$syms" | wc -l) exported symbols, all fl_"
