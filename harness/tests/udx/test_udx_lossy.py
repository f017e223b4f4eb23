"""8 MiB transfers through a seeded lossy/reordering loopback relay, C and
udx-native in both roles: every byte arrives intact (sha256) and the
sender had to retransmit."""
import pytest

from udx_util import LossyRelay, pattern_sha256, run_pair

pytestmark = pytest.mark.interop

MIB = 1 << 20

CASES = [
    # (name, loss, reorder)
    ("loss1", 0.01, 0.0),
    ("loss5", 0.05, 0.0),
    ("loss20", 0.20, 0.0),
    ("reorder", 0.0, 0.10),
]


@pytest.mark.parametrize("sender,receiver", [("c", "js"), ("js", "c"), ("c", "c")])
@pytest.mark.parametrize("name,loss,reorder", CASES, ids=[c[0] for c in CASES])
def test_udx_8mib_through_lossy_relay(js, test_seed, sender, receiver, name, loss, reorder):
    n = 8 * MIB
    relay = LossyRelay(seed=test_seed * 1000 + len(name), loss=loss, reorder=reorder)
    try:
        st_tx, st_rx = run_pair(sender, receiver, n, timeout=90, relay=relay)
    finally:
        relay.stop()
    assert st_rx["bytes_in"] == n
    assert st_rx["sha256_in"] == pattern_sha256(n), f"relay: {relay.__dict__.get('dropped')}"
    assert st_tx["sha256_out"] == st_rx["sha256_in"]
    # What the peer sent the C side was well-formed; without reordering no
    # SACK block can be stale either (reordered ACKs legitimately carry
    # blocks below a newer cumulative ack: counted and ignored).
    for st, kind in ((st_tx, sender), (st_rx, receiver)):
        if kind == "c":
            assert st["decode_errors"] == 0 and st["bad_acks"] == 0
            if not reorder:
                assert st["bad_sacks"] == 0
    if loss:
        assert relay.dropped > 0
        assert st_tx["retransmits"] > 0
    else:
        assert relay.delayed > 0
