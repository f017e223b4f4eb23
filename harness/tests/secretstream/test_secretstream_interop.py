"""secret-stream interop over TCP on 127.0.0.1: the C stream (sans-IO, driven
from Python through ctypes) against @hyperswarm/secret-stream@6.9.2 in Node,
both roles each way, with the standalone XX handshake the reference runs for
`new SecretStream(isInitiator, socket)`.
"""
import hashlib
import os
import random

import pytest

from flock.secretstream import (EV_CLOSE, EV_DATA, EV_END, EV_ERROR, MESSAGE_MAX,
                                make_handshake)
from ss_tcp import Session

pytestmark = pytest.mark.interop
ROLES = [pytest.param(True, id="c_initiator"), pytest.param(False, id="c_responder")]
MIB = 1 << 20


@pytest.fixture
def session_factory(js):
    made = []

    def make(*a, **kw):
        s = Session(*a, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def _connected(s):
    """Wait until both sides have keys and the C side saw the JS header."""
    conn = s.wait("handshake", c_pred=lambda: s.c.ss.is_open, js_pred=s.js_event("connect"))
    assert bytes.fromhex(conn["remotePublicKey"]) == s.c.ss.public_key
    assert bytes.fromhex(conn["publicKey"]) == s.c.ss.remote_public_key
    assert bytes.fromhex(conn["hash"]) == s.c.ss.handshake_hash
    return conn


@pytest.mark.parametrize("c_initiator", ROLES)
def test_16mib_each_way_checksums_match(session_factory, c_initiator, test_seed):
    s = session_factory(c_initiator, quiet=True)
    s.c.keep_messages = False
    _connected(s)
    total = 16 * MIB
    data = random.Random(test_seed).randbytes(total)
    s.js.send({"cmd": "bulk", "total": total, "chunk": 65536})
    s.c.push_all(data, 256 * 1024)
    s.c.end()
    js_sent = s.wait("JS bulk sent", js_pred=s.js_event("bulk_sent"), timeout=60)
    s.js.send({"cmd": "end"})
    js_end = s.wait("JS end event", js_pred=s.js_event("end"), timeout=60)
    s.wait("C end", c_pred=lambda: s.c.ended() or s.c.error())
    assert s.c.error() is None
    assert js_end["total"] == total
    assert js_end["sha256"] == hashlib.sha256(data).hexdigest()
    assert s.c.rx_total == total
    assert s.c.rx_hash.hexdigest() == js_sent["sha256"]
    s.wait("C close", c_pred=lambda: any(e.type == EV_CLOSE for e in s.c.events))
    s.wait("JS close", js_pred=s.js_event("close"))
    assert not [m for m in s.js.seen if m["ev"] == "error"]


@pytest.mark.parametrize("c_initiator", ROLES)
def test_message_sizes_one_frame_each(session_factory, c_initiator, test_seed):
    """1 B, 64 KiB, 1 MiB and the largest message (2^24 - 1 - 17) each way,
    keep-alives off: every message arrives whole as one data event."""
    s = session_factory(c_initiator)
    _connected(s)
    sizes = [1, 65536, MIB, MESSAGE_MAX]
    rng = random.Random(test_seed)
    for size in sizes:
        msg = rng.randbytes(size)
        s.c.push_all(msg, size)
        got = s.wait(f"JS data of {size} bytes", js_pred=s.js_event("data"), timeout=30)
        assert got["len"] == size
        assert got["sha256"] == hashlib.sha256(msg).hexdigest()
        s.js.send({"cmd": "write", "size": size})
        wrote = s.wait("JS wrote", js_pred=s.js_event("wrote"))
        assert wrote["error"] is None
        s.wait(f"C data of {size} bytes", c_pred=lambda: len(s.c.messages) > 0, timeout=30)
        got_c = s.c.messages.pop()
        assert len(got_c) == size
        assert hashlib.sha256(got_c).hexdigest() == wrote["sha256"]
        assert not s.c.messages
    assert s.c.error() is None
    # One byte more than the largest: the JS write fails and destroys its
    # stream; the C push fails with FL_ERR_RANGE (the same rule).
    s.js.send({"cmd": "write", "size": MESSAGE_MAX + 1})
    err = s.wait("JS error on too-large write", js_pred=s.js_event("error"))
    assert "too large for an atomic write" in err["message"]
    s.wait("C sees the JS side go away", c_pred=lambda: s.c.error() is not None or s.c.eof)


@pytest.mark.parametrize("c_initiator", ROLES)
def test_keepalives_and_empty_messages(session_factory, c_initiator):
    """keepAlive 200 ms both sides: idle keep-alives (20-byte frames) flow each
    way and neither side surfaces them; an explicit empty write is eaten the
    same way; real data still passes."""
    s = session_factory(c_initiator, keepalive_ms=200)
    _connected(s)
    s.wait("3 JS keep-alives at C", c_pred=lambda: s.c.ss.stats()["keepalives_received"] >= 3,
           timeout=10)
    assert s.c.ss.stats()["keepalives_sent"] >= 2
    s.js.send({"cmd": "write_empty"})
    before = s.c.ss.stats()["keepalives_received"]
    s.wait("JS empty write at C", c_pred=lambda: s.c.ss.stats()["keepalives_received"] > before)
    s.c.ss.push(b"")
    s.c.ss.push(b"after")
    got = s.wait("JS data after keep-alives", js_pred=s.js_event("data"))
    assert got["len"] == 5 and got["head"] == b"after".hex()
    assert [e for e in s.c.events if e.type == EV_DATA] == []
    assert not [m for m in s.js.seen if m["ev"] == "data" and m["len"] == 0]


@pytest.mark.parametrize("c_initiator", ROLES)
def test_empty_message_without_keepalive_is_delivered(session_factory, c_initiator):
    """Keep-alive off and no filter: the reference delivers an empty message
    as an empty chunk, and so does the C side."""
    s = session_factory(c_initiator)
    _connected(s)
    s.c.ss.push(b"")
    got = s.wait("JS empty data", js_pred=s.js_event("data"))
    assert got["len"] == 0
    s.js.send({"cmd": "write_empty"})
    s.wait("C empty data", c_pred=lambda: any(e.type == EV_DATA for e in s.c.events))
    assert [len(e.data) for e in s.c.events if e.type == EV_DATA] == [0]


SPEC_HS = {  # spec/noise.md §9
    "hash": "2222e888ddda3faa1ce91640580e2fd5f11d93ecc6c9723829cde5a1805b470a"
            "8f31d30fe5b8b93313636f891ae1418a40d0e484df89c4e81169ad6480540eeb",
    "i_tx": "cc00d99bd3a15a6779df38fd42fd25a84d73264023e7c1da95cf3bcbdce9c210",
    "i_rx": "78dd48ecef5d11fd953197694a8ee2d9f8d86d49d56d856e3dd7c8e78047826b",
}


def _fixed_handshake(c_initiator):
    i, r = SPEC_HS["i_tx"], SPEC_HS["i_rx"]
    c_tx, c_rx = (i, r) if c_initiator else (r, i)
    return {"js": {"tx": c_rx, "rx": c_tx, "hash": SPEC_HS["hash"]},
            "c": make_handshake(bytes.fromhex(c_tx), bytes.fromhex(c_rx),
                                bytes.fromhex(SPEC_HS["hash"]))}


@pytest.mark.parametrize("c_ends_first", [True, False], ids=["c_ends_first", "js_ends_first"])
@pytest.mark.parametrize("standalone", [True, False], ids=["xx", "given_handshake"])
def test_half_close_seen_both_sides(session_factory, c_ends_first, standalone):
    c_initiator = c_ends_first  # cover both roles across the cases
    s = session_factory(c_initiator, handshake=None if standalone else _fixed_handshake(c_initiator))
    if standalone:
        _connected(s)
    else:
        s.wait("C open", c_pred=lambda: s.c.ss.is_open)
    if c_ends_first:
        s.c.ss.push(b"last from C")
        s.c.end()
        js_end = s.wait("JS end", js_pred=s.js_event("end"))
        assert js_end["total"] == len(b"last from C")
        assert s.c.shut  # the raw stream was half-closed after the output
        s.js.send({"cmd": "write_text", "text": "reply after end"})
        s.js.send({"cmd": "end"})
        s.wait("C end", c_pred=s.c.ended)
        assert s.c.messages == [b"reply after end"], (s.c.events, s.js.seen)
    else:
        s.js.send({"cmd": "write_text", "text": "last from JS"})
        s.js.send({"cmd": "end"})
        s.wait("C end", c_pred=s.c.ended)
        assert s.c.messages == [b"last from JS"]
        s.c.ss.push(b"reply after end")
        s.c.end()
        js_end = s.wait("JS end", js_pred=s.js_event("end"))
        assert js_end["total"] == len(b"reply after end")
    s.wait("C close", c_pred=lambda: any(e.type == EV_CLOSE for e in s.c.events))
    s.wait("JS close", js_pred=s.js_event("close"))
    assert s.c.error() is None
    assert not [m for m in s.js.seen if m["ev"] == "error"]


@pytest.mark.parametrize("c_initiator", ROLES)
def test_js_dies_mid_frame_gives_clean_error(session_factory, c_initiator):
    s = session_factory(c_initiator)
    _connected(s)
    s.js.send({"cmd": "write", "size": 8 * MIB})
    s.wait("part of the 8 MiB frame at C", c_pred=lambda: s.c.ss.stats()["rx_buffered"] > 0,
           timeout=20)
    s.c.stop_reading = True
    s.js.proc.kill()
    s.js.proc.wait(10)
    s.c.stop_reading = False
    s.wait("C error after the peer died", c_pred=lambda: s.c.error() is not None, timeout=20)
    err = s.c.error()
    # EOF inside the frame -> FL_ERR_DECODE; a reset -> FL_ERR_CLOSED.
    assert err.error in (-2, -10), err
    assert err.reason
    assert [e for e in s.c.events if e.type == EV_DATA] == []
    assert s.c.ss.failed


@pytest.mark.parametrize("c_initiator", ROLES)
def test_c_dies_mid_frame(session_factory, c_initiator):
    """The C side sends half a frame and closes: the reference just ends (it
    has no error for EOF inside a frame; the C side fails with FL_ERR_DECODE
    instead) and never surfaces the partial message."""
    s = session_factory(c_initiator)
    _connected(s)
    s.c.ss.push(os.urandom(MIB))
    view = s.c.ss.tx_view()
    half = bytes(view[:len(view) // 2])
    del view
    s.c.abort(half)
    end = s.wait("JS end", js_pred=s.js_event("end"))
    assert end["total"] == 0
    assert not [m for m in s.js.seen if m["ev"] == "data"]
    assert s.c.ss.failed
