// A @hyperswarm/secret-stream@6.9.2 peer over TCP on 127.0.0.1, driven by
// one JSON command per stdin line; reports one JSON event per stdout line.
// Used by test_secretstream_interop.py (cwd harness/interop).
const SecretStream = require('@hyperswarm/secret-stream')
const net = require('net')
const crypto = require('crypto')
const readline = require('readline')

const out = (o) => process.stdout.write(JSON.stringify(o) + '\n')
let s = null
let rxHash = crypto.createHash('sha256')
let rxTotal = 0
let quiet = false

function attach (cmd) {
  // allowHalfOpen: a TCP FIN from the C side must not end our writable side
  // on its own (UDX, the usual raw stream, allows half-open too).
  const sock = net.connect({ port: cmd.port, host: '127.0.0.1', allowHalfOpen: true })
  sock.setNoDelay(true)
  const opts = {}
  if (cmd.keepAlive) opts.keepAlive = cmd.keepAlive
  if (cmd.handshake) {
    const h = cmd.handshake
    opts.handshake = {
      tx: Buffer.from(h.tx, 'hex'),
      rx: Buffer.from(h.rx, 'hex'),
      hash: Buffer.from(h.hash, 'hex'),
      publicKey: Buffer.alloc(32),
      remotePublicKey: Buffer.alloc(32)
    }
  }
  if (cmd.seed) opts.keyPair = SecretStream.keyPair(Buffer.from(cmd.seed, 'hex'))
  quiet = !!cmd.quiet
  s = new SecretStream(cmd.initiator, sock, opts)
  s.on('connect', () => out({
    ev: 'connect',
    publicKey: s.publicKey.toString('hex'),
    remotePublicKey: s.remotePublicKey.toString('hex'),
    hash: s.handshakeHash.toString('hex')
  }))
  s.on('data', (d) => {
    rxHash.update(d)
    rxTotal += d.byteLength
    if (!quiet) out({ ev: 'data', len: d.byteLength, sha256: sha(d), head: d.subarray(0, 16).toString('hex') })
  })
  s.on('end', () => out({ ev: 'end', total: rxTotal, sha256: rxHash.copy().digest('hex') }))
  s.on('error', (e) => out({ ev: 'error', message: e.message, code: e.code || null }))
  s.on('close', () => out({ ev: 'close', rawBytesRead: s.rawBytesRead, rawBytesWritten: s.rawBytesWritten }))
}

const sha = (b) => crypto.createHash('sha256').update(b).digest('hex')

async function bulk (total, chunk) {
  const h = crypto.createHash('sha256')
  let sent = 0
  while (sent < total) {
    const n = Math.min(chunk, total - sent)
    const b = crypto.randomBytes(n)
    h.update(b)
    sent += n
    if (!s.write(b)) await new Promise((resolve) => s.once('drain', resolve))
  }
  out({ ev: 'bulk_sent', total, sha256: h.digest('hex') })
}

function write (size) {
  const b = crypto.randomBytes(size)
  let err = null
  try { s.write(b) } catch (e) { err = e.message }
  out({ ev: 'wrote', len: size, sha256: sha(b), error: err })
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line)
  switch (cmd.cmd) {
    case 'connect': attach(cmd); break
    case 'write': write(cmd.size); break
    case 'write_text': s.write(Buffer.from(cmd.text)); out({ ev: 'wrote', len: cmd.text.length }); break
    case 'write_empty': s.write(Buffer.alloc(0)); out({ ev: 'wrote', len: 0 }); break
    case 'bulk': bulk(cmd.total, cmd.chunk); break
    case 'end': s.end(); out({ ev: 'ended' }); break
    case 'destroy': s.destroy(); break
    case 'exit': process.exit(0)
  }
}).on('close', () => process.exit(0))
