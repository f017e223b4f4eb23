"""Pythonic wrappers over flock/crypto.h (libflock's libsodium wrappers + DRBG).

Byte arguments are bytes-like; results are bytes. A negative return from the
library raises FlockError with its exact code, except `verify`, which answers
True/False for a good/bad signature (misuse still raises).

    kp = keypair_from_seed(bytes(32))
    sig = sign(b"hi", kp.secret_key); assert verify(sig, b"hi", kp.public_key)
    push = SecretStreamPush(key, header); c = push.push(b"m", tag=TAG_FINAL)
    rng = Drbg(seed); rng.bytes(16); rng.uniform(10); child = rng.fork()
"""
import ctypes
from collections import namedtuple

from ._lib import bind, check

_u8p = ctypes.c_char_p          # const uint8_t * (bytes in)
_buf = ctypes.c_void_p          # uint8_t * (a ctypes buffer out)
_sz = ctypes.c_size_t
_szp = ctypes.POINTER(ctypes.c_size_t)
_int = ctypes.c_int

HASH_BYTES = 32
HASH64_BYTES = 64
HASH_BYTES_MIN = 16
HASH_BYTES_MAX = 64
SEED_BYTES = 32
PUBLIC_KEY_BYTES = 32
SECRET_KEY_BYTES = 64
SIGNATURE_BYTES = 64
DH_BYTES = 32
AEAD_KEY_BYTES = 32
AEAD_NONCE_BYTES = 12
AEAD_TAG_BYTES = 16
SECRETBOX_KEY_BYTES = 32
SECRETBOX_NONCE_BYTES = 24
SECRETBOX_MAC_BYTES = 16
SSTREAM_KEY_BYTES = 32
SSTREAM_HEADER_BYTES = 24
SSTREAM_ABYTES = 17
TAG_MESSAGE, TAG_PUSH, TAG_REKEY, TAG_FINAL = 0, 1, 2, 3
DRBG_SEED_BYTES = 32
DRBG_BUF_BYTES = 256

NS_PEER_HANDSHAKE = 0
NS_PEER_HOLEPUNCH = 1
NS_ANNOUNCE = 4
NS_UNANNOUNCE = 5
NS_MUTABLE_PUT = 6
NS_PLUGIN = 10
NS_IDS = {"PEER_HANDSHAKE": 0, "PEER_HOLEPUNCH": 1, "ANNOUNCE": 4, "UNANNOUNCE": 5,
          "MUTABLE_PUT": 6, "PLUGIN": 10}

# The library's own answers for the sizes it exports as functions: a drifted
# copy here fails at import rather than corrupting memory later.
for _name, _want in (("fl_hash_bytes", HASH_BYTES), ("fl_public_key_bytes", PUBLIC_KEY_BYTES),
                     ("fl_secret_key_bytes", SECRET_KEY_BYTES),
                     ("fl_signature_bytes", SIGNATURE_BYTES), ("fl_seed_bytes", SEED_BYTES)):
    _got = bind(_name, _sz)()
    if _got != _want:
        raise RuntimeError(f"{_name}() = {_got}, harness expects {_want}")


class _Slice(ctypes.Structure):
    _fields_ = [("p", ctypes.c_void_p), ("len", _sz)]


class _SStream(ctypes.Structure):
    # fl_sstream: 64 opaque bytes (libsodium's state is 52 bytes of unsigned
    # char arrays, so 8-byte alignment is plenty for ctypes).
    _fields_ = [("opaque", ctypes.c_uint64 * 8)]


class _Drbg(ctypes.Structure):
    _fields_ = [("key", ctypes.c_uint8 * 32), ("buf", ctypes.c_uint8 * DRBG_BUF_BYTES),
                ("pos", _sz), ("bytes_out", ctypes.c_uint64)]


_SStreamP = ctypes.POINTER(_SStream)
_DrbgP = ctypes.POINTER(_Drbg)

_hash_keyed = bind("fl_crypto_hash_keyed", _int, _buf, _sz, _u8p, _sz, _u8p, _sz)
_hash_parts = bind("fl_crypto_hash_parts", _int, _buf, _sz, ctypes.POINTER(_Slice), _sz, _u8p, _sz)
_namespace = bind("fl_crypto_namespace", _int, _u8p, _sz, _u8p, _sz, _buf)
_hyperdht_ns = bind("fl_crypto_hyperdht_ns", _int, _int, _buf)
_seed_keypair = bind("fl_crypto_sign_seed_keypair", _int, _buf, _buf, _u8p)
_sign = bind("fl_crypto_sign", _int, _buf, _u8p, _sz, _u8p)
_verify = bind("fl_crypto_verify", _int, _u8p, _u8p, _sz, _u8p)
_dh_ed25519 = bind("fl_crypto_dh_ed25519", _int, _buf, _u8p, _u8p)
_x25519_public = bind("fl_crypto_x25519_public", _int, _buf, _u8p)
_x25519 = bind("fl_crypto_x25519", _int, _buf, _u8p, _u8p)
_aead_enc = bind("fl_crypto_aead_encrypt", _int, _buf, _sz, _szp, _u8p, _sz, _u8p, _sz, _u8p, _u8p)
_aead_dec = bind("fl_crypto_aead_decrypt", _int, _buf, _sz, _szp, _u8p, _sz, _u8p, _sz, _u8p, _u8p)
_box_seal = bind("fl_crypto_secretbox_seal", _int, _buf, _sz, _u8p, _sz, _u8p, _u8p)
_box_open = bind("fl_crypto_secretbox_open", _int, _buf, _sz, _u8p, _sz, _u8p, _u8p)
_ss_init_push = bind("fl_crypto_sstream_push_init", _int, _SStreamP, _u8p, _u8p)
_ss_init_pull = bind("fl_crypto_sstream_pull_init", _int, _SStreamP, _u8p, _u8p)
_ss_push = bind("fl_crypto_sstream_push", _int, _SStreamP, _buf, _sz, _szp, _u8p, _sz, _u8p, _sz,
                ctypes.c_uint8)
_ss_pull = bind("fl_crypto_sstream_pull", _int, _SStreamP, _buf, _sz, _szp,
                ctypes.POINTER(ctypes.c_uint8), _u8p, _sz, _u8p, _sz)
_ss_rekey = bind("fl_crypto_sstream_rekey", None, _SStreamP)
_memcmp = bind("fl_crypto_memcmp", _int, _u8p, _u8p, _sz)
_drbg_init = bind("fl_drbg_init", None, _DrbgP, _u8p)
_drbg_bytes = bind("fl_drbg_bytes", None, _DrbgP, _buf, _sz)
_drbg_u32 = bind("fl_drbg_u32", ctypes.c_uint32, _DrbgP)
_drbg_u64 = bind("fl_drbg_u64", ctypes.c_uint64, _DrbgP)
_drbg_uniform = bind("fl_drbg_uniform", ctypes.c_uint64, _DrbgP, ctypes.c_uint64)
_drbg_fork = bind("fl_drbg_fork", None, _DrbgP, _DrbgP)
_drbg_wipe = bind("fl_drbg_wipe", None, _DrbgP)


def _fixed(value, size, what):
    """bytes of exactly `size`, or ValueError (the C side would read past it)."""
    b = bytes(value)
    if len(b) != size:
        raise ValueError(f"{what} must be {size} bytes, got {len(b)}")
    return b


def _opt(b):
    """bytes or None for an optional pointer (None with length 0 is allowed)."""
    return None if b is None else bytes(b)


# ---- BLAKE2b ------------------------------------------------------------------

def hash(data, out_len=HASH_BYTES, key=None):  # noqa: A001 (mirrors the C name)
    """BLAKE2b of data; out_len in [16, 64]; key None or 16..64 bytes."""
    data = bytes(data)
    out = ctypes.create_string_buffer(max(out_len, 1))
    key = _opt(key)
    check(_hash_keyed(out, out_len, data, len(data), key, len(key) if key else 0),
          "fl_crypto_hash_keyed")
    return out.raw[:out_len]


def hash_parts(parts, out_len=HASH_BYTES, key=None):
    """BLAKE2b of the concatenation of parts, without concatenating."""
    parts = [bytes(p) for p in parts]
    keep = [ctypes.create_string_buffer(p, len(p)) for p in parts]
    arr = (_Slice * max(len(parts), 1))()
    for i, buf in enumerate(keep):
        arr[i].p = ctypes.addressof(buf)
        arr[i].len = len(parts[i])
    out = ctypes.create_string_buffer(max(out_len, 1))
    key = _opt(key)
    check(_hash_parts(out, out_len, arr, len(parts), key, len(key) if key else 0),
          "fl_crypto_hash_parts")
    return out.raw[:out_len]


def namespace(name, ids):
    """hypercore-crypto's namespace(name, ids): a list of 32-byte values.
    ids may be a count (0..count-1) or a list of byte values."""
    if isinstance(name, str):
        name = name.encode()
    ids = list(range(ids)) if isinstance(ids, int) else list(ids)
    out = ctypes.create_string_buffer(max(HASH_BYTES * len(ids), 1))
    check(_namespace(bytes(name), len(name), bytes(ids), len(ids), out), "fl_crypto_namespace")
    return [out.raw[i * HASH_BYTES:(i + 1) * HASH_BYTES] for i in range(len(ids))]


def hyperdht_ns(ns_id):
    """hyperdht's NS_* constant for a command id (see NS_IDS)."""
    out = ctypes.create_string_buffer(HASH_BYTES)
    check(_hyperdht_ns(ns_id, out), "fl_crypto_hyperdht_ns")
    return out.raw


# ---- Ed25519 ------------------------------------------------------------------

KeyPair = namedtuple("KeyPair", "public_key secret_key")


def keypair_from_seed(seed):
    """Ed25519 key pair (libsodium layout: secret_key = seed || public_key)."""
    pk, sk = ctypes.create_string_buffer(32), ctypes.create_string_buffer(64)
    check(_seed_keypair(pk, sk, _fixed(seed, SEED_BYTES, "seed")), "fl_crypto_sign_seed_keypair")
    return KeyPair(pk.raw, sk.raw)


def sign(message, secret_key):
    message = bytes(message)
    sig = ctypes.create_string_buffer(SIGNATURE_BYTES)
    check(_sign(sig, message, len(message), _fixed(secret_key, SECRET_KEY_BYTES, "secret_key")),
          "fl_crypto_sign")
    return sig.raw


def verify(signature, message, public_key):
    """True for a valid signature, False for an invalid one."""
    message = bytes(message)
    rc = _verify(_fixed(signature, SIGNATURE_BYTES, "signature"), message, len(message),
                 _fixed(public_key, PUBLIC_KEY_BYTES, "public_key"))
    if rc == -5:  # FL_ERR_CRYPTO: a bad signature is an answer, not an error
        return False
    check(rc, "fl_crypto_verify")
    return True


def dh_ed25519(secret_key, remote_public_key):
    """noise-curve-ed's DH; raises FlockError(FL_ERR_CRYPTO) for a bad point."""
    out = ctypes.create_string_buffer(DH_BYTES)
    check(_dh_ed25519(out, _fixed(secret_key, SECRET_KEY_BYTES, "secret_key"),
                      _fixed(remote_public_key, PUBLIC_KEY_BYTES, "remote_public_key")),
          "fl_crypto_dh_ed25519")
    return out.raw


def x25519_public(secret_key):
    out = ctypes.create_string_buffer(32)
    check(_x25519_public(out, _fixed(secret_key, 32, "secret_key")), "fl_crypto_x25519_public")
    return out.raw


def x25519(secret_key, remote_public_key):
    out = ctypes.create_string_buffer(DH_BYTES)
    check(_x25519(out, _fixed(secret_key, 32, "secret_key"),
                  _fixed(remote_public_key, 32, "remote_public_key")), "fl_crypto_x25519")
    return out.raw


# ---- AEAD and secretbox -------------------------------------------------------

def aead_encrypt(message, nonce, key, ad=b""):
    """ChaCha20-Poly1305 IETF: ciphertext || 16-byte tag."""
    message, ad = bytes(message), bytes(ad)
    cap = len(message) + AEAD_TAG_BYTES
    c, clen = ctypes.create_string_buffer(cap), _sz(0)
    check(_aead_enc(c, cap, ctypes.byref(clen), message, len(message), ad, len(ad),
                    _fixed(nonce, AEAD_NONCE_BYTES, "nonce"), _fixed(key, AEAD_KEY_BYTES, "key")),
          "fl_crypto_aead_encrypt")
    return c.raw[:clen.value]


def aead_decrypt(ciphertext, nonce, key, ad=b""):
    ciphertext, ad = bytes(ciphertext), bytes(ad)
    cap = max(len(ciphertext) - AEAD_TAG_BYTES, 0)
    m, mlen = ctypes.create_string_buffer(max(cap, 1)), _sz(0)
    check(_aead_dec(m, cap, ctypes.byref(mlen), ciphertext, len(ciphertext), ad, len(ad),
                    _fixed(nonce, AEAD_NONCE_BYTES, "nonce"), _fixed(key, AEAD_KEY_BYTES, "key")),
          "fl_crypto_aead_decrypt")
    return m.raw[:mlen.value]


def secretbox_seal(message, nonce, key):
    """XSalsa20-Poly1305, easy form: 16-byte MAC || ciphertext."""
    message = bytes(message)
    cap = len(message) + SECRETBOX_MAC_BYTES
    c = ctypes.create_string_buffer(cap)
    check(_box_seal(c, cap, message, len(message), _fixed(nonce, SECRETBOX_NONCE_BYTES, "nonce"),
                    _fixed(key, SECRETBOX_KEY_BYTES, "key")), "fl_crypto_secretbox_seal")
    return c.raw


def secretbox_open(ciphertext, nonce, key):
    ciphertext = bytes(ciphertext)
    cap = max(len(ciphertext) - SECRETBOX_MAC_BYTES, 0)
    m = ctypes.create_string_buffer(max(cap, 1))
    check(_box_open(m, cap, ciphertext, len(ciphertext),
                    _fixed(nonce, SECRETBOX_NONCE_BYTES, "nonce"),
                    _fixed(key, SECRETBOX_KEY_BYTES, "key")), "fl_crypto_secretbox_open")
    return m.raw[:cap]


# ---- secretstream -------------------------------------------------------------

class _SecretStream:
    def __init__(self, init, key, header):
        self._st = _SStream()
        self.header = _fixed(header, SSTREAM_HEADER_BYTES, "header")
        check(init(ctypes.byref(self._st), self.header, _fixed(key, SSTREAM_KEY_BYTES, "key")),
              init.__name__)

    def rekey(self):
        _ss_rekey(ctypes.byref(self._st))

    def state(self):
        """The raw 64-byte state (for tests that compare states)."""
        return bytes(self._st)


class SecretStreamPush(_SecretStream):
    """The sending half; the header comes from the caller (e.g. a Drbg)."""

    def __init__(self, key, header):
        super().__init__(_ss_init_push, key, header)

    def push(self, message, tag=TAG_MESSAGE, ad=b""):
        message, ad = bytes(message), bytes(ad)
        cap = len(message) + SSTREAM_ABYTES
        c, clen = ctypes.create_string_buffer(cap), _sz(0)
        check(_ss_push(ctypes.byref(self._st), c, cap, ctypes.byref(clen), message, len(message),
                       ad, len(ad), tag), "fl_crypto_sstream_push")
        return c.raw[:clen.value]


class SecretStreamPull(_SecretStream):
    def __init__(self, key, header):
        super().__init__(_ss_init_pull, key, header)

    def pull(self, ciphertext, ad=b""):
        """(message, tag); FlockError(FL_ERR_CRYPTO) leaves the state as it was."""
        ciphertext, ad = bytes(ciphertext), bytes(ad)
        cap = max(len(ciphertext) - SSTREAM_ABYTES, 0)
        m, mlen, tag = ctypes.create_string_buffer(max(cap, 1)), _sz(0), ctypes.c_uint8(0)
        check(_ss_pull(ctypes.byref(self._st), m, cap, ctypes.byref(mlen), ctypes.byref(tag),
                       ciphertext, len(ciphertext), ad, len(ad)), "fl_crypto_sstream_pull")
        return m.raw[:mlen.value], tag.value


def equal(a, b):
    """Constant-time equality of two byte strings of the same length."""
    a, b = bytes(a), bytes(b)
    return len(a) == len(b) and _memcmp(a, b, len(a)) == 0


# ---- DRBG ---------------------------------------------------------------------

class Drbg:
    """The per-node deterministic generator: the same seed, the same stream."""

    def __init__(self, seed=None, _state=None):
        self._d = _state if _state is not None else _Drbg()
        if seed is not None:
            _drbg_init(ctypes.byref(self._d), _fixed(seed, DRBG_SEED_BYTES, "seed"))

    def bytes(self, n):
        out = ctypes.create_string_buffer(max(n, 1))
        _drbg_bytes(ctypes.byref(self._d), out, n)
        return out.raw[:n]

    def u32(self):
        return _drbg_u32(ctypes.byref(self._d))

    def u64(self):
        return _drbg_u64(ctypes.byref(self._d))

    def uniform(self, upper):
        """Uniform in [0, upper) without modulo bias; 0 when upper < 2."""
        return _drbg_uniform(ctypes.byref(self._d), upper)

    def fork(self):
        child = _Drbg()
        _drbg_fork(ctypes.byref(self._d), ctypes.byref(child))
        return Drbg(_state=child)

    @property
    def bytes_out(self):
        return self._d.bytes_out

    def wipe(self):
        _drbg_wipe(ctypes.byref(self._d))
