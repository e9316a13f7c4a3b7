"""The report package's public surface changes only on purpose."""

from __future__ import annotations

import her2lab.report


def test_the_report_exports_are_pinned():
    assert sorted(her2lab.report.__all__) == sorted([
        "DISCLAIMER", "ESCAT_CITATION", "ESCAT_ORDER", "RANKING_RULE", "EvidenceItem",
        "MetaPooled", "Prediction", "Profile", "RankedRegimen", "Rationale", "StrategyReport",
        "parse_profile", "strategy_report",
    ])
    for name in her2lab.report.__all__:
        assert getattr(her2lab.report, name) is not None
