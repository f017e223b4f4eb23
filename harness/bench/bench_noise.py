#!/usr/bin/python3
"""Benchmark: hyperdht's IK handshake (Ed25519), C vs the JS reference, and
both against the floor — the sum of the handshake's primitive operations
timed alone in libsodium (both sides: 2 base-point and 8 variable-base
scalar multiplications, 2 SHA-512 for the ephemeral scalars, 14 MixHash,
30 HMAC-BLAKE2b for 10 HKDFs, 6 ChaCha20-Poly1305 seals).

Builds harness/bench/noise_bench.c with cc against build/lib/libflock.a and
pkg-config libsodium (no CMake edits), runs it and a Node.js loop over
noise-handshake@4.2.0 + noise-curve-ed@2.1.0, and prints figures and ratios.
Never asserts timings. FLOCK_BENCH_ITERS sets the handshakes per round.
"""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BUILD = Path(os.environ.get("FLOCK_BUILD", REPO / "build"))
ITERS = int(os.environ.get("FLOCK_BENCH_ITERS", "40"))
ROUNDS = int(os.environ.get("FLOCK_BENCH_ROUNDS", "25"))

FLOOR_COUNTS = {"scalarmult_base": 2, "scalarmult_var": 8, "sha512": 2, "mixhash": 14,
                "hmac": 30, "aead": 6}

JS = r"""
const NoiseHandshake = require('noise-handshake')
const curve = require('noise-curve-ed')
const c = require('compact-encoding')
const { NS } = require('hyperdht/lib/constants')
const iters = Number(process.argv[1]), rounds = Number(process.argv[2])
const ckp = curve.generateKeyPair(Buffer.alloc(32, 1)), skp = curve.generateKeyPair(Buffer.alloc(32, 2))
const pl1 = Buffer.alloc(20, 7), pl2 = Buffer.alloc(34, 8)
function once () {
  const i = new NoiseHandshake('IK', true, ckp, { curve })
  const r = new NoiseHandshake('IK', false, skp, { curve })
  i.initialise(NS.PEER_HANDSHAKE, skp.publicKey)
  r.initialise(NS.PEER_HANDSHAKE)
  r.recv(i.send(pl1))
  i.recv(r.send(pl2))
  if (!i.tx.equals(r.rx)) throw new Error('keys differ')
}
for (let k = 0; k < iters / 4 + 1; k++) once()
let best = Infinity
for (let r = 0; r < rounds; r++) {
  const t0 = process.hrtime.bigint()
  for (let k = 0; k < iters; k++) once()
  const t = Number(process.hrtime.bigint() - t0) / 1e9 / iters
  if (t < best) best = t
}
console.log('js_ik_handshake ' + best.toFixed(9))
"""


def build_bench(tmp):
    lib = BUILD / "lib" / "libflock.a"
    if not lib.exists():
        sys.exit(f"bench_noise: {lib} missing; run ./run build")
    sodium = subprocess.run(["pkg-config", "--cflags", "--libs", "libsodium"], capture_output=True,
                            text=True, check=True).stdout.split()
    exe = Path(tmp) / "noise_bench"
    subprocess.run(["cc", "-std=c11", "-O2", "-D_POSIX_C_SOURCE=200809L", "-Wall", "-Wextra",
                    "-I", str(REPO / "core" / "include"), str(HERE / "noise_bench.c"),
                    "-o", str(exe), str(lib), *sodium], check=True)
    return exe


def parse(text):
    out = {}
    for line in text.strip().splitlines():
        name, secs = line.split()
        out[name] = float(secs)
    return out


def main():
    with tempfile.TemporaryDirectory() as tmp:
        exe = build_bench(tmp)
        figs = parse(subprocess.run([str(exe), str(ITERS), str(ROUNDS)], capture_output=True,
                                    text=True, check=True).stdout)
    js_ok = True
    try:
        js = subprocess.run(["node", "-e", JS, str(ITERS), str(ROUNDS)], cwd=REPO / "harness" / "interop",
                            capture_output=True, text=True, timeout=600)
        if js.returncode != 0:
            raise RuntimeError(js.stderr)
        figs.update(parse(js.stdout))
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as e:
        js_ok = False
        print(f"JS reference not measured: {e}")

    floor = sum(figs[k] * n for k, n in FLOOR_COUNTS.items())
    us = lambda s: s * 1e6  # noqa: E731
    print("primitives (libsodium, alone):")
    for k, n in FLOOR_COUNTS.items():
        print(f"  {k:16s} {us(figs[k]):9.2f} us x {n:2d} = {us(figs[k] * n):8.1f} us")
    print(f"floor (sum)                              {us(floor):8.1f} us")
    c_ik, c_hd = figs["ik_handshake"], figs["hyperdht_handshake"]
    print(f"C  IK handshake (both sides)   {us(c_ik):8.1f} us  {1 / c_ik:8.0f} handshakes/s  "
          f"ratio to floor {c_ik / floor:.3f}x")
    print(f"C  hyperdht handshake (+payload codec, holepunch secret) {us(c_hd):8.1f} us  "
          f"{1 / c_hd:8.0f}/s  ratio to floor {c_hd / floor:.3f}x")
    if js_ok:
        j = figs["js_ik_handshake"]
        print(f"JS IK handshake (both sides)   {us(j):8.1f} us  {1 / j:8.0f} handshakes/s  "
              f"ratio to floor {j / floor:.3f}x")
        print(f"C speed-up over JS: {j / c_ik:.2f}x")
    print("target: C within 1.1x of the floor")


if __name__ == "__main__":
    main()
