"""Contrast-based network meta-analysis, graph-theoretical method (Rücker 2012).

Input: one row per pairwise comparison (``study, treatment1, treatment2, estimate, se``, the
estimate of treatment1 versus treatment2 on the analysis scale); a study with ``a`` arms gives
all ``a(a-1)/2`` pairs. Method, as in R's netmeta:

1. Multi-arm studies get reduced weights (Rücker 2012, Res Synth Methods 3:312-324, sec. 4;
   Rücker & Schwarzer 2014): with ``R`` the study's matrix of pairwise variances and
   ``P = I - J/a``, the study Laplacian is ``L = (-½ P R P)⁺`` and the weight of pair (i, j)
   is ``-L_ij``. A two-arm study keeps ``1/se²``.
2. With the edge-incidence matrix ``B`` and ``W = diag(weights)``, the network Laplacian is
   ``L = BᵀWB``; the estimate of i versus j is ``(L⁺BᵀWy)_i - (L⁺BᵀWy)_j`` with variance
   ``L⁺_ii + L⁺_jj - 2L⁺_ij``; ``H = BL⁺BᵀW``; Cochran's ``Q = (y - Hy)ᵀW(y - Hy)`` on
   ``Σ(aₛ - 1) - (n - 1)`` df.
3. τ² by the generalised method of moments (Jackson et al. 2012 / Rücker 2012, as netmeta):
   ``τ² = max(0, (Q - df) / tr((I - H) C W))``, ``C = (BBᵀ ∘ E) / 2`` (E: same study), the
   covariance of the random effects when the contrasts of one multi-arm study share ``τ²/2``.
   The random-effects model repeats step 1-2 with the pairwise variances ``se² + τ²``.
4. Q decomposition (Krahn et al. 2013, BMC Med Res Methodol 13:35): ``Q_within`` is the sum of
   the Q statistics of each design (the set of treatments a study compares) analysed alone,
   ``Q_between = Q - Q_within``.
5. I² = ``(Q - df) / Q`` with the Higgins & Thompson (2002) test-based interval on H (as
   netmeta); P-scores (Rücker & Schwarzer 2015, BMC Med Res Methodol 15:58):
   ``Pᵢ = mean over j≠i of Φ((θⱼ - θᵢ) / seᵢⱼ)`` when small values are desirable.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from her2lab.errors import DataError, Problem, ValidationError
from her2lab.synthesis.effects import check_measure, from_analysis_scale

__all__ = [
    "Contrast",
    "NMAModel",
    "NMAResult",
    "connected_components",
    "network_meta_analysis",
    "pairwise_from_arms",
    "read_contrasts_csv",
]


@dataclass(frozen=True)
class Contrast:
    """One pairwise comparison of a study.

    Attributes
    ----------
    study : str
        Names the study.
    treatment1, treatment2 : str
        The treatments compared (two different ones): ``estimate`` is treatment1 versus
        treatment2.
    estimate : float
        The effect on the analysis scale (log for ratio measures).
    se : float
        Its standard error, > 0.
    source : str
        Where the figure came from.
    """

    study: str
    treatment1: str
    treatment2: str
    estimate: float
    se: float
    source: str = ""

    def __post_init__(self) -> None:
        if self.treatment1 == self.treatment2:
            raise DataError(f"study {self.study!r}: a comparison needs two different "
                            f"treatments; got {self.treatment1!r} twice")
        if not (math.isfinite(self.estimate) and math.isfinite(self.se) and self.se > 0):
            raise DataError(f"study {self.study!r}: {self.treatment1} vs {self.treatment2} "
                            f"needs a finite estimate and a positive se; got {self.estimate}, "
                            f"{self.se}")


@dataclass(frozen=True)
class NMAModel:
    """Network estimates of one model (common or random effects).

    Attributes
    ----------
    name : str
        ``"common"`` or ``"random"``.
    treatments : tuple of str
        The treatments, in index order.
    te : numpy.ndarray
        ``te[i, j]``: treatment i versus j on the analysis scale.
    se : numpy.ndarray
        ``se[i, j]``: its standard error.
    level : float
        Confidence level of the intervals.
    """

    name: str
    treatments: tuple[str, ...]
    te: np.ndarray
    se: np.ndarray
    level: float

    def index(self, t: str) -> int:
        """The index of a treatment in ``treatments``.

        Parameters
        ----------
        t : str
            The treatment's name.

        Returns
        -------
        int
            Its row and column in ``te`` and ``se``.

        Raises
        ------
        UnknownIdError
            If the network has no such treatment.
        """
        try:
            return self.treatments.index(t)
        except ValueError:
            from her2lab.errors import UnknownIdError

            raise UnknownIdError("treatment", t, list(self.treatments)) from None

    def estimate(self, a: str, b: str) -> tuple[float, float, float, float]:
        """One treatment versus another, on the analysis scale.

        Parameters
        ----------
        a, b : str
            The treatments: the estimate is ``a`` versus ``b``.

        Returns
        -------
        tuple of (float, float, float, float)
            ``(estimate, se, ci_low, ci_high)``.

        Raises
        ------
        UnknownIdError
            If either treatment is not in the network.
        """
        i, j = self.index(a), self.index(b)
        z = stats.norm.isf((1 - self.level) / 2)
        te, se = float(self.te[i, j]), float(self.se[i, j])
        return te, se, te - z * se, te + z * se

    def pscores(self, *, small_values: str = "desirable") -> dict[str, float]:
        """P-scores (Rücker & Schwarzer 2015): the mean certainty that a treatment beats each other.

        Parameters
        ----------
        small_values : {"desirable", "undesirable"}, optional
            Whether a smaller effect is better (``desirable``, default: an HR below 1) or worse.

        Returns
        -------
        dict of str to float
            Treatment -> P-score in [0, 1].
        """
        n = len(self.treatments)
        out = {}
        for i, t in enumerate(self.treatments):
            acc = 0.0
            for j in range(n):
                if j == i:
                    continue
                d = self.te[i, j] / self.se[i, j]
                acc += stats.norm.cdf(-d if small_values == "desirable" else d)
            out[t] = acc / (n - 1) if n > 1 else 1.0
        return out


@dataclass(frozen=True)
class NMAResult:
    """A network meta-analysis (netmeta's model: common and random effects, one τ²).

    Attributes
    ----------
    measure : str
        The effect measure.
    reference : str
        The treatment the others are compared with.
    treatments : tuple of str
        Every treatment, sorted.
    contrasts : tuple of Contrast
        The comparisons analysed.
    studies : tuple of str
        The studies, in order.
    designs : dict of str to tuple of str
        Design label -> the treatments its studies compare.
    common, random : NMAModel
        The common- and random-effects estimates.
    q, q_df : float, int
        The total Q and its degrees of freedom.
    q_within, q_within_df : float, int
        Heterogeneity within designs.
    q_between, q_between_df : float, int
        Inconsistency between designs.
    q_design : dict of str to (float, int)
        Design -> its Q and degrees of freedom.
    tau2 : float
        Between-study variance τ² (the generalised DerSimonian–Laird estimate).
    i2 : float or None
        I², in percent.
    i2_low, i2_high : float or None
        I²'s confidence interval.
    small_values : str
        ``desirable`` or ``undesirable``, for P-scores.
    adjusted_se_random : tuple of float
        Each contrast's random-effects standard error (multi-arm adjusted), in contrast order.
    notes : tuple of str
        Remarks.
    """
    measure: str
    reference: str
    treatments: tuple[str, ...]
    contrasts: tuple[Contrast, ...]
    studies: tuple[str, ...]
    designs: dict[str, tuple[str, ...]]
    common: NMAModel
    random: NMAModel
    q: float
    q_df: int
    q_within: float
    q_within_df: int
    q_between: float
    q_between_df: int
    q_design: dict[str, tuple[float, int]]
    tau2: float
    i2: float | None
    i2_low: float | None
    i2_high: float | None
    small_values: str
    adjusted_se_random: tuple[float, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def pscores(self, model: str = "random") -> dict[str, float]:
        """P-scores of one model, with the result's ``small_values``.

        Parameters
        ----------
        model : {"random", "common"}, optional
            Which model's estimates (default ``random``).

        Returns
        -------
        dict of str to float
            Treatment -> P-score in [0, 1].
        """
        m = self.random if model == "random" else self.common
        return m.pscores(small_values=self.small_values)

    def versus_reference(self, model: str = "random") -> list[dict]:
        """Every treatment against the reference, on the analysis scale.

        Parameters
        ----------
        model : {"random", "common"}, optional
            Which model's estimates (default ``random``).

        Returns
        -------
        list of dict
            One row per other treatment: ``treatment``, ``estimate``, ``se``, ``ci_low``,
            ``ci_high``.
        """
        m = self.random if model == "random" else self.common
        rows = []
        for t in self.treatments:
            if t == self.reference:
                continue
            te, se, lo, hi = m.estimate(t, self.reference)
            rows.append({"treatment": t, "estimate": te, "se": se, "ci_low": lo, "ci_high": hi})
        return rows

    def league_table(self, model: str = "random", order: Sequence[str] | None = None
                     ) -> list[list[str]]:
        """Square table of every treatment against every other.

        The diagonal names the treatment; the cell in row r, column c is the estimate of r versus c
        (back-transformed for ratio measures) with its CI.

        Parameters
        ----------
        model : {"random", "common"}, optional
            Which model's estimates (default ``random``).
        order : sequence of str, optional
            The treatments' order (default: ``treatments``).

        Returns
        -------
        list of list of str
            The table's rows, formatted.
        """
        m = self.random if model == "random" else self.common
        order = list(order) if order is not None else sorted(
            self.treatments, key=lambda t: -self.pscores(model)[t])
        rows = []
        for r in order:
            row = []
            for c in order:
                if r == c:
                    row.append(r)
                    continue
                te, _, lo, hi = m.estimate(r, c)
                b = [from_analysis_scale(x, self.measure) for x in (te, lo, hi)]
                row.append(f"{b[0]:.2f} ({b[1]:.2f} to {b[2]:.2f})")
            rows.append(row)
        return rows

    def to_dict(self) -> dict:
        """The JSON of ``her2lab synth nma``.

        Returns
        -------
        dict
            Issue 13's keys, plus the per-design Q, the I² interval and the league tables.
        """
        return {
            "measure": self.measure,
            "reference": self.reference,
            "treatments": list(self.treatments),
            "k": len(self.studies),
            "m": len(self.contrasts),
            "tau2": self.tau2,
            "i2": self.i2,
            "i2_low": self.i2_low,
            "i2_high": self.i2_high,
            "q": self.q,
            "q_df": self.q_df,
            "q_within": self.q_within,
            "q_within_df": self.q_within_df,
            "q_between": self.q_between,
            "q_between_df": self.q_between_df,
            "q_design": {d: {"q": q, "df": df} for d, (q, df) in self.q_design.items()},
            "random": self.versus_reference("random"),
            "common": self.versus_reference("common"),
            "pscores": self.pscores("random"),
            "pscores_common": self.pscores("common"),
            "small_values": self.small_values,
            "league_random": self.league_table("random"),
            "league_common": self.league_table("common"),
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------- core


def _study_weights(pairs: list[Contrast], arms: list[str], extra: float) -> dict[tuple, float]:
    """Reduced weights of a study's pairs (Rücker 2012); ``extra`` is added to each pairwise
    variance (τ² for the random-effects model)."""
    a = len(arms)
    if a == 2:
        c = pairs[0]
        return {(c.treatment1, c.treatment2): 1.0 / (c.se**2 + extra)}
    idx = {t: i for i, t in enumerate(arms)}
    r = np.zeros((a, a))
    for c in pairs:
        i, j = idx[c.treatment1], idx[c.treatment2]
        r[i, j] = r[j, i] = c.se**2 + extra
    p = np.eye(a) - np.ones((a, a)) / a
    lap = np.linalg.pinv(-0.5 * p @ r @ p)
    out = {}
    for c in pairs:
        w = -lap[idx[c.treatment1], idx[c.treatment2]]
        if not w > 0:
            raise DataError(
                f"study {c.study!r}: the standard errors of its {a} arms are not consistent "
                "with one variance per arm (a reduced weight came out "
                f"{w:.3g}); check them"
            )
        out[(c.treatment1, c.treatment2)] = float(w)
    return out


def _fit(contrasts: Sequence[Contrast], treatments: Sequence[str], by_study: dict[str, list],
         arms_of: dict[str, list[str]], extra: float):
    tix = {t: i for i, t in enumerate(treatments)}
    m, n = len(contrasts), len(treatments)
    b = np.zeros((m, n))
    y = np.zeros(m)
    w = np.zeros(m)
    weights: dict[tuple, float] = {}
    for s, pairs in by_study.items():
        for key, val in _study_weights(pairs, arms_of[s], extra).items():
            weights[(s, *key)] = val
    for e, c in enumerate(contrasts):
        b[e, tix[c.treatment1]] = 1
        b[e, tix[c.treatment2]] = -1
        y[e] = c.estimate
        w[e] = weights[(c.study, c.treatment1, c.treatment2)]
    wm = np.diag(w)
    lap = b.T @ wm @ b
    lp = np.linalg.pinv(lap)
    theta = lp @ b.T @ wm @ y
    te = theta[:, None] - theta[None, :]
    d = np.diag(lp)
    var = d[:, None] + d[None, :] - 2 * lp
    se = np.sqrt(np.clip(var, 0, None))
    h = b @ lp @ b.T @ wm
    resid = y - h @ y
    q = float(resid @ wm @ resid)
    return te, se, q, b, h, wm, w


def connected_components(contrasts: Sequence[Contrast]) -> list[list[str]]:
    """The treatments of each connected part of a network, largest first.

    Parameters
    ----------
    contrasts : sequence of Contrast
        The network's comparisons.

    Returns
    -------
    list of list of str
        One list of treatments per connected part.
    """
    adj: dict[str, set[str]] = defaultdict(set)
    for c in contrasts:
        adj[c.treatment1].add(c.treatment2)
        adj[c.treatment2].add(c.treatment1)
    seen: set[str] = set()
    comps = []
    for t in sorted(adj):
        if t in seen:
            continue
        stack, comp = [t], []
        seen.add(t)
        while stack:
            u = stack.pop()
            comp.append(u)
            for x in sorted(adj[u]):
                if x not in seen:
                    seen.add(x)
                    stack.append(x)
        comps.append(sorted(comp))
    return sorted(comps, key=lambda c: (-len(c), c))


def _i2_ht(q: float, df: int, level: float) -> tuple[float | None, float | None, float | None]:
    """I² with the Higgins & Thompson (2002) test-based interval on ln H (k = df + 1)."""
    if df < 1:
        return None, None, None
    k = df + 1
    i2 = max(0.0, (q - df) / q) if q > 0 else 0.0
    z = stats.norm.isf((1 - level) / 2)
    h = math.sqrt(q / df) if q > 0 else 0.0
    if q > k:
        se_ln_h = 0.5 * (math.log(q) - math.log(df)) / (math.sqrt(2 * q) - math.sqrt(2 * k - 3))
    elif k > 2:
        se_ln_h = math.sqrt(1 / (2 * (k - 2)) * (1 - 1 / (3 * (k - 2) ** 2)))
    else:
        return 100 * i2, None, None
    h = max(h, 1e-300)
    lo_h, hi_h = (math.exp(math.log(h) + s * z * se_ln_h) for s in (-1, 1))
    lo, hi = (max(0.0, (x**2 - 1) / x**2) for x in (max(lo_h, 1.0), max(hi_h, 1.0)))
    return 100 * i2, 100 * lo, 100 * hi


def _validate(contrasts: Sequence[Contrast]) -> tuple[dict[str, list], dict[str, list[str]]]:
    by_study: dict[str, list[Contrast]] = defaultdict(list)
    for c in contrasts:
        by_study[c.study].append(c)
    arms_of: dict[str, list[str]] = {}
    for s, pairs in by_study.items():
        arms = sorted({t for c in pairs for t in (c.treatment1, c.treatment2)})
        seen = Counter(frozenset((c.treatment1, c.treatment2)) for c in pairs)
        dup = [tuple(sorted(k)) for k, n in seen.items() if n > 1]
        if dup:
            raise DataError(f"study {s!r} gives the comparison {' vs '.join(dup[0])} twice")
        need = len(arms) * (len(arms) - 1) // 2
        if len(pairs) != need:
            raise DataError(
                f"study {s!r} compares {len(arms)} treatments ({', '.join(arms)}) and so must "
                f"give all {need} pairs; it gives {len(pairs)}"
            )
        arms_of[s] = arms
    return by_study, arms_of


def network_meta_analysis(
    contrasts: Sequence[Contrast],
    *,
    measure: str,
    reference: str | None = None,
    small_values: str = "desirable",
    level: float = 0.95,
) -> NMAResult:
    """Common- and random-effects network meta-analysis of contrasts (see the module).

    Parameters
    ----------
    contrasts : sequence of Contrast
        Every comparison, on the analysis scale; a multi-arm study gives all its pairs.
    measure : str
        The effect measure (``HR``, ``OR``, ``MD``, ...).
    reference : str, optional
        The treatment the others are compared with (default: the first in sorted order, as
        netmeta).
    small_values : {"desirable", "undesirable"}, optional
        For P-scores: ``desirable`` (default; an HR below 1 is good) or ``undesirable`` (a
        higher pCR odds is good).
    level : float, optional
        Confidence level of the intervals (default 0.95).

    Returns
    -------
    NMAResult
        Both models' estimates, heterogeneity and inconsistency.

    Raises
    ------
    DataError
        If there is no comparison, a study repeats a comparison, ``small_values`` is unknown,
        or the network is disconnected (its parts are named; analyze each with
        :func:`connected_components`).
    UnknownIdError
        If ``reference`` is not a treatment of the network.
    """
    measure = check_measure(measure)
    if small_values not in ("desirable", "undesirable"):
        raise DataError(f"small_values must be 'desirable' or 'undesirable'; got {small_values!r}")
    contrasts = tuple(contrasts)
    if not contrasts:
        raise DataError("a network meta-analysis needs at least one comparison; got none")
    comps = connected_components(contrasts)
    if len(comps) > 1:
        parts = "; ".join("{" + ", ".join(c) + "}" for c in comps)
        raise DataError(f"the network is not connected; its parts are: {parts}. Analyse each "
                        "part on its own")
    treatments = tuple(comps[0])
    if reference is None:
        reference = treatments[0]
    if reference not in treatments:
        from her2lab.errors import UnknownIdError

        raise UnknownIdError("reference treatment", reference, list(treatments))
    by_study, arms_of = _validate(contrasts)
    studies = tuple(by_study)
    notes: list[str] = []

    te_c, se_c, q, b, h, _wm, w_c = _fit(contrasts, treatments, by_study, arms_of, 0.0)
    df = sum(len(a) - 1 for a in arms_of.values()) - (len(treatments) - 1)

    # tau2, generalised method of moments with multi-arm correlation 1/2
    if df > 0:
        same = np.array([[ci.study == cj.study for cj in contrasts] for ci in contrasts], float)
        cmat = (b @ b.T) * same / 2
        denom = float(np.trace((np.eye(len(contrasts)) - h) @ cmat @ np.diag(w_c)))
        tau2 = max(0.0, (q - df) / denom)
    else:
        tau2 = 0.0
        notes.append("no degrees of freedom for heterogeneity (each comparison rests on one "
                     "study): τ² cannot be estimated and is set to 0, so the random-effects "
                     "results equal the common-effect ones")
    te_r, se_r, _, _, _, _, w_r = _fit(contrasts, treatments, by_study, arms_of, tau2)

    # design-by-treatment decomposition
    designs: dict[str, list[str]] = defaultdict(list)
    for s, arms in arms_of.items():
        designs[":".join(arms)].append(s)
    q_design: dict[str, tuple[float, int]] = {}
    for dname, ss in designs.items():
        sub = [c for c in contrasts if c.study in ss]
        d_trts = sorted({t for c in sub for t in (c.treatment1, c.treatment2)})
        d_df = sum(len(arms_of[s]) - 1 for s in ss) - (len(d_trts) - 1)
        if d_df > 0:
            sub_by = {s: by_study[s] for s in ss}
            _, _, q_d, *_ = _fit(sub, d_trts, sub_by, arms_of, 0.0)
        else:
            q_d = 0.0
        q_design[dname] = (q_d, d_df)
    q_within = float(sum(q for q, _ in q_design.values()))
    q_within_df = int(sum(d for _, d in q_design.values()))
    i2, i2_lo, i2_hi = _i2_ht(q, df, level)

    names = tuple(treatments)
    return NMAResult(
        measure=measure, reference=reference, treatments=names, contrasts=contrasts,
        studies=studies, designs={k: tuple(v) for k, v in designs.items()},
        common=NMAModel("common", names, te_c, se_c, level),
        random=NMAModel("random", names, te_r, se_r, level),
        q=q, q_df=df, q_within=q_within, q_within_df=q_within_df,
        q_between=max(0.0, q - q_within), q_between_df=df - q_within_df, q_design=q_design,
        tau2=tau2, i2=i2, i2_low=i2_lo, i2_high=i2_hi, small_values=small_values,
        adjusted_se_random=tuple(float(1 / math.sqrt(x)) for x in w_r),
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------- inputs


def pairwise_from_arms(
    study: str, arms: Sequence[tuple[str, float, float, int]], *, source: str = ""
) -> list[Contrast]:
    """All mean-difference contrasts of one study from its arms (netmeta's ``pairwise``).

    Parameters
    ----------
    study : str
        Names the study.
    arms : sequence of (str, float, float, int)
        ``(treatment, mean, sd, n)`` per arm.
    source : str, optional
        Where the figures come from.

    Returns
    -------
    list of Contrast
        ``arm_i - arm_j`` for i before j, with ``se² = sdᵢ²/nᵢ + sdⱼ²/nⱼ``.
    """
    out = []
    for i in range(len(arms)):
        for j in range(i + 1, len(arms)):
            ti, mi, si, ni = arms[i]
            tj, mj, sj, nj = arms[j]
            out.append(Contrast(study, ti, tj, mi - mj, math.sqrt(si**2 / ni + sj**2 / nj),
                                source))
    return out


def read_contrasts_csv(path) -> list[Contrast]:
    """The rows of a ``synth nma`` CSV as :class:`Contrast` objects.

    Parameters
    ----------
    path : str or Path
        The CSV, with columns ``study,treatment1,treatment2,estimate,se`` (estimate on the
        analysis scale: a log HR, not the HR).

    Returns
    -------
    list of Contrast
        One contrast per row, in file order.

    Raises
    ------
    ValidationError
        Listing every bad row and field (file, line, what was expected).
    """
    from her2lab.synthesis.effects import parse_number, read_table

    file = str(path)
    header, rows = read_table(path)
    need = ("study", "treatment1", "treatment2", "estimate", "se")
    missing = [c for c in need if c not in header]
    if missing:
        raise ValidationError(
            [Problem(file, ",".join(missing), "columns " + ",".join(need),
                     "columns " + ",".join(header), 1)],
            f"{file}: bad header",
        )
    problems: list[Problem] = []
    out = []
    for line, row in rows:
        for col in ("study", "treatment1", "treatment2"):
            if not row[col]:
                problems.append(Problem(file, col, "a name", "an empty cell", line))
        est = parse_number(row["estimate"], file=file, line=line, column="estimate",
                           problems=problems)
        se = parse_number(row["se"], file=file, line=line, column="se", problems=problems)
        if se is not None and se <= 0:
            problems.append(Problem(file, "se", "a standard error above 0", row["se"], line))
            continue
        if est is None or se is None or not all(row[c] for c in need[:3]):
            continue
        if row["treatment1"] == row["treatment2"]:
            problems.append(Problem(file, "treatment2", "a treatment other than treatment1",
                                    repr(row["treatment2"]), line))
            continue
        out.append(Contrast(row["study"], row["treatment1"], row["treatment2"], est, se,
                            f"{file}:{line}"))
    if problems:
        raise ValidationError(problems, f"{file}: {len(problems)} problem(s)")
    return out
