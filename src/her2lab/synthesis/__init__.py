"""Evidence synthesis: pairwise meta-analysis, network meta-analysis, forest plots, and the
pooled analyses of the knowledge base.

>>> from her2lab.synthesis import effect_from_ci, meta_analysis
>>> studies = [effect_from_ci("A", 0.70, 0.55, 0.89, measure="HR"),
...            effect_from_ci("B", 0.80, 0.62, 1.03, measure="HR")]
>>> round(meta_analysis(studies, method="REML").to_dict()["estimate"], 3)
0.746

Checked against published results (tests/synthesis): metafor's dat.bcg (DL, REML, HKSJ),
DerSimonian & Kacker's CLASP example (PM, DL, REML), netmeta's Stowe2010 network (common and
random effects, τ², I², Q decomposition, P-scores, league table). See docs/synthesis.md.
"""

from __future__ import annotations

from typing import Any

from her2lab.synthesis.effects import (
    MEASURES,
    RATIO_MEASURES,
    Effect,
    effect_from_ci,
    effect_from_counts,
    effect_from_means,
    read_effects_csv,
)
from her2lab.synthesis.meta import METHODS, MetaResult, Pooled, meta_analysis
from her2lab.synthesis.nma import (
    Contrast,
    NMAModel,
    NMAResult,
    connected_components,
    network_meta_analysis,
    pairwise_from_arms,
    read_contrasts_csv,
)

__all__ = [
    "MEASURES",
    "METHODS",
    "RATIO_MEASURES",
    "Contrast",
    "Effect",
    "MetaResult",
    "NMAModel",
    "NMAResult",
    "Pooled",
    "PooledAnalysis",
    "connected_components",
    "effect_from_ci",
    "effect_from_counts",
    "effect_from_means",
    "forest_html",
    "forest_png",
    "forest_svg",
    "kb_questions",
    "meta_analysis",
    "network_meta_analysis",
    "pairwise_from_arms",
    "pool_kb",
    "read_contrasts_csv",
    "read_effects_csv",
]

_LAZY = {
    "forest_svg": "her2lab.synthesis.forest",
    "forest_png": "her2lab.synthesis.forest",
    "forest_html": "her2lab.synthesis.forest",
    "kb_questions": "her2lab.synthesis.kb",
    "pool_kb": "her2lab.synthesis.kb",
    "PooledAnalysis": "her2lab.synthesis.kb",
}


def __getattr__(name: str) -> Any:
    """Forest plots (matplotlib, plotly) and the knowledge-base analyses load on first use."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'her2lab.synthesis' has no attribute {name!r}")
