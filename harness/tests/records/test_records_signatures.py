"""Signables and signatures against hyperdht@6.34.0's Persistent signers and
its own verification (the server handler accepting or dropping)."""
import pytest

from flock import crypto
from flock import hyperdht as h

from recgen import message, peer, rng_for

ID = "bb" * 32


def _keys(rng):
    seed = bytes(rng.getrandbits(8) for _ in range(32))
    return seed, crypto.keypair_from_seed(seed)


@pytest.mark.parametrize("ns", ["announce", "unannounce"])
def test_js_signs_c_verifies_and_signatures_are_identical(ref, ns, test_seed):
    rng = rng_for(test_seed, "sig" + ns)
    code = h.NS_ANNOUNCE if ns == "announce" else h.NS_UNANNOUNCE
    for _ in range(15):
        seed, kp = _keys(rng)
        target, token = rng.randbytes(32).hex(), rng.randbytes(32).hex()
        msg = message(rng, "announce")
        msg["peer"] = peer(rng)
        msg["peer"]["publicKey"] = kp.public_key.hex()
        msg["signature"] = None
        js_sig = ref.call("signAnnounce", ns=ns, target=target, token=token, id=ID, msg=msg,
                          seed=seed.hex())
        c_msg = h.sign_announce(msg, code, target, ID, token, kp.secret_key)
        assert c_msg["signature"] == js_sig  # Ed25519 is deterministic
        msg["signature"] = js_sig
        wire = h.encode("announce", msg)
        assert h.verify_announce_bytes(wire, code, target, ID, token)
        other = h.NS_UNANNOUNCE if code == h.NS_ANNOUNCE else h.NS_ANNOUNCE
        assert not h.verify_announce_bytes(wire, other, target, ID, token)
        bad = bytearray(wire)
        bad[-1 - (9 if msg["bump"] else 0) - 3] ^= 0x10  # inside the signature
        assert not h.verify_announce_bytes(bytes(bad), code, target, ID, token)


def test_c_signed_announce_is_accepted_by_the_reference_server(ref, test_seed):
    rng = rng_for(test_seed, "c-signs")
    ref.call("newStore", name="sig", id=ID)
    try:
        for i in range(10):
            seed, kp = _keys(rng)
            target, token = rng.randbytes(32).hex(), rng.randbytes(32).hex()
            msg = {"peer": {"publicKey": kp.public_key.hex(),
                            "relayAddresses": peer(rng)["relayAddresses"]},
                   "refresh": None, "signature": None, "bump": 0}
            signed = h.sign_announce(msg, h.NS_ANNOUNCE, target, ID, token, kp.secret_key)
            wire = h.encode("announce", signed).hex()
            forged = bytearray(bytes.fromhex(wire))
            forged[40] ^= 1
            res = ref.call("requests", name="sig", requests=[
                {"command": 4, "target": target, "token": token, "value": forged.hex()},
                {"command": 4, "target": target, "token": token, "value": wire},
                {"command": 3, "target": target}])
            assert res[0] == {"action": "silent"}
            assert res[1]["action"] == "reply" and res[1]["error"] == 0
            assert res[2]["value"][2:66] == kp.public_key.hex()
    finally:
        ref.call("destroyStore", name="sig")


def test_mutable_signatures_both_ways(ref, test_seed):
    rng = rng_for(test_seed, "mutable")
    for _ in range(15):
        seed, kp = _keys(rng)
        seq = rng.choice([0, 1, 252, 253, 70000, 2**40])
        value = rng.randbytes(rng.choice([0, 5, 200]))
        js_sig = ref.call("signMutable", mseq=seq, value=value.hex(), seed=seed.hex())
        c_sig = h.sign_mutable(seq, value, kp.secret_key)
        assert c_sig.hex() == js_sig
        assert h.verify_mutable(bytes.fromhex(js_sig), seq, value, kp.public_key)
        assert ref.call("verifyMutable", signature=c_sig.hex(), mseq=seq, value=value.hex(),
                        publicKey=kp.public_key.hex())
        assert not h.verify_mutable(c_sig, seq + 1, value, kp.public_key)
        assert not ref.call("verifyMutable", signature=c_sig.hex(), mseq=seq + 1,
                            value=value.hex(), publicKey=kp.public_key.hex())


def test_spec_mutable_vector():
    kp = crypto.keypair_from_seed(b"\x01" * 32)
    sig = h.sign_mutable(1, b"hello", kp.secret_key)
    assert sig.hex().startswith("210a2e371db5add0")
    assert h.mutable_signable(1, b"hello")[:32].hex() == (
        "668e823edd5ce7f5338d68bf1161f4a3c28ce437ee2ab49efd30d99366039b1e")
