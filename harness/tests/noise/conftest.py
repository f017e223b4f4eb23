"""Fixtures for the noise tests: one long-running JS peer (noise_peer.js)
shared by the module, since starting node costs more than a handshake."""
import itertools
from pathlib import Path

import pytest

PEER_JS = (Path(__file__).resolve().parent / "noise_peer.js").read_text()


class Peer:
    def __init__(self, interop):
        self.p = interop.JsPeer(PEER_JS)
        self.seq = itertools.count()

    def call(self, op, **kw):
        seq = next(self.seq)
        self.p.send({"op": op, "seq": seq, **kw})
        return self.p.expect(f"reply to {op} #{seq}", lambda m: m.get("seq") == seq, timeout=30)

    def close(self):
        self.p.close()


@pytest.fixture(scope="module")
def peer(js):
    p = Peer(js)
    yield p
    p.close()
