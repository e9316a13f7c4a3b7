"""Virtual clinical trials: simulate trials of virtual patients, analyze them, design new ones.

The statistical core, :mod:`~her2lab.virtual_trials.stats`, is independent of the pathway model:

- :mod:`~her2lab.virtual_trials.stats.simulate`: Weibull proportional-hazards times with
  accrual, follow-up and dropout; binary responses.
- :mod:`~her2lab.virtual_trials.stats.analyze`: Kaplan–Meier, Cox, log-rank (lifelines, or an
  exact NumPy path for large trials), Wilson CIs, odds ratios, replicate summaries.
- :mod:`~her2lab.virtual_trials.stats.design`: Schoenfeld's events and sample size; power and
  sample size by simulation with any simulator.
- :mod:`~her2lab.virtual_trials.spec`: trial specifications in YAML, validated.

The model-driven layer:

- :mod:`~her2lab.virtual_trials.defaults`: one table of defaults by setting;
- :mod:`~her2lab.virtual_trials.schedule`: regimens as schedules (phases of drugs and cycles);
- :mod:`~her2lab.virtual_trials.rates`: the one adapter to the pathway model's rates;
- :mod:`~her2lab.virtual_trials.link`: the tumor-burden link (pCR, progression, cure, OS);
- :mod:`~her2lab.virtual_trials.model` and :mod:`~her2lab.virtual_trials.plan`: patient types
  of a trial, arms, anchors; :mod:`~her2lab.virtual_trials.baselines`: baselines by setting;
- :mod:`~her2lab.virtual_trials.targets`, :mod:`~her2lab.virtual_trials.fit`,
  :mod:`~her2lab.virtual_trials.rows` (reported against expected),
  :mod:`~her2lab.virtual_trials.calibration` (the :class:`Calibration` value, its file and
  :func:`calibrate`), :mod:`~her2lab.virtual_trials.validation`;
- :mod:`~her2lab.virtual_trials.trial`: :func:`simulate`, :func:`predict` and :func:`design`,
  with typed results (:class:`TrialResult`, :class:`DesignResult`).

The entry points the command line, the REST API, the report and the main job call:
:func:`calibrate`, :func:`validate`, :func:`simulate`, :func:`predict`, :func:`design`.
"""

import importlib

_SOURCES = {
    "stats.analyze": ("BinaryAnalysis", "Effect", "KaplanMeierCurve", "ReplicateSummary",
                "SurvivalAnalysis", "analyze_binary", "analyze_survival", "kaplan_meier",
                "summarize_replicates"),
    "stats.design": ("FormulaDesign", "PowerEstimate", "SampleSizeEstimate", "power_by_simulation",
               "sample_size_by_simulation", "schoenfeld_design", "schoenfeld_events",
               "schoenfeld_power", "schoenfeld_sample_size", "two_proportion_sample_size"),
    "stats.simulate": ("event_probability", "population_median", "simulate_binary",
                 "simulate_survival", "simulate_two_arm_binary", "simulate_two_arm_survival",
                 "weibull_median", "weibull_scale_from_median"),
    "spec": ("ArmSpec", "PopulationSpec", "TrialSpec", "load_spec", "resolve_spec"),
    "trial": ("ArmResult", "DesignResult", "EffectResult", "TrialResult", "design", "predict",
              "simulate"),
    "calibration": ("Calibration", "calibrate"),
    "validation": ("validate",),
}
_MODULE_OF = {name: mod for mod, names in _SOURCES.items() for name in names}


def __getattr__(name: str):
    """Every export imported on first use: importing a submodule (``.defaults`` from the CLI)
    costs nothing else, and the model-driven entry points load the knowledge base only when
    called."""
    mod = _MODULE_OF.get(name)
    if mod is None:
        raise AttributeError(f"module 'her2lab.virtual_trials' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{mod}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MODULE_OF))


__all__ = [
    "ArmResult",
    "ArmSpec",
    "BinaryAnalysis",
    "Calibration",
    "DesignResult",
    "Effect",
    "EffectResult",
    "FormulaDesign",
    "KaplanMeierCurve",
    "PopulationSpec",
    "PowerEstimate",
    "ReplicateSummary",
    "SampleSizeEstimate",
    "SurvivalAnalysis",
    "TrialResult",
    "TrialSpec",
    "analyze_binary",
    "analyze_survival",
    "calibrate",
    "design",
    "event_probability",
    "kaplan_meier",
    "load_spec",
    "population_median",
    "power_by_simulation",
    "predict",
    "resolve_spec",
    "sample_size_by_simulation",
    "schoenfeld_design",
    "schoenfeld_events",
    "schoenfeld_power",
    "schoenfeld_sample_size",
    "simulate",
    "simulate_binary",
    "simulate_survival",
    "simulate_two_arm_binary",
    "simulate_two_arm_survival",
    "summarize_replicates",
    "two_proportion_sample_size",
    "validate",
    "weibull_median",
    "weibull_scale_from_median",
]
