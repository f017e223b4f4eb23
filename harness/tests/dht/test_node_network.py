"""Several fl_nodes in one process joined by a tiny virtual network (fixed
latency, virtual time): bootstrap, FIND_NODE exactness against a brute-force
sort, and a user command answered across nodes. The same drive loop the
drivers run, through the ctypes bindings."""
import heapq
import random

from flock import node as fn

LAT_US = 1000


class Net:
    def __init__(self):
        self.now = 1_000_000
        self.nodes = []       # (Node, server_port, client_port)
        self.by_port = {}
        self.q = []           # (at, seq, to_port, from, data)
        self.seq = 0

    def add(self, **kw):
        i = len(self.nodes)
        sp, cp = 20000 + 2 * i, 20001 + 2 * i
        n = fn.Node(now_us=self.now, host="127.0.0.1", **kw)
        n.open_sockets(self.now, sp, cp)
        self.nodes.append((n, sp, cp))
        self.by_port[sp] = (n, 0)
        self.by_port[cp] = (n, 1)
        self.drain(i)
        return n

    def drain(self, i):
        n, sp, cp = self.nodes[i]
        for sock, to, data in n.poll_transmits():
            if to[0] == "127.0.0.1" and to[1] in self.by_port:
                self.seq += 1
                frm = ("127.0.0.1", sp if sock == 0 else cp)
                heapq.heappush(self.q, (self.now + LAT_US, self.seq, to[1], frm, data))
        n.poll_events()

    def run(self, us, max_steps=2_000_000):
        until = self.now + us
        for _ in range(max_steps):
            t = min((n.next_deadline(), i) for i, (n, _, _) in enumerate(self.nodes))
            if self.q and self.q[0][0] <= t[0]:
                if self.q[0][0] > until:
                    break
                at, _, port, frm, data = heapq.heappop(self.q)
                self.now = max(self.now, at)
                n, sock = self.by_port[port]
                n.handle_datagram(self.now, sock, frm, data)
                self.drain([x[0] for x in self.nodes].index(n))
            else:
                if t[0] > until:
                    break
                self.now = max(self.now, t[0])
                self.nodes[t[1]][0].handle_timeout(self.now)
                self.drain(t[1])
        else:
            raise AssertionError("network did not settle within the step bound")
        self.now = until


def build(count, seed):
    net = Net()
    rng = random.Random(seed)
    net.add(seed=rng.randbytes(32), bootstrapper=("127.0.0.1", 20000), user_requests=True)
    for _ in range(count - 1):
        net.add(seed=rng.randbytes(32), mode="persistent", firewalled=False,
                bootstrap=[("127.0.0.1", 20000)], user_requests=True)
        net.run(20_000)
    net.run(20_000_000)
    return net, rng


def test_find_node_is_exact_in_a_virtual_network(test_seed):
    net, rng = build(30, test_seed)
    ids = {fn.node_id(("127.0.0.1", sp)): sp for _, sp, _ in net.nodes}
    for n, sp, _ in net.nodes:
        assert n.check() == 0
        assert n.state() & fn.S_BOOTSTRAPPED and n.id() == (fn.node_id(("127.0.0.1", sp)), True)
    for _ in range(5):
        target = rng.randbytes(32)
        i = rng.randrange(1, len(net.nodes))
        n, sp, _ = net.nodes[i]
        qid = n.find_node(net.now, target)
        net.drain(i)
        net.run(5_000_000)
        got = [e.key for e in n.events if e.type == fn.EVENT_DHT_QUERY_NODE and e.id == qid]
        done = [e for e in n.events if e.type == fn.EVENT_DHT_QUERY_DONE and e.id == qid]
        want = sorted((k for k, p in ids.items() if p != sp),
                      key=lambda k: bytes(a ^ b for a, b in zip(k, target)))[:20]
        assert done and done[0].code == 0 and done[0].arg == 20
        assert got == want


def test_user_command_across_nodes(test_seed):
    net, _ = build(3, test_seed)
    a, b = net.nodes[1][0], net.nodes[2][0]
    rid = a.request(net.now, ("127.0.0.1", net.nodes[2][1]), 42, value=b"ping?")
    net.drain(1)
    net.run(10_000)
    req, = [e for e in b.events if e.type == fn.EVENT_DHT_USER_REQUEST]
    assert req.code == 42 and req.data == b"ping?" and req.flags & fn.F_ID
    b.reply(net.now, req.id, b"pong!")
    net.drain(2)
    net.run(10_000)
    res, = [e for e in a.events if e.type == fn.EVENT_DHT_RESPONSE and e.id == rid]
    assert res.code == 0 and res.data == b"pong!" and res.token is not None
    assert res.addr2 == ("127.0.0.1", net.nodes[1][1])  # how b saw a
