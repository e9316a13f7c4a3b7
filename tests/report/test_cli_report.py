"""``her2lab report`` on the command line."""

from __future__ import annotations

import pytest

from her2lab.cli import main


def _run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


@pytest.mark.parametrize("profile, message", [
    ("pten_los", "expected a mechanism, biomarker or attribute"),
    ("p95her2:1.2", "a degree in [0, 1]"),
    ("trastuzumab_pretreated:0.3", "yes or no"),
])
def test_a_bad_profile_exits_2_with_a_clear_message(profile, message, capsys, tmp_path):
    code, _, err = _run(["report", "--profile", profile, "--setting", "metastatic_pretreated",
                         "-o", str(tmp_path / "r.html")], capsys)
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "r.html").exists()


def test_an_unknown_setting_or_output_suffix_exits_2(capsys, tmp_path):
    code, _, err = _run(["report", "--profile", "none", "--setting", "metastatic",
                         "-o", str(tmp_path / "r.html")], capsys)
    assert code == 2 and "unknown setting 'metastatic'" in err
    code, _, err = _run(["report", "--profile", "none", "--setting", "neoadjuvant",
                         "-o", str(tmp_path / "r.docx")], capsys)
    assert code == 2 and ".html, .pdf, .json" in err


def test_the_report_command_writes_html_with_the_disclaimer(capsys, tmp_path):
    out = tmp_path / "deep" / "r.html"
    try:
        main(["report", "--profile", "p95her2,trastuzumab_pretreated", "--setting",
              "metastatic_pretreated", "--samples", "200", "--replicates", "5", "-o", str(out)])
    except SystemExit as exc:
        assert exc.code in (0, None)
    text = capsys.readouterr().out
    assert "Research output, not medical advice" in text and "ESCAT" in text
    assert "Research output, not medical advice" in out.read_text()


def test_an_output_that_cannot_be_written_fails_before_any_work(capsys, tmp_path):
    (tmp_path / "r.html").mkdir()
    code, _, err = _run(["report", "--profile", "none", "--setting", "neoadjuvant",
                         "-o", str(tmp_path / "r.html")], capsys)
    assert code == 2 and "found a directory" in err
    assert "simulating" not in err


def test_a_calibration_file_that_is_not_json_is_a_clear_error(capsys, tmp_path):
    bad = tmp_path / "calibration.json"
    bad.write_text("not json at all")
    code, _, err = _run(["report", "--profile", "none", "--setting", "neoadjuvant",
                         "--calibration", str(bad), "-o", str(tmp_path / "r.html")], capsys)
    assert code == 2 and str(bad) in err and "calibration" in err
    assert not (tmp_path / "r.html").exists()
