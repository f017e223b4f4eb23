#!/usr/bin/python3
"""flocksim: run Flock scenarios in the deterministic simulator (libflocksim).

  flocksim run SCENARIO.toml [--seed N] [--nodes N] [--db PATH] [--verbosity L] [--json]
  flocksim replay RUN.sqlite [--json]
  flocksim inspect RUN.sqlite --node N --at SECONDS
  flocksim plot RUN.sqlite [--out DIR]

The scenario is read with tomllib and checked against SCHEMA below: an
unknown key or a bad value is refused with file:line: reason. Churn and the
workloads run inside C; Python only configures the engine, steps virtual
time in slices (for the progress line) and summarises. The last line of
`run` and `replay` is "fingerprint: <64 hex>" (with --json, one JSON object
holding "fingerprint"); it covers the simulated events only, so --db,
--verbosity and --json never change it.
"""
import argparse
import ctypes
import json
import math
import os
import re
import sqlite3
import sys
import time
import tomllib
from pathlib import Path

# ---------------------------------------------------------------------------
# The library


def _lib_path():
    if os.environ.get("FLOCKSIM_LIB"):
        return Path(os.environ["FLOCKSIM_LIB"])
    if os.environ.get("FLOCK_BUILD"):
        return Path(os.environ["FLOCK_BUILD"]) / "lib" / "libflocksim.so"
    here = Path(__file__).resolve().parent
    for cand in (here.parent / "lib", here.parent / "build" / "lib"):
        if (cand / "libflocksim.so").exists():
            return cand / "libflocksim.so"
    return here.parent / "lib" / "libflocksim.so"


u8, u16, u32, u64, i32, i64 = (ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32,
                               ctypes.c_uint64, ctypes.c_int32, ctypes.c_int64)
P = ctypes.c_void_p
DROP_REASONS = ["loss", "partition", "queue", "inflight", "no_route", "no_socket",
                "host_down", "nat_filter", "nat_full", "hairpin", "inbox"]
KINDS = {"raw": 0, "dht": 1, "hyperdht": 2}
REC_KINDS = ["announce", "lookup", "mutable_put", "mutable_get", "immutable_put",
             "immutable_get"]
BEHAVIOUR = {"endpoint-independent": 0, "address-dependent": 1,
             "address-and-port-dependent": 2}
PORTS = {"preserve": 0, "sequential": 1, "random": 2}
LATENCY = {"constant": 0, "uniform": 1, "matrix": 2}
SESSION = {"fixed": 0, "exponential": 1, "weibull": 2}
MODES = {"adaptive": 0, "persistent": 1, "ephemeral": 2}


class Addr(ctypes.Structure):
    _fields_ = [("family", u8), ("ip", u8 * 16), ("port", u16)]

    def __str__(self):
        return "%d.%d.%d.%d:%d" % (*self.ip[:4], self.port)


class NatConfig(ctypes.Structure):
    _fields_ = [("mapping", i32), ("filtering", i32), ("ports", i32), ("hairpin", i32),
                ("firewall", i32), ("inbound_refresh", i32), ("timeout_us", u64)]


class ChurnConfig(ctypes.Structure):
    _fields_ = [("start_us", u64), ("end_us", u64), ("arrival_mean_us", u64),
                ("session_dist", i32), ("_pad", i32), ("session_mean_us", u64),
                ("weibull_shape", ctypes.c_double), ("crash_ppm", u32), ("max_live", u32),
                ("addr_change_mean_us", u64), ("churn_initial", i32), ("_pad2", i32)]


class Stats(ctypes.Structure):
    _fields_ = [(n, u64) for n in (
        "now_us", "events", "heap_len", "heap_high", "inflight", "inflight_high", "sent",
        "sent_bytes", "delivered", "delivered_bytes")] + [("dropped", u64 * len(DROP_REASONS))] + [
        (n, u64) for n in ("hosts", "hosts_live", "nats", "nat_mappings", "nat_mappings_high",
                           "joins", "leaves", "crashes", "addr_changes", "queries_started",
                           "queries_done", "queries_ok", "node_errors", "drain_overruns",
                           "node_queue_drops", "node_check_failures")]


class RecordsConfig(ctypes.Structure):
    _fields_ = [("topics", u32), ("announcers", u32), ("announce_start_us", u64),
                ("announce_spread_us", u64), ("refresh_us", u64), ("replace", i32),
                ("lookups", u32), ("lookups_start_us", u64), ("lookups_spread_us", u64),
                ("mutables", u32), ("immutables", u32), ("values_start_us", u64),
                ("values_spread_us", u64), ("get_delay_us", u64), ("value_bytes", u32),
                ("_pad", u32)]


class RecordsOp(ctypes.Structure):
    _fields_ = [("kind", i32), ("ok", i32), ("code", i32)] + [
        (n, u32) for n in ("host", "item", "hops", "acked", "expected", "found", "extra")] + [
        ("start_us", u64), ("end_us", u64), ("all_us", u64)]


class RecordsStore(ctypes.Structure):
    _fields_ = [(n, u64) for n in (
        "nodes", "records", "records_max", "values", "value_bytes", "mem_bytes", "mem_max",
        "mem_base", "announce_rounds", "refreshes", "replacements", "refused", "skipped_gets")]


class SimError(Exception):
    pass


_lib = None


def lib():
    """Load libflocksim.so once and declare every binding's types."""
    global _lib
    if _lib is not None:
        return _lib
    path = _lib_path()
    if not path.exists():
        raise SimError(f"{path} not found: build first (./run build) or set FLOCK_BUILD")
    L = ctypes.CDLL(str(path))
    sigs = {
        "fl_sim_new": (P, u64), "fl_sim_free": (None, P),
        "fl_sim_run_until": (i64, P, u64, u64), "fl_sim_now": (u64, P),
        "fl_sim_next_event": (u64, P), "fl_sim_get_stats": (None, P, ctypes.POINTER(Stats)),
        "fl_sim_fingerprint": (None, P, ctypes.c_char_p),
        "fl_sim_set_latency": (ctypes.c_int, P, ctypes.c_int, u64, u64),
        "fl_sim_set_region_matrix": (ctypes.c_int, P, u32, ctypes.POINTER(u64)),
        "fl_sim_set_jitter": (ctypes.c_int, P, u64), "fl_sim_set_loss": (ctypes.c_int, P, u32),
        "fl_sim_set_bandwidth": (ctypes.c_int, P, u64, u64),
        "fl_sim_add_partition": (ctypes.c_int, P, u64, u64, u32),
        "fl_sim_nat_new": (ctypes.c_int, P, ctypes.POINTER(NatConfig)),
        "fl_sim_host_new": (ctypes.c_int, P, ctypes.c_int, ctypes.c_int, u32),
        "fl_sim_host_leave": (ctypes.c_int, P, ctypes.c_int, ctypes.c_int),
        "fl_sim_host_addr": (ctypes.c_int, P, ctypes.c_int, u32, ctypes.POINTER(Addr)),
        "fl_sim_host_public_ip": (ctypes.c_int, P, ctypes.c_int, ctypes.POINTER(Addr)),
        "fl_sim_host_live": (ctypes.c_int, P, ctypes.c_int),
        "fl_sim_host_sent": (ctypes.c_int, P, ctypes.c_int, ctypes.POINTER(u64),
                             ctypes.POINTER(u64)),
        "fl_sim_nat_mappings": (ctypes.c_int, P, ctypes.c_int),
        "fl_sim_raw_send": (ctypes.c_int, P, ctypes.c_int, ctypes.POINTER(Addr),
                            ctypes.c_char_p, ctypes.c_size_t),
        "fl_sim_raw_recv": (ctypes.c_int, P, ctypes.c_int, ctypes.POINTER(Addr),
                            ctypes.c_char_p, ctypes.c_size_t),
        "fl_sim_add_nat_profile": (ctypes.c_int, P, u32, ctypes.c_int, ctypes.POINTER(NatConfig)),
        "fl_sim_set_region_weights": (ctypes.c_int, P, u32, ctypes.POINTER(u32)),
        "fl_sim_set_churn": (ctypes.c_int, P, ctypes.POINTER(ChurnConfig)),
        "fl_sim_spawn": (ctypes.c_int, P, ctypes.c_int, u32, u32, u64, u64),
        "fl_sim_schedule_lookups": (ctypes.c_int, P, u32, u64, u64),
        "fl_sim_set_metrics_period": (ctypes.c_int, P, u64),
        "fl_sim_set_node_mode": (ctypes.c_int, P, ctypes.c_int),
        "fl_sim_query_count": (u32, P),
        "fl_sim_query_get": (ctypes.c_int, P, u32, ctypes.POINTER(u32), ctypes.POINTER(u64),
                             ctypes.POINTER(u64), ctypes.POINTER(u32), ctypes.POINTER(i32)),
        "fl_sim_record_open": (ctypes.c_int, P, ctypes.c_char_p, ctypes.c_int),
        "fl_sim_record_meta": (ctypes.c_int, P, ctypes.c_char_p, ctypes.c_char_p),
        "fl_sim_record_trace_host": (ctypes.c_int, P, ctypes.c_int),
        "fl_sim_record_flush": (ctypes.c_int, P),
        "fl_sim_host_dump": (ctypes.c_int, P, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t),
        "fl_sim_set_inflight_max": (ctypes.c_int, P, u64),
        "fl_sim_trace_verify": (i64, ctypes.c_char_p, ctypes.c_int),
        "fl_sim_check": (ctypes.c_int, P),
        "fl_sim_set_records": (ctypes.c_int, P, ctypes.POINTER(RecordsConfig)),
        "fl_sim_records_count": (u32, P),
        "fl_sim_records_get": (ctypes.c_int, P, u32, ctypes.POINTER(RecordsOp)),
        "fl_sim_records_store_get": (ctypes.c_int, P, ctypes.POINTER(RecordsStore)),
        "fl_version": (ctypes.c_char_p,),
    }
    for name, (res, *args) in sigs.items():
        fn = getattr(L, name)
        fn.restype = res
        fn.argtypes = args
    _lib = L
    return L


def check(rc, what):
    if rc is not None and rc < 0:
        raise SimError(f"{what} failed with error {rc}")
    return rc


class Sim:
    """A thin owner of one fl_sim."""

    def __init__(self, seed):
        self.L = lib()
        self.p = self.L.fl_sim_new(seed)
        if not self.p:
            raise SimError("fl_sim_new failed")

    def close(self):
        if self.p:
            self.L.fl_sim_free(self.p)
            self.p = None

    def __del__(self):
        self.close()

    def __getattr__(self, name):
        fn = getattr(self.L, "fl_sim_" + name)

        def call(*args):
            rc = fn(self.p, *args)
            if isinstance(rc, int) and fn.restype is ctypes.c_int:
                check(rc, "fl_sim_" + name)
            return rc
        return call

    def stats(self):
        st = Stats()
        self.L.fl_sim_get_stats(self.p, ctypes.byref(st))
        return st

    def fingerprint(self):
        buf = ctypes.create_string_buffer(32)
        self.L.fl_sim_fingerprint(self.p, buf)
        return buf.raw.hex()

    def addr(self, host, sock=0):
        a = Addr()
        check(self.L.fl_sim_host_addr(self.p, host, sock, ctypes.byref(a)), "host_addr")
        return a

    def send(self, host, to, data):
        return check(self.L.fl_sim_raw_send(self.p, host, ctypes.byref(to), data, len(data)),
                     "raw_send")

    def recv(self, host):
        a, buf = Addr(), ctypes.create_string_buffer(2048)
        n = self.L.fl_sim_raw_recv(self.p, host, ctypes.byref(a), buf, 2048)
        return None if n < 0 else (a, buf.raw[:n])

    def dump(self, host):
        buf = ctypes.create_string_buffer(65536)
        n = check(self.L.fl_sim_host_dump(self.p, host, buf, 65536), "host_dump")
        return buf.raw[:n].decode(errors="replace")

    def queries(self):
        out = []
        h, s, e, hops, ok = u32(), u64(), u64(), u32(), i32()
        for i in range(self.L.fl_sim_query_count(self.p)):
            check(self.L.fl_sim_query_get(self.p, i, ctypes.byref(h), ctypes.byref(s),
                                          ctypes.byref(e), ctypes.byref(hops), ctypes.byref(ok)),
                  "query_get")
            out.append((h.value, s.value, e.value, hops.value, ok.value))
        return out

    def records_ops(self):
        op, out = RecordsOp(), []
        for i in range(self.L.fl_sim_records_count(self.p)):
            check(self.L.fl_sim_records_get(self.p, i, ctypes.byref(op)), "records_get")
            out.append({n: getattr(op, n) for n, _ in RecordsOp._fields_})
        return out

    def records_store(self):
        st = RecordsStore()
        check(self.L.fl_sim_records_store_get(self.p, ctypes.byref(st)), "records_store_get")
        return {n: getattr(st, n) for n, _ in RecordsStore._fields_}


# ---------------------------------------------------------------------------
# Scenarios


class ScenarioError(Exception):
    pass


def _num(lo=None, hi=None, integer=False):
    def chk(v):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return "must be a number"
        if integer and not isinstance(v, int):
            return "must be an integer"
        if lo is not None and v < lo:
            return f"must be >= {lo}"
        if hi is not None and v > hi:
            return f"must be <= {hi}"
        return None
    return chk


def _choice(options):
    return lambda v: None if v in options else "must be one of " + ", ".join(sorted(options))


def _bool(v):
    return None if isinstance(v, bool) else "must be true or false"


def _list_of(chk, n_min=1):
    def c(v):
        if not isinstance(v, list) or len(v) < n_min:
            return f"must be a list of at least {n_min}"
        for x in v:
            r = chk(x)
            if r:
                return "every element " + r
        return None
    return c


def _matrix(v):
    if not isinstance(v, list) or not v or not all(isinstance(r, list) for r in v):
        return "must be a list of rows"
    if any(len(r) != len(v) for r in v):
        return "must be square"
    if len(v) > 16:
        return "at most 16 regions"
    for r in v:
        for x in r:
            if _num(0, 10000)(x):
                return "latencies must be numbers of ms in [0, 10000]"
    return None


# section -> key -> (check, default, description). [[nat]] and [[partition]]
# are arrays of tables.
SCHEMA = {
    "run": {"seed": (_num(0, 2**63, True), 1, "scenario seed"),
            "duration_s": (_num(1, 10**7), 600, "virtual seconds to run"),
            "name": (lambda v: None if isinstance(v, str) else "must be a string", "", "label")},
    "nodes": {"count": (_num(1, 1 << 20, True), 100, "hosts spawned at the start"),
              "kind": (_choice(KINDS), "dht", "node kind: dht (fl_node), hyperdht (+ fl_hyperdht) or raw"),
              "bootstrap": (_num(0, 16, True), 3, "public bootstrap hosts among them"),
              "mode": (_choice(MODES), "adaptive",
                       "dht-rpc mode of public hosts (NATed ones stay adaptive)"),
              "join_spread_s": (_num(0, 10**6), 10, "spawns spread evenly over this")},
    "network": {"latency": (_choice(LATENCY), "constant", "latency model"),
                "latency_ms": (_num(0, 10000), 30, "constant one-way latency"),
                "latency_min_ms": (_num(0, 10000), 10, "uniform lower bound"),
                "latency_max_ms": (_num(0, 10000), 100, "uniform upper bound"),
                "jitter_ms": (_num(0, 10000), 0, "extra uniform delay [0, jitter]"),
                "loss": (_num(0, 1), 0.0, "loss probability"),
                "bandwidth_kbps": (_num(0, 10**7), 0, "uplink per host (0 = unlimited)"),
                "queue_kb": (_num(2, 10**6), 64, "uplink queue")},
    "regions": {"names": (_list_of(lambda v: None if isinstance(v, str) else "must be a string"),
                          ["default"], "region names"),
                "weights": (_list_of(_num(0, 10**6, True)), [1], "share of hosts per region"),
                "matrix_ms": (_matrix, [[30]], "one-way latency from row to column")},
    "nat": {"weight": (_num(0, 10**6, True), 1, "share of hosts with this profile"),
            "type": (_choice({"public", "nat", "firewall"}), "nat", "public, nat or firewall"),
            "mapping": (_choice(BEHAVIOUR), "endpoint-independent", "RFC 4787 mapping"),
            "filtering": (_choice(BEHAVIOUR), "address-and-port-dependent", "RFC 4787 filtering"),
            "ports": (_choice(PORTS), "preserve", "port allocation"),
            "timeout_s": (_num(1, 86400), 120, "mapping lifetime after last outbound"),
            "hairpin": (_bool, False, "hairpinning"),
            "inbound_refresh": (_bool, False, "inbound traffic refreshes mappings")},
    "churn": {"arrival_rate_per_s": (_num(0, 10**5), 0, "Poisson joins per second"),
              "session": (_choice(SESSION), "exponential", "session length distribution"),
              "session_mean_s": (_num(0, 10**7), 0, "mean (weibull: scale); 0 = no leaves"),
              "weibull_shape": (_num(0.1, 10), 0.6, "Weibull shape k"),
              "crash_fraction": (_num(0, 1), 0.5, "leaves that are crashes"),
              "addr_change_mean_s": (_num(0, 10**7), 0, "mean gap between address changes"),
              "start_s": (_num(0, 10**7), 0, "churn window start"),
              "end_s": (_num(0, 10**7), 10**7, "churn window end"),
              "initial": (_bool, True, "the initial hosts churn too"),
              "max_live": (_num(0, 1 << 20, True), 0, "pause joins at this many (0 = no cap)")},
    "workload": {"lookups": (_num(0, 10**7, True), 0, "FIND_NODE lookups to random targets"),
                 "lookups_start_s": (_num(0, 10**7), 60, "first lookup"),
                 "lookups_spread_s": (_num(0, 10**7), 60, "lookups spread evenly over this")},
    "records": {"topics": (_num(0, 1 << 16, True), 0, "topics announced (kind hyperdht)"),
                "announcers": (_num(1, 16, True), 3, "announcers per topic"),
                "announce_start_s": (_num(0, 10**7), 60, "first announce"),
                "announce_spread_s": (_num(0, 10**7), 60, "announces spread evenly over this"),
                "refresh_s": (_num(0, 10**7), 600, "re-announce interval (0 = once)"),
                "replace": (_bool, True, "a departed announcer's slot goes to a new live host"),
                "lookups": (_num(0, 10**6, True), 0, "lookups of random topics"),
                "lookups_start_s": (_num(0, 10**7), 300, "first lookup"),
                "lookups_spread_s": (_num(0, 10**7), 300, "lookups spread evenly over this"),
                "mutables": (_num(0, 10**6, True), 0, "mutable values put, each got once"),
                "immutables": (_num(0, 10**6, True), 0, "immutable values put, each got once"),
                "values_start_s": (_num(0, 10**7), 300, "first put"),
                "values_spread_s": (_num(0, 10**7), 300, "puts spread evenly over this"),
                "get_delay_s": (_num(0, 10**7), 60, "a value is got this long after its put"),
                "value_bytes": (_num(1, 1000, True), 100, "bytes per value")},
    "partition": {"start_s": (_num(0, 10**7), 0, "partition starts"),
                  "end_s": (_num(0, 10**7), 60, "partition heals"),
                  "fraction": (_num(0, 1), 0.5, "share of addresses on the cut-off side")},
    "metrics": {"period_s": (_num(0, 10**6), 10, "metrics sample period (0 = none)")},
}
ARRAYS = {"nat", "partition"}


def _key_line(text, section, index, key):
    """The 1-based line of key in [section] (or the index-th [[section]]);
    tomllib reports lines only for syntax errors, so we find it ourselves."""
    cur, count, fallback = None, {}, 1
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        m = re.match(r"^\[\[\s*([A-Za-z0-9_.-]+)\s*\]\]", s) or re.match(r"^\[\s*([A-Za-z0-9_.-]+)\s*\]", s)
        if m:
            name = m.group(1)
            if section is None and name == key:
                return n
            count[name] = count.get(name, -1) + 1
            cur = (name, count[name])
            if cur == (section, index):
                fallback = n
            continue
        if cur == (section, index) or (section is None and cur is None):
            km = re.match(r'^("?)([A-Za-z0-9_-]+)\1\s*=', s)
            if key is not None and km and km.group(2) == key:
                return n
    return fallback


def load_scenario(path, text=None):
    """Parse and check a scenario; returns (config dict, text)."""
    path = str(path)
    if text is None:
        try:
            text = Path(path).read_text()
        except OSError as e:
            raise ScenarioError(f"{path}: {e.strerror}")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+)", str(e))
        raise ScenarioError(f"{path}:{m.group(1) if m else 1}: {e}")

    def fail(section, index, key, reason):
        line = _key_line(text, section, index, key)
        where = f"[{section}]" if section else "top level"
        raise ScenarioError(f"{path}:{line}: {where} {key}: {reason}" if key
                            else f"{path}:{line}: {where}: {reason}")

    cfg = {}
    for section, body in raw.items():
        if section not in SCHEMA:
            fail(None, 0, section, f"unknown section or key '{section}'")
        tables = body if section in ARRAYS else [body]
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            fail(section, 0, None, "must be " + ("[[%s]] tables" % section if section in ARRAYS
                                                 else "a [%s] table" % section))
        out = []
        for i, t in enumerate(tables):
            got = {}
            for key, val in t.items():
                if key not in SCHEMA[section]:
                    fail(section, i, key, f"unknown key '{key}' (known: "
                         + ", ".join(sorted(SCHEMA[section])) + ")")
                reason = SCHEMA[section][key][0](val)
                if reason:
                    fail(section, i, key, reason)
                got[key] = val
            full = {k: v[1] for k, v in SCHEMA[section].items()}
            full.update(got)
            out.append(full)
        cfg[section] = out if section in ARRAYS else out[0]
    for section in SCHEMA:
        if section not in cfg:
            cfg[section] = [] if section in ARRAYS else {k: v[1] for k, v in SCHEMA[section].items()}
    # Cross-field checks.
    r = cfg["regions"]
    if len(r["weights"]) != len(r["names"]) or len(r["matrix_ms"]) != len(r["names"]):
        fail("regions", 0, "weights" if len(r["weights"]) != len(r["names"]) else "matrix_ms",
             f"needs one entry per region ({len(r['names'])})")
    n = cfg["network"]
    if n["latency_max_ms"] < n["latency_min_ms"]:
        fail("network", 0, "latency_max_ms", "must be >= latency_min_ms")
    if cfg["nodes"]["bootstrap"] > cfg["nodes"]["count"]:
        fail("nodes", 0, "bootstrap", "must be <= count")
    for i, p in enumerate(cfg["partition"]):
        if p["end_s"] <= p["start_s"]:
            fail("partition", i, "end_s", "must be > start_s")
    if cfg["churn"]["end_s"] < cfg["churn"]["start_s"]:
        fail("churn", 0, "end_s", "must be >= start_s")
    rc = cfg["records"]
    if "records" in raw and cfg["nodes"]["kind"] != "hyperdht":
        fail("records", 0, None, 'needs [nodes] kind = "hyperdht"')
    if rc["lookups"] and not rc["topics"]:
        fail("records", 0, "lookups", "needs topics > 0")
    return cfg, text


US = 1_000_000


def _nat_config(p):
    return NatConfig(BEHAVIOUR[p["mapping"]], BEHAVIOUR[p["filtering"]], PORTS[p["ports"]],
                     int(p["hairpin"]), int(p["type"] == "firewall"), int(p["inbound_refresh"]),
                     int(p["timeout_s"] * US))


def configure(sim, cfg, nodes=None):
    """Apply a checked scenario to a fresh Sim. --nodes scales the node
    count, the arrival rate and the workload together."""
    count = cfg["nodes"]["count"]
    scale = (nodes / count) if nodes else 1.0
    count = nodes or count
    net = cfg["network"]
    model = LATENCY[net["latency"]]
    if model == 2:
        m = cfg["regions"]["matrix_ms"]
        flat = (u64 * (len(m) ** 2))(*[int(x * 1000) for row in m for x in row])
        sim.set_region_matrix(len(m), flat)
    elif model == 1:
        sim.set_latency(1, int(net["latency_min_ms"] * 1000), int(net["latency_max_ms"] * 1000))
    else:
        sim.set_latency(0, int(net["latency_ms"] * 1000), 0)
    sim.set_jitter(int(net["jitter_ms"] * 1000))
    sim.set_loss(int(round(net["loss"] * 1e6)))
    if net["bandwidth_kbps"]:
        sim.set_bandwidth(int(net["bandwidth_kbps"] * 1000), int(net["queue_kb"] * 1024))
    w = cfg["regions"]["weights"]
    sim.set_region_weights(len(w), (u32 * len(w))(*w))
    for p in cfg["partition"]:
        sim.add_partition(int(p["start_s"] * US), int(p["end_s"] * US), int(p["fraction"] * 1e6))
    for p in cfg["nat"]:
        nc = _nat_config(p)
        sim.add_nat_profile(p["weight"], int(p["type"] == "public"), ctypes.byref(nc))
    c = cfg["churn"]
    if c["arrival_rate_per_s"] or c["session_mean_s"] or c["addr_change_mean_s"]:
        rate = c["arrival_rate_per_s"] * scale
        cc = ChurnConfig(int(c["start_s"] * US), int(c["end_s"] * US),
                         int(US / rate) if rate > 0 else 0, SESSION[c["session"]], 0,
                         int(c["session_mean_s"] * US), float(c["weibull_shape"]),
                         int(c["crash_fraction"] * 1e6), int(c["max_live"] * scale),
                         int(c["addr_change_mean_s"] * US), int(c["initial"]), 0)
        sim.set_churn(ctypes.byref(cc))
    nd = cfg["nodes"]
    sim.set_node_mode(MODES[nd["mode"]])
    sim.spawn(KINDS[nd["kind"]], count, min(nd["bootstrap"], count), 0,
              int(nd["join_spread_s"] * US))
    wl = cfg["workload"]
    lookups = int(round(wl["lookups"] * scale))
    if lookups:
        sim.schedule_lookups(lookups, int(wl["lookups_start_s"] * US),
                             int(wl["lookups_spread_s"] * US))
    r = cfg["records"]
    if r["topics"] or r["mutables"] or r["immutables"]:
        rc = RecordsConfig(r["topics"], r["announcers"], int(r["announce_start_s"] * US),
                           int(r["announce_spread_s"] * US), int(r["refresh_s"] * US),
                           int(r["replace"]), r["lookups"], int(r["lookups_start_s"] * US),
                           int(r["lookups_spread_s"] * US), r["mutables"], r["immutables"],
                           int(r["values_start_s"] * US), int(r["values_spread_s"] * US),
                           int(r["get_delay_s"] * US), r["value_bytes"], 0)
        sim.set_records(ctypes.byref(rc))
    if cfg["metrics"]["period_s"]:
        sim.set_metrics_period(int(cfg["metrics"]["period_s"] * US))
    return count


# ---------------------------------------------------------------------------
# Running


def _pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(math.ceil(p / 100 * len(xs))) - 1 if p > 0 else 0)]


def execute(scenario_path, text, cfg, seed, nodes, db=None, verbosity=0, until_s=None,
            progress=False, trace_host=None):
    """Run a scenario; returns (sim, summary dict). The caller closes sim."""
    sim = Sim(seed)
    if db:
        if os.path.exists(db):
            os.unlink(db)
        sim.record_open(str(db).encode(), verbosity)
        if trace_host is not None:
            sim.record_trace_host(trace_host)
        for k, v in (("scenario", text), ("scenario_path", str(scenario_path)),
                     ("seed", str(seed)), ("nodes", str(nodes or "")),
                     ("version", lib().fl_version().decode()), ("verbosity", str(verbosity))):
            sim.record_meta(k.encode(), v.encode())
    count = configure(sim, cfg, nodes)
    duration = int((until_s if until_s is not None else cfg["run"]["duration_s"]) * US)
    t0 = time.monotonic()
    step = max(US, duration // 200)
    while True:
        now = sim.now()
        if now >= duration:
            break
        sim.run_until(min(now + step, duration), 0)
        if progress:
            el = time.monotonic() - t0
            st = sim.stats()
            done = sim.now() / duration
            eta = el / done - el if done > 0 else 0
            sys.stderr.write(f"\r  t={sim.now() / US:8.1f}s  {st.events / max(el, 1e-9):10.0f} ev/s"
                             f"  live={st.hosts_live:6d}  ETA {eta:5.1f}s ")
            sys.stderr.flush()
    wall = time.monotonic() - t0
    sim.check()  # the engine's invariants, once per run (raises SimError)
    if progress:
        sys.stderr.write("\n")
    summary = summarise(sim, cfg, seed, count, wall)
    if db:
        sim.record_meta(b"fingerprint", summary["fingerprint"].encode())
        sim.record_meta(b"summary", json.dumps(summary).encode())
        sim.record_flush()
    return sim, summary


def summarise(sim, cfg, seed, count, wall):
    st = sim.stats()
    qs = sim.queries()
    done = [q for q in qs if q[4] >= 0]
    ok = [q for q in qs if q[4] == 1]
    hops = [q[3] for q in ok]
    lat = [(q[2] - q[1]) / 1000 for q in ok]
    sent = []
    for h in range(st.hosts):
        d, b = u64(), u64()
        check(sim.L.fl_sim_host_sent(sim.p, h, ctypes.byref(d), ctypes.byref(b)), "host_sent")
        sent.append(b.value)
    pct = lambda xs: {p: _pct(xs, p) for p in (50, 90, 99)} | {"max": max(xs) if xs else None}
    return {
        "scenario": cfg["run"]["name"], "seed": seed, "nodes": count,
        "virtual_s": st.now_us / US, "wall_s": round(wall, 3),
        "speedup": round(st.now_us / US / wall, 1) if wall > 0 else None,
        "events": st.events, "events_per_s": round(st.events / wall) if wall > 0 else None,
        "hosts": st.hosts, "live": st.hosts_live, "leaves": st.leaves, "crashes": st.crashes,
        "addr_changes": st.addr_changes, "nats": st.nats,
        "lookups": len(qs), "lookups_done": len(done), "lookups_ok": len(ok),
        "success_rate": round(len(ok) / len(qs), 4) if qs else None,
        "hops": pct(hops), "latency_ms": pct(lat),
        "hops_mean": round(sum(hops) / len(hops), 3) if hops else None,
        "bytes_per_node": {"mean": round(sum(sent) / len(sent)) if sent else 0,
                           **pct(sent)},
        "datagrams": {"sent": st.sent, "delivered": st.delivered,
                      "dropped": {r: st.dropped[i] for i, r in enumerate(DROP_REASONS)
                                  if st.dropped[i]}},
        "heap_high": st.heap_high, "inflight_high": st.inflight_high,
        "nat_mappings_high": st.nat_mappings_high, "node_errors": st.node_errors,
        "node_queue_drops": st.node_queue_drops,
        "records": records_summary(sim, pct) if sim.L.fl_sim_records_count(sim.p) else None,
        "fingerprint": sim.fingerprint(),
    }


def records_summary(sim, pct):
    """The records workload: per kind started/done/ok; for lookups the share
    that found every live announcer (over those with at least one), hops,
    latency and time to the last announcer; the store over live nodes."""
    ops = sim.records_ops()
    out = {}
    for k, name in enumerate(REC_KINDS):
        mine = [o for o in ops if o["kind"] == k]
        if not mine:
            continue
        done = [o for o in mine if o["ok"] >= 0]
        ok = [o for o in mine if o["ok"] == 1]
        d = {"started": len(mine), "done": len(done), "ok": len(ok),
             "success_rate": round(len(ok) / len(done), 4) if done else None}
        if name == "lookup":
            real = [o for o in done if o["expected"] > 0]
            full = [o for o in real if o["ok"] == 1]
            d |= {"with_announcers": len(real), "found_all": len(full),
                  "found_all_rate": round(len(full) / len(real), 4) if real else None,
                  "announcers_expected": sum(o["expected"] for o in real),
                  "announcers_found": sum(o["found"] for o in real),
                  "stale_replies": sum(o["extra"] for o in done),
                  "hops": pct([o["hops"] for o in done]),
                  "latency_ms": pct([(o["end_us"] - o["start_us"]) / 1000 for o in done]),
                  "all_found_ms": pct([(o["all_us"] - o["start_us"]) / 1000 for o in full
                                       if o["all_us"]])}
        elif name in ("announce", "mutable_put", "immutable_put"):
            d["acked"] = pct([o["acked"] for o in done])
        out[name] = d
    st = sim.records_store()
    n = max(st["nodes"], 1)
    out["store"] = st | {"records_per_node": round(st["records"] / n, 2),
                         "mem_per_node": round(st["mem_bytes"] / n),
                         "store_growth_per_node": round((st["mem_bytes"] - st["mem_base"]) / n)}
    return out


def print_summary(s, out=sys.stdout):
    def fmt(d, unit=""):
        return "  ".join(f"p{k}={v}{unit}" if isinstance(k, int) else f"{k}={v}{unit}"
                         for k, v in d.items() if v is not None) or "-"
    rows = [
        ("scenario", f"{s['scenario'] or '-'} seed={s['seed']} nodes={s['nodes']}"),
        ("time", f"{s['virtual_s']:.1f} s virtual in {s['wall_s']:.2f} s wall "
                 f"({s['speedup']}x), {s['events']} events ({s['events_per_s']}/s)"),
        ("hosts", f"{s['hosts']} joined, {s['live']} live, {s['leaves']} left "
                  f"({s['crashes']} crashed), {s['addr_changes']} address changes, {s['nats']} NATs"),
        ("lookups", f"{s['lookups']} started, {s['lookups_done']} done, {s['lookups_ok']} ok"
                    + (f" ({100 * s['success_rate']:.1f}%)" if s["success_rate"] is not None else "")),
        ("hops", fmt(s["hops"])),
        ("latency", fmt({k: (round(v, 1) if v is not None else None)
                         for k, v in s["latency_ms"].items()}, " ms")),
        ("bytes/node", fmt(s["bytes_per_node"])),
        ("datagrams", f"{s['datagrams']['sent']} sent, {s['datagrams']['delivered']} delivered, "
                      "dropped: " + (", ".join(f"{k} {v}" for k, v in s["datagrams"]["dropped"].items())
                                     or "none")),
        ("limits", f"node queue-limit drops {s['node_queue_drops']}, node call errors "
                   f"{s['node_errors']}, heap high {s['heap_high']}, in flight high "
                   f"{s['inflight_high']}, NAT mappings high {s['nat_mappings_high']}"),
    ]
    rec = s.get("records")
    if rec:
        for name in REC_KINDS:
            d = rec.get(name)
            if not d:
                continue
            line = f"{d['started']} started, {d['done']} done, {d['ok']} ok"
            if d["success_rate"] is not None:
                line += f" ({100 * d['success_rate']:.1f}%)"
            if name == "lookup":
                line += (f"; found every live announcer in {d['found_all']}/{d['with_announcers']}"
                         + (f" ({100 * d['found_all_rate']:.1f}%)" if d["found_all_rate"] is not None
                            else "") + f", announcers {d['announcers_found']}/"
                         f"{d['announcers_expected']}, stale replies {d['stale_replies']}, hops "
                         f"{fmt(d['hops'])}, latency {fmt(d['latency_ms'], ' ms')}")
            elif "acked" in d:
                line += f"; stored at {fmt(d['acked'])} nodes"
            rows.append((name, line))
        st = rec["store"]
        rows.append(("store", f"{st['nodes']} live nodes: {st['records']} peer records "
                     f"({st['records_per_node']}/node, max {st['records_max']}), {st['values']} "
                     f"values ({st['value_bytes']} B); records layer memory "
                     f"{st['mem_per_node']} B/node (max {st['mem_max']}; above the empty layer "
                     f"{st['store_growth_per_node']} B/node); {st['announce_rounds']} "
                     f"announce rounds, {st['replacements']} announcers replaced, "
                     f"{st['refused']} starts refused, {st['skipped_gets']} gets skipped"))
    for k, v in rows:
        print(f"{k:<12} {v}", file=out)


# ---------------------------------------------------------------------------
# Commands


def _meta(db):
    if not os.path.exists(db):
        raise SimError(f"{db}: no such file")
    con = sqlite3.connect(db)
    try:
        return dict(con.execute("SELECT key, value FROM meta"))
    finally:
        con.close()


def cmd_run(a):
    cfg, text = load_scenario(a.scenario)
    seed = a.seed if a.seed is not None else cfg["run"]["seed"]
    sim, summary = execute(a.scenario, text, cfg, seed, a.nodes, a.db, a.verbosity,
                           progress=sys.stderr.isatty() and not a.json,
                           trace_host=a.trace_node)
    sim.close()
    if a.json:
        print(json.dumps(summary))
    else:
        print_summary(summary)
        if a.db:
            print(f"{'log':<12} {a.db}  (plots: flocksim plot {a.db})")
        print(f"fingerprint: {summary['fingerprint']}")
    return 0


def _rerun(db, until_s=None):
    meta = _meta(db)
    cfg, text = load_scenario(meta.get("scenario_path", db), meta["scenario"])
    nodes = int(meta["nodes"]) if meta.get("nodes") else None
    sim, summary = execute(meta.get("scenario_path", db), text, cfg, int(meta["seed"]), nodes,
                           until_s=until_s)
    return meta, sim, summary


def cmd_replay(a):
    meta, sim, summary = _rerun(a.db)
    sim.close()
    want = meta.get("fingerprint")
    match = want == summary["fingerprint"]
    if a.json:
        print(json.dumps(summary | {"recorded": want, "match": match}))
    else:
        print_summary(summary)
        print(f"{'replay':<12} {'MATCH' if match else 'MISMATCH'} (recorded {want})")
        print(f"fingerprint: {summary['fingerprint']}")
    return 0 if match else 1


def cmd_inspect(a):
    meta, sim, _ = _rerun(a.db, until_s=a.at)
    try:
        print(f"at t={sim.now() / US:.6f} s")
        if not 0 <= a.node < sim.stats().hosts:
            raise SimError(f"node {a.node} has not joined by t={a.at} s "
                           f"({sim.stats().hosts} nodes so far)")
        print(sim.dump(a.node), end="")
    finally:
        sim.close()
    return 0


def cmd_plot(a):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    con = sqlite3.connect(a.db)
    out = Path(a.out) if a.out else Path(a.db).with_suffix("")
    out = Path(str(out) + "-plots") if not a.out else out
    out.mkdir(parents=True, exist_ok=True)
    lat = sorted(r[0] / 1000 for r in con.execute("SELECT latency_us FROM queries WHERE ok = 1"))
    hops = [r[0] for r in con.execute("SELECT hops FROM queries WHERE ok = 1")]
    met = list(con.execute("SELECT t_us, live, table_fill_avg FROM metrics ORDER BY t_us"))
    con.close()
    files = []

    def save(fig, name):
        p = out / name
        fig.savefig(p, dpi=100, bbox_inches="tight")
        plt.close(fig)
        files.append(p)
    fig, ax = plt.subplots(figsize=(6, 4))
    if lat:
        ax.plot(lat, [(i + 1) / len(lat) for i in range(len(lat))])
    ax.set(xlabel="lookup latency (ms)", ylabel="fraction of lookups", title="Lookup latency CDF")
    ax.grid(True, alpha=.3)
    save(fig, "latency_cdf.png")
    fig, ax = plt.subplots(figsize=(6, 4))
    if hops:
        ax.hist(hops, bins=range(0, max(hops) + 2), align="left", rwidth=.8)
    ax.set(xlabel="hops", ylabel="lookups", title="Lookup hops")
    save(fig, "hops_hist.png")
    fig, ax = plt.subplots(figsize=(7, 4))
    if met:
        t = [m[0] / US for m in met]
        ax.plot(t, [m[1] for m in met], label="live nodes", color="C0")
        ax.set_ylabel("live nodes")
        ax2 = ax.twinx()
        ax2.plot(t, [m[2] for m in met], label="routing-table fill (avg)", color="C1")
        ax2.set_ylabel("routing-table entries per node (avg)")
        fig.legend(loc="upper left", bbox_to_anchor=(0.13, 0.87))
    ax.set(xlabel="virtual time (s)", title="Live nodes and routing-table fill")
    save(fig, "live_and_table_fill.png")
    for f in files:
        print(f)
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="flocksim", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run a scenario")
    r.add_argument("scenario")
    r.add_argument("--seed", type=int)
    r.add_argument("--nodes", type=int)
    r.add_argument("--db")
    r.add_argument("--verbosity", type=int, default=1, choices=range(4),
                   help="0 queries+metrics, 1 +joins/leaves/NAT, 2 +datagrams, 3 +traced node io")
    r.add_argument("--trace-node", type=int, help="host whose io verbosity 3 records (default 0)")
    r.add_argument("--json", action="store_true")
    p = sub.add_parser("replay", help="re-run a recorded run and check its fingerprint")
    p.add_argument("db")
    p.add_argument("--json", action="store_true")
    i = sub.add_parser("inspect", help="replay to a time and dump one node")
    i.add_argument("db")
    i.add_argument("--node", type=int, required=True)
    i.add_argument("--at", type=float, required=True, help="virtual seconds")
    pl = sub.add_parser("plot", help="PNG charts from a run's log")
    pl.add_argument("db")
    pl.add_argument("--out")
    a = ap.parse_args(argv)
    try:
        return {"run": cmd_run, "replay": cmd_replay, "inspect": cmd_inspect,
                "plot": cmd_plot}[a.cmd](a)
    except (ScenarioError, SimError) as e:
        print(f"flocksim: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
