"""Numba kernels of the link's numerics (:mod:`.link`), bit for bit the values of the NumPy
expressions they replace, without their temporaries:

* :func:`ndtr`: Cephes' normal distribution function, the algorithm (and coefficients) of
  ``scipy.special.ndtr`` (Moshier SL, Methods and programs for mathematical functions, 1989);
* :func:`mixture_terms`: the per-type, per-time survival and density of log-normal times;
* :func:`point_terms`: the per-type survival at one time;
* :func:`progression_scan`: the log burden on the grid, its running nadir and the first RECIST
  regrowth per type, without the types x grid matrices;
* :func:`cox_score`: the limiting Cox score, summed in NumPy's pairwise order.

Exact equality matters: the calibration's optimiser follows finite differences of an objective
whose anchoring root-finders make it only piecewise smooth, so a change in the last bit of a
value can change its path (tests compare every kernel with the NumPy expression, exactly).
Compiled with ``cache=True`` in an importable module, so worker processes load them from the
on-disk cache.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["cox_score", "mixture_terms", "ndtr", "pairwise_sum", "point_terms",
           "progression_scan"]

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
_T = (9.60497373987051638749E0, 9.00260197203842689217E1, 2.23200534594684319226E3,
      7.00332514112805075473E3, 5.55923013010394962768E4)
_U = (3.35617141647503099647E1, 5.21357949780152679795E2, 4.59432382970980127987E3,
      2.26290000613890934246E4, 4.92673942608635921086E4)
_MAXLOG = 7.09782712893383996843E2
_SQRT1_2 = 0.70710678118654752440


@njit(cache=True)
def _erf_small(x: float) -> float:
    z = x * x
    p = (((_T[0] * z + _T[1]) * z + _T[2]) * z + _T[3]) * z + _T[4]
    q = ((((z + _U[0]) * z + _U[1]) * z + _U[2]) * z + _U[3]) * z + _U[4]
    return x * p / q


@njit(cache=True)
def _erfc_pos(x: float) -> float:
    """Cephes' erfc for ``x >= 0`` (what :func:`ndtr` uses; no recursion between erf and
    erfc, which numba's cache does not load reliably)."""
    if x < 1.0:
        return 1.0 - _erf_small(x)
    z = -x * x
    if z < -_MAXLOG:
        return 0.0
    z = math.exp(z)
    if x < 8.0:
        p = ((((((((_P[0] * x + _P[1]) * x + _P[2]) * x + _P[3]) * x + _P[4]) * x + _P[5]) * x
               + _P[6]) * x + _P[7]) * x + _P[8])
        q = (((((((x + _Q[0]) * x + _Q[1]) * x + _Q[2]) * x + _Q[3]) * x + _Q[4]) * x + _Q[5])
             * x + _Q[6]) * x + _Q[7]
    else:
        p = ((((_R[0] * x + _R[1]) * x + _R[2]) * x + _R[3]) * x + _R[4]) * x + _R[5]
        q = (((((x + _S[0]) * x + _S[1]) * x + _S[2]) * x + _S[3]) * x + _S[4]) * x + _S[5]
    return (z * p) / q


@njit(cache=True)
def ndtr(a: float) -> float:
    """The standard normal distribution function, as ``scipy.special.ndtr``."""
    if a != a:
        return np.nan
    x = a * _SQRT1_2
    z = abs(x)
    if z < _SQRT1_2:
        # Cephes' erf(x) = -erf(-x) for x < 0, equal bit for bit to the odd polynomial at x
        return 0.5 + 0.5 * _erf_small(x)
    y = 0.5 * _erfc_pos(z)
    return 1.0 - y if x > 0 else y


@njit(cache=True)
def mixture_terms(log_t, log_median, dens, cure, has_cure, sd):
    """Types in rows, times in columns: ``c + (1 - c) Phi(-z)`` and ``(1 - c) exp(-z^2 / 2) /
    dens``, ``z = (log_t - log_median) / sd`` (``c = 0`` unless ``has_cure``; ``dens``: the
    density's denominator ``sqrt(2 pi) sd t``)."""
    n, m = log_median.size, log_t.size
    surv = np.empty((n, m))
    dty = np.empty((n, m))
    for i in range(n):
        lm = log_median[i]
        c = cure[i] if has_cure else 0.0
        omc = 1.0 - c
        if i > 0 and lm == log_median[i - 1] and (not has_cure or c == cure[i - 1]):
            # a type with its predecessor's median and cure (types that differ only in a
            # chemosensitivity no drug of the arm uses): the same row
            for j in range(m):
                surv[i, j] = surv[i - 1, j]
                dty[i, j] = dty[i - 1, j]
            continue
        for j in range(m):
            z = (log_t[j] - lm) / sd
            sf = ndtr(-z)
            pdf = math.exp(-0.5 * z * z) / dens[j]
            if has_cure:
                surv[i, j] = c + omc * sf
                dty[i, j] = omc * pdf
            else:
                surv[i, j] = sf
                dty[i, j] = pdf
    return surv, dty


@njit(cache=True)
def point_terms(log_median, log_time, cure, has_cure, sd):
    """Per type: ``Phi((log_median - log_time) / sd)``, with a cure fraction when given."""
    out = np.empty(log_median.size)
    for i in range(log_median.size):
        sf = ndtr((log_median[i] - log_time) / sd)
        out[i] = cure[i] + (1.0 - cure[i]) * sf if has_cure else sf
    return out


@njit(cache=True)
def _leaf(a, lo, n):
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - (n % 8):
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True)
def _pairwise(a, lo0, n0):
    """NumPy's pairwise summation (blocks of at most 128 summed by 8 accumulators, halves split
    at a multiple of 8 and added), its recursion unrolled onto a stack (numba's cache does not
    load recursive functions reliably)."""
    if n0 <= 128:
        return _leaf(a, lo0, n0)
    los = np.empty(64, np.int64)
    ns = np.empty(64, np.int64)
    stage = np.zeros(64, np.int64)
    part = np.empty(64)
    sp = 0
    los[0], ns[0], stage[0] = lo0, n0, 0
    val = 0.0
    deliver = False
    while True:
        if deliver:
            if sp < 0:
                return val
            if stage[sp] == 1:  # the left half is done: keep it, do the right half
                part[sp] = val
                stage[sp] = 2
                n2 = ns[sp] // 2
                n2 -= n2 % 8
                los[sp + 1], ns[sp + 1], stage[sp + 1] = los[sp] + n2, ns[sp] - n2, 0
                sp += 1
                deliver = False
            else:
                val = part[sp] + val
                sp -= 1
        elif ns[sp] <= 128:
            val = _leaf(a, los[sp], ns[sp])
            sp -= 1
            deliver = True
        else:
            n2 = ns[sp] // 2
            n2 -= n2 % 8
            stage[sp] = 1
            los[sp + 1], ns[sp + 1], stage[sp + 1] = los[sp], n2, 0
            sp += 1


@njit(cache=True)
def pairwise_sum(a) -> float:
    """``np.sum`` of a contiguous 1-D float array, in NumPy's pairwise order."""
    return _pairwise(a, 0, a.size)


@njit(cache=True)
def cox_score(ebpe, pc, se, sc, d_e, d_all) -> float:
    """``np.sum(d_e - ebpe * se / (ebpe * se + pc * sc) * d_all)``."""
    terms = np.empty(se.size)
    for j in range(se.size):
        x = ebpe * se[j]
        terms[j] = d_e[j] - x / (x + pc * sc[j]) * d_all[j]
    return _pairwise(terms, 0, terms.size)


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
        frac = np.nan if de != de else (thr - e0) / (de if de > 1e-12 else 1e-12)
        if frac < 0.0:
            frac = 0.0
        elif frac > 1.0:
            frac = 1.0
        tt = tg[first - 1] + frac * (tg[first] - tg[first - 1])
        times[k] = 1e-3 if tt < 1e-3 else tt
    return times, depth
