"""Running the reference JavaScript packages (pinned in harness/interop/).

Two ways:
  run_js(script, stdin=...)   run a Node.js script to completion, return stdout
  JsPeer(script)              a long-running Node.js process that speaks
                              newline-delimited JSON on stdin/stdout

Scripts run with harness/interop as the working directory, so require() finds
the pinned packages. Every wait has a deadline and says what it waited for.
Network rule: scripts bind 127.0.0.1 and use loopback bootstrap lists only.
"""
import json
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

INTEROP = Path(__file__).resolve().parents[1] / "interop"


def node_available():
    return shutil.which("node") is not None and (INTEROP / "node_modules").is_dir()


def run_js(script, stdin=None, timeout=120, args=()):
    """Run a JS snippet to completion; return its stdout (bytes). Raises
    RuntimeError with stderr if it exits non-zero or runs past timeout."""
    if isinstance(stdin, str):
        stdin = stdin.encode()
    try:
        proc = subprocess.run(["node", "-e", script, "--", *args], cwd=INTEROP, input=stdin,
                              capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise RuntimeError(f"node script still running after {timeout}s; stderr:\n"
                           f"{(e.stderr or b'').decode(errors='replace')}") from None
    if proc.returncode != 0:
        raise RuntimeError(f"node script exited {proc.returncode}:\n"
                           f"{proc.stderr.decode(errors='replace')}")
    return proc.stdout


def run_js_json(script, payload=None, timeout=120):
    """Send payload as JSON on stdin, parse the script's stdout as JSON."""
    out = run_js(script, stdin=json.dumps(payload) if payload is not None else None,
                 timeout=timeout)
    return json.loads(out)


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

    def expect(self, what, pred=lambda m: True, timeout=30):
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


class JsPeer(LineProc):
    """A Node.js process (script run from harness/interop) speaking one JSON
    object per line each way."""

    def __init__(self, script, env=None):
        super().__init__(["node", "-e", script], cwd=INTEROP, env=env)

    def send(self, obj):
        self.send_line(json.dumps(obj))
