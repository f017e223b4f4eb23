"""The secretstream push state we make from a caller's header gives the same
stream as libsodium's own crypto_secretstream_xchacha20poly1305_init_push.

libsodium's init_push draws its 24-byte header from the global generator,
which the sans-IO core must never touch; so fl_crypto_sstream_push_init takes
the header (from the node's DRBG) and derives the state from it. Here we call
the real init_push of the system libsodium through ctypes, take the header it
drew, build our push state from that header and the same key, and require
identical ciphertexts message after message (tags, rekey, final included).
This lives in harness/ because core/ may not even name that function.
"""
import ctypes
import random

import pytest

from flock import crypto as fc

_PREFIX = "crypto_secretstream_xchacha20poly1305_"


@pytest.fixture(scope="module")
def sodium():
    so = ctypes.CDLL("libsodium.so.23")
    so.sodium_init.restype = ctypes.c_int
    assert so.sodium_init() >= 0
    for name in ("statebytes", "headerbytes", "abytes"):
        getattr(so, _PREFIX + name).restype = ctypes.c_size_t
    assert getattr(so, _PREFIX + "headerbytes")() == fc.SSTREAM_HEADER_BYTES
    assert getattr(so, _PREFIX + "abytes")() == fc.SSTREAM_ABYTES
    assert getattr(so, _PREFIX + "statebytes")() <= 64
    init_push = getattr(so, _PREFIX + "init_push")
    init_push.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    init_push.restype = ctypes.c_int
    push = getattr(so, _PREFIX + "push")
    push.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_ulonglong),
                     ctypes.c_char_p, ctypes.c_ulonglong, ctypes.c_char_p, ctypes.c_ulonglong,
                     ctypes.c_ubyte]
    push.restype = ctypes.c_int
    rekey = getattr(so, _PREFIX + "rekey")
    rekey.argtypes = [ctypes.c_void_p]
    rekey.restype = None
    return so


class _LibsodiumPush:
    """A push stream made by libsodium's own init_push (it picks the header)."""

    def __init__(self, so, key):
        self.so = so
        self.state = ctypes.create_string_buffer(64)
        header = ctypes.create_string_buffer(fc.SSTREAM_HEADER_BYTES)
        assert getattr(so, _PREFIX + "init_push")(self.state, header, key) == 0
        self.header = header.raw

    def push(self, m, tag, ad):
        c = ctypes.create_string_buffer(len(m) + fc.SSTREAM_ABYTES)
        n = ctypes.c_ulonglong(0)
        rc = getattr(self.so, _PREFIX + "push")(self.state, c, ctypes.byref(n), m, len(m),
                                                ad, len(ad), tag)
        assert rc == 0
        return c.raw[:n.value]

    def rekey(self):
        getattr(self.so, _PREFIX + "rekey")(self.state)


def test_state_from_header_matches_libsodium_init_push(sodium, test_seed):
    r = random.Random(f"{test_seed}/sstream-header")
    for stream in range(20):
        key = r.randbytes(32)
        theirs = _LibsodiumPush(sodium, key)
        ours = fc.SecretStreamPush(key, theirs.header)
        # The 52 bytes libsodium uses are the same state, byte for byte.
        assert ours.state()[:52] == theirs.state.raw[:52], f"stream {stream}"
        pull = fc.SecretStreamPull(key, theirs.header)
        for i in range(12):
            if i == 6:
                theirs.rekey()
                ours.rekey()
                pull.rekey()
                continue
            m = r.randbytes(r.randrange(300))
            ad = r.randbytes(r.randrange(4))
            tag = (fc.TAG_MESSAGE, fc.TAG_PUSH, fc.TAG_REKEY, fc.TAG_FINAL)[i % 4]
            c = ours.push(m, tag, ad)
            assert c == theirs.push(m, tag, ad), f"stream {stream} message {i}"
            assert pull.pull(c, ad) == (m, tag)


def test_a_different_header_gives_a_different_stream(sodium):
    key = bytes(range(32))
    theirs = _LibsodiumPush(sodium, key)
    other = bytearray(theirs.header)
    other[23] ^= 1  # the nonce half of the header
    ours = fc.SecretStreamPush(key, bytes(other))
    assert ours.push(b"x" * 20) != theirs.push(b"x" * 20, 0, b"")
