"""``her2lab boolnet simulate | convert | attractors`` through the console entry point."""

from __future__ import annotations

import json

import pytest

from her2lab.boolnet import Model, read_model, write_bnet, write_maboss
from her2lab.cli import main


@pytest.fixture
def bnet(tmp_path):
    path = tmp_path / "toggle.bnet"
    write_bnet(Model.from_rules({"I": "I", "A": "I & !B", "B": "!A"}), path)
    return path


def run(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main(list(args))
        raise SystemExit(0)
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


def test_simulate_json_has_times_nodes_final_and_states(capsys, bnet):
    code, out, _ = run(capsys, "boolnet", "simulate", str(bnet), "--samples", "300",
                       "--max-time", "2", "--time-tick", "0.5", "--seed", "3", "--format",
                       "json")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == {"times", "nodes", "final", "states"}
    assert doc["times"] == [0.0, 0.5, 1.0, 1.5]
    assert set(doc["nodes"]) == {"I", "A", "B"}
    assert doc["final"] == {n: v[-1] for n, v in doc["nodes"].items()}
    assert abs(sum(doc["states"].values()) - 1) < 1e-9


def test_simulate_mutate_and_output_restrict_and_force(capsys, bnet):
    code, out, _ = run(capsys, "boolnet", "simulate", str(bnet), "--samples", "200",
                       "--max-time", "3", "--mutate", "I=ON", "--mutate", "B=OFF",
                       "--output", "A", "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert set(doc["nodes"]) == {"A"}
    assert set(doc["states"]) <= {"A", "<nil>"}
    assert doc["final"]["A"] > 0.9  # I ON and B OFF: A turns ON at rate 1


def test_simulate_reads_a_bnd_with_the_cfg_beside_it_and_its_settings(capsys, tmp_path):
    m = Model.from_rules({"A": "!A"}, initial=0.0)
    m.config.update({"sample_count": "123", "max_time": "1", "time_tick": "0.25"})
    write_maboss(m, tmp_path / "osc.bnd")
    code, out, _ = run(capsys, "boolnet", "simulate", str(tmp_path / "osc.bnd"), "--format",
                       "json")
    assert code == 0
    assert json.loads(out)["times"] == [0.0, 0.25, 0.5, 0.75]


def test_simulate_table_output_lists_nodes(capsys, bnet):
    code, out, _ = run(capsys, "boolnet", "simulate", str(bnet), "--samples", "50")
    assert code == 0
    assert "P(ON)" in out and "A" in out


def test_a_model_error_exits_2_with_a_message(capsys, tmp_path):
    bad = tmp_path / "bad.bnet"
    bad.write_text("A, B &\n")
    code, _, err = run(capsys, "boolnet", "simulate", str(bad))
    assert code == 2
    assert "bad.bnet:1" in err


def test_convert_writes_each_format_and_reads_back_the_same_rules(capsys, bnet, tmp_path):
    for name in ("t.bnd", "t.sbml", "t.xml", "t2.bnet"):
        code, _, err = run(capsys, "boolnet", "convert", str(bnet), str(tmp_path / name))
        assert code == 0 and "wrote" in err
        back = read_model(tmp_path / name)
        assert back.node_names == ["I", "A", "B"]
    assert (tmp_path / "t.cfg").exists()


def test_attractors_json_lists_steady_states(capsys, bnet):
    code, out, _ = run(capsys, "boolnet", "attractors", str(bnet), "--fix", "I=1", "--format",
                       "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["method"] == "exact" and doc["update"] == "asynchronous"
    patterns = sorted(tuple(a["pattern"].values()) for a in doc["attractors"])
    assert patterns == [(1, 0, 1), (1, 1, 0)]
