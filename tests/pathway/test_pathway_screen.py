"""Profile and regimen sets of the screen, and the response matrix it returns."""

from __future__ import annotations

from her2lab.pathway import DRUGS, MECHANISMS, normalize_profile
from her2lab.pathway.screen import resolve_profiles, resolve_regimens, screen, table1_regimens


def test_named_sets_have_the_documented_sizes():
    m, d = len(MECHANISMS), len(DRUGS)
    assert len(resolve_profiles("all-single")) == 1 + m
    assert len(resolve_profiles("all")) == 1 + m + m * (m - 1) // 2
    assert len(resolve_profiles("all-single+hr")) == 2 * (1 + m)
    assert len(resolve_regimens("all-single")) == 1 + d
    assert len(resolve_regimens("all-pairs")) == 1 + d + d * (d - 1) // 2


def test_table1_regimens_come_from_the_knowledge_base():
    regs = table1_regimens()
    assert ("docetaxel", "pertuzumab", "trastuzumab") in regs  # CLEOPATRA
    assert ("trastuzumab_emtansine",) in regs  # EMILIA, TH3RESA
    assert ("everolimus", "trastuzumab", "vinorelbine") in regs  # BOLERO-3
    assert len(regs) == len(set(regs))


def test_screen_fills_every_cell_and_reports_progress(cache):
    seen = []
    res = screen(["none", "muc4_masking"], ["none", "trastuzumab", "lapatinib"], samples=1000,
                 seed=4, cache=cache, progress=lambda done, total: seen.append((done, total)))
    assert len(res.results) == 6 and seen[-1] == (6, 6)
    rows = res.rows()
    assert {r["profile"] for r in rows} == {"none", "muc4_masking"}
    # MUC4 masks the trastuzumab epitope but not lapatinib's kinase target
    muc4 = normalize_profile("muc4_masking")
    assert res.response(muc4, ("trastuzumab",)) < res.response(muc4, ("lapatinib",))
    assert {"growth", "kill_targeted", "kill_cytotoxic", "kill_payload", "kill_immune"} <= set(
        rows[0])
