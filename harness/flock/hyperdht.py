"""ctypes wrappers for core/hyperdht (flock/hyperdht.h): the peer handshake
payload codec and hyperdht's IK handshake.

Payloads convert to and from the shape hyperdht's lib/messages.js uses
(payload_to_js / payload_from_js), so tests compare them with JSON from node.
"""
import ctypes
from collections import namedtuple

from ._lib import bind, check, lib  # noqa: F401
from . import noise

ADDRS_MAX = 32
RELAYS_MAX = 32
_sz = ctypes.c_size_t
_u8p = ctypes.POINTER(ctypes.c_uint8)


class Addr(ctypes.Structure):
    _fields_ = [("family", ctypes.c_uint8), ("ip", ctypes.c_uint8 * 16), ("port", ctypes.c_uint16)]


class _Relay(ctypes.Structure):
    _fields_ = [("relay_address", Addr), ("peer_address", Addr)]


class _Holepunch(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint64), ("relays_len", _sz), ("relays", _Relay * RELAYS_MAX)]


class _Udx(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint64), ("reusable_socket", ctypes.c_bool),
                ("id", ctypes.c_uint64), ("seq", ctypes.c_uint64)]


class _SStream(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint64)]


class _RelayThrough(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint64), ("public_key", ctypes.c_uint8 * 32),
                ("token", ctypes.c_uint8 * 32)]


class Payload(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint64), ("error", ctypes.c_uint64),
                ("firewall", ctypes.c_uint64), ("has_holepunch", ctypes.c_bool),
                ("holepunch", _Holepunch), ("addresses4_len", _sz), ("addresses4", Addr * ADDRS_MAX),
                ("addresses6_len", _sz), ("addresses6", Addr * ADDRS_MAX),
                ("has_udx", ctypes.c_bool), ("udx", _Udx),
                ("has_secret_stream", ctypes.c_bool), ("secret_stream", _SStream),
                ("has_relay_through", ctypes.c_bool), ("relay_through", _RelayThrough),
                ("has_relay_addresses", ctypes.c_bool), ("relay_addresses_len", _sz),
                ("relay_addresses", Addr * ADDRS_MAX)]


class _Result(ctypes.Structure):
    _fields_ = [("is_initiator", ctypes.c_bool), ("public_key", ctypes.c_uint8 * 32),
                ("remote_public_key", ctypes.c_uint8 * 32), ("hash", ctypes.c_uint8 * 64),
                ("tx", ctypes.c_uint8 * 32), ("rx", ctypes.c_uint8 * 32),
                ("holepunch_secret", ctypes.c_uint8 * 32)]


Result = namedtuple("Result", "is_initiator public_key remote_public_key hash tx rx holepunch_secret")

_struct_size = bind("fl_hyperdht_noise_payload_struct_size", _sz)
assert _struct_size() == ctypes.sizeof(Payload), "fl_hyperdht_noise_payload layout drifted"
_init = bind("fl_hyperdht_noise_payload_init", None, ctypes.POINTER(Payload))
_size = bind("fl_hyperdht_noise_payload_size", ctypes.c_int, ctypes.POINTER(Payload))
_encode = bind("fl_hyperdht_noise_payload_encode", ctypes.c_int, ctypes.POINTER(Payload), _u8p,
               _sz, ctypes.POINTER(_sz))
_decode = bind("fl_hyperdht_noise_payload_decode", ctypes.c_int, ctypes.POINTER(Payload),
               ctypes.c_char_p, _sz)
_hs_new = bind("fl_hyperdht_handshake_new", ctypes.c_int, ctypes.POINTER(ctypes.c_void_p),
               ctypes.c_void_p, ctypes.c_bool, ctypes.c_char_p, ctypes.c_char_p,
               ctypes.c_char_p, ctypes.c_void_p)
_hs_send = bind("fl_hyperdht_handshake_send", ctypes.c_int, ctypes.c_void_p,
                ctypes.POINTER(Payload), _u8p, _sz, ctypes.POINTER(_sz))
_hs_recv = bind("fl_hyperdht_handshake_recv", ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p,
                _sz, ctypes.POINTER(Payload))
_hs_final = bind("fl_hyperdht_handshake_final", ctypes.c_int, ctypes.c_void_p,
                 ctypes.POINTER(_Result))
_free = bind("fl_noise_free", None, ctypes.c_void_p)


def new_payload():
    p = Payload()
    _init(ctypes.byref(p))
    return p


def encode_payload(p):
    out = (ctypes.c_uint8 * 8192)()
    n = _sz()
    check(_encode(ctypes.byref(p), out, len(out), ctypes.byref(n)),
          "fl_hyperdht_noise_payload_encode")
    return bytes(out)[:n.value]


def decode_payload(data):
    """(Payload, bytes consumed); raises FlockError(FL_ERR_DECODE)."""
    p = Payload()
    n = check(_decode(ctypes.byref(p), bytes(data), len(data)), "fl_hyperdht_noise_payload_decode")
    return p, n


# ---- JS shapes (hyperdht lib/messages.js) ------------------------------------

def _addr_to_js(a):
    if a.family == 4:
        return {"host": ".".join(str(b) for b in a.ip[:4]), "port": a.port}
    groups = [a.ip[i] * 256 + a.ip[i + 1] for i in range(0, 16, 2)]
    return {"host": ":".join("%x" % g for g in groups), "port": a.port}


def _addr_from_js(d, v6=False):
    a = Addr()
    if v6:
        a.family = 6
        groups = [int(g, 16) for g in d["host"].split(":")]
        assert len(groups) == 8, "full-form IPv6 only"
        for i, g in enumerate(groups):
            a.ip[2 * i], a.ip[2 * i + 1] = g >> 8, g & 0xff
    else:
        a.family = 4
        for i, b in enumerate(d["host"].split(".")):
            a.ip[i] = int(b)
    a.port = d["port"]
    return a


def payload_to_js(p):
    """The object hyperdht's decoder returns for the same bytes."""
    if p.version != 1:
        return {"version": p.version, "error": 0, "firewall": 0, "holepunch": None,
                "addresses4": [], "addresses6": [], "udx": None, "secretStream": None,
                "relayThrough": None, "relayAddresses": None}
    hp = None
    if p.has_holepunch:
        hp = {"id": p.holepunch.id, "relays": [
            {"relayAddress": _addr_to_js(r.relay_address), "peerAddress": _addr_to_js(r.peer_address)}
            for r in p.holepunch.relays[:p.holepunch.relays_len]]}
    return {
        "version": p.version, "error": p.error, "firewall": p.firewall, "holepunch": hp,
        "addresses4": [_addr_to_js(a) for a in p.addresses4[:p.addresses4_len]],
        "addresses6": [_addr_to_js(a) for a in p.addresses6[:p.addresses6_len]],
        "udx": {"version": p.udx.version, "reusableSocket": p.udx.reusable_socket,
                "id": p.udx.id, "seq": p.udx.seq} if p.has_udx else None,
        "secretStream": {"version": p.secret_stream.version} if p.has_secret_stream else None,
        "relayThrough": {"version": p.relay_through.version,
                         "publicKey": bytes(p.relay_through.public_key).hex(),
                         "token": bytes(p.relay_through.token).hex()}
        if p.has_relay_through else None,
        "relayAddresses": [_addr_to_js(a) for a in p.relay_addresses[:p.relay_addresses_len]]
        if p.has_relay_addresses else None,
    }


def payload_from_js(d):
    p = new_payload()
    p.version = d.get("version", 1)
    p.error = d.get("error", 0)
    p.firewall = d.get("firewall", 0)
    if d.get("holepunch"):
        p.has_holepunch = True
        p.holepunch.id = d["holepunch"]["id"]
        relays = d["holepunch"]["relays"]
        p.holepunch.relays_len = len(relays)
        for i, r in enumerate(relays):
            p.holepunch.relays[i].relay_address = _addr_from_js(r["relayAddress"])
            p.holepunch.relays[i].peer_address = _addr_from_js(r["peerAddress"])
    for field, v6 in (("addresses4", False), ("addresses6", True)):
        lst = d.get(field) or []
        setattr(p, field + "_len", len(lst))
        for i, a in enumerate(lst):
            getattr(p, field)[i] = _addr_from_js(a, v6)
    if d.get("udx"):
        p.has_udx = True
        p.udx.version = d["udx"].get("version", 1)
        p.udx.reusable_socket = bool(d["udx"].get("reusableSocket"))
        p.udx.id = d["udx"]["id"]
        p.udx.seq = d["udx"].get("seq", 0)
    if d.get("secretStream"):
        p.has_secret_stream = True
        p.secret_stream.version = d["secretStream"].get("version", 1)
    if d.get("relayThrough"):
        rt = d["relayThrough"]
        p.has_relay_through = True
        p.relay_through.version = rt.get("version", 1)
        ctypes.memmove(p.relay_through.public_key, bytes.fromhex(rt["publicKey"]), 32)
        ctypes.memmove(p.relay_through.token, bytes.fromhex(rt["token"]), 32)
    if d.get("relayAddresses") is not None:
        p.has_relay_addresses = True
        p.relay_addresses_len = len(d["relayAddresses"])
        for i, a in enumerate(d["relayAddresses"]):
            p.relay_addresses[i] = _addr_from_js(a)
    return p


class Handshake:
    """hyperdht's IK handshake (fl_hyperdht_handshake_*)."""

    def __init__(self, initiator, sk, remote_pk=None, ephemeral_sk=None, drbg=None):
        self._p = None
        self._drbg = drbg
        p = ctypes.c_void_p()
        check(_hs_new(ctypes.byref(p), None, bool(initiator), bytes(sk), remote_pk, ephemeral_sk,
                      noise.drbg_ptr(drbg)),
              "fl_hyperdht_handshake_new")
        self._p = p

    def close(self):
        if self._p:
            _free(self._p)
            self._p = None

    def __del__(self):
        self.close()

    def send(self, payload):
        out = (ctypes.c_uint8 * noise.MSG_MAX)()
        n = _sz()
        check(_hs_send(self._p, ctypes.byref(payload), out, len(out), ctypes.byref(n)),
              "fl_hyperdht_handshake_send")
        return bytes(out)[:n.value]

    def recv(self, msg):
        p = Payload()
        check(_hs_recv(self._p, bytes(msg), len(msg), ctypes.byref(p)), "fl_hyperdht_handshake_recv")
        return p

    def final(self):
        r = _Result()
        check(_hs_final(self._p, ctypes.byref(r)), "fl_hyperdht_handshake_final")
        return Result(r.is_initiator, bytes(r.public_key), bytes(r.remote_public_key),
                      bytes(r.hash), bytes(r.tx), bytes(r.rx), bytes(r.holepunch_secret))
