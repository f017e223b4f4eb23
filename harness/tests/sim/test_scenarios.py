"""Scenario files: every shipped one is valid, and bad ones are refused with
the file, the line of the offending key and the reason."""
import pytest

from flock.sim import SCENARIOS, ScenarioError, flocksim_cmd, load_scenario


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.name)
def test_shipped_scenarios_are_valid(path):
    cfg, _ = load_scenario(path)
    assert cfg["nodes"]["count"] >= 1


BASE = """# a comment
[run]
seed = 3
duration_s = 10

[nodes]
kind = "raw"
count = 4

[[nat]]
type = "public"
weight = 1

[[nat]]
weight = 2
mapping = "endpoint-independent"
"""


def refused(tmp_path, text):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(ScenarioError) as e:
        load_scenario(p)
    return str(e.value), str(p)


def test_unknown_key_names_file_line_and_key(tmp_path):
    msg, p = refused(tmp_path, BASE.replace("count = 4", "count = 4\ncolour = 3"))
    assert msg.startswith(f"{p}:9: [nodes] colour: unknown key 'colour'")


def test_unknown_section_is_refused_at_its_line(tmp_path):
    msg, p = refused(tmp_path, BASE + "\n[weather]\nrain = true\n")
    assert msg.startswith(f"{p}:18: top level weather: unknown section")


def test_bad_value_in_second_array_table_points_at_its_line(tmp_path):
    msg, p = refused(tmp_path, BASE.replace('mapping = "endpoint-independent"',
                                            'mapping = "full-cone"'))
    assert msg.startswith(f"{p}:16: [nat] mapping: must be one of ")


def test_wrong_type_and_range(tmp_path):
    msg, p = refused(tmp_path, BASE.replace("seed = 3", 'seed = "three"'))
    assert msg == f"{p}:3: [run] seed: must be a number"
    msg, p = refused(tmp_path, BASE.replace("count = 4", "count = 0"))
    assert msg == f"{p}:8: [nodes] count: must be >= 1"
    msg, p = refused(tmp_path, BASE.replace("count = 4", "count = 2.5"))
    assert msg == f"{p}:8: [nodes] count: must be an integer"


def test_toml_syntax_error_reports_its_line(tmp_path):
    msg, p = refused(tmp_path, BASE.replace("seed = 3", "seed = = 3"))
    assert msg.startswith(f"{p}:3: ")


def test_cross_field_checks(tmp_path):
    msg, p = refused(tmp_path, BASE + "\n[[partition]]\nstart_s = 5\nend_s = 2\n")
    assert msg == f"{p}:20: [partition] end_s: must be > start_s"
    msg, p = refused(tmp_path, BASE + '\n[regions]\nnames = ["a", "b"]\nweights = [1]\n'
                     "matrix_ms = [[1, 2], [3, 4]]\n")
    assert msg == f"{p}:20: [regions] weights: needs one entry per region (2)"


def test_command_line_refuses_with_exit_code_2(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text(BASE.replace("count = 4", "count = -1"))
    r = flocksim_cmd("run", p)
    assert r.returncode == 2
    assert f"{p}:8: [nodes] count: must be >= 1" in r.stderr
