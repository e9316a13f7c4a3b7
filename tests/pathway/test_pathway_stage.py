"""The pathway stage of ``her2lab reproduce``."""

from __future__ import annotations

import csv

import pytest

from her2lab.reproduce import Context, load_stages


def test_the_pathway_stage_is_registered_after_the_knowledge_stage():
    names = [s.name for s in load_stages()]
    assert "pathway" in names
    assert names.index("knowledge") < names.index("pathway")


@pytest.mark.slow
def test_the_stage_writes_the_response_matrix_of_mechanisms_by_drugs_and_table1(tmp_path):
    stage = next(s for s in load_stages() if s.name == "pathway")
    res = stage.run(Context(out_dir=tmp_path, seed=3, quick=True))
    out = tmp_path / "pathway"
    with (out / "response_matrix.csv").open() as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    assert "trastuzumab" in header and "docetaxel+pertuzumab+trastuzumab" in header
    assert "everolimus+trastuzumab+vinorelbine" in header
    assert len(rows) == 1 + 2 * 13, "none and each mechanism, HR-negative and HR-positive"
    assert rows[1][0] == "none" and rows[14][0] == "hr_positive"
    for name in ("her2.bnd", "her2.cfg", "annotations.yaml", "perturbations.yaml", "claims.csv",
                 "response_heatmap.png", "response_heatmap.html", "best_regimens.csv"):
        assert (out / name).is_file(), name
    assert all(p.exists() for p in res.files)
    assert dict(res.summary)["claims: pass / known miss / unexpected"] == "skipped (--quick)"
