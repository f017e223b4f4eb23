"""A node under a flood of 200,000 garbage datagrams from loopback keeps
answering pings, counts what it dropped, and its memory stays bounded
(peak RSS is printed and checked against a generous cap)."""
import json
import random
import socket
import time

from flock.posix import CTestnet, flocknet, proc_peak_rss_kib

FLOOD = 200_000
RSS_CAP_KIB = 64 * 1024  # the node's tables and queues are bounded far below this


def garbage(rng):
    """A varied pool of malformed packets: random bytes, truncated requests
    and responses, bad varints, oversized arrays, unknown commands, spoofed
    tids, UDX-looking bytes."""
    pool = []
    for n in range(512):
        kind = n % 8
        if kind == 0:
            p = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 120)))
        elif kind == 1:  # a request cut short somewhere
            full = bytes([0x03, 0x0d, 1, 2]) + bytes(6) + bytes(32) + bytes([2]) + bytes(32)
            p = full[:rng.randrange(0, len(full))]
        elif kind == 2:  # a response with a tid nobody asked for (spoofed)
            p = bytes([0x13, 0x01, rng.getrandbits(8), rng.getrandbits(8)]) + bytes(38)
        elif kind == 3:  # a command varint that never ends
            p = bytes([0x03, 0x04, 0, 0]) + bytes(6) + b"\xff" + b"\xff" * 3
        elif kind == 4:  # closerNodes count far larger than the datagram
            p = bytes([0x13, 0x05, 0, 0]) + bytes(6) + bytes(32) + b"\xfe\xff\xff\xff\x7f"
        elif kind == 5:  # an unknown internal command with a target
            p = bytes([0x03, 0x0c, 9, 9]) + bytes(6) + bytes([0x7e]) + bytes(32)
        elif kind == 6:  # a user command with a token that is not ours
            p = bytes([0x03, 0x12, 7, 7]) + bytes(6) + bytes(32) + bytes([77, 1, 0x41])
        else:  # UDX-looking bytes
            p = bytes([0xff, 0x01]) + bytes(rng.getrandbits(8) for _ in range(18))
        pool.append(p)
    return pool


def test_flood_of_garbage_leaves_node_answering_with_bounded_memory(test_seed):
    rng = random.Random(test_seed)
    pool = garbage(rng)
    with CTestnet(1, bootstrap_node=True) as net:
        node = net.nodes[0]
        addr = ("127.0.0.1", node["port"])
        rss_before = proc_peak_rss_kib(net.pid)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        sent, dropped_local, t0 = 0, 0, time.monotonic()
        # Bounded: exactly FLOOD attempts, and never more than 120 s.
        for i in range(FLOOD):
            try:
                s.sendto(pool[i % len(pool)], addr)
                sent += 1
            except BlockingIOError:
                dropped_local += 1
            if time.monotonic() - t0 > 120:
                break
        s.close()
        elapsed = time.monotonic() - t0
        r = flocknet("--json", "ping", f"127.0.0.1:{node['port']}", "--host", "127.0.0.1",
                     timeout=30)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["id"] == node["id"]
        info = net.call("info", 0)
        peak = proc_peak_rss_kib(net.pid)
        print(f"flood: {sent} garbage datagrams in {elapsed:.1f}s ({dropped_local} refused "
              f"locally); node received {info['rx_datagrams']}, dropped "
              f"decode={info['drop_decode']} short={info['drop_short']} "
              f"udx={info['drop_udx']} unknown={info['drop_unknown_type']}; "
              f"peak RSS {rss_before} KiB before, {peak} KiB after")
        assert sent + dropped_local == FLOOD
        # Most of the flood reached the node (the kernel may drop some under load).
        assert info["rx_datagrams"] >= sent // 4
        assert peak < RSS_CAP_KIB
