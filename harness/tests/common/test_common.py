"""The library loads, names its errors and reports its version."""
import ctypes
import re

from flock import ERRORS, FlockError, check, strerror, version
from flock._lib import bind


def test_version_is_semver_and_matches_number():
    v = version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", v)
    num = bind("fl_version_number", ctypes.c_uint32)()
    major, minor, patch = map(int, v.split("."))
    assert num == major * 10000 + minor * 100 + patch


def test_error_table_matches_the_library():
    for code, name in ERRORS.items():
        assert strerror(code) == name
    assert strerror(min(ERRORS) - 1) == "FL_ERR_UNKNOWN"


def test_check_raises_with_exact_code():
    try:
        check(-2, "decode")
    except FlockError as e:
        assert e.code == -2 and e.name == "FL_ERR_DECODE"
    else:
        raise AssertionError("check(-2) did not raise")
    assert check(3) == 3


def test_addr_parse_refuses_bad_text():
    class Addr(ctypes.Structure):
        _fields_ = [("family", ctypes.c_uint8), ("ip", ctypes.c_uint8 * 16), ("port", ctypes.c_uint16)]

    parse = bind("fl_addr_parse", ctypes.c_int, ctypes.POINTER(Addr), ctypes.c_char_p)
    a = Addr()
    assert parse(ctypes.byref(a), b"127.0.0.1:8080") == 0
    assert (a.family, bytes(a.ip[:4]), a.port) == (4, b"\x7f\x00\x00\x01", 8080)
    assert parse(ctypes.byref(a), b"127.0.0.1:99999") == ERRORS_BY_NAME["FL_ERR_INVALID"]


ERRORS_BY_NAME = {n: c for c, n in ERRORS.items()}
