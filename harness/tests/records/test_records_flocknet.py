"""flocknet's record subcommands against a loopback testnet of hyperdht@6.34.0
nodes: the --json shapes of the issue, both directions, and bad arguments."""
import itertools
import json
import signal
from pathlib import Path

import pytest

from flock import crypto
from flock import hyperdht as h
from flock.posix import LineProc, flocknet, flocknet_path

NET_JS = (Path(__file__).resolve().parent / "records_net.js").read_text()
SEED_JS = "01" * 32
SEED_C = "03" * 32


class Net:
    def __init__(self, interop):
        self.js = interop.JsPeer(NET_JS)
        ready = self.js.expect("testnet ready", lambda m: "ready" in m or "fatal" in m, timeout=30)
        assert "ready" in ready, ready
        self.ports = ready["ports"]
        self.boot = ",".join(f"127.0.0.1:{b['port']}" for b in ready["bootstrap"])
        self.seq = itertools.count()

    def call(self, op, timeout=30, **kw):
        seq = next(self.seq)
        self.js.send({"op": op, "seq": seq, **kw})
        msg = self.js.expect(f"reply to {op}", lambda m: m.get("seq") == seq, timeout=timeout)
        if not msg["ok"]:
            raise RuntimeError(msg["error"])
        return msg["result"]

    def fn(self, *args, ok=True):
        r = flocknet(*args, "--bootstrap", self.boot, "--host", "127.0.0.1", "--json", timeout=40)
        if ok:
            assert r.returncode == 0, r.stderr
        return r, [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def net(js):
    n = Net(js)
    yield n
    n.js.close()


def test_keypair_matches_the_reference_vector():
    r = flocknet("keypair", "--seed", "01" * 32, "--json")
    assert r.returncode == 0
    assert json.loads(r.stdout) == {
        "publicKey": "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"}


@pytest.mark.parametrize("args", [
    ("lookup", "abcd"), ("announce", "zz" * 32, "--seed", "01" * 32),
    ("immutable-put", ""), ("mutable-put", "", "--seed", "01" * 32),
    ("find-peer", "00" * 31), ("mutable-put", "v"),  # no seed
])
def test_bad_arguments_exit_non_zero_with_a_message(args):
    r = flocknet(*args, "--bootstrap", "127.0.0.1:9")
    assert r.returncode == 2
    assert r.stderr.startswith(f"flocknet {args[0]}:")


def test_js_announces_flocknet_looks_up(net):
    topic = h.target(b"flocknet lookup").hex()
    net.call("announce", topic=topic, seed=SEED_JS,
             relays=[{"host": "127.0.0.1", "port": net.ports[1]}])
    _, lines = net.fn("lookup", topic)
    pk = crypto.keypair_from_seed(bytes.fromhex(SEED_JS)).public_key.hex()
    assert {"publicKey": pk, "relayAddresses": [{"host": "127.0.0.1", "port": net.ports[1]}]} \
        in lines
    assert len(lines) == len({x["publicKey"] for x in lines})  # one line per peer


def test_flocknet_announces_js_looks_up_then_unannounces(net):
    topic = h.target(b"flocknet announce").hex()
    pk = crypto.keypair_from_seed(bytes.fromhex(SEED_C)).public_key.hex()
    p = LineProc([str(flocknet_path()), "announce", topic, "--seed", SEED_C, "--relay",
                  "127.0.0.1:4000", "--bootstrap", net.boot, "--host", "127.0.0.1", "--json",
                  "--duration", "30"])
    try:
        ev = p.expect("announced", lambda m: m.get("event") == "announced", timeout=20)
        assert ev["topic"] == topic and ev["publicKey"] == pk and ev["nodes"] >= 1
        found = net.call("lookup", topic=topic)
        assert any(f["publicKey"] == pk and
                   f["relayAddresses"] == [{"host": "127.0.0.1", "port": 4000}] for f in found)
        p.proc.send_signal(signal.SIGTERM)
        assert p.proc.wait(timeout=10) == 0
    finally:
        p.close()
    _, lines = net.fn("unannounce", topic, "--seed", SEED_C)
    assert lines == [{"event": "unannounced", "topic": topic, "publicKey": pk}]
    assert not [f for f in net.call("lookup", topic=topic) if f["publicKey"] == pk]


def test_immutable_both_ways(net):
    _, lines = net.fn("immutable-put", "hello from flocknet")
    assert lines == [{"hash": h.target(b"hello from flocknet").hex()}]
    assert net.call("immutableGet", hash=lines[0]["hash"]) == b"hello from flocknet".hex()
    hash_ = net.call("immutablePut", value=b"\x00\xffbinary".hex())
    _, lines = net.fn("immutable-get", hash_, "--hex")
    assert lines == [{"value": b"\x00\xffbinary".hex()}]
    r, _ = net.fn("immutable-get", h.target(b"missing").hex(), ok=False)
    assert r.returncode == 1 and "not found" in r.stderr


def test_mutable_both_ways(net):
    pk_c = crypto.keypair_from_seed(bytes.fromhex(SEED_C)).public_key.hex()
    _, lines = net.fn("mutable-put", "v5", "--seq", "5", "--seed", SEED_C)
    assert lines == [{"publicKey": pk_c, "seq": 5}]
    assert net.call("mutableGet", publicKey=pk_c) == {"seq": 5, "value": b"v5".hex()}
    pk_js = crypto.keypair_from_seed(bytes.fromhex(SEED_JS)).public_key.hex()
    net.call("mutablePut", seed=SEED_JS, value=b"js \"quoted\"".hex(), mseq=7)
    _, lines = net.fn("mutable-get", pk_js)
    assert lines == [{"publicKey": pk_js, "seq": 7, "value": "js \"quoted\""}]
    r, _ = net.fn("mutable-get", pk_js, "--seq", "8", ok=False)
    assert r.returncode == 1


def test_find_peer(net):
    kp = crypto.keypair_from_seed(bytes.fromhex(SEED_JS))
    net.call("announce", topic=h.target(kp.public_key).hex(), seed=SEED_JS)
    _, lines = net.fn("find-peer", kp.public_key.hex())
    assert lines and lines[0]["publicKey"] == kp.public_key.hex()


@pytest.mark.parametrize("cmd", ["keypair", "announce", "unannounce", "lookup", "find-peer",
                                 "mutable-put", "mutable-get", "immutable-put", "immutable-get"])
def test_record_subcommands_have_help(cmd):
    r = flocknet(cmd, "--help")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"usage: flocknet {cmd}")
    assert cmd in flocknet("--help").stdout
