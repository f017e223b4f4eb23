// dht_peer.js — many dht-rpc@6.27.0 nodes in one Node.js process, driven by
// one JSON object per line on stdin; answers one JSON object per line on
// stdout, each carrying the "req" number of the command it answers.
//
// Network rule: every node binds 127.0.0.1 and gets loopback bootstrap
// lists only (the harness never passes anything else).
//
// Commands ({"cmd": ..., "req": n, ...}):
//   start      {count, bootstrap: ["127.0.0.1:P", ...], bootstrapper: bool,
//               persistent: bool}      -> {event: "started", nodes: [{i, host, port, id}]}
//   find_node  {node, target}          -> {event: "find_node", closest: [{host, port, id}]}
//   ping       {node, host, port}      -> {event: "ping", id, to: {host, port}, rtt_ms}
//   ping_nat   {node, host, port, nat_port}, down_hint {node, host, port, down_host, down_port}
//   request    {node, host, port, command, target?, value?, token?}
//                                      -> {event: "response", id, token, value, error}
//   table      {node}                  -> {event: "table", nodes: [{host, port, id}]}
//   info       {node}                  -> {event: "info", id, port, persistent, stats}
//   destroy    {node}                  -> {event: "destroyed"}
// A failure answers {event: "error", message}. User command 77 is answered by
// every node with "js:" + the request's value (the cross-language user-command
// test), any other user command with error 1 (UNKNOWN_COMMAND).
'use strict'
const DHT = require('dht-rpc')
const b4a = require('b4a')
const readline = require('readline')

const HOST = '127.0.0.1'
const ECHO_COMMAND = 77
const nodes = []

const hex = (b) => (b ? b4a.toString(b, 'hex') : null)
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const desc = (n, i) => ({ i, host: HOST, port: n.address().port, id: hex(n.id) })

function attachEcho(node) {
  node.on('request', (req) => {
    // Any other user command: UNKNOWN_COMMAND, as a node with no listener answers.
    if (req.command !== ECHO_COMMAND) return req.error(1)
    req.reply(b4a.concat([b4a.from('js:'), req.value || b4a.alloc(0)]))
  })
}

async function makeBootstrapper(opts) {
  // DHT.bootstrapper needs a fixed port: try random ones, a bounded number of times.
  for (let tries = 0; tries < 50; tries++) {
    const port = 20000 + Math.floor(Math.random() * 40000)
    const n = DHT.bootstrapper(port, HOST, { host: HOST, ...opts })
    try {
      await n.fullyBootstrapped()
      return n
    } catch (e) {
      await n.destroy().catch(() => {})
    }
  }
  throw new Error('no free port for the bootstrapper after 50 tries')
}

async function start(m) {
  const made = []
  const base = { host: HOST }
  if (m.persistent) Object.assign(base, { ephemeral: false, firewalled: false })
  if (m.bootstrapper) made.push(await makeBootstrapper(m.persistent ? {} : {}))
  const boot = (m.bootstrap || []).slice()
  if (made.length) boot.push(`${HOST}:${made[0].address().port}`)
  for (const b of boot) if (!/^127\.\d+\.\d+\.\d+:\d+$/.test(b)) throw new Error('loopback only: ' + b)
  const rest = []
  for (let i = made.length; i < (m.count || 1); i++) rest.push(new DHT({ ...base, bootstrap: boot }))
  await Promise.all(rest.map((n) => n.fullyBootstrapped()))
  made.push(...rest)
  const first = nodes.length
  for (const n of made) {
    attachEcho(n)
    nodes.push(n)
  }
  return { event: 'started', nodes: made.map((n, k) => desc(n, first + k)) }
}

function node(m) {
  const n = nodes[m.node]
  if (!n) throw new Error('no node ' + m.node)
  return n
}

function internal(n, m, command, value) {
  return new Promise((resolve, reject) => {
    const req = n._request({ id: null, host: m.host, port: m.port }, false, true, command, null,
      value, null, resolve, reject)
    if (!req) reject(new Error('request not sent'))
  })
}

function portValue(port) {
  const v = b4a.alloc(2)
  v.writeUInt16LE(port, 0)
  return v
}

function addrValue(host, port) {
  const v = b4a.alloc(6)
  host.split('.').forEach((o, k) => { v[k] = Number(o) })
  v.writeUInt16LE(port, 4)
  return v
}

const reply = (res, extra) => ({
  id: hex(res.from && res.from.id), to: res.to ? { host: res.to.host, port: res.to.port } : null,
  token: hex(res.token), value: res.value ? b4a.toString(res.value) : null,
  error: res.error || 0, ...extra
})

const handlers = {
  start,
  async find_node(m) {
    const q = node(m).findNode(b4a.from(m.target, 'hex'))
    await q.finished()
    return { event: 'find_node', closest: q.closestNodes.map((c) => ({ host: c.host, port: c.port, id: hex(c.id) })) }
  },
  async ping(m) {
    const t0 = process.hrtime.bigint()
    const res = await node(m).ping({ host: m.host, port: m.port })
    return { event: 'ping', ...reply(res), rtt_ms: Number(process.hrtime.bigint() - t0) / 1e6 }
  },
  async ping_nat(m) {
    return { event: 'ping_nat', ...reply(await internal(node(m), m, 1, portValue(m.nat_port))) }
  },
  async down_hint(m) {
    return { event: 'down_hint', ...reply(await internal(node(m), m, 3, addrValue(m.down_host, m.down_port))) }
  },
  async request(m) {
    const res = await node(m).request({
      command: m.command,
      target: m.target ? b4a.from(m.target, 'hex') : null,
      value: m.value !== undefined && m.value !== null ? b4a.from(m.value) : null,
      token: m.token ? b4a.from(m.token, 'hex') : null
    }, { host: m.host, port: m.port })
    return { event: 'response', ...reply(res) }
  },
  async table(m) {
    const all = node(m).toArray()
    const peer = require('dht-rpc/lib/peer')
    return { event: 'table', nodes: all.map((a) => ({ host: a.host, port: a.port, id: hex(peer.id(a.host, a.port)) })) }
  },
  async info(m) {
    const n = node(m)
    return { event: 'info', id: hex(n.id), port: n.address().port, persistent: !n.ephemeral, stats: n.stats }
  },
  async destroy(m) {
    await node(m).destroy()
    return { event: 'destroyed' }
  }
}

const rl = readline.createInterface({ input: process.stdin })
rl.on('line', (line) => {
  if (!line.trim()) return
  let m
  try { m = JSON.parse(line) } catch (e) { return out({ event: 'error', message: 'bad JSON: ' + e.message }) }
  const h = handlers[m.cmd]
  if (!h) return out({ event: 'error', req: m.req, message: 'unknown cmd ' + m.cmd })
  h(m).then((r) => out({ ...r, req: m.req }),
    (e) => out({ event: 'error', req: m.req, message: String(e && e.message ? e.message : e) }))
})
rl.on('close', async () => {
  await Promise.all(nodes.map((n) => n.destroy().catch(() => {})))
  process.exit(0)
})
