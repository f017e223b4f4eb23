"""Records under churn in the simulator: scenarios/records-churn.toml (5,000
hyperdht nodes, 1,000 topics x 3 announcers refreshed every 10 min, 2,000
lookups, 500 mutable + 500 immutable values) at several churn rates.

For each mean session length it prints the share of lookups that found every
live announcer (and how it falls with churn), announcers found / expected,
stale peer replies, lookup hops and latency, put/get success, the record
store per node (peer records, values, the records layer's memory and its
growth above an empty layer, from fl_hyperdht's counters and allocator), and
the run's wall time, CPU time and peak RSS. Asserts nothing about speed.

Knobs (environment):
  FLOCK_BENCH_REC_SESSIONS  mean sessions in minutes (30,10,3)
  FLOCK_BENCH_REC_NODES     node count (5000; smaller scales arrivals and
                            the live cap with it, not the topics)
  FLOCK_BENCH_REC_TIMEOUT   wall seconds per run (1500); a run past it is
                            killed and reported as such
Every run is a child process (its own CPU time and peak RSS), and the
arrival rate is nodes / mean session so the population stays level.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("FLOCK_BUILD", REPO / "build"))
EXE = BUILD / "bin" / "flocksim"
SCEN = REPO / "scenarios" / "records-churn.toml"


def scenario_text(session_min, nodes):
    text = SCEN.read_text()
    rate = nodes / (session_min * 60)
    text = re.sub(r"(?m)^session_mean_s = \d+", f"session_mean_s = {session_min * 60}", text)
    text = re.sub(r"(?m)^arrival_rate_per_s = [0-9.]+", f"arrival_rate_per_s = {rate:.4f}", text)
    return re.sub(r"(?m)^count = \d+", f"count = {nodes}", text)


def run(session_min, nodes, timeout):
    """One run in a child; returns (summary or None, wall s, CPU s, peak RSS MiB, note).
    The child is reaped with wait4 so its CPU time and peak RSS are its own;
    a timer kills it at the time limit."""
    with tempfile.TemporaryDirectory() as tmp:
        scen = Path(tmp) / f"records-churn-{session_min:g}min.toml"
        scen.write_text(scenario_text(session_min, nodes))
        t0 = time.monotonic()
        p = subprocess.Popen([str(EXE), "run", str(scen), "--json"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ, FLOCK_BUILD=str(BUILD)))
        out, err, killed = [], [], []
        readers = [threading.Thread(target=lambda: out.append(p.stdout.read())),
                   threading.Thread(target=lambda: err.append(p.stderr.read()))]
        for t in readers:
            t.start()
        timer = threading.Timer(timeout, lambda: (killed.append(1), p.kill()))
        timer.start()
        _, status, ru = os.wait4(p.pid, 0)
        timer.cancel()
        for t in readers:
            t.join()
        p.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - t0
        note = (f"killed after {timeout:g} s" if killed else
                f"exit {p.returncode}: {''.join(err).strip()[-300:]}" if p.returncode else "")
        summary = json.loads(out[0]) if not note else None
        return summary, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, note


def main():
    sessions = [float(x) for x in os.environ.get("FLOCK_BENCH_REC_SESSIONS", "30,10,3").split(",")]
    nodes = int(os.environ.get("FLOCK_BENCH_REC_NODES", "5000"))
    timeout = float(os.environ.get("FLOCK_BENCH_REC_TIMEOUT", "1500"))
    if not EXE.exists():
        print(f"{EXE} missing: ./run build first")
        return 1
    print(f"records-churn: {nodes} hyperdht nodes, 1,000 topics x 3 announcers, 2,000 lookups,"
          f" 500 + 500 values; mean sessions {sessions} min")
    rows = []
    for m in sessions:
        s, wall, cpu, rss, note = run(m, nodes, timeout)
        if s is None:
            print(f"session {m:g} min: {note} (wall {wall:.0f} s)")
            continue
        r = s["records"]
        lk, st = r["lookup"], r["store"]
        rows.append((m, lk["found_all_rate"]))
        print(f"\nsession {m:g} min (seed {s['seed']}, {s['hosts']} hosts joined, {s['leaves']} left,"
              f" {st['replacements']} announcers replaced)")
        print(f"  lookups found every live announcer: {lk['found_all']}/{lk['with_announcers']}"
              f" = {100 * lk['found_all_rate']:.2f}%; announcers found {lk['announcers_found']}/"
              f"{lk['announcers_expected']}; stale peer replies {lk['stale_replies']}"
              f" ({lk['stale_replies'] / max(lk['done'], 1):.1f} per lookup)")
        print(f"  lookup hops p50 {lk['hops']['50']} p90 {lk['hops']['90']}, latency p50"
              f" {lk['latency_ms']['50']:.0f} ms p90 {lk['latency_ms']['90']:.0f} ms, all"
              f" announcers found by p50 {(lk['all_found_ms'].get('50') or 0):.0f} ms")
        for k in ("announce", "mutable_put", "mutable_get", "immutable_put", "immutable_get"):
            d = r.get(k)
            if d:
                print(f"  {k:<14} {d['ok']}/{d['done']} ok"
                      + (f" ({100 * d['success_rate']:.2f}%)" if d["success_rate"] is not None else ""))
        print(f"  store per live node: {st['records_per_node']} peer records (max {st['records_max']}),"
              f" {st['values'] / max(st['nodes'], 1):.1f} values; records layer memory"
              f" {st['mem_per_node'] / 1024:.1f} KiB/node (max {st['mem_max'] / 1024:.1f} KiB),"
              f" {st['store_growth_per_node'] / 1024:.2f} KiB/node above an empty layer")
        print(f"  time: {s['virtual_s']:.0f} s virtual in {wall:.0f} s wall, {cpu:.0f} s CPU,"
              f" {s['events'] / 1e6:.1f} M events, peak RSS {rss:.0f} MiB;"
              f" fingerprint {s['fingerprint'][:16]}")
    if len(rows) > 1:
        base = rows[0][1]
        print("\nfound-every-live-announcer share by mean session: " + ", ".join(
            f"{m:g} min {100 * v:.2f}%" for m, v in rows)
              + f"; {rows[-1][0]:g} min vs {rows[0][0]:g} min: "
              f"{100 * (rows[-1][1] - base):+.2f} points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
