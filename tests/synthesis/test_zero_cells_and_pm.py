"""The synthesis conventions where her2lab and metafor could differ: the Paule–Mandel τ², the
double-zero studies and the risk difference's zero-cell correction.

References (formulas, not transcribed numbers):

- Paule & Mandel (1982), as in DerSimonian & Kacker (2007), Contemp Clin Trials 28:105-114:
  τ² is the root of the generalised Q(τ²) = Σ w_i (y_i - μ(τ²))² = k - 1, w_i = 1/(v_i + τ²),
  or 0 where Q(0) <= k - 1. metafor's ``rma(method="PM")`` finds it with ``uniroot``.
- metafor's ``escalc`` (Viechtbauer 2010, J Stat Softw 36(3), section 3.1; ``?escalc``):
  with ``add=1/2, to="only0", drop00=FALSE`` (its defaults) a study with a zero cell, double
  zeros included, gets ½ added to every cell; then log OR = log(ad/bc) with variance
  1/a + 1/b + 1/c + 1/d, and RD = a/(a+b) - c/(c+d) with variance p1(1-p1)/n1 + p2(1-p2)/n2
  on the corrected counts.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from her2lab.errors import DataError
from her2lab.synthesis import effect_from_counts, meta_analysis, read_effects_csv
from her2lab.synthesis.effects import read_effects_table

DATA = Path(__file__).resolve().parents[1] / "data" / "synthesis"


def _q(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    w = 1.0 / (v + tau2)
    mu = float(w @ y / w.sum())
    return float(w @ (y - mu) ** 2)


@pytest.mark.parametrize(("file", "measure"), [("clasp.csv", "OR"), ("bcg.csv", "RR"),
                                               ("bcg.csv", "OR")])
def test_the_paule_mandel_tau2_is_the_root_of_the_generalised_q_to_machine_precision(
        file, measure):
    studies = read_effects_csv(DATA / file, measure=measure)
    y = np.array([s.yi for s in studies])
    v = np.array([s.se**2 for s in studies])
    k = len(studies)
    tau2 = meta_analysis(studies, method="PM").random.tau2
    assert tau2 > 0
    # Q is decreasing in τ²: the root is where Q crosses k - 1; at 1e-12 relative on either
    # side Q must lie on the two sides of k - 1 (statsmodels' own iteration stops up to 4e-6
    # relative off, which this would catch)
    assert _q(y, v, tau2 * (1 - 1e-9)) > k - 1 > _q(y, v, tau2 * (1 + 1e-9))
    assert abs(_q(y, v, tau2) - (k - 1)) <= 1e-10 * (k - 1)


def test_paule_mandel_is_zero_where_q_at_zero_is_below_its_degrees_of_freedom():
    # three studies whose spread is well within their variances: Q(0) < 2 (checked)
    r = meta_analysis(["a", "b", "c"], [0.8, 0.82, 0.79], [0.6, 0.5, 0.55], [1.07, 1.34, 1.13],
                      measure="HR", method="PM")
    assert r.q < 2 and r.random.tau2 == 0.0


def _escalc_or(a, n1, c, n2, add=0.5):
    a, b, c, d = a + add, n1 - a + add, c + add, n2 - c + add
    return math.log(a * d / (b * c)), math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)


def _escalc_rd(a, n1, c, n2, add=0.5):
    p1, p2 = (a + add) / (n1 + 2 * add), (c + add) / (n2 + 2 * add)
    return p1 - p2, math.sqrt(p1 * (1 - p1) / (n1 + 2 * add) + p2 * (1 - p2) / (n2 + 2 * add))


def test_a_double_zero_study_alone_is_refused_with_advice_that_works():
    with pytest.raises(DataError) as exc:
        effect_from_counts("z", 0, 40, 0, 38, measure="OR")
    msg = str(exc.value)
    assert "--drop-double-zero" in msg and "--keep-double-zero" in msg
    assert "use RD" not in msg
    # the advice is not RD: RD without its ½ refuses the study too, and says how to keep it
    with pytest.raises(DataError, match="--rd-add-half"):
        effect_from_counts("z", 0, 40, 0, 38, measure="RD")


@pytest.mark.parametrize("measure", ["OR", "RR"])
def test_a_kept_double_zero_study_gets_half_added_as_metafor_does(measure):
    e = effect_from_counts("z", 0, 40, 0, 38, measure=measure, double_zero="add")
    if measure == "OR":
        yi, se = _escalc_or(0, 40, 0, 38)
    else:  # log RR = log((a/n1)/(c/n2)), var 1/a - 1/n1 + 1/c - 1/n2 on corrected counts
        a, n1, c, n2 = 0.5, 41.0, 0.5, 39.0
        yi, se = math.log((a / n1) / (c / n2)), math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n2)
    assert e.yi == pytest.approx(yi, abs=1e-12) and e.se == pytest.approx(se, abs=1e-12)


def test_rd_adds_nothing_by_default_and_half_when_asked_as_metafor_does():
    # one zero cell (0 of 30 against 4 of 31)
    plain = effect_from_counts("s", 0, 30, 4, 31, measure="RD")
    assert plain.yi == pytest.approx(0 / 30 - 4 / 31, abs=1e-12)
    assert plain.se == pytest.approx(math.sqrt((4 / 31) * (27 / 31) / 31), abs=1e-12)
    half = effect_from_counts("s", 0, 30, 4, 31, measure="RD", rd_add=0.5)
    yi, se = _escalc_rd(0, 30, 4, 31)
    assert half.yi == pytest.approx(yi, abs=1e-12) and half.se == pytest.approx(se, abs=1e-12)


def _table(tmp_path: Path) -> Path:
    p = tmp_path / "zeros.csv"
    p.write_text("study,events_t,n_t,events_c,n_c\n"
                 "A,3,50,9,50\nB,0,40,0,38\nC,1,60,6,61\nD,0,30,4,31\n", encoding="utf-8")
    return p


def test_a_table_drops_double_zero_studies_by_default_and_says_so(tmp_path):
    effects, notes = read_effects_table(_table(tmp_path), measure="OR")
    assert [e.label for e in effects] == ["A", "C", "D"]
    assert any("double-zero studies left out (B)" in n for n in notes)
    assert any("zero-cell studies with ½ added to every cell: D" in n for n in notes)
    kept, notes = read_effects_table(_table(tmp_path), measure="OR", double_zero="add")
    assert [e.label for e in kept] == ["A", "B", "C", "D"]
    assert any("B, D" in n for n in notes) and not any("left out" in n for n in notes)


def test_a_table_states_the_rd_choice_and_offers_metafors(tmp_path):
    _, notes = read_effects_table(_table(tmp_path), measure="RD")
    assert any("no ½ added" in n and "--rd-add-half" in n for n in notes)
    effects, notes = read_effects_table(_table(tmp_path), measure="RD", double_zero="add",
                                        rd_add=0.5)
    assert [e.label for e in effects] == ["A", "B", "C", "D"]
    b = next(e for e in effects if e.label == "B")
    yi, se = _escalc_rd(0, 40, 0, 38)
    assert b.yi == pytest.approx(yi, abs=1e-12) and b.se == pytest.approx(se, abs=1e-12)
    assert not any("no ½ added" in n for n in notes)


def test_the_cli_states_the_double_zero_convention_in_its_output(tmp_path):
    from her2lab.cli import app

    runner = CliRunner()
    f = str(_table(tmp_path))
    res = runner.invoke(app, ["synth", "meta", f, "--measure", "OR"], env={"COLUMNS": "20"})
    assert res.exit_code == 0, res.output
    flat = " ".join(res.output.split())
    assert "double-zero studies left out (B)" in flat and "--keep-double-zero" in flat
    res = runner.invoke(app, ["synth", "meta", f, "--measure", "OR", "--keep-double-zero",
                              "--format", "json"])
    assert res.exit_code == 0, res.output
    assert '"k": 4' in res.output.replace(" ", "").replace('"k":4', '"k": 4')
