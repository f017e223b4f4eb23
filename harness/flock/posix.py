"""Driving flocknet and the JS reference DHT as processes (io_posix tests and
the DHT benchmark).

  flocknet(*args)          run build/bin/flocknet to completion
  CTestnet(n, ...)         `flocknet dht-testnet`: n C nodes in one process
  JsTestnet()              harness/interop/dht_peer.js: dht-rpc nodes in one process
  xor_closest(ids, t, k)   brute-force k closest ids to a target

Both testnets answer commands with one JSON line carrying the command's req
number; `call` waits for it with a deadline and says what it waited for.
Network rule: every node binds 127.0.0.1, bootstrap lists are loopback.
"""
import json
import os
import subprocess
from pathlib import Path

from ._lib import REPO
from .interop import LineProc

INTEROP = REPO / "harness" / "interop"


def build_dir():
    return Path(os.environ.get("FLOCK_BUILD", REPO / "build"))


def flocknet_path():
    return build_dir() / "bin" / "flocknet"


def flocknet(*args, timeout=30, env=None, input=None):
    """Run flocknet to completion; returns CompletedProcess (text)."""
    e = {k: v for k, v in os.environ.items() if k != "FLOCK_SEED"}
    e.update(env or {})
    return subprocess.run([str(flocknet_path()), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=e, input=input)


class CTestnet(LineProc):
    """`flocknet dht-testnet`: n C nodes in one process. .nodes holds
    {"i","host","port","id"} per node once all have bootstrapped."""

    def __init__(self, n, bootstrap=None, bootstrap_node=False, mode="--persistent",
                 unfirewalled=True, timeout=60):
        argv = [str(flocknet_path()), "dht-testnet", "--nodes", str(n), "--host", "127.0.0.1"]
        if bootstrap:
            argv += ["--bootstrap", ",".join(bootstrap)]
        if bootstrap_node:
            argv.append("--bootstrap-node")
        if mode:
            argv.append(mode)
        if unfirewalled:
            argv.append("--unfirewalled")
        super().__init__(argv)
        msg = self.expect("listening line of the C testnet", lambda m: m.get("event") == "listening",
                          timeout)
        self.nodes = msg["nodes"]

    def call(self, kind, node, *words, timeout=30):
        return self.wait_req(self.start(kind, node, *words), f"C {kind} from node {node}",
                             timeout)

    def start(self, kind, node, *words):
        req = self.next_req()
        self.send_line(" ".join([kind, str(req), str(node), *map(str, words)]))
        return req


class JsTestnet(LineProc):
    """harness/interop/dht_peer.js: dht-rpc@6.27.0 nodes in one Node.js process."""

    def __init__(self):
        super().__init__(["node", "dht_peer.js"], cwd=INTEROP)
        self.nodes = []

    def start_nodes(self, count, bootstrap=(), bootstrapper=False, persistent=True, timeout=60):
        msg = self.call("start", count=count, bootstrap=list(bootstrap),
                        bootstrapper=bootstrapper, persistent=persistent, timeout=timeout)
        self.nodes += msg["nodes"]
        return msg["nodes"]

    def start(self, cmd, **kw):
        req = self.next_req()
        self.send_line(json.dumps({"cmd": cmd, "req": req, **kw}))
        return req

    def call(self, cmd, timeout=30, **kw):
        return self.wait_req(self.start(cmd, **kw), f"JS {cmd}", timeout)


def xor_closest(ids_hex, target_hex, k=20):
    """The k ids (hex) closest to target by XOR distance, closest first."""
    t = int(target_hex, 16)
    return sorted(ids_hex, key=lambda i: int(i, 16) ^ t)[:k]


def proc_cpu_seconds(pid):
    """user + system CPU time of a process, from /proc (seconds)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def proc_peak_rss_kib(pid):
    """VmHWM (peak resident set) of a process in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/%d/status" % pid)
