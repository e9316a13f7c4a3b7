"""Queries: trials by drug, setting and mechanism; read-only SQL; exports."""

from __future__ import annotations

from pathlib import Path

import pytest

from her2lab.errors import Her2labError, UnknownIdError
from her2lab.knowledge import KnowledgeBase, query

MINIMAL = Path(__file__).parent.parent / "data" / "kb_minimal"


def ids(**filters) -> list[str]:
    return [t.id for t in query.trials(data_dir=MINIMAL, **filters)]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["bolero3", "cleopatra", "neosphere"]),
        ({"drug": "trastuzumab"}, ["bolero3", "cleopatra", "neosphere"]),
        ({"drug": "Perjeta"}, ["cleopatra", "neosphere"]),
        ({"drug": "drug:everolimus"}, ["bolero3"]),
        ({"drug": "RAD-001"}, ["bolero3"]),
        ({"setting": "neoadjuvant"}, ["neosphere"]),
        ({"setting": "metastatic"}, ["bolero3", "cleopatra"]),
        ({"setting": "Metastatic first line"}, ["cleopatra"]),
        ({"mechanism": "pten_loss"}, ["bolero3"]),
        ({"mechanism": "PTEN loss", "setting": "neoadjuvant"}, []),
        ({"drug": "pertuzumab", "setting": "metastatic"}, ["cleopatra"]),
    ],
)
def test_trials_are_filtered_by_drug_setting_and_mechanism(filters, expected):
    assert ids(**filters) == expected


def test_a_drug_matches_in_any_arm_not_only_the_first():
    # docetaxel is in both CLEOPATRA arms; vinorelbine only in BOLERO-3's
    assert ids(drug="vinorelbine") == ["bolero3"]
    assert ids(drug="Taxotere") == ["cleopatra", "neosphere"]


def test_a_mechanism_matches_through_a_biomarker_subgroup(minimal_copy: Path):
    # drop the counteracting drug: BOLERO-3 still matches through its PTEN-low subgroup
    path = minimal_copy / "mechanisms.yaml"
    text = path.read_text().replace("counteracted_by: [everolimus]", "counteracted_by: []")
    path.write_text(text)
    assert [t.id for t in query.trials(mechanism="pten_loss", data_dir=minimal_copy)] == [
        "bolero3"]


def test_a_mechanism_matches_through_the_population(minimal_copy: Path):
    path = minimal_copy / "trials" / "neosphere.yaml"
    path.write_text(path.read_text().replace(
        "  description: operable", "  require: [pten_low]\n  description: operable"))
    found = [t.id for t in query.trials(mechanism="pten_loss", data_dir=minimal_copy)]
    assert found == ["bolero3", "neosphere"]


@pytest.mark.parametrize(
    ("filters", "kind"),
    [({"drug": "aspirin"}, "drug"), ({"setting": "palliative"}, "setting"),
     ({"mechanism": "p95"}, "mechanism")],
)
def test_unknown_filter_values_list_the_valid_ones(filters, kind):
    with pytest.raises(UnknownIdError) as info:
        query.trials(data_dir=MINIMAL, **filters)
    assert info.value.kind == kind and info.value.valid


def test_sql_returns_columns_and_rows():
    res = query.sql("SELECT id, drug_class FROM drugs WHERE id = ?", ("trastuzumab",),
                    data_dir=MINIMAL)
    assert res.columns == ["id", "drug_class"]
    assert res.rows == [("trastuzumab", "monoclonal_antibody")]
    assert res.records() == [{"id": "trastuzumab", "drug_class": "monoclonal_antibody"}]


def test_sql_accepts_with_and_leading_comments():
    q = "-- arms per trial\nWITH a AS (SELECT trial_id FROM arms) SELECT count(*) FROM a"
    assert query.sql(q, data_dir=MINIMAL).rows == [(6,)]


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM drugs",
        "drop table drugs",
        "INSERT INTO drugs (id) VALUES ('x')",
        "PRAGMA writable_schema = ON",
        "ATTACH DATABASE ':memory:' AS other",
        "WITH x AS (SELECT 1) DELETE FROM drugs",
        "WITH x AS (SELECT 1) UPDATE drugs SET name = 'x'",
        "SELECT 1; DELETE FROM drugs",
        "",
    ],
)
def test_sql_rejects_anything_but_reading(statement: str):
    with pytest.raises(query.QueryError, match=r"read-only|one statement"):
        query.sql(statement, data_dir=MINIMAL)
    assert query.sql("SELECT count(*) FROM drugs", data_dir=MINIMAL).rows == [(5,)]


def test_sql_errors_are_her2lab_errors():
    with pytest.raises(Her2labError, match="no such table"):
        query.sql("SELECT * FROM nothing_here", data_dir=MINIMAL)


def test_the_json_export_reads_back_into_the_same_knowledge_base(minimal_kb: KnowledgeBase):
    data = query.export_json(minimal_kb)
    assert {"drugs", "targets", "mechanisms", "biomarkers", "trials", "references",
            "conflicts"} <= set(data)
    hr = data["trials"][1]["outcomes"][2]
    assert hr["value"] == 0.62 and hr["ci"] == {"low": 0.51, "high": 0.75, "level": 0.95}
    assert KnowledgeBase.model_validate(data).model_dump() == minimal_kb.model_dump()


def test_the_outcome_table_has_one_row_per_outcome_with_provenance():
    res = query.outcome_table(data_dir=MINIMAL)
    rows = res.records()
    assert len(rows) == 7
    first = rows[0]
    assert (first["trial_id"], first["outcome_id"], first["arm_label"]) == (
        "bolero3", "pfs_hr", None)
    assert {"locator", "refs", "published_date", "ci_low", "ci_level"} <= set(res.columns)
    median = next(r for r in rows if r["outcome_id"] == "pfs_median_exp")
    assert median["arm_regimen"] == "pertuzumab;trastuzumab;docetaxel"
    assert median["value"] == 18.5 and median["unit"] == "months"
