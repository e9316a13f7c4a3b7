"""One table of defaults by setting, read by every path (specifications, knowledge-base trials,
calibration targets, baselines).

A value given explicitly (a specification's ``accrual_months: 0``, ``dropout_per_year: 0``) is
always kept; these apply only where nothing was given.

The figures are round numbers of the order of the HER2-positive trials in the knowledge base,
not measurements of any one trial; each changes event counts and CI widths, hardly the expected
hazard ratio (:func:`her2lab.virtual_trials.link.limiting_cox_log_hr` depends on censoring only
through the mix of patients still observed).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

# the one default seed of every random path (her2lab.seeds, below the layers so that pathway,
# the API and the command line use it too); RunSettings.seed and ``--seed`` default to it
from her2lab.seeds import DEFAULT_SEED

__all__ = [
    "DEFAULT_SEED",
    "FIT_WORKERS",
    "PANEL_SIZE",
    "PATHWAY_SAMPLES",
    "REPLICATES",
    "SETTING_DEFAULTS",
    "RunSettings",
    "SettingDefaults",
    "defaults_for",
]

PATHWAY_SAMPLES = 2500
"""Pathway-model trajectories per (profile, HR status, regimen) of every virtual-trial path
(calibration, validation, simulate, predict, design). Sized by the Monte Carlo error it leaves
in the calibration: the fitted parameters must agree across seeds within a fifth of their SE.
With a stream per tumor profile (:func:`her2lab.pathway.simulate.stream_seed`) and the
read-outs integrated rather than sampled (:func:`her2lab.pathway.simulate.simulator`), the
largest range over three cold calibrations (the default seed, 1, 2) is 0.17 SE at 2,500 (log kill;
every other parameter within 0.07) and 0.26 at 2,000; with sampled read-outs it was 0.22 at
5,000."""

FIT_WORKERS = min(2, os.cpu_count() or 1)
"""Local processes for a calibration's finite differences and prediction intervals at the
command line and in the main job (the result does not depend on them): two where there are
two cores. Measured on the idle 2-core machine, a calibration as of 2014-08-12 whose pathway
runs are all cached: 91 s serial, 65 s on two processes (the pathway runs themselves use every
core either way)."""

PANEL_SIZE = 32
"""Tumor profiles per trial population (a quasi-random panel; :mod:`.population`)."""


REPLICATES = 20
"""Simulated copies of a trial beside its expected effect (``simulate``, ``predict``)."""


@dataclass(frozen=True)
class RunSettings:
    """The Monte Carlo settings of every virtual-trial path.

    Parameters
    ----------
    samples : int
        Pathway-model trajectories per (profile, HR status, regimen).
    panel_size : int
        Tumour profiles per trial population (a quasi-random panel).
    replicates : int
        Simulated copies of a trial beside its expected effect.
    seed : int
        The one seed: pathway trajectories, parameter draws and replicates derive from it.

    A calibration stores the settings it was fitted with; every entry point predicts with them
    unless told otherwise, so the pathway runs it reuses are those already cached.
    """

    samples: int = PATHWAY_SAMPLES
    panel_size: int = PANEL_SIZE
    replicates: int = REPLICATES
    seed: int = DEFAULT_SEED

    def __post_init__(self) -> None:
        for name in ("samples", "panel_size", "replicates"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"RunSettings.{name} must be a positive integer; got {v!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not (
                0 <= self.seed < 2**32):
            raise ValueError(f"RunSettings.seed must be an integer in [0, 2**32); "
                             f"got {self.seed!r}")

    def with_(self, **changes: Any) -> RunSettings:
        """A copy with the given fields changed (``None`` values leave a field as it is)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict[str, int]:
        return {"samples": self.samples, "panel_size": self.panel_size,
                "replicates": self.replicates, "seed": self.seed}



@dataclass(frozen=True)
class SettingDefaults:
    """Defaults of one setting.

    ``accrual_months``: uniform accrual period; ``follow_up_months``: minimum follow-up after
    the last patient; ``dropout_per_year``: probability of leaving the trial within a year;
    ``cycles`` x ``cycle_days``: the treatment given by a flat ``regimen: [a, b]`` (``cycles``
    ``None``: treatment continues until progression, as in metastatic disease).
    """

    accrual_months: float
    follow_up_months: float
    dropout_per_year: float
    cycles: int | None
    cycle_days: float
    why: str


SETTING_DEFAULTS: dict[str, SettingDefaults] = {
    "neoadjuvant": SettingDefaults(
        24.0, 36.0, 0.02, 6, 21.0,
        "neoadjuvant trials accrue a few hundred patients in about two years; six three-weekly "
        "cycles (18 weeks) is the span of NeoSphere (12 weeks), NeoALTTO (18) and GeparQuinto "
        "(24); dropout before surgery is rare"),
    "adjuvant": SettingDefaults(
        42.0, 48.0, 0.02, 17, 21.0,
        "adjuvant trials of thousands accrue over three to four years and report after about "
        "four years of follow-up (ALTTO, BETH); one year (17 three-weekly cycles) of HER2-"
        "directed therapy is the standard the trials compare against"),
    "post_neoadjuvant": SettingDefaults(
        42.0, 48.0, 0.02, 14, 21.0,
        "as adjuvant; the remaining 14 cycles of a year of therapy after surgery"),
    "extended_adjuvant": SettingDefaults(
        42.0, 48.0, 0.02, 17, 21.0, "as adjuvant: one further year"),
    "metastatic_first_line": SettingDefaults(
        30.0, 12.0, 0.05, None, 21.0,
        "first-line trials (CLEOPATRA: 808 patients) accrue over two to three years; "
        "treatment until progression"),
    "metastatic_pretreated": SettingDefaults(
        24.0, 6.0, 0.05, None, 21.0,
        "later-line trials accrue over about two years with short follow-up (EMILIA, "
        "EGF104900); treatment until progression"),
    "metastatic_any_line": SettingDefaults(
        24.0, 6.0, 0.05, None, 21.0, "as metastatic_pretreated"),
    "advanced_solid_tumors": SettingDefaults(
        24.0, 6.0, 0.05, None, 21.0, "as metastatic_pretreated"),
}
"""Defaults by setting (the knowledge base's and the specifications' setting names)."""


def defaults_for(setting: str) -> SettingDefaults:
    """The defaults of ``setting``; an unknown setting gets the metastatic-pretreated ones."""
    return SETTING_DEFAULTS.get(str(getattr(setting, "value", setting)),
                                SETTING_DEFAULTS["metastatic_pretreated"])
