"""UDX throughput on loopback: one stream, one direction, C<->C,
udx-native<->udx-native, C<->udx-native both ways, C on an fl_node's DHT
port (`udx-cat --node`, the epoll driver) both ways, and the floor: raw UDP
datagrams of the same size (1472 bytes) blasted one way. Also CPU seconds
per GiB (both processes, user + sys) and throughput through the seeded
lossy relay at 1% and 5% loss next to udx-native's. Prints figures and
ratios; asserts nothing about speed.

    FLOCK_BUILD=build /usr/bin/python3 harness/bench/bench_udx.py
    UDX_BENCH_MIB=256 UDX_BENCH_REPEAT=3   (defaults)
"""
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests" / "udx"))

from udx_util import LossyRelay, cat_cmd, free_port, spawn  # noqa: E402

MIB = 1 << 20
SIZE = int(os.environ.get("UDX_BENCH_MIB", "256")) * MIB
LOSSY_SIZE = int(os.environ.get("UDX_BENCH_LOSSY_MIB", "16")) * MIB
REPEAT = int(os.environ.get("UDX_BENCH_REPEAT", "3"))


def wait_rusage(proc, timeout):
    """Wait for proc; return (stats dict, cpu seconds) from wait4's rusage."""
    import json
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.01)
    else:
        proc.kill()
        pid, status, ru = os.wait4(proc.pid, 0)
        raise RuntimeError(f"{proc.args[:3]} still running after {timeout}s")
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace")
    stats = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    if not stats:
        raise RuntimeError(f"{proc.args[:3]} failed ({proc.returncode}): {err[-500:]}")
    stats[-1]["rc"] = proc.returncode
    return stats[-1], ru.ru_utime + ru.ru_stime


def cmd(kind, *args, **kw):
    """cat_cmd, plus kind "cn": the C udx-cat on an fl_node's port (--node)."""
    if kind == "cn":
        return cat_cmd("c", *args, **kw) + ["--node"]
    return cat_cmd(kind, *args, **kw)


def one_run(sender, receiver, nbytes, raw=False, relay=None):
    """MB/s (sender's view: start to clean close) and CPU s/GiB of both."""
    pr, ps = free_port(), free_port()
    target = relay.start(ps, pr) if relay else pr
    rx = spawn(cmd(receiver, pr, 1, 2, gen=None if raw else 0, sink=True, hash=False, raw=raw))
    time.sleep(0.3 if receiver == "js" else 0.1)
    tx = spawn(cmd(sender, ps, 2, 1, connect=target, gen=nbytes, sink=True, hash=False, raw=raw))
    try:
        st_tx, cpu_tx = wait_rusage(tx, 300)
        st_rx, cpu_rx = wait_rusage(rx, 300)
    finally:
        if relay:
            relay.stop()
    if raw:  # what arrived, first to last datagram at the receiver
        mbps = st_rx["bytes_in"] / st_rx["seconds"] / 1e6 if st_rx["seconds"] else 0.0
        return mbps, (cpu_tx + cpu_rx) / (st_rx["bytes_in"] / (1 << 30)), st_rx["bytes_in"]
    # Under heavy loss the side that closes first may leave the other's END
    # unacknowledged (the reference frees streams at once): it then times out
    # after every byte arrived. The transfer itself is what we measure.
    if st_rx["bytes_in"] != nbytes or (st_tx["rc"] != 0 and not relay):
        raise RuntimeError(f"{sender}->{receiver} incomplete: {st_tx} {st_rx}")
    mbps = nbytes / st_tx["seconds"] / 1e6
    return mbps, (cpu_tx + cpu_rx) / (nbytes / (1 << 30)), nbytes


def best_of(label, *args, **kw):
    runs = [one_run(*args, **kw) for _ in range(REPEAT)]
    mbps = sorted(r[0] for r in runs)
    cpu = sorted(r[1] for r in runs)
    med_mbps, med_cpu = mbps[len(mbps) // 2], cpu[len(cpu) // 2]
    extra = f"  (raw: {runs[-1][2] / MIB:.0f} MiB of {SIZE / MIB:.0f} arrived)" if kw.get("raw") else ""
    print(f"  {label:<34} {med_mbps:8.1f} MB/s (min {mbps[0]:.1f}, max {mbps[-1]:.1f})"
          f"  {med_cpu:6.2f} CPU s/GiB{extra}", flush=True)
    return med_mbps, med_cpu


def main():
    print(f"bench_udx: {SIZE / MIB:.0f} MiB one way, single stream, 127.0.0.1, "
          f"median of {REPEAT}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    res = {}
    res["raw"] = best_of("raw UDP, 1472-byte datagrams", "c", "c", SIZE, raw=True)
    res["cc"] = best_of("C -> C", "c", "c", SIZE)
    res["jj"] = best_of("udx-native -> udx-native", "js", "js", SIZE)
    res["cj"] = best_of("C -> udx-native", "c", "js", SIZE)
    res["jc"] = best_of("udx-native -> C", "js", "c", SIZE)
    res["nn"] = best_of("C node -> C node (--node, epoll)", "cn", "cn", SIZE)
    res["nj"] = best_of("C node -> udx-native", "cn", "js", SIZE)
    res["jn"] = best_of("udx-native -> C node", "js", "cn", SIZE)
    print("ratios:")
    print(f"  C<->C / udx-native<->udx-native throughput  {res['cc'][0] / res['jj'][0]:.2f}"
          f"  (target >= 1.00)")
    print(f"  C<->C / raw UDP throughput                  {res['cc'][0] / res['raw'][0]:.2f}"
          f"  (target >= 0.70)")
    print(f"  C<->C / udx-native CPU s per GiB            {res['cc'][1] / res['jj'][1]:.2f}"
          f"  (lower is better)")
    print(f"  C node<->C node / C<->C throughput          {res['nn'][0] / res['cc'][0]:.2f}"
          f"  (the stream on a DHT node's port, epoll driver)")
    print(f"lossy relay (Python, seeded), {LOSSY_SIZE / MIB:.0f} MiB one way, median of {REPEAT}:")
    for loss in (0.01, 0.05, 0.20):
        cc = [one_run("c", "c", LOSSY_SIZE, relay=LossyRelay(seed=7 + i, loss=loss))[0]
              for i in range(REPEAT)]
        jj = [one_run("js", "js", LOSSY_SIZE, relay=LossyRelay(seed=7 + i, loss=loss))[0]
              for i in range(REPEAT)]
        cc.sort()
        jj.sort()
        print(f"  {loss:4.0%} loss: C -> C {cc[len(cc) // 2]:7.1f} MB/s, udx-native -> udx-native "
              f"{jj[len(jj) // 2]:7.1f} MB/s, ratio {cc[len(cc) // 2] / jj[len(jj) // 2]:.2f}",
              flush=True)


if __name__ == "__main__":
    main()
