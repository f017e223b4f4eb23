"""What the build ships: self-contained public headers, an installable
library with a working pkg-config file, and an fl_-only export list."""
import os
import subprocess
from pathlib import Path

import pytest

from flock._lib import REPO, library_path

BUILD = library_path().parent.parent
HEADERS = sorted((REPO / "core" / "include" / "flock").glob("*.h"))


@pytest.mark.parametrize("header", HEADERS, ids=lambda p: p.name)
def test_public_header_compiles_on_its_own(header, tmp_path):
    src = tmp_path / "one.c"
    src.write_text(f"#include <flock/{header.name}>\nint main(void) {{ return 0; }}\n")
    for cc in ("gcc", "clang"):
        r = subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic",
                            "-I", str(REPO / "core" / "include"), "-fsyntax-only", str(src)],
                           capture_output=True, text=True)
        assert r.returncode == 0, f"{cc}: {header.name} does not compile alone:\n{r.stderr}"


def test_install_tree_builds_a_program_with_pkg_config(tmp_path):
    prefix = tmp_path / "prefix"
    r = subprocess.run(["cmake", "--install", str(BUILD), "--prefix", str(prefix)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    libdir = next(p for p in (prefix / "lib", prefix / "lib64", *prefix.glob("lib/*-linux-gnu"))
                  if (p / "pkgconfig" / "flock.pc").exists())
    so = sorted(libdir.glob("libflock.so*"))
    assert [p.name for p in so][:1] == ["libflock.so"], so
    assert (libdir / "libflock.a").exists()
    assert (prefix / "include" / "flock" / "common.h").exists()
    # The .pc file was written for the build's prefix; point pkg-config at ours.
    pc = (libdir / "pkgconfig" / "flock.pc").read_text()
    (tmp_path / "flock.pc").write_text(
        "\n".join(f"prefix={prefix}" if l.startswith("prefix=") else l for l in pc.splitlines()))
    env = {**os.environ, "PKG_CONFIG_PATH": str(tmp_path)}
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "flock"], env=env,
                           capture_output=True, text=True, check=True).stdout.split()
    src = tmp_path / "hello.c"
    src.write_text('#include <stdio.h>\n#include <flock/common.h>\n'
                   'int main(void) { printf("%s %s\\n", fl_version(), fl_strerror(FL_ERR_DECODE)); return 0; }\n')
    exe = tmp_path / "hello"
    r = subprocess.run(["cc", "-std=c11", str(src), "-o", str(exe), *flags, f"-L{libdir}"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = subprocess.run([str(exe)], env={**env, "LD_LIBRARY_PATH": str(libdir)},
                         capture_output=True, text=True, check=True).stdout.split()
    from flock import version
    assert out == [version(), "FL_ERR_DECODE"]


def test_shared_library_has_a_versioned_soname():
    dyn = subprocess.run(["readelf", "-d", str(library_path())], capture_output=True, text=True,
                         check=True)
    assert "Library soname: [libflock.so.0]" in dyn.stdout
