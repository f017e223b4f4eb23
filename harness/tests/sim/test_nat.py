"""The RFC 4787 NAT table through the Python bindings: raw datagrams between
simulated hosts. The expected cells are derived by hand from the RFC's
definitions (see io_sim/test/sim_nat_test.c for the derivation):

(a) a third host's unsolicited datagram to A's mapped address gets in iff
    A's box filters endpoint-independently;
(b) A and B, each sending only to the other's mapped address as a third host
    saw it, both receive iff each receiving box lets the other in: EI
    filtering always; AD filtering iff the receiver maps EI; APD filtering
    iff both map EI.
"""
import itertools

import pytest

from flock.sim import Addr, NatConfig, Sim

EI, AD, APD = 0, 1, 2
TYPES = [(m, f) for m in (EI, AD, APD) for f in (EI, AD, APD)]
NAME = {EI: "EI", AD: "AD", APD: "APD"}
LAT = 10_000
EXPECT_A = "100100100"
EXPECT_B = ["111100100", "111100100", "111000000", "110100100", "000000000",
            "000000000", "110100100", "000000000", "000000000"]


def new_sim(seed):
    s = Sim(seed)
    s.set_latency(0, LAT, 0)
    return s


def natted(s, m, f, ports, server):
    cfg = NatConfig(m, f, ports, 0, 0, 0, 120_000_000)
    nat = s.nat_new(cfg)
    h = s.host_new(0, nat, 0)
    s.send(h, s.addr(server), b"hello")
    s.run_until(s.now() + 2 * LAT, 0)
    got = s.recv(server)
    assert got is not None, "the server must hear the NATed host"
    return h, got[0]


@pytest.mark.parametrize("i", range(9), ids=lambda i: "%s/%s" % (NAME[TYPES[i][0]], NAME[TYPES[i][1]]))
def test_unsolicited_from_third_host(i, test_seed):
    s = new_sim(test_seed)
    srv, third = s.host_new(0, -1, 0), s.host_new(0, -1, 0)
    a, mapped = natted(s, *TYPES[i], 1, srv)
    s.send(third, mapped, b"unsolicited")
    s.run_until(s.now() + 2 * LAT, 0)
    assert (s.recv(a) is not None) == (EXPECT_A[i] == "1")
    s.close()


@pytest.mark.parametrize("ports", [0, 1, 2], ids=["preserve", "sequential", "random"])
def test_simultaneous_exchange_table(ports, test_seed):
    got = []
    for i, j in itertools.product(range(9), range(9)):
        s = new_sim(test_seed)
        srv = s.host_new(0, -1, 0)
        a, am = natted(s, *TYPES[i], ports, srv)
        b, bm = natted(s, *TYPES[j], ports, srv)
        s.send(a, bm, b"a->b")
        s.send(b, am, b"b->a")
        s.run_until(s.now() + 3 * LAT, 0)
        got.append("1" if s.recv(a) and s.recv(b) else "0")
        s.close()
    table = ["".join(got[r * 9:(r + 1) * 9]) for r in range(9)]
    assert table == EXPECT_B


def test_hairpin_and_expiry(test_seed):
    for hairpin in (0, 1):
        s = new_sim(test_seed)
        nat = s.nat_new(NatConfig(EI, EI, 0, hairpin, 0, 0, 120_000_000))
        srv = s.host_new(0, -1, 0)
        h1, h2 = s.host_new(0, nat, 0), s.host_new(0, nat, 0)
        s.send(h1, s.addr(srv), b"1")
        s.send(h2, s.addr(srv), b"2")
        s.run_until(s.now() + 2 * LAT, 0)
        m1, m2 = s.recv(srv)[0], s.recv(srv)[0]
        s.send(h1, m2, b"hairpin")
        s.run_until(s.now() + 2 * LAT, 0)
        got = s.recv(h2)
        assert (got is not None) == bool(hairpin)
        if got:
            assert str(got[0]) == str(m1), "hairpinned source is the mapped address"
        # Expiry: nothing refreshes the mappings for 120 s, then they are gone.
        s.run_until(121_000_000, 0)
        s.send(srv, m1, b"late")
        s.run_until(s.now() + 2 * LAT, 0)
        assert s.recv(h1) is None
        assert s.nat_mappings(nat) == 0
        s.close()
