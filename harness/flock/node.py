"""ctypes bindings for fl_node (core/include/flock/node.h): one dht-rpc node,
driven sans-IO from Python.

    from flock.node import Node
    n = Node(seed=b"\\x01" * 32, now_us=0, mode="persistent", firewalled=False,
             host="127.0.0.1", bootstrap=[("127.0.0.1", 49737)])
    n.open_sockets(now_us, server_port=20001, client_port=30001)  # answer SOCKET_OPEN
    n.handle_datagram(now_us, 0, ("127.0.0.1", 40000), b"\\x03...")
    for sock, to, data in n.poll_transmits(): ...
    for ev in n.poll_events(): ...   # Event objects (bytes copied)
    n.handle_timeout(n.next_deadline())

Every call raises FlockError on a negative return; stats() gives a dict.
"""
import ctypes
import struct
from ctypes import (POINTER, Structure, byref, c_bool, c_int, c_int32, c_size_t, c_uint8,
                    c_uint16, c_uint32, c_uint64, c_void_p)

from ._lib import bind, check, lib

ADDR_IPV4 = 4
SOCK_SERVER, SOCK_CLIENT = 0, 1
DGRAM_BYTES_MAX = 2048
TIME_NONE = (1 << 64) - 1
BOOTSTRAP_MAX = 16

MODE = {"adaptive": 0, "persistent": 1, "ephemeral": 2}

# Event types (node.h).
EVENT_SOCKET_OPEN, EVENT_SOCKET_CLOSE, EVENT_LOG = 1, 2, 3
EVENT_DHT_READY = 100
EVENT_DHT_PERSISTENT = 101
EVENT_DHT_EPHEMERAL = 102
EVENT_DHT_NAT_UPDATE = 103
EVENT_DHT_RESPONSE = 104
EVENT_DHT_REQUEST_FAILED = 105
EVENT_DHT_QUERY_REPLY = 106
EVENT_DHT_QUERY_NODE = 107
EVENT_DHT_QUERY_DONE = 108
EVENT_DHT_USER_REQUEST = 109
EVENT_DHT_WAKEUP = 110
EVENT_DHT_ADD_NODE = 111
EVENT_DHT_REMOVE_NODE = 112
EVENT_DHT_NETWORK_UPDATE = 113
EVENT_NAMES = {v: k for k, v in globals().items() if k.startswith("EVENT_")}

F_ID, F_TOKEN, F_TARGET, F_VALUE, F_INTERNAL = 0x01, 0x02, 0x04, 0x08, 0x10
S_BOUND, S_BOOTSTRAPPED, S_PERSISTENT, S_FIREWALLED = 0x01, 0x02, 0x04, 0x08
REPLY_NO_TOKEN, REPLY_NO_CLOSER, REPLY_TOKEN = 0x01, 0x02, 0x04

CMD_PING, CMD_PING_NAT, CMD_FIND_NODE, CMD_DOWN_HINT, CMD_DELAYED_PING = range(5)


class Addr(Structure):
    _fields_ = [("family", c_uint8), ("ip", c_uint8 * 16), ("port", c_uint16)]

    @classmethod
    def of(cls, hostport):
        host, port = hostport
        a = cls()
        a.family = ADDR_IPV4
        for i, octet in enumerate(int(x) for x in host.split(".")):
            a.ip[i] = octet
        a.port = port
        return a

    def tuple(self):
        if self.family == 0:
            return None
        return (".".join(str(self.ip[i]) for i in range(4)), self.port)


class Dgram(Structure):
    _fields_ = [("sock", c_uint32), ("to", Addr), ("len", c_size_t)]


class RawEvent(Structure):
    _fields_ = [("type", c_uint32), ("sock", c_uint32), ("code", c_int32), ("id", c_uint64),
                ("addr", Addr), ("key", c_uint8 * 32), ("data", POINTER(c_uint8)),
                ("len", c_size_t), ("flags", c_uint32), ("arg", c_uint64), ("addr2", Addr),
                ("token", c_uint8 * 32)]


class Config(Structure):
    _fields_ = [("seed", c_uint8 * 32), ("host", Addr), ("port", c_uint16),
                ("port_tries", c_uint16), ("any_port", c_bool), ("mode", c_int),
                ("firewalled", c_bool), ("quick_firewall", c_bool),
                ("send_down_hints", c_bool), ("down_hints_per_tick", c_int32),
                ("table_events", c_bool), ("user_requests", c_bool),
                ("public_addr", Addr), ("bootstrap", Addr * BOOTSTRAP_MAX),
                ("bootstrap_len", c_uint32), ("concurrency", c_uint32),
                ("max_window", c_uint32), ("max_ping_delay_ms", c_uint32),
                ("query_retries", c_uint32), ("table_max", c_uint32),
                ("inflight_max", c_uint32), ("queries_max", c_uint32),
                ("query_seen_max", c_uint32), ("delayed_max", c_uint32),
                ("user_requests_max", c_uint32), ("tx_max", c_uint32),
                ("tx_bytes_max", c_uint32), ("events_max", c_uint32),
                ("event_bytes_max", c_uint32), ("mem", c_void_p)]


STATS_FIELDS = """rx_datagrams rx_requests rx_responses tx_datagrams tx_requests tx_replies
drop_short drop_port0 drop_decode drop_unknown_type drop_udx
drop_unmatched_response drop_bad_token drop_malformed_value drop_no_target
drop_delay_too_long drop_invalid_id tx_queue_dropped event_queue_dropped
requests_total requests_active requests_active_hw responses timeouts retries
inflight_dropped congestion_queued congestion_hw
queries_total queries_active queries_active_hw queries_dropped query_seen_dropped
table_size table_hw table_dropped table_added table_removed
delayed_active delayed_hw delayed_dropped user_active user_hw user_dropped
cmd_tx*5 cmd_rx*5 down_hints_sent down_hints_limited down_hints_rx
unknown_command netchecks netcheck_busy ticks wakeups cmd_in*5 drop_closed
tx_queue_len tx_queue_hw event_queue_len event_queue_hw api_misuse""".split()


class Stats(Structure):
    _fields_ = [(f.split("*")[0], c_uint64 * int(f.split("*")[1])) if "*" in f else (f, c_uint64)
                for f in STATS_FIELDS]


P = c_void_p
U8P = POINTER(c_uint8)
_config_default = bind("fl_node_config_default", None, POINTER(Config))
_config_bootstrapper = bind("fl_node_config_bootstrapper", c_int, POINTER(Config), POINTER(Addr),
                            c_uint16)
_config_size = bind("fl_node_config_size", c_size_t)
_stats_size = bind("fl_node_stats_size", c_size_t)
_new = bind("fl_node_new", c_int, POINTER(Config), c_uint64, POINTER(P))
_free = bind("fl_node_free", None, P)
_handle_datagram = bind("fl_node_handle_datagram", c_int, P, c_uint64, c_uint32, POINTER(Addr),
                        ctypes.c_char_p, c_size_t)
_poll_transmit = bind("fl_node_poll_transmit", c_int, P, POINTER(Dgram), ctypes.c_char_p,
                      c_size_t)
_next_deadline = bind("fl_node_next_deadline", c_uint64, P)
_handle_timeout = bind("fl_node_handle_timeout", c_int, P, c_uint64)
_poll_event = bind("fl_node_poll_event", c_int, P, POINTER(RawEvent))
_socket_opened = bind("fl_node_socket_opened", c_int, P, c_uint64, c_uint32, POINTER(Addr))
_socket_failed = bind("fl_node_socket_failed", c_int, P, c_uint64, c_uint32, c_int)
_id = bind("fl_node_id", c_int, P, ctypes.c_char_p)
_state = bind("fl_node_state", c_uint32, P)
_local_addr = bind("fl_node_local_addr", c_int, P, c_uint32, POINTER(Addr))
_public_addr = bind("fl_node_public_addr", c_int, P, POINTER(Addr))
_table = bind("fl_node_table", c_size_t, P, POINTER(Addr), ctypes.c_char_p, c_size_t)
_stats_get = bind("fl_node_stats_get", c_int, P, POINTER(Stats), c_size_t)
_find_node = bind("fl_node_find_node", c_int, P, c_uint64, ctypes.c_char_p, POINTER(c_uint64))
_query = bind("fl_node_query", c_int, P, c_uint64, ctypes.c_char_p, c_uint64, ctypes.c_char_p,
              c_size_t, c_bool, POINTER(c_uint64))
_query_cancel = bind("fl_node_query_cancel", c_int, P, c_uint64, c_uint64)
_ping = bind("fl_node_ping", c_int, P, c_uint64, POINTER(Addr), POINTER(c_uint64))
_request = bind("fl_node_request", c_int, P, c_uint64, POINTER(Addr), c_bool, c_uint64,
                ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, c_size_t, c_int,
                POINTER(c_uint64))
_reply = bind("fl_node_reply", c_int, P, c_uint64, c_uint64, ctypes.c_char_p, c_size_t, c_uint32)
_reply_to = bind("fl_node_reply_to", c_int, P, c_uint64, c_uint64, ctypes.c_char_p, c_size_t,
                  c_uint32, POINTER(Addr))
_reply_error = bind("fl_node_reply_error", c_int, P, c_uint64, c_uint64, c_uint64, c_uint32)
_relay = bind("fl_node_relay", c_int, P, c_uint64, c_uint64, ctypes.c_char_p, c_size_t,
              POINTER(Addr))
_add_node = bind("fl_node_add_node", c_int, P, c_uint64, POINTER(Addr))
_refresh = bind("fl_node_refresh", c_int, P, c_uint64)
_classify = bind("fl_node_classify", c_int, ctypes.c_char_p, c_size_t)
_check = bind("fl_node_check", c_int, P)
_close = bind("fl_node_close", c_int, P, c_uint64)

assert _config_size() == ctypes.sizeof(Config), "Config layout differs from fl_node_config"
assert _stats_size() == ctypes.sizeof(Stats), "Stats layout differs from fl_node_stats"


class Event:
    """A copy of one fl_event: bytes are copied out, so they outlive the call."""

    def __init__(self, raw):
        self.type = raw.type
        self.name = EVENT_NAMES.get(raw.type, str(raw.type))
        self.sock = raw.sock
        self.code = raw.code
        self.id = raw.id
        self.addr = raw.addr.tuple()
        self.addr2 = raw.addr2.tuple()
        self.key = bytes(raw.key)
        self.flags = raw.flags
        self.arg = raw.arg
        self.token = bytes(raw.token) if raw.flags & F_TOKEN else None
        self.data = ctypes.string_at(raw.data, raw.len) if raw.len else b""

    def __repr__(self):
        return f"<Event {self.name} id={self.id} code={self.code} addr={self.addr} arg={self.arg}>"


def config(**kw):
    """An fl_node_config from the reference's defaults plus keyword overrides:
    seed (32 bytes), host, port, mode ('adaptive'|'persistent'|'ephemeral'),
    bootstrap [(host, port)], bootstrapper (host, port), and any field name."""
    c = Config()
    _config_default(byref(c))
    if "bootstrapper" in kw:
        host, port = kw.pop("bootstrapper")
        check(_config_bootstrapper(byref(c), byref(Addr.of((host, 0))), port), "bootstrapper")
    for k, v in kw.items():
        if k == "seed":
            ctypes.memmove(c.seed, bytes(v), 32)
        elif k == "host":
            c.host = Addr.of((v, 0))
        elif k == "mode":
            c.mode = MODE[v] if isinstance(v, str) else v
        elif k == "bootstrap":
            for i, hp in enumerate(v):
                c.bootstrap[i] = Addr.of(hp)
            c.bootstrap_len = len(v)
        elif k == "public_addr":
            c.public_addr = Addr.of(v)
        else:
            setattr(c, k, v)
    return c


class Node:
    """One fl_node. Keeps the events it polled in .events (a list)."""

    def __init__(self, now_us=0, **kw):
        self._cfg = config(**kw)
        self._p = P()
        check(_new(byref(self._cfg), now_us, byref(self._p)), "fl_node_new")
        self._buf = ctypes.create_string_buffer(DGRAM_BYTES_MAX)
        self.events = []
        self.open_requests = []

    def close(self):
        if self._p:
            _free(self._p)
            self._p = P()

    def __del__(self):
        self.close()

    # ---- the five calls
    def handle_datagram(self, now_us, sock, frm, data):
        return check(_handle_datagram(self._p, now_us, sock, byref(Addr.of(frm)), data,
                                      len(data)), "handle_datagram")

    def poll_transmits(self):
        out = []
        g = Dgram()
        while check(_poll_transmit(self._p, byref(g), self._buf, DGRAM_BYTES_MAX)) == 1:
            out.append((g.sock, g.to.tuple(), self._buf.raw[:g.len]))
        return out

    def next_deadline(self):
        return _next_deadline(self._p)

    def handle_timeout(self, now_us):
        return check(_handle_timeout(self._p, now_us), "handle_timeout")

    def poll_events(self):
        out = []
        raw = RawEvent()
        while check(_poll_event(self._p, byref(raw))) == 1:
            ev = Event(raw)
            if ev.type == EVENT_SOCKET_OPEN:
                self.open_requests.append(ev)
            out.append(ev)
        self.events.extend(out)
        return out

    # ---- sockets
    def socket_opened(self, now_us, sock, hostport):
        return check(_socket_opened(self._p, now_us, sock, byref(Addr.of(hostport))),
                     "socket_opened")

    def socket_failed(self, now_us, sock, err=-1):
        return check(_socket_failed(self._p, now_us, sock, err), "socket_failed")

    def open_sockets(self, now_us, server_port, client_port, host="127.0.0.1"):
        """Answer the node's two SOCKET_OPEN requests as if bound to these ports."""
        self.poll_events()
        ports = {SOCK_SERVER: server_port, SOCK_CLIENT: client_port}
        for ev in self.open_requests:
            self.socket_opened(now_us, ev.sock, (host, ports[ev.sock]))
        self.open_requests = []

    # ---- state
    def id(self):
        buf = ctypes.create_string_buffer(32)
        persistent = check(_id(self._p, buf))
        return buf.raw, bool(persistent)

    def state(self):
        return _state(self._p)

    def local_addr(self, sock):
        a = Addr()
        check(_local_addr(self._p, sock, byref(a)), "local_addr")
        return a.tuple()

    def public_addr(self):
        a = Addr()
        return a.tuple() if check(_public_addr(self._p, byref(a))) == 1 else None

    def table(self, cap=1024):
        addrs = (Addr * cap)()
        ids = ctypes.create_string_buffer(32 * cap)
        n = _table(self._p, addrs, ids, cap)
        return [(addrs[i].tuple(), ids.raw[32 * i:32 * i + 32]) for i in range(n)]

    def shutdown(self, now_us):
        """fl_node_close: end queries and requests, ask the driver to close
        the sockets (SOCKET_CLOSE events); the object stays usable for polls."""
        return check(_close(self._p, now_us), "fl_node_close")

    def check(self):
        """0 if every invariant holds, else the number of the broken rule."""
        return check(_check(self._p), "check")

    def stats(self):
        s = Stats()
        check(_stats_get(self._p, byref(s), ctypes.sizeof(s)), "stats")
        out = {}
        for name, typ in Stats._fields_:
            v = getattr(s, name)
            out[name] = list(v) if hasattr(v, "__len__") else v
        return out

    # ---- DHT calls
    def find_node(self, now_us, target):
        q = c_uint64()
        check(_find_node(self._p, now_us, bytes(target), byref(q)), "find_node")
        return q.value

    def query(self, now_us, target, command, value=None, commit=False):
        q = c_uint64()
        check(_query(self._p, now_us, bytes(target), command, value,
                     len(value) if value else 0, commit, byref(q)), "query")
        return q.value

    def query_cancel(self, now_us, qid):
        return check(_query_cancel(self._p, now_us, qid), "query_cancel")

    def ping(self, now_us, to):
        r = c_uint64()
        check(_ping(self._p, now_us, byref(Addr.of(to)), byref(r)), "ping")
        return r.value

    def request(self, now_us, to, command, internal=False, target=None, token=None,
                value=None, retries=-1):
        r = c_uint64()
        check(_request(self._p, now_us, byref(Addr.of(to)), internal, command, target, token,
                       value, len(value) if value else 0, retries, byref(r)), "request")
        return r.value

    def reply(self, now_us, handle, value=None, flags=0, to=None):
        if to is not None:
            return check(_reply_to(self._p, now_us, handle, value, len(value) if value else 0,
                                   flags, byref(Addr.of(to))), "reply_to")
        return check(_reply(self._p, now_us, handle, value, len(value) if value else 0, flags),
                     "reply")

    def reply_error(self, now_us, handle, code, flags=0):
        return check(_reply_error(self._p, now_us, handle, code, flags), "reply_error")

    def relay(self, now_us, handle, value, to):
        return check(_relay(self._p, now_us, handle, value, len(value) if value else 0,
                            byref(Addr.of(to))), "relay")

    def add_node(self, now_us, addr):
        return check(_add_node(self._p, now_us, byref(Addr.of(addr))), "add_node")

    def refresh(self, now_us):
        return check(_refresh(self._p, now_us), "refresh")


def classify(data):
    return _classify(data, len(data))


def node_id(hostport):
    """BLAKE2b-256 of the 6-byte ipv4Address, as dht-rpc's peer.id()."""
    import hashlib
    host, port = hostport
    raw = bytes(int(x) for x in host.split(".")) + struct.pack("<H", port)
    return hashlib.blake2b(raw, digest_size=32).digest()
