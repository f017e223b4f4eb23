#!/usr/bin/python3
"""Run Noise test vectors (cacophony / snow JSON format) through core/noise.

    python3 harness/tools/noise_vectors.py FILE.json [-v]

For every vector whose protocol the engine supports (DH 25519 or Ed25519,
ChaChaPoly, BLAKE2b, no PSK, a known pattern) it runs an initiator and a
responder from the vector's keys, checks each message's ciphertext (handshake
and transport) and payload, and the handshake hash when the file gives one.
Unsupported vectors are counted as skipped, never as passed. Prints why each
failure failed and ends with "N passed, M failed" (", K skipped"). Exit status
is 1 if anything failed or nothing ran.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flock import noise  # noqa: E402
from flock._lib import FlockError  # noqa: E402

DHS = {"25519": noise.X25519, "Ed25519": noise.ED25519}


class Skip(Exception):
    pass


class Fail(Exception):
    pass


def protocol_of(v):
    """(name, pattern, dh) or raise Skip with the reason."""
    name = v.get("protocol_name")
    if name is None and "pattern" in v:  # the older cacophony layout
        name = "Noise_%s_%s_%s_%s" % (v["pattern"], v.get("dh"), v.get("cipher"), v.get("hash"))
    if not name:
        raise Skip("no protocol_name")
    parts = name.split("_")
    if len(parts) != 5 or parts[0] != "Noise":
        raise Skip(f"{name}: not a Noise_<pattern>_<dh>_<cipher>_<hash> name")
    _, pattern, dh, cipher, hsh = parts
    if "psk" in pattern or v.get("init_psks") or v.get("resp_psks"):
        raise Skip(f"{name}: PSK patterns are not supported")
    if v.get("fallback") or v.get("fail") or v.get("hybrid") or "+" in pattern:
        raise Skip(f"{name}: fallback/hybrid/failure vectors are not supported")
    if dh not in DHS:
        raise Skip(f"{name}: DH {dh} not supported")
    if cipher != "ChaChaPoly":
        raise Skip(f"{name}: cipher {cipher} not supported")
    if hsh != "BLAKE2b":
        raise Skip(f"{name}: hash {hsh} not supported")
    if not noise.pattern_supported(pattern):
        raise Skip(f"{name}: pattern {pattern} not supported")
    return name, pattern, DHS[dh]


def hexb(v, key):
    x = v.get(key)
    return bytes.fromhex(x) if x else None


def secret(v, key, dh):
    """A vector's private key in the engine's form. Ed25519 keys may be
    given as 32-byte seeds (expanded as crypto_sign_seed_keypair does) or
    as libsodium's 64-byte seed || public key."""
    k = hexb(v, key)
    if k is not None and dh == noise.ED25519 and len(k) == 32:
        k = noise.keypair_from_seed(k, noise.ED25519)[1]
    want = 64 if dh == noise.ED25519 else 32
    if k is not None and len(k) != want:
        raise Fail(f"{key} is {len(k)} bytes, expected {want}")
    return k


def make(v, side, pattern, dh):
    return noise.Handshake(pattern, initiator=side == "init", dh=dh,
                           prologue=hexb(v, side + "_prologue") or b"",
                           static_sk=secret(v, side + "_static", dh),
                           remote_static=hexb(v, side + "_remote_static"),
                           ephemeral_sk=secret(v, side + "_ephemeral", dh))


def run_vector(v):
    """Raise Skip or Fail; return None when every check passed."""
    name, pattern, dh = protocol_of(v)
    try:
        init, resp = make(v, "init", pattern, dh), make(v, "resp", pattern, dh)
    except FlockError as e:
        raise Fail(f"cannot set up the handshake: {e}")
    one_way = pattern in ("N", "K", "X")
    for i, m in enumerate(v["messages"]):
        payload, want = bytes.fromhex(m["payload"]), bytes.fromhex(m["ciphertext"])
        from_init = one_way or i % 2 == 0
        snd, rcv = (init, resp) if from_init else (resp, init)
        who = "initiator" if from_init else "responder"
        in_handshake = snd.status == noise.WRITE
        phase = "handshake" if in_handshake else "transport"
        try:
            got = snd.write(payload) if in_handshake else snd.encrypt(payload)
        except FlockError as e:
            raise Fail(f"message {i} ({phase}, {who} writes): {e}")
        if got != want:
            raise Fail(f"message {i} ({phase}, {who} writes): ciphertext differs\n"
                       f"    want {want.hex()}\n    got  {got.hex()}")
        try:
            back = rcv.read(got) if in_handshake else rcv.decrypt(got)
        except FlockError as e:
            raise Fail(f"message {i} ({phase}, peer reads): {e}")
        if back != payload:
            raise Fail(f"message {i} ({phase}): payload read back differs")
        if in_handshake and snd.status == noise.DONE:
            check_hash(v, init, resp)
    if init.status != noise.DONE or resp.status != noise.DONE:
        raise Fail("the vector ended before the handshake completed")
    init.close()
    resp.close()


def check_hash(v, init, resp):
    hi, hr = init.handshake_hash(), resp.handshake_hash()
    if hi != hr:
        raise Fail("initiator and responder handshake hashes differ")
    want = hexb(v, "handshake_hash")
    if want is not None and hi != want:
        raise Fail(f"handshake hash differs\n    want {want.hex()}\n    got  {hi.hex()}")


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    verbose = "-v" in argv[2:]
    vectors = json.loads(Path(argv[1]).read_text())["vectors"]
    passed = failed = skipped = 0
    for idx, v in enumerate(vectors):
        label = v.get("protocol_name") or v.get("name") or f"vector {idx}"
        try:
            run_vector(v)
        except Skip as e:
            skipped += 1
            if verbose:
                print(f"SKIP {idx} {e}")
            continue
        except Fail as e:
            failed += 1
            print(f"FAIL {idx} {label}: {e}")
            continue
        passed += 1
        if verbose:
            print(f"ok   {idx} {label}")
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
