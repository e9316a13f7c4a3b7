"""Rates from time courses, the response formula and its standard-error bound."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from her2lab.pathway.response import (
    ANGIOGENESIS_WEIGHT,
    GROWTH_MAX,
    KILL_SOURCES,
    MAX_TIME,
    T0,
    Rates,
    rates_from_time_course,
    response,
    response_se,
)

TIMES = tuple(float(t) for t in range(int(MAX_TIME)))
rate = st.floats(0, 1)


def _traj(prolif: float = 0.5, angio: float = 0.5, hazards: dict | None = None) -> dict:
    """Node trajectories of exponential death curves with the given hazards (per day)."""
    hazards = hazards or {}
    out = {"Proliferation": (prolif,) * len(TIMES), "Angiogenesis": (angio,) * len(TIMES)}
    for src, node in KILL_SOURCES.items():
        h = hazards.get(src, 0.0)
        out[node] = tuple(1 - math.exp(-h * t) for t in TIMES)
    return out


def test_an_exponential_death_curve_gives_back_its_hazard():
    hz = {"targeted": 0.03, "payload": 0.0, "cytotoxic": 0.05, "immune": 0.01}
    rates, _, _ = rates_from_time_course(_traj(hazards=hz), TIMES, 2000)
    assert rates.kill == pytest.approx(hz, abs=1e-12)
    assert rates.total_kill == pytest.approx(0.09)


def test_independent_hazards_add():
    """Two causes with hazards a and b: P(dead) = 1 - exp(-(a + b) t), and -ln(1 - P) adds."""
    a, b = 0.02, 0.04
    one = {"Apoptosis": tuple(1 - math.exp(-(a + b) * t) for t in TIMES)}
    traj = {**_traj(), **one}
    rates, _, _ = rates_from_time_course(traj, TIMES, 2000)
    assert rates.kill["targeted"] == pytest.approx(a + b)


def test_growth_is_the_cycling_share_times_the_vessel_supply():
    rates, ph, _ = rates_from_time_course(_traj(prolif=0.6, angio=0.2), TIMES, 2000)
    a = ANGIOGENESIS_WEIGHT
    assert rates.growth == pytest.approx(GROWTH_MAX * 0.6 * (1 - a + a * 0.2))
    assert ph["proliferation"] == pytest.approx(0.6)


def test_the_read_out_window_starts_at_t0():
    traj = _traj(prolif=0.2)
    traj["Proliferation"] = tuple(1.0 if t < T0 else 0.2 for t in TIMES)
    rates, _, _ = rates_from_time_course(traj, TIMES, 2000)
    assert rates.growth == pytest.approx(GROWTH_MAX * 0.2 * (1 - ANGIOGENESIS_WEIGHT * 0.5))


@given(rate, st.floats(0, 0.5), st.floats(0.001, 0.3))
def test_the_response_lies_in_zero_one_and_rises_with_kill(g, k, d):
    r = response(Rates(g, {"targeted": k}))
    assert 0.0 <= r <= 1.0
    assert response(Rates(g, {"targeted": k, "cytotoxic": d})) >= r - 1e-12
    assert response(Rates(g + d, {"targeted": k})) <= r + 1e-12


def test_a_stable_tumor_scores_one_half():
    assert response(Rates(0.05, {"targeted": 0.02, "immune": 0.03})) == pytest.approx(0.5)
    assert Rates(0.05, {"targeted": 0.02, "immune": 0.03}).net == pytest.approx(0.0)


def test_the_bound_covers_the_monte_carlo_spread_of_the_response():
    """Draw binomial death curves and proliferation many times: the response's SD stays under
    the bound, which is not absurdly loose either."""
    rng = np.random.default_rng(7)
    n, reps = 500, 3000
    k0 = int(T0)
    truth = {"targeted": 0.03, "immune": 0.02}
    rs, ses = [], []
    for _ in range(reps):
        traj = _traj(prolif=rng.binomial(n, 0.6) / n, angio=rng.binomial(n, 0.7) / n)
        for src, h in truth.items():
            p0 = rng.binomial(n, 1 - math.exp(-h * T0)) / n
            alive = round(n * (1 - p0))
            died = rng.binomial(alive, 1 - math.exp(-h * (TIMES[-1] - T0)))
            p1 = p0 + died / n
            curve = [0.0] * len(TIMES)
            curve[k0], curve[-1] = p0, p1
            traj[KILL_SOURCES[src]] = tuple(curve)
        rates, _, _ = rates_from_time_course(traj, TIMES, n)
        rs.append(response(rates))
        ses.append(response_se(rates))
    assert float(np.std(rs)) <= float(np.mean(ses))
    assert float(np.std(rs)) >= 0.3 * float(np.mean(ses))


def test_rates_serialise_with_their_units():
    d = Rates(0.05, {"targeted": 0.01, "immune": 0.02}).to_dict()
    assert d == {"growth": 0.05, "kill": {"targeted": 0.01, "immune": 0.02},
                 "total_kill": pytest.approx(0.03), "units": "per day"}
