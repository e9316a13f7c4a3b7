"""Baselines by setting: what a control arm of a new trial is expected to show, from the
knowledge base's control arms of the same setting published on or before ``as_of``.

For time to event, every control-arm median (metastatic PFS, TTP, OS) and every control-arm
landmark rate (early-disease DFS/iDFS at a time point) of the setting group; for pCR and ORR
every control-arm rate. The baseline is their mean on the log (medians) or logit (rates) scale,
with the between-trial SD as its uncertainty (at least the mean's sampling SD), so a prediction
interval that draws the baseline carries it. A specification's ``control_median_months``,
``control_rate`` or landmark anchors the baseline instead.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from her2lab.knowledge import ASSUMED_ARM_SIZE, KnowledgeBase, Outcome, Trial, load
from her2lab.virtual_trials.population import group_of_setting

__all__ = ["Baseline", "baseline_for", "months_of", "timepoint_months"]

WEEKS_PER_MONTH = 365.25 / 12 / 7


def months_of(o: Outcome) -> float:
    return float(o.value) / WEEKS_PER_MONTH if o.unit == "weeks" else float(o.value)


def timepoint_months(o: Outcome) -> float:
    tp = o.timepoint
    return float(tp.value) * {"years": 12.0, "months": 1.0, "weeks": 1 / WEEKS_PER_MONTH}[tp.unit]


@dataclass(frozen=True)
class Baseline:
    """A setting's control-arm level: ``kind`` median (months), rate (event-free share at
    ``time`` months) or binary (a response rate), its centre and SD on the transformed scale
    (log for medians, logit for rates) and the control arms it comes from."""

    kind: str
    value: float
    time: float | None
    sd: float
    sources: tuple[str, ...] = field(default_factory=tuple)

    def draw(self, z: float) -> float:
        """The baseline at ``z`` SDs from its centre (for prediction intervals)."""
        if self.kind == "median":
            return self.value * math.exp(z * self.sd)
        lo = math.log(self.value / (1 - self.value)) + z * self.sd
        return 1 / (1 + math.exp(-lo))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "time": self.time, "sd": self.sd,
                "sources": list(self.sources)}


def _controls(t: Trial) -> set[str]:
    return {a.id for a in t.arms if a.role == "control"}


def baseline_for(setting: str, endpoint: str, *, as_of: dt.date | None = None,
                 kb: KnowledgeBase | None = None, prior_trastuzumab: bool | None = None
                 ) -> Baseline:
    """The baseline of ``endpoint`` in the setting group of ``setting`` as of ``as_of``."""
    kb = kb or load()
    group = group_of_setting(setting, prior_trastuzumab)
    medians: list[tuple[float, str]] = []
    landmarks: list[tuple[float, float, str]] = []
    rates: list[tuple[float, int, str]] = []
    for t in kb.trials:
        if group_of_setting(t.setting.value, t.population.prior_trastuzumab) != group:
            continue
        ctrl = _controls(t)
        for r in kb.outcomes(trial=t, kind=("median", "rate"), endpoint=endpoint,
                             subgroup=None, as_of=as_of, superseded=True):
            o = r.outcome
            if o.arm not in ctrl or o.value is None:
                continue
            if o.kind == "median":
                medians.append((months_of(o), r.key))
            elif o.timepoint is not None:
                landmarks.append((o.value / 100.0, timepoint_months(o), r.key))
            else:
                rates.append((o.value / 100.0, t.arm_size(o.arm, ASSUMED_ARM_SIZE), r.key))
    if endpoint in ("pCR", "ORR"):
        if not rates:
            return _fallback(endpoint, group)
        lo = np.array([math.log(p / (1 - p)) for p, _, _ in rates])
        se = np.array([1 / math.sqrt(n * p * (1 - p)) for p, n, _ in rates])
        c = float(lo.mean())
        sd = float(max(lo.std(ddof=1) if lo.size > 1 else 0.0, np.sqrt(np.mean(se**2))))
        return Baseline("binary", 1 / (1 + math.exp(-c)), None, sd,
                        tuple(w for _, _, w in rates))
    if medians:
        lm = np.log([m for m, _ in medians])
        sd = float(lm.std(ddof=1)) if lm.size > 1 else 0.3
        return Baseline("median", float(math.exp(lm.mean())), None, max(sd, 0.1),
                        tuple(w for _, w in medians))
    if landmarks:
        # pooled at the most common time point; others converted under constant hazard
        times = [tm for _, tm, _ in landmarks]
        tref = max(set(times), key=times.count)
        lo = np.array([math.log(s ** (tref / tm) / (1 - s ** (tref / tm)))
                       for s, tm, _ in landmarks])
        sd = float(lo.std(ddof=1)) if lo.size > 1 else 0.3
        c = float(lo.mean())
        return Baseline("rate", 1 / (1 + math.exp(-c)), tref, max(sd, 0.1),
                        tuple(w for _, _, w in landmarks))
    return _fallback(endpoint, group)


# When the knowledge base has no control arm of the setting as of the date: the level of the
# trials' own populations, from Table 1 (CLEOPATRA's and EMILIA's control medians, ALTTO's 4-year
# DFS of 86%, NeoSphere's and NeoALTTO's 29-30% pCR), with a wide SD.
_FALLBACK: dict[tuple[str, str], tuple[str, float, float | None]] = {
    ("metastatic_first_line", "PFS"): ("median", 12.4, None),
    ("metastatic_first_line", "TTP"): ("median", 12.4, None),
    ("metastatic_first_line", "OS"): ("median", 37.6, None),
    ("metastatic_pretreated", "PFS"): ("median", 6.4, None),
    ("metastatic_pretreated", "TTP"): ("median", 6.4, None),
    ("metastatic_pretreated", "OS"): ("median", 25.1, None),
    ("early", "DFS"): ("rate", 0.86, 48.0),
    ("early", "iDFS"): ("rate", 0.86, 48.0),
    ("early", "EFS"): ("rate", 0.86, 48.0),
    ("early", "RFI"): ("rate", 0.88, 48.0),
    ("early", "OS"): ("rate", 0.93, 48.0),
}


def _fallback(endpoint: str, group: str) -> Baseline:
    if endpoint in ("pCR", "ORR"):
        return Baseline("binary", 0.30, None, 0.5, ("fallback: NeoSphere/NeoALTTO control",))
    kind, value, time = _FALLBACK.get((group, endpoint), ("median", 12.0, None))
    return Baseline(kind, value, time, 0.5, (f"fallback for {group} {endpoint}",))
