"""The public surface of her2lab.virtual_trials changes only on purpose: these tests pin it."""

from __future__ import annotations

import subprocess
import sys

import her2lab.virtual_trials as vt


def test_the_virtual_trials_exports_are_pinned():
    assert sorted(vt.__all__) == sorted([
        "ArmSpec", "BinaryAnalysis", "Effect", "FormulaDesign", "KaplanMeierCurve",
        "PopulationSpec", "PowerEstimate", "ReplicateSummary", "SampleSizeEstimate",
        "SurvivalAnalysis", "TrialSpec", "analyze_binary", "analyze_survival",
        "event_probability", "kaplan_meier", "load_spec", "population_median",
        "power_by_simulation", "resolve_spec", "sample_size_by_simulation",
        "schoenfeld_design", "schoenfeld_events", "schoenfeld_power",
        "schoenfeld_sample_size", "simulate_binary", "simulate_survival",
        "simulate_two_arm_binary", "simulate_two_arm_survival", "summarize_replicates",
        "two_proportion_sample_size", "weibull_median", "weibull_scale_from_median",
        # the model-driven entry points and their values (imported on first use)
        "ArmResult", "Calibration", "DesignResult", "EffectResult", "TrialResult", "calibrate",
        "design", "predict", "simulate", "validate",
    ])
    for name in vt.__all__:
        assert getattr(vt, name) is not None


def test_importing_virtual_trials_loads_neither_lifelines_statsmodels_nor_the_knowledge_base():
    code = ("import sys, her2lab.virtual_trials; "
            "print(sorted(m for m in ('lifelines', 'statsmodels', 'her2lab.knowledge') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
