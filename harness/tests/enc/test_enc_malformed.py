"""Malformed input and misuse through ctypes: every decoder truncated at every
byte, over-long lengths, varints that would overflow a size, array limits,
encoders given values they cannot carry. Each asserts the exact code."""
import pytest

from flock import enc
from flock._lib import FL_ERR_DECODE, FL_ERR_INVALID, FL_ERR_RANGE, FlockError

# (name, encoded sample, decode(bytes) -> (value, used)) for every decoder.
SAMPLES = [
    ("uint/1", enc.encode_uint(0xFC), enc.decode_uint),
    ("uint/3", enc.encode_uint(0xFFFF), enc.decode_uint),
    ("uint/5", enc.encode_uint(0xFFFFFFFF), enc.decode_uint),
    ("uint/9", enc.encode_uint(2**64 - 1), enc.decode_uint),
    ("uint8", enc.encode_uint8(0xAB), enc.decode_uint8),
    ("uint16", enc.encode_uint16(0xABCD), enc.decode_uint16),
    ("uint24", enc.encode_uint24(0xABCDEF), enc.decode_uint24),
    ("uint32", enc.encode_uint32(0xDEADBEEF), enc.decode_uint32),
    ("uint64", enc.encode_uint64(2**64 - 2), enc.decode_uint64),
    ("bool", enc.encode_bool(True), enc.decode_bool),
    ("fixed32", enc.encode_fixed(bytes(range(32))), lambda b: enc.decode_fixed(b, 32)),
    ("fixed64", enc.encode_fixed(bytes(range(64))), lambda b: enc.decode_fixed(b, 64)),
    ("buffer/short", enc.encode_buffer(b"hello"), enc.decode_buffer),
    ("buffer/3-byte length", enc.encode_buffer(bytes(300)), enc.decode_buffer),
    ("string", enc.encode_string("h\u00e9llo \U0001f426"), enc.decode_string),
    ("array_len", enc.encode_array_len(70000), lambda b: enc.decode_array_len(b)),
    ("flags", enc.encode_flags(1 << 40), enc.decode_flags),
    ("ipv4_address", enc.encode_ipv4_address("127.0.0.1", 45003), enc.decode_ipv4_address),
    ("ipv6_address", enc.encode_ipv6_address("2001:db8::1", 1), enc.decode_ipv6_address),
    ("ip_address/4", enc.encode_ip_address("10.0.0.1", 2), enc.decode_ip_address),
    ("ip_address/6", enc.encode_ip_address("::1", 3), enc.decode_ip_address),
    ("ip_address/5", bytes([5]) + bytes(18), enc.decode_ip_address),
]


@pytest.mark.parametrize("name,full,decode", SAMPLES, ids=[s[0] for s in SAMPLES])
def test_every_truncation_is_decode_error(name, full, decode):
    value, used = decode(full)
    assert used == len(full)
    # Trailing bytes are left for the next field, never taken.
    assert decode(full + b"\x01\x02") == (value, len(full))
    for k in range(len(full)):
        with pytest.raises(FlockError) as e:
            decode(full[:k])
        assert e.value.code == FL_ERR_DECODE, f"{name} truncated to {k} bytes"


@pytest.mark.parametrize("hexed", [
    "05aabbccdd",            # says 5, carries 4
    "fd0001" + "00" * 255,   # says 256, carries 255
    "fe00000100",            # says 65536, carries 0
    "ffffffffffffffffff00",  # says 2^64-1: must not wrap into a small size
    "ff0000000000000080",    # says 2^63
])
def test_over_long_lengths_refused(hexed):
    b = bytes.fromhex(hexed)
    for decode in (enc.decode_buffer, enc.decode_string):
        with pytest.raises(FlockError) as e:
            decode(b)
        assert e.value.code == FL_ERR_DECODE


def test_array_count_limits():
    # The reference's limit itself passes; one more does not, whatever max says.
    assert enc.decode_array_len(enc.encode_array_len(enc.ARRAY_MAX), max_len=2**64 - 1) == (
        0x100000, 5)
    for count in (0x100001, 2**32, 2**64 - 1):
        raw = enc.encode_uint(count)
        with pytest.raises(FlockError) as e:
            enc.decode_array_len(raw, max_len=2**64 - 1)
        assert e.value.code == FL_ERR_DECODE
    # The caller's own max.
    with pytest.raises(FlockError) as e:
        enc.decode_array_len(enc.encode_array_len(21), max_len=20)
    assert e.value.code == FL_ERR_DECODE
    # A count that cannot fit in the bytes left: 3 addresses need 18 bytes.
    three = enc.encode_array_len(3) + bytes(18)
    assert enc.decode_array_len(three, elem_min=6) == (3, 1)
    with pytest.raises(FlockError) as e:
        enc.decode_array_len(three[:-1], elem_min=6)
    assert e.value.code == FL_ERR_DECODE
    # Encoding a count the reference could never decode.
    with pytest.raises(FlockError) as e:
        enc.encode_array_len(enc.ARRAY_MAX + 1)
    assert e.value.code == FL_ERR_RANGE


def test_array_decode_fails_when_an_element_is_missing():
    raw = enc.encode_array([1, 2, 3], enc.encode_uint)
    assert enc.decode_array(raw, enc.decode_uint) == ([1, 2, 3], len(raw))
    with pytest.raises(FlockError) as e:
        enc.decode_array(raw[:-1], enc.decode_uint, elem_min=0)
    assert e.value.code == FL_ERR_DECODE


def test_flags_strict_mask():
    raw = enc.encode_flags(0x21)
    assert enc.decode_flags(raw, allowed_mask=0x1F) == (0x21, 1)
    with pytest.raises(FlockError) as e:
        enc.decode_flags(raw, allowed_mask=0x1F, strict=True)
    assert e.value.code == FL_ERR_DECODE
    assert enc.decode_flags(raw, allowed_mask=0x3F, strict=True) == (0x21, 1)


def test_encoders_refuse_what_they_cannot_carry():
    with pytest.raises(FlockError) as e:
        enc.encode_uint24(1 << 24)
    assert e.value.code == FL_ERR_RANGE
    assert enc.encode_uint24((1 << 24) - 1) == b"\xff\xff\xff"
    with pytest.raises(FlockError) as e:
        enc.encode_ipv4_address("::1", 1)
    assert e.value.code == FL_ERR_INVALID
    with pytest.raises(FlockError) as e:
        enc.encode_ipv6_address("1.2.3.4", 1)
    assert e.value.code == FL_ERR_INVALID
    with pytest.raises(FlockError) as e:
        enc.encode_ip_address("1.2.3.4", 1, family=5)
    assert e.value.code == FL_ERR_INVALID
    with pytest.raises(OverflowError):
        enc.encode_uint(2**64)
    with pytest.raises(OverflowError):
        enc.encode_uint8(256)


def test_preencode_size_matches_every_width():
    for v, size in [(0, 1), (0xFC, 1), (0xFD, 3), (0xFFFF, 3), (0x10000, 5), (0xFFFFFFFF, 5),
                    (2**32, 9), (2**53, 9), (2**64 - 1, 9)]:
        assert enc.uint_size(v) == size
        b = enc.encode_uint(v)
        assert len(b) == size
        assert enc.decode_uint(b) == (v, size)


def test_decode_at_offset():
    raw = enc.encode_uint(7) + enc.encode_buffer(b"abc") + enc.encode_ipv4_address("1.2.3.4", 9)
    assert enc.decode_uint(raw) == (7, 1)
    assert enc.decode_buffer(raw, offset=1) == (b"abc", 4)
    assert enc.decode_ipv4_address(raw, offset=5) == (enc.Address("1.2.3.4", 4, 9), 6)
    with pytest.raises(FlockError) as e:
        enc.decode_uint(raw, offset=len(raw))
    assert e.value.code == FL_ERR_DECODE
    with pytest.raises(FlockError) as e:
        enc.decode_uint(raw, offset=len(raw) + 1)
    assert e.value.code == FL_ERR_INVALID
