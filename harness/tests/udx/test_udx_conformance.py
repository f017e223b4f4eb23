"""Wire conformance against udx-native, from hand-made packets (spec/udx.md
"Conformance checks"): header layout and ids, one ACK per DATA with
ack = seq + 1, HEARTBEAT answered by an ACK, data-offset padding skipped,
END closes, DESTROY resets."""
import hashlib
import socket
import struct
import time

import pytest

from udx_util import JsUdxPeer

pytestmark = pytest.mark.interop

C_ID, JS_ID = 0x11223344, 0x55667788


def header(kind, seq, ack, off=0, rwnd=4194304):
    return struct.pack("<BBBBIIII", 0xFF, 1, kind, off, JS_ID, rwnd, seq, ack)


def parse(d):
    magic, ver, kind, off, sid, rwnd, seq, ack = struct.unpack("<BBBBIIII", d[:20])
    return dict(magic=magic, ver=ver, kind=kind, off=off, id=sid, rwnd=rwnd, seq=seq, ack=ack,
                body=d[20:])


@pytest.fixture
def raw_pair(js):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.2)
    j = JsUdxPeer()
    j.send(op="open", id=JS_ID, remoteId=C_ID, port=s.getsockname()[1])
    yield s, j
    j.close()
    s.close()


def recv_all(s, until, pred=lambda p: True, timeout=5):
    got = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            d, _ = s.recvfrom(2048)
        except socket.timeout:
            continue
        p = parse(d)
        got.append(p)
        if until(got):
            return got
    raise AssertionError(f"timed out; got {[(p['kind'], p['seq'], p['ack']) for p in got]}")


def test_data_padding_heartbeat_and_end(raw_pair):
    s, j = raw_pair
    port = j.port
    time.sleep(0.3)  # let the JS stream connect
    # seq 0: DATA padded with 32 zero bytes via the data-offset byte
    s.sendto(header(0x01, 0, 0, off=32) + bytes(32) + b"hello ", ("127.0.0.1", port))
    acks = recv_all(s, lambda g: any(p["kind"] == 0 and p["ack"] == 1 for p in g))
    for p in acks:
        assert p["magic"] == 0xFF and p["ver"] == 1
        assert p["id"] == C_ID          # bytes 4-7: the receiver's (our) id
        assert p["rwnd"] > 0
    a = [p for p in acks if p["kind"] == 0][0]
    assert a["body"] == b"" and a["seq"] == 0
    # HEARTBEAT: answered with an ACK, nothing else changes
    s.sendto(header(0x20, 1, 0), ("127.0.0.1", port))
    hb = recv_all(s, lambda g: any(p["kind"] == 0 for p in g))
    assert [p for p in hb if p["kind"] == 0][0]["ack"] == 1
    # seq 1: DATA+END; udx-native delivers "hello world" then EOF
    s.sendto(header(0x03, 1, 0) + b"world", ("127.0.0.1", port))
    recv_all(s, lambda g: any(p["kind"] == 0 and p["ack"] == 2 for p in g))
    end = time.monotonic() + 5
    while time.monotonic() < end and not j.find(ev="end"):
        time.sleep(0.02)
        j.drain()
    assert j.find(ev="end")[0]["sha256"] == hashlib.sha256(b"hello world").hexdigest()


def test_destroy_resets_and_unknown_id_is_ignored(raw_pair):
    s, j = raw_pair
    port = j.port
    time.sleep(0.3)
    # a packet for an id nobody has: no answer
    bogus = bytearray(header(0x01, 0, 0) + b"x")
    bogus[4:8] = (0xDEAD).to_bytes(4, "little")
    s.sendto(bytes(bogus), ("127.0.0.1", port))
    s.sendto(b"\x01", ("127.0.0.1", port))
    with pytest.raises(AssertionError):
        recv_all(s, lambda g: True, timeout=0.5)
    s.sendto(header(0x10, 0, 0), ("127.0.0.1", port))
    end = time.monotonic() + 5
    while time.monotonic() < end and not j.find(ev="close"):
        time.sleep(0.02)
        j.drain()
    assert j.find(ev="close")[0]["error"] == "ECONNRESET"
