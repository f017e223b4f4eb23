"""Simulator benchmark: 10,000 fl_nodes bootstrapping and doing 10,000
FIND_NODE lookups (wall time, virtual/wall ratio, events/s, peak RSS,
bytes per node, logging overhead), then the largest node count reached.

Prints figures, asserts nothing about speed. Knobs (environment):
  FLOCK_BENCH_SIM_NODES    nodes of the main run (10000)
  FLOCK_BENCH_SIM_LADDER   node counts to try for the largest run
                           (20000,50000,100000)
  FLOCK_BENCH_SIM_TIMEOUT  wall seconds allowed per attempt (300)
  FLOCK_BENCH_SIM_MEM_GB   address-space limit per attempt (16)
  FLOCK_BENCH_JS_LADDER    node counts for the reference's testnet
                           (500,1000,2000,4000); "" skips it
Every run is a child process, so its peak RSS is its own.
"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("FLOCK_BUILD", REPO / "build"))
EXE = BUILD / "bin" / "flocksim"

SCENARIO = """
[run]
name = "bench-{nodes}"
seed = 1
duration_s = {duration}

[nodes]
kind = "dht"
count = {nodes}
bootstrap = 3
join_spread_s = {spread}
mode = "persistent"        # public hosts persistent at once, as dht-rpc's testnet


[network]
latency = "uniform"
latency_min_ms = 10
latency_max_ms = 120

[[nat]]
type = "public"
weight = 30

[[nat]]
weight = 50
mapping = "endpoint-independent"
filtering = "address-and-port-dependent"

[[nat]]
weight = 20
mapping = "address-and-port-dependent"
filtering = "address-and-port-dependent"
ports = "random"

[workload]
lookups = {lookups}
lookups_start_s = {spread}
lookups_spread_s = {lookup_spread}

[metrics]
period_s = 30
"""


def run(nodes, lookups, duration, spread, lookup_spread, db=None, timeout=300, mem_gb=16):
    """One flocksim run in a child; returns (summary dict or None, wall s, peak RSS MiB, note)."""
    with tempfile.TemporaryDirectory() as tmp:
        scen = Path(tmp) / "bench.toml"
        scen.write_text(SCENARIO.format(nodes=nodes, lookups=lookups, duration=duration,
                                        spread=spread, lookup_spread=lookup_spread))
        cmd = [str(EXE), "run", str(scen), "--json"] + (["--db", str(db)] if db else [])

        def limit():
            lim = int(mem_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             preexec_fn=limit, env=dict(os.environ, FLOCK_BUILD=str(BUILD)))
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            return None, time.monotonic() - t0, 0, f"timed out after {timeout} s"
        wall = time.monotonic() - t0
        # communicate() reaped the child: RUSAGE_CHILDREN holds the largest so far.
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        rss = ru.ru_maxrss / 1024
        if p.returncode != 0:
            return None, wall, rss, (err.decode().strip().splitlines() or ["failed"])[-1]
        summary = json.loads(out)
        if summary["hosts"] < nodes:
            return None, wall, rss, f"only {summary['hosts']} of {nodes} hosts could be created"

        # CPU seconds of this child alone: the machine is shared, so wall
        # time alone would charge us for other people's work.
        cpu = ru.ru_utime + ru.ru_stime - run.cpu_before
        run.cpu_before = ru.ru_utime + ru.ru_stime
        summary["cpu_s"] = round(cpu, 2)
        return summary, wall, rss, ""


run.cpu_before = 0.0


JS_TESTNET = r"""
// The reference's own testnet on 127.0.0.1: N nodes (one bootstrapper, the
// rest persistent), fully bootstrapped, then L FIND_NODE lookups, 16 at a time.
const DHT = require('dht-rpc')
const crypto = require('crypto')
const cfg = JSON.parse(require('fs').readFileSync(0, 'utf8'))
async function main () {
  const t0 = Date.now()
  const boot = new DHT({ ephemeral: false, firewalled: false, bootstrap: [], host: '127.0.0.1' })
  await boot.ready()
  const bootstrap = [{ host: '127.0.0.1', port: boot.address().port }]
  const nodes = [boot]
  for (let i = 1; i < cfg.nodes; i++) nodes.push(new DHT({ bootstrap, ephemeral: false, host: '127.0.0.1' }))
  await Promise.all(nodes.map(n => n.fullyBootstrapped()))
  const t1 = Date.now()
  let ok = 0, next = 0
  async function worker () {
    while (next < cfg.lookups) {
      const i = next++
      const q = nodes[1 + (i % (nodes.length - 1))].findNode(crypto.randomBytes(32))
      await q.finished()
      if (q.closestReplies.length > 0) ok++
    }
  }
  await Promise.all(Array.from({ length: 16 }, worker))
  const t2 = Date.now()
  await Promise.all(nodes.map(n => n.destroy()))
  console.log(JSON.stringify({ nodes: cfg.nodes, bootstrap_s: (t1 - t0) / 1000, lookups_s: (t2 - t1) / 1000, ok, rss_mb: process.memoryUsage().rss / 2 ** 20 }))
}
main().catch(e => { console.error(e); process.exit(1) })
"""


def js_testnet(ladder, timeout):
    """The reference's own testnet on loopback, as many nodes as it holds.
    It runs in real time, so it simulates `nodes` node-seconds per wall second."""
    sys.path.insert(0, str(REPO / "harness"))
    from flock import interop
    if not interop.node_available():
        print("JS testnet: node or harness/interop/node_modules missing (./run build)")
        return
    print(f"JS reference testnet (dht-rpc, 127.0.0.1, real time), each bounded to {timeout:.0f} s:")
    for n in ladder:
        try:
            r = interop.run_js_json(JS_TESTNET, {"nodes": n, "lookups": n}, timeout=timeout)
        except RuntimeError as e:
            print(f"  {n:6d} nodes: not reached ({str(e).splitlines()[0]})")
            break
        print(f"  {n:6d} nodes: bootstrapped in {r['bootstrap_s']:.1f} s, {n} lookups in "
              f"{r['lookups_s']:.1f} s ({r['ok']} ok, {n / r['lookups_s']:.0f}/s), "
              f"RSS {r['rss_mb']:.0f} MiB; {n} node-seconds per wall second")


def main():
    if not EXE.exists():
        sys.exit(f"{EXE} missing: ./run build")
    n = int(os.environ.get("FLOCK_BENCH_SIM_NODES", "10000"))
    timeout = float(os.environ.get("FLOCK_BENCH_SIM_TIMEOUT", "300"))
    mem_gb = float(os.environ.get("FLOCK_BENCH_SIM_MEM_GB", "16"))
    print(f"main run: {n} nodes join over 300 s, {n} lookups over 300 s, 900 s virtual")
    s, wall, rss, note = run(n, n, 900, 300, 300, timeout=timeout * 2, mem_gb=mem_gb)
    if s is None:
        print(f"  failed: {note}")
        return
    print(f"  wall time            {wall:8.1f} s (engine {s['wall_s']:.1f} s)")
    print(f"  CPU time             {s['cpu_s']:8.1f} s")
    print(f"  virtual / wall       {s['virtual_s'] / s['wall_s']:8.1f} x"
          f"  (virtual / CPU {s['virtual_s'] / s['cpu_s']:.1f} x)")
    print(f"  node-seconds / wall  {s['virtual_s'] * s['nodes'] / s['wall_s']:8.0f}")
    print(f"  events               {s['events']} ({s['events_per_s']} /s)")
    print(f"  peak RSS             {rss:8.0f} MiB ({rss * 1024 / n:.0f} KiB per node)")
    print(f"  bytes sent per node  mean {s['bytes_per_node']['mean']}  p50 {s['bytes_per_node']['50']}"
          f"  p99 {s['bytes_per_node']['99']}")
    print(f"  lookups              {s['lookups_ok']}/{s['lookups']} ok, hops p50 {s['hops']['50']}"
          f" p90 {s['hops']['90']}, latency p50 {s['latency_ms']['50']:.0f} ms")
    print(f"  fingerprint          {s['fingerprint']}")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite"
        s2, wall2, _, note = run(n, n, 900, 300, 300, db=db, timeout=timeout * 2, mem_gb=mem_gb)
        if s2:
            size = db.stat().st_size / 2**20
            print(f"  with SQLite log (verbosity 1): {s2['cpu_s']:.1f} s CPU vs {s['cpu_s']:.1f} s"
                  f" = {100 * (s2['cpu_s'] / s['cpu_s'] - 1):+.1f}% ({size:.0f} MiB log); "
                  f"fingerprint {'same' if s2['fingerprint'] == s['fingerprint'] else 'DIFFERENT'}")
        else:
            print(f"  with SQLite log: failed: {note}")
    ladder = [int(x) for x in os.environ.get("FLOCK_BENCH_SIM_LADDER", "20000,50000,100000").split(",")]
    print(f"largest run: bootstrap over 120 s + 1000 lookups, 300 s virtual; "
          f"each attempt bounded to {timeout:.0f} s wall and {mem_gb:.0f} GiB")
    best = None
    for count in ladder:
        s, wall, rss, note = run(count, 1000, 300, 120, 120, timeout=timeout, mem_gb=mem_gb)
        if s is None:
            print(f"  {count:7d} nodes: not reached ({note}, {wall:.0f} s)")
            break
        best = count
        print(f"  {count:7d} nodes: {wall:6.1f} s wall, {s['cpu_s']:6.1f} s CPU, "
              f"{s['virtual_s'] / s['wall_s']:6.1f}x, "
              f"{s['events_per_s']} events/s, peak RSS {rss:.0f} MiB, "
              f"lookups {s['lookups_ok']}/{s['lookups']} ok")
    print(f"largest node count reached: {best or n}")
    js_ladder = os.environ.get("FLOCK_BENCH_JS_LADDER", "500,1000,2000,4000")
    if js_ladder:
        js_testnet([int(x) for x in js_ladder.split(",")], timeout)


if __name__ == "__main__":
    main()
