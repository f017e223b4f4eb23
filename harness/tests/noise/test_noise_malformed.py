"""Malformed handshake messages: every truncation and every single-bit flip
of each handshake message of IK (hyperdht's) and XX (secret-stream's) is
rejected with FL_ERR_DECODE or FL_ERR_CRYPTO, and the only state change is
the reader's session turning FAILED (payload zeroed, no keys, no hash).

XX's first message carries no authentication (no DH has happened yet), so
no receiver can reject a mutated copy on sight; there the mutation must make
the handshake fail one message later, at the initiator."""
import pytest

from flock import noise
from flock._lib import FlockError

PROLOGUE = bytes.fromhex("14d6d4b49214ab1033ed204976caa258bae9e1e8543b9ad1fd996a910b0c4e3a")
KEYS = {name: noise.keypair_from_seed(bytes([fill]) * 32)
        for name, fill in (("is", 1), ("rs", 2), ("ie", 3), ("re", 4))}
PAYLOADS = [b"one!", b"two!!", b"three"]


def pair(pattern):
    i = noise.Handshake(pattern, True, prologue=PROLOGUE, static_sk=KEYS["is"][1],
                        remote_static=KEYS["rs"][0] if pattern == "IK" else None,
                        ephemeral_sk=KEYS["ie"][1])
    r = noise.Handshake(pattern, False, prologue=PROLOGUE, static_sk=KEYS["rs"][1],
                        ephemeral_sk=KEYS["re"][1])
    return i, r


def transcript(pattern):
    i, r = pair(pattern)
    msgs = []
    for k in range(2 if pattern == "IK" else 3):
        snd, rcv = (i, r) if k % 2 == 0 else (r, i)
        msgs.append(snd.write(PAYLOADS[k]))
        assert rcv.read(msgs[-1]) == PAYLOADS[k]
    return msgs


def reader_at(pattern, msgs, k):
    """A fresh pair replayed up to message k; returns (reader, writer)."""
    i, r = pair(pattern)
    for j in range(k):
        snd, rcv = (i, r) if j % 2 == 0 else (r, i)
        rcv.read(snd.write(PAYLOADS[j]))
    return (r, i) if k % 2 == 0 else (i, r)


def mutations(msg):
    for n in range(len(msg)):
        yield f"truncated to {n}", msg[:n]
    for bit in range(8 * len(msg)):
        b = bytearray(msg)
        b[bit // 8] ^= 1 << (bit % 8)
        yield f"bit {bit} flipped", bytes(b)


def assert_failed_cleanly(reader, good, what):
    assert reader.status == noise.FAILED, what
    for call, name in ((lambda: reader.read(good), "FL_ERR_STATE"),
                       (reader.split, "FL_ERR_STATE"),
                       (reader.handshake_hash, "FL_ERR_STATE"),
                       (lambda: reader.write(b""), "FL_ERR_STATE"),
                       (lambda: reader.encrypt(b"x"), "FL_ERR_STATE")):
        with pytest.raises(FlockError) as e:
            call()
        assert e.value.name == name, what


@pytest.mark.parametrize("pattern,k", [("IK", 0), ("IK", 1), ("XX", 1), ("XX", 2)])
def test_authenticated_message_mutations_rejected(pattern, k):
    msgs = transcript(pattern)
    fixed = 32 + (48 if (pattern, k) in (("IK", 0), ("XX", 1)) else 0) + 16
    if (pattern, k) == ("XX", 2):
        fixed = 48 + 16
    count = 0
    for what, bad in mutations(msgs[k]):
        reader, _ = reader_at(pattern, msgs, k)
        with pytest.raises(FlockError) as e:
            reader.read(bad)
        if what.startswith("truncated"):
            want = "FL_ERR_DECODE" if len(bad) < fixed else "FL_ERR_CRYPTO"
            assert e.value.name == want, f"{pattern} msg{k + 1} {what}"
        else:
            assert e.value.name in ("FL_ERR_CRYPTO", "FL_ERR_DECODE"), f"{pattern} msg{k + 1} {what}"
        assert_failed_cleanly(reader, msgs[k], f"{pattern} msg{k + 1} {what}")
        count += 1
    assert count == 9 * len(msgs[k])


def test_xx_first_message_mutations_fail_the_handshake_at_msg2():
    msgs = transcript("XX")
    for what, bad in mutations(msgs[0]):
        i, r = pair("XX")
        i.write(PAYLOADS[0])
        if len(bad) < 32:
            with pytest.raises(FlockError) as e:
                r.read(bad)
            assert e.value.name == "FL_ERR_DECODE", what
            assert_failed_cleanly(r, msgs[0], what)
            continue
        try:
            r.read(bad)  # unauthenticated: accepted (or a flipped e is not a point)
        except FlockError as e:
            assert e.name == "FL_ERR_CRYPTO", what
            continue
        try:
            msg2 = r.write(PAYLOADS[1])
        except FlockError as e:
            # A flipped e that is no valid point: the responder's ee DH fails.
            assert e.name == "FL_ERR_CRYPTO", what
            assert r.status == noise.FAILED, what
            continue
        with pytest.raises(FlockError) as e:
            i.read(msg2)
        assert e.value.name == "FL_ERR_CRYPTO", what
        assert_failed_cleanly(i, msgs[1], what)


def test_vectors_and_interop_keep_working_after_failures():
    # A failed session leaves other sessions untouched (no shared state).
    msgs = transcript("IK")
    i, r = pair("IK")
    bad = bytearray(msgs[0])
    bad[-1] ^= 1
    with pytest.raises(FlockError):
        r.read(bytes(bad))
    assert transcript("IK") == msgs
