"""``her2lab simulate`` and ``her2lab screen``."""

from __future__ import annotations

import csv
import json

import pytest

from her2lab.cli import main


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_simulate_json_has_the_documented_shape(capsys):
    code, out, _ = _run(capsys, "simulate", "--profile", "p95her2", "--regimen", "T-DM1",
                        "--samples", "300", "--seed", "3", "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert set(d) == {"profile", "degrees", "hr_positive", "regimen", "phenotypes", "rates",
                      "response"}
    assert set(d["rates"]["kill"]) == {"targeted", "payload", "cytotoxic", "immune"}
    assert d["profile"] == ["p95her2"] and d["regimen"] == ["trastuzumab_emtansine"]
    assert set(d["phenotypes"]) == {"proliferation", "apoptosis", "angiogenesis", "immune_kill"}
    assert 0 <= d["response"] <= 1


def test_simulate_accepts_aliases_and_several_mechanisms_and_drugs(capsys):
    code, out, _ = _run(capsys, "simulate", "--profile", "PTEN_LOSS,pik3ca_mutation",
                        "--regimen", "Herceptin+BKM120", "--samples", "200", "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert d["profile"] == ["pik3ca_mutation", "pten_loss"]
    assert d["regimen"] == ["buparlisib", "trastuzumab"]


def test_simulate_takes_graded_mechanisms_and_hr_status(capsys):
    code, out, _ = _run(capsys, "simulate", "--profile", "pten_loss=0.6,hr_positive",
                        "--regimen", "trastuzumab", "--samples", "200", "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert d["degrees"] == {"pten_loss": 0.6} and d["hr_positive"] == 1.0


def test_simulate_none_none_is_the_untreated_sensitive_tumor(capsys):
    code, out, _ = _run(capsys, "simulate", "--profile", "none", "--regimen", "none",
                        "--samples", "200", "--format", "json")
    assert code == 0 and json.loads(out)["profile"] == [] and json.loads(out)["regimen"] == []


def test_simulate_table_prints_the_read_outs(capsys):
    code, out, _ = _run(capsys, "simulate", "--regimen", "trastuzumab", "--samples", "200")
    assert code == 0
    flat = " ".join(out.split())  # rich wraps lines at the terminal width
    assert "response" in flat and "immune_kill" in flat and "kill rate" in flat
    assert "not a treatment recommendation" in flat


@pytest.mark.parametrize(("flag", "value", "listed"), [
    ("--regimen", "trastuzumab+aspirin", "trastuzumab_emtansine"),
    ("--profile", "kras_mutation", "pten_loss"),
])
def test_an_unknown_id_exits_2_and_lists_the_valid_ones(capsys, flag, value, listed):
    code, _out, err = _run(capsys, "simulate", flag, value, "--samples", "10")
    assert code == 2
    assert value.split("+")[-1] in err and listed in err


def test_screen_writes_csv_png_and_html(capsys, tmp_path):
    profiles = tmp_path / "profiles.txt"
    profiles.write_text("# two profiles\nnone\npten_loss, pik3ca_mutation\n")
    regimens = tmp_path / "regimens.txt"
    regimens.write_text("none\ntrastuzumab\ntrastuzumab+everolimus\n")
    out_dir = tmp_path / "screen"
    code, _out, _ = _run(capsys, "screen", "--profiles", str(profiles), "--regimens",
                        str(regimens), "-o", str(out_dir), "--samples", "200")
    assert code == 0
    for name in ("response_long.csv", "response_matrix.csv", "response_heatmap.png",
                 "response_heatmap.html"):
        assert (out_dir / name).stat().st_size > 0, name
    with (out_dir / "response_matrix.csv").open() as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["profile", "none", "trastuzumab", "everolimus+trastuzumab"]
    assert [r[0] for r in rows[1:]] == ["none", "pik3ca_mutation,pten_loss"]
    assert (out_dir / "response_heatmap.png").read_bytes()[:4] == b"\x89PNG"
    assert "plotly" in (out_dir / "response_heatmap.html").read_text()[:100000].lower()


def test_screen_rejects_a_missing_file(capsys, tmp_path):
    code, _, err = _run(capsys, "screen", "--profiles", str(tmp_path / "nope.txt"),
                        "-o", str(tmp_path / "o"))
    assert code == 2 and "no such file" in err


def test_simulate_takes_potency_overrides(capsys):
    args = ["simulate", "--regimen", "trastuzumab", "--samples", "400", "--format", "json"]
    _, full, _ = _run(capsys, *args)
    _, none, _ = _run(capsys, *args, "--potency", "Herceptin=0")
    _, base, _ = _run(capsys, "simulate", "--samples", "400", "--format", "json")
    # potency 0 is no drug at all: the same numbers as untreated (the profile's stream, the
    # same trajectories)
    assert json.loads(none)["phenotypes"] == json.loads(base)["phenotypes"]
    assert json.loads(full)["response"] > json.loads(none)["response"]


@pytest.mark.parametrize("bad", ["trastuzumab", "trastuzumab=high", "trastuzumab=2"])
def test_a_bad_potency_is_reported(capsys, bad):
    code, _, err = _run(capsys, "simulate", "--regimen", "trastuzumab", "--samples", "10",
                        "--potency", bad)
    assert code == 2 and "potency" in err
