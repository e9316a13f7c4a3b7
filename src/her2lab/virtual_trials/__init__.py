"""Virtual clinical trials: simulate trials of virtual patients, analyse them, design new ones.

The statistical core is independent of the pathway model:

- :mod:`~her2lab.virtual_trials.simulate`: Weibull proportional-hazards times with accrual,
  follow-up and dropout; binary responses.
- :mod:`~her2lab.virtual_trials.analyze`: Kaplan–Meier, Cox, log-rank (lifelines, or an exact
  NumPy path for large trials), Wilson CIs, odds ratios, replicate summaries.
- :mod:`~her2lab.virtual_trials.design`: Schoenfeld's events and sample size; power and sample
  size by simulation with any simulator.
- :mod:`~her2lab.virtual_trials.spec`: trial specifications in YAML, validated.
"""

from her2lab.virtual_trials.analyze import (
    BinaryAnalysis,
    Effect,
    KaplanMeierCurve,
    ReplicateSummary,
    SurvivalAnalysis,
    analyze_binary,
    analyze_survival,
    kaplan_meier,
    summarize_replicates,
)
from her2lab.virtual_trials.design import (
    FormulaDesign,
    PowerEstimate,
    SampleSizeEstimate,
    power_by_simulation,
    sample_size_by_simulation,
    schoenfeld_design,
    schoenfeld_events,
    schoenfeld_power,
    schoenfeld_sample_size,
    two_proportion_sample_size,
)
from her2lab.virtual_trials.simulate import (
    event_probability,
    population_median,
    simulate_binary,
    simulate_survival,
    simulate_two_arm_binary,
    simulate_two_arm_survival,
    weibull_median,
    weibull_scale_from_median,
)
from her2lab.virtual_trials.spec import ArmSpec, PopulationSpec, TrialSpec, load_spec, resolve_spec

__all__ = [
    "ArmSpec",
    "BinaryAnalysis",
    "Effect",
    "FormulaDesign",
    "KaplanMeierCurve",
    "PopulationSpec",
    "PowerEstimate",
    "ReplicateSummary",
    "SampleSizeEstimate",
    "SurvivalAnalysis",
    "TrialSpec",
    "analyze_binary",
    "analyze_survival",
    "event_probability",
    "kaplan_meier",
    "load_spec",
    "population_median",
    "power_by_simulation",
    "resolve_spec",
    "sample_size_by_simulation",
    "schoenfeld_design",
    "schoenfeld_events",
    "schoenfeld_power",
    "schoenfeld_sample_size",
    "simulate_binary",
    "simulate_survival",
    "simulate_two_arm_binary",
    "simulate_two_arm_survival",
    "summarize_replicates",
    "two_proportion_sample_size",
    "weibull_median",
    "weibull_scale_from_median",
]
