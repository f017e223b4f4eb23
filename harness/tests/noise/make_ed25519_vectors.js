// Writes vectors/noise-ed25519-reference.json: Noise test vectors in the
// cacophony format made with the reference packages (noise-handshake@4.2.0 +
// noise-curve-ed@2.1.0), for the patterns noise-handshake implements (NN, XX,
// IK, XK) and hyperdht's IK with the NS_PEER_HANDSHAKE prologue. Keys are
// 32-byte Ed25519 seeds (crypto_sign_seed_keypair). Transport messages are
// sealed with the split keys as Noise transport messages (ChaChaPoly, empty
// AD, nonce counter per direction), using sodium directly because
// noise-handshake stops at the split.
// Run from harness/interop:  NODE_PATH=node_modules node ../tests/noise/make_ed25519_vectors.js
const NoiseHandshake = require('noise-handshake')
const curve = require('noise-curve-ed')
const sodium = require('sodium-native')
const { NS } = require('hyperdht/lib/constants')
const fs = require('fs')
const path = require('path')

const hex = (b) => Buffer.from(b).toString('hex')
const seed = (n) => Buffer.alloc(32, n)

function seal (key, n, plain) {
  const nonce = Buffer.alloc(12)
  nonce.writeUInt32LE(n, 4)
  const out = Buffer.alloc(plain.length + 16)
  sodium.crypto_aead_chacha20poly1305_ietf_encrypt(out, plain, Buffer.alloc(0), null, nonce, key)
  return out
}

function vector (pattern, prologue, k) {
  const pre = { IK: 'rs', XK: 'rs' }[pattern]
  const is = curve.generateKeyPair(seed(k + 1)); const rs = curve.generateKeyPair(seed(k + 2))
  const i = new NoiseHandshake(pattern, true, is, { curve })
  const r = new NoiseHandshake(pattern, false, rs, { curve })
  i.initialise(prologue, pre ? rs.publicKey : null)
  r.initialise(prologue)
  i.e = curve.generateKeyPair(seed(k + 3)); r.e = curve.generateKeyPair(seed(k + 4))
  const v = {
    protocol_name: 'Noise_' + pattern + '_Ed25519_ChaChaPoly_BLAKE2b',
    init_prologue: hex(prologue), init_static: hex(seed(k + 1)), init_ephemeral: hex(seed(k + 3)),
    resp_prologue: hex(prologue), resp_static: hex(seed(k + 2)), resp_ephemeral: hex(seed(k + 4)),
    messages: []
  }
  if (pre) v.init_remote_static = hex(rs.publicKey)
  let n = 0
  while (!i.complete) {
    const [snd, rcv] = n % 2 === 0 ? [i, r] : [r, i]
    const payload = Buffer.from(`handshake payload ${n} of ${pattern}`)
    const ciphertext = snd.send(payload)
    // Record before recv: on the final message noise-handshake's _clear()
    // zeroes re, which is a view into the buffer it was handed.
    v.messages.push({ payload: hex(payload), ciphertext: hex(ciphertext) })
    rcv.recv(ciphertext)
    n++
  }
  v.handshake_hash = hex(i.hash)
  const nonces = { i: 0, r: 0 }
  for (let t = 0; t < 4; t++, n++) {
    const fromI = n % 2 === 0
    const payload = Buffer.from(`transport ${t}`)
    const c = seal(fromI ? i.tx : r.tx, fromI ? nonces.i++ : nonces.r++, payload)
    v.messages.push({ payload: hex(payload), ciphertext: hex(c) })
  }
  return v
}

const vectors = [
  vector('NN', Buffer.from('John Galt'), 0x10),
  vector('XX', Buffer.alloc(0), 0x20),
  vector('IK', Buffer.from('John Galt'), 0x30),
  vector('XK', Buffer.from('prologue'), 0x40),
  vector('IK', NS.PEER_HANDSHAKE, 0x00)
]
const out = path.join(__dirname, 'vectors', 'noise-ed25519-reference.json')
fs.writeFileSync(out, JSON.stringify({ vectors }, null, 1) + '\n')
console.log('wrote ' + vectors.length + ' vectors to ' + out)
