"""Reports built once per session at small sample counts (the tests check structure and the
curated numbers; in-silico numbers only for their presence and their intervals' order)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from her2lab.virtual_trials.calibration import Calibration
from her2lab.virtual_trials.defaults import RunSettings

SMALL = {"settings": RunSettings(samples=200, replicates=8, panel_size=8), "n_per_arm": 150}

CALIBRATION_DATE = dt.date(2013, 1, 1)
"""A calibration date before BOLERO-3 and TH3RESA, so the report has results newer than it."""


def dated_priors() -> Calibration:
    """The link's priors, dated: a calibration whose date the report must carry."""
    return dataclasses.replace(Calibration.priors(), as_of=CALIBRATION_DATE,
                               source=f"the link's priors, dated {CALIBRATION_DATE}")


@pytest.fixture(scope="session")
def pten_report():
    from her2lab.report import strategy_report

    return strategy_report("pten_loss,trastuzumab_pretreated", "metastatic_pretreated",
                           calibration=dated_priors(), **SMALL)


@pytest.fixture(scope="session")
def pten_pdf(pten_report, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "pten.pdf"
    pten_report.write_pdf(path)
    return path
