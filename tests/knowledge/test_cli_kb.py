"""``her2lab kb ...`` through Typer's test runner, on the minimal data set."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from her2lab.cli import app, main
from her2lab.knowledge import KnowledgeBase

DATA = Path(__file__).parent.parent / "data"
MINIMAL, BROKEN = DATA / "kb_minimal", DATA / "kb_broken"

runner = CliRunner()


def kb(*args: str):
    """Run ``her2lab kb --data-dir MINIMAL ARGS`` and return the result."""
    return runner.invoke(app, ["kb", "--data-dir", str(MINIMAL), *args])


def test_validate_a_valid_directory_exits_0_with_a_summary():
    res = runner.invoke(app, ["kb", "validate", str(MINIMAL)])
    assert res.exit_code == 0, res.output
    assert res.output.strip() == (
        "valid: 5 drugs, 3 targets, 1 mechanisms, 1 biomarkers, 3 trials (6 arms, 7 outcomes), "
        "3 references, 1 conflicts"
    )


def test_validate_lists_every_problem_and_exits_non_zero():
    res = runner.invoke(app, ["kb", "validate", str(BROKEN / "several_problems")])
    assert res.exit_code == 1
    assert "3 problem(s)" in res.output
    assert "trials/cleopatra.yaml:25: field 'arms[1].regimen[0]'" in res.output
    assert "trials/neosphere.yaml:29: field 'outcomes[0].value'" in res.output
    assert "drugs.yaml:8: field 'drugs[0].identifiers.drugbank'" in res.output


@pytest.mark.parametrize("case", ["broken_yaml", "duplicate_id", "percentage_130"])
def test_validate_through_the_console_script_exits_1(case: str, capsys):
    with pytest.raises(SystemExit) as info:
        main(["kb", "validate", str(BROKEN / case)])
    assert info.value.code == 1
    assert "problem(s)" in capsys.readouterr().err


def test_export_json_has_every_kind_and_numbers_as_numbers(tmp_path: Path):
    out = tmp_path / "kb.json"
    res = kb("export", "--format", "json", "-o", str(out))
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert {"drugs", "targets", "mechanisms", "biomarkers", "trials", "references"} <= set(data)
    cleopatra = next(t for t in data["trials"] if t["id"] == "cleopatra")
    assert [a["id"] for a in cleopatra["arms"]] == ["exp", "ctl"]
    hr = next(o for o in cleopatra["outcomes"] if o["id"] == "pfs_hr")
    assert hr["value"] == 0.62 and hr["ci"]["low"] == 0.51 and hr["p"]["value"] == 0.001
    assert KnowledgeBase.model_validate(data).trial("cleopatra").n == 808


def test_export_json_to_standard_output():
    res = kb("export")
    assert res.exit_code == 0
    assert len(json.loads(res.output)["trials"]) == 3


def test_export_csv_has_one_row_per_outcome_with_provenance(tmp_path: Path):
    out = tmp_path / "outcomes.csv"
    res = kb("export", "--format", "csv", "-o", str(out))
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 7
    hr = next(r for r in rows if (r["trial_id"], r["outcome_id"]) == ("cleopatra", "pfs_hr"))
    assert (hr["value"], hr["ci_low"], hr["ci_high"], hr["locator"], hr["refs"]) == (
        "0.62", "0.51", "0.75", "Table 1: CLEOPATRA", "1")


def test_export_rejects_an_unknown_format():
    res = kb("export", "--format", "xml")
    assert res.exit_code == 2
    assert "expected one of json, csv" in res.output


@pytest.mark.parametrize(
    ("args", "shown", "hidden"),
    [
        ([], ["bolero3", "cleopatra", "neosphere"], []),
        (["--drug", "Herceptin", "--setting", "neoadjuvant"], ["neosphere"],
         ["cleopatra", "bolero3"]),
        (["--mechanism", "pten_loss"], ["bolero3"], ["cleopatra", "neosphere"]),
    ],
)
def test_trials_lists_the_matching_trials(args, shown, hidden):
    res = kb("trials", *args)
    assert res.exit_code == 0, res.output
    for t in shown:
        assert t in res.output
    for t in hidden:
        assert t not in res.output


def test_trials_as_json():
    res = kb("trials", "--drug", "everolimus", "--format", "json")
    assert [t["id"] for t in json.loads(res.output)] == ["bolero3"]


def test_drug_shows_a_panel_with_its_trials():
    res = kb("drug", "rad001")
    assert res.exit_code == 0, res.output
    for text in ("everolimus", "mtor inhibitor", "MTOR", "Afinitor", "drugbank:DB01590",
                 "bolero3", "pten_loss"):
        assert text in res.output


def test_an_unknown_drug_is_an_error_listing_the_valid_ids(capsys):
    with pytest.raises(SystemExit) as info:
        main(["kb", "--data-dir", str(MINIMAL), "drug", "aspirin"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "unknown drug 'aspirin'" in err and "trastuzumab" in err


def test_sql_prints_a_table_csv_or_json():
    q = "SELECT id, phase FROM trials ORDER BY id"
    assert "cleopatra" in kb("sql", q).output
    assert kb("sql", q, "--format", "csv").output.splitlines()[:2] == ["id,phase", "bolero3,III"]
    assert json.loads(kb("sql", q, "--format", "json").output)[2] == {
        "id": "neosphere", "phase": "II"}


def test_sql_refuses_to_write(capsys):
    with pytest.raises(SystemExit) as info:
        main(["kb", "--data-dir", str(MINIMAL), "sql", "DELETE FROM drugs"])
    assert info.value.code == 2
    assert "read-only" in capsys.readouterr().err


def test_audit_as_json_lists_kind_severity_subject_message():
    res = kb("audit", "--format", "json")
    assert res.exit_code == 0, res.output
    findings = json.loads(res.output)
    assert isinstance(findings, list)
    for f in findings:
        assert {"kind", "severity", "subject", "message"} <= set(f)


def test_validate_a_missing_directory_says_so_with_exit_2(tmp_path: Path, capsys):
    """Not a data directory at all is an error (exit 2), not a list of problems (exit 1)."""
    with pytest.raises(SystemExit) as info:
        main(["kb", "validate", str(tmp_path / "nowhere")])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert "no such directory" in err and "nowhere" in err


def test_the_data_directory_can_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("HER2LAB_KB_DIR", str(MINIMAL))
    res = runner.invoke(app, ["kb", "sql", "SELECT count(*) AS n FROM trials", "-f", "csv"])
    assert res.output.splitlines() == ["n", "3"]
