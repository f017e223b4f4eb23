#!/usr/bin/env python3
"""`./run demo` until the simulator lands: the C core side by side with the
reference JavaScript packages, on the parts that exist today.

  1. Ed25519 key pairs from seeds: libflock vs hyperdht's DHT.keyPair(seed).
  2. hyperdht's protocol namespaces: libflock vs hyperdht lib/constants.js.
  3. The Noise DH of noise-curve-ed: libflock vs the JS, both directions.
  4. Signatures across languages: C signs / JS verifies, and the reverse.
  5. A DRBG-seeded secretstream: C pushes / JS pulls, and the reverse.
  6. A captured dht-rpc PING (spec/dht-rpc.md 11.1): node ids recomputed
     with BLAKE2b, and, when libflock has the enc layer, the packets decoded
     and re-encoded byte for byte (compact-encoding in JS decodes them too).

Prints a short report and exits 1 if any cross-check disagrees.
Environment: FLOCK_BUILD (build dir, default <repo>/build).
"""
import os
import sys
from pathlib import Path

HARNESS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HARNESS))

from flock import FlockError, lib, version  # noqa: E402
from flock import crypto as fc  # noqa: E402
from flock import interop  # noqa: E402
from flock.crypto_ref import reference  # noqa: E402


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = []

    def section(self, title):
        print(f"\n{title}")

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"  {'match' if ok else 'DIFFER'}  {what}{('  ' + detail) if detail else ''}")
        return ok

    def skip(self, what, why):
        self.skipped.append(what)
        print(f"  skip   {what}: {why}")


def short(b):
    h = b.hex() if isinstance(b, (bytes, bytearray)) else b
    return f"{h[:12]}..{h[-4:]}"


# ---- the captured packets (spec/dht-rpc.md 11.1) ------------------------------

PING_REQ = bytes.fromhex("03051d9d7f000001214e9e11f7b645f911a069349236ef5aab5aa4e41e5a6dfc"
                         "bc81d2fad1f0ce3fa87b00")
PING_RES = bytes.fromhex("13011d9d7f000001224e9b6624720996a60b2786adade908184a455312c01a9e"
                         "711aab89690c4f4ca56c")
N2_ADDR = bytes.fromhex("7f000001224e")  # 127.0.0.1:20002 as ipv4Address
B_ADDR = bytes.fromhex("7f000001214e")   # 127.0.0.1:20001

JS_DECODE_PING = r"""
const c = require('compact-encoding')
const { ipv4Address } = require('compact-encoding-net')
const pkts = JSON.parse(require('fs').readFileSync(0, 'utf8'))
const out = pkts.map((hex) => {
  const state = { start: 0, end: hex.length / 2, buffer: Buffer.from(hex, 'hex') }
  const type = c.uint8.decode(state), flags = c.uint.decode(state), tid = c.uint16.decode(state)
  const to = ipv4Address.decode(state)
  const id = flags & 1 ? c.fixed32.decode(state).toString('hex') : null
  const command = type === 0x03 ? c.uint.decode(state) : null
  return { type, flags, tid, to: to.host + ':' + to.port, id, command }
})
process.stdout.write(JSON.stringify(out))
"""


def enc_roundtrip(pkt):
    """Decode a dht-rpc PING request/response with libflock's enc layer, then
    re-encode the fields; returns (fields, re-encoded bytes)."""
    from flock import enc

    pos = 0

    def take(decode, *args):
        nonlocal pos
        value, used = decode(pkt, *args, offset=pos)
        pos += used
        return value

    ptype = take(enc.decode_uint8)
    flags = take(enc.decode_uint)
    tid = take(enc.decode_uint16)
    to = take(enc.decode_ipv4_address)
    ident = take(enc.decode_fixed, 32) if flags & 1 else None
    command = take(enc.decode_uint) if ptype == 0x03 else None
    if pos != len(pkt):
        raise FlockError(-2, f"{len(pkt) - pos} bytes left over")
    fields = {"type": ptype, "flags": flags, "tid": tid, "to": f"{to.host}:{to.port}",
              "id": ident.hex() if ident is not None else None, "command": command}
    again = (enc.encode_uint8(ptype) + enc.encode_uint(flags) + enc.encode_uint16(tid)
             + enc.encode_ipv4_address(to.host, to.port)
             + (enc.encode_fixed(ident) if ident is not None else b"")
             + (enc.encode_uint(command) if command is not None else b""))
    return fields, again


# ---- the demo -------------------------------------------------------------------

def main():
    rep = Report()
    print(f"Flock demo: libflock {version()} ({os.environ.get('FLOCK_BUILD', 'build')}) "
          "beside the pinned reference packages")
    if not interop.node_available():
        print("node or harness/interop/node_modules missing: run ./run build first")
        return 1

    seeds = [fc.hash(f"flock demo node {i}".encode()) for i in range(3)]
    kps = [fc.keypair_from_seed(s) for s in seeds]
    msgs = [f"hello from node {i}".encode() for i in range(3)]
    c_sigs = [fc.sign(m, kp.secret_key) for m, kp in zip(msgs, kps)]

    rng = fc.Drbg(fc.hash(b"flock demo drbg seed"))
    ss_key, ss_header = rng.bytes(32), rng.bytes(24)
    push = fc.SecretStreamPush(ss_key, ss_header)
    ss_plain = [b"first message", b"second, after a push tag", b"the last one"]
    ss_tags = [fc.TAG_MESSAGE, fc.TAG_PUSH, fc.TAG_FINAL]
    c_stream = [{"c": push.push(m, t).hex()} for m, t in zip(ss_plain, ss_tags)]

    pairs = [(0, 1), (1, 2), (2, 0)]
    ref = reference(
        ("versions", None),
        ("keypair", [s.hex() for s in seeds]),
        ("ns", None),
        ("dh", [{"sk": kps[a].secret_key.hex(), "pk": kps[b].public_key.hex()} for a, b in pairs]
         + [{"sk": kps[b].secret_key.hex(), "pk": kps[a].public_key.hex()} for a, b in pairs]),
        ("sign", [{"sk": kp.secret_key.hex(), "msg": m.hex()} for kp, m in zip(kps, msgs)]),
        ("verify", [{"sig": s.hex(), "msg": m.hex(), "pk": kp.public_key.hex()}
                    for s, m, kp in zip(c_sigs, msgs, kps)]),
        ("sstream_pull", {"key": ss_key.hex(), "header": ss_header.hex(), "cs": c_stream}),
        ("sstream_push", {"key": ss_key.hex(),
                          "messages": [{"m": b"reply from JS".hex(), "tag": fc.TAG_FINAL}]}),
    )
    versions, js_kps, js_ns, js_dh, js_sigs, js_verified, js_pulled, js_pushed = ref
    print("reference: " + ", ".join(f"{k}@{v}" for k, v in versions.items()))

    rep.section("1. Ed25519 key pairs from seeds (libflock vs hyperdht DHT.keyPair)")
    for i, (kp, js) in enumerate(zip(kps, js_kps)):
        rep.check(kp.public_key.hex() == js["pk"] and kp.secret_key.hex() == js["sk"],
                  f"seed {i}: public key {short(kp.public_key)}")

    rep.section("2. hyperdht namespaces, namespace('hyperswarm/dht', [id])")
    for name, ns_id in fc.NS_IDS.items():
        ours = fc.hyperdht_ns(ns_id)
        rep.check(ours.hex() == js_ns["hyperdht"].get(name), f"NS_{name:<15} {short(ours)}")

    rep.section("3. Noise DH of noise-curve-ed (Edwards point, not X25519)")
    for k, (a, b) in enumerate(pairs):
        ab = fc.dh_ed25519(kps[a].secret_key, kps[b].public_key)
        ba = fc.dh_ed25519(kps[b].secret_key, kps[a].public_key)
        rep.check(ab == ba and ab.hex() == js_dh[k] == js_dh[k + len(pairs)],
                  f"dh(node {a}, node {b}) = {short(ab)} in C both ways and in JS both ways")

    rep.section("4. Ed25519 signatures across languages")
    for i, (m, kp) in enumerate(zip(msgs, kps)):
        rep.check(js_verified[i] is True, f"C signed {m.decode()!r}, sodium-native verified it")
        js_sig = bytes.fromhex(js_sigs[i])
        rep.check(fc.verify(js_sig, m, kp.public_key) and js_sig == c_sigs[i],
                  f"JS signed {m.decode()!r}, libflock verified it (identical signature)")
    forged = bytes([c_sigs[0][0] ^ 1]) + c_sigs[0][1:]
    rep.check(not fc.verify(forged, msgs[0], kps[0].public_key),
              "a signature with one flipped bit is refused")

    rep.section("5. secretstream, key and header from a seeded DRBG")
    for m, t, got in zip(ss_plain, ss_tags, js_pulled):
        rep.check(isinstance(got, dict) and got.get("m") == m.hex() and got.get("tag") == t,
                  f"C pushed {m.decode()!r} (tag {t}), sodium-native pulled it")
    pull = fc.SecretStreamPull(ss_key, bytes.fromhex(js_pushed["header"]))
    rep.check(pull.pull(bytes.fromhex(js_pushed["cs"][0])) == (b"reply from JS", fc.TAG_FINAL),
              "sodium-native pushed 'reply from JS' (own init_push), libflock pulled it")

    rep.section("6. A captured dht-rpc PING (spec/dht-rpc.md 11.1)")
    rep.check(fc.hash(N2_ADDR).hex() == PING_REQ[10:42].hex(),
              f"request id = BLAKE2b-256(ipv4Address 127.0.0.1:20002) = {short(PING_REQ[10:42])}")
    rep.check(fc.hash(B_ADDR).hex() == PING_RES[10:42].hex(),
              f"response id = BLAKE2b-256(ipv4Address 127.0.0.1:20001) = {short(PING_RES[10:42])}")
    js_fields = interop.run_js_json(JS_DECODE_PING, [PING_REQ.hex(), PING_RES.hex()])
    for name, pkt, js in (("request", PING_REQ, js_fields[0]), ("response", PING_RES, js_fields[1])):
        try:
            fields, again = enc_roundtrip(pkt)
        except FlockError as e:
            rep.check(False, f"PING {name}: libflock enc refused it", str(e))
            continue
        rep.check(fields == js, f"PING {name} decoded by libflock enc == compact-encoding: "
                  f"tid {fields['tid']}, to {fields['to']}, command {fields['command']}")
        rep.check(again == pkt, f"PING {name} re-encoded by libflock enc, {len(pkt)} bytes identical")

    print(f"\nsummary: {rep.passed} cross-checks matched, {rep.failed} differed"
          + (f", {len(rep.skipped)} skipped" if rep.skipped else ""))
    return 0 if rep.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
