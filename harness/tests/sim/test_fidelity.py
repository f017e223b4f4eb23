"""Fidelity: the same 50-node topology as a real dht-rpc testnet on
127.0.0.1 and in the simulator (scenarios/fidelity.toml) gives comparable
lookup success and hop counts.

Hops are counted the same way on both sides: a node the query starts from
(the table's closest k or the bootstrap list) is one hop; a node first
referred by an n-hop node is n + 1; a lookup's hops are those of the
closest node that answered. On the C side the dht layer reports it in
QUERY_DONE; on the JS side the script below tracks the referrals.
"""
import json

import pytest

from flock.sim import SCENARIOS, flocksim_cmd

NODES = LOOKUPS = 50

JS = r"""
const DHT = require('dht-rpc')
const crypto = require('crypto')
const cfg = JSON.parse(require('fs').readFileSync(0, 'utf8'))
const N = cfg.nodes, LOOKUPS = cfg.lookups
async function main () {
  const t0 = Date.now()
  const boot = new DHT({ ephemeral: false, firewalled: false, bootstrap: [], host: '127.0.0.1' })
  await boot.ready()
  const bootstrap = [{ host: '127.0.0.1', port: boot.address().port }]
  const nodes = [boot]
  for (let i = 1; i < N; i++) {
    const n = new DHT({ bootstrap, ephemeral: false, host: '127.0.0.1' })
    nodes.push(n)
  }
  await Promise.all(nodes.map(n => n.fullyBootstrapped()))
  const ready = Date.now() - t0
  const out = []
  for (let i = 0; i < LOOKUPS; i++) {
    const from = nodes[1 + (i % (N - 1))]
    const target = crypto.randomBytes(32)
    const depth = new Map()
    const key = (p) => p.host + ':' + p.port
    // The query starts from the table's closest k (and the bootstrap list):
    // those are one hop; a node first referred by an n-hop node is n + 1.
    for (const n of from.table.closest(target, 20)) depth.set(key(n), 1)
    for (const n of bootstrap) depth.set(key(n), 1)
    const q = from.findNode(target)
    const s = Date.now()
    for await (const d of q) {
      const dd = depth.get(key(d.from)) || 1
      for (const c of d.closerNodes || []) if (!depth.has(key(c))) depth.set(key(c), dd + 1)
    }
    const best = q.closestReplies[0]
    out.push({ ok: q.closestReplies.length > 0, hops: best ? (depth.get(key(best.from)) || 1) : 0, ms: Date.now() - s })
  }
  await Promise.all(nodes.map(n => n.destroy()))
  console.log(JSON.stringify({ ready_ms: ready, lookups: out }))
}
main().catch(e => { console.error(e); process.exit(1) })
"""


@pytest.mark.interop
def test_simulator_matches_a_real_dht_rpc_testnet(js):
    real = js.run_js_json(JS, {"nodes": NODES, "lookups": LOOKUPS}, timeout=90)["lookups"]
    r = flocksim_cmd("run", SCENARIOS / "fidelity.toml", "--json")
    assert r.returncode == 0, r.stderr
    sim = json.loads(r.stdout)
    assert sim["nodes"] == NODES and sim["lookups"] == LOOKUPS
    js_ok = sum(x["ok"] for x in real) / len(real)
    js_hops = sum(x["hops"] for x in real if x["ok"]) / max(1, sum(x["ok"] for x in real))
    sim_ok = sim["success_rate"]
    sim_hops = sim["hops_mean"]
    print(f"\nfidelity, {NODES} nodes / {LOOKUPS} lookups: dht-rpc on 127.0.0.1 success "
          f"{js_ok:.2f} hops mean {js_hops:.2f}; simulator success {sim_ok:.2f} hops mean "
          f"{sim_hops:.2f}")
    assert js_ok >= 0.95 and sim_ok >= 0.95
    assert abs(js_hops - sim_hops) <= 0.5
