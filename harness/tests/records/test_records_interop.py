"""Interop on 127.0.0.1 with hyperdht@6.34.0, both directions: a JS testnet
(3 persistent nodes) plus one C node (fl_node + fl_hyperdht on real UDP
sockets) that stores records for the JS nodes and looks theirs up. While a JS
operation runs, the C node keeps being driven, since it serves the JS side."""
import itertools
import json
import queue
import time
from pathlib import Path

import pytest

from flock import crypto
from flock import hyperdht as h
from flock import hyperdht_node as hn

NET_JS = (Path(__file__).resolve().parent / "records_net.js").read_text()
SEED_JS = b"\x01" * 32   # the key pair JS announces and puts with
SEED_C = b"\x02" * 32    # the key pair C announces and puts with


class Mixed:
    def __init__(self, interop):
        self.js = interop.JsPeer(NET_JS)
        ready = self.js.expect("testnet ready", lambda m: "ready" in m or "fatal" in m, timeout=30)
        assert "ready" in ready, ready
        self.ports = ready["ports"]
        boot = [("127.0.0.1", b["port"]) for b in ready["bootstrap"]]
        self.c = hn.UdpHyperNode(bootstrap=boot, seed=b"\x09" * 32)
        self.c.run_until(lambda: any(e.name == "EVENT_DHT_READY" for e in self.c.node.events),
                         20, "bootstrap (DHT_READY)")
        self.seq = itertools.count()
        # A fourth JS node bootstrapping off the C node, so JS routing tables
        # learn the C node from its own traffic too.
        self.call("addNode", bootstrap=[{"host": "127.0.0.1", "port": self.c.port(0)}])

    def call(self, op, timeout=30, **kw):
        seq = next(self.seq)
        self.js.send({"op": op, "seq": seq, **kw})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.c.poll(0.01)
            try:
                line = self.js._lines.get_nowait()
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError("JS testnet exited: " + "".join(self.js._stderr[-20:]))
            msg = json.loads(line)
            if msg.get("seq") == seq:
                if not msg["ok"]:
                    raise RuntimeError(f"JS {op}: {msg['error']}")
                return msg["result"]
        raise TimeoutError(f"JS {op} did not answer within {timeout}s")

    def op(self, start, timeout=20, what="operation"):
        op = start(hn.now_us())
        self.c.run_until(lambda: self.c.hyper.done(op) is not None, timeout, what)
        return op, self.c.hyper.results(op)

    def close(self):
        self.c.close()
        self.js.close()


@pytest.fixture(scope="module")
def mixed(js):
    m = Mixed(js)
    yield m
    m.close()


def _kp(seed):
    return crypto.keypair_from_seed(seed)


def test_js_announces_c_looks_up_and_stores_for_js(mixed):
    topic = h.target(b"interop js->c")
    kp = _kp(SEED_JS)
    before = mixed.c.hyper.stats()["store"]["records"]["current"]
    mixed.call("announce", topic=topic.hex(), seed=SEED_JS.hex(),
               relays=[{"host": "127.0.0.1", "port": mixed.ports[1]}])
    assert mixed.c.hyper.stats()["store"]["records"]["current"] == before + 1, \
        "the C node should hold the JS announce (it is one of the closest)"
    op, res = mixed.op(lambda t: mixed.c.hyper.lookup(t, topic), what="lookup")
    peers = [e for e in res if e.type == hn.EVENT_PEER]
    assert any(e.key == kp.public_key for e in peers)
    rec, _ = h.decode("peer", next(e for e in peers if e.key == kp.public_key).data)
    assert rec["relayAddresses"] == [{"host": "127.0.0.1", "port": mixed.ports[1]}]
    assert mixed.c.hyper.done(op).code == 0


def test_c_announces_js_looks_up_then_unannounce_seen_by_both(mixed):
    topic = h.target(b"interop c->js")
    kp = _kp(SEED_C)
    op, res = mixed.op(lambda t: mixed.c.hyper.announce(t, topic, kp.secret_key,
                                                        [("127.0.0.1", mixed.c.port(0))]),
                       what="announce")
    ann = [e for e in res if e.type == hn.EVENT_ANNOUNCED]
    assert ann and ann[0].arg >= 3, f"stored at {ann and ann[0].arg} JS nodes"
    found = mixed.call("lookup", topic=topic.hex(), node=1)
    assert any(p["publicKey"] == kp.public_key.hex() and
               p["relayAddresses"] == [{"host": "127.0.0.1", "port": mixed.c.port(0)}]
               for p in found)
    op, res = mixed.op(lambda t: mixed.c.hyper.unannounce(t, topic, kp.secret_key),
                       what="unannounce")
    assert mixed.c.hyper.done(op).code == 0
    assert not [p for p in mixed.call("lookup", topic=topic.hex(), node=1)
                if p["publicKey"] == kp.public_key.hex()]
    # And the other way: JS unannounces, C sees nothing left.
    topic2 = h.target(b"interop js unannounce")
    mixed.call("announce", topic=topic2.hex(), seed=SEED_JS.hex())
    _, res = mixed.op(lambda t: mixed.c.hyper.lookup(t, topic2), what="lookup")
    assert [e for e in res if e.type == hn.EVENT_PEER]
    mixed.call("unannounce", topic=topic2.hex(), seed=SEED_JS.hex())
    _, res = mixed.op(lambda t: mixed.c.hyper.lookup(t, topic2), what="lookup")
    assert not [e for e in res if e.type == hn.EVENT_PEER]


def test_mutable_both_ways_with_stale_seq_refused(mixed):
    js_kp, c_kp = _kp(SEED_JS), _kp(SEED_C)
    mixed.call("mutablePut", seed=SEED_JS.hex(), value=b"from js".hex(), mseq=1)
    _, res = mixed.op(lambda t: mixed.c.hyper.mutable_get(t, js_kp.public_key), what="mget")
    got = [e for e in res if e.type == hn.EVENT_MUTABLE]
    assert got and got[0].data == b"from js" and got[0].arg == 1
    # C puts seq 2 then a stale seq 1: the JS servers answer 17 on the wire.
    for seq, value in ((2, b"c two"), (3, b"c three")):
        op, res = mixed.op(lambda t: mixed.c.hyper.mutable_put(t, c_kp.secret_key, seq, value),
                           what="mput")
        assert mixed.c.hyper.done(op).code == 0
    op, res = mixed.op(lambda t: mixed.c.hyper.mutable_put(t, c_kp.secret_key, 1, b"stale"),
                       what="stale mput")
    codes = [e.code for e in res if e.type == hn.EVENT_COMMIT]
    assert codes and all(c == 17 for c in codes), codes
    op, res = mixed.op(lambda t: mixed.c.hyper.mutable_put(t, c_kp.secret_key, 3, b"reused"),
                       what="reused mput")
    assert [e.code for e in res if e.type == hn.EVENT_COMMIT].count(16) >= 3
    r = mixed.call("mutableGet", publicKey=c_kp.public_key.hex())
    assert r == {"seq": 3, "value": b"c three".hex()}
    # A stale JS put of JS's own record (seq 1 is stored on the C node too)
    # hits the C store: answered 17 there and counted.
    before = mixed.c.hyper.stats()["store"]["err_seq_too_low"]
    mixed.call("mutablePut", seed=SEED_JS.hex(), value=b"js stale".hex(), mseq=0)
    assert mixed.c.hyper.stats()["store"]["err_seq_too_low"] == before + 1
    assert mixed.call("mutableGet", publicKey=c_kp.public_key.hex(), minSeq=4) is None


def test_immutable_both_ways(mixed):
    hash_js = mixed.call("immutablePut", value=b"js immutable".hex())
    assert hash_js == h.target(b"js immutable").hex()
    _, res = mixed.op(lambda t: mixed.c.hyper.immutable_get(t, bytes.fromhex(hash_js)),
                      what="iget")
    assert [e.data for e in res if e.type == hn.EVENT_IMMUTABLE] == [b"js immutable"]
    op, res = mixed.op(lambda t: mixed.c.hyper.immutable_put(t, b"c immutable"), what="iput")
    assert mixed.c.hyper.done(op).code == 0 and mixed.c.hyper.done(op).arg >= 3
    assert mixed.call("immutableGet", hash=h.target(b"c immutable").hex()) == \
        b"c immutable".hex()
    op, _ = mixed.op(lambda t: mixed.c.hyper.immutable_get(t, h.target(b"nobody put this")),
                     what="iget miss")
    assert mixed.c.hyper.done(op).code == -11  # FL_ERR_NOT_FOUND


def test_find_peer_both_ways(mixed):
    js_kp, c_kp = _kp(SEED_JS), _kp(SEED_C)
    mixed.call("announce", topic=h.target(js_kp.public_key).hex(), seed=SEED_JS.hex())
    _, res = mixed.op(lambda t: mixed.c.hyper.find_peer(t, js_kp.public_key), what="find-peer")
    assert any(e.type == hn.EVENT_FOUND and e.key == js_kp.public_key for e in res)
    mixed.op(lambda t: mixed.c.hyper.announce(t, h.target(c_kp.public_key), c_kp.secret_key),
             what="self announce")
    found = mixed.call("findPeer", publicKey=c_kp.public_key.hex(), node=2)
    assert any(f["publicKey"] == c_kp.public_key.hex() for f in found)
    s = mixed.c.hyper.stats()
    assert s["store"]["forwards"]["current"] >= 1  # the C node holds JS's self announce


def test_crafted_requests_to_the_c_node_are_answered_as_the_reference(mixed):
    """Wrong token -> error 2 (with a fresh token); no token, a forged
    signature, a wrong hash or an oversized value -> silence, each counted."""
    port = mixed.c.port(0)
    topic = h.target(b"crafted").hex()
    s0 = mixed.c.hyper.stats()["store"]
    r = mixed.call("raw", port=port, kind="announce", token="bogus", topic=topic, seed=SEED_JS.hex())
    assert r["error"] == 2 and r["token"]
    r = mixed.call("raw", port=port, kind="announce", token="none", topic=topic, seed=SEED_JS.hex())
    assert "failed" in r  # the request timed out: no reply
    r = mixed.call("raw", port=port, kind="forged", token="valid", topic=topic, seed=SEED_JS.hex())
    assert "failed" in r
    r = mixed.call("raw", port=port, kind="immutable", token="valid", value=b"x".hex(),
                   target=h.target(b"y").hex())
    assert "failed" in r
    big = b"z" * (h.VALUE_MAX + 1)
    r = mixed.call("raw", port=port, kind="immutable", token="valid", value=big.hex())
    assert "failed" in r
    r = mixed.call("raw", port=port, kind="announce", token="valid", topic=topic, seed=SEED_JS.hex())
    assert r == {"error": 0, "token": False, "closer": 0, "value": None}  # flags 0x01, id only
    s1 = mixed.c.hyper.stats()["store"]
    node_stats = mixed.c.node.stats()
    assert node_stats["drop_bad_token"] >= 1 or s1["err_invalid_token"] >= 1
    assert s1["drop_no_token"] == s0["drop_no_token"] + 1
    assert s1["drop_signature"] == s0["drop_signature"] + 1
    assert s1["drop_hash"] == s0["drop_hash"] + 1
    assert s1["drop_too_large"] == s0["drop_too_large"] + 1
