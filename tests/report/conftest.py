"""Reports built once per session at small sample counts (the tests check structure and the
curated numbers; in-silico numbers only for their presence and their intervals' order)."""

from __future__ import annotations

import pytest

from her2lab.virtual_trials.defaults import RunSettings

SMALL = {"settings": RunSettings(samples=200, replicates=8, panel_size=8), "n_per_arm": 150}


@pytest.fixture(scope="session")
def pten_report():
    from her2lab.report import strategy_report

    return strategy_report("pten_loss,trastuzumab_pretreated", "metastatic_pretreated", **SMALL)


@pytest.fixture(scope="session")
def pten_pdf(pten_report, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "pten.pdf"
    pten_report.write_pdf(path)
    return path
