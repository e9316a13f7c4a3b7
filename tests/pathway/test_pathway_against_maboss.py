"""The HER2 model, exported by the engine's MaBoSS writer with a condition applied, gives the
same time courses in MaBoSS (cmaboss) as in our engine, for every drug and every mechanism.

MaBoSS takes about 1.7 s per condition at 2,000 trajectories, so the drugs are run in six
combined regimens (every drug in one of them) on the tumor with no named mechanism, and the
mechanisms in four graded profiles (degrees 0.4-0.8, so the initial-state mixture is exercised;
every mechanism and HR positivity in one of them) under anti-HER2 regimens; plus the untreated
tumor. Compared: P(ON) of every read-out node (proliferation, vessel supply, the four death
nodes) averaged over the read-out window, and the response.

Tolerance: a window mean over ``N`` trajectories has standard error at most
sqrt(p (1 - p) / N), so the difference of two independent estimates at most
sqrt(2 p (1 - p) / N); we allow 4.5 of those (p pooled, floored at 1/N). A two-sided 4.5-sigma
event has probability 7e-6: over the 7 x 11 comparisons a correct engine fails with
probability about 0.05%, while a difference of 0.05 in a probability near 0.5 is caught
(5.0 standard errors at N = 2000 — the size of the effects the claims rest on). The response is
compared with 4.5 times the root sum of squares of the two bounds of
:func:`her2lab.pathway.response.response_se`.
"""

from __future__ import annotations

import math

import pytest

from her2lab.pathway import DRUGS, MECHANISMS, simulate_many
from her2lab.pathway.response import READ_NODES

pytest.importorskip("cmaboss", reason="cmaboss (the MaBoSS reference) is not installed")

N = 2000
_DRUGS = list(DRUGS)
_MECHS = list(MECHANISMS)
_ANTI_HER2 = ["trastuzumab", "trastuzumab+pertuzumab", "lapatinib", "trastuzumab+anti_pd1"]
CONDITIONS = (
    [("none", "none")]
    + [("none", "+".join(_DRUGS[k::6])) for k in range(6)]
    + [({m: 0.4 + 0.1 * (j % 5) for j, m in enumerate(_MECHS[k::4])} | (
        {"hr_positive": True} if k == 1 else {}), _ANTI_HER2[k]) for k in range(4)]
)


@pytest.fixture(scope="module")
def both():
    ours = simulate_many(CONDITIONS, samples=N, seed=5, cache=False)
    ref = simulate_many(CONDITIONS, samples=N, seed=17, cache=False, backend="maboss")
    return ours, ref


@pytest.mark.slow
def test_our_engine_and_maboss_agree_on_every_drug_and_mechanism(both):
    bad = []
    for cond, a, b in zip(CONDITIONS, *both, strict=True):
        for node in READ_NODES:
            p, q = a.nodes[node], b.nodes[node]
            pooled = min(max((p + q) / 2, 1 / N), 1 - 1 / N)
            tol = 4.5 * math.sqrt(2 * pooled * (1 - pooled) / N)
            if abs(p - q) > tol:
                bad.append(f"{cond} {node}: ours {p:.4f}, MaBoSS {q:.4f}, tolerance {tol:.4f}")
        tol = 4.5 * math.hypot(a.response_se, b.response_se)
        if abs(a.response - b.response) > tol:
            bad.append(f"{cond} response: ours {a.response:.4f}, MaBoSS {b.response:.4f}")
    assert not bad, "\n".join(bad)


def test_every_drug_and_mechanism_was_compared():
    assert {d for _, r in CONDITIONS for d in r.split("+")} >= set(DRUGS)
    assert {m for p, _ in CONDITIONS if isinstance(p, dict) for m in p} == {
        *MECHANISMS, "hr_positive"}


def test_the_exported_files_keep_the_rate_scheme():
    from her2lab.pathway import model_files

    bnd, cfg = model_files("pten_loss", "everolimus", samples=10, seed=1)
    assert "$u_mTORC1" in bnd and "$i_mTORC1" in bnd
    (line,) = [ln for ln in cfg.splitlines() if ln.startswith("$u_mTORC1 =")]
    assert float(line.split("=")[1].rstrip(";")) == pytest.approx(1 - DRUGS["everolimus"].potency)
    assert "[M_pten_loss].istate = 1 [1], 0 [0];" in cfg
