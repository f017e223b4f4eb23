"""core/enc against the real compact-encoding@3.5.2 / compact-encoding-net@1.3.0.

10,000 seeded random values per codec (FL_TEST_SEED), drawn to hit every
varint width and the edge values: encoded by JS and decoded by C, encoded by C
and decoded by JS, and the two encodings compared byte for byte. Each
direction is one Node process for all codecs (values as JSON on stdin, hex
back). Then the places where the two differ on purpose, pinned exactly.
"""
import ipaddress
import json
import os
import random

import pytest

from flock import enc
from flock._lib import FL_ERR_DECODE, FL_ERR_RANGE, FlockError

N = 10_000
MAX_SAFE = 2**53 - 1

# ---- the Node side ------------------------------------------------------------

JS_CODECS = r"""
const c = require('compact-encoding')
const net = require('compact-encoding-net')
const hex = (h) => Buffer.from(h, 'hex')
const codecs = {
  uint: [c.uint, (v) => v, (v) => v],
  uint8: [c.uint8, (v) => v, (v) => v],
  uint16: [c.uint16, (v) => v, (v) => v],
  uint24: [c.uint24, (v) => v, (v) => v],
  uint32: [c.uint32, (v) => v, (v) => v],
  uint64: [c.uint64, (v) => v, (v) => v],
  bool: [c.bool, (v) => v, (v) => v],
  fixed32: [c.fixed32, hex, (b) => b.toString('hex')],
  fixed64: [c.fixed64, hex, (b) => b.toString('hex')],
  buffer: [c.buffer, hex, (b) => b.toString('hex')],
  string: [c.string, (v) => v, (v) => v],
  uint_array: [c.array(c.uint), (v) => v, (v) => v],
  ipv4_address: [net.ipv4Address, (v) => v, (v) => v],
  ipv6_address: [net.ipv6Address, (v) => v, (v) => v],
  ip_address: [net.ipAddress, (v) => v, (v) => v],
}
function readAll () {
  const chunks = []
  return new Promise((resolve) => {
    process.stdin.on('data', (d) => chunks.push(d))
    process.stdin.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString())))
  })
}
function each (list, fn) {
  return list.map((x) => { try { return fn(x) } catch (e) { return { error: e.message } } })
}
"""

JS_ENCODE = JS_CODECS + r"""
readAll().then((batches) => {
  const out = {}
  for (const [name, values] of Object.entries(batches)) {
    const [codec, fromJson] = codecs[name]
    out[name] = each(values, (v) => c.encode(codec, fromJson(v)).toString('hex'))
  }
  process.stdout.write(JSON.stringify(out))
})
"""

JS_DECODE = JS_CODECS + r"""
readAll().then((batches) => {
  const out = {}
  for (const [name, hexes] of Object.entries(batches)) {
    const [codec, , toJson] = codecs[name]
    out[name] = each(hexes, (h) => {
      const buf = hex(h)
      const state = c.state(0, buf.byteLength, buf)
      const value = toJson(codec.decode(state))
      return { value, used: state.start }
    })
  }
  process.stdout.write(JSON.stringify(out))
})
"""

# ---- seeded values ----------------------------------------------------------------

UINT_EDGES = [0, 1, 0xFC, 0xFD, 0xFE, 0xFF, 0x100, 0xFFFF, 0x10000, 0xFFFFFFFF, 2**32,
              2**32 + 1, MAX_SAFE - 1, MAX_SAFE]


def gen_uint(rng, top=MAX_SAFE):
    """Every varint width about equally often, plus the edges."""
    lo, hi = rng.choice([(0, 0xFC), (0xFD, 0xFFFF), (0x10000, 0xFFFFFFFF), (2**32, top)])
    return rng.randint(lo, min(hi, top))


def gen_fixed_uint(rng, bits, top=None):
    top = top or (1 << bits) - 1
    edges = [0, 1, top, top - 1, (top + 1) // 2]
    return rng.choice(edges) if rng.random() < 0.05 else rng.randint(0, top)


def gen_bytes(rng, n):
    return rng.randbytes(n)


# Code points from every UTF-8 length, avoiding surrogates (not encodable).
_RANGES = [(0x20, 0x7E), (0x00, 0x7F), (0x80, 0x7FF), (0x800, 0xD7FF), (0xE000, 0xFFFF),
           (0x10000, 0x10FFFF)]


def gen_string(rng):
    # Short ASCII exercises the reference's ASCII fast paths (<= 56 / 64 chars).
    n = rng.choice([0, 1, rng.randint(0, 56), rng.randint(57, 70), rng.randint(0, 300)])
    ascii_only = rng.random() < 0.4
    chars = []
    for _ in range(n):
        lo, hi = _RANGES[0] if ascii_only else rng.choice(_RANGES)
        chars.append(chr(rng.randint(lo, hi)))
    return "".join(chars)


def gen_buffer_len(rng):
    r = rng.random()
    if r < 0.7:
        return rng.randint(0, 64)
    if r < 0.98:
        return rng.randint(65, 600)
    return rng.choice([0xFC, 0xFD, 0xFE, 0x1000])


def gen_ipv4(rng):
    return {"host": str(ipaddress.IPv4Address(rng.getrandbits(32))), "port": rng.randint(0, 65535)}


def gen_ipv6(rng):
    raw = rng.getrandbits(128)
    if rng.random() < 0.3:  # runs of zeros, so the text uses "::"
        raw &= ~(((1 << 64) - 1) << rng.choice([0, 32, 64]))
    return {"host": str(ipaddress.IPv6Address(raw)), "port": rng.randint(0, 65535)}


def make_values(seed):
    rng = random.Random(seed)
    v = {
        "uint": UINT_EDGES + [gen_uint(rng) for _ in range(N - len(UINT_EDGES))],
        "uint8": [gen_fixed_uint(rng, 8) for _ in range(N)],
        "uint16": [gen_fixed_uint(rng, 16) for _ in range(N)],
        "uint24": [gen_fixed_uint(rng, 24) for _ in range(N)],
        "uint32": [gen_fixed_uint(rng, 32) for _ in range(N)],
        "uint64": [0, 2**32, MAX_SAFE] + [gen_uint(rng) for _ in range(N - 3)],
        "bool": [rng.random() < 0.5 for _ in range(N)],
        "fixed32": [gen_bytes(rng, 32).hex() for _ in range(N)],
        "fixed64": [gen_bytes(rng, 64).hex() for _ in range(N)],
        "buffer": [gen_bytes(rng, gen_buffer_len(rng)).hex() for _ in range(N)],
        "string": [gen_string(rng) for _ in range(N)],
        "uint_array": [[gen_uint(rng) for _ in range(rng.randint(0, 12))] for _ in range(N)],
        "ipv4_address": [gen_ipv4(rng) for _ in range(N)],
        "ipv6_address": [gen_ipv6(rng) for _ in range(N)],
        "ip_address": [gen_ipv4(rng) if rng.random() < 0.5 else gen_ipv6(rng) for _ in range(N)],
    }
    # One array long enough for a 3-byte count.
    v["uint_array"][-1] = [gen_uint(rng) for _ in range(300)]
    return v


# ---- C side, per codec: encode(value) -> bytes, decode(bytes) -> (value, used)

def _addr_enc(f):
    return lambda a: f(a["host"], a["port"])


def _addr_dec(f):
    def dec(b):
        a, used = f(b)
        return {"host": a.host, "family": a.family, "port": a.port}, used
    return dec


def _hex_dec(f, *args):
    def dec(b):
        v, used = f(b, *args)
        return bytes(v).hex(), used
    return dec


C = {
    "uint": (enc.encode_uint, enc.decode_uint),
    "uint8": (enc.encode_uint8, enc.decode_uint8),
    "uint16": (enc.encode_uint16, enc.decode_uint16),
    "uint24": (enc.encode_uint24, enc.decode_uint24),
    "uint32": (enc.encode_uint32, enc.decode_uint32),
    "uint64": (enc.encode_uint64, enc.decode_uint64),
    "bool": (enc.encode_bool, enc.decode_bool),
    "fixed32": (lambda h: enc.encode_fixed(bytes.fromhex(h)), _hex_dec(enc.decode_fixed, 32)),
    "fixed64": (lambda h: enc.encode_fixed(bytes.fromhex(h)), _hex_dec(enc.decode_fixed, 64)),
    "buffer": (lambda h: enc.encode_buffer(bytes.fromhex(h)), _hex_dec(enc.decode_buffer)),
    "string": (enc.encode_string,
               lambda b: (lambda r: (r[0].decode("utf-8"), r[1]))(enc.decode_string(b))),
    "uint_array": (lambda xs: enc.encode_array(xs, enc.encode_uint),
                   lambda b: enc.decode_array(b, enc.decode_uint, elem_min=1)),
    "ipv4_address": (_addr_enc(enc.encode_ipv4_address), _addr_dec(enc.decode_ipv4_address)),
    "ipv6_address": (_addr_enc(enc.encode_ipv6_address), _addr_dec(enc.decode_ipv6_address)),
    "ip_address": (_addr_enc(enc.encode_ip_address), _addr_dec(enc.decode_ip_address)),
}


def same_value(name, original, decoded):
    """decoded (from C or JS) equals the original value. Addresses compare by
    parsed IP, since JS prints IPv6 uncompressed ("0:0:0:0:0:0:0:1")."""
    if name.endswith("address"):
        fam = 4 if ":" not in original["host"] else 6
        return (ipaddress.ip_address(decoded["host"]) == ipaddress.ip_address(original["host"])
                and decoded["port"] == original["port"] and decoded["family"] == fam)
    return decoded == original


# ---- fixtures: one Node process per direction -------------------------------------------

def module_seed():
    """FL_TEST_SEED as conftest's test_seed reads it (that fixture is
    per-function; these batches are built once per module)."""
    return int(os.environ.get("FL_TEST_SEED", "1"), 0)


@pytest.fixture(scope="module")
def values():
    return make_values(module_seed())


@pytest.fixture(scope="module")
def js_encoded(js, values):
    out = js.run_js_json(JS_ENCODE, values, timeout=60)
    assert set(out) == set(values)
    return out


@pytest.fixture(scope="module")
def c_encoded(values):
    return {name: [C[name][0](v) for v in vals] for name, vals in values.items()}


@pytest.fixture(scope="module")
def js_decoded(js, c_encoded):
    out = js.run_js_json(JS_DECODE, {n: [b.hex() for b in bs] for n, bs in c_encoded.items()},
                         timeout=60)
    assert set(out) == set(c_encoded)
    return out


CODECS = list(C)


def test_values_reach_every_varint_width(values):
    widths = {enc.uint_size(v) for v in values["uint"]}
    assert widths == {1, 3, 5, 9}
    assert set(UINT_EDGES) <= set(values["uint"])
    assert {enc.uint_size(len(bytes.fromhex(h))) for h in values["buffer"]} == {1, 3}
    assert all(len(vs) == N for vs in values.values())


@pytest.mark.interop
@pytest.mark.parametrize("name", CODECS)
def test_c_encodes_byte_identical_to_js(name, values, js_encoded, c_encoded, test_seed):
    bad = [i for i, (h, b) in enumerate(zip(js_encoded[name], c_encoded[name])) if h != b.hex()]
    assert not bad, (f"{name}: {len(bad)} of {N} differ, first value {values[name][bad[0]]!r}: "
                     f"js={js_encoded[name][bad[0]]} c={c_encoded[name][bad[0]].hex()} "
                     f"(reproduce with FL_TEST_SEED={test_seed})")


@pytest.mark.interop
@pytest.mark.parametrize("name", CODECS)
def test_c_decodes_what_js_encoded(name, values, js_encoded, test_seed):
    dec = C[name][1]
    for v, h in zip(values[name], js_encoded[name]):
        b = bytes.fromhex(h)
        got, used = dec(b)
        assert used == len(b), f"{name}: {h} consumed {used} (FL_TEST_SEED={test_seed})"
        assert same_value(name, v, got), f"{name}: {h} -> {got!r}, want {v!r}"


@pytest.mark.interop
@pytest.mark.parametrize("name", CODECS)
def test_js_decodes_what_c_encoded(name, values, c_encoded, js_decoded, test_seed):
    for v, b, r in zip(values[name], c_encoded[name], js_decoded[name]):
        assert "error" not in r, f"{name}: JS refused {b.hex()}: {r['error']}"
        assert r["used"] == len(b), f"{name}: JS consumed {r['used']} of {b.hex()}"
        assert same_value(name, v, r["value"]), (f"{name}: {b.hex()} -> {r['value']!r}, want {v!r}"
                                                 f" (FL_TEST_SEED={test_seed})")


# ---- where C and JS differ on purpose, pinned ----------------------------------------------

PIN_ENCODE = JS_CODECS + r"""
readAll().then((cases) => {
  process.stdout.write(JSON.stringify(each(cases, ([name, v]) => c.encode(codecs[name][0], v).toString('hex'))))
})
"""

PIN_DECODE = JS_CODECS + r"""
readAll().then((cases) => {
  process.stdout.write(JSON.stringify(each(cases, ([name, h]) => {
    const buf = hex(h)
    const state = c.state(0, buf.byteLength, buf)
    return { value: codecs[name][2](codecs[name][0].decode(state)), used: state.start }
  })))
})
"""

ABOVE_SAFE = [2**53, 2**53 + 1, 2**63, 2**64 - 1]


@pytest.mark.interop
def test_uint_above_2_53_js_refuses_c_carries_all_64_bits(js):
    cases = [[name, v] for name in ("uint", "uint64") for v in ABOVE_SAFE]
    enc_js = js.run_js_json(PIN_ENCODE, cases)
    c_bytes = {(n, v): C[n][0](v) for n, v in cases}
    dec_js = js.run_js_json(PIN_DECODE, [[n, c_bytes[(n, v)].hex()] for n, v in cases])
    for (n, v), e, d in zip(cases, enc_js, dec_js):
        # JS: refuses to encode, and refuses to decode the bytes C wrote.
        assert e == {"error": "uint must be between 0 and 9007199254740991, use biguint"}, (n, v, e)
        assert d == {"error": "uint must be between 0 and 9007199254740991, use biguint"}, (n, v, d)
        # C: encodes all 64 bits (0xff + 8 bytes LE for uint) and reads them back.
        b = c_bytes[(n, v)]
        want = (b"\xff" if n == "uint" else b"") + v.to_bytes(8, "little")
        assert b == want
        assert C[n][1](b) == (v, len(b))
    # ...while the largest safe value is the same on both sides.
    assert js.run_js_json(PIN_ENCODE, [["uint", MAX_SAFE]]) == [enc.encode_uint(MAX_SAFE).hex()]


@pytest.mark.interop
def test_non_minimal_varints_decode_alike(js):
    forms = {"fd0500": 5, "fe05000000": 5, "ff0500000000000000": 5, "fdfc00": 0xFC,
             "feffff0000": 0xFFFF}
    got = js.run_js_json(PIN_DECODE, [["uint", h] for h in forms])
    for (h, v), r in zip(forms.items(), got):
        assert r == {"value": v, "used": len(h) // 2}
        assert enc.decode_uint(bytes.fromhex(h)) == (v, len(h) // 2)


@pytest.mark.interop
def test_bool_bytes_other_than_1_are_false_in_both(js):
    hexes = ["00", "01", "02", "7f", "ff"]
    got = js.run_js_json(PIN_DECODE, [["bool", h] for h in hexes])
    assert [r["value"] for r in got] == [False, True, False, False, False]
    assert [enc.decode_bool(bytes.fromhex(h))[0] for h in hexes] == [False, True, False, False, False]


# Invalid UTF-8: C hands back the bytes unchanged; JS substitutes U+FFFD, one
# per maximal ill-formed subsequence (WHATWG decoding), as pinned here.
BAD_UTF8 = [
    (b"\xff\xfe", "\ufffd\ufffd"),
    (b"a\xc3", "a\ufffd"),
    (b"\xc0\x80", "\ufffd\ufffd"),              # overlong NUL
    (b"\xed\xa0\x80", "\ufffd\ufffd\ufffd"),    # a UTF-16 surrogate
    (b"\xf0\x9f\x90", "\ufffd"),                # truncated 4-byte form
    (b"ok\x80ok", "ok\ufffdok"),
    (b"\xf4\x90\x80\x80", "\ufffd\ufffd\ufffd\ufffd"),  # above U+10FFFF
    (b"x" * 60 + b"\xe9", "x" * 60 + "\ufffd"),  # past the ASCII fast path
]


@pytest.mark.interop
def test_invalid_utf8_string_raw_in_c_replaced_in_js(js):
    encoded = [enc.encode_buffer(raw) for raw, _ in BAD_UTF8]
    got = js.run_js_json(PIN_DECODE, [["string", b.hex()] for b in encoded])
    for (raw, js_text), b, r in zip(BAD_UTF8, encoded, got):
        assert r == {"value": js_text, "used": len(b)}, raw
        assert enc.decode_string(b) == (raw, len(b))
        assert not enc.utf8_valid(raw)


@pytest.mark.interop
def test_ip_address_family_other_than_4_reads_ipv6_in_both(js):
    body = bytes(range(1, 17)) + (0x1234).to_bytes(2, "little")
    fams = [0, 1, 5, 6, 7, 0xFF]
    got = js.run_js_json(PIN_DECODE, [["ip_address", (bytes([f]) + body).hex()] for f in fams])
    want_host = ipaddress.IPv6Address(bytes(range(1, 17)))
    for f, r in zip(fams, got):
        b = bytes([f]) + body
        assert r["used"] == 19
        assert ipaddress.ip_address(r["value"]["host"]) == want_host
        assert r["value"]["family"] == f  # JS echoes the byte it read
        assert r["value"]["port"] == 0x1234
        a, used = enc.decode_ip_address(b)
        assert used == 19
        assert (ipaddress.ip_address(a.host), a.family, a.port) == (want_host, 6, 0x1234)
    # And family byte 4 is the only way to IPv4, in both.
    r = js.run_js_json(PIN_DECODE, [["ip_address", "047f000001cbaf"]])[0]
    assert r == {"value": {"host": "127.0.0.1", "family": 4, "port": 45003}, "used": 7}
    assert enc.decode_ip_address(bytes.fromhex("047f000001cbaf")) == (
        (enc.Address("127.0.0.1", 4, 45003)), 7)


@pytest.mark.interop
def test_truncations_refused_by_both(js):
    """Each strict prefix of a JS encoding: JS throws, C says FL_ERR_DECODE."""
    samples = [("uint", 2**40), ("uint", 0x1234), ("uint64", 7), ("uint24", 5),
               ("buffer", "aabbcc"), ("string", "héllo"), ("ipv4_address", {"host": "1.2.3.4", "port": 5}),
               ("ip_address", {"host": "::1", "port": 6}), ("uint_array", [1, 300, 2**33])]
    full = js.run_js_json(PIN_ENCODE, [list(s) for s in samples])
    prefixes = [(n, h[: 2 * k]) for (n, _), h in zip(samples, full) for k in range(len(h) // 2)]
    got = js.run_js_json(PIN_DECODE, [list(p) for p in prefixes])
    for (n, h), r in zip(prefixes, got):
        assert "error" in r, (n, h, r)
        with pytest.raises(FlockError) as e:
            C[n][1](bytes.fromhex(h))
        assert e.value.code == FL_ERR_DECODE, (n, h)


def test_values_json_roundtrip_is_exact(values):
    """Guard for the harness itself: JSON carries every value exactly."""
    assert json.loads(json.dumps(values["uint"])) == values["uint"]


ARRAY_TOO_BIG = r"""
const c = require('compact-encoding')
const codec = c.array(c.uint)
const bytes = c.encode(codec, new Array(0x100001).fill(0))
let refused = null
try { c.decode(codec, bytes) } catch (e) { refused = e.message }
const ok = c.decode(codec, c.encode(codec, new Array(0x100000).fill(0))).length
console.log(JSON.stringify({ head: bytes.subarray(0, 5).toString('hex'), refused, ok }))
"""


@pytest.mark.interop
def test_encoders_js_wraps_or_writes_what_c_refuses(js):
    # uint24 above 2^24-1: JS silently keeps the low 24 bits; C refuses.
    got = js.run_js_json(PIN_ENCODE, [["uint24", 2**24], ["uint24", 2**24 + 5]])
    assert got == ["000000", "050000"]
    for v in (2**24, 2**24 + 5):
        with pytest.raises(FlockError) as e:
            enc.encode_uint24(v)
        assert e.value.code == FL_ERR_RANGE
    # An array of 0x100001: JS writes it, then its own decoder refuses it;
    # C refuses to write it and refuses to read it.
    r = js.run_js_json(ARRAY_TOO_BIG)
    assert r == {"head": "fe01001000", "refused": "Array is too big", "ok": 0x100000}
    with pytest.raises(FlockError) as e:
        enc.encode_array_len(0x100001)
    assert e.value.code == FL_ERR_RANGE
    with pytest.raises(FlockError) as e:
        enc.decode_array_len(bytes.fromhex(r["head"]) + bytes(0x100001), max_len=2**64 - 1)
    assert e.value.code == FL_ERR_DECODE
    assert enc.decode_array_len(bytes.fromhex("fe00001000"), max_len=2**64 - 1) == (0x100000, 5)
