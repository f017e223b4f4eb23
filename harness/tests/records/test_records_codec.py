"""Record messages byte for byte against hyperdht@6.34.0's own lib/messages.js:
JS encodes and C decodes and re-encodes the same bytes, C encodes and JS
decodes the same message, and truncations are refused by both."""
import pytest

from flock import hyperdht as h
from flock._lib import FlockError

from recgen import KINDS, message, peer, rng_for

ROUNDS = 40


@pytest.mark.parametrize("kind", KINDS)
def test_js_encodes_c_decodes_and_reencodes_identically(ref, kind, test_seed):
    rng = rng_for(test_seed, "js2c" + kind)
    for _ in range(ROUNDS):
        msg = message(rng, kind)
        wire = bytes.fromhex(ref.call("encode", kind=kind, msg=msg))
        got, n = h.decode(kind, wire)
        assert n == len(wire), f"reproduce with FL_TEST_SEED={test_seed}"
        assert got == ref.call("decode", kind=kind, hex=wire.hex())
        assert h.encode(kind, got) == wire


@pytest.mark.parametrize("kind", KINDS)
def test_c_encodes_js_decodes_and_reencodes_identically(ref, kind, test_seed):
    rng = rng_for(test_seed, "c2js" + kind)
    for _ in range(ROUNDS):
        msg = message(rng, kind)
        wire = h.encode(kind, msg)
        assert ref.call("encode", kind=kind, msg=msg) == wire.hex()
        back = ref.call("decode", kind=kind, hex=wire.hex())
        assert h.decode(kind, wire)[0] == back


@pytest.mark.parametrize("kind", KINDS)
def test_truncations_refused_where_js_refuses(ref, kind, test_seed):
    rng = rng_for(test_seed, "cut" + kind)
    msg = message(rng, kind)
    if kind == "lookup":
        msg["peers"] = msg["peers"][:3]
    wire = h.encode(kind, msg)
    for cut in range(len(wire)):
        js_ok, _ = ref.try_call("decode", kind=kind, hex=wire[:cut].hex())
        try:
            h.decode(kind, wire[:cut])
            c_ok = True
        except FlockError as e:
            assert e.name == "FL_ERR_DECODE"
            c_ok = False
        assert c_ok == js_ok, f"prefix {cut} of {wire.hex()}"


def test_more_than_three_relays_decode_keeping_three(ref, test_seed):
    rng = rng_for(test_seed, "relays")
    p = peer(rng, relays_max=0)
    p["relayAddresses"] = [{"host": f"10.0.0.{i}", "port": 1000 + i} for i in range(7)]
    wire = bytes.fromhex(ref.call("encode", kind="peer", msg=p))
    got, n = h.decode("peer", wire)
    assert n == len(wire) == 32 + 1 + 7 * 6
    assert got["relayAddresses"] == p["relayAddresses"][:3]


def test_spec_captures_decode(ref):
    ann = bytes.fromhex(
        "0d8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c017f0000014ac2"
        "871bf90c57f2b550b19b68e95b2411e5075e64e150939e03688b9c35d9901ba1"
        "433b567bdcf8f378a737f1c6eae9bbab78a5409388e374a2d84f2fb936b1d30e"
        "ff0c2a3411a2010000")
    got, n = h.decode("announce", ann)
    assert n == 113 and got["bump"] == 1795584961036
    assert got == ref.call("decode", kind="announce", hex=ann.hex())
    assert h.verify_announce_bytes(
        ann, h.NS_ANNOUNCE,
        "a594b381a08711a41327c62843d51f9fe46916133521f5af7c685f9265aa4523",
        "ea50f55683100864aa622153cff29c6f99eea9e753f8e211d6b01e0a8af2ac6c",
        "94cc25484a8ba3a3adadf6cd9ddb64107bfa04a06b3737815bdc80db693452c6")


def test_spec_announce_value_length_is_104_not_105(ref):
    # spec/hyperdht-records.md §2.3 says 105 bytes; the reference encodes 104.
    msg = {"peer": {"publicKey": "00" * 32, "relayAddresses": [{"host": "127.0.0.1", "port": 49737}]},
           "refresh": None, "signature": "00" * 64, "bump": 0}
    assert len(bytes.fromhex(ref.call("encode", kind="announce", msg=msg))) == 104
    assert len(h.encode("announce", msg)) == 104
