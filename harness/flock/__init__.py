"""Python bindings for libflock (ctypes) and the test harness around them.

    from flock import lib, FlockError, version
    from flock import enc, crypto        # one module per layer

The shared library is found through $FLOCK_LIB (a path to libflock.so), else
$FLOCK_BUILD/lib/libflock.so, else <repo>/build/lib/libflock.so.
"""
from ._lib import FlockError, lib, version, strerror, ERRORS, check  # noqa: F401

__all__ = ["FlockError", "lib", "version", "strerror", "ERRORS", "check"]
