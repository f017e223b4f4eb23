"""Server-side cost per request of the record commands: the C store
(core/hyperdht/store.c, through bench_records.c against build/lib/libflock.a)
vs hyperdht@6.34.0's own Persistent handlers (lib/persistent.js) in Node 20,
over the same kinds of requests: ANNOUNCE (decode + Ed25519 verify + store,
distinct topics), LOOKUP of those topics, IMMUTABLE_PUT of 2048-byte values
(BLAKE2b + store). Requests are built and signed before timing starts.
Prints CPU microseconds per request (user + system, so other load on a
shared machine counts less) and the JS/C ratio. Figures only.

    ./run bench   (or: FLOCK_BUILD=build /usr/bin/python3 harness/bench/bench_records.py)
      BENCH_RECORDS_N (default 20000)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from flock.interop import node_available, run_js  # noqa: E402

REPO = HERE.parents[1]
BUILD = Path(os.environ.get("FLOCK_BUILD", REPO / "build"))
N = int(os.environ.get("BENCH_RECORDS_N", "20000"))

JS = r"""
const c = require('compact-encoding'), m = require('hyperdht/lib/messages')
const Persistent = require('hyperdht/lib/persistent'), DHT = require('hyperdht')
const N = +process.argv[1]
const id = Buffer.alloc(32, 0xbb), token = Buffer.alloc(32, 0xcc), kp = DHT.keyPair(Buffer.alloc(32, 0))
const big = { maxSize: 65536, maxAge: 1200000 }, vals = { maxSize: 32768, maxAge: 172800000 }
const fwd = { get() {}, set() {}, delete() {} }
const p = new Persistent({ id, _router: fwd }, { records: big, refreshes: big, bumps: big, mutables: vals, immutables: vals })
const from = { host: '127.0.0.1', port: 5 }
const ok = () => {}
const anns = [], looks = [], imms = []
for (let i = 0; i < N; i++) {
  const target = Buffer.alloc(32); target.writeUInt32LE(i)
  const ann = { peer: { publicKey: kp.publicKey, relayAddresses: [0, 1, 2].map((r) => ({ host: '10.0.0.' + r, port: 9 })) }, refresh: null, signature: null, bump: 0 }
  ann.signature = Persistent.signAnnounce(target, token, id, ann, kp)
  anns.push({ target, token, value: c.encode(m.announce, ann), from, reply: ok, error: ok })
  looks.push({ target, token: null, value: null, from, reply: ok, error: ok })
  const v = Buffer.alloc(2048); v.writeUInt32LE(i)
  imms.push({ target: DHT.hash(v), token, value: v, from, reply: ok, error: ok })
}
const cpu = () => { const u = process.cpuUsage(); return u.user + u.system }
const time = (f, reqs) => { const t0 = cpu(); for (const r of reqs) f.call(p, r); return (cpu() - t0) / N }
const out = { announce_us: time(p.onannounce, anns), lookup_us: time(p.onlookup, looks), immutable_put_us: time(p.onimmutableput, imms) }
p.destroy()
console.log(JSON.stringify(out))
"""


def c_figures():
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    lib = BUILD / "lib" / "libflock.a"
    if not cc or not lib.exists():
        raise SystemExit(f"need a C compiler and {lib} (./run build first)")
    with tempfile.TemporaryDirectory() as d:
        exe = Path(d) / "bench_records"
        subprocess.run([cc, "-std=c11", "-O2", "-I", str(REPO / "core" / "include"),
                        str(HERE / "bench_records.c"), str(lib), "-lsodium", "-o", str(exe)],
                       check=True)
        return json.loads(subprocess.run([str(exe), str(N)], check=True, capture_output=True,
                                         text=True).stdout)


def main():
    c = c_figures()
    print(f"records: {N} requests of each kind, one C store vs hyperdht's Persistent")
    js = json.loads(run_js(JS, args=[str(N)], timeout=300)) if node_available() else None
    for k, name in (("announce_us", "ANNOUNCE (verify + store)"), ("lookup_us", "LOOKUP"),
                    ("immutable_put_us", "IMMUTABLE_PUT 2048 B")):
        line = f"  {name:28s} C {c[k]:8.2f} us"
        if js:
            line += f"   JS {js[k]:8.2f} us   JS/C {js[k] / c[k]:5.2f}x"
        print(line)
    print(f"  C store after {N} announces: {c['records']} records, memory peak "
          f"{c['memory_peak_bytes'] / 1048576:.1f} MiB (includes {N} immutables)")


if __name__ == "__main__":
    main()
