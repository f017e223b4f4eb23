"""The C store against hyperdht@6.34.0's own server handlers (lib/persistent.js
Persistent, driven with the same requests): what each request is answered
with, or whether it is dropped, must match, request by request. Plus the
C-only bounds: floods stay within the limits and drops are counted."""
import time

import pytest

from flock import crypto
from flock import hyperdht as h
from flock._lib import FlockError

from recgen import rng_for

ID = "bb" * 32
TOKEN = "cc" * 32
C = h.CMD


class World:
    """Keys, topics and signed request values, signed by the reference."""

    def __init__(self, ref, rng, nkeys=6, ntopics=3):
        self.ref, self.rng = ref, rng
        self.seeds = [bytes([i + 1]) * 32 for i in range(nkeys)]
        self.keys = [crypto.keypair_from_seed(s) for s in self.seeds]
        self.topics = [rng.randbytes(32).hex() for _ in range(ntopics)]

    def announce(self, k, target, relays, bump=0, ns="announce", token=TOKEN):
        pk = self.keys[k].public_key.hex()
        msg = {"peer": {"publicKey": pk, "relayAddresses": [
            {"host": f"10.0.{k}.{i}", "port": 2000 + i} for i in range(relays)]},
               "refresh": None, "signature": None, "bump": bump}
        msg["signature"] = self.ref.call("signAnnounce", ns=ns, target=target, token=token,
                                         id=ID, msg=msg, seed=self.seeds[k].hex())
        return self.ref.call("encode", kind="announce", msg=msg)

    def mutable(self, k, seq, value):
        sig = self.ref.call("signMutable", mseq=seq, value=value.hex(), seed=self.seeds[k].hex())
        msg = {"publicKey": self.keys[k].public_key.hex(), "seq": seq, "value": value.hex(),
               "signature": sig}
        return h.encode("mutablePut", msg).hex()

    def self_target(self, k):
        return h.target(self.keys[k].public_key).hex()


def _flip(hexval, i):
    b = bytearray(bytes.fromhex(hexval))
    b[i % len(b)] ^= 0x01
    return b.hex()


def random_request(w, rng):
    k = rng.randrange(len(w.keys))
    topic = rng.choice(w.topics)
    roll = rng.random()
    if roll < 0.25:
        target = w.self_target(k) if rng.random() < 0.2 else topic
        bump = rng.choice([0, 0, 1000, 10 ** 15])
        ns = "unannounce" if rng.random() < 0.05 else "announce"
        value = w.announce(k, target, rng.randrange(6), bump, ns)
        if rng.random() < 0.1:
            value = _flip(value, rng.randrange(len(value) // 2))
        if rng.random() < 0.05:
            value = value[:rng.randrange(len(value) // 2) * 2]
        req = {"command": C["ANNOUNCE"], "target": target, "token": TOKEN, "value": value}
        if rng.random() < 0.05:
            req["token"] = None
        return req
    if roll < 0.35:
        target = w.self_target(k) if rng.random() < 0.3 else topic
        return {"command": C["UNANNOUNCE"], "target": target, "token": TOKEN,
                "value": w.announce(k, target, 0, 0, "unannounce")}
    if roll < 0.50:
        target = w.self_target(k) if rng.random() < 0.4 else topic
        return {"command": C["LOOKUP"], "target": target, "token": None, "value": None}
    if roll < 0.55:
        return {"command": C["FIND_PEER"], "target": w.self_target(k), "token": None, "value": None}
    if roll < 0.75:
        value = w.mutable(k, rng.randrange(4), rng.choice([b"", b"a", b"bb", b"hello"]))
        target = w.self_target(k)
        if rng.random() < 0.1:
            value = _flip(value, 40 + rng.randrange(40))
        if rng.random() < 0.05:
            target = topic
        return {"command": C["MUTABLE_PUT"], "target": target, "token": TOKEN, "value": value}
    if roll < 0.85:
        return {"command": C["MUTABLE_GET"], "target": w.self_target(k), "token": None,
                "value": bytes([rng.randrange(5)]).hex()}
    value = rng.choice([b"", b"x", b"hello", b"imm"])
    target = h.target(value).hex() if rng.random() < 0.9 else topic
    if rng.random() < 0.5:
        return {"command": C["IMMUTABLE_PUT"], "target": target, "token": TOKEN,
                "value": value.hex()}
    return {"command": C["IMMUTABLE_GET"], "target": target, "token": None, "value": None}


def _norm(req, res):
    """Comparable form: lookup replies as a sorted peer list plus bump."""
    if res["action"] != "reply" or res.get("value") is None or req["command"] != C["LOOKUP"]:
        return res
    msg, _ = h.decode("lookup", bytes.fromhex(res["value"]))
    peers = sorted((p["publicKey"], tuple((a["host"], a["port"]) for a in p["relayAddresses"]))
                   for p in msg["peers"])
    return {**res, "value": (peers, msg["bump"])}


def run_c(store, reqs):
    out = []
    for i, r in enumerate(reqs):
        res = store.handle(10 + i, r["command"],
                           bytes.fromhex(r["target"]) if r["target"] else None,
                           bytes.fromhex(r["token"]) if r["token"] else None,
                           bytes.fromhex(r["value"]) if r["value"] is not None else None,
                           node_id=bytes.fromhex(ID), unix_ms=int(time.time() * 1000))
        if res["action"] == h.ACTION_SILENT:
            out.append({"action": "silent"})
        else:
            out.append({"action": "reply", "error": res["error"],
                        "value": res["value"].hex() if res["value"] is not None else None,
                        "token": res["token"], "closerNodes": res["closerNodes"]})
    assert store.check() == 0
    return out


def compare(ref, name, reqs, seed):
    ref.call("newStore", name=name, id=ID)
    try:
        js = ref.call("requests", name=name, requests=reqs)
    finally:
        ref.call("destroyStore", name=name)
    store = h.Store()
    try:
        c = run_c(store, reqs)
        for i, (r, a, b) in enumerate(zip(reqs, c, js)):
            assert _norm(r, a) == _norm(r, b), (
                f"request {i} {r}: C {a} JS {b}; reproduce with FL_TEST_SEED={seed}")
        return store.stats(), c
    finally:
        store.close()


def test_scripted_rules_match_the_reference(ref, test_seed):
    w = World(ref, rng_for(test_seed, "script"))
    t, self0 = w.topics[0], w.self_target(0)
    m = lambda k, s, v: w.mutable(k, s, v)  # noqa: E731
    reqs = [
        {"command": C["ANNOUNCE"], "target": t, "token": TOKEN, "value": w.announce(0, t, 5, 1000)},
        {"command": C["LOOKUP"], "target": t, "token": None, "value": None},
        {"command": C["ANNOUNCE"], "target": t, "token": TOKEN, "value": w.announce(0, t, 1)},
        {"command": C["LOOKUP"], "target": t, "token": None, "value": None},
        {"command": C["ANNOUNCE"], "target": t, "token": None, "value": w.announce(1, t, 1)},
        {"command": C["ANNOUNCE"], "target": t, "token": TOKEN,
         "value": w.announce(1, t, 1, 0, "unannounce")},
        {"command": C["ANNOUNCE"], "target": self0, "token": TOKEN, "value": w.announce(0, self0, 0)},
        {"command": C["FIND_PEER"], "target": self0, "token": None, "value": None},
        {"command": C["LOOKUP"], "target": self0, "token": None, "value": None},
        {"command": C["UNANNOUNCE"], "target": t, "token": TOKEN,
         "value": w.announce(0, t, 0, 0, "unannounce")},
        {"command": C["LOOKUP"], "target": t, "token": None, "value": None},
        {"command": C["MUTABLE_PUT"], "target": self0, "token": TOKEN, "value": m(0, 1, b"hello")},
        {"command": C["MUTABLE_PUT"], "target": self0, "token": TOKEN, "value": m(0, 2, b"world")},
        {"command": C["MUTABLE_PUT"], "target": self0, "token": TOKEN, "value": m(0, 1, b"stale")},
        {"command": C["MUTABLE_PUT"], "target": self0, "token": TOKEN, "value": m(0, 2, b"other")},
        {"command": C["MUTABLE_PUT"], "target": self0, "token": TOKEN, "value": m(0, 2, b"world")},
        {"command": C["MUTABLE_GET"], "target": self0, "token": None, "value": "00"},
        {"command": C["MUTABLE_GET"], "target": self0, "token": None, "value": "03"},
        {"command": C["MUTABLE_GET"], "target": self0, "token": None, "value": None},
        {"command": C["MUTABLE_PUT"], "target": t, "token": TOKEN, "value": m(0, 3, b"x")},
        {"command": C["IMMUTABLE_PUT"], "target": h.target(b"hello").hex(), "token": TOKEN,
         "value": b"hello".hex()},
        {"command": C["IMMUTABLE_PUT"], "target": h.target(b"hello").hex(), "token": TOKEN,
         "value": b"hellp".hex()},
        {"command": C["IMMUTABLE_GET"], "target": h.target(b"hello").hex(), "token": None,
         "value": None},
        {"command": C["IMMUTABLE_PUT"], "target": h.target(b"").hex(), "token": TOKEN, "value": ""},
    ]
    stats, c = compare(ref, "script", reqs, test_seed)
    errors = [r.get("error") for r in c]
    assert errors[13] == 17 and errors[14] == 16  # SEQ_TOO_LOW, SEQ_REUSED
    assert stats["err_seq_too_low"] == 1 and stats["err_seq_reused"] == 1
    assert stats["drop_signature"] == 1 and stats["drop_no_token"] == 1
    assert stats["drop_hash"] == 2 and stats["drop_no_value"] == 1


def test_random_requests_match_the_reference(ref, test_seed):
    rng = rng_for(test_seed, "random")
    w = World(ref, rng)
    reqs = [random_request(w, rng) for _ in range(250)]
    stats, c = compare(ref, "random", reqs, test_seed)
    # The run must exercise both outcomes, or it proves little.
    assert stats["replied"] > 50
    assert sum(stats[k] for k in stats if k.startswith("drop_")) > 5


def test_flood_stays_within_the_limits():
    limits = dict(records_max=100, mutables_max=50, immutables_max=50)
    store = h.Store(**limits)
    try:
        node_id = bytes.fromhex(ID)
        for i in range(2000):
            value = i.to_bytes(4, "little") * 100
            res = store.handle(1, C["IMMUTABLE_PUT"], h.target(value), b"\xcc" * 32, value,
                               node_id=node_id)
            assert res["error"] == 0
        s = store.stats()
        assert s["immutables"]["high_water"] <= 2 * limits["immutables_max"]
        assert s["immutables"]["current"] <= 2 * limits["immutables_max"]
        assert s["immutables"]["evicted"] >= 2000 - 2 * limits["immutables_max"]
        print(f"immutable flood: 2000 puts, peak {s['immutables']['high_water']} entries "
              f"(bound {2 * limits['immutables_max']}), {s['immutables']['bytes_high_water']} bytes")
        assert store.check() == 0
    finally:
        store.close()


def test_misuse_and_ephemeral():
    store = h.Store()
    try:
        res = store.handle(5, C["LOOKUP"], b"\x00" * 32, node_id=None)
        assert res["error"] == 1 and not res["token"]
        res = store.handle(6, C["LOOKUP"], b"\x00" * 32, token=b"\x01" * 32, token_valid=False)
        assert res["error"] == 2 and res["token"]
        with pytest.raises(FlockError) as e:
            store.handle(1, C["LOOKUP"], b"\x00" * 32)  # time went backwards
        assert e.value.name == "FL_ERR_INVALID"
    finally:
        store.close()
