"""The fl_udx C API through ctypes: misuse returns exact codes, malformed
datagrams for a live stream are FL_ERR_DECODE and counted, others are
handed back (0), and the stats struct mirrors the header."""
import ctypes
import struct

import pytest

from flock import FlockError
from flock import udx as U


def hdr(kind, sid, seq=0, ack=0, off=0):
    return struct.pack("<BBBBIIII", 0xFF, 1, kind, off, sid, 4194304, seq, ack)


@pytest.fixture
def u():
    x = U.Udx()
    yield x
    x.close()


def test_time_going_backwards_is_invalid(u):
    assert U._timeout(u.h, 1000) == 0
    assert U._timeout(u.h, 999) == -1
    assert U._open(u.h, 5, 1) == -1
    assert U._open(u.h, 1000, 1) == 0


def test_stream_misuse_codes(u):
    u.open(7)
    with pytest.raises(FlockError) as e:
        u.open(7)
    assert e.value.name == "FL_ERR_INVALID"
    with pytest.raises(FlockError) as e:
        u.write(8, b"x")
    assert e.value.name == "FL_ERR_NOT_FOUND"
    with pytest.raises(FlockError) as e:
        u.send_message(7, b"x")          # not connected yet
    assert e.value.name == "FL_ERR_STATE"
    u.connect(7, 9, "127.0.0.1", 40000)
    with pytest.raises(FlockError) as e:
        u.connect(7, 9, "127.0.0.1", 40000)
    assert e.value.name == "FL_ERR_STATE"
    u.end(7)
    with pytest.raises(FlockError) as e:
        u.write(7, b"late")
    assert e.value.name == "FL_ERR_STATE"
    u.destroy(7)
    with pytest.raises(FlockError) as e:
        u.end(7)
    assert e.value.name == "FL_ERR_CLOSED"


def test_demultiplexing_and_malformed(u):
    u.open(0x1234)
    u.connect(0x1234, 0x4321, "127.0.0.1", 40000)
    # not UDX: DHT request byte, short, unknown id -> 0, counted as not ours
    assert u.handle_datagram(b"\x03\x00\x01", "127.0.0.1", 40000) == 0
    assert u.handle_datagram(hdr(1, 0x9999) + b"x", "127.0.0.1", 40000) == 0
    assert u.handle_datagram(hdr(1, 0x1234)[:19], "127.0.0.1", 40000) == 0
    # for the live stream but malformed -> FL_ERR_DECODE, counted
    bad = [hdr(0x41, 0x1234) + b"x",                 # unknown type bit
           hdr(1, 0x1234, off=9) + b"x",            # data offset past the end
           hdr(4, 0x1234) + b"1234567",             # SACK area not 8-aligned
           hdr(0x20, 0x1234) + b"x"]                # payload on a HEARTBEAT
    for d in bad:
        with pytest.raises(FlockError) as e:
            u.handle_datagram(d, "127.0.0.1", 40000)
        assert e.value.name == "FL_ERR_DECODE"
    st = u.stats()
    assert st["not_udx"] == 3
    assert st["decode_errors"] == len(bad)
    # a good one is consumed
    assert u.handle_datagram(hdr(1, 0x1234) + b"ok", "127.0.0.1", 40000) == 1
    assert u.read(0x1234) == b"ok"


def test_stats_struct_matches_the_header():
    names = [n for n, _ in U.Stats._fields_]
    assert "decode_errors" in names and "ooo_dropped" in names
    assert ctypes.sizeof(U.Stats) == 8 * len(names)
