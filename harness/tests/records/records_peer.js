// records_peer.js - the reference side of the records tests: hyperdht@6.34.0's
// own lib/messages.js codecs, Persistent's signers, and Persistent's server
// handlers (lib/persistent.js) driven with fake requests. One JSON object per
// line each way; binary fields are hex strings.
const c = require('compact-encoding')
const m = require('hyperdht/lib/messages')
const Persistent = require('hyperdht/lib/persistent')
const DHT = require('hyperdht')
const readline = require('readline')

const hex = (b) => (b ? Buffer.from(b).toString('hex') : null)
const buf = (h) => (h === null || h === undefined ? null : Buffer.from(h, 'hex'))

const peerIn = (p) => ({ publicKey: buf(p.publicKey), relayAddresses: p.relayAddresses })
const peerOut = (p) => ({ publicKey: hex(p.publicKey), relayAddresses: p.relayAddresses })

const codecs = {
  peer: { enc: m.peer, inn: peerIn, out: peerOut },
  announce: {
    enc: m.announce,
    inn: (a) => ({ peer: a.peer ? peerIn(a.peer) : null, refresh: buf(a.refresh), signature: buf(a.signature), bump: a.bump || 0 }),
    out: (a) => ({ peer: a.peer ? peerOut(a.peer) : null, refresh: hex(a.refresh), signature: hex(a.signature), bump: a.bump })
  },
  lookup: {
    enc: m.lookupRawReply,
    inn: (r) => ({ peers: r.peers.map((p) => c.encode(m.peer, peerIn(p))), bump: r.bump || 0 }),
    out: (r) => ({ peers: r.peers.map(peerOut), bump: r.bump })
  },
  mutablePut: {
    enc: m.mutablePutRequest,
    inn: (x) => ({ publicKey: buf(x.publicKey), seq: x.seq, value: buf(x.value), signature: buf(x.signature) }),
    out: (x) => ({ publicKey: hex(x.publicKey), seq: x.seq, value: hex(x.value), signature: hex(x.signature) })
  },
  mutableGet: {
    enc: m.mutableGetResponse,
    inn: (x) => ({ seq: x.seq, value: buf(x.value), signature: buf(x.signature) }),
    out: (x) => ({ seq: x.seq, value: hex(x.value), signature: hex(x.signature) })
  }
}

// A Persistent over a fake dht: an id and a router map keyed like lib/router.js.
const stores = new Map()
function newStore(id) {
  const fwd = new Map()
  const key = (k) => (typeof k === 'string' ? k : Buffer.from(k).toString('hex'))
  const router = { get: (k) => fwd.get(key(k)), set: (k, v) => fwd.set(key(k), v), delete: (k) => fwd.delete(key(k)) }
  const big = { maxSize: 65536, maxAge: 20 * 60 * 1000 }
  const vals = { maxSize: 32768, maxAge: 48 * 3600 * 1000 }
  return new Persistent({ id: buf(id), _router: router }, { records: big, refreshes: big, bumps: big, mutables: vals, immutables: vals })
}

const handlers = { 2: 'onfindpeer', 3: 'onlookup', 4: 'onannounce', 5: 'onunannounce', 6: 'onmutableput', 7: 'onmutableget', 8: 'onimmutableput', 9: 'onimmutableget' }

function request(p, r) {
  let res = { action: 'silent' }
  const req = {
    target: buf(r.target), token: buf(r.token), value: buf(r.value), from: { host: '127.0.0.1', port: 40000 },
    reply(value, opts = {}) { res = { action: 'reply', error: 0, value: hex(value), token: opts.token !== false, closerNodes: opts.closerNodes !== false } },
    error(code, opts = {}) { res = { action: 'reply', error: code, value: null, token: opts.token === true, closerNodes: opts.closerNodes !== false } }
  }
  p[handlers[r.command]](req)
  return res
}

const ops = {
  encode: (x) => hex(c.encode(codecs[x.kind].enc, codecs[x.kind].inn(x.msg))),
  decode: (x) => codecs[x.kind].out(c.decode(codecs[x.kind].enc, buf(x.hex))),
  keyPair: (x) => { const kp = DHT.keyPair(buf(x.seed)); return { publicKey: hex(kp.publicKey), secretKey: hex(kp.secretKey) } },
  signAnnounce: (x) => {
    const kp = DHT.keyPair(buf(x.seed))
    const ann = codecs.announce.inn(x.msg)
    const f = x.ns === 'unannounce' ? Persistent.signUnannounce : Persistent.signAnnounce
    return hex(f(buf(x.target), buf(x.token), buf(x.id), ann, kp))
  },
  signMutable: (x) => hex(Persistent.signMutable(x.mseq, buf(x.value), DHT.keyPair(buf(x.seed)))),
  verifyMutable: (x) => Persistent.verifyMutable(buf(x.signature), x.mseq, buf(x.value), buf(x.publicKey)),
  newStore: (x) => { stores.set(x.name, newStore(x.id)); return true },
  requests: (x) => x.requests.map((r) => request(stores.get(x.name), r)),
  destroyStore: (x) => { stores.get(x.name).destroy(); stores.delete(x.name); return true }
}

const rl = readline.createInterface({ input: process.stdin })
rl.on('line', (line) => {
  const x = JSON.parse(line)
  let out
  try {
    out = { seq: x.seq, ok: true, result: ops[x.op](x) }
  } catch (err) {
    out = { seq: x.seq, ok: false, error: String(err && err.message) }
  }
  process.stdout.write(JSON.stringify(out) + '\n')
})
rl.on('close', () => process.exit(0))
