"""Calibration of the link to the knowledge base's trials as of a date.

:func:`calibrate` collects the targets published on or before ``as_of`` (:mod:`.targets`),
checks that nothing it uses is dated later (targets, prevalence priors: a prior published after
``as_of`` is replaced by the uninformative one, :mod:`.population`), fits the parameters
jointly (:mod:`.fit`) and tabulates every target, reported against expected with its prediction
interval (:mod:`.validation`). The result is a :class:`Calibration`, written to and read from
JSON by
:meth:`.calibration.Calibration.write`.

The calibration is deterministic: the patient mixture is a quadrature and the optimiser has no
random start; the seed enters only the pathway model's Monte Carlo trajectories (``samples``)
and the fixed draws of the prediction intervals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from her2lab.errors import DataError
from her2lab.executor import executor
from her2lab.knowledge import KnowledgeBase, load, outcome_key
from her2lab.virtual_trials.calibration import Calibration
from her2lab.virtual_trials.defaults import RunSettings
from her2lab.virtual_trials.fit import COARSE_TOL, fit
from her2lab.virtual_trials.model import TrialModel
from her2lab.virtual_trials.population import load_prevalence
from her2lab.virtual_trials.targets import Target, targets_from_kb
from her2lab.virtual_trials.validation import rows_for

__all__ = ["PILOT_DIVISOR", "Calibration", "calibrate", "date_check"]

PILOT_DIVISOR = 16
"""The pilot fit's pathway runs have ``samples / PILOT_DIVISOR`` trajectories (4 times the
Monte Carlo SD): enough to find the optimum within a fraction of an SE, for a sixteenth of the
trajectories of a run at full size."""


def date_check(as_of: dt.date, targets: list[Target]) -> dict[str, Any]:
    """What a calibration as of ``as_of`` uses, with dates: every target on or before it, and
    the prevalence priors published later (replaced by the uninformative one)."""
    late = [outcome_key(t.trial, t.outcome) for t in targets if t.published > as_of]
    if late:
        raise DataError(f"targets published after {as_of}: {late}")
    priors_late = load_prevalence().dated_after(as_of)
    return {"as_of": as_of.isoformat(), "targets_latest": max(
        (t.published for t in targets), default=as_of).isoformat(),
        "prevalence_priors_after_as_of_replaced": priors_late}


def calibrate(
    as_of: dt.date,
    *,
    settings: RunSettings | None = None,
    kb: KnowledgeBase | None = None,
    model: TrialModel | None = None,
    progress: Callable[[str, int, int], Any] | None = None,
    workers: int | None = None,
) -> Calibration:
    """Fit the link to every target published on or before ``as_of``.

    Parameters
    ----------
    as_of : datetime.date
        The date of the evidence: only results published on or before it are used.
    settings : RunSettings, optional
        Monte Carlo settings (trajectories, panel, seed); stored in the result, so every
        prediction made with the calibration uses them by default.
    kb : KnowledgeBase, optional
        The knowledge base (default: the shipped one).
    model : TrialModel, optional
        A ready trial model (tests pass fakes); by default one built for ``settings``.
    progress : callable, optional
        ``progress(stage, done, total)`` as work advances (for a progress bar).
    workers : int, optional
        More than 1: the finite differences and the prediction intervals' draws on that many
        local processes (the same result).

    Returns
    -------
    Calibration
        Parameters, covariance, ``as_of``, the settings, the fit and the target table.
    """
    settings = settings or RunSettings()
    kb = kb or load()
    targets = targets_from_kb(kb, as_of)
    if not targets:
        raise DataError(f"no trial result in the knowledge base is dated on or before {as_of}")
    dates = date_check(as_of, targets)
    model = model or TrialModel.for_settings(settings)
    with executor("processes" if workers and workers > 1 else "serial",
                  workers=workers if workers and workers > 1 else None) as ex:
        # coarse to fine: a pilot fit on rates of PILOT_DIVISOR times fewer trajectories finds
        # where the optimum lies; the fit proper starts there, so its TKI offsets stay near it
        # and only the pathway runs around it are made at full size (model.prefetch)
        pilot = fit(targets, model.coarse(PILOT_DIVISOR), uncertainty=False, tol=COARSE_TOL,
                    executor=ex)
        fitted = fit(targets, model, start=pilot.params, progress=progress, executor=ex)
        table = rows_for(targets, fitted.params, fitted.cov, model, seed=settings.seed,
                         executor=ex)
    return Calibration(
        params=fitted.params, cov=fitted.cov, as_of=as_of,
        settings=settings.with_(samples=model.rates.samples, panel_size=model.panel_size),
        source=f"calibration as of {as_of}", fit=fitted, table=tuple(table), dates=dates,
        counts={"chemo_points": model.chemo_points, "targets": len(targets),
                "trials": len({t.trial for t in targets})},
    )
