"""Shared helpers for the UDX interop suites: processes, ports, the
benchmark pattern, a JS peer wrapper and a lossy loopback relay."""
import hashlib
import heapq
import json
import os
import queue
import random
import select
import socket
import subprocess
import threading
import time
from pathlib import Path

from flock import interop

HARNESS = Path(__file__).resolve().parents[2]
REPO = HARNESS.parent
BUILD = Path(os.environ.get("FLOCK_BUILD", REPO / "build"))
FLOCKNET = BUILD / "bin" / "flocknet"
JS_CAT = interop.INTEROP / "udx" / "udx_cat.js"
JS_PEER = interop.INTEROP / "udx" / "udx_peer.js"

PERIOD = 512 * 1024
_PATTERN = bytes(((off * 131 + (off >> 11)) & 255) for off in range(PERIOD))


def pattern_sha256(nbytes):
    """sha256 of the first nbytes of the udx-cat --gen pattern."""
    h = hashlib.sha256()
    full, rest = divmod(nbytes, PERIOD)
    for _ in range(full):
        h.update(_PATTERN)
    h.update(_PATTERN[:rest])
    return h.hexdigest()


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cat_cmd(kind, port, lid, rid, connect=None, gen=None, sink=False, stats=True, hash=True,
            raw=False):
    """argv for `flocknet udx-cat` (kind "c") or its udx-native twin ("js")."""
    base = [str(FLOCKNET), "udx-cat"] if kind == "c" else ["node", str(JS_CAT)]
    argv = base + ["--host", "127.0.0.1", "--port", str(port), "--id", str(lid),
                   "--remote-id", str(rid)]
    argv += ["--connect", f"127.0.0.1:{connect}"] if connect else ["--listen"]
    if gen is not None:
        argv += ["--gen", str(gen)]
    if sink:
        argv.append("--sink")
    if stats:
        argv.append("--stats")
    if stats and hash:
        argv.append("--hash")
    if raw:
        argv.append("--raw")
    return argv


def spawn(argv, **kw):
    return subprocess.Popen(argv, cwd=interop.INTEROP, stdin=kw.pop("stdin", subprocess.DEVNULL),
                            stdout=kw.pop("stdout", subprocess.DEVNULL),
                            stderr=subprocess.PIPE, **kw)


def finish(proc, timeout, what):
    """Wait for a udx-cat process; return (rc, stats dict or None, stderr text)."""
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"{what} still running after {timeout}s; stderr:\n"
                             f"{err.decode(errors='replace')[-2000:]}")
    text = err.decode(errors="replace")
    stats = None
    for line in text.splitlines():
        if line.startswith("{"):
            stats = json.loads(line)
    return proc.returncode, stats, text


def run_pair(sender, receiver, nbytes, timeout=120, relay=None, both_ways=False):
    """One stream between two udx-cats: sender --gen nbytes, receiver --sink
    (also --gen nbytes when both_ways). The receiver listens; the sender
    connects (through relay, a LossyRelay, if given). Returns both stats."""
    pr, ps = free_port(), free_port()
    target = pr
    if relay is not None:
        target = relay.start(ps, pr)
    rx = spawn(cat_cmd(receiver, pr, 1, 2, gen=nbytes if both_ways else 0, sink=True))
    time.sleep(0.3 if receiver == "js" else 0.05)  # let it bind; the sender retransmits anyway
    tx = spawn(cat_cmd(sender, ps, 2, 1, connect=target, gen=nbytes, sink=True))
    rc_tx, st_tx, err_tx = finish(tx, timeout, f"{sender} sender")
    rc_rx, st_rx, err_rx = finish(rx, timeout, f"{receiver} receiver")
    assert rc_tx == 0, err_tx[-2000:]
    assert rc_rx == 0, err_rx[-2000:]
    return st_tx, st_rx


class JsUdxPeer:
    """udx_peer.js under JsPeer, with every event it reports kept in order."""

    def __init__(self):
        self.peer = interop.JsPeer(JS_PEER.read_text())
        self.events = []
        self.port = self.peer.expect("ready line", lambda m: m.get("ev") == "ready")["port"]

    def send(self, **cmd):
        self.peer.send(cmd)

    def drain(self):
        while True:
            try:
                line = self.peer._lines.get_nowait()
            except queue.Empty:
                return
            if line is None:
                return
            self.events.append(json.loads(line))

    def find(self, **match):
        return [e for e in self.events if all(e.get(k) == v for k, v in match.items())]

    def kill(self):
        self.peer.proc.kill()
        self.peer.proc.wait()

    def close(self):
        self.peer.close(timeout=5)


def wait_both(c_peer, js, cond, timeout, what):
    """Pump the C peer and collect JS events until cond() holds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        js.drain()
        if cond():
            return
        c_peer.pump(0.01)
    js.drain()
    if not cond():
        raise AssertionError(f"timed out after {timeout}s waiting for {what}; "
                             f"js events: {js.events[-10:]}")


class LossyRelay:
    """A UDP relay on 127.0.0.1 between two peers that drops and delays
    (reorders) datagrams with a seeded generator. Peer A talks to port_a,
    peer B to port_b; each side's datagrams leave from the other port."""

    def __init__(self, seed, loss=0.0, reorder=0.0, reorder_ms=5.0):
        self.rng = random.Random(seed)
        self.loss, self.reorder, self.reorder_ms = loss, reorder, reorder_ms
        self.forwarded = self.dropped = self.delayed = 0
        self._stop = threading.Event()

    def start(self, a_port, b_port):
        """a_port: the connecting side's own port; b_port: the listener's.
        Returns the port the connecting side should send to."""
        self.sa = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sb = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for s in (self.sa, self.sb):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            s.bind(("127.0.0.1", 0))
            s.setblocking(False)
        self.a = ("127.0.0.1", a_port)
        self.b = ("127.0.0.1", b_port)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self.sa.getsockname()[1]

    def _run(self):
        held = []  # (release time, order, socket, data, dest)
        order = 0
        while not self._stop.is_set():
            wait = 0.05 if not held else max(0.0, held[0][0] - time.monotonic())
            r, _, _ = select.select([self.sa, self.sb], [], [], min(wait, 0.05))
            now = time.monotonic()
            for s in r:
                out, dest = (self.sb, self.b) if s is self.sa else (self.sa, self.a)
                for _ in range(256):
                    try:
                        data = s.recv(2048)
                    except (BlockingIOError, ConnectionRefusedError):
                        break
                    if self.rng.random() < self.loss:
                        self.dropped += 1
                        continue
                    if self.reorder and self.rng.random() < self.reorder:
                        self.delayed += 1
                        order += 1
                        delay = self.rng.random() * self.reorder_ms / 1000.0
                        heapq.heappush(held, (now + delay, order, out, data, dest))
                        continue
                    self._send(out, data, dest)
            while held and held[0][0] <= time.monotonic():
                _, _, out, data, dest = heapq.heappop(held)
                self._send(out, data, dest)

    def _send(self, out, data, dest):
        try:
            out.sendto(data, dest)
            self.forwarded += 1
        except (BlockingIOError, ConnectionRefusedError):
            self.dropped += 1

    def stop(self):
        self._stop.set()
        self.thread.join(timeout=5)
        self.sa.close()
        self.sb.close()
