"""The strategy report: regimens ranked for a tumor profile and a setting, evidence first.

>>> from her2lab.report import strategy_report
>>> rep = strategy_report("pten_loss,trastuzumab_pretreated",  # doctest: +SKIP
...                       "metastatic_pretreated")
>>> rep.write_pdf("report.pdf")  # doctest: +SKIP

Clinical evidence from the knowledge base is graded on ESCAT (:mod:`.evidence`); the pathway
model's rationale and the virtual trials' predicted effect are shown beside it, labelled in
silico, and never enter a tier or the rank (:data:`RANKING_RULE`). Every output says it is a
research output, not medical advice.
"""

from her2lab.report.evidence import ESCAT_CITATION, ESCAT_ORDER, EvidenceItem, MetaPooled
from her2lab.report.profile import Profile, parse_profile
from her2lab.report.strategy import (
    DISCLAIMER,
    RANKING_RULE,
    Prediction,
    RankedRegimen,
    Rationale,
    StrategyReport,
    strategy_report,
)

__all__ = [
    "DISCLAIMER",
    "ESCAT_CITATION",
    "ESCAT_ORDER",
    "RANKING_RULE",
    "EvidenceItem",
    "MetaPooled",
    "Prediction",
    "Profile",
    "RankedRegimen",
    "Rationale",
    "StrategyReport",
    "parse_profile",
    "strategy_report",
]
