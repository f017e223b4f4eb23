"""compact-encoding codecs of libflock (core/enc), wrapped for Python.

    encode_X(value) -> bytes
    decode_X(data)  -> (value, consumed)

Encoders size with fl_enc_X_preencode, encode into a buffer of exactly that
size and check the encoder filled it. Decoders read from the start of `data`
(or from `offset`) and return the value and the number of bytes consumed.
A negative return from C raises FlockError with the exact code (FL_ERR_DECODE
for truncated or over-long input, FL_ERR_RANGE, FL_ERR_INVALID, ...).

Addresses are Address(host, family, port) tuples, after the reference's
{host, family, port} objects; hosts are text ("127.0.0.1", "2001:db8::1").
Strings decode to raw bytes, because C does not validate UTF-8 (see
utf8_valid); the reference would substitute U+FFFD instead.
"""
import ctypes
import ipaddress
from collections import namedtuple

from ._lib import FL_ERR_INVALID, FlockError, bind, check

c_size_p = ctypes.POINTER(ctypes.c_size_t)
c_u8_p = ctypes.POINTER(ctypes.c_uint8)


class EncState(ctypes.Structure):
    _fields_ = [("buf", c_u8_p), ("start", ctypes.c_size_t), ("end", ctypes.c_size_t)]


class DecState(ctypes.Structure):
    _fields_ = [("buf", c_u8_p), ("start", ctypes.c_size_t), ("end", ctypes.c_size_t)]


class FlAddr(ctypes.Structure):
    _fields_ = [("family", ctypes.c_uint8), ("ip", ctypes.c_uint8 * 16), ("port", ctypes.c_uint16)]


FL_ADDR_IPV4 = 4
FL_ADDR_IPV6 = 6
Address = namedtuple("Address", "host family port")

_ES = ctypes.POINTER(EncState)
_DS = ctypes.POINTER(DecState)
_AP = ctypes.POINTER(FlAddr)
_int, _void, _size = ctypes.c_int, None, ctypes.c_size_t

ARRAY_MAX = bind("fl_enc_array_max", _size)()
_uint_size = bind("fl_enc_uint_size", _size, ctypes.c_uint64)
_utf8_valid = bind("fl_enc_utf8_valid", _int, ctypes.c_char_p, _size)


def _codec(name, ctype, out_type=None):
    """Bind fl_enc_<name>_{preencode,encode,decode} for a value of ctype."""
    pre = bind(f"fl_enc_{name}_preencode", _void, _ES, ctype)
    enc = bind(f"fl_enc_{name}_encode", _int, _ES, ctype)
    dec = bind(f"fl_enc_{name}_decode", _int, _DS, ctypes.POINTER(out_type or ctype))
    return pre, enc, dec


_C = {
    "uint": _codec("uint", ctypes.c_uint64),
    "uint8": _codec("uint8", ctypes.c_uint8),
    "uint16": _codec("uint16", ctypes.c_uint16),
    "uint24": _codec("uint24", ctypes.c_uint32),
    "uint32": _codec("uint32", ctypes.c_uint32),
    "uint64": _codec("uint64", ctypes.c_uint64),
    "bool": _codec("bool", ctypes.c_bool),
    "ipv4_address": _codec("ipv4_address", _AP, FlAddr),
    "ipv6_address": _codec("ipv6_address", _AP, FlAddr),
    "ip_address": _codec("ip_address", _AP, FlAddr),
}
_fixed_pre = bind("fl_enc_fixed_preencode", _void, _ES, _size)
_fixed_enc = bind("fl_enc_fixed_encode", _int, _ES, ctypes.c_char_p, _size)
_fixed_dec = bind("fl_enc_fixed_decode", _int, _DS, _size, ctypes.POINTER(c_u8_p))
_buffer_pre = bind("fl_enc_buffer_preencode", _void, _ES, _size)
_buffer_enc = bind("fl_enc_buffer_encode", _int, _ES, ctypes.c_char_p, _size)
_buffer_dec = bind("fl_enc_buffer_decode", _int, _DS, ctypes.POINTER(c_u8_p), c_size_p)
_string_pre = bind("fl_enc_string_preencode", _void, _ES, _size)
_string_enc = bind("fl_enc_string_encode", _int, _ES, ctypes.c_char_p, _size)
_string_dec = bind("fl_enc_string_decode", _int, _DS, ctypes.POINTER(c_u8_p), c_size_p)
_alen_pre = bind("fl_enc_array_len_preencode", _void, _ES, _size)
_alen_enc = bind("fl_enc_array_len_encode", _int, _ES, _size)
_alen_dec = bind("fl_enc_array_decode_len", _int, _DS, _size, _size, c_size_p)
_flags_pre = bind("fl_enc_flags_preencode", _void, _ES, ctypes.c_uint64)
_flags_enc = bind("fl_enc_flags_encode", _int, _ES, ctypes.c_uint64)
_flags_dec = bind("fl_enc_flags_decode", _int, _DS, ctypes.c_uint64, ctypes.c_bool,
                  ctypes.POINTER(ctypes.c_uint64))


# ---- plumbing ---------------------------------------------------------------

def _encode(steps):
    """steps: list of (preencode(state), encode(state) -> rc). Sizes all with
    preencode, encodes all, and checks the total matches exactly."""
    pre = EncState(None, 0, 0)
    for p, _ in steps:
        p(ctypes.byref(pre))
    buf = (ctypes.c_uint8 * max(pre.end, 1))()
    st = EncState(ctypes.cast(buf, c_u8_p), 0, pre.end)
    for _, e in steps:
        check(e(ctypes.byref(st)), "encode")
    if st.start != pre.end:
        raise AssertionError(f"encoded {st.start} bytes, preencode said {pre.end}")
    return bytes(buf[: pre.end])


class _Reader:
    """A decode state over a private copy of data (C lends pointers into it)."""

    def __init__(self, data, offset=0):
        data = bytes(data)
        self._keep = (ctypes.c_uint8 * max(len(data), 1)).from_buffer_copy(data or b"\0")
        self.state = DecState(ctypes.cast(self._keep, c_u8_p), offset, len(data))
        if offset > len(data):
            raise FlockError(FL_ERR_INVALID, "offset past end")

    @property
    def ref(self):
        return ctypes.byref(self.state)

    def lent(self, ptr, n):
        """Copy n lent bytes out of the C buffer (NULL, 0 -> b'')."""
        return ctypes.string_at(ptr, n) if n else b""


# Python ints are unbounded and ctypes would silently truncate them, so each
# codec refuses what its C argument type cannot hold. (uint24 takes a
# uint32_t: C itself refuses 2^24 and up with FL_ERR_RANGE.)
_ARG_BITS = {"uint": 64, "uint8": 8, "uint16": 16, "uint24": 32, "uint32": 32, "uint64": 64}


def _int_codec(name):
    pre, enc, dec = _C[name]
    ctype = dec.argtypes[1]._type_
    bits = _ARG_BITS.get(name)

    def encode(v):
        if bits is not None and not 0 <= v < (1 << bits):
            raise OverflowError(f"encode_{name}: {v} does not fit in {bits} bits")
        return _encode([(lambda s: pre(s, v), lambda s: enc(s, v))])

    def decode(data, offset=0):
        r = _Reader(data, offset)
        out = ctype()
        check(dec(r.ref, ctypes.byref(out)), f"fl_enc_{name}_decode")
        return out.value, r.state.start - offset

    encode.__name__, decode.__name__ = f"encode_{name}", f"decode_{name}"
    return encode, decode


encode_uint, decode_uint = _int_codec("uint")
encode_uint8, decode_uint8 = _int_codec("uint8")
encode_uint16, decode_uint16 = _int_codec("uint16")
encode_uint24, decode_uint24 = _int_codec("uint24")
encode_uint32, decode_uint32 = _int_codec("uint32")
encode_uint64, decode_uint64 = _int_codec("uint64")
encode_bool, decode_bool = _int_codec("bool")


def uint_size(v):
    return _uint_size(v)


def utf8_valid(data):
    return bool(_utf8_valid(bytes(data), len(data)))


# ---- bytes --------------------------------------------------------------------

def encode_fixed(data):
    data = bytes(data)
    return _encode([(lambda s: _fixed_pre(s, len(data)), lambda s: _fixed_enc(s, data, len(data)))])


def decode_fixed(data, n, offset=0):
    r = _Reader(data, offset)
    p = c_u8_p()
    check(_fixed_dec(r.ref, n, ctypes.byref(p)), "fl_enc_fixed_decode")
    return r.lent(p, n), n


def _lenpref(pre, enc, dec, name):
    def encode(data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        data = bytes(data)
        return _encode([(lambda s: pre(s, len(data)), lambda s: enc(s, data, len(data)))])

    def decode(data, offset=0):
        r = _Reader(data, offset)
        p, n = c_u8_p(), ctypes.c_size_t()
        check(dec(r.ref, ctypes.byref(p), ctypes.byref(n)), f"fl_enc_{name}_decode")
        return r.lent(p, n.value), r.state.start - offset

    encode.__name__, decode.__name__ = f"encode_{name}", f"decode_{name}"
    return encode, decode


encode_buffer, decode_buffer = _lenpref(_buffer_pre, _buffer_enc, _buffer_dec, "buffer")
# decode_string returns bytes: C passes them through without UTF-8 checks.
encode_string, decode_string = _lenpref(_string_pre, _string_enc, _string_dec, "string")


# ---- arrays and flags ----------------------------------------------------------

def encode_array_len(n):
    return _encode([(lambda s: _alen_pre(s, n), lambda s: _alen_enc(s, n))])


def decode_array_len(data, max_len=ARRAY_MAX, elem_min=0, offset=0):
    r = _Reader(data, offset)
    n = ctypes.c_size_t()
    check(_alen_dec(r.ref, max_len, elem_min, ctypes.byref(n)), "fl_enc_array_decode_len")
    return n.value, r.state.start - offset


def encode_array(items, encode_item):
    """A count then each item's encoding (encode_item(x) -> bytes)."""
    items = list(items)
    return encode_array_len(len(items)) + b"".join(encode_item(x) for x in items)


def decode_array(data, decode_item, elem_min=1, max_len=ARRAY_MAX):
    """Decode a count then items with decode_item(data, offset) -> (v, used)."""
    n, off = decode_array_len(data, max_len, elem_min)
    out = []
    for _ in range(n):
        v, used = decode_item(data, offset=off)
        out.append(v)
        off += used
    return out, off


def encode_flags(flags):
    return _encode([(lambda s: _flags_pre(s, flags), lambda s: _flags_enc(s, flags))])


def decode_flags(data, allowed_mask=(1 << 64) - 1, strict=False, offset=0):
    r = _Reader(data, offset)
    out = ctypes.c_uint64()
    check(_flags_dec(r.ref, allowed_mask, strict, ctypes.byref(out)), "fl_enc_flags_decode")
    return out.value, r.state.start - offset


# ---- addresses -------------------------------------------------------------------

def to_fl_addr(host, port, family=None):
    """An FlAddr from text; family 4 or 6 is inferred from the host."""
    ip = ipaddress.ip_address(host)
    a = FlAddr()
    a.family = family if family is not None else (FL_ADDR_IPV4 if ip.version == 4 else FL_ADDR_IPV6)
    packed = ip.packed
    ctypes.memmove(a.ip, packed, len(packed))
    a.port = port
    return a


def from_fl_addr(a):
    if a.family == FL_ADDR_IPV4:
        host = str(ipaddress.IPv4Address(bytes(a.ip[:4])))
    else:
        host = str(ipaddress.IPv6Address(bytes(a.ip)))
    return Address(host, a.family, a.port)


def _addr_codec(name):
    pre, enc, dec = _C[name]

    def encode(host, port, family=None):
        a = to_fl_addr(host, port, family)
        return _encode([(lambda s: pre(s, ctypes.byref(a)), lambda s: enc(s, ctypes.byref(a)))])

    def decode(data, offset=0):
        r = _Reader(data, offset)
        a = FlAddr()
        check(dec(r.ref, ctypes.byref(a)), f"fl_enc_{name}_decode")
        return from_fl_addr(a), r.state.start - offset

    encode.__name__, decode.__name__ = f"encode_{name}", f"decode_{name}"
    return encode, decode


encode_ipv4_address, decode_ipv4_address = _addr_codec("ipv4_address")
encode_ipv6_address, decode_ipv6_address = _addr_codec("ipv6_address")
encode_ip_address, decode_ip_address = _addr_codec("ip_address")
