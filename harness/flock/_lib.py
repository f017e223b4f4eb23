"""Loading libflock.so and the conventions every binding follows.

Every binding declares argtypes and restype. A function returning a negative
int raises FlockError(code, name) through `check`, so tests assert exact codes.
"""
import ctypes
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Mirrors enum in core/include/flock/common.h; test_common checks it against
# fl_strerror so the two cannot drift apart.
ERRORS = {
    0: "FL_OK",
    -1: "FL_ERR_INVALID",
    -2: "FL_ERR_DECODE",
    -3: "FL_ERR_NOMEM",
    -4: "FL_ERR_BUFFER",
    -5: "FL_ERR_CRYPTO",
    -6: "FL_ERR_RANGE",
    -7: "FL_ERR_LIMIT",
    -8: "FL_ERR_STATE",
    -9: "FL_ERR_TIMEOUT",
    -10: "FL_ERR_CLOSED",
    -11: "FL_ERR_NOT_FOUND",
    -12: "FL_ERR_PROTOCOL",
    -13: "FL_ERR_UNSUPPORTED",
    -14: "FL_ERR_REMOTE",
}
globals().update({name: code for code, name in ERRORS.items()})


class FlockError(Exception):
    """A negative return from libflock: .code (int) and .name ("FL_ERR_...")."""

    def __init__(self, code, where=""):
        self.code = code
        self.name = ERRORS.get(code, "FL_ERR_UNKNOWN")
        super().__init__(f"{where}: {self.name} ({code})" if where else f"{self.name} ({code})")


def library_path():
    if os.environ.get("FLOCK_LIB"):
        return Path(os.environ["FLOCK_LIB"])
    build = Path(os.environ.get("FLOCK_BUILD", REPO / "build"))
    return build / "lib" / "libflock.so"


def _load():
    path = library_path()
    if not path.exists():
        raise RuntimeError(f"{path} not found: build first (./run build) or set FLOCK_BUILD")
    return ctypes.CDLL(str(path))


lib = _load()


def bind(name, restype, *argtypes):
    """Declare a C function's types once; returns the ctypes function."""
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


def check(rc, where=""):
    """Raise FlockError for a negative return code; pass others through."""
    if rc < 0:
        raise FlockError(rc, where)
    return rc


_strerror = bind("fl_strerror", ctypes.c_char_p, ctypes.c_int)
_version = bind("fl_version", ctypes.c_char_p)
bind("fl_crypto_init", ctypes.c_int)
check(lib.fl_crypto_init(), "fl_crypto_init")


def strerror(code):
    return _strerror(code).decode()


def version():
    return _version().decode()
