"""The C engine against noise-handshake@4.2.0 + noise-curve-ed@2.1.0 (and
hyperdht@6.34.0's own lib/noise-wrap.js), both directions, IK and XX:
byte-identical messages given the same keys and ephemerals, and the same
final keys and handshake hash."""
import hashlib
import random

import pytest

from flock import noise

# Each case: four 32-byte seeds (initiator static, responder static,
# initiator ephemeral, responder ephemeral) drawn from FL_TEST_SEED.
CASES = 4


def seeds(test_seed, case):
    rnd = random.Random(f"{test_seed}-{case}")
    return [bytes(rnd.getrandbits(8) for _ in range(32)) for _ in range(4)]


def c_side(pattern, initiator, s_seed, e_seed, remote_static, prologue):
    _, sk = noise.keypair_from_seed(s_seed)
    _, esk = noise.keypair_from_seed(e_seed)
    return noise.Handshake(pattern, initiator, dh=noise.ED25519, prologue=prologue,
                           static_sk=sk, remote_static=remote_static, ephemeral_sk=esk)


MSGS = {"IK": 2, "XX": 3, "NN": 2, "XK": 3}
PRESHARED_RS = ("IK", "XK")


def payloads(pattern, case):
    n = MSGS[pattern]
    return [hashlib.sha256(f"{pattern}{case}{i}".encode()).digest()[: 7 * i + case] for i in range(n)]


def js_only(peer, pattern, sd, prologue, pls, tag):
    """The messages two JS sides exchange with these inputs (the reference)."""
    ipk = noise.keypair_from_seed(sd[0])[0]
    rpk = noise.keypair_from_seed(sd[1])[0]
    peer.call("new", id=tag + "i", pattern=pattern, initiator=True, static_seed=sd[0].hex(),
              remote_static=rpk.hex() if pattern in PRESHARED_RS else None,
              e_seed=sd[2].hex(), prologue=prologue.hex())
    peer.call("new", id=tag + "r", pattern=pattern, initiator=False, static_seed=sd[1].hex(),
              remote_static=None, e_seed=sd[3].hex(), prologue=prologue.hex())
    msgs = []
    for i, pl in enumerate(pls):
        snd, rcv = (tag + "i", tag + "r") if i % 2 == 0 else (tag + "r", tag + "i")
        msg = peer.call("send", id=snd, payload=pl.hex())["msg"]
        assert peer.call("recv", id=rcv, msg=msg)["payload"] == pl.hex()
        msgs.append(msg)
    fi, fr = peer.call("final", id=tag + "i"), peer.call("final", id=tag + "r")
    if pattern != "NN":
        assert fi["remote_static"] == rpk.hex() and fr["remote_static"] == ipk.hex()
    return msgs, fi, fr


# IK and XX are the ones hyperdht and secret-stream run; NN and XK are the
# other patterns noise-handshake implements.
@pytest.mark.parametrize("pattern", ["IK", "XX", "NN", "XK"])
@pytest.mark.parametrize("c_initiator", [True, False], ids=["c-initiator", "c-responder"])
def test_c_and_js_handshake_byte_identical(peer, test_seed, pattern, c_initiator):
    prologue = b"" if pattern == "XX" else bytes.fromhex(
        "14d6d4b49214ab1033ed204976caa258bae9e1e8543b9ad1fd996a910b0c4e3a")
    for case in range(CASES):
        sd = seeds(test_seed, case)
        pls = payloads(pattern, case)
        tag = f"{pattern}{c_initiator}{case}"
        ref_msgs, ref_fi, ref_fr = js_only(peer, pattern, sd, prologue, pls, "ref" + tag)
        ipk = noise.keypair_from_seed(sd[0])[0]
        rpk = noise.keypair_from_seed(sd[1])[0]
        if c_initiator:
            c = c_side(pattern, True, sd[0], sd[2], rpk if pattern in PRESHARED_RS else None,
                       prologue)
            peer.call("new", id=tag, pattern=pattern, initiator=False, static_seed=sd[1].hex(),
                      remote_static=None, e_seed=sd[3].hex(), prologue=prologue.hex())
        else:
            c = c_side(pattern, False, sd[1], sd[3], None, prologue)
            peer.call("new", id=tag, pattern=pattern, initiator=True, static_seed=sd[0].hex(),
                      remote_static=rpk.hex() if pattern in PRESHARED_RS else None,
                      e_seed=sd[2].hex(), prologue=prologue.hex())
        for i, pl in enumerate(pls):
            c_sends = (i % 2 == 0) == c_initiator
            if c_sends:
                msg = c.write(pl)
                got = peer.call("recv", id=tag, msg=msg.hex())
                assert "error" not in got, f"case {case} msg {i}: JS rejected C's message: {got}"
                assert got["payload"] == pl.hex()
            else:
                msg = bytes.fromhex(peer.call("send", id=tag, payload=pl.hex())["msg"])
                assert c.read(msg) == pl
            assert msg.hex() == ref_msgs[i], f"case {case} msg {i} differs from the JS-only run"
        assert c.status == noise.DONE
        keys = c.split()
        fj = peer.call("final", id=tag)
        ref = ref_fi if c_initiator else ref_fr
        assert keys.hash.hex() == fj["hash"] == ref["hash"]
        assert keys.tx.hex() == fj["rx"] == ref["tx"]
        assert keys.rx.hex() == fj["tx"] == ref["rx"]
        if pattern == "NN":
            assert keys.remote_static is None
        else:
            assert keys.remote_static == (rpk if c_initiator else ipk)
        c.close()


def wrap_payload(udx_id, addr_port):
    return {"version": 1, "error": 0, "firewall": 1, "holepunch": None,
            "addresses4": [{"host": "127.0.0.1", "port": addr_port}], "addresses6": [],
            "udx": {"version": 1, "reusableSocket": False, "id": udx_id, "seq": 0},
            "secretStream": {"version": 1}, "relayThrough": None, "relayAddresses": None}


@pytest.mark.parametrize("c_client", [True, False], ids=["c-client", "c-server"])
def test_hyperdht_noise_wrap_interop(peer, test_seed, c_client):
    """C's hyperdht handshake against hyperdht's own NoiseWrap: payloads
    decode on both sides and final() gives the same tx/rx/hash/holepunch
    secret as fl_hyperdht_handshake_final."""
    from flock import hyperdht
    for case in range(CASES):
        sd = seeds(test_seed, 100 + case)
        cpk, csk = noise.keypair_from_seed(sd[0])
        spk, ssk = noise.keypair_from_seed(sd[1])
        esk = noise.keypair_from_seed(sd[2] if c_client else sd[3])[1]
        tag = f"wrap{c_client}{case}"
        p1, p2 = wrap_payload(1000 + case, 40000 + case), wrap_payload(2000 + case, 50000 + case)
        if c_client:
            hs = hyperdht.Handshake(True, csk, remote_pk=spk, ephemeral_sk=esk)
            peer.call("wrap", id=tag, initiator=False, static_seed=sd[1].hex(), remote_static=None,
                      e_seed=sd[3].hex())
            msg1 = hs.send(hyperdht.payload_from_js(p1))
            got = peer.call("recv", id=tag, msg=msg1.hex())
            assert got["payload"] == p1
            msg2 = bytes.fromhex(peer.call("send", id=tag, payload=p2)["msg"])
            assert hyperdht.payload_to_js(hs.recv(msg2)) == p2
        else:
            hs = hyperdht.Handshake(False, ssk, ephemeral_sk=esk)
            peer.call("wrap", id=tag, initiator=True, static_seed=sd[0].hex(),
                      remote_static=spk.hex(), e_seed=sd[2].hex())
            msg1 = bytes.fromhex(peer.call("send", id=tag, payload=p1)["msg"])
            assert hyperdht.payload_to_js(hs.recv(msg1)) == p1
            msg2 = hs.send(hyperdht.payload_from_js(p2))
            assert peer.call("recv", id=tag, msg=msg2.hex())["payload"] == p2
        assert len(msg1) == 96 + len(hyperdht.encode_payload(hyperdht.payload_from_js(p1)))
        res = hs.final()
        fj = peer.call("final", id=tag)
        assert res.hash.hex() == fj["hash"]
        assert res.tx.hex() == fj["rx"] and res.rx.hex() == fj["tx"]
        assert res.holepunch_secret.hex() == fj["holepunch_secret"]
        assert res.remote_public_key == (spk if c_client else cpk)
        assert res.remote_public_key.hex() != fj["remote_static"]  # each names the other
        hs.close()
