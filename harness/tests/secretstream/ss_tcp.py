"""Drives a sans-IO C secret stream over a TCP socket on 127.0.0.1 against the
JS peer of js_peer.js: Python does the socket I/O and the clock, the C side
does everything else. One thread: the socket is non-blocking and every wait
alternates between pumping the socket and polling the JS peer's lines.
"""
import errno
import hashlib
import json
import queue
import selectors
import socket
import time
from pathlib import Path

from flock import interop
from flock.secretstream import EV_DATA, EV_END, EV_ERROR, SecretStream

JS_PEER = (Path(__file__).resolve().parent / "js_peer.js").read_text()
RECV_CHUNK = 1 << 20


def now_us():
    return time.monotonic_ns() // 1000


class JsSide(interop.JsPeer):
    """The JS peer process, with a non-blocking look at its lines."""

    def __init__(self):
        super().__init__(JS_PEER)
        self.seen = []

    def poll(self):
        got = []
        while True:
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                return got
            if line is None:
                self.seen.append({"ev": "exit"})
                got.append({"ev": "exit"})
                return got
            msg = json.loads(line)
            self.seen.append(msg)
            got.append(msg)

    def stderr(self):
        return "".join(self._stderr[-20:])


class CSide:
    """A C stream on a connected socket, with what it has received."""

    def __init__(self, sock, ss):
        self.sock, self.ss = sock, ss
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sel = selectors.DefaultSelector()
        self.sel.register(sock, selectors.EVENT_READ)
        self.events, self.messages = [], []
        self.rx_hash, self.rx_total = hashlib.sha256(), 0
        self.keep_messages = True
        self.eof = self.shut = self.stop_reading = self.dead = False
        self.rbuf = bytearray(RECV_CHUNK)
        self.rview = memoryview(self.rbuf)

    def _on_events(self, evs):
        for e in evs:
            self.events.append(e)
            if e.type == EV_DATA:
                self.rx_hash.update(e.data)
                self.rx_total += len(e.data)
                self.messages.append(e.data if self.keep_messages else len(e.data))

    def _send(self):
        while True:
            view = self.ss.tx_view()
            if not view:
                break
            try:
                n = self.sock.send(view)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                return
            finally:
                del view
            self.ss.tx_consume(n)
        if self.ss.end_due and not self.shut:
            self.shut = True
            self.sock.shutdown(socket.SHUT_WR)

    def _read(self):
        try:
            n = self.sock.recv_into(self.rbuf)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self.eof = True
            code = -10  # FL_ERR_CLOSED: reset by peer
            self._on_events(self.ss.feed_error(code, f"{errno.errorcode.get(e.errno)}".encode()))
            return
        if n == 0:
            self.eof = True
            self._on_events(self.ss.feed_end(now_us()))
            return
        self._on_events(self.ss.feed(self.rview[:n], now_us()))

    def end(self):
        self._on_events(self.ss.end())

    def abort(self, partial=b""):
        """Die: write `partial` raw bytes, close the socket, destroy the stream."""
        self.sel.unregister(self.sock)
        self.sock.setblocking(True)
        if partial:
            self.sock.sendall(partial)
        self.sock.close()
        self.ss.destroy()
        self.dead = True

    def pump(self, wait=0.01):
        """One round: send what is queued, read what arrived, run timers."""
        if self.dead:
            time.sleep(wait)
            return
        if not self.ss.failed:
            self._send()
        want = selectors.EVENT_READ if not (self.eof or self.stop_reading) else 0
        if self.ss.tx_view():
            want |= selectors.EVENT_WRITE
        if want:
            self.sel.modify(self.sock, want)
            deadline = self.ss.next_deadline()
            t = wait
            if deadline != 2**64 - 1:
                t = max(0.0, min(wait, (deadline - now_us()) / 1e6))
            for _, mask in self.sel.select(t):
                if mask & selectors.EVENT_READ and not self.ss.failed:
                    self._read()
        else:
            time.sleep(wait)
        if not self.ss.failed:
            self._on_events(self.ss.handle_timeout(now_us()))
            self._send()

    def push_all(self, data, chunk):
        """Queue data as messages of `chunk` bytes, pumping when the output
        buffer is full (FL_ERR_LIMIT)."""
        off = 0
        deadline = time.monotonic() + 60
        while off < len(data):
            n = min(chunk, len(data) - off)
            try:
                self.ss.push(data[off:off + n], now_us())
                off += n
            except Exception as e:  # FL_ERR_LIMIT: back-pressure
                if getattr(e, "name", "") != "FL_ERR_LIMIT":
                    raise
                self.pump(0.005)
            if time.monotonic() > deadline:
                raise TimeoutError(f"pushed only {off} of {len(data)} bytes in 60 s")

    def error(self):
        return next((e for e in self.events if e.type == EV_ERROR), None)

    def ended(self):
        return any(e.type == EV_END for e in self.events)


class Session:
    """A listening socket, the JS peer connected to it, and the C side."""

    def __init__(self, c_initiator, keepalive_ms=0, c_keepalive_ms=None, handshake=None,
                 quiet=False, c_filter_empty=False):
        self.js = JsSide()
        self.cursor = 0  # JS lines before this one were consumed by a wait
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(1)
        port = self.lsock.getsockname()[1]
        cmd = {"cmd": "connect", "port": port, "initiator": not c_initiator, "quiet": quiet}
        if keepalive_ms:
            cmd["keepAlive"] = keepalive_ms
        if handshake:
            cmd["handshake"] = handshake["js"]
        self.js.send(cmd)
        self.lsock.settimeout(15)
        sock, _ = self.lsock.accept()
        ka = keepalive_ms if c_keepalive_ms is None else c_keepalive_ms
        ss = SecretStream(c_initiator, keepalive_ms=ka, filter_empty=c_filter_empty)
        self.c = CSide(sock, ss)
        if handshake:
            self.c._on_events(ss.start(handshake["c"], now_us()))
        else:
            self.pk, self.sk = _keys(c_initiator)
            self.c._on_events(ss.start_xx(self.pk, self.sk, now_us(),
                                          seed=b"sstream-interop".ljust(32, b"\0")))

    def wait(self, what, c_pred=None, js_pred=None, timeout=30):
        """Pump until c_pred() holds and some JS line satisfies js_pred (each
        optional); returns that JS line. Fails naming `what` at the deadline."""
        deadline = time.monotonic() + timeout
        js_hit = None if js_pred else True
        while True:
            self.js.poll()
            while js_hit is None and self.cursor < len(self.js.seen):
                m = self.js.seen[self.cursor]
                self.cursor += 1
                if js_pred(m):
                    js_hit = m
            if js_hit is not None and (c_pred is None or c_pred()):
                return js_hit
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {what} within {timeout}s; C events {self.c.events[-5:]}"
                                   f", JS lines {self.js.seen[-5:]}; JS stderr:\n"
                                   + self.js.stderr())
            self.c.pump(0.005)

    def js_event(self, ev):
        return lambda m: m.get("ev") == ev

    def close(self):
        try:
            self.js.send({"cmd": "exit"})
        except OSError:
            pass
        self.js.close()
        self.c.sock.close()
        self.lsock.close()
        self.c.ss.close()


def _keys(initiator):
    from flock.secretstream import keypair
    return keypair(bytes([0x31 if initiator else 0x32]) * 32)
