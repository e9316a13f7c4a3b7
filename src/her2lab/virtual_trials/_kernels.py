"""Fused numba kernels of the link's numerics (:mod:`.link`): the log-normal mixture's survival
and density, the mixture's survival at one time, the first RECIST progression on a grid, and the
limiting Cox score. Each computes what the straightforward NumPy expression of :mod:`.link`
computes, without materialising the types x times matrices (tests compare them to it).

Compiled with ``cache=True`` in an importable module, so worker processes load them from the
on-disk cache.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["cox_score", "mixture_point_sf", "mixture_sf_pdf", "progression_scan"]

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@njit(cache=True, inline="always")
def _log(x: float) -> float:
    # log with NumPy's conventions at 0 and below (-inf, nan) without a domain error
    if x > 0.0:
        return math.log(x)
    if x == 0.0:
        return -np.inf
    return np.nan


# Cephes' erfc for 1 <= x < 8 and x >= 8: erfc(x) = exp(-x^2) P(x) / Q(x) (Moshier SL, Methods
# and programs for mathematical functions, 1989; the coefficients of scipy.special's ndtr)
_P = (2.46196981473530512524E-10, 5.64189564831068821977E-1, 7.46321056442269912687E0,
      4.86371970985681366614E1, 1.96520832956077098242E2, 5.26445194995477358631E2,
      9.34528527171957607540E2, 1.02755188689515710272E3, 5.57535335369399327526E2)
_Q = (1.32281951154744992508E1, 8.67072140885989742329E1, 3.54937778887819891062E2,
      9.75708501743205489753E2, 1.82390916687909736289E3, 2.24633760818710981792E3,
      1.65666309194161350182E3, 5.57535340817727675546E2)
_R = (5.64189583547755073984E-1, 1.27536670759978104416E0, 5.01905042251180477414E0,
      6.16021097993053585195E0, 7.40974269950448939160E0, 2.97886665372100240670E0)
_S = (2.26052863220117276590E0, 9.39603524938001434673E0, 1.20489539808096656605E1,
      1.70814450747565897222E1, 9.60896809063285878198E0, 3.36907645100081516050E0)


@njit(cache=True, inline="always")
def _half_erfc(x: float, e: float) -> float:
    """``erfc(x) / 2`` given ``e = exp(-x * x)`` (which the density shares)."""
    a = abs(x)
    if a < 1.0 or a != a:
        return 0.5 * math.erfc(x)
    if a < 8.0:
        p = (((((((_P[0] * a + _P[1]) * a + _P[2]) * a + _P[3]) * a + _P[4]) * a + _P[5]) * a
              + _P[6]) * a + _P[7]) * a + _P[8]
        q = (((((((a + _Q[0]) * a + _Q[1]) * a + _Q[2]) * a + _Q[3]) * a + _Q[4]) * a + _Q[5])
             * a + _Q[6]) * a + _Q[7]
    elif a < 27.3:
        p = ((((_R[0] * a + _R[1]) * a + _R[2]) * a + _R[3]) * a + _R[4]) * a + _R[5]
        q = (((((a + _S[0]) * a + _S[1]) * a + _S[2]) * a + _S[3]) * a + _S[4]) * a + _S[5]
    else:
        return 0.0 if x > 0 else 1.0
    y = 0.5 * e * p / q
    return y if x > 0 else 1.0 - y


@njit(cache=True)
def mixture_sf_pdf(t, weights, median, cure, has_cure, sd):
    """``S_j = sum_i w_i [c_i + (1 - c_i) Phi(-z_ij)]`` and ``f_j = sum_i w_i (1 - c_i)
    phi(z_ij) / (sd t_j)``, ``z_ij = (ln t_j - ln m_i) / sd`` (``c = 0`` unless ``has_cure``);
    one exponential per type and time, shared by the survival and the density."""
    nt = t.size
    S = np.zeros(nt)
    f = np.zeros(nt)
    logt = np.empty(nt)
    dens = np.empty(nt)
    for j in range(nt):
        logt[j] = _log(t[j])
        dens[j] = _INV_SQRT_2PI / (sd * t[j])
    inv_sd = 1.0 / sd
    base = 0.0
    for i in range(weights.size):
        w = weights[i]
        c = cure[i] if has_cure else 0.0
        base += w * c
        wl = w * (1.0 - c)
        if wl == 0.0:
            continue
        lm = _log(median[i])
        for j in range(nt):
            z = (logt[j] - lm) * inv_sd
            e = math.exp(-0.5 * z * z)
            S[j] += wl * _half_erfc(z * _SQRT1_2, e)
            f[j] += wl * e
    for j in range(nt):
        S[j] += base
        f[j] *= dens[j]
    return S, f


@njit(cache=True)
def mixture_point_sf(log_time, weights, median, cure, has_cure, sd):
    """``sum_i w_i [c_i + (1 - c_i) Phi((ln m_i - ln time) / sd)]``."""
    total = 0.0
    for i in range(weights.size):
        s = 0.5 * math.erfc(-(_log(median[i]) - log_time) / sd * _SQRT1_2)
        if has_cure:
            s = cure[i] + (1.0 - cure[i]) * s
        total += weights[i] * s
    return total


@njit(cache=True)
def progression_scan(growth, kill, months, e0s, e1s, untreated, lam, grid, egrid, thr):
    """Per type (columns of ``growth``/``kill``, phases in rows): ``ln y`` on ``grid`` phase by
    phase as :func:`.link.log_burden_grid` computes it, preceded by 0 at time 0; the first time
    at which it exceeds its running minimum by ``thr`` (linearly interpolated between grid
    points, the last point when it never does, at least 1e-3), and the depth ``-min ln y``.

    ``months``: the phases' lengths (``inf`` for one until progression); ``e0s``/``e1s``:
    ``exp(-lam t0)``, ``exp(-lam t1)`` at each phase's start and end; ``egrid``:
    ``exp(-lam grid)``. After a schedule of finite phases the tumor grows at ``untreated``."""
    n_types = growth.shape[1]
    n_ph = growth.shape[0]
    ng = grid.size
    n = ng + 1
    times = np.empty(n_types)
    depth = np.empty(n_types)
    ly = np.empty(n)
    ex = np.empty(n)
    tg = np.empty(n)
    tg[0] = 0.0
    for j in range(ng):
        tg[j + 1] = grid[j]
    for k in range(n_types):
        for j in range(n):
            ly[j] = 0.0
        base = 0.0
        t0 = 0.0
        finite = True
        for p in range(n_ph):
            d = months[p]
            t1 = t0 + d
            g = growth[p, k]
            kl = kill[p, k] / lam
            for j in range(ng):
                tj = grid[j]
                if tj > t0 and (tj <= t1 or not math.isfinite(t1)):
                    ly[j + 1] = base + (g * (tj - t0) - kl * (e0s[p] - egrid[j]))
            if not math.isfinite(t1):
                finite = False
                break
            base = base + g * d - kl * (e0s[p] - e1s[p])
            t0 = t1
        if finite:
            u = untreated[k]
            for j in range(ng):
                if grid[j] > t0:
                    ly[j + 1] = base + u * (grid[j] - t0)
        # running nadir (NaN propagates, as in np.minimum.accumulate) and the excess over it
        nadir = ly[0]
        first = -1
        for j in range(n):
            v = ly[j]
            if nadir == nadir and not v >= nadir:
                nadir = v
            ex[j] = v - nadir
            if first < 0 and ex[j] >= thr:
                first = j
        if first < 0:
            first = n - 1
        if first < 1:
            first = 1
        depth[k] = -nadir
        e0 = ex[first - 1]
        de = ex[first] - e0
        if not de <= 1e-12 and de == de:
            frac = (thr - e0) / de
        elif de == de:
            frac = (thr - e0) / 1e-12
        else:
            frac = np.nan
        if frac < 0.0:
            frac = 0.0
        elif frac > 1.0:
            frac = 1.0
        tt = tg[first - 1] + frac * (tg[first] - tg[first - 1])
        times[k] = tt if not tt < 1e-3 else (1e-3 if tt == tt else tt)
    return times, depth


@njit(cache=True)
def cox_score(b, pe, pc, se, sc, d_e, d_all):
    """``sum_j d_e,j - e^b pe se_j / (e^b pe se_j + pc sc_j) d_all,j``."""
    eb = math.exp(b)
    total = 0.0
    for j in range(se.size):
        x = eb * pe * se[j]
        total += d_e[j] - x / (x + pc * sc[j]) * d_all[j]
    return total
