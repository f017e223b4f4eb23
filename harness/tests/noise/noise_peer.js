// A line-JSON peer over the reference packages, for the noise interop tests.
// Requests (one JSON object per line), each answered by one line {id, ...}:
//   {op:'new', id, pattern, initiator, static_seed, remote_static, e_seed, prologue}
//       noise-handshake + noise-curve-ed; keys from 32-byte seeds (hex)
//   {op:'wrap', id, initiator, static_seed, remote_static, e_seed}
//       hyperdht's own lib/noise-wrap.js (IK, NS_PEER_HANDSHAKE prologue)
//   {op:'send', id, payload}   -> {msg}        (payload: hex, or a JS object for 'wrap')
//   {op:'recv', id, msg}       -> {payload} or {error}
//   {op:'final', id}           -> {tx, rx, hash, remote_static[, holepunch_secret]}
//   {op:'payload_encode', payloads:[...]} -> {hex:[...]}  (hyperdht messages.noisePayload)
//   {op:'payload_reencode', hex:[...]}    -> {hex:[...]}  (decode then encode)
const NoiseHandshake = require('noise-handshake')
const curve = require('noise-curve-ed')
const NoiseWrap = require('hyperdht/lib/noise-wrap')
const m = require('hyperdht/lib/messages')
const c = require('compact-encoding')
const readline = require('readline')

const sessions = new Map()
const hex = (b) => Buffer.from(b).toString('hex')
const buf = (h) => Buffer.from(h || '', 'hex')
const kp = (seedHex) => curve.generateKeyPair(buf(seedHex))

function toJsPayload (p) {
  const out = { ...p }
  if (out.relayThrough) {
    out.relayThrough = { ...out.relayThrough, publicKey: buf(out.relayThrough.publicKey), token: buf(out.relayThrough.token) }
  }
  return out
}

function fromJsPayload (p) {
  const out = { ...p }
  if (out.relayThrough) {
    out.relayThrough = { ...out.relayThrough, publicKey: hex(out.relayThrough.publicKey), token: hex(out.relayThrough.token) }
  }
  return out
}

function handle (req) {
  const s = sessions.get(req.id)
  switch (req.op) {
    case 'new': {
      const hs = new NoiseHandshake(req.pattern, req.initiator, kp(req.static_seed), { curve })
      hs.initialise(buf(req.prologue), req.remote_static ? buf(req.remote_static) : null)
      hs.e = kp(req.e_seed) // noise-handshake uses a preset e instead of generating one
      sessions.set(req.id, { hs })
      return {}
    }
    case 'wrap': {
      const w = new NoiseWrap(kp(req.static_seed), req.remote_static ? buf(req.remote_static) : null)
      w.handshake.e = kp(req.e_seed)
      sessions.set(req.id, { hs: w.handshake, wrap: w })
      return {}
    }
    case 'send':
      if (s.wrap) return { msg: hex(s.wrap.send(toJsPayload(req.payload))) }
      return { msg: hex(s.hs.send(buf(req.payload))) }
    case 'recv':
      try {
        if (s.wrap) return { payload: fromJsPayload(s.wrap.recv(buf(req.msg))) }
        return { payload: hex(s.hs.recv(buf(req.msg))) }
      } catch (err) {
        return { error: err.message }
      }
    case 'final': {
      if (s.wrap) {
        const f = s.wrap.final()
        return { tx: hex(f.tx), rx: hex(f.rx), hash: hex(f.hash), remote_static: hex(f.remotePublicKey), holepunch_secret: hex(f.holepunchSecret) }
      }
      return { tx: hex(s.hs.tx), rx: hex(s.hs.rx), hash: hex(s.hs.hash), remote_static: s.hs.rs ? hex(s.hs.rs) : null, complete: s.hs.complete }
    }
    case 'payload_encode':
      return { hex: req.payloads.map((p) => hex(c.encode(m.noisePayload, toJsPayload(p)))) }
    case 'payload_reencode':
      return { hex: req.hex.map((h) => hex(c.encode(m.noisePayload, c.decode(m.noisePayload, buf(h))))) }
    case 'payload_decode':
      return { payloads: req.hex.map((h) => fromJsPayload(c.decode(m.noisePayload, buf(h)))) }
  }
  throw new Error('unknown op ' + req.op)
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const req = JSON.parse(line)
  let res
  try {
    res = handle(req)
  } catch (err) {
    res = { error: 'exception: ' + err.message }
  }
  process.stdout.write(JSON.stringify({ seq: req.seq, ...res }) + '\n')
})
