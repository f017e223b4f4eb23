"""Malformed input, both ways, with frames the other implementation made:
every truncation and every bit flip of the reference's header frame and
first data frame is rejected by the C side with its exact error and no data;
every bit flip of C-made frames is rejected by the reference (or, where the
flip only lengthens a frame, never delivered). Also the unordered-message
boxes against the reference's _boxMessage / _onmessage.
"""
import pytest

from flock.secretstream import EV_DATA, EV_ERROR, SecretStream, make_handshake

pytestmark = pytest.mark.interop

HASH = bytes.fromhex("2222e888ddda3faa1ce91640580e2fd5f11d93ecc6c9723829cde5a1805b470a"
                     "8f31d30fe5b8b93313636f891ae1418a40d0e484df89c4e81169ad6480540eeb")
I_TX = bytes.fromhex("cc00d99bd3a15a6779df38fd42fd25a84d73264023e7c1da95cf3bcbdce9c210")
I_RX = bytes.fromhex("78dd48ecef5d11fd953197694a8ee2d9f8d86d49d56d856e3dd7c8e78047826b")
DECODE, PROTOCOL, CRYPTO = -2, -12, -5

JS_COMMON = r"""
const SS = require('@hyperswarm/secret-stream')
const { Duplex } = require('streamx')
const hex = (b) => Buffer.from(b).toString('hex')
const HS = (init) => ({
  tx: Buffer.from(init ? '%(itx)s' : '%(irx)s', 'hex'),
  rx: Buffer.from(init ? '%(irx)s' : '%(itx)s', 'hex'),
  hash: Buffer.from('%(hash)s', 'hex'), publicKey: Buffer.alloc(32), remotePublicKey: Buffer.alloc(32)
})
function raw (onwrite) {
  const d = new Duplex({ write (data, cb) { onwrite(data); cb() } })
  d.send = (buf) => { onwrite(buf, true); return true }
  d.trySend = d.send
  return d
}
""" % {"itx": I_TX.hex(), "irx": I_RX.hex(), "hash": HASH.hex()}


def _c(initiator):
    ss = SecretStream(initiator)
    tx, rx = (I_TX, I_RX) if initiator else (I_RX, I_TX)
    ss.start(make_handshake(tx, rx, HASH), 1)
    return ss


@pytest.fixture(scope="module")
def js_frames(js):
    """The reference initiator's first bytes: header frame + "abcdefgh"."""
    out = js.run_js(JS_COMMON + r"""
const chunks = []
const s = new SS(true, raw((d) => chunks.push(Buffer.from(d))), { handshake: HS(true) })
s.write(Buffer.from('abcdefgh'))
setTimeout(() => { process.stdout.write(hex(Buffer.concat(chunks))); process.exit(0) }, 50)
""")
    return bytes.fromhex(out.decode())


def _feed_c(buf, eof=True):
    """A fresh C responder fed buf (then EOF); returns (error code or 0, data events)."""
    ss = _c(False)
    evs = ss.feed(buf, 2)
    if eof and not ss.failed:
        evs += ss.feed_end(3)
    errs = [e for e in evs if e.type == EV_ERROR]
    data = [e for e in evs if e.type == EV_DATA]
    assert len(errs) <= 1
    if errs:
        assert errs[0].reason and ss.failed
        assert ss.stats()["frames_received"] == 0
    ss.close()
    return (errs[0].error if errs else 0), data


def test_reference_frames_decode(js_frames):
    assert len(js_frames) == 59 + 28
    assert js_frames[:3] == bytes([56, 0, 0])
    err, data = _feed_c(js_frames)
    assert err == 0 and [d.data for d in data] == [b"abcdefgh"]


def test_every_truncation_of_reference_frames_rejected(js_frames):
    for cut in range(len(js_frames)):
        err, data = _feed_c(js_frames[:cut])
        assert data == [], cut
        # EOF right after the header is an ordinary end of an empty stream.
        assert err == (0 if cut == 59 else DECODE), cut


def _expected(byte, bit, orig):
    if byte < 3:
        return DECODE
    if byte < 35:
        return PROTOCOL
    if byte < 59:
        return CRYPTO
    if byte < 62:
        n = int.from_bytes(orig[59:62], "little") ^ (1 << ((byte - 59) * 8 + bit))
        return DECODE if n < 17 or n > len(orig) - 62 else CRYPTO
    return CRYPTO


def test_every_bit_flip_of_reference_frames_rejected(js_frames):
    for byte in range(len(js_frames)):
        for bit in range(8):
            bad = bytearray(js_frames)
            bad[byte] ^= 1 << bit
            err, data = _feed_c(bytes(bad))
            assert data == [], (byte, bit)
            assert err == _expected(byte, bit, js_frames), (byte, bit, err)


def test_every_bit_flip_of_c_frames_rejected_by_reference(js):
    c = _c(True)
    c.push(b"abcdefgh")
    frames = c.tx_take()
    assert len(frames) == 87
    cases = []
    for byte in range(len(frames)):
        for bit in range(8):
            bad = bytearray(frames)
            bad[byte] ^= 1 << bit
            cases.append(bytes(bad).hex())
    results = js.run_js_json(JS_COMMON + r"""
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'))
const results = []
let i = 0
function next () {
  if (i === cases.length) { process.stdout.write(JSON.stringify(results)); return }
  const r = { data: 0, error: null }
  const d = raw(() => {})
  const s = new SS(false, d, { handshake: HS(false) })
  s.on('data', () => { r.data++ })
  s.on('error', (e) => { r.error = e.message })
  d.push(Buffer.from(cases[i++], 'hex'))
  setImmediate(() => { results.push(r); s.destroy(); next() })
}
next()
""", cases)
    assert len(results) == len(cases)
    for idx, r in enumerate(results):
        byte, bit = divmod(idx, 8)
        assert r["data"] == 0, (byte, bit)
        want = _expected(byte, bit, frames)
        # A flipped length prefix that announces more bytes than follow: the
        # reference waits for them (the C side rejects a header length != 56
        # at once, and a data frame at EOF).
        for start in (0, 59):
            if start <= byte < start + 3:
                n = int.from_bytes(frames[start:start + 3], "little") ^ (1 << ((byte - start) * 8 + bit))
                if n > len(frames) - start - 3:
                    want = None
        if want is None:
            assert r["error"] is None, (byte, bit, r)
            continue
        assert r["error"], (byte, bit)
        text = {DECODE: "Invalid", PROTOCOL: "Invalid header received"}.get(want)
        if text:
            assert text in r["error"], (byte, bit, r)


def test_unordered_messages_with_reference(js):
    """C boxes open in the reference's _onmessage and the reference's send()
    boxes open in C; layout counter(8) || MAC(16) || ciphertext."""
    c = _c(True)
    boxes = [c.box(b"from C #%d" % i).hex() for i in range(3)]
    out = js.run_js_json(JS_COMMON + r"""
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'))
const sent = []
const s = new SS(false, raw((d, dgram) => { if (dgram) sent.push(hex(d)) }), { handshake: HS(false) })
const got = []
s.on('message', (m) => got.push(Buffer.from(m).toString()))
for (const b of input) s._onmessage(Buffer.from(b, 'hex'))
const bad = Buffer.from(input[0], 'hex'); bad[10] ^= 1; s._onmessage(bad)
s.send(Buffer.from('from JS'))
s.send(Buffer.alloc(0))
setTimeout(() => { process.stdout.write(JSON.stringify({ got, sent })); process.exit(0) }, 20)
""", boxes)
    assert out["got"] == ["from C #0", "from C #1", "from C #2"]
    assert len(out["sent"]) == 2
    first, second = (bytes.fromhex(x) for x in out["sent"])
    assert len(first) == 24 + 7 and len(second) == 24
    assert c.unbox(first) == b"from JS"
    assert c.unbox(second) == b""
    # consecutive little-endian counters
    assert int.from_bytes(second[:8], "little") == (int.from_bytes(first[:8], "little") + 1) % 2**64
    assert c.stats()["box_received"] == 2
