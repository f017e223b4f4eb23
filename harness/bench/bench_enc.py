"""Decode throughput of core/enc vs compact-encoding@3.5.2 (Node 20).

Two workloads over the same bytes (seeded): 1,000,000 varints spread over
every width, and 200,000 length-prefixed buffers of 0..300 bytes. C runs as
a small program (bench_enc.c) built here against build/lib/libflock.a with
the system compiler; JS runs compact-encoding's decoders over the same file.
Prints items/s, MB/s and the C/JS ratio. Figures only, never assertions.

    ./run bench      (or: FLOCK_BUILD=build /usr/bin/python3 harness/bench/bench_enc.py)
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from flock import enc  # noqa: E402
from flock.interop import INTEROP, node_available  # noqa: E402

REPO = HERE.parents[1]
BUILD = Path(os.environ.get("FLOCK_BUILD", REPO / "build"))
SEED = int(os.environ.get("FL_TEST_SEED", "1"), 0)

JS = r"""
const c = require('compact-encoding')
const fs = require('fs')
const [kind, file, count, reps] = process.argv.slice(1)
const buf = fs.readFileSync(file)
const codec = kind === 'varint' ? c.uint : c.buffer
let sink = 0
const t0 = process.hrtime.bigint()
for (let r = 0; r < +reps; r++) {
  const state = c.state(0, buf.byteLength, buf)
  for (let i = 0; i < +count; i++) {
    const v = codec.decode(state)
    sink += kind === 'varint' ? v : v.byteLength
  }
  if (state.start !== buf.byteLength) throw new Error('did not consume all')
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9
console.log(JSON.stringify({ seconds, items: count * reps, bytes: buf.byteLength * reps, sink }))
"""


def make_data(rng):
    # Varints: values up to 2^53-1 so compact-encoding accepts every one.
    tops = [0xFC, 0xFFFF, 0xFFFFFFFF, 2**53 - 1]
    varints = b"".join(enc.encode_uint(rng.randint(0, rng.choice(tops))) for _ in range(1_000_000))
    buffers = b"".join(enc.encode_buffer(rng.randbytes(rng.randint(0, 300))) for _ in range(200_000))
    return {"varint": (varints, 1_000_000), "buffer": (buffers, 200_000)}


def build_c(tmp):
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    lib = BUILD / "lib" / "libflock.a"
    if not cc or not lib.exists():
        raise SystemExit(f"bench_enc: need a C compiler and {lib} (./run build)")
    exe = Path(tmp) / "bench_enc"
    subprocess.run([cc, "-std=c11", "-O2", "-I", str(REPO / "core" / "include"),
                    str(HERE / "bench_enc.c"), str(lib), "-lsodium", "-o", str(exe)], check=True)
    return exe


def run(cmd, **kw):
    out = subprocess.run(cmd, check=True, capture_output=True, timeout=300, **kw).stdout
    return json.loads(out)


def main():
    rng = random.Random(SEED)
    data = make_data(rng)
    with tempfile.TemporaryDirectory() as tmp:
        exe = build_c(tmp)
        print(f"{'workload':<10} {'impl':<4} {'Mitems/s':>10} {'MB/s':>9}   (reps over the same bytes)")
        for kind, (blob, count) in data.items():
            path = Path(tmp) / f"{kind}.bin"
            path.write_bytes(blob)
            reps = 20 if kind == "varint" else 20
            figs = {"C": run([str(exe), kind, str(path), str(count), str(reps)])}
            if node_available():
                figs["JS"] = run(["node", "-e", JS, kind, str(path), str(count), str(reps)],
                                 cwd=INTEROP)
            for impl, f in figs.items():
                print(f"{kind:<10} {impl:<4} {f['items'] / f['seconds'] / 1e6:>10.1f} "
                      f"{f['bytes'] / f['seconds'] / 1e6:>9.1f}")
            if "JS" in figs:
                ratio = figs["JS"]["seconds"] / figs["C"]["seconds"]
                print(f"{kind:<10} C/JS throughput ratio: {ratio:.2f}x")
            else:
                print(f"{kind:<10} (node or harness/interop/node_modules missing: no JS figure)")


if __name__ == "__main__":
    main()
