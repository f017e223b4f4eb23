#!/usr/bin/python3
"""FIND_NODE answers per second and CPU time per answer for one C node, one
JS dht-rpc node and the floor, from one run and one load generator.

The C node (flocknet dht-node) and the JS node are members of the same
loopback testnet of JS nodes, so their replies carry closer nodes; the floor
(io_posix/bench/floor.c) answers the same datagrams with replies of the same
size in recvmmsg/sendmmsg batches and does nothing else. The load generator
(io_posix/bench/loadgen.c) sends 43-byte FIND_NODE requests with fresh
random targets, one datagram per system call, WINDOW in flight. CPU time is
user + system of the measured process, read from /proc before and after.

Prints figures and ratios; asserts nothing about timing. Loopback only.
  BENCH_SECONDS (default 3), BENCH_WINDOWS (default "1,32": requests in
  flight; 1 is strict ping-pong, 32 lets both sides batch), BENCH_NET (24)
"""
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flock.posix import (JsTestnet, LineProc, build_dir, flocknet_path,  # noqa: E402
                         proc_cpu_seconds)

REPO = Path(__file__).resolve().parents[2]
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
WINDOWS = [int(w) for w in os.environ.get("BENCH_WINDOWS", "1,32").split(",")]
NET = int(os.environ.get("BENCH_NET", "24"))


def build_tool(name):
    src = REPO / "io_posix" / "bench" / f"{name}.c"
    out = build_dir() / "bench" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists() or out.stat().st_mtime < src.stat().st_mtime:
        subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(out), str(src)],
                       check=True)
    return out


def load(loadgen, port, seconds, window, count=10**9):
    r = subprocess.run([str(loadgen), "127.0.0.1", str(port), str(seconds), str(count),
                        str(window)], capture_output=True, text=True, timeout=seconds + 30,
                       check=True)
    return json.loads(r.stdout)


def measure(name, pid, port, loadgen, window):
    load(loadgen, port, 0.3, window)  # warm-up: caches, JIT
    cpu0 = proc_cpu_seconds(pid)
    res = load(loadgen, port, SECONDS, window)
    cpu = proc_cpu_seconds(pid) - cpu0
    res.update(name=name, cpu_s=cpu,
               cpu_us_per_answer=cpu * 1e6 / res["answers"] if res["answers"] else float("inf"))
    return res


def main():
    floor_bin, loadgen = build_tool("floor"), build_tool("loadgen")
    procs = []
    try:
        net = JsTestnet()
        procs.append(net)
        net.start_nodes(NET, bootstrapper=True)
        boot = f"127.0.0.1:{net.nodes[0]['port']}"
        cnode = LineProc([str(flocknet_path()), "dht-node", "--bootstrap", boot, "--host",
                          "127.0.0.1", "--persistent", "--unfirewalled", "--json"])
        procs.append(cnode)
        c_port = cnode.expect("C node listening", lambda m: m.get("event") == "listening",
                              60)["port"]
        jnode = JsTestnet()
        procs.append(jnode)
        j_port = jnode.start_nodes(1, bootstrap=[boot])[0]["port"]
        # The floor answers with replies as large as the C node's.
        reply = round(load(loadgen, c_port, 0.3, 1)["reply_bytes_avg"])
        floor = subprocess.Popen([str(floor_bin), "127.0.0.1", "0", str(reply)],
                                 stdout=subprocess.PIPE, text=True)
        f_port = json.loads(floor.stdout.readline())["port"]
        runs = [(w, [measure("floor", floor.pid, f_port, loadgen, w),
                     measure("C node", cnode.pid, c_port, loadgen, w),
                     measure("JS dht-rpc", jnode.pid, j_port, loadgen, w)]) for w in WINDOWS]
        floor.terminate()
        floor.wait(timeout=10)
    finally:
        for p in procs:
            if hasattr(p, "terminate") and p.argv[0].endswith("flocknet"):
                p.terminate()
            else:
                p.close()
    print(f"FIND_NODE over loopback: {SECONDS:.0f} s per node and window, testnet of {NET} JS "
          f"nodes + the two measured nodes, floor replies {reply} bytes")
    for window, rows in runs:
        report(window, rows)


def report(window, rows):
    print(f"\nwindow {window} (requests in flight from the one load generator)")
    print(f"{'':12} {'answers/s':>10} {'lost':>6} {'reply B':>8} {'CPU us/answer':>14}")
    for r in rows:
        print(f"{r['name']:12} {r['answers_per_s']:>10.0f} {r['lost']:>6} "
              f"{r['reply_bytes_avg']:>8.1f} {r['cpu_us_per_answer']:>14.2f}")
    f, c, j = (r["cpu_us_per_answer"] for r in rows)
    print(f"ratios (CPU per answer): C/floor {c / f:.2f}x (target <= 1.5x), "
          f"JS/floor {j / f:.2f}x, JS/C {j / c:.2f}x")
    fa, ca, ja = (r["answers_per_s"] for r in rows)
    print(f"ratios (answers/s): C/floor {ca / fa:.2f}, JS/floor {ja / fa:.2f}, C/JS {ca / ja:.2f}")


if __name__ == "__main__":
    main()
