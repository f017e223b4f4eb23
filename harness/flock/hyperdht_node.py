"""fl_hyperdht over an fl_node (flock/hyperdht.h, "The records on a node"),
and a small real-UDP driver on 127.0.0.1 for interop tests against the
reference. The driver runs the same loop io_posix does: one input, drain
transmits, offer every node event to fl_hyperdht first, drain its events,
re-arm from the earliest deadline. Every wait has a deadline."""
import ctypes
import select
import socket
import time
from ctypes import POINTER, byref, c_bool, c_int, c_size_t, c_uint64, c_void_p

from ._lib import FlockError, bind, check
from . import hyperdht as h
from . import node as fn

EVENT_PEER, EVENT_FOUND, EVENT_MUTABLE, EVENT_IMMUTABLE = 200, 201, 202, 203
EVENT_COMMIT, EVENT_ANNOUNCED, EVENT_DONE = 204, 205, 206
NAMES = {200: "PEER", 201: "FOUND", 202: "MUTABLE", 203: "IMMUTABLE", 204: "COMMIT",
         205: "ANNOUNCED", 206: "DONE"}


class Stats(ctypes.Structure):
    _fields_ = [("store", h.StoreStats)] + [(n, c_uint64) for n in (
        "ops_active", "ops_hw", "ops_refused", "events_dropped", "replies_bad",
        "served_not_mine")]


_P = c_void_p
_cp = ctypes.c_char_p
assert bind("fl_hyperdht_stats_struct_size", c_size_t)() == ctypes.sizeof(Stats)
_new = bind("fl_hyperdht_new", c_int, POINTER(_P), _P, _P, POINTER(h.StoreConfig), _cp, c_uint64)
_free = bind("fl_hyperdht_free", None, _P)
_set_clock = bind("fl_hyperdht_set_clock", None, _P, c_uint64, c_uint64)
_on_event = bind("fl_hyperdht_on_event", c_int, _P, c_uint64, POINTER(fn.RawEvent))
_poll = bind("fl_hyperdht_poll_event", c_int, _P, POINTER(fn.RawEvent))
_deadline = bind("fl_hyperdht_next_deadline", c_uint64, _P)
_timeout = bind("fl_hyperdht_handle_timeout", c_int, _P, c_uint64)
_stats = bind("fl_hyperdht_get_stats", None, _P, POINTER(Stats))
_cancel = bind("fl_hyperdht_cancel", c_int, _P, c_uint64, c_uint64)
_u64p = POINTER(c_uint64)
_announce = bind("fl_hyperdht_start_announce", c_int, _P, c_uint64, _cp, _cp,
                 POINTER(h.Addr), c_size_t, c_uint64, _u64p)
_unannounce = bind("fl_hyperdht_start_unannounce", c_int, _P, c_uint64, _cp, _cp, _u64p)
_lookup = bind("fl_hyperdht_start_lookup", c_int, _P, c_uint64, _cp, _u64p)
_find_peer = bind("fl_hyperdht_start_find_peer", c_int, _P, c_uint64, _cp, _u64p)
_mput = bind("fl_hyperdht_start_mutable_put", c_int, _P, c_uint64, _cp, c_uint64, _cp, c_size_t,
             _u64p)
_mget = bind("fl_hyperdht_start_mutable_get", c_int, _P, c_uint64, _cp, c_uint64, c_bool, _u64p)
_iput = bind("fl_hyperdht_start_immutable_put", c_int, _P, c_uint64, _cp, c_size_t, _u64p)
_iget = bind("fl_hyperdht_start_immutable_get", c_int, _P, c_uint64, _cp, _u64p)


class Hyper:
    """fl_hyperdht over a flock.node.Node. .events holds its result events
    (flock.node.Event copies); node events it does not consume go to
    node.events as usual."""

    def __init__(self, node, now_us, seed=b"\x07" * 32, unix_ms=None, **limits):
        self.node = node
        cfg = h.default_store_config()
        for k, v in limits.items():
            setattr(cfg, k, v)
        self._p = _P()
        check(_new(byref(self._p), node._p, None, byref(cfg), bytes(seed), now_us),
              "fl_hyperdht_new")
        _set_clock(self._p, now_us, unix_ms if unix_ms is not None else int(time.time() * 1000))
        self.events = []

    def close(self):
        if self._p:
            _free(self._p)
            self._p = _P()

    def process(self, now_us, own=True):
        """Drain the node's events through fl_hyperdht, then (own=True) its own."""
        raw = fn.RawEvent()
        while check(fn._poll_event(self.node._p, byref(raw))) == 1:
            if check(_on_event(self._p, now_us, byref(raw)), "fl_hyperdht_on_event") == 0:
                ev = fn.Event(raw)
                if ev.type == fn.EVENT_SOCKET_OPEN:
                    self.node.open_requests.append(ev)
                self.node.events.append(ev)
        while own and check(_poll(self._p, byref(raw))) == 1:
            ev = fn.Event(raw)
            ev.name = NAMES.get(ev.type, ev.name)
            self.events.append(ev)

    def poll_own(self):
        raw = fn.RawEvent()
        while check(_poll(self._p, byref(raw))) == 1:
            ev = fn.Event(raw)
            ev.name = NAMES.get(ev.type, ev.name)
            self.events.append(ev)

    def next_deadline(self):
        return min(self.node.next_deadline(), _deadline(self._p))

    def handle_timeout(self, now_us):
        if self.node.next_deadline() <= now_us:
            self.node.handle_timeout(now_us)
        check(_timeout(self._p, now_us), "fl_hyperdht_handle_timeout")

    def stats(self):
        s = Stats()
        _stats(self._p, byref(s))
        d = {n: getattr(s, n) for n, _ in Stats._fields_[1:]}
        d["store"] = s.store.as_dict()
        return d

    def _op(self, fn_, *args):
        op = c_uint64()
        check(fn_(self._p, *args, byref(op)), fn_.__name__)
        return op.value

    def announce(self, now_us, topic, secret_key, relays=(), refresh_us=0):
        arr = (h.Addr * max(1, len(relays)))()
        for i, r in enumerate(relays):
            arr[i] = h._addr_from_js({"host": r[0], "port": r[1]})
        return self._op(_announce, now_us, bytes(topic), bytes(secret_key), arr, len(relays),
                        refresh_us)

    def unannounce(self, now_us, topic, secret_key):
        return self._op(_unannounce, now_us, bytes(topic), bytes(secret_key))

    def lookup(self, now_us, topic):
        return self._op(_lookup, now_us, bytes(topic))

    def find_peer(self, now_us, public_key):
        return self._op(_find_peer, now_us, bytes(public_key))

    def mutable_put(self, now_us, secret_key, seq, value):
        return self._op(_mput, now_us, bytes(secret_key), seq, bytes(value), len(value))

    def mutable_get(self, now_us, public_key, min_seq=0, latest=True):
        return self._op(_mget, now_us, bytes(public_key), min_seq, latest)

    def immutable_put(self, now_us, value):
        return self._op(_iput, now_us, bytes(value), len(value))

    def immutable_get(self, now_us, hash_):
        return self._op(_iget, now_us, bytes(hash_))

    def cancel(self, now_us, op):
        return check(_cancel(self._p, now_us, op), "fl_hyperdht_cancel")

    def results(self, op):
        return [e for e in self.events if e.id == op]

    def done(self, op):
        for e in self.events:
            if e.id == op and e.type == EVENT_DONE:
                return e
        return None


def now_us():
    return time.monotonic_ns() // 1000


class UdpHyperNode:
    """An fl_node + fl_hyperdht on real UDP sockets bound to 127.0.0.1."""

    def __init__(self, bootstrap=(), seed=b"\x05" * 32, mode="persistent", **kw):
        t = now_us()
        self.node = fn.Node(now_us=t, host="127.0.0.1", bootstrap=list(bootstrap), seed=seed,
                            mode=mode, user_requests=True, **kw)
        self.hyper = Hyper(self.node, t, seed=seed)
        self.socks = {}
        self._step(t)

    def close(self):
        self.hyper.close()
        self.node.close()
        for s in self.socks.values():
            s.close()
        self.socks = {}

    def port(self, sock=0):
        return self.socks[sock].getsockname()[1]

    def _open(self, t):
        while self.node.open_requests:
            ev = self.node.open_requests.pop(0)
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            host, port = ev.addr
            if host != "127.0.0.1":
                raise AssertionError(f"node asked to bind {host}: loopback only")
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                s.close()
                self.node.socket_failed(t, ev.sock)
                continue
            s.setblocking(False)
            self.socks[ev.sock] = s
            self.node.socket_opened(t, ev.sock, s.getsockname())

    def _step(self, t):
        for _ in range(1000):
            self.hyper.process(t)
            self._open(t)
            sent = False
            for sock, to, data in self.node.poll_transmits():
                if to[0] != "127.0.0.1":
                    raise AssertionError(f"non-loopback send to {to}")
                if sock in self.socks:
                    try:
                        self.socks[sock].sendto(data, to)
                    except OSError:
                        pass
                sent = True
            if not sent and not self.node.open_requests:
                self.hyper.process(t)
                return
        raise AssertionError("drain did not settle")

    def run_until(self, pred, timeout_s, what):
        """Drive the node until pred() is true; raise naming `what` at the deadline."""
        deadline = time.monotonic() + timeout_s
        while not pred():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"C node: no {what} within {timeout_s}s")
            self.poll(min(left, 0.05))

    def poll(self, max_wait_s):
        t = now_us()
        nd = self.hyper.next_deadline()
        wait = max(0.0, min(max_wait_s, (nd - t) / 1e6)) if nd != 2**64 - 1 else max_wait_s
        socks = list(self.socks.items())
        r, _, _ = select.select([s for _, s in socks], [], [], wait)
        t = now_us()
        for sock, s in socks:
            if s in r:
                for _ in range(64):
                    try:
                        data, frm = s.recvfrom(4096)
                    except BlockingIOError:
                        break
                    try:
                        self.node.handle_datagram(t, sock, frm, data)
                    except FlockError:
                        pass  # a malformed datagram: the node counted and dropped it
                    self._step(t)
        if self.hyper.next_deadline() <= t:
            self.hyper.handle_timeout(t)
        self._step(t)
