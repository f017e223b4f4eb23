"""UDX through ctypes: the fl_udx sans-IO instance, and UdxPeer, a small
real-socket driver around it (one UDP socket on 127.0.0.1, a select loop)
for interop tests with udx-native.

    from flock.udx import Udx, UdxPeer
    p = UdxPeer()                       # bound to 127.0.0.1:<free port>
    p.open(1); p.connect(1, remote_id=2, port=js_port)
    p.write(1, b"hi"); p.end(1)
    p.pump_until(lambda: p.streams[1].closed, 10, "stream 1 to close")
"""
import ctypes
import re
import select
import socket
import time
from pathlib import Path

from ._lib import REPO, FlockError, bind, check

c_u8p = ctypes.POINTER(ctypes.c_uint8)

FLAG_DATA, FLAG_END, FLAG_SACK, FLAG_MESSAGE, FLAG_DESTROY, FLAG_HEARTBEAT = (
    0x01, 0x02, 0x04, 0x08, 0x10, 0x20)
EVENT_READABLE, EVENT_END, EVENT_DRAIN, EVENT_CLOSE, EVENT_MESSAGE, EVENT_CONNECT = (
    301, 302, 303, 304, 305, 306)
EVENT_REMOTE_CHANGED, EVENT_ACKED = 307, 308
DGRAM_BYTES_MAX = 1472
TIME_NONE = 2**64 - 1


class Addr(ctypes.Structure):
    _fields_ = [("family", ctypes.c_uint8), ("ip", ctypes.c_uint8 * 16),
                ("port", ctypes.c_uint16)]

    @classmethod
    def v4(cls, host, port):
        a = cls()
        a.family = 4
        for i, b in enumerate(socket.inet_aton(host)):
            a.ip[i] = b
        a.port = port
        return a

    def host(self):
        return socket.inet_ntoa(bytes(self.ip[:4]))


class Dgram(ctypes.Structure):
    _fields_ = [("sock", ctypes.c_uint32), ("to", Addr), ("len", ctypes.c_size_t)]


class Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_uint32), ("sock", ctypes.c_uint32), ("code", ctypes.c_int32),
                ("id", ctypes.c_uint32), ("addr", Addr), ("data", c_u8p),
                ("len", ctypes.c_size_t)]


def _stats_fields():
    """The fl_udx_stats field names, read from the header so they cannot drift."""
    text = (REPO / "core" / "include" / "flock" / "udx.h").read_text()
    body = re.search(r"typedef struct fl_udx_stats \{(.*?)\} fl_udx_stats;", text, re.S).group(1)
    names = []
    for line in body.splitlines():
        line = line.split("/*")[0].strip()
        if line.startswith("uint64_t"):
            names += [n.strip() for n in line[len("uint64_t"):].rstrip(";").split(",")]
    return names


class Stats(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint64) for n in _stats_fields()]

    def as_dict(self):
        return {n: getattr(self, n) for n, _ in self._fields_}


_vp = ctypes.c_void_p
_new = bind("fl_udx_new", _vp, _vp, _vp)
_free = bind("fl_udx_free", None, _vp)
_handle = bind("fl_udx_handle_datagram", ctypes.c_int, _vp, ctypes.c_uint64, ctypes.c_uint32,
               ctypes.POINTER(Addr), ctypes.c_char_p, ctypes.c_size_t)
_poll_tx = bind("fl_udx_poll_transmit", ctypes.c_int, _vp, ctypes.POINTER(Dgram), c_u8p,
                ctypes.c_size_t)
_deadline = bind("fl_udx_next_deadline", ctypes.c_uint64, _vp)
_timeout = bind("fl_udx_handle_timeout", ctypes.c_int, _vp, ctypes.c_uint64)
_poll_ev = bind("fl_udx_poll_event", ctypes.c_int, _vp, ctypes.POINTER(Event))
_stats = bind("fl_udx_get_stats", None, _vp, ctypes.POINTER(Stats))
_open = bind("fl_udx_stream_open", ctypes.c_int, _vp, ctypes.c_uint64, ctypes.c_uint32)
_connect = bind("fl_udx_stream_connect", ctypes.c_int, _vp, ctypes.c_uint64, ctypes.c_uint32,
                ctypes.c_uint32, ctypes.c_uint32, ctypes.POINTER(Addr))
_write = bind("fl_udx_stream_write", ctypes.c_int, _vp, ctypes.c_uint64, ctypes.c_uint32,
              ctypes.c_char_p, ctypes.c_size_t)
_end = bind("fl_udx_stream_end", ctypes.c_int, _vp, ctypes.c_uint64, ctypes.c_uint32)
_destroy = bind("fl_udx_stream_destroy", ctypes.c_int, _vp, ctypes.c_uint64, ctypes.c_uint32)
_read = bind("fl_udx_stream_read", ctypes.c_int, _vp, ctypes.c_uint64, ctypes.c_uint32, c_u8p,
             ctypes.c_size_t)
_send_msg = bind("fl_udx_stream_send_message", ctypes.c_int, _vp, ctypes.c_uint64,
                 ctypes.c_uint32, ctypes.c_char_p, ctypes.c_size_t)
_relay_to = bind("fl_udx_stream_relay_to", ctypes.c_int, _vp, ctypes.c_uint32, ctypes.c_uint32)
_is_packet = bind("fl_udx_is_packet", ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t)


def now_us():
    return time.monotonic_ns() // 1000


class Udx:
    """One fl_udx instance (default config). Every call passes now_us()."""

    def __init__(self):
        self.h = _new(None, None)
        if not self.h:
            raise FlockError(-3, "fl_udx_new")

    def close(self):
        if self.h:
            _free(self.h)
            self.h = None

    def handle_datagram(self, data, host, port, sock=0):
        a = Addr.v4(host, port)
        return check(_handle(self.h, now_us(), sock, ctypes.byref(a), data, len(data)),
                     "fl_udx_handle_datagram")

    def poll_transmit(self):
        buf = (ctypes.c_uint8 * DGRAM_BYTES_MAX)()
        d = Dgram()
        if check(_poll_tx(self.h, ctypes.byref(d), buf, len(buf)), "poll_transmit") != 1:
            return None
        return bytes(buf[:d.len]), (d.to.host(), d.to.port)

    def next_deadline(self):
        return _deadline(self.h)

    def handle_timeout(self):
        return check(_timeout(self.h, now_us()), "fl_udx_handle_timeout")

    def poll_event(self):
        e = Event()
        if _poll_ev(self.h, ctypes.byref(e)) != 1:
            return None
        data = ctypes.string_at(e.data, e.len) if e.len else b""
        return e.type, e.id, e.code, data

    def stats(self):
        s = Stats()
        _stats(self.h, ctypes.byref(s))
        return s.as_dict()

    def open(self, sid):
        check(_open(self.h, now_us(), sid), "fl_udx_stream_open")

    def connect(self, sid, remote_id, host=None, port=None):
        a = Addr.v4(host, port) if host else None
        check(_connect(self.h, now_us(), sid, remote_id, 0, ctypes.byref(a) if a else None),
              "fl_udx_stream_connect")

    def write(self, sid, data):
        return check(_write(self.h, now_us(), sid, data, len(data)), "fl_udx_stream_write")

    def end(self, sid):
        check(_end(self.h, now_us(), sid), "fl_udx_stream_end")

    def destroy(self, sid):
        check(_destroy(self.h, now_us(), sid), "fl_udx_stream_destroy")

    def read(self, sid, cap=65536):
        buf = (ctypes.c_uint8 * cap)()
        n = check(_read(self.h, now_us(), sid, buf, cap), "fl_udx_stream_read")
        return bytes(buf[:n])

    def relay_to(self, sid, to_sid):
        check(_relay_to(self.h, sid, to_sid), "fl_udx_stream_relay_to")

    def send_message(self, sid, data):
        check(_send_msg(self.h, now_us(), sid, data, len(data)), "fl_udx_stream_send_message")


def is_packet(data):
    return bool(_is_packet(data, len(data)))


class StreamState:
    def __init__(self):
        self.received = bytearray()
        self.pending = b""          # bytes not yet taken by the stream
        self.ended = False          # remote END seen (EOF)
        self.closed = None          # close code once closed
        self.messages = []
        self.end_wanted = False
        self.end_sent = False


class UdxPeer:
    """A real UDP socket on 127.0.0.1 driving one Udx, for interop tests."""

    def __init__(self, port=0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind(("127.0.0.1", port))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.udx = Udx()
        self.streams = {}
        self.silent = False          # True: swallow everything (a vanished peer)

    def close(self):
        self.udx.close()
        self.sock.close()

    def open(self, sid):
        self.udx.open(sid)
        self.streams[sid] = StreamState()

    def connect(self, sid, remote_id, port=None):
        self.udx.connect(sid, remote_id, "127.0.0.1" if port else None, port)

    def write(self, sid, data):
        st = self.streams[sid]
        st.pending += data
        self._feed(sid)

    def end(self, sid):
        """End the stream once everything written so far was taken."""
        self.streams[sid].end_wanted = True
        self._feed(sid)

    def destroy(self, sid):
        self.udx.destroy(sid)

    def _feed(self, sid):
        st = self.streams[sid]
        if st.closed is not None:
            return
        if st.pending:
            n = self.udx.write(sid, st.pending)
            st.pending = st.pending[n:]
        if st.end_wanted and not st.pending and not st.end_sent:
            self.udx.end(sid)
            st.end_sent = True

    def _events(self):
        while True:
            ev = self.udx.poll_event()
            if ev is None:
                return
            kind, sid, code, data = ev
            st = self.streams.setdefault(sid, StreamState())
            if kind == EVENT_READABLE:
                while True:
                    chunk = self.udx.read(sid)
                    if not chunk:
                        break
                    st.received += chunk
            elif kind == EVENT_END:
                st.ended = True
            elif kind == EVENT_CLOSE:
                st.closed = code
            elif kind == EVENT_MESSAGE:
                st.messages.append(data)
            elif kind == EVENT_DRAIN:
                self._feed(sid)

    def _flush(self):
        while True:
            out = self.udx.poll_transmit()
            if out is None:
                return
            if not self.silent:
                try:
                    self.sock.sendto(out[0], out[1])
                except (BlockingIOError, ConnectionRefusedError):
                    pass

    def pump(self, max_wait=0.05):
        """One turn of the loop: wait for a datagram or the next deadline."""
        self._events()
        self._flush()
        dl = self.udx.next_deadline()
        wait = max_wait if dl == TIME_NONE else max(0.0, min(max_wait, (dl - now_us()) / 1e6))
        r, _, _ = select.select([self.sock], [], [], wait)
        for _ in range(256):
            try:
                data, (host, port) = self.sock.recvfrom(2048)
            except (BlockingIOError, ConnectionRefusedError):
                break
            if not self.silent:
                try:
                    self.udx.handle_datagram(data, host, port)
                except FlockError:
                    pass
        if self.udx.next_deadline() <= now_us():
            self.udx.handle_timeout()
        for sid in list(self.streams):
            self._feed(sid)
        self._events()
        self._flush()

    def pump_until(self, cond, timeout, what):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if cond():
                return
            self.pump()
        if not cond():
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
