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
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

from ._lib import REPO

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


class LineProc:
    """A child process writing one JSON object per line on stdout."""

    def __init__(self, argv, cwd=None, env=None):
        self.argv = argv
        self.proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env={**os.environ, **(env or {})}, text=True)
        self.pid = self.proc.pid
        self._lines = queue.Queue()
        self._stderr = []
        self._by_req = {}
        self._req = 0
        threading.Thread(target=self._pump, daemon=True).start()
        threading.Thread(target=self._pump_err, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _pump_err(self):
        for line in self.proc.stderr:
            self._stderr.append(line)

    def stderr_tail(self):
        return "".join(self._stderr[-20:])

    def next_msg(self, what, deadline):
        """The next JSON line, or TimeoutError/RuntimeError naming `what`."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.argv[0]}: no {what} in time; stderr:\n"
                                   + self.stderr_tail())
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f"{self.argv[0]} exited (rc={self.proc.wait()}) while "
                                   f"waiting for {what}; stderr:\n" + self.stderr_tail())
            if line.strip():
                return json.loads(line)

    def expect(self, what, pred, timeout=30):
        """Wait for a line satisfying pred; lines answering other requests are
        kept for their callers."""
        deadline = time.monotonic() + timeout
        while True:
            msg = self.next_msg(what, deadline)
            if pred(msg):
                return msg
            if "req" in msg:
                self._by_req[msg["req"]] = msg

    def send_line(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def wait_req(self, req, what, timeout=30):
        if req in self._by_req:
            msg = self._by_req.pop(req)
        else:
            msg = self.expect(what, lambda m: m.get("req") == req, timeout)
        if msg.get("event") == "error":
            raise RuntimeError(f"{what} failed: {msg.get('message')}")
        return msg

    def next_req(self):
        self._req += 1
        return self._req

    def close(self, timeout=10):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def terminate(self, timeout=10):
        """SIGTERM (a dht-node runs until signalled), then wait; kill as a
        last resort so a hung child cannot outlive the test."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


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
