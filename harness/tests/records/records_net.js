// records_net.js - a loopback testnet of hyperdht@6.34.0 nodes for the
// interop tests: 3 persistent nodes on 127.0.0.1, commands as JSON lines.
// Every send is checked to go to 127.0.0.1.
const createTestnet = require('hyperdht/testnet.js')
const DHT = require('hyperdht')
const Persistent = require('hyperdht/lib/persistent')
const c = require('compact-encoding')
const m = require('hyperdht/lib/messages')
const readline = require('readline')

const hex = (b) => (b ? Buffer.from(b).toString('hex') : null)
const buf = (h) => Buffer.from(h, 'hex')
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n')

function guard(node) {
  for (const sock of [node.io.serverSocket, node.io.clientSocket]) {
    const send = sock.trySend.bind(sock)
    sock.trySend = (b, port, host, ttl) => {
      if (host !== '127.0.0.1') throw new Error('non-loopback send ' + host)
      return send(b, port, host, ttl)
    }
  }
}

async function main() {
  const net = await createTestnet(3, { host: '127.0.0.1' })
  for (const n of net.nodes) guard(n)
  const nodes = net.nodes
  const extra = []
  const ops = {
    async addNode(x) {
      // One more JS node bootstrapping from the given list (e.g. a C node).
      const n = new DHT({ bootstrap: x.bootstrap, host: '127.0.0.1', ephemeral: false, firewalled: false })
      await n.ready()
      guard(n)
      nodes.push(n)
      extra.push(n)
      return nodes.length - 1
    },
    async announce(x) {
      const kp = DHT.keyPair(buf(x.seed))
      const q = nodes[x.node || 0].announce(buf(x.topic), kp, x.relays || [])
      await q.finished()
      return q.closestReplies.map((r) => r.from.port)
    },
    async unannounce(x) {
      await nodes[x.node || 0].unannounce(buf(x.topic), DHT.keyPair(buf(x.seed)))
      return true
    },
    async lookup(x) {
      const res = []
      for await (const r of nodes[x.node || 0].lookup(buf(x.topic))) {
        for (const p of r.peers) res.push({ from: r.from.port, publicKey: hex(p.publicKey), relayAddresses: p.relayAddresses })
      }
      return res
    },
    async findPeer(x) {
      const res = []
      for await (const r of nodes[x.node || 0].findPeer(buf(x.publicKey))) {
        if (r.peer) res.push({ from: r.from.port, publicKey: hex(r.peer.publicKey) })
      }
      return res
    },
    async mutablePut(x) {
      const r = await nodes[x.node || 0].mutablePut(DHT.keyPair(buf(x.seed)), buf(x.value), { seq: x.mseq })
      return { seq: r.seq, closest: r.closestNodes.length }
    },
    async mutableGet(x) {
      const r = await nodes[x.node || 0].mutableGet(buf(x.publicKey), { seq: x.minSeq || 0 })
      return r && { seq: r.seq, value: hex(r.value) }
    },
    async immutablePut(x) {
      const r = await nodes[x.node || 0].immutablePut(buf(x.value))
      return hex(r.hash)
    },
    async immutableGet(x) {
      const r = await nodes[x.node || 0].immutableGet(buf(x.hash))
      return r && hex(r.value)
    },
    // One crafted request to a node (e.g. the C node), as an attacker or a
    // sloppy client would send it: token 'valid' (fetched first with a
    // FIND_PEER), 'none' or 'bogus'; kind 'announce' (signed for that node),
    // 'forged' (signature bit flipped), 'immutable' (x.value, x.target or H).
    async raw(x) {
      const node = nodes[x.node || 0]
      const to = { host: '127.0.0.1', port: x.port }
      const first = await node.request({ command: 2, target: Buffer.alloc(32) }, to, { retry: false })
      const id = first.from.id
      const token = x.token === 'valid' ? first.token : x.token === 'bogus' ? Buffer.alloc(32, 7) : null
      let target, value, command
      if (x.kind === 'immutable') {
        value = buf(x.value)
        target = x.target ? buf(x.target) : DHT.hash(value)
        command = 8
      } else {
        const kp = DHT.keyPair(buf(x.seed))
        target = buf(x.topic)
        const ann = { peer: { publicKey: kp.publicKey, relayAddresses: [] }, refresh: null, signature: null, bump: 0 }
        ann.signature = Persistent.signAnnounce(target, token || Buffer.alloc(32), id, ann, kp)
        if (x.kind === 'forged') ann.signature[5] ^= 1
        value = c.encode(m.announce, ann)
        command = 4
      }
      try {
        const r = await node.request({ token, command, target, value }, to, { retry: false })
        return { error: r.error, token: !!r.token, closer: (r.closerNodes || []).length, value: hex(r.value) }
      } catch (err) {
        return { failed: String(err.code || err.message) }
      }
    },
    async keyPair(x) {
      const kp = DHT.keyPair(buf(x.seed))
      return { publicKey: hex(kp.publicKey), secretKey: hex(kp.secretKey) }
    }
  }
  out({ ready: true, bootstrap: net.bootstrap, ports: nodes.map((n) => n.address().port) })
  const rl = readline.createInterface({ input: process.stdin })
  rl.on('line', async (line) => {
    const x = JSON.parse(line)
    try {
      out({ seq: x.seq, ok: true, result: await ops[x.op](x) })
    } catch (err) {
      out({ seq: x.seq, ok: false, error: String(err && err.stack) })
    }
  })
  rl.on('close', async () => {
    for (const n of extra) await n.destroy()
    await net.destroy()
    process.exit(0)
  })
}
setTimeout(() => { out({ fatal: 'timeout' }); process.exit(2) }, 120000).unref()
main().catch((err) => { out({ fatal: String(err && err.stack) }); process.exit(1) })
