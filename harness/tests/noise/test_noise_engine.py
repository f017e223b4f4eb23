"""The engine through ctypes: ephemerals from a caller's DRBG (same seed, same
messages; another seed, other messages), misuse codes, all 38 patterns."""
import pytest

from flock import noise
from flock._lib import FlockError


def xx_transcript(seed_i, seed_r):
    _, isk = noise.keypair_from_seed(b"\x01" * 32)
    _, rsk = noise.keypair_from_seed(b"\x02" * 32)
    di, dr = noise.Drbg(seed_i), noise.Drbg(seed_r)
    i = noise.Handshake("XX", True, static_sk=isk, drbg=di)
    r = noise.Handshake("XX", False, static_sk=rsk, drbg=dr)
    msgs = [i.write(b"a")]
    r.read(msgs[0])
    msgs.append(r.write(b"b"))
    i.read(msgs[1])
    msgs.append(i.write(b"c"))
    r.read(msgs[2])
    assert i.split().tx == r.split().rx
    assert di.bytes(1) != noise.Drbg(seed_i).bytes(1)  # the engine drew from it
    return msgs


def test_drbg_ephemerals_are_deterministic(test_seed):
    a = test_seed.to_bytes(8, "little") + bytes(24)
    b = (test_seed + 1).to_bytes(8, "little") + bytes(24)
    assert xx_transcript(a, b) == xx_transcript(a, b)
    other = xx_transcript(b, a)
    assert other[0][:32] != xx_transcript(a, b)[0][:32]


def test_misuse_codes():
    for kwargs in ({"pattern": "NOPE"}, {"pattern": "NNpsk0"}, {"pattern": "IK"}):
        with pytest.raises(FlockError) as e:
            noise.Handshake(kwargs["pattern"], True, ephemeral_sk=bytes(32), dh=noise.X25519)
        assert e.value.name == "FL_ERR_INVALID"
    hs = noise.Handshake("NN", False, ephemeral_sk=bytes(range(32)), dh=noise.X25519)
    with pytest.raises(FlockError) as e:
        hs.write(b"")
    assert e.value.name == "FL_ERR_STATE"
    assert hs.status == noise.READ


def test_every_pattern_is_known():
    assert len(noise.PATTERNS) == 38
    assert all(noise.pattern_supported(p) for p in noise.PATTERNS)
    assert not noise.pattern_supported("XXfallback")
