"""The reference side of the crypto cross-checks: one Node.js process answers
a whole batch of questions with the pinned packages (hyperdht's keyPair and
NS constants, hypercore-crypto's namespace, noise-curve-ed's dh, and
sodium-native/sodium-universal for BLAKE2b, Ed25519, AEAD, secretbox and
secretstream). Bytes travel as hex; a case the reference throws on comes back
as {"error": message}.

    ref = reference(("keypair", [seed_hex, ...]), ("ns", None))
    ref[0] -> [{"pk": .., "sk": ..}, ...], ref[1] -> {...}
"""
from . import interop

_SCRIPT = r"""
const sodium = require('sodium-native')
const universal = require('sodium-universal')
const DHT = require('hyperdht')
const { NS } = require('hyperdht/lib/constants')
const hcrypto = require('hypercore-crypto')
const curve = require('noise-curve-ed')
const pkg = (n) => require(n + '/package.json').version

const H = (b) => Buffer.from(b).toString('hex')
const B = (h) => Buffer.from(h || '', 'hex')
const SS = 'crypto_secretstream_xchacha20poly1305_'
const guard = (f) => { try { return f() } catch (e) { return { error: String(e.message || e) } } }

const ops = {
  versions: () => ({ hyperdht: pkg('hyperdht'), 'noise-curve-ed': pkg('noise-curve-ed'),
    'hypercore-crypto': pkg('hypercore-crypto'), 'sodium-native': pkg('sodium-native') }),
  keypair: (seeds) => seeds.map((s) => {
    const kp = DHT.keyPair(B(s))
    return { pk: H(kp.publicKey), sk: H(kp.secretKey) }
  }),
  dh: (cases) => cases.map((c) => guard(() =>
    H(curve.dh(B(c.pk), { publicKey: B(c.sk).subarray(32), secretKey: B(c.sk) })))),
  ns: (q) => {
    const out = { hyperdht: {}, namespace: [] }
    for (const k of Object.keys(NS)) out.hyperdht[k] = H(NS[k])
    for (const { name, ids } of (q || [])) out.namespace.push(hcrypto.namespace(name, ids).map(H))
    return out
  },
  hash: (cases) => cases.map((c) => {
    const out = Buffer.alloc(c.out_len)
    if (c.key) universal.crypto_generichash(out, B(c.data), B(c.key))
    else universal.crypto_generichash(out, B(c.data))
    return H(out)
  }),
  sign: (cases) => cases.map((c) => {
    const sig = Buffer.alloc(64)
    sodium.crypto_sign_detached(sig, B(c.msg), B(c.sk))
    return H(sig)
  }),
  verify: (cases) => cases.map((c) => sodium.crypto_sign_verify_detached(B(c.sig), B(c.msg), B(c.pk))),
  box_seal: (cases) => cases.map((c) => {
    const m = B(c.m); const out = Buffer.alloc(m.length + 16)
    sodium.crypto_secretbox_easy(out, m, B(c.nonce), B(c.key))
    return H(out)
  }),
  box_open: (cases) => cases.map((c) => {
    const cb = B(c.c); const out = Buffer.alloc(Math.max(cb.length - 16, 0))
    return sodium.crypto_secretbox_open_easy(out, cb, B(c.nonce), B(c.key)) ? H(out) : { error: 'forged' }
  }),
  aead_encrypt: (cases) => cases.map((c) => {
    const m = B(c.m); const out = Buffer.alloc(m.length + 16)
    sodium.crypto_aead_chacha20poly1305_ietf_encrypt(out, m, B(c.ad), null, B(c.nonce), B(c.key))
    return H(out)
  }),
  aead_decrypt: (cases) => cases.map((c) => guard(() => {
    const cb = B(c.c); const out = Buffer.alloc(cb.length - 16)
    sodium.crypto_aead_chacha20poly1305_ietf_decrypt(out, null, cb, B(c.ad), B(c.nonce), B(c.key))
    return H(out)
  })),
  // libsodium's own init_push (random header), then push each message; a
  // message {rekey: true} calls rekey instead.
  sstream_push: (q) => {
    const st = Buffer.alloc(sodium[SS + 'STATEBYTES']); const header = Buffer.alloc(24)
    sodium[SS + 'init_push'](st, header, B(q.key))
    const out = []
    for (const m of q.messages) {
      if (m.rekey) { sodium[SS + 'rekey'](st); out.push(null); continue }
      const mb = B(m.m); const c = Buffer.alloc(mb.length + 17)
      sodium[SS + 'push'](st, c, mb, m.ad ? B(m.ad) : null, m.tag)
      out.push(H(c))
    }
    return { header: H(header), cs: out }
  },
  sstream_pull: (q) => {
    const st = Buffer.alloc(sodium[SS + 'STATEBYTES'])
    sodium[SS + 'init_pull'](st, B(q.header), B(q.key))
    return q.cs.map((m) => {
      if (m.rekey) { sodium[SS + 'rekey'](st); return null }
      return guard(() => {
        const cb = B(m.c); const out = Buffer.alloc(cb.length - 17); const tag = Buffer.alloc(1)
        sodium[SS + 'pull'](st, out, tag, cb, m.ad ? B(m.ad) : null)
        return { m: H(out), tag: tag[0] }
      })
    })
  }
}

let input = ''
process.stdin.on('data', (d) => { input += d })
process.stdin.on('end', () => {
  const batch = JSON.parse(input)
  process.stdout.write(JSON.stringify(batch.map(([op, arg]) => ops[op](arg))))
})
"""


def reference(*questions, timeout=60):
    """Ask the reference packages a batch of (op, argument) questions in one
    Node.js process; returns the answers in the same order."""
    return interop.run_js_json(_SCRIPT, [list(q) for q in questions], timeout=timeout)
