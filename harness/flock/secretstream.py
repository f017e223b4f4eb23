"""ctypes wrappers for core/include/flock/secretstream.h (fl_ss_*).

SecretStream wraps one sans-IO stream. The caller moves bytes: `feed(data,
now_us)` returns the events the bytes produced (data copied out, so they stay
valid), `tx_view()` / `tx_consume(n)` give the pending output without a copy
(a socket can send straight from it), `tx_take()` copies it out.
"""
import ctypes
from ctypes import (POINTER, Structure, c_bool, c_char_p, c_int, c_size_t, c_uint8, c_uint32,
                    c_uint64, c_void_p)

from ._lib import FlockError, bind, check, lib
from .crypto import Drbg, keypair_from_seed

PREFIX_BYTES = 3
IDHEADER_BYTES = 56
FRAME_BODY_MAX = 16777215
ABYTES = 17
MESSAGE_MAX = FRAME_BODY_MAX - ABYTES
BOX_OVERHEAD = 24
TIME_NONE = 2**64 - 1

EV_HANDSHAKE, EV_OPEN, EV_DATA, EV_END, EV_CLOSE, EV_ERROR = range(1, 7)
EV_NAMES = {EV_HANDSHAKE: "handshake", EV_OPEN: "open", EV_DATA: "data", EV_END: "end",
            EV_CLOSE: "close", EV_ERROR: "error"}


class Config(Structure):
    _fields_ = [("is_initiator", c_bool), ("keepalive_ms", c_uint32), ("timeout_ms", c_uint32),
                ("filter_empty", c_bool), ("rx_frame_max", c_size_t),
                ("tx_bytes_max", c_size_t), ("mem", c_void_p)]


class Handshake(Structure):
    _fields_ = [("tx", c_uint8 * 32), ("rx", c_uint8 * 32), ("hash", c_uint8 * 64),
                ("public_key", c_uint8 * 32), ("remote_public_key", c_uint8 * 32)]


class _Event(Structure):
    _fields_ = [("type", c_int), ("error", c_int), ("reason", c_char_p),
                ("data", c_void_p), ("len", c_size_t)]


_STAT_NAMES = ["frames_sent", "frames_received", "keepalives_sent", "keepalives_received",
               "raw_bytes_written", "raw_bytes_read", "tx_bytes", "tx_bytes_high", "tx_refused",
               "rx_buffered", "rx_buffered_high", "events", "events_high", "events_dropped",
               "decode_errors", "box_sent", "box_received", "box_dropped"]


class _Stats(Structure):
    _fields_ = [(n, c_uint64) for n in _STAT_NAMES]


_P = c_void_p
_new = bind("fl_ss_new", c_int, POINTER(_P), POINTER(Config))
_free = bind("fl_ss_free", None, _P)
_start = bind("fl_ss_start", c_int, _P, c_uint64, POINTER(Handshake), c_void_p)
_start_xx = bind("fl_ss_start_xx", c_int, _P, c_uint64, c_char_p, c_char_p, c_void_p)
_recv = bind("fl_ss_recv", c_int, _P, c_uint64, c_void_p, c_size_t)
_recv_end = bind("fl_ss_recv_end", c_int, _P, c_uint64)
_recv_error = bind("fl_ss_recv_error", None, _P, c_int, c_char_p)
_poll = bind("fl_ss_poll_event", c_int, _P, POINTER(_Event))
_push = bind("fl_ss_push", c_int, _P, c_uint64, c_void_p, c_size_t)
_peek = bind("fl_ss_tx_peek", c_size_t, _P, POINTER(c_void_p))
_consume = bind("fl_ss_tx_consume", c_int, _P, c_size_t)
_end_due = bind("fl_ss_tx_end_due", c_int, _P)
_end = bind("fl_ss_end", c_int, _P)
_destroy = bind("fl_ss_destroy", None, _P)
_deadline = bind("fl_ss_next_deadline", c_uint64, _P)
_timeout = bind("fl_ss_handle_timeout", c_int, _P, c_uint64)
_set_ka = bind("fl_ss_set_keepalive", c_int, _P, c_uint64, c_uint32)
_box = bind("fl_ss_box", c_int, _P, c_void_p, c_size_t, c_char_p, c_size_t)
_unbox = bind("fl_ss_unbox", c_int, _P, c_void_p, c_size_t, c_char_p, c_size_t)
_stream_id = bind("fl_ss_stream_id", c_int, c_void_p, c_char_p, c_bool)
_hash = bind("fl_ss_handshake_hash", c_void_p, _P)
_rpk = bind("fl_ss_remote_public_key", c_void_p, _P)
_pk = bind("fl_ss_public_key", c_void_p, _P)
_is_open = bind("fl_ss_is_open", c_int, _P)
_is_failed = bind("fl_ss_is_failed", c_int, _P)
_stats = bind("fl_ss_get_stats", None, _P, POINTER(_Stats))


def keypair(seed):
    """Ed25519 key pair from a 32-byte seed: (public 32, secret 64)."""
    return keypair_from_seed(bytes(seed))


def stream_id(handshake_hash, initiator):
    out = ctypes.create_string_buffer(32)
    check(_stream_id(out, bytes(handshake_hash), initiator), "fl_ss_stream_id")
    return out.raw


def make_handshake(tx, rx, hash_, public_key=bytes(32), remote_public_key=bytes(32)):
    hs = Handshake()
    for name, val in (("tx", tx), ("rx", rx), ("hash", hash_), ("public_key", public_key),
                      ("remote_public_key", remote_public_key)):
        field = getattr(hs, name)
        ctypes.memmove(field, bytes(val), len(field))
    return hs


class Event:
    __slots__ = ("type", "error", "reason", "data")

    def __init__(self, type_, error=0, reason=None, data=b""):
        self.type, self.error, self.reason, self.data = type_, error, reason, data

    @property
    def name(self):
        return EV_NAMES.get(self.type, str(self.type))

    def __repr__(self):
        extra = f" {self.error} {self.reason!r}" if self.type == EV_ERROR else ""
        extra += f" len={len(self.data)}" if self.type == EV_DATA else ""
        return f"<Event {self.name}{extra}>"


class SecretStream:
    def __init__(self, initiator, keepalive_ms=0, timeout_ms=0, filter_empty=False,
                 rx_frame_max=0, tx_bytes_max=0):
        cfg = Config(initiator, keepalive_ms, timeout_ms, filter_empty, rx_frame_max,
                     tx_bytes_max, None)
        self._ss = c_void_p()
        check(_new(ctypes.byref(self._ss), ctypes.byref(cfg)), "fl_ss_new")
        self._ev = _Event()
        self._ptr = c_void_p()
        self.initiator = initiator
        self.now = 0

    def _t(self, now_us):
        """now_us, or the last time used (the core refuses time going back)."""
        if now_us is not None:
            self.now = now_us
        return self.now

    def close(self):
        if self._ss:
            _free(self._ss)
            self._ss = c_void_p()

    __del__ = close

    @staticmethod
    def _drbg(seed):
        """A flock.crypto.Drbg and the address of its C state."""
        d = Drbg(bytes(seed).ljust(32, b"\0")[:32])
        return d, ctypes.addressof(d._d)

    def start(self, handshake, now_us=None, seed=b"\x01" * 32):
        """Start with a handshake result (a Handshake)."""
        d, addr = self._drbg(seed)
        check(_start(self._ss, self._t(now_us), ctypes.byref(handshake), addr), "fl_ss_start")
        del d
        return self.events()

    def start_xx(self, public_key, secret_key, now_us=None, seed=b"\x01" * 32):
        d, addr = self._drbg(seed)
        check(_start_xx(self._ss, self._t(now_us), bytes(public_key), bytes(secret_key), addr),
              "fl_ss_start_xx")
        del d
        return self.events()

    def events(self):
        out = []
        ev = self._ev
        while _poll(self._ss, ctypes.byref(ev)) == 1:
            data = ctypes.string_at(ev.data, ev.len) if ev.type == EV_DATA and ev.len else b""
            reason = ev.reason.decode() if ev.reason else None
            out.append(Event(ev.type, ev.error, reason, data))
        return out

    def feed(self, data, now_us=None):
        """Feed raw bytes; returns the events. A session failure does not
        raise: it comes back as an error event (check .failed)."""
        n = len(data)
        if n == 0:
            return []
        if isinstance(data, bytes):
            keep = ctypes.c_char_p(data)
            base = ctypes.cast(keep, c_void_p).value
        else:
            keep = (ctypes.c_char * n).from_buffer(data)
            base = ctypes.addressof(keep)
        out, off = [], 0
        while off < n:
            rc = _recv(self._ss, self._t(now_us), base + off, n - off)
            out.extend(self.events())
            if rc < 0:
                if not out or out[-1].type != EV_ERROR:
                    raise FlockError(rc, "fl_ss_recv")
                break
            off += rc
        del keep
        return out

    def feed_end(self, now_us=None):
        _recv_end(self._ss, self._t(now_us))
        return self.events()

    def feed_error(self, code, reason=b"raw stream failed"):
        _recv_error(self._ss, code, reason)
        return self.events()

    def push(self, msg, now_us=None):
        msg = bytes(msg) if not isinstance(msg, (bytes, bytearray)) else msg
        if isinstance(msg, bytearray):
            buf = (ctypes.c_char * len(msg)).from_buffer(msg) if msg else None
            rc = _push(self._ss, self._t(now_us), ctypes.addressof(buf) if buf else None, len(msg))
        else:
            rc = _push(self._ss, self._t(now_us), ctypes.cast(ctypes.c_char_p(msg), c_void_p), len(msg))
        return check(rc, "fl_ss_push")

    def tx_view(self):
        """A memoryview over the unsent output (valid until the next call)."""
        n = _peek(self._ss, ctypes.byref(self._ptr))
        if n == 0:
            return memoryview(b"")
        return memoryview((ctypes.c_char * n).from_address(self._ptr.value)).cast("B")

    def tx_consume(self, n):
        check(_consume(self._ss, n), "fl_ss_tx_consume")

    def tx_take(self):
        v = self.tx_view()
        b = bytes(v)
        if b:
            self.tx_consume(len(b))
        return b

    @property
    def end_due(self):
        return bool(_end_due(self._ss))

    def end(self):
        check(_end(self._ss), "fl_ss_end")
        return self.events()

    def destroy(self):
        _destroy(self._ss)

    def next_deadline(self):
        return _deadline(self._ss)

    def handle_timeout(self, now_us):
        _timeout(self._ss, self._t(now_us))
        return self.events()

    def set_keepalive(self, ms, now_us=None):
        check(_set_ka(self._ss, self._t(now_us), ms), "fl_ss_set_keepalive")

    def box(self, msg):
        out = ctypes.create_string_buffer(len(msg) + BOX_OVERHEAD)
        n = check(_box(self._ss, out, len(out), bytes(msg), len(msg)), "fl_ss_box")
        return out.raw[:n]

    def unbox(self, datagram):
        out = ctypes.create_string_buffer(max(1, len(datagram)))
        n = check(_unbox(self._ss, out, len(out), bytes(datagram), len(datagram)), "fl_ss_unbox")
        return out.raw[:n]

    def _field(self, fn, n):
        p = fn(self._ss)
        return ctypes.string_at(p, n) if p else None

    @property
    def handshake_hash(self):
        return self._field(_hash, 64)

    @property
    def remote_public_key(self):
        return self._field(_rpk, 32)

    @property
    def public_key(self):
        return self._field(_pk, 32)

    @property
    def is_open(self):
        return bool(_is_open(self._ss))

    @property
    def failed(self):
        return bool(_is_failed(self._ss))

    def stats(self):
        s = _Stats()
        _stats(self._ss, ctypes.byref(s))
        return {n: getattr(s, n) for n in _STAT_NAMES}


_ = lib  # the library is loaded by _lib
