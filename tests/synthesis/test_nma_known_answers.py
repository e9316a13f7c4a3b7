"""Network meta-analysis against netmeta's published Stowe2010 analysis, and Senn2013 against
an independent generalised-least-squares fit.

Stowe2010 (Parkinson's disease, mean off-time reduction; one three-arm study): the figures are
netmeta's printout in Balduzzi et al. (2023), "netmeta: An R package for network
meta-analysis using frequentist methods", J Stat Softw 106(2), section 5.1 (the vignette
netmeta.pdf in github guido-s/netmeta, commit 1c70ea2f): ``netmeta(pw1, common = FALSE,
ref = "plac")``, ``decomp.design(net1)``, ``netrank(net1)``, ``netleague(net1)``.
Tolerance: half a unit of the last printed digit (estimates 2 decimals: 0.005; τ² and P-scores
4 decimals: 5e-5; Q 2 decimals: 0.005; I² one decimal of a percentage: 0.05).

Senn2013 (diabetes, HbA1c): netmeta's printed output for this data set was not in the sources
we could read, so the common-effect network estimates and Q are checked against statsmodels'
GLS on basic parameters with the exact within-study covariance of the three-arm study (an
independent computation: Rücker 2012 shows the graph-theoretical estimate equals it), and the
Q decomposition, df and P-scores against invariants.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from her2lab.errors import DataError
from her2lab.synthesis import (
    Contrast,
    network_meta_analysis,
    pairwise_from_arms,
    read_contrasts_csv,
)
from her2lab.synthesis.effects import read_table

DATA = Path(__file__).resolve().parents[1] / "data" / "synthesis"


def stowe_contrasts() -> list[Contrast]:
    _, rows = read_table(DATA / "stowe2010.csv")
    out = []
    for _, r in rows:
        arms = [(r[f"t{i}"], float(r[f"y{i}"]), float(r[f"sd{i}"]), int(r[f"n{i}"]))
                for i in (1, 2, 3) if r[f"t{i}"]]
        out += pairwise_from_arms(r["study"], arms)
    return out


@pytest.fixture(scope="module")
def stowe():
    return network_meta_analysis(stowe_contrasts(), measure="MD", reference="Placebo")


def test_stowe_pairwise_standard_errors_match_netmeta_pairwise():
    largo = {(c.treatment1, c.treatment2): c.se for c in stowe_contrasts() if c.study == "LARGO"}
    assert abs(largo[("COMTI", "Placebo")] - 0.2116796) <= 5e-8
    assert abs(largo[("COMTI", "MAOBI")] - 0.2116709) <= 5e-8


def test_stowe_random_effects_estimates_match_netmeta(stowe):
    published = {"COMTI": (-0.95, -1.27, -0.63), "Dopamine Agonist": (-1.49, -1.86, -1.12),
                 "MAOBI": (-1.03, -1.56, -0.50)}
    rows = {r["treatment"]: r for r in stowe.to_dict()["random"]}
    for t, (est, lo, hi) in published.items():
        assert abs(rows[t]["estimate"] - est) <= 0.005
        assert abs(rows[t]["ci_low"] - lo) <= 0.005 and abs(rows[t]["ci_high"] - hi) <= 0.005


def test_stowe_heterogeneity_and_q_decomposition_match_netmeta(stowe):
    d = stowe.to_dict()
    assert abs(d["tau2"] - 0.1518) <= 5e-5
    assert abs(d["i2"] - 43.9) <= 0.05
    assert abs(d["i2_low"] - 12.3) <= 0.05 and abs(d["i2_high"] - 64.2) <= 0.05
    assert abs(d["q"] - 48.15) <= 0.005 and d["q_df"] == 27
    assert abs(d["q_within"] - 46.91) <= 0.005 and d["q_within_df"] == 25
    assert abs(d["q_between"] - 1.24) <= 0.005 and d["q_between_df"] == 2
    design = d["q_design"]
    assert abs(design["COMTI:Placebo"]["q"] - 23.65) <= 0.005
    assert design["COMTI:Placebo"]["df"] == 10
    assert abs(design["Dopamine Agonist:Placebo"]["q"] - 21.70) <= 0.005
    assert abs(design["MAOBI:Placebo"]["q"] - 1.56) <= 0.005


def test_stowe_three_arm_study_gets_netmetas_adjusted_standard_errors(stowe):
    adj = [se for c, se in zip(stowe.contrasts, stowe.adjusted_se_random, strict=True)
           if c.study == "LARGO"]
    assert all(abs(se - 0.543) <= 0.0005 for se in adj)


def test_stowe_pscores_and_league_table_match_netmeta(stowe):
    p = stowe.pscores("random")
    published = {"Dopamine Agonist": 0.9677, "MAOBI": 0.5664, "COMTI": 0.4659, "Placebo": 0.0}
    for t, v in published.items():
        assert abs(p[t] - v) <= 5e-5
    # netleague lower triangle: column versus row, e.g. Dopamine Agonist vs MAOBI -0.46
    for a, b, v in [("Dopamine Agonist", "MAOBI", -0.46), ("Dopamine Agonist", "COMTI", -0.55),
                    ("MAOBI", "COMTI", -0.09)]:
        assert abs(stowe.random.estimate(a, b)[0] - v) <= 0.005
    table = stowe.league_table("random")
    assert [table[i][i] for i in range(4)] == ["Dopamine Agonist", "MAOBI", "COMTI", "Placebo"]


def _gls_common(contrasts, treatments, reference):
    """Independent check: GLS (statsmodels) on basic parameters d_t = t - reference, with
    each study's contrasts against its first arm and their exact covariance (arm variances
    solved from the pairwise variances)."""
    import statsmodels.api as sm

    by = {}
    for c in contrasts:
        by.setdefault(c.study, []).append(c)
    basic = [t for t in treatments if t != reference]
    rows, ys, blocks = [], [], []
    for pairs in by.values():
        arms = sorted({t for c in pairs for t in (c.treatment1, c.treatment2)})
        v = {frozenset((c.treatment1, c.treatment2)): c.se**2 for c in pairs}
        y = {(c.treatment1, c.treatment2): c.estimate for c in pairs}
        y.update({(b, a): -e for (a, b), e in list(y.items())})
        if len(arms) == 2:
            var_arm = {arms[0]: v[frozenset(arms)] / 2, arms[1]: v[frozenset(arms)] / 2}
        else:
            a0, a1, a2 = arms
            s01, s02, s12 = (v[frozenset(p)] for p in ((a0, a1), (a0, a2), (a1, a2)))
            var_arm = {a0: (s01 + s02 - s12) / 2, a1: (s01 + s12 - s02) / 2,
                       a2: (s02 + s12 - s01) / 2}
        base, others = arms[0], arms[1:]
        cov = np.full((len(others), len(others)), var_arm[base])
        for i, o in enumerate(others):
            cov[i, i] += var_arm[o]
            x = np.zeros(len(basic))
            if o != reference:
                x[basic.index(o)] += 1
            if base != reference:
                x[basic.index(base)] -= 1
            rows.append(x)
            ys.append(y[(o, base)])
        blocks.append(cov)
    n = sum(len(b) for b in blocks)
    sigma = np.zeros((n, n))
    i = 0
    for b in blocks:
        sigma[i:i + len(b), i:i + len(b)] = b
        i += len(b)
    fit = sm.GLS(np.array(ys), np.array(rows), sigma=sigma).fit()
    resid = np.array(ys) - np.array(rows) @ fit.params
    q = float(resid @ np.linalg.solve(sigma, resid))
    se = np.sqrt(np.diag(fit.normalized_cov_params))  # known variances: scale 1, not estimated
    return dict(zip(basic, fit.params, strict=True)), dict(zip(basic, se, strict=True)), q


def test_senn_common_effects_equal_an_independent_gls_fit():
    contrasts = read_contrasts_csv(DATA / "senn2013.csv")
    res = network_meta_analysis(contrasts, measure="MD", reference="plac")
    est, se, q = _gls_common(contrasts, res.treatments, "plac")
    for t in est:
        te, s, _, _ = res.common.estimate(t, "plac")
        assert abs(te - est[t]) <= 1e-9 and abs(s - se[t]) <= 1e-9
    assert abs(res.q - q) <= 1e-8
    # 26 studies, one with three arms, 10 treatments: 27 independent contrasts - 9
    assert res.q_df == 18 and len(res.studies) == 26
    assert abs(res.q_within + res.q_between - res.q) <= 1e-9
    assert res.q_within_df + res.q_between_df == res.q_df
    p = res.pscores("random")
    assert abs(sum(p.values()) - len(p) / 2) <= 1e-9  # P-scores average 1/2


def test_a_disconnected_network_is_refused_with_its_parts():
    cs = [Contrast("s1", "A", "B", 0.1, 0.2), Contrast("s2", "C", "D", 0.1, 0.2)]
    with pytest.raises(DataError, match=r"not connected.*\{A, B\}; \{C, D\}"):
        network_meta_analysis(cs, measure="MD")


def test_a_multi_arm_study_missing_a_pair_is_refused():
    cs = [Contrast("s1", "A", "B", 0.1, 0.2), Contrast("s1", "A", "C", 0.1, 0.2)]
    with pytest.raises(DataError, match="must give all 3 pairs"):
        network_meta_analysis(cs, measure="MD")


@settings(max_examples=20)
@given(st.permutations(list(range(28))))
def test_network_estimates_do_not_depend_on_row_order(order):
    contrasts = read_contrasts_csv(DATA / "senn2013.csv")
    base = network_meta_analysis(contrasts, measure="MD", reference="plac")
    shuffled = network_meta_analysis([contrasts[i] for i in order], measure="MD",
                                     reference="plac")
    assert np.allclose(base.random.te, shuffled.random.te, atol=1e-10)
    assert abs(base.tau2 - shuffled.tau2) <= 1e-12
