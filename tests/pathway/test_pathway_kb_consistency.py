"""The knowledge base says which drugs counteract each mechanism (``counteracted_by``); the
model must agree: in a tumor with mechanism M, each such drug D raises the response, on its own
(D versus untreated) or added to trastuzumab (trastuzumab + D versus trastuzumab).

Margin: 3 times the sum of the two responses' standard-error bounds at 16,000 trajectories
(about 0.015-0.035). The bounds are binomial, so they overstate the error of the integrated
read-outs (``pathway.simulate.simulator``) several times over; the smallest gain that must clear
them is everolimus (or temsirolimus) on trastuzumab in a PIK3CA-mutant tumor, about 0.046 (at
8,000 trajectories its margin was 0.048).
"""

from __future__ import annotations

import pytest

from her2lab.knowledge import load

N = 16000
PAIRS = [(m.id, d) for m in load().mechanisms for d in m.counteracted_by]


def _gain(sim, mech: str, with_: str, without: str) -> tuple[float, float]:
    a, b = sim(mech, with_, samples=N), sim(mech, without, samples=N)
    return a.response - b.response, 3 * (a.response_se + b.response_se)


@pytest.mark.parametrize(("mechanism", "drug"), PAIRS, ids=[f"{m}-{d}" for m, d in PAIRS])
def test_a_drug_the_kb_lists_against_a_mechanism_helps_in_the_model(sim, mechanism, drug):
    alone, m1 = _gain(sim, mechanism, drug, "none")
    on_t, m2 = _gain(sim, mechanism, f"trastuzumab+{drug}", "trastuzumab")
    assert alone > m1 or on_t > m2, (
        f"{drug} against {mechanism}: alone {alone:+.3f} (margin {m1:.3f}), "
        f"on trastuzumab {on_t:+.3f} (margin {m2:.3f})"
    )


def test_there_are_pairs_to_check():
    assert len(PAIRS) >= 15
