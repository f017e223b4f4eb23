#!/usr/bin/python3
"""Benchmark: hyperdht's IK handshake (Ed25519), C vs the JS reference, and
both against the floor — the sum of the handshake's primitive operations
timed alone in libsodium (both sides: 2 base-point and 8 variable-base
scalar multiplications, 2 SHA-512 for the ephemeral scalars, 14 MixHash,
30 HMAC-BLAKE2b for 10 HKDFs, 6 ChaCha20-Poly1305 seals).

Builds harness/bench/noise_bench.c with cc against build/lib/libflock.a and
pkg-config libsodium (no CMake edits), runs it and a Node.js loop over
noise-handshake@4.2.0 + noise-curve-ed@2.1.0, and prints figures and ratios.
Times are CPU time (thread CPU time in C, process CPU time in node), best
of FLOCK_BENCH_ROUNDS rounds of FLOCK_BENCH_ITERS handshakes, every figure
interleaved per round. Under callgrind (when valgrind is installed) it also
prints instruction counts, which no machine load can skew. Never asserts
timings.
"""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BUILD = Path(os.environ.get("FLOCK_BUILD", REPO / "build"))
ITERS = int(os.environ.get("FLOCK_BENCH_ITERS", "10"))
ROUNDS = int(os.environ.get("FLOCK_BENCH_ROUNDS", "60"))

FLOOR_COUNTS = {"scalarmult_base": 2, "scalarmult_var": 8, "sha512": 2, "mixhash": 14,
                "hmac": 30, "aead": 6}

JS = r"""
const NoiseHandshake = require('noise-handshake')
const curve = require('noise-curve-ed')
const sodium = require('sodium-native')
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
// The two dominant primitives through the same sodium-native the reference
// uses, interleaved with the handshake so load hits both alike.
const scalar = Buffer.alloc(32, 0x42), out = Buffer.alloc(32)
scalar[31] &= 127; scalar[31] |= 64
const base = () => sodium.crypto_scalarmult_ed25519_base_noclamp(out, scalar)
const vari = () => sodium.crypto_scalarmult_ed25519_noclamp(out, scalar, ckp.publicKey)
// Process CPU time (user + system), as the C side uses thread CPU time, so
// time spent preempted by other jobs does not count.
function batch (fn, n) {
  const t0 = process.cpuUsage()
  for (let k = 0; k < n; k++) fn()
  const d = process.cpuUsage(t0)
  return (d.user + d.system) / 1e6 / n
}
for (let k = 0; k < iters; k++) once()
const best = { js_ik_handshake: Infinity, js_scalarmult_base: Infinity, js_scalarmult_var: Infinity }
for (let r = 0; r < rounds; r++) {
  best.js_ik_handshake = Math.min(best.js_ik_handshake, batch(once, iters))
  best.js_scalarmult_base = Math.min(best.js_scalarmult_base, batch(base, iters * 10))
  best.js_scalarmult_var = Math.min(best.js_scalarmult_var, batch(vari, iters * 8))
}
for (const k in best) console.log(k + ' ' + best[k].toFixed(9))
"""


def build_bench(tmp):
    lib = BUILD / "lib" / "libflock.a"
    if not lib.exists():
        sys.exit(f"bench_noise: {lib} missing; run ./run build")
    sodium = subprocess.run(["pkg-config", "--cflags", "--libs", "libsodium"], capture_output=True,
                            text=True, check=True).stdout.split()
    exe = Path(tmp) / "noise_bench"
    subprocess.run(["cc", "-std=c11", "-O2", "-g", "-D_POSIX_C_SOURCE=200809L", "-Wall", "-Wextra",
                    "-I", str(REPO / "core" / "include"), str(HERE / "noise_bench.c"),
                    "-o", str(exe), str(lib), *sodium], check=True)
    return exe


def instruction_counts(exe, tmp):
    """Instructions per call under callgrind, which no machine load can
    skew: {function: instructions}. None when valgrind is not installed."""
    import shutil
    if not shutil.which("valgrind") or not shutil.which("callgrind_annotate"):
        return None
    iters = 4  # main runs ik_once iters times to warm up, then 1 round of each figure
    calls = {"ik_once": 2 * iters, "hyperdht_once": iters, "op_base": 10 * iters,
             "op_var": 8 * iters, "op_sha512": 100 * iters, "op_mixhash": 100 * iters,
             "op_hmac": 100 * iters, "op_aead": 100 * iters}
    out = Path(tmp) / "cg.out"
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", str(exe),
                    str(iters), "1"], capture_output=True, check=True)
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(out)],
                          capture_output=True, text=True, check=True).stdout
    counts = {}
    for line in text.splitlines():
        for fn, n in calls.items():
            if line.rstrip().endswith(f"noise_bench.c:{fn} [{exe}]"):
                counts[fn] = int(line.split()[0].replace(",", "")) / n
    return counts if len(counts) == len(calls) else None


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
        icounts = instruction_counts(exe, tmp)
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
        # The JS run happens after the C run; on a shared machine the load
        # may differ, so also compare JS with the scalar mults it timed
        # itself (sodium-native) in the same rounds.
        js_sm = 2 * figs["js_scalarmult_base"] + 8 * figs["js_scalarmult_var"]
        c_sm = 2 * figs["scalarmult_base"] + 8 * figs["scalarmult_var"]
        print(f"   scalar mults alone, same run: JS {us(js_sm):.1f} us, C {us(c_sm):.1f} us; "
              f"JS handshake / its scalar mults {j / js_sm:.3f}x, "
              f"C handshake / its scalar mults {c_ik / c_sm:.3f}x")
        print(f"C speed-up over JS: {j / c_ik:.2f}x (load-corrected: "
              f"{(j / js_sm) / (c_ik / c_sm):.2f}x)")
    if icounts:
        fl = sum(icounts["op_" + k.replace("scalarmult_", "")] * n for k, n in FLOOR_COUNTS.items())
        print(f"instructions (callgrind, load-independent): floor {fl / 1e6:.2f} M, "
              f"C IK {icounts['ik_once'] / 1e6:.2f} M ({icounts['ik_once'] / fl:.3f}x), "
              f"C hyperdht {icounts['hyperdht_once'] / 1e6:.2f} M "
              f"({icounts['hyperdht_once'] / fl:.3f}x)")
    print("target: C within 1.1x of the floor")


if __name__ == "__main__":
    main()
