"""``her2lab trials ...`` through Typer's test runner, at small sample sizes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from her2lab.cli import app
from her2lab.virtual_trials.spec import EXAMPLES_DIR

runner = CliRunner()
SMALL = ["--samples", "64", "--panel", "4"]


@pytest.fixture(scope="module")
def calibration(tmp_path_factory):
    # the real pathway model at a tiny size: as of 2011-06-30 (a few trials) to keep it short
    out = tmp_path_factory.mktemp("cal") / "calibration.json"
    res = runner.invoke(app, ["trials", "calibrate", "--as-of", "2011-06-30", "-o", str(out),
                              *SMALL])
    assert res.exit_code == 0, res.output
    return out


@pytest.mark.slow
def test_calibrate_writes_parameters_and_the_fit_table(calibration):
    d = json.loads(calibration.read_text())
    assert {"log_kill", "log_targeted", "log_resistance", "tki_offset"} <= set(d["params"])
    assert d["as_of"] == "2011-06-30"
    assert len(d["table"]) == d["settings"]["targets"] > 0
    assert all(r["published"] <= "2011-06-30" for r in d["table"])


@pytest.mark.slow
def test_simulate_a_kb_trial_as_json(calibration):
    res = runner.invoke(app, ["trials", "simulate", "emilia", "--calibration", str(calibration),
                              "--replicates", "2", "--format", "json", *SMALL])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert [a["name"] for a in d["arms"]] == ["tdm1", "lap_cap"]
    assert d["effect"]["measure"] == "HR"
    assert {"estimate", "ci_low", "ci_high"} <= set(d["effect"])
    e = d["effects"][0]
    assert e["measure"] == "HR" and e["pred_low"] <= e["expected"] <= e["pred_high"]


@pytest.mark.slow
def test_predict_a_specification_says_it_is_not_medical_advice(calibration):
    spec = EXAMPLES_DIR / "adjuvant_dual_blockade.yaml"
    res = runner.invoke(app, ["trials", "predict", str(spec), "--calibration", str(calibration),
                              "--replicates", "2", *SMALL])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "not medical advice" in text and "baseline" in text


@pytest.mark.slow
def test_design_prints_simulation_beside_the_formula(calibration):
    spec = EXAMPLES_DIR / "everolimus_pten_loss.yaml"
    res = runner.invoke(app, ["trials", "design", str(spec), "--calibration", str(calibration),
                              "--replicates", "100", "--format", "json", *SMALL])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["simulation"]["n_per_arm"] > 0 and d["formula"]["method"] == "Schoenfeld"


def test_a_bad_date_and_a_bad_calibration_file_are_clear_errors(tmp_path):
    res = runner.invoke(app, ["trials", "calibrate", "--as-of", "12/08/2014"])
    assert res.exit_code != 0
    assert "YYYY-MM-DD" in str(res.exception) or "YYYY-MM-DD" in res.output
    bad = tmp_path / "cal.json"
    bad.write_text("{}")
    res = runner.invoke(app, ["trials", "simulate", "emilia", "--calibration", str(bad)])
    assert res.exit_code != 0
    assert "calibration JSON" in str(res.exception)


def test_an_unknown_trial_lists_the_valid_ones():
    res = runner.invoke(app, ["trials", "simulate", "nope"])
    assert res.exit_code != 0
    assert "cleopatra" in str(res.exception)


def test_refit_without_leave_one_out_is_a_usage_error():
    res = runner.invoke(app, ["trials", "validate", "--as-of", "2014-08-12", "--refit"])
    assert res.exit_code == 2  # click's usage error (the console script maps it to 64)
    assert "--loo" in res.output


def test_the_fit_table_names_a_median_ratio_as_such():
    from rich.console import Console

    from her2lab.cli.trials import _fit_table

    row = {"trial": "neratinib_vs_lapatinib_capecitabine", "outcome": "os_p", "measure": "HR",
           "derived": "median+p", "reported": 1.2, "reported_low": 0.9, "reported_high": 1.6,
           "expected": 1.24, "pred_low": 0.8, "pred_high": 1.9, "null_expected": 1.0,
           "reported_inside_prediction": True}
    console = Console(width=200, record=True)
    console.print(_fit_table([row, {**row, "derived": None, "outcome": "pfs_hr"}], "fit"))
    lines = console.export_text().splitlines()
    assert "HR (median ratio)" in next(x for x in lines if "os_p" in x)
    assert "median ratio" not in next(x for x in lines if "pfs_hr" in x)


def test_nested_without_leave_one_out_is_a_usage_error():
    res = runner.invoke(app, ["trials", "validate", "--as-of", "2014-08-12", "--nested"])
    assert res.exit_code == 2
    assert "--loo" in res.output


def test_validate_labels_in_and_out_of_sample_with_the_null_beside_each(monkeypatch):
    # the printing only: a validation's result stands in for the (minutes-long) computation
    from her2lab.virtual_trials import validation

    s = {"n_hr": 1, "n_rate": 0, "median_abs_error_log_hr": 0.1,
         "median_abs_error_rate_points": None, "mean_z2": 1.5, "coverage": 1.0,
         "direction_accuracy": 1.0, "inside_reported_ci": 1.0,
         "null": {"median_abs_error_log_hr": 0.3, "median_abs_error_rate_points": None,
                  "mean_z2": 8.0, "coverage": 0.0, "direction_accuracy": None}}
    seen = {}

    def fake(as_of, **kw):
        seen.update(kw)
        return {"method": "nested: the whole calibration repeated without the trial",
                "sample": "out-of-sample", "rows": [], "summary": s,
                "in_sample": {"sample": "in-sample (the full fit)", "summary": s}}

    monkeypatch.setattr(validation, "leave_one_out", fake)
    res = runner.invoke(app, ["trials", "validate", "--as-of", "2014-08-12", "--loo",
                              "--nested"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert seen["nested"] is True
    out = " ".join(res.output.split())
    assert "out-of-sample" in out and "in-sample (the full fit)" in out
    assert out.count("(null 8") == 2 and "nested" in out
