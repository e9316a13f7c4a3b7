"""Numbers at risk on the Kaplan–Meier curve (what a plot prints under the curve), checked
against lifelines' event table and against counting the patients directly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from her2lab.seeds import DEFAULT_SEED
from her2lab.virtual_trials.stats.analyze import _kaplan_meier_lifelines, kaplan_meier


def _sample(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return np.round(rng.exponential(10.0, n), 1), rng.random(n) < 0.7  # ties on purpose


def test_the_numpy_risk_table_equals_lifelines_event_table():
    t, e = _sample(DEFAULT_SEED, 300)
    ours, theirs = kaplan_meier(t, e), _kaplan_meier_lifelines(t, e.astype(int), 0.05)
    assert np.array_equal(ours.times, theirs.times)
    assert np.array_equal(ours.at_risk, theirs.at_risk)
    assert ours.at_risk[0] == t.size


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 80),
       ticks=st.lists(st.floats(0, 60, allow_nan=False), min_size=1, max_size=8))
def test_at_risk_at_a_time_counts_the_patients_whose_time_is_not_earlier(seed, n, ticks):
    t, e = _sample(seed, n)
    curve = kaplan_meier(t, e)
    expected = [int((t >= x).sum()) for x in ticks]
    assert curve.at_risk_at(ticks).tolist() == expected
    assert np.all(np.diff(curve.at_risk) <= 0)  # never grows


def test_a_curve_without_its_risk_table_says_so():
    from her2lab.errors import SimulationError
    from her2lab.virtual_trials.stats.analyze import KaplanMeierCurve

    c = KaplanMeierCurve(np.r_[0.0, 1.0], np.r_[1.0, 0.5], np.r_[1.0, 0.2], np.r_[1.0, 0.8],
                         0.05)
    with pytest.raises(SimulationError, match="risk table"):
        c.at_risk_at(0.5)
