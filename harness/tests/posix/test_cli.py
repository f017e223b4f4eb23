"""flocknet's command line: version, help on every subcommand, global flags,
and the exact failure modes for bad arguments (non-zero exit, a message on
stderr that says what to change, nothing on stdout)."""
import hashlib
import json
import signal
import socket

import pytest

from flock import version
from flock.posix import LineProc, flocknet, flocknet_path

COMMANDS = ["dht-node", "find-node", "ping", "dht-testnet"]
TARGET = "ab" * 32


def test_version_prints_library_version():
    r = flocknet("--version")
    assert r.returncode == 0
    assert r.stdout.strip() == f"flocknet {version()}"


def test_help_lists_public_commands_and_global_flags():
    r = flocknet("--help")
    assert r.returncode == 0
    for c in ["dht-node", "find-node", "ping"]:
        assert c in r.stdout
    assert "dht-testnet" not in r.stdout  # test tooling stays hidden
    for flag in ["--bootstrap", "--public", "--host", "--port", "--seed", "--seed-file", "--json"]:
        assert flag in r.stdout


@pytest.mark.parametrize("cmd", COMMANDS)
def test_every_subcommand_has_help(cmd):
    r = flocknet(cmd, "--help")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"usage: flocknet {cmd}")
    assert "--bootstrap" in r.stdout and "--json" in r.stdout


def test_no_command_is_a_usage_error():
    r = flocknet()
    assert r.returncode == 2
    assert "no command given" in r.stderr


def test_unknown_command_names_it():
    r = flocknet("frobnicate")
    assert r.returncode == 2
    assert "unknown command 'frobnicate'" in r.stderr


@pytest.mark.parametrize("cmd,args", [
    ("dht-node", []),
    ("find-node", [TARGET]),
    ("dht-testnet", ["--nodes", "2"]),
])
def test_network_command_without_bootstrap_refuses(cmd, args):
    r = flocknet(cmd, *args, timeout=10)
    assert r.returncode == 2
    assert "no bootstrap nodes" in r.stderr
    assert "--bootstrap" in r.stderr and "--public" in r.stderr
    assert r.stdout == ""


@pytest.mark.parametrize("args,message", [
    (["--bootstrap", "localhost:49737"], "names are not resolved"),
    (["--bootstrap", "127.0.0.1"], "is not HOST:PORT"),
    (["--bootstrap", "127.0.0.1:0"], "port 1-65535"),
    (["--bootstrap", "127.0.0.1:70000"], "is not HOST:PORT"),
    (["--bootstrap", "127.0.0.1:1,,127.0.0.1:2"], "empty or over-long entry"),
    (["--bootstrap", ",".join(["127.0.0.1:1"] * 17)], "at most 16"),
    (["--bootstrap"], "--bootstrap needs a value"),
    (["--public", "--bootstrap", "127.0.0.1:1"], "--public and --bootstrap both given"),
    (["--port", "65536", "--bootstrap", "127.0.0.1:1"], "not a port number"),
    (["--port", "-1", "--bootstrap", "127.0.0.1:1"], "not a port number"),
    (["--host", "::1", "--bootstrap", "127.0.0.1:1"], "not an IPv4 address"),
    (["--seed", "abcd", "--bootstrap", "127.0.0.1:1"], "expected 64 hex characters"),
    (["--seed", "zz" * 32, "--bootstrap", "127.0.0.1:1"], "expected 64 hex characters"),
    (["--seed-file", "/nonexistent/seed", "--bootstrap", "127.0.0.1:1"], "cannot open"),
    (["--frob"], "unknown flag '--frob'"),
    (["--json=yes"], "--json takes no value"),
])
def test_bad_global_flags_are_usage_errors(args, message):
    r = flocknet("find-node", TARGET, *args, timeout=10)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr
    assert r.stderr.startswith("flocknet find-node: ")
    assert r.stdout == ""


def test_global_flags_work_before_the_command():
    r = flocknet("--bootstrap", "localhost:1", "find-node", TARGET, timeout=10)
    assert r.returncode == 2
    assert "names are not resolved" in r.stderr


def test_seed_sources_conflict_and_env_is_checked(tmp_path):
    f = tmp_path / "seed"
    f.write_text("11" * 32 + "\n")
    r = flocknet("find-node", TARGET, "--seed", "22" * 32, "--seed-file", str(f), timeout=10)
    assert r.returncode == 2
    assert "--seed and --seed-file both given" in r.stderr
    f.write_text("not hex")
    r = flocknet("find-node", TARGET, "--seed-file", str(f), "--bootstrap", "127.0.0.1:1")
    assert r.returncode == 2
    assert "must hold 64 hex characters" in r.stderr
    r = flocknet("find-node", TARGET, "--bootstrap", "127.0.0.1:1", env={"FLOCK_SEED": "xyz"})
    assert r.returncode == 2
    assert "FLOCK_SEED must be 64 hex characters" in r.stderr


def test_find_node_needs_a_hex_target():
    for args in [[], ["abc"], [TARGET, TARGET], ["g" * 64]]:
        r = flocknet("find-node", "--bootstrap", "127.0.0.1:1", *args, timeout=10)
        assert r.returncode == 2, args
        assert r.stdout == ""
        assert ("TARGET_HEX" in r.stderr) or ("unexpected argument" in r.stderr)


def test_ping_needs_an_address():
    for args in [[], ["127.0.0.1"], ["example.org:1"], ["127.0.0.1:0"]]:
        r = flocknet("ping", *args, timeout=10)
        assert r.returncode == 2, args
        assert "HOST:PORT" in r.stderr


def test_ping_to_a_silent_port_fails_with_a_message():
    # A bound socket that never answers: the ping must give up and say so.
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    try:
        r = flocknet("ping", f"127.0.0.1:{s.getsockname()[1]}", "--timeout", "1.5", timeout=20)
    finally:
        s.close()
    assert r.returncode == 1
    assert "timed out" in r.stderr or "no reply" in r.stderr
    assert r.stdout == ""


def test_bootstrap_node_needs_host():
    r = flocknet("dht-node", "--bootstrap-node", timeout=10)
    assert r.returncode == 2
    assert "--bootstrap-node needs --host" in r.stderr


def node_id(port, host=(127, 0, 0, 1)):
    """dht-rpc's node id: BLAKE2b-256 of the 6-byte address (spec §3)."""
    return hashlib.blake2b(bytes(host) + port.to_bytes(2, "little"), digest_size=32).hexdigest()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_dht_node_json_listening_line_then_clean_exit_on_signal(sig):
    p = LineProc([str(flocknet_path()), "dht-node", "--bootstrap-node", "--host", "127.0.0.1",
                  "--json"])
    try:
        msg = p.expect("listening line", lambda m: True, timeout=20)
        assert msg["event"] == "listening"
        assert msg["host"] == "127.0.0.1"
        assert 0 < msg["port"] < 65536
        # A bootstrapper is persistent from the start: its id is hash(host, port).
        assert msg["id"] == node_id(msg["port"])
        p.proc.send_signal(sig)
        p.expect("closed event after the signal", lambda m: m.get("event") == "closed", timeout=10)
        assert p.proc.wait(timeout=10) == 0
    finally:
        p.terminate()


def test_ping_reports_id_and_our_address():
    p = LineProc([str(flocknet_path()), "dht-node", "--bootstrap-node", "--host", "127.0.0.1",
                  "--json"])
    try:
        node = p.expect("listening line", lambda m: m.get("event") == "listening", timeout=20)
        r = flocknet("--json", "ping", f"127.0.0.1:{node['port']}", "--host", "127.0.0.1",
                     timeout=20)
        assert r.returncode == 0, r.stderr
        pong = json.loads(r.stdout)
        assert pong["event"] == "pong"
        assert pong["id"] == node["id"]
        assert pong["port"] == node["port"]
        assert pong["seen_as"]["host"] == "127.0.0.1" and pong["seen_as"]["port"] > 0
        assert pong["rtt_ms"] >= 0
        # Human output carries the same facts.
        r = flocknet("ping", f"127.0.0.1:{node['port']}", "--host", "127.0.0.1", timeout=20)
        assert r.returncode == 0 and node["id"] in r.stdout and "rtt" in r.stdout
    finally:
        p.terminate()


def test_find_node_against_a_small_c_network():
    from flock.posix import CTestnet, xor_closest
    with CTestnet(6, bootstrap_node=True) as net:
        boot = f"127.0.0.1:{net.nodes[0]['port']}"
        r = flocknet("--json", "find-node", TARGET, "--bootstrap", boot, "--host", "127.0.0.1",
                     timeout=30)
        assert r.returncode == 0, r.stderr
        got = [json.loads(l) for l in r.stdout.splitlines()]
        ids = [n["id"] for n in net.nodes]
        assert [g["id"] for g in got] == xor_closest(ids, TARGET, 20)
        for g in got:
            assert g["host"] == "127.0.0.1"
            assert g["port"] == next(n["port"] for n in net.nodes if n["id"] == g["id"])


@pytest.mark.parametrize("mode,persistent", [("--persistent", True), ("--ephemeral", False)])
def test_dht_node_modes_show_in_the_listening_line(mode, persistent):
    boot = LineProc([str(flocknet_path()), "dht-node", "--bootstrap-node", "--host", "127.0.0.1",
                     "--json"])
    node = None
    try:
        b = boot.expect("bootstrap node listening", lambda m: m.get("event") == "listening", 20)
        node = LineProc([str(flocknet_path()), "--json", "dht-node", mode, "--unfirewalled",
                         "--bootstrap", f"127.0.0.1:{b['port']}", "--host", "127.0.0.1"])
        msg = node.expect("node listening", lambda m: m.get("event") == "listening", 20)
        if persistent:
            assert msg["id"] == node_id(msg["port"])
        else:
            assert msg["id"] is None
    finally:
        if node:
            node.terminate()
        boot.terminate()


def test_bootstrap_node_on_a_taken_port_fails_with_a_message():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    try:
        port = s.getsockname()[1]
        r = flocknet("dht-node", "--bootstrap-node", "--host", "127.0.0.1", "--port", port,
                     timeout=20)
    finally:
        s.close()
    assert r.returncode == 1
    assert "could not bind" in r.stderr and "--port" in r.stderr
    assert r.stdout == ""


def test_node_on_a_taken_port_moves_to_another():
    boot = LineProc([str(flocknet_path()), "dht-node", "--bootstrap-node", "--host", "127.0.0.1",
                     "--json"])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    node = None
    try:
        b = boot.expect("bootstrap node listening", lambda m: m.get("event") == "listening", 20)
        taken = s.getsockname()[1]
        node = LineProc([str(flocknet_path()), "dht-node", "--json", "--host", "127.0.0.1",
                         "--port", str(taken), "--bootstrap", f"127.0.0.1:{b['port']}"])
        msg = node.expect("node listening", lambda m: m.get("event") == "listening", 20)
        assert msg["port"] != taken  # the reference tries port+1..port+4, then any
    finally:
        s.close()
        if node:
            node.terminate()
        boot.terminate()
