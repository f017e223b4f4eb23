"""libflock's crypto against the pinned reference packages, byte for byte:
hyperdht keyPair(seed), noise-curve-ed dh, the namespace constants, BLAKE2b,
Ed25519 both ways, secretbox, AEAD and secretstream both ways. One Node.js
process per test answers the whole batch (flock.crypto_ref)."""
import random

import pytest

from flock import FlockError
from flock import crypto as fc
from flock.crypto_ref import reference

pytestmark = pytest.mark.interop

N = 100


def rng_for(test_seed, salt):
    return random.Random(f"{test_seed}/{salt}")


def test_reference_versions_are_the_pinned_ones(js):
    (v,) = reference(("versions", None))
    assert v["hyperdht"] == "6.34.0"
    assert v["noise-curve-ed"] == "2.1.0"


def test_keypair_from_seed_equals_hyperdht_keypair(js, test_seed):
    r = rng_for(test_seed, "keypair")
    seeds = [bytes(32), b"\xff" * 32] + [r.randbytes(32) for _ in range(N - 2)]
    (ref,) = reference(("keypair", [s.hex() for s in seeds]))
    assert len(ref) == N
    for seed, theirs in zip(seeds, ref):
        ours = fc.keypair_from_seed(seed)
        assert ours.public_key.hex() == theirs["pk"], f"seed {seed.hex()}"
        assert ours.secret_key.hex() == theirs["sk"], f"seed {seed.hex()}"


def test_dh_equals_noise_curve_ed(js, test_seed):
    r = rng_for(test_seed, "dh")
    pairs = [(fc.keypair_from_seed(r.randbytes(32)), fc.keypair_from_seed(r.randbytes(32)))
             for _ in range(N)]
    cases = []
    for a, b in pairs:
        cases.append({"sk": a.secret_key.hex(), "pk": b.public_key.hex()})
        cases.append({"sk": b.secret_key.hex(), "pk": a.public_key.hex()})
    (ref,) = reference(("dh", cases))
    for i, (a, b) in enumerate(pairs):
        ab, ba = fc.dh_ed25519(a.secret_key, b.public_key), fc.dh_ed25519(b.secret_key, a.public_key)
        assert ab == ba
        assert ref[2 * i] == ab.hex() and ref[2 * i + 1] == ba.hex(), f"pair {i}"


BAD_POINTS = {
    "identity": "01" + "00" * 31,
    "order 2": "ec" + "ff" * 30 + "7f",
    "order 4 (y=0)": "00" * 32,
    "y = p, non-canonical": "ed" + "ff" * 30 + "7f",
    "not on the curve (y=2)": "02" + "00" * 31,
    "y = 2^255-1": "ff" * 32,
}


def test_dh_refuses_exactly_where_noise_curve_ed_throws(js):
    sk = fc.keypair_from_seed(b"\x05" * 32).secret_key
    names = list(BAD_POINTS)
    (ref,) = reference(("dh", [{"sk": sk.hex(), "pk": BAD_POINTS[n]} for n in names]))
    for name, theirs in zip(names, ref):
        assert isinstance(theirs, dict) and "error" in theirs, f"reference accepted {name}"
        with pytest.raises(FlockError) as e:
            fc.dh_ed25519(sk, bytes.fromhex(BAD_POINTS[name]))
        assert e.value.name == "FL_ERR_CRYPTO", name


def test_namespace_constants_equal_the_reference(js):
    questions = [{"name": "hyperswarm/dht", "ids": list(range(11))},
                 {"name": "flock/test", "ids": [0, 7, 255]},
                 {"name": "", "ids": 3}]
    (ref,) = reference(("ns", questions))
    assert set(ref["hyperdht"]) == set(fc.NS_IDS)
    for name, ns_id in fc.NS_IDS.items():
        assert fc.hyperdht_ns(ns_id).hex() == ref["hyperdht"][name], name
    for q, theirs in zip(questions, ref["namespace"]):
        assert [x.hex() for x in fc.namespace(q["name"], q["ids"])] == theirs, q


def test_blake2b_plain_and_keyed_equal_sodium(js, test_seed):
    r = rng_for(test_seed, "hash")
    cases = []
    for i in range(300):
        data = r.randbytes(r.choice([0, 1, 31, 32, 33, 127, 128, 129, r.randrange(2000)]))
        key = r.randbytes(r.randint(16, 64)) if i % 2 else None
        cases.append({"data": data.hex(), "out_len": r.choice([16, 32, 64, r.randint(16, 64)]),
                      "key": key.hex() if key else None})
    (ref,) = reference(("hash", cases))
    for c, theirs in zip(cases, ref):
        key = bytes.fromhex(c["key"]) if c["key"] else None
        assert fc.hash(bytes.fromhex(c["data"]), c["out_len"], key).hex() == theirs, c


def test_sign_both_ways(js, test_seed):
    r = rng_for(test_seed, "sign")
    kps = [fc.keypair_from_seed(r.randbytes(32)) for _ in range(4)]
    msgs = [r.randbytes(r.randrange(300)) for _ in range(N)]
    js_sign = [{"sk": kps[i % 4].secret_key.hex(), "msg": m.hex()} for i, m in enumerate(msgs)]
    c_sigs = [fc.sign(m, kps[i % 4].secret_key) for i, m in enumerate(msgs)]
    c_forged = [bytes([s[0] ^ 1]) + s[1:] for s in c_sigs]
    verify = [{"sig": s.hex(), "msg": m.hex(), "pk": kps[i % 4].public_key.hex()}
              for i, (s, m) in enumerate(zip(c_sigs + c_forged, msgs + msgs))]
    js_sigs, js_ok = reference(("sign", js_sign), ("verify", verify))
    assert js_ok == [True] * N + [False] * N
    for i, (m, s) in enumerate(zip(msgs, js_sigs)):
        pk = kps[i % 4].public_key
        assert fc.verify(bytes.fromhex(s), m, pk), f"C refused JS signature {i}"
        assert s == c_sigs[i].hex()  # Ed25519 is deterministic
        forged = bytearray.fromhex(s)
        forged[63] ^= 0x40
        assert not fc.verify(bytes(forged), m, pk)


def test_secretbox_both_ways(js, test_seed):
    r = rng_for(test_seed, "box")
    cases = [{"m": r.randbytes(r.randrange(500)).hex(), "nonce": r.randbytes(24).hex(),
              "key": r.randbytes(32).hex()} for _ in range(50)]
    ours = [fc.secretbox_seal(bytes.fromhex(c["m"]), bytes.fromhex(c["nonce"]),
                              bytes.fromhex(c["key"])) for c in cases]
    opens = [{**c, "c": o.hex()} for c, o in zip(cases, ours)]
    forged = [{**o, "c": ("00" if o["c"][:2] != "00" else "01") + o["c"][2:]} for o in opens[:5]]
    theirs, opened, refused = reference(("box_seal", cases), ("box_open", opens),
                                        ("box_open", forged))
    assert opened == [c["m"] for c in cases]
    assert all(x == {"error": "forged"} for x in refused)
    for c, t in zip(cases, theirs):
        assert fc.secretbox_open(bytes.fromhex(t), bytes.fromhex(c["nonce"]),
                                 bytes.fromhex(c["key"])).hex() == c["m"]


def test_aead_both_ways(js, test_seed):
    r = rng_for(test_seed, "aead")
    cases = [{"m": r.randbytes(r.randrange(300)).hex(), "ad": r.randbytes(r.randrange(40)).hex(),
              "nonce": r.randbytes(12).hex(), "key": r.randbytes(32).hex()} for _ in range(50)]
    args = [(bytes.fromhex(c["nonce"]), bytes.fromhex(c["key"]), bytes.fromhex(c["ad"]))
            for c in cases]
    ours = [fc.aead_encrypt(bytes.fromhex(c["m"]), *a) for c, a in zip(cases, args)]
    theirs, opened = reference(("aead_encrypt", cases),
                               ("aead_decrypt", [{**c, "c": o.hex()} for c, o in zip(cases, ours)]))
    assert theirs == [o.hex() for o in ours]
    assert opened == [c["m"] for c in cases]


def _stream_plan(r):
    tags = [fc.TAG_MESSAGE, fc.TAG_PUSH, fc.TAG_MESSAGE, "rekey", fc.TAG_REKEY,
            fc.TAG_MESSAGE, fc.TAG_MESSAGE, fc.TAG_FINAL]
    plan = []
    for t in tags:
        if t == "rekey":
            plan.append({"rekey": True})
        else:
            plan.append({"m": r.randbytes(r.randrange(200)).hex(), "tag": t,
                         "ad": r.randbytes(r.randrange(3)).hex()})
    return plan


def test_secretstream_js_pushes_c_pulls(js, test_seed):
    r = rng_for(test_seed, "ss-js")
    key, plan = r.randbytes(32), _stream_plan(r)
    (ref,) = reference(("sstream_push", {"key": key.hex(), "messages": plan}))
    pull = fc.SecretStreamPull(key, bytes.fromhex(ref["header"]))
    for step, c in zip(plan, ref["cs"]):
        if step.get("rekey"):
            pull.rekey()
            continue
        c = bytes.fromhex(c)
        ad = bytes.fromhex(step["ad"])
        before = pull.state()
        with pytest.raises(FlockError) as e:  # a tampered copy first: refused, no state change
            pull.pull(c[:-1] + bytes([c[-1] ^ 1]), ad)
        assert e.value.name == "FL_ERR_CRYPTO" and pull.state() == before
        assert pull.pull(c, ad) == (bytes.fromhex(step["m"]), step["tag"])


def test_secretstream_c_pushes_js_pulls(js, test_seed):
    r = rng_for(test_seed, "ss-c")
    key, plan = r.randbytes(32), _stream_plan(r)
    header = fc.Drbg(r.randbytes(32)).bytes(fc.SSTREAM_HEADER_BYTES)
    push = fc.SecretStreamPush(key, header)
    cs = []
    for step in plan:
        if step.get("rekey"):
            push.rekey()
            cs.append({"rekey": True})
        else:
            c = push.push(bytes.fromhex(step["m"]), step["tag"], bytes.fromhex(step["ad"]))
            cs.append({"c": c.hex(), "ad": step["ad"]})
    # And a forged stream: the reference must refuse its first message.
    forged = [dict(cs[0], c="ff" + cs[0]["c"][2:])]
    ok, bad = reference(("sstream_pull", {"key": key.hex(), "header": header.hex(), "cs": cs}),
                        ("sstream_pull", {"key": key.hex(), "header": header.hex(), "cs": forged}))
    for step, got in zip(plan, ok):
        if step.get("rekey"):
            assert got is None
        else:
            assert got == {"m": step["m"], "tag": step["tag"]}
    assert "error" in bad[0]
