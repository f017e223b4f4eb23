// udx_peer.js — a udx-native peer driven by one JSON object per line on
// stdin, reporting what it sees as JSON lines on stdout (for JsPeer).
//   {"op":"open","id":1,"remoteId":2,"port":P}   create + connect to 127.0.0.1:P
//   {"op":"write","id":1,"hex":"..."}  {"op":"end","id":1}  {"op":"destroy","id":1}
//   {"op":"send","id":1,"hex":"..."}   an unreliable message
// Out: {"ev":"ready","port":P}, {"ev":"end","id",bytes,sha256},
//      {"ev":"close","id",error}, {"ev":"message","id",hex}
const UDX = require('udx-native')
const crypto = require('crypto')
const readline = require('readline')

const udx = new UDX()
const socket = udx.createSocket()
socket.bind(0, '127.0.0.1')
const streams = new Map()
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n')

function open ({ id, remoteId, port }) {
  const s = udx.createStream(id)
  const st = { s, bytes: 0, hash: crypto.createHash('sha256') }
  streams.set(id, st)
  s.connect(socket, remoteId, port, '127.0.0.1')
  s.on('data', (d) => { st.bytes += d.length; st.hash.update(d) })
  s.on('end', () => out({ ev: 'end', id, bytes: st.bytes, sha256: st.hash.digest('hex') }))
  s.on('message', (m) => out({ ev: 'message', id, hex: m.toString('hex') }))
  s.on('error', (err) => { st.error = err.code || String(err) })
  s.on('close', () => out({ ev: 'close', id, error: st.error || null }))
}

const rl = readline.createInterface({ input: process.stdin })
rl.on('close', () => process.exit(0))
rl.on('line', (line) => {
  const m = JSON.parse(line)
  const st = streams.get(m.id)
  if (m.op === 'open') open(m)
  else if (m.op === 'write') st.s.write(Buffer.from(m.hex, 'hex'))
  else if (m.op === 'end') st.s.end()
  else if (m.op === 'destroy') st.s.destroy()
  else if (m.op === 'send') st.s.trySend(Buffer.from(m.hex, 'hex'))
  else if (m.op === 'exit') process.exit(0)
})

out({ ev: 'ready', port: socket.address().port })
