"""ctypes wrappers for core/noise (flock/noise.h): the Noise handshake engine.

    hs = Handshake("IK", initiator=True, dh=ED25519, static_sk=sk,
                   remote_static=server_pk, prologue=b"...", ephemeral_sk=esk)
    msg1 = hs.write(b"payload")
    ...
    keys = hs.split()   # Keys(tx, rx, hash, remote_static)

Errors raise FlockError with the exact code (tests assert on .name).
"""
import ctypes
from collections import namedtuple

from ._lib import bind, check, lib, FlockError  # noqa: F401
from .crypto import Drbg  # noqa: F401  (pass one as drbg=)

ED25519 = 1
X25519 = 2

WRITE, READ, DONE, FAILED = 1, 2, 3, 4
STATUS_NAMES = {WRITE: "WRITE", READ: "READ", DONE: "DONE", FAILED: "FAILED"}

MSG_MAX = 65535
HASH_BYTES = 64
TAG_BYTES = 16

PATTERNS = ("N K X NN NK NX XN XK XX KN KK KX IN IK IX NK1 NX1 X1N X1K XK1 X1K1 X1X XX1 "
            "X1X1 K1N K1K KK1 K1K1 K1X KX1 K1X1 I1N I1K IK1 I1K1 I1X IX1 I1X1").split()

Keys = namedtuple("Keys", "tx rx hash remote_static")

_u8p = ctypes.POINTER(ctypes.c_uint8)
_sz = ctypes.c_size_t


class _Config(ctypes.Structure):
    _fields_ = [("pattern", ctypes.c_char_p), ("dh", ctypes.c_int), ("initiator", ctypes.c_bool),
                ("prologue", ctypes.c_char_p), ("prologue_len", _sz),
                ("static_sk", ctypes.c_char_p), ("remote_static", ctypes.c_char_p),
                ("ephemeral_sk", ctypes.c_char_p), ("drbg", ctypes.c_void_p)]


class _Keys(ctypes.Structure):
    _fields_ = [("tx", ctypes.c_uint8 * 32), ("rx", ctypes.c_uint8 * 32),
                ("hash", ctypes.c_uint8 * 64), ("remote_static", ctypes.c_uint8 * 32),
                ("has_remote_static", ctypes.c_bool)]


_new = bind("fl_noise_new", ctypes.c_int, ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p,
            ctypes.POINTER(_Config))
_free = bind("fl_noise_free", None, ctypes.c_void_p)
_supported = bind("fl_noise_pattern_supported", ctypes.c_int, ctypes.c_char_p)
_status = bind("fl_noise_status", ctypes.c_int, ctypes.c_void_p)
_write_size = bind("fl_noise_write_size", ctypes.c_int, ctypes.c_void_p, _sz)
_write = bind("fl_noise_write_message", ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, _sz,
              _u8p, _sz, ctypes.POINTER(_sz))
_read = bind("fl_noise_read_message", ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, _sz,
             _u8p, _sz, ctypes.POINTER(_sz))
_remote_static = bind("fl_noise_remote_static", ctypes.c_int, ctypes.c_void_p, _u8p)
_local_static = bind("fl_noise_local_static", ctypes.c_int, ctypes.c_void_p, _u8p)
_hash = bind("fl_noise_handshake_hash", ctypes.c_int, ctypes.c_void_p, _u8p)
_split = bind("fl_noise_split", ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(_Keys))
_encrypt = bind("fl_noise_encrypt", ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, _sz, _u8p,
                _sz, ctypes.POINTER(_sz))
_decrypt = bind("fl_noise_decrypt", ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, _sz, _u8p,
                _sz, ctypes.POINTER(_sz))
_keypair = bind("fl_noise_keypair_from_seed", ctypes.c_int, ctypes.c_int, _u8p, _u8p,
                ctypes.c_char_p)
_msg_max = bind("fl_noise_msg_max", _sz)
_hash_bytes = bind("fl_noise_hash_bytes", _sz)

assert _msg_max() == MSG_MAX and _hash_bytes() == HASH_BYTES


def pattern_supported(name):
    return bool(_supported(name.encode()))


def keypair_from_seed(seed, dh=ED25519):
    """(public key, secret key) made from a 32-byte seed as the engine makes
    its ephemerals (Ed25519: crypto_sign_seed_keypair; X25519: sk = seed)."""
    assert len(seed) == 32
    pk = (ctypes.c_uint8 * 32)()
    sk = (ctypes.c_uint8 * 64)()
    n = check(_keypair(dh, pk, sk, bytes(seed)), "fl_noise_keypair_from_seed")
    return bytes(pk), bytes(sk)[:n]


def drbg_ptr(drbg):
    """A void * to a flock.crypto.Drbg's state (the engine borrows it)."""
    return ctypes.cast(ctypes.byref(drbg._d), ctypes.c_void_p) if drbg is not None else None


def _buf(n):
    return (ctypes.c_uint8 * max(n, 1))()


class Handshake:
    def __init__(self, pattern, initiator, dh=ED25519, prologue=b"", static_sk=None,
                 remote_static=None, ephemeral_sk=None, drbg=None):
        self._p = None
        # Keep every buffer alive for the duration of the call (the C side copies).
        self._drbg = drbg
        cfg = _Config(pattern.encode(), dh, bool(initiator), bytes(prologue), len(prologue),
                      static_sk, remote_static, ephemeral_sk,
                      drbg_ptr(drbg))
        p = ctypes.c_void_p()
        check(_new(ctypes.byref(p), None, ctypes.byref(cfg)), "fl_noise_new")
        self._p = p

    def close(self):
        if self._p:
            _free(self._p)
            self._p = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    @property
    def status(self):
        return check(_status(self._p), "fl_noise_status")

    def write_size(self, payload_len):
        return check(_write_size(self._p, payload_len), "fl_noise_write_size")

    def write(self, payload=b"", cap=None):
        cap = MSG_MAX if cap is None else cap
        out = _buf(cap)
        n = _sz()
        check(_write(self._p, bytes(payload), len(payload), out, cap, ctypes.byref(n)),
              "fl_noise_write_message")
        return bytes(out)[:n.value]

    def read(self, msg, cap=None):
        cap = MSG_MAX if cap is None else cap
        out = _buf(cap)
        n = _sz()
        check(_read(self._p, bytes(msg), len(msg), out, cap, ctypes.byref(n)),
              "fl_noise_read_message")
        return bytes(out)[:n.value]

    def remote_static(self):
        out = _buf(32)
        check(_remote_static(self._p, out), "fl_noise_remote_static")
        return bytes(out)[:32]

    def local_static(self):
        out = _buf(32)
        check(_local_static(self._p, out), "fl_noise_local_static")
        return bytes(out)[:32]

    def handshake_hash(self):
        out = _buf(64)
        check(_hash(self._p, out), "fl_noise_handshake_hash")
        return bytes(out)[:64]

    def split(self):
        k = _Keys()
        check(_split(self._p, ctypes.byref(k)), "fl_noise_split")
        return Keys(bytes(k.tx), bytes(k.rx), bytes(k.hash),
                    bytes(k.remote_static) if k.has_remote_static else None)

    def encrypt(self, data):
        cap = len(data) + TAG_BYTES
        out = _buf(cap)
        n = _sz()
        check(_encrypt(self._p, bytes(data), len(data), out, cap, ctypes.byref(n)),
              "fl_noise_encrypt")
        return bytes(out)[:n.value]

    def decrypt(self, data):
        cap = max(len(data) - TAG_BYTES, 0)
        out = _buf(cap)
        n = _sz()
        check(_decrypt(self._p, bytes(data), len(data), out, cap, ctypes.byref(n)),
              "fl_noise_decrypt")
        return bytes(out)[:n.value]
