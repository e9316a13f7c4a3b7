"""Loading and validating a data directory: every problem located, nothing compiled if any."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pydantic
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from her2lab.errors import Problem, UnknownIdError, ValidationError
from her2lab.knowledge import KnowledgeBase, Outcome, load, load_directory
from her2lab.yamlio import YamlDocument, problems_from_pydantic

DATA = Path(__file__).parent.parent / "data"
MINIMAL, BROKEN = DATA / "kb_minimal", DATA / "kb_broken"

# --------------------------------------------------------------------------- a valid directory


def test_the_minimal_directory_loads_into_a_typed_knowledge_base(minimal_kb: KnowledgeBase):
    kb = minimal_kb
    assert [t.id for t in kb.trials] == ["bolero3", "cleopatra", "neosphere"]
    assert len(kb.drugs) == 5 and len(kb.references) == 3 and len(kb.conflicts) == 1
    assert kb.cited_on == dt.date(2014, 8, 12)


def test_lookups_resolve_ids_names_and_aliases(minimal_kb: KnowledgeBase):
    assert minimal_kb.drug("HERCEPTIN").id == "trastuzumab"
    assert minimal_kb.drug("drug:pertuzumab").id == "pertuzumab"
    assert minimal_kb.trial("NCT00567190").id == "cleopatra"
    with pytest.raises(UnknownIdError, match="trastuzumab"):
        minimal_kb.drug("aspirin")


def test_numbers_keep_their_types(minimal_kb: KnowledgeBase):
    hr = next(o for o in minimal_kb.trial("cleopatra").outcomes if o.id == "pfs_hr")
    assert (hr.value, hr.ci.low, hr.ci.high, hr.ci.level) == (0.62, 0.51, 0.75, 0.95)
    assert hr.p.value == 0.001 and hr.p.relation == "<"


# --------------------------------------------------------------------------- the broken corpus

# case -> (file inside the case directory, line, field, words expected in "expected", in "found")
CASES = {
    "broken_yaml": ("drugs.yaml", 23, "(syntax)", "well-formed YAML", "flow sequence"),
    "unknown_drug_in_regimen": ("trials/cleopatra.yaml", 25, "arms[1].regimen[0]", "drug ID",
                                "trastuzumabb"),
    "duplicate_id": ("trials/neosphere.yaml", 1, "id", "unique trial", "cleopatra.yaml:1"),
    "duplicate_alias": ("drugs.yaml", 16, "drugs[1].aliases[2]", "no other drug",
                        "names drug 'trastuzumab'"),
    "duplicate_key": ("targets.yaml", 10, "targets[1].hgnc", "each key once", "line 9"),
    "hr_not_positive": ("trials/bolero3.yaml", 30, "outcomes[0].value", "HR above 0", "-0.78"),
    "ci_excludes_estimate": ("trials/cleopatra.yaml", 50, "outcomes[2].ci",
                             "contains its estimate 0.82", "[0.51, 0.75]"),
    "percentage_130": ("trials/neosphere.yaml", 29, "outcomes[0].value", "percentage in 0-100",
                       "130"),
    "missing_provenance": ("drugs.yaml", 27, "drugs[3].provenance", "required", "nothing"),
    "unknown_reference": ("trials/cleopatra.yaml", 52, "outcomes[2].provenance.refs[1]",
                          "reference number", "99"),
    "bad_drugbank_id": ("drugs.yaml", 8, "drugs[0].identifiers.drugbank", "drugbank",
                        "DB0072"),
    "unknown_field": ("trials/bolero3.yaml", 22, "arms[1].regimn", "regimen", "regimn"),
    "unknown_outcome_in_statement": ("biomarkers.yaml", 9,
                                     "biomarkers[0].statements[0].outcomes[0]",
                                     "'trial/outcome' ID", "bolero3/pfs_hr_pten_lo"),
}


def _problems(directory: Path) -> list[Problem]:
    with pytest.raises(ValidationError) as info:
        load_directory(directory)
    return info.value.problems


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_broken_directory_gives_a_problem_naming_file_line_and_field(case: str):
    rel, line, field, expected, found = CASES[case]
    problems = _problems(BROKEN / case)
    file = (BROKEN / case / rel).as_posix()
    matching = [p for p in problems if p.file == file and p.field == field]
    assert matching, f"no problem on {rel} {field}; got:\n" + "\n".join(map(str, problems))
    p = matching[0]
    assert p.line == line
    assert expected in p.expected
    assert found in p.found


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_broken_directory_reports_only_its_own_fault(case: str):
    """One fault gives one problem (two for a misspelled field: unknown and missing), not a
    cascade of unresolved references to the records it touches."""
    problems = _problems(BROKEN / case)
    assert len(problems) == (2 if case == "unknown_field" else 1), "\n".join(map(str, problems))


@pytest.mark.parametrize("case", sorted(CASES))
def test_nothing_is_compiled_from_a_broken_directory(case: str, empty_cache: Path):
    with pytest.raises(ValidationError):
        load(BROKEN / case)
    assert not empty_cache.exists() or not list(empty_cache.glob("*.sqlite"))


def test_every_problem_is_collected_before_raising():
    problems = _problems(BROKEN / "several_problems")
    fields = {(Path(p.file).name, p.field) for p in problems}
    assert fields == {
        ("cleopatra.yaml", "arms[1].regimen[0]"),
        ("neosphere.yaml", "outcomes[0].value"),
        ("drugs.yaml", "drugs[0].identifiers.drugbank"),
    }


def test_the_error_message_lists_every_problem_with_file_and_line():
    with pytest.raises(ValidationError) as info:
        load_directory(BROKEN / "several_problems")
    text = str(info.value)
    assert "3 problem(s)" in text
    assert "trials/cleopatra.yaml:25: field 'arms[1].regimen[0]'" in text


def test_every_case_directory_has_an_expectation():
    assert {p.name for p in BROKEN.iterdir() if p.is_dir()} == {*CASES, "several_problems"}


# --------------------------------------------------------------------------- directory layout


def test_a_missing_required_file_is_a_problem(minimal_copy: Path):
    (minimal_copy / "targets.yaml").unlink()
    problems = _problems(minimal_copy)
    assert [(Path(p.file).name, p.found) for p in problems] == [("targets.yaml", "no such file")]


def test_conflicts_file_is_optional(minimal_copy: Path):
    (minimal_copy / "conflicts.yaml").unlink()
    assert load_directory(minimal_copy).conflicts == []


def test_an_unexpected_yaml_file_is_a_problem(minimal_copy: Path):
    shutil.copy(minimal_copy / "drugs.yaml", minimal_copy / "drug.yaml")
    problems = _problems(minimal_copy)
    assert any(p.file.endswith("/drug.yaml") and "unexpected" in p.found for p in problems)


def test_a_list_file_that_is_a_mapping_is_a_problem(minimal_copy: Path):
    (minimal_copy / "mechanisms.yaml").write_text("id: pten_loss\n")
    problems = _problems(minimal_copy)
    assert [(p.field, p.found, p.line) for p in problems] == [("(document)", "dict", 1)]


def test_a_trial_file_with_an_unknown_subgroup_names_the_outcome(minimal_copy: Path):
    path = minimal_copy / "trials" / "bolero3.yaml"
    path.write_text(path.read_text().replace("subgroup: pten_low", "subgroup: pten_lo"))
    (p,) = _problems(minimal_copy)
    assert (p.field, p.found, p.line) == ("outcomes[1].subgroup", "'pten_lo'", 42)


def test_an_outcome_naming_a_missing_arm_points_at_that_arm(minimal_copy: Path):
    path = minimal_copy / "trials" / "cleopatra.yaml"
    path.write_text(path.read_text().replace("arms: [exp, ctl]", "arms: [exp, ctrl]"))
    problems = _problems(minimal_copy)
    assert [(p.field, p.line) for p in problems] == [("outcomes[2].arms[1]", 47)]


def test_a_conflict_about_an_unknown_trial_is_a_problem(minimal_copy: Path):
    path = minimal_copy / "conflicts.yaml"
    path.write_text(path.read_text().replace('"trial:cleopatra"', '"trial:cleopatro"'))
    (p,) = _problems(minimal_copy)
    assert (p.field, p.found) == ("conflicts[0].subject", "'trial:cleopatro'")


@pytest.mark.parametrize(
    ("identifiers", "ok"),
    [
        ("{drugbank: DB00072}", True),
        ("{DrugBank: DB00072}", True),
        ("{chebi: 'CHEBI:68478'}", True),
        ("{chebi: '68478'}", True),
        ("{pubchem.compound: '6442177'}", True),
        ("{ncit: C1647}", True),
        ("{ncit: X1647}", False),
        ("{mesh: D000068878}", False),
    ],
)
def test_drug_identifiers_are_checked_with_bioregistry(minimal_copy: Path, identifiers, ok):
    path = minimal_copy / "drugs.yaml"
    path.write_text(path.read_text().replace("{drugbank: DB00072, ncit: C1647}", identifiers))
    if ok:
        load_directory(minimal_copy)
    else:
        (p,) = _problems(minimal_copy)
        assert p.field.startswith("drugs[0].identifiers.") and p.line == 8


# --------------------------------------------------------------------------- cached loading


def test_loading_twice_returns_the_same_object():
    assert load(MINIMAL) is load(MINIMAL)


def test_load_sees_a_change_to_the_yaml(minimal_copy: Path):
    first = load(minimal_copy)
    path = minimal_copy / "trials" / "neosphere.yaml"
    path.write_text(path.read_text().replace("value: 45.8", "value: 45.9"))
    second = load(minimal_copy)
    assert second is not first
    assert second.trial("neosphere").outcomes[0].value == 45.9


def test_a_fresh_process_reads_the_compiled_database_instead_of_validating(
    minimal_copy: Path, monkeypatch: pytest.MonkeyPatch
):
    from her2lab.knowledge import store

    kb = load(minimal_copy)
    db = store.db_path(minimal_copy)
    assert db.exists()

    def fail(_):
        raise AssertionError("validated again although the database is current")

    monkeypatch.setattr(store, "load_directory", fail)
    again = store.load_or_compile(minimal_copy, store.content_hash(minimal_copy))
    assert again.model_dump() == kb.model_dump()


# --------------------------------------------------------------------------- validators


def _dump(record: dict) -> str:
    return yaml.safe_dump({"outcomes": [record]}, sort_keys=False)


def _line_of(record: dict, key: str) -> int:
    lines = _dump(record).splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.strip().startswith(key + ":"))


def _outcome_problems(record: dict) -> list[Problem]:
    text = _dump(record)
    doc = YamlDocument("t.yaml", yaml.safe_load(text), yaml.compose(text))
    try:
        Outcome.model_validate(record)
    except pydantic.ValidationError as exc:
        return problems_from_pydantic(exc, Outcome, doc, ("outcomes", 0))
    return []


def _rate(value: float) -> dict:
    return {"id": "x", "endpoint": "pCR", "kind": "rate", "arm": "a", "value": value,
            "unit": "percent", "provenance": {"locator": "Table 1"}}


@settings(deadline=None)  # timing on a shared CI machine is no property of ours
@given(st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: not 0 <= v <= 100))
def test_any_percentage_outside_0_to_100_is_rejected_at_its_value(value: float):
    (p,) = _outcome_problems(_rate(value))
    assert p.field == "outcomes[0].value"
    assert p.expected == "a percentage in 0-100"


@settings(deadline=None)  # timing on a shared CI machine is no property of ours
@given(st.floats(min_value=0, max_value=100))
def test_any_percentage_inside_0_to_100_is_accepted(value: float):
    assert _outcome_problems(_rate(value)) == []


@settings(deadline=None)  # timing on a shared CI machine is no property of ours
@given(st.floats(max_value=0, allow_nan=False, allow_infinity=False))
def test_any_hazard_ratio_at_or_below_0_is_rejected(value: float):
    record = {"id": "x", "endpoint": "PFS", "kind": "effect", "measure": "HR",
              "arms": ["a", "b"], "value": value, "provenance": {"locator": "Table 1"}}
    (p,) = _outcome_problems(record)
    assert (p.field, p.line) == ("outcomes[0].value", _line_of(record, "value"))


@settings(deadline=None)  # timing on a shared CI machine is no property of ours
@given(
    st.floats(min_value=0.01, max_value=10),
    st.floats(min_value=0.01, max_value=10),
    st.floats(min_value=0.01, max_value=10),
)
def test_a_ci_is_accepted_exactly_when_it_contains_its_estimate(value, a, b):
    lo, hi = sorted((a, b))
    record = {"id": "x", "endpoint": "PFS", "kind": "effect", "measure": "HR",
              "arms": ["a", "b"], "value": value, "ci": {"low": lo, "high": hi},
              "provenance": {"locator": "Table 1"}}
    problems = _outcome_problems(record)
    if lo <= value <= hi:
        assert problems == []
    else:
        assert [p.field for p in problems] == ["outcomes[0].ci"]


def test_a_target_alias_naming_another_target_is_a_problem(minimal_copy: Path):
    path = minimal_copy / "targets.yaml"
    text = path.read_text().replace('  hgnc: "9588"\n', '  hgnc: "9588"\n  aliases: [her-2]\n')
    path.write_text(text)
    (p,) = _problems(minimal_copy)
    assert (p.field, p.line) == ("targets[1].aliases[0]", 10)
    assert "also names target 'ERBB2'" in p.found


def test_an_unknown_setting_lists_the_allowed_ones(minimal_copy: Path):
    path = minimal_copy / "trials" / "bolero3.yaml"
    path.write_text(path.read_text().replace("setting: metastatic_pretreated", "setting: later"))
    (p,) = _problems(minimal_copy)
    assert (p.field, p.found, p.line) == ("setting", "'later'", 6)
    assert p.expected.startswith("one of 'neoadjuvant', 'adjuvant'")
