"""UDX on a C fl_node's DHT server port (`flocknet udx-cat --node`, the
epoll driver): udx-native streams to and from that port with matching
bytes, while dht-rpc PINGs to the same port (from flocknet and from the
reference dht-rpc) are answered mid-transfer, and stray UDX packets are
dropped and counted without disturbing either."""
import json
import random
import socket
import struct
import subprocess
import threading
import time

import pytest

from udx_util import FLOCKNET, cat_cmd, finish, free_port, pattern_sha256, spawn

pytestmark = pytest.mark.interop

MIB = 1 << 20

JS_PING = """
const DHT = require('dht-rpc')
const port = Number(process.argv[1])
const node = new DHT({ ephemeral: true, bootstrap: [], host: '127.0.0.1' })
node.ping({ host: '127.0.0.1', port }).then((res) => {
  process.stdout.write(JSON.stringify({ ok: true, rtt: res.rtt,
    id: res.from.id ? res.from.id.toString('hex') : null }))
  return node.destroy()
}, (err) => {
  process.stdout.write(JSON.stringify({ ok: false, err: String(err) }))
  return node.destroy()
})
"""


def node_cat(port, lid, rid, connect=None, gen=None, sink=False):
    """argv for `flocknet udx-cat --node` (the stream on a DHT node's port)."""
    return cat_cmd("c", port, lid, rid, connect=connect, gen=gen, sink=sink) + ["--node"]


def flocknet_ping(port):
    out = subprocess.run([str(FLOCKNET), "ping", f"127.0.0.1:{port}", "--host", "127.0.0.1",
                          "--timeout", "5"],
                         capture_output=True, text=True, timeout=15)
    return out.returncode, out.stdout + out.stderr


def js_ping(js, port):
    return json.loads(js.run_js(JS_PING, args=(str(port),), timeout=20))


def udx_header(typ, stream_id):
    # magic, version, type, data offset, id, rwnd, seq, ack (spec/udx.md §1)
    return struct.pack("<BBBBIIII", 0xFF, 1, typ, 0, stream_id, 65536, 0, 0)


def wait_piped(proc, timeout, what):
    """finish() for a process whose stdin/stdout the test drove itself."""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError(f"{what} still running after {timeout}s") from None
    text = proc.stderr.read().decode(errors="replace")
    stats = None
    for line in text.splitlines():
        if line.startswith("{"):
            stats = json.loads(line)
    return proc.returncode, stats, text


def wait_for_port(port, what, timeout=10.0):
    """Wait until something answers a dht-rpc PING on port."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        rc, _ = flocknet_ping(port)
        if rc == 0:
            return
    raise AssertionError(f"{what} never answered a PING on port {port}")


def test_udx_native_both_ways_through_node_port_while_dht_answers(js, test_seed):
    """C node listens on its DHT port; udx-native connects to it. Half of the
    C side's input goes in, then (stream open, both directions mid-way) the
    port answers a flocknet PING and a dht-rpc PING and shrugs off stray UDX
    packets; then the rest, and both outputs must match byte for byte."""
    rng = random.Random(test_seed)
    a = rng.randbytes(6 * MIB + 3)   # C node -> udx-native
    b = rng.randbytes(4 * MIB + 11)  # udx-native -> C node
    pc, pj = free_port(), free_port()
    cp = spawn(node_cat(pc, 1, 2), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    wait_for_port(pc, "udx-cat --node")
    jp = spawn(cat_cmd("js", pj, 2, 1, connect=pc, stats=False), stdin=subprocess.PIPE,
               stdout=subprocess.PIPE)
    outs = {}

    def reader(name, p):
        outs[name] = p.stdout.read()

    def writer(p, data):
        p.stdin.write(data)
        p.stdin.close()

    threads = [threading.Thread(target=reader, args=("c", cp)),
               threading.Thread(target=reader, args=("js", jp)),
               threading.Thread(target=writer, args=(jp, b))]
    for t in threads:
        t.start()
    half = len(a) // 2
    cp.stdin.write(a[:half])
    cp.stdin.flush()
    # Mid-transfer: the C side has not ended its direction (stdin still open).
    rc, text = flocknet_ping(pc)
    assert rc == 0 and "pong from 127.0.0.1:%d" % pc in text, text
    res = js_ping(js, pc)
    assert res["ok"] and res["id"], res  # persistent: the reply carries its id
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(udx_header(1, 0x5A5A5A5A) + b"x", ("127.0.0.1", pc))  # no such stream
        s.sendto(udx_header(0x40, 1), ("127.0.0.1", pc))  # live stream, unknown type bit
    rc, text = flocknet_ping(pc)
    assert rc == 0, text
    cp.stdin.write(a[half:])
    cp.stdin.close()
    for t in threads:
        t.join(30)
    rc_c, st_c, err_c = wait_piped(cp, 20, "udx-cat --node")
    rc_j, _, err_j = wait_piped(jp, 20, "udx_cat.js")
    assert rc_c == 0, err_c[-2000:]
    assert rc_j == 0, err_j[-2000:]
    assert outs["js"] == a
    assert outs["c"] == b
    assert st_c["node"] is True
    assert st_c["dht_ping_in"] >= 3  # every ping, the readiness probe's too
    assert st_c["node_rx_udx"] > len(b) // 1472
    assert st_c["node_drop_udx"] == 1
    assert st_c["node_drop_udx_decode"] == 1 and st_c["decode_errors"] == 1


def test_c_node_connects_to_udx_native_checksums_match(js):
    """The other direction of connect: the C node's port dials udx-native;
    16 MiB each way (generated pattern), sha256 equal on both sides, and a
    PING to the node's port during the run is answered."""
    n = 16 * MIB
    pc, pj = free_port(), free_port()
    jp = spawn(cat_cmd("js", pj, 5, 6, gen=n, sink=True))
    time.sleep(0.3)  # let node bind; the C side retransmits anyway
    cp = spawn(node_cat(pc, 6, 5, connect=pj, gen=n, sink=True))
    wait_for_port(pc, "udx-cat --node --connect")
    rc_c, st_c, err_c = finish(cp, 30, "udx-cat --node")
    rc_j, st_j, err_j = finish(jp, 30, "udx_cat.js")
    assert rc_c == 0, err_c[-2000:]
    assert rc_j == 0, err_j[-2000:]
    want = pattern_sha256(n)
    assert st_c["bytes_out"] == n and st_j["bytes_in"] == n
    assert st_j["bytes_out"] == n and st_c["bytes_in"] == n
    assert st_c["sha256_out"] == want and st_j["sha256_in"] == want
    assert st_j["sha256_out"] == want and st_c["sha256_in"] == want
    assert st_c["dht_ping_in"] >= 1
    assert st_c["node_drop_udx"] == 0 and st_c["decode_errors"] == 0
