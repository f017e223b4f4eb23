"""fl_hyperdht on C nodes only, in a virtual network on virtual time (the
drive loop of the drivers, through ctypes): records spread to the closest
nodes, the announce refresh repeats on schedule, records age out without it,
and the operation limit refuses the 33rd operation."""
import heapq
import random

import pytest

from flock import crypto
from flock import hyperdht as h
from flock import hyperdht_node as hn
from flock import node as fn
from flock._lib import FlockError

LAT_US = 1000
S = 1_000_000


class Net:
    def __init__(self):
        self.now = 1_000_000
        self.nodes = []  # (Hyper, server_port, client_port)
        self.by_port = {}
        self.q = []
        self.seq = 0

    def add(self, seed, **kw):
        i = len(self.nodes)
        sp, cp = 21000 + 2 * i, 21001 + 2 * i
        n = fn.Node(now_us=self.now, host="127.0.0.1", seed=seed, user_requests=True, **kw)
        hy = hn.Hyper(n, self.now, seed=seed, unix_ms=1_700_000_000_000)
        n.open_sockets(self.now, sp, cp)
        self.nodes.append((hy, sp, cp))
        self.by_port[sp] = (i, 0)
        self.by_port[cp] = (i, 1)
        self.drain(i)
        return hy

    def drain(self, i, own=True):
        hy, sp, cp = self.nodes[i]
        for _ in range(100):
            hy.process(self.now, own=own and not getattr(hy, "hold", False))
            tx = hy.node.poll_transmits()
            for sock, to, data in tx:
                if to[0] == "127.0.0.1" and to[1] in self.by_port:
                    self.seq += 1
                    frm = ("127.0.0.1", sp if sock == 0 else cp)
                    heapq.heappush(self.q, (self.now + LAT_US, self.seq, to[1], frm, data))
            if not tx:
                hy.process(self.now, own=own and not getattr(hy, "hold", False))
                return
        raise AssertionError("drain did not settle")

    def run(self, us, max_steps=3_000_000):
        until = self.now + us
        for _ in range(max_steps):
            t = min((hy.next_deadline(), i) for i, (hy, _, _) in enumerate(self.nodes))
            if self.q and self.q[0][0] <= t[0]:
                if self.q[0][0] > until:
                    break
                at, _, port, frm, data = heapq.heappop(self.q)
                self.now = max(self.now, at)
                i, sock = self.by_port[port]
                try:
                    self.nodes[i][0].node.handle_datagram(self.now, sock, frm, data)
                except FlockError:
                    pass
                self.drain(i)
            else:
                if t[0] > until:
                    break
                self.now = max(self.now, t[0])
                self.nodes[t[1]][0].handle_timeout(self.now)
                self.drain(t[1])
        else:
            raise AssertionError("network did not settle within the step bound")
        self.now = until


@pytest.fixture(scope="module")
def net():
    rng = random.Random(7)
    n = Net()
    n.add(rng.randbytes(32), bootstrapper=("127.0.0.1", 21000))
    for _ in range(7):
        n.add(rng.randbytes(32), mode="persistent", firewalled=False,
              bootstrap=[("127.0.0.1", 21000)])
        n.run(20_000)
    n.run(20 * S)
    yield n
    for hy, _, _ in n.nodes:
        hy.close()
        hy.node.close()


def _op(net, i, start, us=5 * S):
    hy = net.nodes[i][0]
    op = start(hy, net.now)
    net.drain(i)
    net.run(us)
    assert hy.done(op) is not None, "operation did not finish in virtual time"
    return hy.done(op), hy.results(op)


def test_announce_refresh_and_expiry(net):
    kp = crypto.keypair_from_seed(b"\x11" * 32)
    topic = h.target(b"virtual topic")
    hy = net.nodes[1][0]
    op = hy.announce(net.now, topic, kp.secret_key, [("127.0.0.1", 4000)], refresh_us=300 * S)
    net.drain(1)
    net.run(5 * S)
    first = [e for e in hy.results(op) if e.type == hn.EVENT_ANNOUNCED]
    assert len(first) == 1 and first[0].arg == 7  # every other node stored it
    stored = sum(x[0].stats()["store"]["records"]["current"] for x in net.nodes)
    assert stored == 7
    done, res = _op(net, 5, lambda hy_, t: hy_.lookup(t, topic))
    assert [e.key for e in res if e.type == hn.EVENT_PEER].count(kp.public_key) >= 5
    # Refreshed every 300 s: still there after 2000 s (records live 800-1600 s).
    net.run(2000 * S)
    rounds = [e for e in hy.results(op) if e.type == hn.EVENT_ANNOUNCED]
    assert len(rounds) == 1 + 2000 // 300
    done, res = _op(net, 5, lambda hy_, t: hy_.lookup(t, topic))
    assert any(e.key == kp.public_key for e in res if e.type == hn.EVENT_PEER)
    # Stop refreshing: gone from every store within 1600 s.
    hy.cancel(net.now, op)
    net.drain(1)
    assert hy.done(op).code == fl_closed()
    net.run(1700 * S)
    assert sum(x[0].stats()["store"]["records"]["current"] for x in net.nodes) == 0
    done, res = _op(net, 5, lambda hy_, t: hy_.lookup(t, topic))
    assert not [e for e in res if e.type == hn.EVENT_PEER]


def fl_closed():
    return -10


def test_mutable_latest_wins_and_operation_limit(net):
    kp = crypto.keypair_from_seed(b"\x12" * 32)
    for seq in (1, 2):
        done, _ = _op(net, 2, lambda hy, t, s=seq: hy.mutable_put(t, kp.secret_key, s, b"v%d" % s))
        assert done.code == 0 and done.arg == 7
    done, res = _op(net, 3, lambda hy, t: hy.mutable_get(t, kp.public_key))
    got = [e for e in res if e.type == hn.EVENT_MUTABLE]
    assert got[0].arg == 2 and got[0].data == b"v2"
    done, res = _op(net, 3, lambda hy, t: hy.mutable_get(t, kp.public_key, min_seq=3))
    assert done.code == -11  # FL_ERR_NOT_FOUND
    hy = net.nodes[4][0]
    ops = [hy.lookup(net.now, bytes([i]) * 32) for i in range(32)]
    with pytest.raises(FlockError) as e:
        hy.lookup(net.now, b"\xff" * 32)
    assert e.value.name == "FL_ERR_LIMIT"
    assert hy.stats()["ops_refused"] == 1 and hy.stats()["ops_hw"] == 32
    net.drain(4)
    net.run(10 * S)
    assert all(hy.done(op) is not None for op in ops)
    assert hy.stats()["ops_active"] == 0


def test_event_queue_full_drops_the_oldest_and_counts(net):
    """A driver that stops draining fl_hyperdht's events: 25 announcers on
    one topic give each lookup reply 20 PEER events, so the 64-slot queue
    overflows; the newest 64 are kept, the rest counted."""
    topic = h.target(b"crowded topic")
    for k in range(25):
        kp = crypto.keypair_from_seed(bytes([0x40 + k]) * 32)
        _op(net, 1 + k % 6, lambda hy, t, kp=kp: hy.announce(t, topic, kp.secret_key))
    hy = net.nodes[7][0]
    hy.hold = True
    op = hy.lookup(net.now, topic)
    net.drain(7)
    net.run(5 * S)
    hy.hold = False
    before = len(hy.events)
    hy.poll_own()
    got = hy.events[before:]
    assert len(got) == 64
    assert got[-1].type == hn.EVENT_DONE and got[-1].id == op
    dropped = hy.stats()["events_dropped"]
    assert dropped > 0
    print(f"event queue: 64 kept, {dropped} dropped")
