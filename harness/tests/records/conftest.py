"""Fixtures for the records tests: one long-running JS peer (records_peer.js)
running hyperdht@6.34.0's own codecs, signers and server handlers."""
import itertools
from pathlib import Path

import pytest

PEER_JS = (Path(__file__).resolve().parent / "records_peer.js").read_text()


class RefPeer:
    def __init__(self, interop):
        self.p = interop.JsPeer(PEER_JS)
        self.seq = itertools.count()

    def call(self, op, **kw):
        seq = next(self.seq)
        self.p.send({"op": op, "seq": seq, **kw})
        msg = self.p.expect(f"reply to {op} #{seq}", lambda m: m.get("seq") == seq, timeout=30)
        if not msg["ok"]:
            raise RuntimeError(f"JS {op}: {msg['error']}")
        return msg["result"]

    def try_call(self, op, **kw):
        """(ok, result-or-error) without raising: for inputs JS may refuse."""
        seq = next(self.seq)
        self.p.send({"op": op, "seq": seq, **kw})
        msg = self.p.expect(f"reply to {op} #{seq}", lambda m: m.get("seq") == seq, timeout=30)
        return msg["ok"], msg.get("result", msg.get("error"))

    def close(self):
        self.p.close()


@pytest.fixture(scope="module")
def ref(js):
    p = RefPeer(js)
    yield p
    p.close()
