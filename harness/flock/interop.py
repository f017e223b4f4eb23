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


class JsPeer:
    """A Node.js process speaking one JSON object per line each way."""

    def __init__(self, script, env=None):
        self.proc = subprocess.Popen(
            ["node", "-e", script], cwd=INTEROP, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, **(env or {})})
        self._lines = queue.Queue()
        self._stderr = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self._lines), daemon=True).start()
        threading.Thread(target=self._pump_err, daemon=True).start()

    @staticmethod
    def _pump(stream, q):
        for line in stream:
            q.put(line)
        q.put(None)

    def _pump_err(self):
        for line in self.proc.stderr:
            self._stderr.append(line.decode(errors="replace"))

    def send(self, obj):
        self.proc.stdin.write((json.dumps(obj) + "\n").encode())
        self.proc.stdin.flush()

    def expect(self, what, pred=lambda m: True, timeout=30):
        """Wait for the next JSON line satisfying pred; skip others. Raises
        TimeoutError naming `what` if none comes before the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"JS peer: no {what} within {timeout}s; stderr:\n"
                                   + "".join(self._stderr[-20:]))
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f"JS peer exited (rc={self.proc.wait()}) while waiting for "
                                   f"{what}; stderr:\n" + "".join(self._stderr[-20:]))
            msg = json.loads(line)
            if pred(msg):
                return msg

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

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
