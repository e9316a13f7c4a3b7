"""The knowledge base says which drugs counteract each mechanism (``counteracted_by``); the
model must agree: in a tumor with mechanism M, each such drug D raises the response, on its own
(D versus untreated) or added to trastuzumab (trastuzumab + D versus trastuzumab).

Margin: 3 standard errors of the difference of the two responses at 8,000 trajectories, from
their standard-error bounds as for independent estimates (``hypot``; about 0.02-0.035): the two
runs share the profile's stream, but a continuous-time chain's trajectories part at the first
event a drug changes, so their errors are nearly uncorrelated (``bench/streams.py``); the
smallest gains that must clear it are everolimus and temsirolimus on trastuzumab in a
PIK3CA-mutant tumor, about 0.04.
"""

from __future__ import annotations

import math

import pytest

from her2lab.knowledge import load

N = 8000
PAIRS = [(m.id, d) for m in load().mechanisms for d in m.counteracted_by]


def _gain(sim, mech: str, with_: str, without: str) -> tuple[float, float]:
    a, b = sim(mech, with_, samples=N), sim(mech, without, samples=N)
    return a.response - b.response, 3 * math.hypot(a.response_se, b.response_se)


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
