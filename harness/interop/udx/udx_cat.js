// udx_cat.js — the reference (udx-native) twin of `flocknet udx-cat`, same
// flags: --host H --port P --id ID --remote-id RID (--connect H:P | --listen)
// [--gen BYTES] [--sink] [--stats] [--hash]. Copies stdin to the stream (end at EOF)
// and the stream to stdout; exits 0 once both directions have ended.
// --gen/--sink use the same 512 KiB-periodic pattern as the C tool, and
// --stats prints one JSON line (bytes, seconds, sha256 each way) to stderr.
const UDX = require('udx-native')
const crypto = require('crypto')

const args = process.argv.slice(2)
const opt = {}
for (let i = 0; i < args.length; i++) {
  const a = args[i]
  if (a === '--listen' || a === '--sink' || a === '--stats' || a === '--hash') opt[a.slice(2)] = true
  else opt[a.slice(2)] = args[++i]
}

const PERIOD = 512 * 1024
const pattern = Buffer.alloc(PERIOD)
for (let off = 0; off < PERIOD; off++) pattern[off] = (off * 131 + Math.floor(off / 2048)) & 255

const udx = new UDX()
const socket = udx.createSocket()
socket.bind(Number(opt.port), opt.host || '127.0.0.1')
const remoteId = Number(opt['remote-id'])
const start = process.hrtime.bigint()
const hin = crypto.createHash('sha256')
const hout = crypto.createHash('sha256')
let bytesIn = 0
let bytesOut = 0
let failed = null

const stream = udx.createStream(Number(opt.id), {
  firewall (sock, port, host) {
    if (!stream.connected) stream.connect(sock, remoteId, port, host)
    return false
  }
})

// udx-native reads a socket only while something listens on it: a listening
// stream is not attached yet, so hold it open with a message listener (as
// dht-rpc's does in hyperdht).
socket.on('message', () => {})

if (opt.connect) {
  const [h, p] = opt.connect.split(':')
  stream.connect(socket, remoteId, Number(p), h)
}

stream.on('data', (d) => {
  bytesIn += d.length
  if (opt.hash) hin.update(d)
  if (!opt.sink) process.stdout.write(d)
})
stream.on('error', (err) => { failed = err })
stream.on('close', () => {
  const secs = Number(process.hrtime.bigint() - start) / 1e9
  if (opt.stats) {
    process.stderr.write(JSON.stringify({
      bytes_in: bytesIn, bytes_out: bytesOut, seconds: secs,
      sha256_in: hin.digest('hex'), sha256_out: hout.digest('hex'),
      retransmits: stream.retransmits, error: failed ? failed.code : null
    }) + '\n')
  }
  socket.close()
  const done = () => process.exit(failed ? 1 : 0)
  if (opt.sink) done()
  else process.stdout.write('', done)
})

function send (buf) {
  bytesOut += buf.length
  if (opt.hash) hout.update(buf)
  return stream.write(buf)
}

function startInput () {
if (opt.gen !== undefined && Number(opt.gen) === 0) {
  // Nothing to send: end only once the peer has ended. libudx frees a stream
  // the moment both ENDs are through, so whoever closes last cannot answer a
  // retransmitted END if its final ACK was lost; replying END-for-END leaves
  // that role to the sender, which (in the C tool) lingers for it.
  stream.once('end', () => stream.end())
} else if (opt.gen !== undefined) {
  let left = Number(opt.gen)
  let off = 0
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, 65536, PERIOD - (off % PERIOD))
      const chunk = pattern.subarray(off % PERIOD, off % PERIOD + n)
      off += n
      left -= n
      if (!send(chunk)) return stream.once('drain', pump)
    }
    stream.end()
  }
  pump()
} else {
  process.stdin.on('data', (d) => {
    if (!send(d)) {
      process.stdin.pause()
      stream.once('drain', () => process.stdin.resume())
    }
  })
  process.stdin.on('end', () => stream.end())
}
}

// A listening stream may not be written before it learns its peer.
if (stream.connected) startInput()
else stream.once('connect', startInput)
