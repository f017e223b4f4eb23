"""Conformance of one fl_node, in process: crafted and malformed dht-rpc
datagrams in, exact replies (or silence) and counters out. Packets are the
captures of spec/dht-rpc.md §1 and §11 (dht-rpc@6.27.0 on 127.0.0.1)."""
import random

import pytest

from flock import FlockError
from flock import node as fn

B = ("127.0.0.1", 20001)
B_ID = bytes.fromhex("9b6624720996a60b2786adade908184a455312c01a9e711aab89690c4f4ca56c")
E_CLIENT = ("127.0.0.1", 35128)
CAPTURE_NODES = [("127.0.0.1", p) for p in range(20002, 20006)]

PING_N2 = bytes.fromhex("03051d9d7f000001214e9e11f7b645f911a069349236ef5aab5aa4e41e5a6dfc"
                        "bc81d2fad1f0ce3fa87b00")
PING_N2_RES = bytes.fromhex("13011d9d7f000001224e") + B_ID
PING_E = bytes.fromhex("030414527f000001214e00")
FIND_NODE_E = bytes.fromhex("030c19527f000001214e02") + b"\xab" * 32
PING_NAT_E = bytes.fromhex("031411527f000001214e01022a4e")
DOWN_HINT_E = bytes.fromhex("031422527f000001244e03067f000001254e")
USER77_TARGET = bytes.fromhex("03081a527f000001234e4d") + b"\xab" * 32
USER77_VALUE = bytes.fromhex("03101b527f000001244e4d026869")
REQUESTS = [PING_N2, PING_E, FIND_NODE_E, PING_NAT_E, DOWN_HINT_E, USER77_TARGET, USER77_VALUE]


class One:
    """A bootstrapper node like the capture's B, at virtual time self.now."""

    def __init__(self, **kw):
        self.now = 1_000_000
        self.n = fn.Node(now_us=self.now, seed=b"\x07" * 32, bootstrapper=B, **kw)
        self.n.open_sockets(self.now, 20001, 30001)
        self.n.poll_events()
        self.n.poll_transmits()

    def send(self, data, frm=E_CLIENT, sock=0, dt=1000):
        self.now += dt
        self.n.handle_datagram(self.now, sock, frm, data)
        return self.n.poll_transmits()

    def tick(self, dt):
        self.now += dt
        self.n.handle_timeout(self.now)
        return self.n.poll_transmits()

    def add_capture_nodes(self):
        for a in CAPTURE_NODES:
            self.n.add_node(self.now, a)


@pytest.fixture
def b():
    one = One()
    yield one
    one.n.close()


def test_bootstrapper_is_persistent_with_its_address_id(b):
    nid, persistent = b.n.id()
    assert persistent and nid == B_ID == fn.node_id(B)
    st = b.n.state()
    assert st & fn.S_BOOTSTRAPPED and st & fn.S_PERSISTENT and not st & fn.S_FIREWALLED
    assert b.n.public_addr() == B


def test_ping_reply_is_the_captured_bytes(b):
    assert b.send(PING_N2, frm=("127.0.0.1", 20002)) == [(0, ("127.0.0.1", 20002), PING_N2_RES)]
    assert [a for a, _ in b.n.table()] == [("127.0.0.1", 20002)]
    out = b.send(PING_E)
    assert out == [(0, E_CLIENT, bytes.fromhex("13011452") + bytes.fromhex("7f0000013889") + B_ID)]
    assert b.n.stats()["cmd_in"][fn.CMD_PING] == 2


def test_ping_nat_replies_to_the_port_in_the_value(b):
    out = b.send(PING_NAT_E)
    assert out == [(0, ("127.0.0.1", 20010), bytes.fromhex("130111527f0000012a4e") + B_ID)]
    for bad in ("031411527f000001214e01020000", "031411527f000001214e01012a",
                "030411527f000001214e01"):
        assert b.send(bytes.fromhex(bad)) == []
    assert b.n.stats()["drop_malformed_value"] == 3


def test_find_node_lists_table_nodes_xor_sorted(b):
    b.add_capture_nodes()
    out = b.send(FIND_NODE_E)
    # the reference sends row order N3 N5 N4 N2; XOR order is N3 N2 N5 N4
    want = (bytes.fromhex("130519527f0000013889") + B_ID + b"\x04" +
            bytes.fromhex("7f000001234e7f000001224e7f000001254e7f000001244e"))
    assert out == [(0, E_CLIENT, want)]
    assert b.send(bytes.fromhex("030419527f000001214e02")) == []
    assert b.n.stats()["drop_no_target"] == 1


def test_unknown_commands_get_error_1(b):
    b.add_capture_nodes()
    (_, _, res), = b.send(USER77_TARGET)
    assert len(res) == 68 and res[1] == 0x0D and res[42] == 4 and res[67] == 1
    (_, _, res), = b.send(bytes.fromhex("03001b527f000001234e4d"))
    assert res == bytes.fromhex("13091b527f0000013889") + B_ID + b"\x01"
    (_, _, res), = b.send(bytes.fromhex("03041c527f000001234e09"))
    assert res == bytes.fromhex("13091c527f0000013889") + B_ID + b"\x01"
    assert b.n.stats()["unknown_command"] == 3


def test_bad_token_gets_error_2_and_a_token_that_works(b):
    bogus = bytes.fromhex("030608007f000001cbaf") + b"\x01" * 32 + b"\x00"
    (_, to, res), = b.send(bogus, frm=("127.0.0.1", 42317))
    assert to == ("127.0.0.1", 42317)
    assert res[:10] == bytes.fromhex("130b08007f0000014da5") and res[10:42] == B_ID
    assert len(res) == 75 and res[74] == 2
    token = res[42:74]
    assert b.n.table() == []  # a bad token never touches the table
    echo = bytes.fromhex("030609007f000001cbaf") + token + b"\x00"
    assert b.send(echo, frm=("127.0.0.1", 9999)) == [
        (0, ("127.0.0.1", 9999), bytes.fromhex("130109007f0000010f27") + B_ID)]
    # tokens are per IP: another IP presenting it is refused
    (_, _, res), = b.send(echo, frm=("127.0.0.2", 9999))
    assert res[1] == 0x0B
    assert b.n.stats()["drop_bad_token"] == 2


def test_down_hint_replies_and_checks_the_node(b):
    b.add_capture_nodes()
    out = b.send(DOWN_HINT_E)
    pings = [d for s, to, d in out if to == ("127.0.0.1", 20005) and d[0] == 0x03]
    replies = [d for s, to, d in out if to == E_CLIENT]
    assert replies == [bytes.fromhex("130122527f0000013889") + B_ID]
    assert len(pings) == 1 and pings[0][-1] == fn.CMD_PING
    for _ in range(50):
        b.tick(100_000)
    assert ("127.0.0.1", 20005) not in [a for a, _ in b.n.table()]
    assert b.n.stats()["down_hints_rx"] == 1


def test_delayed_ping_answers_after_the_delay(b):
    assert b.send(bytes.fromhex("031430527f000001214e0404f4010000")) == []
    assert b.tick(499_000) == []
    (_, to, res), = b.tick(1_000)
    assert to == E_CLIENT and res[:4] == bytes.fromhex("13013052")
    assert b.send(bytes.fromhex("031431527f000001214e040411270000")) == []  # 10001 ms
    assert b.tick(11_000_000) == []
    assert b.n.stats()["drop_delay_too_long"] == 1


@pytest.mark.parametrize("pkt", REQUESTS, ids=lambda p: p[:2].hex() + p[10:11].hex())
def test_every_truncation_is_silent_and_counted(b, pkt):
    before = b.n.stats()
    for cut in range(len(pkt)):
        assert b.send(pkt[:cut], dt=1) == []
    st = b.n.stats()
    assert st["drop_decode"] - before["drop_decode"] == len(pkt) - 2
    assert st["drop_short"] - before["drop_short"] == 2
    assert len(b.send(PING_E)) == 1  # still serving


@pytest.mark.parametrize("hexpkt", [
    "030414527f000001214eff0000000000002000",  # command > 2^53-1
    "030414527f000001214efd01",                # truncated uint16 varint
    "030414527f000001214efe010203",            # truncated uint32 varint
    "03ffffffffffffffffff14527f000001214e00",  # flags > 2^53-1
    "031414527f000001214e0105aabb",            # value longer than the datagram
    "130414527f000001214efe01001000",          # 0x100001 closer nodes
    "130414527f000001214e027f000001214e",      # 2 closer nodes, 1 present
    "130814527f000001214efe0100",              # truncated error code
])
def test_bad_varints_and_oversized_arrays_are_dropped(b, hexpkt):
    assert b.send(bytes.fromhex(hexpkt)) == []
    assert b.n.stats()["drop_decode"] == 1


def test_lenient_like_the_reference(b):
    # non-minimal varints, unknown flag bits and trailing bytes are accepted
    assert len(b.send(bytes.fromhex("030414527f000001214efd0000"))) == 1
    assert len(b.send(bytes.fromhex("03e414527f000001214e00deadbeef"))) == 1
    assert len(b.send(bytes.fromhex("03fd040014527f000001214e00"))) == 1


def test_spoofed_tid_and_spoofed_id(b):
    rid = b.n.ping(b.now, ("127.0.0.1", 20002))
    (_, to, req), = b.n.poll_transmits()
    tid = req[2:4]
    other = bytes([req[2] ^ 1, req[3]])
    res = b"\x13\x01" + other + bytes.fromhex("7f000001214e") + fn.node_id(to)
    assert b.send(res, frm=to) == []
    assert b.n.stats()["drop_unmatched_response"] == 1
    assert not [e for e in b.n.poll_events() if e.id == rid]
    # right tid, but an id that is not hash(source): answered as id-less
    res = b"\x13\x01" + tid + bytes.fromhex("7f000001214e") + b"\x55" * 32
    b.send(res, frm=to)
    ev, = [e for e in b.n.poll_events() if e.type == fn.EVENT_DHT_RESPONSE]
    assert ev.id == rid and ev.code == 0 and not ev.flags & fn.F_ID
    assert b.n.stats()["drop_invalid_id"] == 1
    # a late duplicate is unmatched
    b.send(res, frm=to)
    assert b.n.stats()["drop_unmatched_response"] == 2


def test_udx_and_garbage_first_bytes(b):
    assert fn.classify(b"\xff\x01" + bytes(18)) == 2
    assert fn.classify(b"\x03\x00") == 1 and fn.classify(b"\x13\x00") == 1
    assert fn.classify(b"\x04\x00") == 0 and fn.classify(b"\x03") == 0
    assert b.send(b"\xff\x01" + bytes(18)) == []
    assert b.send(b"\xff\x01" + bytes(10)) == []
    assert b.send(b"\x00\x00") == []
    st = b.n.stats()
    assert st["drop_udx"] == 1 and st["drop_unknown_type"] == 2


def test_source_port_zero_is_dropped(b):
    assert b.send(PING_E, frm=("127.0.0.1", 0)) == []
    assert b.n.stats()["drop_port0"] == 1


def test_api_misuse_raises_exact_codes(b):
    with pytest.raises(FlockError) as e:
        b.n.handle_datagram(b.now - 1, 0, E_CLIENT, PING_E)
    assert e.value.name == "FL_ERR_INVALID"
    with pytest.raises(FlockError) as e:
        b.n.handle_timeout(b.now - 1)
    assert e.value.name == "FL_ERR_INVALID"
    with pytest.raises(FlockError) as e:
        b.n.handle_datagram(b.now, 5, E_CLIENT, PING_E)
    assert e.value.name == "FL_ERR_INVALID"
    with pytest.raises(FlockError) as e:
        b.n.reply(b.now, 424242, b"x")
    assert e.value.name == "FL_ERR_NOT_FOUND"
    with pytest.raises(FlockError) as e:
        b.n.ping(b.now, ("127.0.0.1", 0))
    assert e.value.name == "FL_ERR_INVALID"
    with pytest.raises(FlockError) as e:
        fn.Node(now_us=0, mode=7)
    assert e.value.name == "FL_ERR_INVALID"
    assert b.n.stats()["api_misuse"] >= 3


def test_user_request_reply_error_and_relay():
    b = One(user_requests=True)
    b.add_capture_nodes()
    req = bytes.fromhex("03181b527f000001244e4d") + b"\xab" * 32 + bytes.fromhex("026869")
    assert b.send(req) == []
    ev, = [e for e in b.n.poll_events() if e.type == fn.EVENT_DHT_USER_REQUEST]
    assert ev.code == 77 and ev.data == b"hi" and ev.key == b"\xab" * 32
    assert ev.flags & fn.F_TARGET and ev.flags & fn.F_VALUE and ev.addr == E_CLIENT
    b.n.reply(b.now, ev.id, b"ok")
    (_, to, res), = b.n.poll_transmits()
    assert to == E_CLIENT and res[1] == 0x17 and res.endswith(b"\x02ok")
    assert len(res) == 10 + 32 + 32 + 1 + 24 + 3
    with pytest.raises(FlockError):
        b.n.reply(b.now, ev.id, b"again")
    # error with a token, no closer nodes
    b.send(req)
    ev, = [e for e in b.n.poll_events() if e.type == fn.EVENT_DHT_USER_REQUEST]
    b.n.reply_error(b.now, ev.id, 16, fn.REPLY_TOKEN | fn.REPLY_NO_CLOSER)
    (_, _, res), = b.n.poll_transmits()
    assert res[1] == 0x0B and len(res) == 75 and res[74] == 16
    # relay: a request with the same tid, command and target, new value
    b.send(req)
    ev, = [e for e in b.n.poll_events() if e.type == fn.EVENT_DHT_USER_REQUEST]
    b.n.relay(b.now, ev.id, b"fwd", ("127.0.0.1", 20003))
    (sock, to, out), = b.n.poll_transmits()
    assert to == ("127.0.0.1", 20003) and sock == 0
    assert out == (bytes.fromhex("03191b527f000001234e") + B_ID + b"\x4d" + b"\xab" * 32 +
                   b"\x03fwd")
    b.n.close()


def test_garbage_flood_leaves_it_answering_with_bounded_queues(b, test_seed):
    rng = random.Random(test_seed)
    base = b.n.stats()
    for i in range(20000):
        n = rng.randrange(0, 80)
        pkt = bytes([rng.choice((0x03, 0x13, 0xFF, rng.randrange(256)))]) + rng.randbytes(n)
        b.now += 10
        b.n.handle_datagram(b.now, i & 1, ("127.0.0.1", 1 + rng.randrange(65535)), pkt)
        if i % 256 == 0:
            b.n.poll_transmits()
            b.n.poll_events()
            b.n.handle_timeout(b.now)
    b.n.poll_transmits()
    assert len(b.send(PING_E)) == 1
    assert b.n.check() == 0
    st = b.n.stats()
    assert st["rx_datagrams"] - base["rx_datagrams"] == 20001
    assert st["tx_queue_hw"] <= 1024 and st["event_queue_hw"] <= 1024
    assert st["table_size"] <= 1024 and st["delayed_hw"] <= 256


def test_shutdown_ends_everything(b):
    rid = b.n.ping(b.now, ("127.0.0.1", 20002))
    b.n.poll_transmits()
    b.n.shutdown(b.now)
    evs = b.n.poll_events()
    assert [e.id for e in evs if e.type == fn.EVENT_DHT_REQUEST_FAILED and e.code == -10] == [rid]
    assert sorted(e.sock for e in evs if e.type == fn.EVENT_SOCKET_CLOSE) == [0, 1]
    assert b.n.next_deadline() == fn.TIME_NONE
    assert b.send(PING_E) == []
    with pytest.raises(FlockError) as e:
        b.n.ping(b.now, ("127.0.0.1", 20002))
    assert e.value.name == "FL_ERR_CLOSED"


def test_early_and_repeated_timeouts_change_nothing(b):
    b.n.handle_timeout(b.now)
    before = b.n.stats()
    for _ in range(3):
        b.n.handle_timeout(b.now)
    assert b.n.poll_transmits() == [] and b.n.stats() == before
    dl = b.n.next_deadline()
    assert dl > b.now
    b.n.handle_timeout(dl - 1)
    assert b.n.stats() == before
