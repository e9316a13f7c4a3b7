"""Forest plots (SVG, PNG, self-contained HTML) and ``her2lab synth ...`` on the command line."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from her2lab.cli import main
from her2lab.synthesis import (
    forest_html,
    forest_png,
    forest_svg,
    meta_analysis,
    read_effects_csv,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "synthesis"


@pytest.fixture(scope="module")
def clasp():
    return meta_analysis(read_effects_csv(DATA / "clasp.csv", measure="OR"), method="PM")


def test_the_svg_is_xml_with_every_study_the_diamond_and_the_prediction_interval(clasp):
    svg = forest_svg(clasp, title="CLASP")
    ET.fromstring(svg)
    for label in [f"trial {i}" for i in range(1, 7)] + ["Random effects (PM)",
                                                       "Prediction interval", "Common effect"]:
        assert label in svg
    assert forest_svg(clasp, title="CLASP") == svg  # same input, same bytes


def test_the_png_is_a_png(clasp, tmp_path):
    p = forest_png(clasp, tmp_path / "f.png")
    assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_html_embeds_plotly_and_loads_nothing_from_a_cdn(clasp):
    from plotly.offline import get_plotlyjs_version

    html = forest_html(clasp)
    assert not re.search(r"<script[^>]*\bsrc\s*=", html)  # nothing fetched: no script src
    assert f"plotly.js v{get_plotlyjs_version()}" in html  # the bundle of the installed plotly
    assert "trial 6" in html and "prediction interval" in html
    div = forest_html(clasp, full_html=False)
    assert div.lstrip().startswith("<div") and len(div) < len(html) / 10


def _run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def _ok(args, capsys):
    try:
        main(args)
    except SystemExit as exc:  # pragma: no cover - a failure shows the message
        raise AssertionError(capsys.readouterr().err) from exc
    return capsys.readouterr()


def test_synth_meta_json_has_the_issues_keys(capsys):
    out = _ok(["synth", "meta", str(DATA / "bcg.csv"), "--measure", "RR", "--method", "DL",
               "--format", "json"], capsys).out
    d = json.loads(out)
    assert d["method"] == "DL" and d["k"] == 13 and abs(d["tau2"] - 0.3088) < 5e-5
    assert abs(d["fixed"]["estimate"] - 0.6503) < 5e-5


def test_synth_nma_table_fits_a_narrow_terminal(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    out = _ok(["synth", "nma", str(DATA / "senn2013.csv"), "--measure", "MD", "--reference",
               "plac"], capsys).out
    assert "rosi" in out and "between designs" in out


def test_a_bad_csv_exits_2_naming_file_line_and_column(capsys, tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("study,estimate,ci_low,ci_high\nA,0.7,0.5,0.9\nB,0.8,zero,1.1\n")
    code, _, err = _run(["synth", "meta", str(p), "--measure", "HR"], capsys)
    assert code == 2 and f"{p}:3: field 'ci_low'" in err and "Traceback" not in err


def test_an_unknown_measure_is_a_usage_error(capsys):
    code, _, err = _run(["synth", "meta", str(DATA / "bcg.csv"), "--measure", "SMD"], capsys)
    assert code == 64 and "HR, OR, RR, RD, MD" in err  # usage error (cli/__init__.py)


def test_synth_kb_writes_the_analysis_and_its_plots(capsys, tmp_path):
    _ok(["synth", "kb", "lapatinib_vs_trastuzumab_neoadjuvant_pcr", "-o", str(tmp_path)],
        capsys)
    names = {p.name for p in tmp_path.iterdir()}
    stem = "lapatinib_vs_trastuzumab_neoadjuvant_pcr"
    assert {f"{stem}.json", f"{stem}_studies.csv", f"{stem}.svg", f"{stem}.png",
            f"{stem}.html"} <= names
    d = json.loads((tmp_path / f"{stem}.json").read_text())
    assert d["result"]["k"] == 3 and "not medical advice" in d["disclaimer"]


def test_the_synthesis_stage_runs_after_the_virtual_trials_and_before_the_reports():
    from her2lab.reproduce import load_stages

    names = [s.name for s in load_stages()]
    assert names.index("virtual_trials") < names.index("synthesis") < names.index("report")
