"""Determinism: the same scenario and seed give the same fingerprint in
separate processes; another seed gives another; the log and its verbosity
change nothing; replay re-runs a log and matches."""
import json
import re

from flock.sim import SCENARIOS, flocksim_cmd

SCEN = SCENARIOS / "small.toml"
FP = re.compile(r"^fingerprint: ([0-9a-f]{64})$")


def fingerprint(*args):
    r = flocksim_cmd("run", SCEN, *args)
    assert r.returncode == 0, r.stderr
    last = r.stdout.strip().splitlines()[-1]
    m = FP.match(last)
    assert m, f"last line is not a fingerprint: {last!r}"
    return m.group(1), r.stdout


def test_same_seed_same_fingerprint_in_three_processes():
    fps = {fingerprint("--seed", "5")[0] for _ in range(3)}
    assert len(fps) == 1


def test_other_seed_other_fingerprint():
    assert fingerprint("--seed", "5")[0] != fingerprint("--seed", "6")[0]


def test_log_verbosity_and_json_do_not_change_it(tmp_path):
    base, _ = fingerprint("--seed", "5")
    for v in ("0", "2"):
        fp, out = fingerprint("--seed", "5", "--db", tmp_path / f"v{v}.sqlite", "--verbosity", v)
        assert fp == base
    r = flocksim_cmd("run", SCEN, "--seed", "5", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["fingerprint"] == base


def test_replay_matches_and_detects_a_change(tmp_path):
    db = tmp_path / "run.sqlite"
    fp, _ = fingerprint("--seed", "5", "--db", db)
    r = flocksim_cmd("replay", db)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().splitlines()[-1] == f"fingerprint: {fp}"
    assert "MATCH" in r.stdout
    import sqlite3
    con = sqlite3.connect(db)
    con.execute("UPDATE meta SET value = ? WHERE key = 'seed'", ("6",))
    con.commit()
    con.close()
    r = flocksim_cmd("replay", db)
    assert r.returncode == 1
    assert "MISMATCH" in r.stdout


def test_inspect_dumps_a_node(tmp_path):
    db = tmp_path / "run.sqlite"
    fingerprint("--seed", "5", "--db", db)
    r = flocksim_cmd("inspect", db, "--node", "3", "--at", "30")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("at t=30.000000 s\nhost 3 ")


def test_nodes_scales_count_and_workload():
    r = flocksim_cmd("run", SCEN, "--nodes", "30", "--json")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["nodes"] == 30
    assert s["lookups"] == 25  # small.toml: 50 lookups for 60 nodes
    assert s["lookups_ok"] >= 20


def test_plot_writes_three_pngs(tmp_path):
    db = tmp_path / "run.sqlite"
    fingerprint("--seed", "5", "--db", db)
    r = flocksim_cmd("plot", db, "--out", tmp_path / "plots")
    assert r.returncode == 0, r.stderr
    files = [tmp_path / "plots" / n for n in ("latency_cdf.png", "hops_hist.png",
                                              "live_and_table_fill.png")]
    assert r.stdout.split() == [str(f) for f in files]
    for f in files:
        assert f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
