"""Seeded random record messages in the JS shapes of hyperdht's lib/messages.js."""
import random

KINDS = ("peer", "announce", "lookup", "mutablePut", "mutableGet")


def _hexb(rng, n):
    return bytes(rng.getrandbits(8) for _ in range(n)).hex()


def _uint(rng):
    # Every varint width: 1, 3, 5 and 9 bytes (within JS's 2^53 - 1).
    return rng.choice([rng.randrange(0, 0xfd), rng.randrange(0xfd, 1 << 16),
                       rng.randrange(1 << 16, 1 << 32), rng.randrange(1 << 32, 1 << 53)])


def peer(rng, relays_max=3):
    return {"publicKey": _hexb(rng, 32),
            "relayAddresses": [{"host": ".".join(str(rng.randrange(256)) for _ in range(4)),
                                "port": rng.randrange(1, 65536)}
                               for _ in range(rng.randrange(relays_max + 1))]}


def message(rng, kind):
    if kind == "peer":
        return peer(rng)
    if kind == "announce":
        return {"peer": peer(rng) if rng.random() < 0.8 else None,
                "refresh": _hexb(rng, 32) if rng.random() < 0.3 else None,
                "signature": _hexb(rng, 64) if rng.random() < 0.8 else None,
                "bump": _uint(rng) if rng.random() < 0.5 else 0}
    if kind == "lookup":
        return {"peers": [peer(rng) for _ in range(rng.randrange(21))], "bump": _uint(rng)}
    m = {"seq": _uint(rng), "value": _hexb(rng, rng.choice([0, 1, 5, 300, 1000])),
         "signature": _hexb(rng, 64)}
    if kind == "mutablePut":
        m["publicKey"] = _hexb(rng, 32)
    return m


def rng_for(seed, salt):
    return random.Random(f"{seed}:{salt}")
