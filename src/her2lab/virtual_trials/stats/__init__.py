"""The pathway-free statistics core of the virtual trials: nothing here knows of HER2, the
pathway model or the knowledge base.

- :mod:`~her2lab.virtual_trials.stats.simulate`: Weibull proportional-hazards times with
  accrual, follow-up and dropout; binary responses.
- :mod:`~her2lab.virtual_trials.stats.analyze`: Kaplan–Meier, Cox, log-rank (lifelines, or an
  exact NumPy path for large trials), Wilson CIs, odds ratios, replicate summaries.
- :mod:`~her2lab.virtual_trials.stats.design`: Schoenfeld's events, power and sample size;
  power and sample size by simulation with any simulator.

The names are exported from :mod:`her2lab.virtual_trials` (imported there on first use).
"""
