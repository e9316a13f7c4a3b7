"""Calibration of the link to the knowledge base's trials as of a date.

:func:`calibrate` collects the targets published on or before ``as_of`` (:mod:`.targets`),
checks that nothing it uses is dated later (targets, prevalence priors: a prior published after
``as_of`` is replaced by the uninformative one, :mod:`.population`), fits the parameters
jointly (:mod:`.fit`) and tabulates every target, reported against expected with its prediction
interval (:mod:`.validation`). The result is a :class:`Calibration`, written to and read from
JSON.

The calibration is deterministic: the patient mixture is a quadrature and the optimiser has no
random start; the seed enters only the pathway model's Monte Carlo trajectories (``samples``)
and the fixed draws of the prediction intervals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from her2lab.errors import DataError
from her2lab.executor import executor
from her2lab.knowledge import KnowledgeBase, load
from her2lab.virtual_trials.defaults import PANEL_SIZE, PATHWAY_SAMPLES
from her2lab.virtual_trials.fit import Fit, fit
from her2lab.virtual_trials.link import KINETICS, PRIORS, SETTING_SD, LinkParams
from her2lab.virtual_trials.model import TrialModel
from her2lab.virtual_trials.population import load_prevalence
from her2lab.virtual_trials.rates import RatesModel
from her2lab.virtual_trials.targets import Target, targets_from_kb
from her2lab.virtual_trials.validation import TargetRow, rows_for

__all__ = ["Calibration", "calibrate", "date_check"]


def date_check(as_of: dt.date, targets: list[Target]) -> dict[str, Any]:
    """What a calibration as of ``as_of`` uses, with dates: every target on or before it, and
    the prevalence priors published later (replaced by the uninformative one)."""
    late = [f"{t.trial}/{t.outcome}" for t in targets if t.published > as_of]
    if late:
        raise DataError(f"targets published after {as_of}: {late}")
    priors_late = load_prevalence().dated_after(as_of)
    return {"as_of": as_of.isoformat(), "targets_latest": max(
        (t.published for t in targets), default=as_of).isoformat(),
        "prevalence_priors_after_as_of_replaced": priors_late}


@dataclass
class Calibration:
    """A fitted link: parameters with their uncertainty (:class:`.fit.Fit`), the targets and
    their table (:class:`.validation.TargetRow`), the settings and the date check."""

    as_of: dt.date
    seed: int
    fit: Fit
    targets: list[Target]
    table: list[TargetRow]
    settings: dict[str, Any]
    dates: dict[str, Any] = field(default_factory=dict)

    @property
    def params(self) -> LinkParams:
        return self.fit.params

    @property
    def objective(self) -> float:
        return self.fit.objective

    @property
    def intervals(self) -> dict[str, tuple[float, float]]:
        return self.fit.intervals()

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(), "seed": self.seed,
            "params": self.params.to_dict(), "fit": self.fit.to_dict(),
            "priors": {k: {"mean": p.mean, "sd": p.sd, "source": p.source}
                       for k, p in PRIORS.items()}
            | {"setting": {"mean": 0.0, "sd": SETTING_SD.value, "source": SETTING_SD.source}},
            "constants": {k: {"value": c.value, "source": c.source} for k, c in KINETICS.items()},
            "settings": self.settings, "dates": self.dates,
            "table": [r.to_dict() for r in self.table],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], kb: KnowledgeBase | None = None) -> Calibration:
        """A calibration read back from :meth:`to_dict` (targets rebuilt from the knowledge
        base as of its date)."""
        as_of = dt.date.fromisoformat(d["as_of"])
        f = d["fit"]
        fitted = Fit(LinkParams.from_dict(d["params"]), float(f["objective"]),
                     np.array(f["cov"], dtype=float), int(f.get("evaluations", 0)),
                     bool(f.get("converged", True)), str(f.get("message", "")),
                     dict(f.get("chi2_by_trial", {})))
        return cls(as_of=as_of, seed=int(d["seed"]), fit=fitted,
                   targets=targets_from_kb(kb or load(), as_of),
                   table=[TargetRow(**r) for r in d.get("table", [])],
                   settings=dict(d.get("settings", {})), dates=dict(d.get("dates", {})))


def calibrate(
    as_of: dt.date,
    *,
    seed: int = 20140812,
    kb: KnowledgeBase | None = None,
    panel_size: int = PANEL_SIZE,
    samples: int = PATHWAY_SAMPLES,
    model: TrialModel | None = None,
    progress: Callable[[str, int, int], Any] | None = None,
    workers: int | None = None,
    **_ignored: Any,
) -> Calibration:
    """Fit the link to every target published on or before ``as_of``.

    ``progress(stage, done, total)`` is called as work advances (for a progress bar). Extra
    keyword arguments of earlier versions (``bootstrap_reps``) are accepted and ignored: the
    uncertainty is now the Laplace approximation. ``workers`` > 1 runs the finite differences
    and the prediction intervals' draws on that many local processes (the same result).
    """
    kb = kb or load()
    targets = targets_from_kb(kb, as_of)
    if not targets:
        raise DataError(f"no trial result in the knowledge base is dated on or before {as_of}")
    dates = date_check(as_of, targets)
    model = model or TrialModel(RatesModel(samples=samples, seed=seed), panel_size=panel_size)
    with executor("processes" if workers and workers > 1 else "serial",
                  workers=workers if workers and workers > 1 else None) as ex:
        fitted = fit(targets, model, progress=progress, executor=ex)
        table = rows_for(targets, fitted.params, fitted.cov, model, seed=seed, executor=ex)
    return Calibration(
        as_of=as_of, seed=seed, fit=fitted, targets=targets, table=table,
        settings={"panel_size": model.panel_size, "samples": model.rates.samples,
                  "chemo_points": model.chemo_points, "targets": len(targets),
                  "trials": len({t.trial for t in targets})},
        dates=dates,
    )
