"""hyperdht's handshake payload (lib/messages.js noisePayload): JS encodes,
C decodes and re-encodes byte-identical, and the reverse; malformed payloads
are refused with FL_ERR_DECODE."""
import random

import pytest

from flock import hyperdht
from flock._lib import FlockError

N_PAYLOADS = 60


def rand_ipv4(rnd):
    return {"host": ".".join(str(rnd.randrange(256)) for _ in range(4)), "port": rnd.randrange(65536)}


def rand_ipv6(rnd):
    return {"host": ":".join("%x" % rnd.randrange(65536) for _ in range(8)), "port": rnd.randrange(65536)}


def rand_uint(rnd):
    # Every varint width, within JS's safe integer range.
    return rnd.choice([0, 1, 0xfc, 0xfd, 0xffff, 0x10000, 0xffffffff, 2**32, 2**53 - 1,
                       rnd.randrange(2**53)])


def rand_payload(rnd):
    """A payload in the shape hyperdht's decoder returns (so equality is exact)."""
    maybe = lambda: rnd.random() < 0.5  # noqa: E731
    p = {"version": 1, "error": rnd.choice([0, 1, 2, 3]), "firewall": rnd.choice([0, 1, 2, 3]),
         "holepunch": None, "addresses4": [], "addresses6": [], "udx": None,
         "secretStream": None, "relayThrough": None, "relayAddresses": None}
    if maybe():
        p["holepunch"] = {"id": rand_uint(rnd), "relays": [
            {"relayAddress": rand_ipv4(rnd), "peerAddress": rand_ipv4(rnd)}
            for _ in range(rnd.randrange(4))]}
    if maybe():
        p["addresses4"] = [rand_ipv4(rnd) for _ in range(rnd.randrange(1, 5))]
    if maybe():
        p["addresses6"] = [rand_ipv6(rnd) for _ in range(rnd.randrange(1, 3))]
    if maybe():
        p["udx"] = {"version": 1, "reusableSocket": maybe(), "id": rand_uint(rnd), "seq": rand_uint(rnd)}
    if maybe():
        p["secretStream"] = {"version": 1}
    if maybe():
        p["relayThrough"] = {"version": 1, "publicKey": bytes(rnd.randrange(256) for _ in range(32)).hex(),
                             "token": bytes(rnd.randrange(256) for _ in range(32)).hex()}
    if maybe():
        p["relayAddresses"] = [rand_ipv4(rnd) for _ in range(rnd.randrange(0, 4))]
    return p


def payloads(seed):
    rnd = random.Random(seed)
    return [rand_payload(rnd) for _ in range(N_PAYLOADS)]


def test_js_encodes_c_decodes_and_reencodes_identically(peer, test_seed):
    pls = payloads(test_seed)
    encoded = peer.call("payload_encode", payloads=pls)["hex"]
    for want, hexed in zip(pls, encoded):
        data = bytes.fromhex(hexed)
        p, n = hyperdht.decode_payload(data)
        assert n == len(data)
        assert hyperdht.payload_to_js(p) == want
        assert hyperdht.encode_payload(p) == data


def test_c_encodes_js_decodes_and_reencodes_identically(peer, test_seed):
    pls = payloads(test_seed + 1)
    ours = [hyperdht.encode_payload(hyperdht.payload_from_js(p)).hex() for p in pls]
    decoded = peer.call("payload_decode", hex=ours)["payloads"]
    assert decoded == pls
    assert peer.call("payload_reencode", hex=ours)["hex"] == ours


def test_spec_examples_match_js(peer):
    client = "011a0000017f000001409c0100fe443322110001"
    server = "011b000300017f00000149c27f00000151c3017f00000150c30100fe887766550001"
    assert peer.call("payload_reencode", hex=[client, server])["hex"] == [client, server]
    for h in (client, server):
        p, _ = hyperdht.decode_payload(bytes.fromhex(h))
        assert hyperdht.encode_payload(p).hex() == h


def test_other_version_and_trailing_bytes_as_js(peer):
    # Version 2: the reference decodes nothing else; trailing bytes: ignored.
    for h in ("02ffffff", "011000000199aa"):
        js = peer.call("payload_decode", hex=[h])["payloads"][0]
        p, _ = hyperdht.decode_payload(bytes.fromhex(h))
        assert hyperdht.payload_to_js(p) == js


@pytest.mark.parametrize("hexed", [
    "", "01", "0100", "010000",                # cut before flags/error/firewall end
    "01fd", "01fd00", "01ff0000",              # varints cut short
    "01020000", "0102000001", "01020000017f0000",  # addresses4 cut short
    "0108000001", "010800000100fe44",          # udx cut short
    "01200000010000" + "ee" * 31,              # relayThrough key cut short
    "0102000021" + "00" * (33 * 6),            # 33 addresses: over our limit of 32
])
def test_malformed_payloads_are_decode_errors(hexed):
    with pytest.raises(FlockError) as e:
        hyperdht.decode_payload(bytes.fromhex(hexed))
    assert e.value.name == "FL_ERR_DECODE"


def test_every_truncation_is_refused(test_seed):
    for want in payloads(test_seed)[:20]:
        data = hyperdht.encode_payload(hyperdht.payload_from_js(want))
        for n in range(len(data)):
            with pytest.raises(FlockError) as e:
                hyperdht.decode_payload(data[:n])
            assert e.value.name == "FL_ERR_DECODE", f"{data.hex()} cut to {n}"
