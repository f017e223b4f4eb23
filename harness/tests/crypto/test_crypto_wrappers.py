"""The Python wrappers themselves: every function reaches the library, results
agree with independent implementations where Python has one (hashlib's
BLAKE2b), and misuse surfaces as the library's exact error code."""
import hashlib
import random

import pytest

from flock import FlockError
from flock import crypto as fc


def code(excinfo):
    return excinfo.value.name


def test_hash_matches_hashlib(test_seed):
    r = random.Random(f"{test_seed}/hashlib")
    for _ in range(200):
        data = r.randbytes(r.randrange(400))
        n = r.randint(16, 64)
        key = r.randbytes(r.randint(16, 64)) if r.random() < 0.5 else None
        want = hashlib.blake2b(data, digest_size=n, key=key or b"").digest()
        assert fc.hash(data, n, key) == want
        cut = sorted(r.randrange(len(data) + 1) for _ in range(3))
        parts = [data[:cut[0]], data[cut[0]:cut[1]], data[cut[1]:cut[2]], data[cut[2]:]]
        assert fc.hash_parts(parts, n, key) == want


def test_hash_misuse_codes():
    for out_len in (0, 15, 65):
        with pytest.raises(FlockError) as e:
            fc.hash(b"x", out_len)
        assert code(e) == "FL_ERR_INVALID"
    for key_len in (1, 15, 65):
        with pytest.raises(FlockError) as e:
            fc.hash(b"x", 32, bytes(key_len))
        assert code(e) == "FL_ERR_INVALID"
    with pytest.raises(FlockError) as e:
        fc.hyperdht_ns(2)
    assert code(e) == "FL_ERR_INVALID"


def test_namespace_from_count_equals_list():
    assert fc.namespace("hyperswarm/dht", 11) == fc.namespace(b"hyperswarm/dht", range(11))
    assert fc.namespace("hyperswarm/dht", [4])[0] == fc.hyperdht_ns(fc.NS_ANNOUNCE)


def test_sign_verify_and_fixed_sizes():
    kp = fc.keypair_from_seed(b"\x07" * 32)
    assert kp.secret_key[:32] == b"\x07" * 32 and kp.secret_key[32:] == kp.public_key
    sig = fc.sign(b"flock", kp.secret_key)
    assert fc.verify(sig, b"flock", kp.public_key)
    assert not fc.verify(sig, b"flocK", kp.public_key)
    with pytest.raises(ValueError):
        fc.keypair_from_seed(bytes(31))
    with pytest.raises(ValueError):
        fc.verify(sig[:63], b"flock", kp.public_key)


def test_x25519_wrappers_agree_with_each_other():
    a, b = b"\x11" * 32, b"\x22" * 32
    shared = fc.x25519(a, fc.x25519_public(b))
    assert shared == fc.x25519(b, fc.x25519_public(a))
    with pytest.raises(FlockError) as e:
        fc.x25519(a, bytes(32))
    assert code(e) == "FL_ERR_CRYPTO"


def test_aead_and_secretbox_errors():
    key, nonce = bytes(range(32)), bytes(12)
    c = fc.aead_encrypt(b"hello", nonce, key, b"ad")
    assert fc.aead_decrypt(c, nonce, key, b"ad") == b"hello"
    with pytest.raises(FlockError) as e:
        fc.aead_decrypt(c, nonce, key, b"AD")
    assert code(e) == "FL_ERR_CRYPTO"
    with pytest.raises(FlockError) as e:
        fc.aead_decrypt(c[:15], nonce, key)
    assert code(e) == "FL_ERR_DECODE"
    box = fc.secretbox_seal(b"", bytes(24), key)
    assert len(box) == 16 and fc.secretbox_open(box, bytes(24), key) == b""
    with pytest.raises(FlockError) as e:
        fc.secretbox_open(box[:-1] + bytes([box[-1] ^ 1]), bytes(24), key)
    assert code(e) == "FL_ERR_CRYPTO"
    assert fc.equal(b"abc", b"abc") and not fc.equal(b"abc", b"abd")


def test_secretstream_refusal_keeps_state():
    key, header = bytes(32), bytes(range(24))
    push, pull = fc.SecretStreamPush(key, header), fc.SecretStreamPull(key, header)
    c1, c2 = push.push(b"one"), push.push(b"two", fc.TAG_FINAL)
    before = pull.state()
    for bad in (c2, c1[:-1] + b"\x00", c1[:16]):
        with pytest.raises(FlockError) as e:
            pull.pull(bad)
        assert code(e) in ("FL_ERR_CRYPTO", "FL_ERR_DECODE")
        assert pull.state() == before
    assert pull.pull(c1) == (b"one", fc.TAG_MESSAGE)
    assert pull.pull(c2) == (b"two", fc.TAG_FINAL)


def test_drbg_wrapper():
    a, b = fc.Drbg(b"\x01" * 32), fc.Drbg(b"\x01" * 32)
    assert a.bytes(1000) == b.bytes(1000)
    assert a.u64() == b.u64() and a.u32() == b.u32()
    assert a.bytes_out == 1012
    child = a.fork()
    assert a.bytes_out == 1044 and child.bytes_out == 0
    assert child.bytes(32) != a.bytes(32)
    assert all(a.uniform(7) < 7 for _ in range(500))
    assert a.uniform(0) == 0 and a.uniform(1) == 0
    assert fc.Drbg(b"\x02" * 32).bytes(16) != fc.Drbg(b"\x01" * 32).bytes(16)
    a.wipe()
    assert a.bytes_out == 0
