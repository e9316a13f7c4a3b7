"""Pooling one regimen's comparisons over trials: a random-effects meta-analysis on log HR.

The meta-analysis is :func:`her2lab.synthesis.meta_analysis` (REML), each study's standard
error from the width of its CI on the log scale (:func:`her2lab.synthesis.effect_from_ci`).
The knowledge base's own pooled questions come from :func:`her2lab.synthesis.pool_kb`.
"""

from __future__ import annotations

import math

from her2lab.report.evidence import EvidenceItem, MetaPooled

__all__ = ["kb_analyses", "pool_effects"]


def pool_effects(items: list[EvidenceItem]) -> MetaPooled | None:
    # the standard error of each comes from its CI (effect_from_ci): only results with one
    rows = [e for e in items if e.value and e.ci_low and e.ci_high]
    if len({e.trial for e in rows}) < 2:
        return None
    from her2lab.synthesis import effect_from_ci, meta_analysis

    measure = rows[0].measure or "HR"
    studies = [effect_from_ci(f"{e.trial_name} ({e.outcome})", e.value, e.ci_low, e.ci_high,
                              measure=measure, level=e.ci_level or 0.95, source=e.uid)
               for e in rows]
    d = meta_analysis(studies, method="REML").to_dict()
    est, lo, hi = d["estimate"], d["ci_low"], d["ci_high"]
    # her2lab.synthesis gives I² in per cent, as metafor does
    i2 = None if d.get("i2") is None else d["i2"] / 100.0
    tau2 = d.get("tau2")
    method = "random effects (REML), her2lab.synthesis"
    comparators = tuple(dict.fromkeys(e.comparator or "?" for e in rows))
    note = ("the trials compared the regimen with different controls: the pooled effect is "
            "the regimen against the controls of its time, not against one comparator"
            if len(comparators) > 1 else "")
    return MetaPooled(
        endpoint=rows[0].endpoint, measure=measure, k=len(rows), estimate=float(est),
        ci_low=float(lo), ci_high=float(hi), i2=None if i2 is None else float(i2),
        tau2=None if tau2 is None else float(tau2), method=method,
        studies=tuple(e.trial_name for e in rows), comparators=comparators, note=note,
    )


def kb_analyses(trials: set[str], as_of) -> list[dict]:
    """The knowledge base's pooled questions (:func:`her2lab.synthesis.pool_kb`) that use one
    of ``trials``: one plain summary per question."""
    from her2lab.synthesis import kb_questions, pool_kb

    out = []
    for q in kb_questions(as_of):
        if not {c.trial for c in q.comparisons} & trials:
            continue
        pa = pool_kb(q.id, as_of)
        lines: list[str] = []
        ratio = q.measure in ("HR", "OR", "RR")
        tx = math.exp if ratio else (lambda x: x)
        if pa.result is not None:
            d = pa.result.to_dict()
            i2 = d.get("i2")
            lines.append(
                f"pooled {q.measure} {d['estimate']:.2f} (95% CI {d['ci_low']:.2f}-"
                f"{d['ci_high']:.2f}), {d['k']} trials, {d['method']} random effects"
                + ("" if i2 is None else f", I² {i2:.0f}%")
                + ("" if d.get("prediction_low") is None else
                   f", prediction interval {d['prediction_low']:.2f}-{d['prediction_high']:.2f}"))
        for n in pa.networks:
            d = n.to_dict()
            ps = d["pscores"]
            best = sorted(ps.items(), key=lambda kv: -kv[1])
            lines.append(f"network of {len(d['treatments'])} treatments, {d['k']} trials, "
                         f"reference {d['reference']}; P-scores (random effects): "
                         + "; ".join(f"{t} {p:.2f}" for t, p in best))
            for row in d["random"]:
                lines.append(f"{row['treatment']} vs {d['reference']}: {q.measure} "
                             f"{tx(row['estimate']):.2f} ({tx(row['ci_low']):.2f}-"
                             f"{tx(row['ci_high']):.2f})")
        out.append({
            "id": q.id, "title": q.title, "kind": q.kind, "measure": q.measure,
            "studies": [s.trial_name for s in pa.studies],
            "derivations": [f"{s.trial_name}: {s.derivation}" for s in pa.studies
                            if s.derivation and not s.derivation.startswith("reported")],
            "lines": lines, "excluded": list(pa.excluded),
            "conflicts": [f"{c.conflict}: {c.used} ({c.how})" for c in pa.conflicts],
            "notes": list(pa.notes),
        })
    return out
