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


# ==== Records: announce, lookup, find-peer, mutable and immutable values =====
# (flock/hyperdht.h, second half). Messages convert to and from the shapes of
# hyperdht's lib/messages.js with keys, signatures and values as hex strings,
# so tests compare them with JSON from node.

CMD = dict(PEER_HANDSHAKE=0, PEER_HOLEPUNCH=1, FIND_PEER=2, LOOKUP=3, ANNOUNCE=4, UNANNOUNCE=5,
           MUTABLE_PUT=6, MUTABLE_GET=7, IMMUTABLE_PUT=8, IMMUTABLE_GET=9, PLUGIN=10)
NS_ANNOUNCE, NS_UNANNOUNCE = 4, 5
RELAYS_MAX = 3
LOOKUP_PEERS_MAX = 20
ACTION_SILENT, ACTION_REPLY, ACTION_NOT_MINE = 0, 1, 2
_u8 = ctypes.c_uint8


class Peer(ctypes.Structure):
    _fields_ = [("public_key", _u8 * 32), ("relays_len", _sz), ("relays", Addr * RELAYS_MAX),
                ("relays_wire", _sz), ("relays_raw", ctypes.c_void_p)]


class Announce(ctypes.Structure):
    _fields_ = [("has_peer", ctypes.c_bool), ("peer", Peer), ("has_refresh", ctypes.c_bool),
                ("refresh", _u8 * 32), ("has_signature", ctypes.c_bool),
                ("signature", _u8 * 64), ("bump", ctypes.c_uint64)]


class LookupReply(ctypes.Structure):
    _fields_ = [("peers_len", _sz), ("peers", Peer * LOOKUP_PEERS_MAX), ("bump", ctypes.c_uint64)]


class Mutable(ctypes.Structure):
    _fields_ = [("public_key", _u8 * 32), ("seq", ctypes.c_uint64),
                ("value", ctypes.c_void_p), ("value_len", _sz), ("signature", _u8 * 64)]


class StoreConfig(ctypes.Structure):
    _fields_ = [(n, _sz) for n in ("records_max", "forwards_max", "bumps_max", "refreshes_max",
                                   "mutables_max", "immutables_max", "value_bytes_max")] + \
               [("max_age_us", ctypes.c_uint64), ("values_max_age_us", ctypes.c_uint64)]


class CacheStats(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint64) for n in ("current", "high_water", "evicted", "rotations",
                                                "bytes", "bytes_high_water")]


_CACHES = ("records", "topics", "forwards", "bumps", "refreshes", "mutables", "immutables")
_COUNTERS = ("replied", "err_unknown_command", "err_invalid_token", "err_seq_reused",
             "err_seq_too_low", "drop_no_target", "drop_no_token", "drop_no_value",
             "drop_decode", "drop_signature", "drop_hash", "drop_too_large",
             "drop_refresh_unknown", "drop_plugin", "drop_nomem")


class StoreStats(ctypes.Structure):
    _fields_ = [(n, CacheStats) for n in _CACHES] + [(n, ctypes.c_uint64) for n in _COUNTERS]

    def as_dict(self):
        d = {n: getattr(self, n) for n in _COUNTERS}
        for n in _CACHES:
            c = getattr(self, n)
            d[n] = {f: getattr(c, f) for f, _ in CacheStats._fields_}
        return d


class Request(ctypes.Structure):
    _fields_ = [("command", ctypes.c_uint64), ("target", ctypes.c_char_p),
                ("token", ctypes.c_char_p), ("token_valid", ctypes.c_bool),
                ("value", ctypes.c_char_p), ("value_len", _sz), ("from_", Addr),
                ("unix_ms", ctypes.c_uint64)]


class Reply(ctypes.Structure):
    _fields_ = [("action", ctypes.c_int), ("error", ctypes.c_uint64), ("token", ctypes.c_bool),
                ("closer_nodes", ctypes.c_bool), ("has_value", ctypes.c_bool),
                ("value_len", _sz)]


_P = ctypes.POINTER
_int = ctypes.c_int
for _n, _t in (("announce", Announce), ("lookup_reply", LookupReply), ("mutable", Mutable)):
    assert bind(f"fl_hyperdht_{_n}_struct_size", _sz)() == ctypes.sizeof(_t), f"{_n} layout drifted"
assert bind("fl_hyperdht_store_stats_struct_size", _sz)() == ctypes.sizeof(StoreStats)
VALUE_MAX = bind("fl_hyperdht_value_max", _sz)()
REPLY_VALUE_MAX = bind("fl_hyperdht_reply_value_max", _sz)()

_peer_encode = bind("fl_hyperdht_peer_encode", _int, _P(Peer), _u8p, _sz, _P(_sz))
_peer_decode = bind("fl_hyperdht_peer_decode", _int, _P(Peer), ctypes.c_char_p, _sz)
_ann_encode = bind("fl_hyperdht_announce_encode", _int, _P(Announce), _u8p, _sz, _P(_sz))
_ann_decode = bind("fl_hyperdht_announce_decode", _int, _P(Announce), ctypes.c_char_p, _sz)
_look_encode = bind("fl_hyperdht_lookup_reply_encode", _int, _P(LookupReply), _u8p, _sz, _P(_sz))
_look_decode = bind("fl_hyperdht_lookup_reply_decode", _int, _P(LookupReply), ctypes.c_char_p,
                    _sz)
_mut_encode = bind("fl_hyperdht_mutable_encode", _int, _P(Mutable), ctypes.c_bool, _u8p, _sz,
                   _P(_sz))
_mut_decode = bind("fl_hyperdht_mutable_decode", _int, _P(Mutable), ctypes.c_bool,
                   ctypes.c_char_p, _sz)
_target = bind("fl_hyperdht_target", _int, _u8p, ctypes.c_char_p, _sz)
_ann_signable = bind("fl_hyperdht_announce_signable", _int, _u8p, _int, ctypes.c_char_p,
                     ctypes.c_char_p, ctypes.c_char_p, _P(Peer), ctypes.c_char_p)
_mut_signable = bind("fl_hyperdht_mutable_signable", _int, _u8p, ctypes.c_uint64,
                     ctypes.c_char_p, _sz)
_ann_sign = bind("fl_hyperdht_announce_sign", _int, _P(Announce), _int, ctypes.c_char_p,
                 ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p)
_ann_verify = bind("fl_hyperdht_announce_verify", _int, _P(Announce), _int, ctypes.c_char_p,
                   ctypes.c_char_p, ctypes.c_char_p)
_mut_sign = bind("fl_hyperdht_mutable_sign", _int, _P(Mutable), ctypes.c_char_p)
_mut_verify = bind("fl_hyperdht_mutable_verify", _int, _P(Mutable), ctypes.c_char_p)
_cfg_default = bind("fl_hyperdht_store_config_default", None, _P(StoreConfig))
_store_new = bind("fl_hyperdht_store_new", _int, _P(ctypes.c_void_p), ctypes.c_void_p,
                  _P(StoreConfig), ctypes.c_char_p, ctypes.c_uint64)
_store_free = bind("fl_hyperdht_store_free", None, ctypes.c_void_p)
_store_deadline = bind("fl_hyperdht_store_next_deadline", ctypes.c_uint64, ctypes.c_void_p)
_store_timeout = bind("fl_hyperdht_store_handle_timeout", _int, ctypes.c_void_p, ctypes.c_uint64)
_store_stats = bind("fl_hyperdht_store_get_stats", None, ctypes.c_void_p, _P(StoreStats))
_store_check = bind("fl_hyperdht_store_check", _int, ctypes.c_void_p)
_store_handle = bind("fl_hyperdht_store_handle", _int, ctypes.c_void_p, ctypes.c_uint64,
                     ctypes.c_char_p, _P(Request), _u8p, _sz, _P(Reply))


def _out_buf(size=8192):
    return (ctypes.c_uint8 * size)(), _sz()


def _hex(b):
    return bytes(b).hex()


def _fix(h, n, what):
    b = bytes.fromhex(h) if isinstance(h, str) else bytes(h)
    if len(b) != n:
        raise ValueError(f"{what} must be {n} bytes")
    return b


def target(data):
    """H(data): the target of FIND_PEER / mutables (data = public key) and immutables."""
    out = (ctypes.c_uint8 * 32)()
    check(_target(out, bytes(data), len(data)), "fl_hyperdht_target")
    return bytes(out)


def _peer_to_js(p):
    return {"publicKey": _hex(p.public_key),
            "relayAddresses": [_addr_to_js(p.relays[i]) for i in range(p.relays_len)]}


def _peer_from_js(d, p=None):
    p = p or Peer()
    p.public_key[:] = _fix(d["publicKey"], 32, "publicKey")
    addrs = d.get("relayAddresses") or []
    if len(addrs) > RELAYS_MAX:
        raise ValueError("at most 3 relay addresses")
    p.relays_len = len(addrs)
    for i, a in enumerate(addrs):
        p.relays[i] = _addr_from_js(a)
    return p


def announce_from_js(d):
    a = Announce()
    if d.get("peer"):
        a.has_peer = True
        _peer_from_js(d["peer"], a.peer)
    if d.get("refresh"):
        a.has_refresh = True
        a.refresh[:] = _fix(d["refresh"], 32, "refresh")
    if d.get("signature"):
        a.has_signature = True
        a.signature[:] = _fix(d["signature"], 64, "signature")
    a.bump = d.get("bump") or 0
    return a


def announce_to_js(a):
    return {"peer": _peer_to_js(a.peer) if a.has_peer else None,
            "refresh": _hex(a.refresh) if a.has_refresh else None,
            "signature": _hex(a.signature) if a.has_signature else None,
            "bump": a.bump}


def encode(kind, msg):
    """Encode a JS-shaped message: kind is peer, announce, lookup, mutablePut or mutableGet."""
    out, n = _out_buf()
    if kind == "peer":
        check(_peer_encode(ctypes.byref(_peer_from_js(msg)), out, len(out), ctypes.byref(n)))
    elif kind == "announce":
        check(_ann_encode(ctypes.byref(announce_from_js(msg)), out, len(out), ctypes.byref(n)))
    elif kind == "lookup":
        r = LookupReply()
        r.peers_len = len(msg["peers"])
        for i, p in enumerate(msg["peers"]):
            _peer_from_js(p, r.peers[i])
        r.bump = msg.get("bump") or 0
        check(_look_encode(ctypes.byref(r), out, len(out), ctypes.byref(n)))
    elif kind in ("mutablePut", "mutableGet"):
        m, keep = _mutable_from_js(msg, kind == "mutablePut")
        check(_mut_encode(ctypes.byref(m), kind == "mutablePut", out, len(out), ctypes.byref(n)))
        del keep
    else:
        raise ValueError(kind)
    return bytes(out)[:n.value]


def _mutable_from_js(msg, with_key):
    m = Mutable()
    if with_key:
        m.public_key[:] = _fix(msg["publicKey"], 32, "publicKey")
    m.seq = msg["seq"]
    value = ctypes.create_string_buffer(bytes.fromhex(msg["value"]), len(msg["value"]) // 2 or 1)
    m.value = ctypes.cast(value, ctypes.c_void_p)
    m.value_len = len(msg["value"]) // 2
    m.signature[:] = _fix(msg.get("signature") or "00" * 64, 64, "signature")
    return m, value


def _mutable_to_js(m, with_key):
    d = {"seq": m.seq, "value": ctypes.string_at(m.value, m.value_len).hex() if m.value_len else "",
         "signature": _hex(m.signature)}
    if with_key:
        d["publicKey"] = _hex(m.public_key)
    return d


def decode(kind, data):
    """Decode bytes to a JS-shaped message; (msg, bytes consumed). Raises FlockError."""
    data = bytes(data)
    if kind == "peer":
        p = Peer()
        n = check(_peer_decode(ctypes.byref(p), data, len(data)), "fl_hyperdht_peer_decode")
        return _peer_to_js(p), n
    if kind == "announce":
        a = Announce()
        n = check(_ann_decode(ctypes.byref(a), data, len(data)), "fl_hyperdht_announce_decode")
        return announce_to_js(a), n
    if kind == "lookup":
        r = LookupReply()
        n = check(_look_decode(ctypes.byref(r), data, len(data)), "fl_hyperdht_lookup_reply_decode")
        return {"peers": [_peer_to_js(r.peers[i]) for i in range(r.peers_len)], "bump": r.bump}, n
    if kind in ("mutablePut", "mutableGet"):
        m = Mutable()
        buf = ctypes.create_string_buffer(data, len(data) or 1)
        n = check(_mut_decode(ctypes.byref(m), kind == "mutablePut", buf, len(data)),
                  "fl_hyperdht_mutable_decode")
        return _mutable_to_js(m, kind == "mutablePut"), n
    raise ValueError(kind)


def announce_signable(ns, target_, node_id, token, peer, refresh=None):
    out = (ctypes.c_uint8 * 64)()
    p = _peer_from_js(peer)
    check(_ann_signable(out, ns, _fix(target_, 32, "target"), _fix(node_id, 32, "node id"),
                        _fix(token, 32, "token"), ctypes.byref(p),
                        _fix(refresh, 32, "refresh") if refresh else None),
          "fl_hyperdht_announce_signable")
    return bytes(out)


def mutable_signable(seq, value):
    out = (ctypes.c_uint8 * 64)()
    check(_mut_signable(out, seq, bytes(value), len(value)), "fl_hyperdht_mutable_signable")
    return bytes(out)


def sign_announce(msg, ns, target_, node_id, token, secret_key):
    """Return msg (JS shape) with its signature set, signed by secret_key (64 bytes)."""
    a = announce_from_js(msg)
    check(_ann_sign(ctypes.byref(a), ns, _fix(target_, 32, "target"), _fix(node_id, 32, "id"),
                    _fix(token, 32, "token"), _fix(secret_key, 64, "secret key")),
          "fl_hyperdht_announce_sign")
    return announce_to_js(a)


def verify_announce_bytes(value, ns, target_, node_id, token):
    """Decode an announce value and verify it as the server does: True/False."""
    a = Announce()
    buf = ctypes.create_string_buffer(bytes(value), len(value) or 1)
    check(_ann_decode(ctypes.byref(a), buf, len(value)), "fl_hyperdht_announce_decode")
    rc = _ann_verify(ctypes.byref(a), ns, _fix(target_, 32, "target"), _fix(node_id, 32, "id"),
                     _fix(token, 32, "token"))
    if rc not in (0, -5):
        check(rc, "fl_hyperdht_announce_verify")
    return rc == 0


def sign_mutable(seq, value, secret_key):
    """The signature of a mutable record (64 bytes)."""
    m, keep = _mutable_from_js({"seq": seq, "value": bytes(value).hex(),
                                "publicKey": "00" * 32}, False)
    check(_mut_sign(ctypes.byref(m), _fix(secret_key, 64, "secret key")), "fl_hyperdht_mutable_sign")
    del keep
    return bytes(m.signature)


def verify_mutable(signature, seq, value, public_key):
    m, keep = _mutable_from_js({"seq": seq, "value": bytes(value).hex(),
                                "signature": bytes(signature).hex()}, False)
    rc = _mut_verify(ctypes.byref(m), _fix(public_key, 32, "public key"))
    del keep
    if rc not in (0, -5):
        check(rc, "fl_hyperdht_mutable_verify")
    return rc == 0


def default_store_config():
    c = StoreConfig()
    _cfg_default(ctypes.byref(c))
    return c


class Store:
    """A node's record stores and the server side of commands 2..10."""

    def __init__(self, seed=b"\x01" * 32, now_us=0, **limits):
        cfg = default_store_config()
        for k, v in limits.items():
            setattr(cfg, k, v)
        self._p = ctypes.c_void_p()
        check(_store_new(ctypes.byref(self._p), None, ctypes.byref(cfg), _fix(seed, 32, "seed"),
                         now_us), "fl_hyperdht_store_new")
        self._buf = (ctypes.c_uint8 * REPLY_VALUE_MAX)()

    def close(self):
        if self._p:
            _store_free(self._p)
            self._p = ctypes.c_void_p()

    def __del__(self):
        self.close()

    def handle(self, now_us, command, target_=None, token=None, value=None, node_id=b"\xbb" * 32,
               token_valid=True, host="127.0.0.1", port=40000, unix_ms=0):
        """Serve one request: a dict {action, rc, error, token, closerNodes, value}."""
        r = Request()
        r.command = command
        r.target = _fix(target_, 32, "target") if target_ is not None else None
        r.token = _fix(token, 32, "token") if token is not None else None
        r.token_valid = token_valid
        value = bytes(value) if value is not None else None
        r.value = value
        r.value_len = len(value) if value is not None else 0
        r.from_ = _addr_from_js({"host": host, "port": port})
        r.unix_ms = unix_ms
        out = Reply()
        rc = _store_handle(self._p, now_us, node_id, ctypes.byref(r), self._buf, len(self._buf),
                           ctypes.byref(out))
        if rc == -1 or rc == -4:
            check(rc, "fl_hyperdht_store_handle")
        res = {"rc": rc, "action": out.action}
        if out.action == ACTION_REPLY:
            res.update(error=out.error, token=out.token, closerNodes=out.closer_nodes,
                       value=bytes(self._buf)[:out.value_len] if out.has_value else None)
        return res

    def handle_timeout(self, now_us):
        check(_store_timeout(self._p, now_us), "fl_hyperdht_store_handle_timeout")

    def next_deadline(self):
        return _store_deadline(self._p)

    def stats(self):
        s = StoreStats()
        _store_stats(self._p, ctypes.byref(s))
        return s.as_dict()

    def check(self):
        return _store_check(self._p)
