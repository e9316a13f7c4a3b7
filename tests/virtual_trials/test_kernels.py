"""The numba kernels of the link against the NumPy statements of the same quantities, on random
inputs: equal bit for bit (the calibration's optimiser path depends on the last bits), except
where the NumPy statement calls ``np.exp`` on an array: NumPy picks a SIMD ``exp`` by CPU, which
may differ from the C library's (the kernel's) in the last unit, so those agree to a few ulp."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from her2lab.virtual_trials import link
from her2lab.virtual_trials.link import KINETICS, ArmKinetics


def _mixture_reference(t, weights, median, cure, sd):
    with np.errstate(divide="ignore"):
        z = (np.log(t)[None, :] - np.log(median)[:, None]) / sd
    sf = special.ndtr(-z)
    pdf = np.exp(-0.5 * z * z) / (math.sqrt(2 * math.pi) * sd * t[None, :])
    c = np.zeros(weights.size) if cure is None else cure
    return (weights @ (c[:, None] + (1 - c)[:, None] * sf), weights @ ((1 - c)[:, None] * pdf))


def _few_ulp(a, b):
    """Equal but for the last units of ``exp`` (NumPy's SIMD ``exp`` against the C library's)."""
    np.testing.assert_allclose(a, b, rtol=8 * np.finfo(float).eps, atol=1e-300)


def _types(rng, n):
    w = rng.dirichlet(np.ones(n))
    median = np.exp(rng.normal(2.0, 1.5, n))
    return w, median, rng.uniform(0.0, 1.0, n)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("with_cure", [False, True])
def test_mixture_curves_match_numpy(seed, with_cure):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    w, median, cure = _types(rng, n)
    if seed % 2:  # runs of equal medians (and cures), as for types that differ only in chemo
        median = np.repeat(median[: (n + 5) // 6], 6)[:n]
        cure = np.repeat(cure[: (n + 5) // 6], 6)[:n]
    t = np.linspace(0.0, float(rng.uniform(10, 300)), 301)[1:]
    sd = float(rng.uniform(0.3, 1.2))
    c = cure if with_cure else None
    S, f = _mixture_reference(t, w, median, c, sd)
    got = link.mixture_curves(t, w, median, c, sd=sd)
    assert np.array_equal(got.S, S)
    _few_ulp(got.f, f)
    assert np.array_equal(got.t, t)


def test_mixture_curves_extreme_medians():
    t = np.linspace(0.0, 50.0, 101)[1:]
    w = np.array([0.2, 0.3, 0.1, 0.4])
    median = np.array([0.0, 1e-30, 1e30, 5.0])
    S, f = _mixture_reference(t, w, median, None, 0.6)
    got = link.mixture_curves(t, w, median)
    assert np.array_equal(got.S, S)
    _few_ulp(got.f, f)


@pytest.mark.parametrize("seed", range(5))
def test_point_sf_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    w, median, cure = _types(rng, int(rng.integers(1, 300)))
    sd = KINETICS["kinetic_sd"].value
    for time in (0.5, 7.0, 40.0):
        ref = special.ndtr((np.log(median) - math.log(time)) / sd)
        assert link.point_sf(time, w, median) == float(w @ ref)
        refc = cure + (1 - cure) * ref
        assert link.point_sf(time, w, median, cure) == float(w @ refc)


def _kinetics(rng, months):
    n = int(rng.integers(1, 200))
    p = len(months)
    return ArmKinetics(rng.dirichlet(np.ones(n)), rng.uniform(0.02, 0.4, (p, n)),
                       rng.uniform(0.0, 3.0, (p, n)), months, rng.uniform(0.05, 0.4, n),
                       float(rng.uniform(0.01, 1.0)))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("months", [(math.inf,), (2.0, math.inf), (1.5, 3.0, math.inf),
                                    (2.0, 3.0), (4.1,), (300.0,)])
def test_progression_times_match_numpy(seed, months):
    k = _kinetics(np.random.default_rng(seed), months)
    t, depth = link.progression_times(k)
    rt, rdepth = link._progression_times_numpy(k)
    assert np.array_equal(t, rt) and np.array_equal(depth, rdepth)
    grid = np.linspace(0.0, 60.0, 97)[1:]
    assert np.array_equal(link.progression_times(k, grid)[0],
                          link._progression_times_numpy(k, grid)[0])


def test_progression_never_reached():
    # strong kill without resistance: the burden never regrows within the grid
    k = ArmKinetics(np.array([1.0]), np.array([[0.01]]), np.array([[5.0]]), (math.inf,),
                    np.array([0.1]), 1e-6)
    t, depth = link.progression_times(k)
    rt, rdepth = link._progression_times_numpy(k)
    assert t[0] == rt[0] and depth[0] == rdepth[0]


def _cox_reference(t, s_e, f_e, s_c, f_c, accrual, follow_up, dropout, allocation):
    from scipy import optimize

    from her2lab.virtual_trials.stats.simulate import dropout_rate

    tmax = accrual + follow_up
    dt = np.diff(np.concatenate([[0.0], t]))
    g = np.clip((tmax - t) / accrual, 0.0, 1.0) * np.exp(-dropout_rate(dropout) * t)
    pe, pc = allocation, 1 - allocation
    d_e = pe * f_e * g * dt
    d_all = (pe * f_e + pc * f_c) * g * dt
    se, sc = np.maximum(s_e, 1e-300), np.maximum(s_c, 1e-300)

    def score(b):
        share = math.exp(b) * pe * se / (math.exp(b) * pe * se + pc * sc)
        return float(np.sum(d_e - share * d_all))

    return optimize.brentq(score, -6.0, 6.0, xtol=1e-10)


@pytest.mark.parametrize("seed", range(4))
def test_limiting_cox_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 90.0, 301)[1:]
    w, m, _ = _types(rng, 50)
    e = link.mixture_curves(t, w, m * 1.4)
    c = link.mixture_curves(t, w, m)
    alloc = float(rng.uniform(0.3, 0.7))
    got = link.limiting_cox_from_curves(t, e.S, e.f, c.S, c.f, accrual=30.0, follow_up=40.0,
                                        dropout_per_year=0.05, allocation=alloc)
    ref = _cox_reference(t, e.S, e.f, c.S, c.f, 30.0, 40.0, 0.05, alloc)
    assert got == ref


def test_ndtr_and_pairwise_sum_match_numpy():
    from her2lab.virtual_trials import _kernels

    rng = np.random.default_rng(0)
    for scale in (0.5, 3.0, 30.0):
        a = rng.normal(0.0, scale, 20_000)
        assert np.array_equal(special.ndtr(a), np.array([_kernels.ndtr(x) for x in a]))
    for extreme in (np.inf, -np.inf, 0.0, 40.0, -40.0):
        assert _kernels.ndtr(extreme) == special.ndtr(extreme)
    assert math.isnan(_kernels.ndtr(np.nan))
    for n in (1, 7, 8, 9, 127, 128, 129, 255, 256, 257, 300, 1000, 5000, 70_001):
        a = rng.normal(size=n) * np.exp(rng.normal(0.0, 5.0, n))
        assert _kernels.pairwise_sum(a) == np.sum(a)
