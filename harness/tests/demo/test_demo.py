"""`./run demo` (harness/tools/demo.py until the simulator lands): it runs,
exits 0, reports every cross-check as a match, and exits 1 when one differs."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flock import crypto as fc

DEMO = Path(__file__).resolve().parents[2] / "tools" / "demo.py"

pytestmark = pytest.mark.interop


def test_demo_runs_and_every_cross_check_matches(js):
    proc = subprocess.run([sys.executable, str(DEMO)], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ))
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    for section in ("1. Ed25519 key pairs", "2. hyperdht namespaces", "3. Noise DH",
                    "4. Ed25519 signatures", "5. secretstream", "6. A captured dht-rpc PING"):
        assert section in out
    assert "DIFFER" not in out
    matches = sum(1 for line in out.splitlines() if line.startswith("  match"))
    assert matches >= 25, out
    assert f"summary: {matches} cross-checks matched, 0 differed" in out


def test_demo_exits_nonzero_when_a_cross_check_differs(js, monkeypatch, capsys):
    spec = importlib.util.spec_from_file_location("flock_demo", DEMO)
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    real = fc.hyperdht_ns
    monkeypatch.setattr(demo.fc, "hyperdht_ns",
                        lambda i: bytes(32) if i == fc.NS_ANNOUNCE else real(i))
    assert demo.main() == 1
    out = capsys.readouterr().out
    assert "DIFFER  NS_ANNOUNCE" in out and ", 1 differed" in out
