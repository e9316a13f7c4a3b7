"""The Calibration value: one reader and one writer of calibration files, its run settings and
``as_of`` carried everywhere, so the CLI, the API and the report predict alike."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pytest

from her2lab.errors import ValidationError
from her2lab.virtual_trials.calibration import N_PARAMS, Calibration
from her2lab.virtual_trials.defaults import DEFAULT_SEED, RunSettings
from her2lab.virtual_trials.link import LinkParams

SRC = Path(__file__).resolve().parents[2] / "src" / "her2lab"
SMALL = RunSettings(samples=200, panel_size=4, replicates=2, seed=7)


def _cal(as_of: dt.date | None) -> Calibration:
    p = LinkParams(0.2, 1.8, -2.0, -0.5, {"early": -0.1})
    cov = np.diag(np.linspace(0.01, 0.07, N_PARAMS))
    return Calibration(p, cov, as_of, SMALL, f"calibration as of {as_of}")


def test_a_calibration_file_round_trips_its_parameters_date_and_run_settings(tmp_path):
    cal = _cal(dt.date(2012, 12, 31))
    path = cal.write(tmp_path / "cal.json")
    back = Calibration.read(path)
    assert back.params == cal.params and back.as_of == cal.as_of
    assert back.settings == SMALL
    np.testing.assert_array_equal(back.cov, cal.cov)
    assert "cal.json" in back.source


def test_a_file_of_an_earlier_version_takes_its_settings_from_seed_and_settings(tmp_path):
    d = _cal(dt.date(2014, 8, 12)).to_dict()
    del d["run_settings"]
    d["seed"], d["settings"] = 11, {"samples": 300, "panel_size": 8, "targets": 3}
    (tmp_path / "old.json").write_text(json.dumps(d))
    back = Calibration.read(tmp_path / "old.json")
    assert back.settings == RunSettings(samples=300, panel_size=8, seed=11)


def test_the_priors_have_no_date_and_the_default_settings():
    p = Calibration.priors()
    assert p.as_of is None and p.settings == RunSettings() and p.settings.seed == DEFAULT_SEED
    assert np.all(np.diag(p.cov) > 0)


@pytest.mark.parametrize(("change", "field"), [
    (lambda d: d["fit"]["cov"][0].__setitem__(0, float("nan")), "fit.cov"),
    (lambda d: d["fit"]["cov"].__setitem__(0, [-1.0] + [0.0] * (N_PARAMS - 1)), "fit.cov"),
    (lambda d: d["fit"].__setitem__("cov", [[1.0]]), "fit.cov"),
    (lambda d: d["params"].__setitem__("log_kill", 1e308), "params.log_kill"),
    (lambda d: d["params"].__setitem__("log_kill", "0.1"), "params.log_kill"),
    (lambda d: d["params"]["setting"].__setitem__("nowhere", 0.1), "params.setting"),
    (lambda d: d.pop("as_of"), "as_of"),
    (lambda d: d["run_settings"].__setitem__("samples", 0), "run_settings.samples"),
])
def test_a_broken_calibration_file_names_the_file_and_the_field(tmp_path, change, field):
    d = _cal(dt.date(2014, 8, 12)).to_dict()
    change(d)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(d))
    with pytest.raises(ValidationError) as exc:
        Calibration.read(path)
    text = str(exc.value) + " ".join(f"{p.file} {p.field} {p.expected} {p.found}"
                                     for p in exc.value.problems)
    assert str(path) in text and field.split(".")[0] in text


def test_json_that_is_not_a_calibration_is_refused_with_the_file_named(tmp_path):
    for text in ("[1, 2]", "{", "NaN", "null"):
        path = tmp_path / "x.json"
        path.write_text(text)
        with pytest.raises(ValidationError, match=re.escape(str(path))):
            Calibration.read(path)
    with pytest.raises(ValidationError, match="no such file"):
        Calibration.read(tmp_path / "missing.json")


def test_no_module_but_calibration_reads_or_writes_calibration_files():
    """One reader and one writer: nothing else parses a calibration's fields from JSON."""
    pattern = re.compile(r"""\[["'](cov|params)["']\]|load_parameters|ParameterSet""")
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name == "calibration.py":
            continue
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(SRC)}:{i}: {line.strip()}")
    assert offenders == []


@pytest.mark.slow
@pytest.mark.parametrize("as_of", [dt.date(2012, 12, 31), dt.date(2014, 8, 12)])
def test_the_cli_the_api_and_the_report_predict_alike_from_one_calibration(tmp_path, as_of):
    """The same calibration file and specification give the same expected effect from
    ``her2lab trials predict``, ``POST /api/virtual-trials/predict`` and the strategy report
    (which predicts the specification it shows)."""
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from her2lab.api import create_app
    from her2lab.cli import app as cli
    from her2lab.report import strategy_report

    path = _cal(as_of).write(tmp_path / "cal.json")
    cal = Calibration.read(path)
    rep = strategy_report("trastuzumab_pretreated", "metastatic_pretreated", calibration=cal,
                          n_per_arm=150)
    pred = next(r.prediction for r in rep.ranked if r.prediction is not None)
    assert pred.calibration_as_of == as_of.isoformat() and pred.settings == SMALL.to_dict()
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(pred.spec))
    import yaml

    yaml_path = tmp_path / "spec.yaml"
    yaml_path.write_text(yaml.safe_dump(pred.spec))
    res = CliRunner().invoke(cli, ["trials", "predict", str(yaml_path), "--calibration",
                                   str(path), "--format", "json"])
    assert res.exit_code == 0, res.output
    by_cli = json.loads(res.stdout)
    with TestClient(create_app(calibration_files=[path]), base_url="http://127.0.0.1") as client:
        r = client.post("/api/virtual-trials/predict",
                        json={"spec": pred.spec, "calibration": f"as-of-{as_of}"})
        assert r.status_code == 200, r.text
        by_api = r.json()
    assert by_api["settings_note"] is None
    for d in (by_cli, by_api):
        e = d["effects"][0]
        assert e["expected"] == pytest.approx(pred.estimate, rel=1e-12)
        assert (e["pred_low"], e["pred_high"]) == pytest.approx((pred.low, pred.high),
                                                                rel=1e-12)
        assert d["settings"]["as_of"] == as_of.isoformat()
        assert d["settings"]["samples"] == SMALL.samples
