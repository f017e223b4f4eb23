"""The simulator from Python: io_sim/flocksim.py (the program installed as
build/bin/flocksim) imported as a module, so tests use the same bindings,
scenario checker and summary as the command line."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from ._lib import REPO

_spec = importlib.util.spec_from_file_location("flocksim", REPO / "io_sim" / "flocksim.py")
flocksim = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(flocksim)

Sim = flocksim.Sim
Addr = flocksim.Addr
NatConfig = flocksim.NatConfig
load_scenario = flocksim.load_scenario
ScenarioError = flocksim.ScenarioError
SCENARIOS = REPO / "scenarios"


def build_dir():
    return Path(os.environ.get("FLOCK_BUILD", REPO / "build"))


def flocksim_cmd(*args, timeout=120):
    """Run build/bin/flocksim in its own process; returns CompletedProcess."""
    exe = build_dir() / "bin" / "flocksim"
    env = dict(os.environ, FLOCK_BUILD=str(build_dir()))
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env)
