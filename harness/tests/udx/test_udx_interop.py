"""UDX interop with udx-native@1.21.3 on 127.0.0.1: bulk both ways with
matching checksums, stdin/stdout piping, many concurrent streams, messages,
end and destroy seen by both sides, a vanished peer detected."""
import hashlib
import os
import signal
import subprocess
import time

import pytest

from flock import FlockError
from flock.udx import UdxPeer, is_packet
from udx_util import (JsUdxPeer, cat_cmd, finish, free_port, pattern_sha256, run_pair,
                      spawn, wait_both)

pytestmark = pytest.mark.interop

MIB = 1 << 20
FL_ERR_TIMEOUT, FL_ERR_CLOSED = -9, -10


def test_udx_cat_100mib_each_way_with_udx_native(js):
    """C connects, udx-native listens; 100 MiB each way at once."""
    n = 100 * MIB
    st_c, st_js = run_pair("c", "js", n, timeout=120, both_ways=True)
    want = pattern_sha256(n)
    assert st_c["bytes_out"] == n and st_js["bytes_in"] == n
    assert st_js["bytes_out"] == n and st_c["bytes_in"] == n
    assert st_c["sha256_out"] == want and st_js["sha256_in"] == want
    assert st_js["sha256_out"] == want and st_c["sha256_in"] == want
    assert st_c["decode_errors"] == 0


def test_udx_cat_udx_native_connects_c_listens(js):
    n = 16 * MIB
    st_js, st_c = run_pair("js", "c", n, timeout=60, both_ways=True)
    want = pattern_sha256(n)
    assert st_c["sha256_in"] == want and st_js["sha256_in"] == want
    assert st_c["bytes_in"] == n and st_js["bytes_in"] == n
    # spec checks 7 and 10: udx-native probes the MTU with padded DATA
    # packets, and never sends a datagram over 1472 bytes.
    assert st_c["padded_in"] > 0
    assert 1172 < st_c["dgram_in_max"] <= 1472
    assert st_c["mtu_probes"] > 0


def test_udx_cat_pipes_stdin_to_stdout_both_ways(js, test_seed):
    """Arbitrary bytes through stdin/stdout, compared byte for byte."""
    a = os.urandom(3 * MIB + 17)
    b = os.urandom(2 * MIB + 5)
    pc, pj = free_port(), free_port()
    jsp = spawn(cat_cmd("js", pj, 7, 8, stats=False), stdin=subprocess.PIPE,
                stdout=subprocess.PIPE)
    time.sleep(0.3)
    cp = spawn(cat_cmd("c", pc, 8, 7, connect=pj, stats=False), stdin=subprocess.PIPE,
               stdout=subprocess.PIPE)
    import threading
    outs = {}

    def io(name, p, data):
        outs[name] = p.communicate(data, timeout=60)

    threads = [threading.Thread(target=io, args=("c", cp, a)),
               threading.Thread(target=io, args=("js", jsp, b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(70)
    assert cp.returncode == 0, outs["c"][1].decode(errors="replace")
    assert jsp.returncode == 0, outs["js"][1].decode(errors="replace")
    assert outs["js"][0] == a
    assert outs["c"][0] == b


@pytest.fixture
def pair(js):
    c = UdxPeer()
    j = JsUdxPeer()
    yield c, j
    j.close()
    c.close()


def test_many_concurrent_streams_both_ways(pair):
    c, j = pair
    n = 64
    payload = {i: hashlib.sha256(b"stream%d" % i).digest() * 2048 for i in range(n)}  # 64 KiB
    for i in range(n):
        cid, jid = 1000 + i, 5000 + i
        c.open(cid)
        c.connect(cid, jid, j.port)
        j.send(op="open", id=jid, remoteId=cid, port=c.port)
    wait_both(c, j, lambda: True, 0, "js opens")
    for i in range(n):
        cid, jid = 1000 + i, 5000 + i
        c.write(cid, payload[i])
        c.end(cid)
        j.send(op="write", id=jid, hex=payload[(i + 1) % n].hex())
        j.send(op="end", id=jid)

    def done():
        return (len(j.find(ev="close")) == n and
                all(c.streams[1000 + i].closed is not None for i in range(n)))
    wait_both(c, j, done, 60, "all 64 streams to close on both sides")
    for i in range(n):
        e = j.find(ev="end", id=5000 + i)[0]
        assert e["sha256"] == hashlib.sha256(payload[i]).hexdigest()
        st = c.streams[1000 + i]
        assert bytes(st.received) == payload[(i + 1) % n]
        assert st.ended and st.closed == 0
        assert j.find(ev="close", id=5000 + i)[0]["error"] is None


def test_messages_both_ways(pair):
    c, j = pair
    c.open(1)
    c.connect(1, 2, j.port)
    j.send(op="open", id=2, remoteId=1, port=c.port)
    # Messages are unreliable: give udx-native time to connect its stream.
    end = time.monotonic() + 0.3
    while time.monotonic() < end:
        c.pump(0.01)
    for k in range(20):
        c.udx.send_message(1, b"c-msg-%d" % k)
        j.send(op="send", id=2, hex=(b"js-msg-%d" % k).hex())
    wait_both(c, j, lambda: len(j.find(ev="message")) == 20 and len(c.streams[1].messages) == 20,
              10, "20 messages each way")
    assert sorted(bytes.fromhex(e["hex"]) for e in j.find(ev="message")) == \
        sorted(b"c-msg-%d" % k for k in range(20))
    assert sorted(c.streams[1].messages) == sorted(b"js-msg-%d" % k for k in range(20))
    with pytest.raises(FlockError) as e:
        c.udx.send_message(1, b"x" * 1500)
    assert e.value.name == "FL_ERR_RANGE"


def test_end_seen_by_both(pair):
    c, j = pair
    c.open(1)
    c.connect(1, 2, j.port)
    j.send(op="open", id=2, remoteId=1, port=c.port)
    c.write(1, b"hello from C")
    c.end(1)
    j.send(op="write", id=2, hex=b"hello from JS".hex())
    j.send(op="end", id=2)
    wait_both(c, j, lambda: c.streams[1].closed is not None and j.find(ev="close"), 10,
              "both sides to close after END")
    assert bytes(c.streams[1].received) == b"hello from JS"
    assert c.streams[1].ended and c.streams[1].closed == 0
    assert j.find(ev="end")[0]["sha256"] == hashlib.sha256(b"hello from C").hexdigest()
    assert j.find(ev="close")[0]["error"] is None


def test_destroy_from_c_resets_udx_native(pair):
    c, j = pair
    c.open(1)
    c.connect(1, 2, j.port)
    j.send(op="open", id=2, remoteId=1, port=c.port)
    c.write(1, b"x" * 5000)
    wait_both(c, j, lambda: c.udx.stats()["dgrams_in"] > 0, 10, "an ACK from udx-native")
    c.destroy(1)
    wait_both(c, j, lambda: j.find(ev="close"), 10, "udx-native to see the DESTROY")
    assert j.find(ev="close")[0]["error"] == "ECONNRESET"
    assert c.streams[1].closed == 0


def test_destroy_from_udx_native_resets_c(pair):
    c, j = pair
    c.open(1)
    c.connect(1, 2, j.port)
    j.send(op="open", id=2, remoteId=1, port=c.port)
    j.send(op="write", id=2, hex=b"before".hex())
    wait_both(c, j, lambda: bytes(c.streams[1].received) == b"before", 10, "first bytes")
    j.send(op="destroy", id=2)
    wait_both(c, j, lambda: c.streams[1].closed is not None, 10, "C to see the DESTROY")
    assert c.streams[1].closed == FL_ERR_CLOSED


def test_vanished_peers_are_detected_both_ways(js):
    """A SIGKILLed udx-native peer, and a C peer that goes silent: each side
    with unacked data times out (RTO 1 s + 6 x 2 s = ~13 s, spec §7)."""
    c = UdxPeer()
    j = JsUdxPeer()
    c2 = UdxPeer()
    j2 = JsUdxPeer()
    try:
        c.open(1)
        c.connect(1, 2, j.port)
        j.send(op="open", id=2, remoteId=1, port=c.port)
        c2.open(3)
        c2.connect(3, 4, j2.port)
        j2.send(op="open", id=4, remoteId=3, port=c2.port)
        c.write(1, b"a" * 1000)
        j2.send(op="write", id=4, hex=(b"b" * 1000).hex())
        wait_both(c, j, lambda: c.udx.stats()["dgrams_in"] > 0, 5, "first ACK from js")
        wait_both(c2, j2, lambda: len(c2.streams[3].received) == 1000, 5, "js bytes at c2")
        j.kill()        # the JS peer vanishes
        c2.silent = True  # the C peer vanishes (keeps its socket, answers nothing)
        start = time.monotonic()
        c.write(1, b"more" * 1000)
        j2.send(op="write", id=4, hex=(b"c" * 1000).hex())

        def done():
            c2.pump(0.001)
            return c.streams[1].closed is not None and j2.find(ev="close")
        wait_both(c, j2, done, 25, "both survivors to time out")
        took = time.monotonic() - start
        assert c.streams[1].closed == FL_ERR_TIMEOUT
        assert j2.find(ev="close")[0]["error"] == "ETIMEDOUT"
        assert 10 < took < 20
    finally:
        for p in (j, j2):
            p.close()
        c.close()
        c2.close()


def test_unknown_ids_and_garbage_leave_streams_alone(pair):
    """Garbage and UDX packets for unknown ids sent at a live C stream's
    socket: not UDX (handed back), no reply, the stream keeps working."""
    c, j = pair
    c.open(1)
    c.connect(1, 2, j.port)
    j.send(op="open", id=2, remoteId=1, port=c.port)
    import socket as so
    s = so.socket(so.AF_INET, so.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    bogus = bytes([0xFF, 1, 1, 0]) + (0xDEADBEEF).to_bytes(4, "little") + bytes(12) + b"zz"
    assert is_packet(bogus)
    for d in (bogus, b"\x03", b"\xff", bytes(19)):
        s.sendto(d, ("127.0.0.1", c.port))
    c.write(1, b"still fine")
    c.end(1)
    j.send(op="end", id=2)
    wait_both(c, j, lambda: j.find(ev="close"), 10, "clean close after garbage")
    assert j.find(ev="end")[0]["sha256"] == hashlib.sha256(b"still fine").hexdigest()
    assert c.udx.stats()["not_udx"] >= 4
    s.setblocking(False)
    try:
        s.recv(2048)
        got_reply = True
    except BlockingIOError:
        got_reply = False
    s.close()
    assert not got_reply


def test_c_blind_relay_between_two_udx_native_streams(pair):
    """The C core relays (spec §9): udx-native stream 1 talks to stream 2
    through C streams 100 <-> 200, which rewrite ids and never read."""
    c, j = pair
    c.open(100)
    c.open(200)
    c.connect(100, 1, j.port)
    c.connect(200, 2, j.port)
    c.udx.relay_to(100, 200)
    c.udx.relay_to(200, 100)
    j.send(op="open", id=1, remoteId=100, port=c.port)
    j.send(op="open", id=2, remoteId=200, port=c.port)
    a = hashlib.sha256(b"a").digest() * 4096       # 128 KiB each way
    b = hashlib.sha256(b"b").digest() * 4096
    j.send(op="write", id=1, hex=a.hex())
    j.send(op="end", id=1)
    j.send(op="write", id=2, hex=b.hex())
    j.send(op="end", id=2)
    wait_both(c, j, lambda: len(j.find(ev="close")) == 2, 20, "both relayed streams to close")
    assert j.find(ev="end", id=2)[0]["sha256"] == hashlib.sha256(a).hexdigest()
    assert j.find(ev="end", id=1)[0]["sha256"] == hashlib.sha256(b).hexdigest()
    assert all(e["error"] is None for e in j.find(ev="close"))
    st = c.udx.stats()
    assert st["relayed"] > 200
    assert c.streams[100].received == b"" and c.streams[200].received == b""
