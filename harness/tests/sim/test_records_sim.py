"""The records workload in the simulator (hosts of kind hyperdht: fl_node +
fl_hyperdht): the small scenario announces, looks up and puts/gets values;
lookups find the live announcers; the run is deterministic across
processes and seed-dependent; the log holds the records and store tables;
bad [records] keys are refused with file and line."""
import json
import sqlite3

import pytest

from flock.sim import SCENARIOS, ScenarioError, flocksim_cmd, load_scenario

SCEN = SCENARIOS / "records_small.toml"


def run_json(*args):
    r = flocksim_cmd("run", SCEN, "--json", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    db = tmp_path_factory.mktemp("rec") / "run.sqlite"
    return run_json("--db", db), db


def test_lookups_find_the_live_announcers(run):
    s, _ = run
    rec = s["records"]
    a, lk = rec["announce"], rec["lookup"]
    assert a["started"] >= 12 * 3 and a["success_rate"] >= 0.9
    assert lk["started"] == 40 and lk["done"] == 40
    # Most lookups had live announcers to find, and found every one of them.
    assert lk["with_announcers"] >= 35
    assert lk["found_all_rate"] >= 0.9, lk
    assert lk["announcers_found"] >= 0.9 * lk["announcers_expected"] > 0
    assert lk["hops"]["max"] >= 1 and lk["latency_ms"]["50"] > 0


def test_values_are_put_and_got_back(run):
    rec = run[0]["records"]
    for kind in ("mutable", "immutable"):
        put, get = rec[kind + "_put"], rec[kind + "_get"]
        assert put["started"] == 10 and put["success_rate"] >= 0.9, put
        assert get["started"] + rec["store"]["skipped_gets"] >= 10
        assert get["done"] == get["started"] and get["success_rate"] >= 0.9, get
    st = rec["store"]
    assert st["nodes"] > 0 and st["records"] > 0 and st["values"] > 0
    assert st["mem_per_node"] > 0 and st["records_max"] >= st["records_per_node"]


def test_log_holds_records_and_store_tables(run):
    s, db = run
    con = sqlite3.connect(db)
    kinds = dict(con.execute("SELECT kind, count(*) FROM records GROUP BY kind"))
    lk = con.execute("SELECT count(*), sum(found = expected) FROM records"
                     " WHERE kind = 'lookup' AND expected > 0").fetchone()
    store = con.execute("SELECT count(*), max(records) FROM store").fetchone()
    con.close()
    rec = s["records"]
    assert kinds["lookup"] == rec["lookup"]["done"]
    assert kinds["mutable_get"] == rec["mutable_get"]["done"]
    assert lk == (rec["lookup"]["with_announcers"], rec["lookup"]["found_all"])
    assert store[0] >= 10 and store[1] > 0


def test_fingerprint_deterministic_across_processes_and_seed_dependent(run):
    base = run[0]["fingerprint"]
    again = run_json()
    assert again["fingerprint"] == base
    assert again["records"]["lookup"] == run[0]["records"]["lookup"]
    assert run_json("--seed", "12")["fingerprint"] != base


def refused(tmp_path, text):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(ScenarioError) as e:
        load_scenario(p)
    return str(e.value), str(p)


BASE = """[nodes]
kind = "hyperdht"
count = 10

[records]
topics = 2
lookups = 3
"""


def test_unknown_records_key_is_refused_with_file_and_line(tmp_path):
    msg, p = refused(tmp_path, BASE.replace("lookups = 3", "lookups = 3\ntopic_count = 9"))
    assert msg.startswith(f"{p}:8: [records] topic_count: unknown key 'topic_count'")
    msg, p = refused(tmp_path, BASE.replace("topics = 2", "topics = -1"))
    assert msg == f"{p}:6: [records] topics: must be >= 0"


def test_records_need_hyperdht_nodes_and_topics(tmp_path):
    msg, p = refused(tmp_path, BASE.replace('"hyperdht"', '"dht"'))
    assert msg.startswith(f"{p}:5: [records]: needs [nodes] kind = \"hyperdht\"")
    msg, p = refused(tmp_path, BASE.replace("topics = 2", "topics = 0"))
    assert msg.startswith(f"{p}:7: [records] lookups: needs topics > 0")
    cfg, _ = load_scenario(SCEN)
    assert cfg["records"]["topics"] == 12 and cfg["nodes"]["kind"] == "hyperdht"


def test_traced_hyperdht_host_replays_with_its_workload_calls(run, tmp_path):
    """A host that announced and looked up: its inputs, the records calls
    included, replay into a fresh fl_node + fl_hyperdht with identical output."""
    from flock.sim import flocksim
    con = sqlite3.connect(run[1])
    host = con.execute("SELECT node FROM records GROUP BY node ORDER BY count(*) DESC,"
                       " node LIMIT 1").fetchone()[0]
    con.close()
    db = tmp_path / "trace.sqlite"
    r = flocksim_cmd("run", SCEN, "--db", db, "--verbosity", "3", "--trace-node", host)
    assert r.returncode == 0, r.stderr
    con = sqlite3.connect(db)
    calls = con.execute("SELECT count(*) FROM io WHERE dir = 'records'").fetchone()[0]
    outs = con.execute("SELECT count(*) FROM io WHERE dir = 'out'").fetchone()[0]
    con.close()
    assert calls >= 2 and outs > 50
    assert flocksim.lib().fl_sim_trace_verify(str(db).encode(), host) == outs
