"""secret-stream throughput: C against libsodium's raw secretstream (the
floor) and against @hyperswarm/secret-stream@6.9.2 in Node.

  python3 harness/bench/bench_secretstream.py [MiB per size, default 32]

Builds harness/bench/secretstream_bench.c with cc against build/lib/libflock.a
and libsodium (pkg-config), runs it, runs the JS reference on the same message
sizes (two streams joined by in-memory raw duplexes in one process: write ->
frame + encrypt -> decrypt + unframe -> data event), and prints MB/s (10^6
bytes of plaintext per second) and the ratios. Figures vary by machine; the
ratios are what to compare. Times are CPU time (C: the thread's; JS: the
process's), so load from other processes on a shared machine counts less. Targets: C push >= 80% of the floor, C well
ahead of JS.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BUILD = Path(os.environ.get("FLOCK_BUILD", REPO / "build"))
sys.path.insert(0, str(REPO / "harness"))

JS = r"""
const SS = require('@hyperswarm/secret-stream')
const { Duplex } = require('streamx')
const [size, total] = process.argv.slice(1).map(Number)
const hs = (i) => ({ tx: Buffer.alloc(32, i ? 1 : 2), rx: Buffer.alloc(32, i ? 2 : 1),
  hash: Buffer.alloc(64, 3), publicKey: Buffer.alloc(32), remotePublicKey: Buffer.alloc(32) })
function run () {
  return new Promise((resolve) => {
    const ra = new Duplex({ write (d, cb) { rb.push(d); cb() } })
    const rb = new Duplex({ write (d, cb) { ra.push(d); cb() } })
    const a = new SS(true, ra, { handshake: hs(true) })
    const b = new SS(false, rb, { handshake: hs(false) })
    const msg = require('crypto').randomBytes(size)
    const count = Math.floor(total / size)
    let got = 0
    let t0 = 0
    b.on('data', (d) => {
      got += d.byteLength
      if (got === size * count) {
        const u = process.cpuUsage(t0)
        const t = (u.user + u.system) / 1e6
        a.destroy(); b.destroy()
        resolve(t)
      }
    })
    let sent = 0
    t0 = process.cpuUsage()
    const pump = () => {
      while (sent < count) {
        sent++
        if (!a.write(msg)) { a.once('drain', pump); return }
      }
    }
    pump()
  })
}
(async () => {
  let best = 1e9
  for (let r = 0; r < 3; r++) best = Math.min(best, await run())
  const count = Math.floor(total / size)
  process.stdout.write(JSON.stringify({ size, js: size * count / 1e6 / best }))
})()
"""


def build_c():
    out = BUILD / "bench" / "secretstream_bench"
    out.parent.mkdir(parents=True, exist_ok=True)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libsodium"], check=True,
                           capture_output=True, text=True).stdout.split()
    subprocess.run(["cc", "-O2", "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-Wall", "-Wextra",
                    "-Werror", "-I", str(REPO / "core" / "include"),
                    str(HERE / "secretstream_bench.c"), str(BUILD / "lib" / "libflock.a"),
                    *flags, "-o", str(out)], check=True)
    return out


def main():
    mib = int(sys.argv[1]) if len(sys.argv) > 1 else 32
    total = mib << 20
    exe = build_c()
    rows = [json.loads(line) for line in subprocess.run(
        [str(exe), str(total)], check=True, capture_output=True, text=True).stdout.splitlines()]
    from flock import interop
    for r in rows:
        # JS moves fewer bytes at small sizes so the run stays short.
        js_total = min(total, max(r["size"] * 50000, 4 << 20))
        out = interop.run_js(JS, args=(str(r["size"]), str(js_total)), timeout=300)
        r["js"] = json.loads(out)["js"]
        # end to end in one process: push then pull the same bytes
        r["c_e2e"] = 1 / (1 / r["c_push"] + 1 / r["c_pull"])
    print(f"secret-stream throughput, MB/s of plaintext ({mib} MiB per size for C)")
    print(f"{'size':>9} {'floor push':>11} {'C push':>9} {'C/floor':>8} {'floor pull':>11}"
          f" {'C pull':>9} {'C/floor':>8} {'C e2e':>9} {'JS e2e':>9} {'C/JS':>7}")
    for r in rows:
        print(f"{r['size']:>9} {r['floor_push']:>11.0f} {r['c_push']:>9.0f}"
              f" {r['c_push'] / r['floor_push']:>8.2f} {r['floor_pull']:>11.0f}"
              f" {r['c_pull']:>9.0f} {r['c_pull'] / r['floor_pull']:>8.2f}"
              f" {r['c_e2e']:>9.0f} {r['js']:>9.0f} {r['c_e2e'] / r['js']:>7.1f}")
    print("C push = fl_ss_push (uint24 frame + encrypt into the output buffer) + consume;"
          " C pull = fl_ss_recv + poll (decrypt + unframe);")
    print("C e2e = push then pull in one thread; JS e2e = write -> data event through two"
          " @hyperswarm/secret-stream instances joined in memory (one thread).")


if __name__ == "__main__":
    main()
