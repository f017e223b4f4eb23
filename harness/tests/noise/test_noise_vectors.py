"""harness/tools/noise_vectors.py on the shared cacophony file (all 38 must
pass), on a synthetic file mixing supported and unsupported protocols
(unsupported ones are skipped, never passed), and on a corrupted vector
(reported as a failure with its reason)."""
import copy
import json
import os
import subprocess
import sys
from pathlib import Path

HARNESS = Path(__file__).resolve().parents[2]
REPO = HARNESS.parent
TOOL = HARNESS / "tools" / "noise_vectors.py"
CACOPHONY = REPO.parent / "shared" / "vectors" / "noise-cacophony-25519-chachapoly-blake2b.json"


def run_tool(path):
    env = {**os.environ}
    env.setdefault("FLOCK_BUILD", str(REPO / "build"))
    p = subprocess.run([sys.executable, str(TOOL), str(path)], capture_output=True, text=True,
                       env=env, timeout=60)
    return p.returncode, p.stdout, p.stderr


def test_all_38_cacophony_vectors_pass():
    assert CACOPHONY.exists(), f"{CACOPHONY} missing"
    assert len(json.loads(CACOPHONY.read_text())["vectors"]) == 38
    rc, out, err = run_tool(CACOPHONY)
    assert out.strip().splitlines()[-1] == "38 passed, 0 failed", out + err
    assert rc == 0


def test_ed25519_vectors_made_with_the_reference_pass():
    # make_ed25519_vectors.js: noise-handshake + noise-curve-ed, NN/XX/IK/XK
    # and hyperdht's IK, with transport messages; keys given as seeds.
    rc, out, err = run_tool(Path(__file__).parent / "vectors" / "noise-ed25519-reference.json")
    assert out.strip().splitlines()[-1] == "5 passed, 0 failed", out + err
    assert rc == 0


def test_unsupported_protocols_are_skipped_not_passed(tmp_path):
    base = json.loads(CACOPHONY.read_text())["vectors"]
    nn = next(v for v in base if v["protocol_name"] == "Noise_NN_25519_ChaChaPoly_BLAKE2b")
    vectors = [copy.deepcopy(nn)]
    for name in ("Noise_NN_448_ChaChaPoly_BLAKE2b", "Noise_NN_25519_AESGCM_BLAKE2b",
                 "Noise_NN_25519_ChaChaPoly_SHA256", "Noise_NNpsk0_25519_ChaChaPoly_BLAKE2b"):
        v = copy.deepcopy(nn)
        v["protocol_name"] = name
        vectors.append(v)
    f = tmp_path / "mixed.json"
    f.write_text(json.dumps({"vectors": vectors}))
    rc, out, err = run_tool(f)
    assert out.strip().splitlines()[-1] == "1 passed, 0 failed, 4 skipped", out + err
    assert rc == 0
    # Only unsupported vectors: nothing ran, which is not a success.
    f.write_text(json.dumps({"vectors": vectors[1:]}))
    rc, out, _ = run_tool(f)
    assert out.strip().splitlines()[-1] == "0 passed, 0 failed, 4 skipped"
    assert rc == 1


def test_corrupted_vector_fails_with_a_reason(tmp_path):
    vectors = json.loads(CACOPHONY.read_text())["vectors"]
    ik = copy.deepcopy(next(v for v in vectors if v["protocol_name"].startswith("Noise_IK_")))
    c = bytearray.fromhex(ik["messages"][1]["ciphertext"])
    c[-1] ^= 1
    ik["messages"][1]["ciphertext"] = c.hex()
    xx = copy.deepcopy(next(v for v in vectors if v["protocol_name"].startswith("Noise_XX_")))
    xx["handshake_hash"] = "00" * 64
    f = tmp_path / "bad.json"
    f.write_text(json.dumps({"vectors": [ik, xx]}))
    rc, out, _ = run_tool(f)
    assert out.strip().splitlines()[-1] == "0 passed, 2 failed"
    assert "message 1 (handshake, responder writes): ciphertext differs" in out
    assert "handshake hash differs" in out
    assert rc == 1
