"""A statistical consistency audit of every result in the knowledge base.

The checks are those a careful reviewer makes by hand, each allowing for the rounding of the
reported figures (a number given to two decimals may be anywhere within half a unit of its
last digit, so every check is made over that box of values, not at its centre):

``ci_centre``
    a ratio estimate lies near the geometric centre of its CI (a difference near the arithmetic
    centre): Wald intervals are symmetric on that scale.
``p_vs_ci``
    the p-value agrees with the CI: the z statistic implied by the CI (its level honoured) gives
    a two-sided p; a reported p that agrees only one-sided, or not at all, is reported.
``significance_vs_ci``
    a CI that excludes the null goes with p below its level's alpha, and the reverse.
``difference_arithmetic`` and ``or_arithmetic``
    a reported difference or odds ratio equals what its arms' rates give.
``median_ratio_vs_hr``
    under proportional hazards with an exponential shape, the ratio of medians (control over
    experimental) approximates the HR; a ratio outside the HR's CI is implausible.
``rate_vs_n`` and ``rate_ci_vs_n``
    a percentage is a whole number of patients out of the arm's n, and its CI matches the exact
    (Clopper-Pearson) interval for that count.
``p_vs_counts``
    a p-value comparing two arms' rates agrees with chi-square or Fisher tests of the counts.
``rate_components``
    a clinical benefit rate is the sum of the response and stable-disease rates it is made of.
``percent_range`` and ``unit_mismatch``
    percentages lie in 0-100; medians of one endpoint share a unit across arms.
``arms_vs_total``
    the arms' sizes add up to the trial's: more patients in the arms than in the trial is an
    error, fewer a warning (an arm without a size is not counted); an outcome's own ``n``
    (an analysis population) is at most the sum of the arms it concerns.
``table_vs_text``
    two records of the same figure that disagree; an error unless a conflict records it.
``recorded_conflict``
    every conflict the curators recorded is reported, so that none is forgotten.

Each finding has a kind, a severity (``error``, ``warning``, ``info``), a subject, and a
message a curator can act on.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass
from itertools import product

from scipy import stats

from her2lab.knowledge.schema import KnowledgeBase, Outcome, Trial, outcome_key

__all__ = ["Finding", "run_audit"]

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    kind: str
    severity: str
    subject: str
    message: str
    trial: str | None = None
    outcome: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)


# --------------------------------------------------------------------------- rounding helpers


def decimals(x: float) -> int:
    """Decimal places of a reported number as written (``0.0141`` -> 4, ``18.7`` -> 1)."""
    text = repr(float(x))
    if "e" in text:
        mant, exp = text.split("e")
        frac = mant.split(".")[1].rstrip("0") if "." in mant else ""
        return max(0, len(frac) - int(exp))
    frac = text.split(".")[1].rstrip("0")
    return len(frac)


def half_unit(*values: float) -> float:
    """Half a unit of the last reported digit, taken at the finest precision among ``values``
    (figures of one result are reported to one precision; "0.70" reads back as 0.7)."""
    return 0.5 * 10.0 ** (-max(decimals(v) for v in values))


def _box(*values: float) -> list[tuple[float, ...]]:
    h = half_unit(*values)
    return list(product(*[(v - h, v, v + h) for v in values]))


def _z_crit(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


def _two_sided_p(z: float) -> float:
    return float(2 * stats.norm.sf(abs(z)))


# --------------------------------------------------------------------------- the checks


def _effect_scale(o: Outcome):
    """Transform to the scale on which the interval is symmetric (log for ratios)."""
    if o.measure in ("HR", "OR"):
        return lambda v: math.log(v) if v > 0 else float("nan"), 0.0
    return (lambda v: v), 0.0


def _implied_p_range(o: Outcome) -> tuple[float, float] | None:
    """Range of two-sided p-values the rounded estimate and CI allow (Wald, CI level honoured)."""
    if o.ci is None or o.ci.low is None or o.ci.high is None or o.value is None:
        return None
    f, null = _effect_scale(o)
    zc = _z_crit(o.ci.level)
    ps = []
    for est, lo, hi in _box(o.value, o.ci.low, o.ci.high):
        if lo <= 0 and o.measure in ("HR", "OR"):
            continue
        se = (f(hi) - f(lo)) / (2 * zc)
        if se <= 0 or math.isnan(se):
            continue
        ps.append(_two_sided_p((f(est) - null) / se))
    if not ps:
        return None
    return min(ps), max(ps)


def _check_ci_centre(t: Trial, o: Outcome) -> list[Finding]:
    if o.kind != "effect" or o.ci is None or o.ci.low is None or o.ci.high is None:
        return []
    f, _ = _effect_scale(o)
    offsets = []
    for est, lo, hi in _box(o.value, o.ci.low, o.ci.high):
        if o.measure in ("HR", "OR") and lo <= 0:
            continue
        half = (f(hi) - f(lo)) / 2
        if half <= 0:
            continue
        offsets.append(abs(f(est) - (f(hi) + f(lo)) / 2) / half)
    if offsets and min(offsets) > 0.10:
        scale = "log scale" if o.measure in ("HR", "OR") else "additive scale"
        centre = (
            math.sqrt(o.ci.low * o.ci.high)
            if o.measure in ("HR", "OR")
            else (o.ci.low + o.ci.high) / 2
        )
        return [
            _finding(
                "ci_centre",
                "warning",
                t,
                o,
                f"{o.measure} {o.value:g} lies {min(offsets):.0%} of the half-width away from the "
                f"centre ({centre:.3g}) of its CI [{o.ci.low:g}, {o.ci.high:g}] on the {scale}, "
                "beyond rounding; check the estimate and both limits against the source",
            )
        ]
    return []


def _check_p_vs_ci(t: Trial, o: Outcome) -> list[Finding]:
    if o.kind != "effect" or o.p is None:
        return []
    rng = _implied_p_range(o)
    if rng is None:
        return []
    pmin, pmax = rng
    rep = o.p.value
    level = o.ci.level if o.ci else 0.95
    alpha = 1 - level
    out: list[Finding] = []
    ci_excludes_null = _ci_excludes_null(o)
    desc = f"{o.measure} {o.value:g} ({level:.1%} CI {o.ci.low:g}-{o.ci.high:g})"
    if o.p.relation == "<":
        if pmin >= rep:
            out.append(
                _finding(
                    "p_vs_ci",
                    "warning",
                    t,
                    o,
                    f"P < {rep:g} is reported, but {desc} implies a two-sided P of at least "
                    f"{pmin:.2g}",
                )
            )
        return out
    if o.p.relation == ">":
        return out
    h = half_unit(rep)
    lo_rep, hi_rep = max(rep - h, 0.0), rep + h
    agrees_two = lo_rep <= pmax and hi_rep >= pmin
    agrees_one = lo_rep <= pmax / 2 and hi_rep >= pmin / 2
    if agrees_two or (agrees_one and o.p.sided == 1):
        pass  # a p-value the source gives as one-sided agrees with half the two-sided one
    elif agrees_one and o.p.sided != 2:
        out.append(
            _finding(
                "p_vs_ci",
                "warning",
                t,
                o,
                f"P = {rep:g} agrees with {desc} only as a one-sided p-value (two-sided "
                f"{pmin:.2g}-{pmax:.2g}); the source should say the test was one-sided",
            )
        )
    else:
        ratio = max(rep / pmax, pmin / rep) if rep > 0 else float("inf")
        severity = "info" if ratio <= 1.5 else "warning"
        if ci_excludes_null is not None and ci_excludes_null != (rep < alpha):
            severity = "error"
        out.append(
            _finding(
                "p_vs_ci",
                severity,
                t,
                o,
                f"P = {rep:g} is reported, but {desc} implies a two-sided Wald P of "
                f"{pmin:.2g}-{pmax:.2g} (off by a factor {ratio:.2g}); a log-rank or exact "
                "test can differ a little, more than that points to a wrong figure",
            )
        )
    if o.p.relation == "=" and ci_excludes_null is not None:
        if ci_excludes_null and rep >= alpha:
            out.append(
                _finding(
                    "significance_vs_ci",
                    "error",
                    t,
                    o,
                    f"{desc} excludes the null but P = {rep:g} is not below {alpha:.3g}",
                )
            )
        elif not ci_excludes_null and rep < alpha:
            out.append(
                _finding(
                    "significance_vs_ci",
                    "error",
                    t,
                    o,
                    f"{desc} includes the null but P = {rep:g} is below {alpha:.3g}",
                )
            )
    return out


def _ci_excludes_null(o: Outcome) -> bool | None:
    """Whether the CI excludes the null for every value its rounded limits allow; ``None``
    when there is no CI or when rounding leaves it undecided (a limit reported as 1.00)."""
    if o.ci is None or o.ci.low is None or o.ci.high is None:
        return None
    null = 1.0 if o.measure in ("HR", "OR") else 0.0
    h = half_unit(o.ci.low, o.ci.high)
    if o.ci.low - h > null or o.ci.high + h < null:
        return True
    if o.ci.low + h < null < o.ci.high - h:
        return False
    return None


def _rates_by_arm(t: Trial, endpoint: str, subgroup: str | None) -> dict[str, list[Outcome]]:
    out: dict[str, list[Outcome]] = defaultdict(list)
    for o in t.outcomes:
        if o.kind == "rate" and o.endpoint == endpoint and o.subgroup == subgroup and o.arm:
            out[o.arm].append(o)
    return out


def _check_arithmetic(t: Trial, o: Outcome) -> list[Finding]:
    if o.kind != "effect" or o.measure not in ("difference", "OR"):
        return []
    rates = _rates_by_arm(t, o.endpoint, o.subgroup)
    a, b = o.arms
    out = []
    for ra, rb in product(rates.get(a, []), rates.get(b, [])):
        if o.measure == "difference":
            expected = ra.value - rb.value
            tol = half_unit(ra.value, rb.value) * 2 + half_unit(o.value)
            if abs(expected - o.value) > tol + 1e-9:
                out.append(
                    _finding(
                        "difference_arithmetic",
                        "warning",
                        t,
                        o,
                        f"reported difference {o.value:g} points, but the arms give "
                        f"{ra.value:g} - {rb.value:g} = {expected:.3g} (rounding allows "
                        f"±{tol:.2g})",
                    )
                )
        else:
            ors = []
            for pa, pb in product(*[(v - h, v + h) for v, h in (
                (ra.value, half_unit(ra.value)), (rb.value, half_unit(rb.value)))]):
                ors.append((pa / (100 - pa)) / (pb / (100 - pb)))
            h = half_unit(o.value)
            if not (min(ors) - h <= o.value <= max(ors) + h):
                mid = (ra.value / (100 - ra.value)) / (rb.value / (100 - rb.value))
                out.append(
                    _finding(
                        "or_arithmetic",
                        "warning",
                        t,
                        o,
                        f"reported OR {o.value:g}, but the arms' rates {ra.value:g}% and "
                        f"{rb.value:g}% give OR {mid:.3g}",
                    )
                )
    return out


def _check_median_ratio(t: Trial, o: Outcome) -> list[Finding]:
    if o.kind != "effect" or o.measure != "HR" or o.ci is None or o.ci.low is None:
        return []
    a, b = o.arms
    med = {
        x.arm: x
        for x in t.outcomes
        if x.kind == "median" and x.endpoint == o.endpoint and x.subgroup == o.subgroup
        and x.value is not None and x.arm in (a, b)
    }
    if a not in med or b not in med:
        return []
    ma, mb = med[a], med[b]
    if ma.unit != mb.unit:
        return []
    ratio = mb.value / ma.value
    if not (o.ci.low <= ratio <= o.ci.high):
        return [
            _finding(
                "median_ratio_vs_hr",
                "warning",
                t,
                o,
                f"median ratio {mb.value:g}/{ma.value:g} = {ratio:.3g} lies outside the HR's CI "
                f"[{o.ci.low:g}, {o.ci.high:g}]; medians and HR may come from different "
                "analyses, or hazards are far from proportional",
            )
        ]
    return []


def _arm_n(t: Trial, arm: str | None) -> int | None:
    for a in t.arms:
        if a.id == arm:
            return a.n
    return None


def _check_rate_vs_n(t: Trial, o: Outcome) -> list[Finding]:
    if o.kind != "rate" or o.qualifier != "=":
        return []
    n = o.n or _arm_n(t, o.arm)
    if n is None or o.value is None:
        return []
    out = []
    h = half_unit(o.value)
    k = round(o.value * n / 100)
    candidates = [c for c in (k - 1, k, k + 1) if 0 <= c <= n]
    fits = [c for c in candidates if abs(100 * c / n - o.value) <= h + 1e-9]
    if not fits:
        out.append(
            _finding(
                "rate_vs_n",
                "warning",
                t,
                o,
                f"{o.value:g}% of n = {n} is not a whole number of patients "
                f"({k}/{n} = {100 * k / n:.2f}%); check the rate or the arm's n",
            )
        )
        return out
    if o.ci is not None and o.ci.low is not None and o.ci.high is not None:
        hc = half_unit(o.ci.low, o.ci.high)
        ok = False
        for c in fits:
            alpha = 1 - o.ci.level
            lo = 100 * float(stats.beta.ppf(alpha / 2, c, n - c + 1)) if c > 0 else 0.0
            hi = 100 * float(stats.beta.ppf(1 - alpha / 2, c + 1, n - c)) if c < n else 100.0
            if abs(lo - o.ci.low) <= hc + 0.15 and abs(hi - o.ci.high) <= hc + 0.15:
                ok = True
        if not ok:
            c = fits[0]
            out.append(
                _finding(
                    "rate_ci_vs_n",
                    "info",
                    t,
                    o,
                    f"CI [{o.ci.low:g}, {o.ci.high:g}] of {o.value:g}% is not the exact "
                    f"(Clopper-Pearson) interval for {c}/{n}; another method or n was used",
                )
            )
    return out


def _check_p_two_proportions(t: Trial, o: Outcome) -> list[Finding]:
    """A p-value for two arms' rates, checked against the chi-square test of the counts."""
    if o.kind != "p_only" or o.p is None or o.p.relation != "=" or len(o.arms) != 2:
        return []
    rates = _rates_by_arm(t, o.endpoint, o.subgroup)
    a, b = o.arms
    na, nb = _arm_n(t, a), _arm_n(t, b)
    if not (rates.get(a) and rates.get(b) and na and nb):
        return []
    out = []
    for ra, rb in product(rates[a], rates[b]):
        ka, kb_ = round(ra.value * na / 100), round(rb.value * nb / 100)
        table = [[ka, na - ka], [kb_, nb - kb_]]
        p_chi = float(stats.chi2_contingency(table, correction=False)[1])
        p_yates = float(stats.chi2_contingency(table, correction=True)[1])
        p_fisher = float(stats.fisher_exact(table)[1])
        lo, hi = min(p_chi, p_yates, p_fisher), max(p_chi, p_yates, p_fisher)
        rep = o.p.value
        h = half_unit(rep)
        if rep + h < lo / 1.5 or rep - h > hi * 1.5:
            out.append(
                _finding(
                    "p_vs_counts",
                    "warning",
                    t,
                    o,
                    f"P = {rep:g} is reported for {ka}/{na} vs {kb_}/{nb}, but chi-square and "
                    f"Fisher tests of those counts give P = {lo:.2g}-{hi:.2g}",
                )
            )
    return out


def _check_rate_components(t: Trial) -> list[Finding]:
    out = []
    by_arm: dict[str, dict[str, Outcome]] = defaultdict(dict)
    for o in t.outcomes:
        if o.kind == "rate" and o.arm and o.subgroup is None:
            by_arm[o.arm][o.endpoint.value] = o
    for arm, rates in by_arm.items():
        if "CBR" in rates and "SD" in rates:
            resp = rates.get("ORR") or rates.get("PR")
            if resp is None:
                continue
            total = resp.value + rates["SD"].value
            tol = half_unit(resp.value) + half_unit(rates["SD"].value) + half_unit(
                rates["CBR"].value
            )
            if abs(total - rates["CBR"].value) > tol + 1e-9:
                out.append(
                    _finding(
                        "rate_components",
                        "warning",
                        t,
                        rates["CBR"],
                        f"CBR {rates['CBR'].value:g}% is not response {resp.value:g}% plus "
                        f"stable disease {rates['SD'].value:g}% (= {total:g}%) in arm '{arm}'",
                    )
                )
    return out


def _check_percent_and_units(t: Trial) -> list[Finding]:
    out = []
    for o in t.outcomes:
        if o.unit == "percent":
            for name in ("value", "low", "high"):
                v = getattr(o, name)
                if v is not None and not 0 <= v <= 100:
                    out.append(
                        _finding(
                            "percent_range", "error", t, o, f"{name} {v:g}% lies outside 0-100"
                        )
                    )
    units: dict[tuple, set[str]] = defaultdict(set)
    for o in t.outcomes:
        if o.kind == "median":
            units[(o.endpoint.value, o.subgroup, o.analysis)].add(o.unit)
    for (endpoint, _sub, _an), us in units.items():
        if len(us) > 1:
            out.append(
                _finding(
                    "unit_mismatch",
                    "error",
                    t,
                    None,
                    f"{endpoint} medians of one analysis are given in {sorted(us)} across arms",
                )
            )
    return out


def _check_arms_vs_total(t: Trial) -> list[Finding]:
    out = []
    sizes = [a.n for a in t.arms]
    if t.n is not None and sizes and all(n is not None for n in sizes):
        total = sum(sizes)
        if total != t.n:
            arms = " + ".join(f"{a.id} {a.n}" for a in t.arms)
            out.append(_finding(
                "arms_vs_total", "error" if total > t.n else "warning", t, None,
                f"the arms add up to {total} ({arms}) but the trial's n is {t.n}"))
    by_id = {a.id: a.n for a in t.arms}
    for o in t.outcomes:
        if o.n is None:
            continue
        arms = o.arms or ([o.arm] if o.arm else [])
        if arms and all(by_id.get(a) is not None for a in arms):
            cap = sum(by_id[a] for a in arms)
            if o.n > cap:
                out.append(_finding(
                    "arms_vs_total", "error", t, o,
                    f"n = {o.n} exceeds the {cap} patients of arm(s) {', '.join(arms)}"))
    return out


def _figure_key(o: Outcome) -> tuple:
    return (
        o.endpoint.value,
        o.kind,
        o.arm,
        tuple(o.arms),
        o.measure,
        o.subgroup,
        o.event,
        None if o.timepoint is None else (o.timepoint.value, o.timepoint.unit),
        o.analysis,
    )


def _figure_values(o: Outcome) -> tuple:
    ci = (o.ci.low, o.ci.high, o.ci.level) if o.ci else None
    p = (o.p.value, o.p.relation) if o.p else None
    return (o.value, o.low, o.high, o.unit, ci, p)


def _check_duplicates(kb: KnowledgeBase, t: Trial) -> list[Finding]:
    recorded = set()
    for c in kb.conflicts:
        refs = [v.outcome for v in c.values if v.outcome]
        for x, y in product(refs, refs):
            if x != y:
                recorded.add((x, y))
    groups: dict[tuple, list[Outcome]] = defaultdict(list)
    for o in t.outcomes:
        groups[_figure_key(o)].append(o)
    out = []
    for items in groups.values():
        for i, a in enumerate(items):
            for b in items[i + 1 :]:
                if _figure_values(a) == _figure_values(b):
                    continue
                ka, kb_ = outcome_key(t, a), outcome_key(t, b)
                is_recorded = (ka, kb_) in recorded
                out.append(
                    _finding(
                        "table_vs_text",
                        "info" if is_recorded else "error",
                        t,
                        a,
                        f"'{a.id}' ({a.provenance.locator}) and '{b.id}' "
                        f"({b.provenance.locator}) report the same figure differently: "
                        f"{_describe(a)} vs {_describe(b)}"
                        + ("; recorded as a conflict" if is_recorded else
                           "; record the conflict in conflicts.yaml"),
                    )
                )
    return out


def _describe(o: Outcome) -> str:
    s = f"{o.value:g}" if o.value is not None else "n/a"
    if o.unit == "percent":
        s += "%"
    if o.ci is not None and o.ci.low is not None and o.ci.high is not None:
        s += f" (CI {o.ci.low:g}-{o.ci.high:g})"
    return s


SEVERITY_OF_CONFLICT = {
    "table_vs_text": "warning",
    "arithmetic": "warning",
    "units": "warning",
    "statistics": "warning",
    "citation": "info",
    "name": "info",
}


def _recorded_conflicts(kb: KnowledgeBase) -> list[Finding]:
    out = []
    for c in kb.conflicts:
        vals = "; ".join(f"{v.value} [{v.provenance.locator}]" for v in c.values)
        msg = f"{c.field}: {vals}. {c.note}"
        if c.resolution:
            msg += f" Resolution: {c.resolution}."
        else:
            msg += " Unresolved: both values are kept."
        out.append(
            Finding(
                kind=f"recorded_conflict:{c.kind}",
                severity=SEVERITY_OF_CONFLICT[c.kind],
                subject=c.subject,
                message=msg,
                trial=c.subject.split(":", 1)[1] if c.subject.startswith("trial:") else None,
            )
        )
    return out


def _finding(
    kind: str, severity: str, t: Trial, o: Outcome | None, message: str
) -> Finding:
    subject = f"outcome:{outcome_key(t, o)}" if o is not None else t.uid
    return Finding(
        kind=kind,
        severity=severity,
        subject=subject,
        message=message,
        trial=t.id,
        outcome=None if o is None else o.id,
    )


OUTCOME_CHECKS = (
    _check_ci_centre,
    _check_p_vs_ci,
    _check_arithmetic,
    _check_median_ratio,
    _check_rate_vs_n,
    _check_p_two_proportions,
)


def run_audit(kb: KnowledgeBase) -> list[Finding]:
    """Run every check on every trial and outcome; findings sorted by severity, then subject."""
    findings: list[Finding] = []
    for t in kb.trials:
        for o in t.outcomes:
            for check in OUTCOME_CHECKS:
                findings.extend(check(t, o))
        findings.extend(_check_rate_components(t))
        findings.extend(_check_percent_and_units(t))
        findings.extend(_check_arms_vs_total(t))
        findings.extend(_check_duplicates(kb, t))
    findings.extend(_recorded_conflicts(kb))
    order = {s: i for i, s in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: (order[f.severity], f.subject, f.kind))
    return findings
