"""The response formula and its standard-error bound."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from her2lab.pathway.response import response, response_se

prob = st.floats(0, 1)


def _ph(p, ap, an, im):
    return {"proliferation": p, "apoptosis": ap, "angiogenesis": an, "immune_kill": im}


@given(prob, prob, prob, prob)
def test_the_response_lies_in_zero_one(p, ap, an, im):
    assert 0.0 <= response(_ph(p, ap, an, im)) <= 1.0


@given(prob, prob, prob, prob, st.floats(0.01, 0.5))
def test_more_killing_raises_and_more_growth_lowers_the_response(p, ap, an, im, d):
    r = response(_ph(p, ap, an, im))
    assert response(_ph(p, min(1, ap + d), an, im)) >= r - 1e-12
    assert response(_ph(p, ap, an, min(1, im + d))) >= r - 1e-12
    assert response(_ph(min(1, p + d), ap, an, im)) <= r + 1e-12
    assert response(_ph(p, ap, min(1, an + d), im)) <= r + 1e-12


def test_the_extremes_of_the_scale():
    assert response(_ph(1, 0, 1, 0)) == 0.0
    assert response(_ph(0, 1, 0, 1)) == 1.0
    assert response(_ph(0, 0, 0, 0)) == 0.5


@given(prob, prob, prob, prob, st.integers(10, 100_000))
def test_the_standard_error_bound_is_positive_and_shrinks_as_one_over_root_n(p, ap, an, im, n):
    se = response_se(_ph(p, ap, an, im), n)
    assert se > 0
    # never more than the sum of four worst-case binomial errors times the largest weight
    assert se <= 4 * 0.5 * 0.5 / math.sqrt(n) + 1e-12


def test_the_bound_covers_the_monte_carlo_spread_of_the_response():
    """Simulate binomial read-outs many times: their response's SD stays under the bound."""
    import numpy as np

    rng = np.random.default_rng(7)
    truth = _ph(0.3, 0.4, 0.6, 0.2)
    n, reps = 500, 4000
    draws = {k: rng.binomial(n, v, reps) / n for k, v in truth.items()}
    rs = [response({k: draws[k][j] for k in truth}) for j in range(reps)]
    assert float(np.std(rs)) <= response_se(truth, n)
    assert float(np.std(rs)) >= 0.3 * response_se(truth, n), "the bound is not absurdly loose"


@pytest.mark.parametrize("a", [0.0, 0.5, 1.0])
def test_the_angiogenesis_weight_scales_growth(a):
    assert response(_ph(1, 0, 0, 0), a=a) == pytest.approx((1 - (1 - a)) / 2)
