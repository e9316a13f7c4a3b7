"""The public surface of her2lab.synthesis changes only on purpose."""

from __future__ import annotations

import her2lab.synthesis as synthesis


def test_the_synthesis_exports_are_pinned():
    assert sorted(synthesis.__all__) == sorted([
        "MEASURES", "METHODS", "RATIO_MEASURES", "Contrast", "Effect", "MetaResult", "NMAModel",
        "NMAResult", "Pooled", "PooledAnalysis", "connected_components", "effect_from_ci",
        "effect_from_counts", "effect_from_means", "forest_html", "forest_png", "forest_svg",
        "kb_questions", "meta_analysis", "network_meta_analysis", "pairwise_from_arms",
        "pool_kb", "read_contrasts_csv", "read_effects_csv"])


def test_every_exported_name_exists():
    for name in synthesis.__all__:
        assert getattr(synthesis, name) is not None
