"""The landscape since the seed: the drugs and trials after 2014, every result dated, and the
knowledge base as it stood on a date (``KnowledgeBase.as_of``).

Dates and figures come from the curated records and the publications their provenance names
(journal online dates, congress dates); the invariants follow from the seed's date, 2014-08-12.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError as PydanticValidationError
from typer.testing import CliRunner

from her2lab.cli import app, main
from her2lab.errors import ValidationError
from her2lab.knowledge import Trial, load, query
from her2lab.knowledge.validate import load_directory

SEED = dt.date(2014, 8, 12)
MINIMAL = Path(__file__).parent.parent / "data" / "kb_minimal"
runner = CliRunner()

#: the trials curated after the seed (knowledge/data/trials), by local ID
AFTER_SEED = {
    "destiny_breast01", "destiny_breast02", "destiny_breast03", "destiny_breast05",
    "destiny_breast09", "destiny_breast11", "her2climb", "nala", "phoebe", "phila", "sophia",
    "tulip", "katherine", "extenet", "patina", "monarcher", "kate2", "panacea",
}


@pytest.fixture(scope="module")
def kb():
    return load()


@pytest.mark.parametrize(("alias", "drug"), [
    ("T-DXd", "trastuzumab_deruxtecan"), ("DS-8201a", "trastuzumab_deruxtecan"),
    ("Enhertu", "trastuzumab_deruxtecan"), ("ONT-380", "tucatinib"), ("Tukysa", "tucatinib"),
    ("SHR-1258", "pyrotinib"), ("MGAH22", "margetuximab"),
    ("SYD985", "trastuzumab_duocarmazine"), ("ZW25", "zanidatamab"),
    ("PD-0332991", "palbociclib"), ("LY2835219", "abemaciclib"), ("BYL719", "alpelisib"),
    ("Faslodex", "fulvestrant"), ("HKI-272", "neratinib"),
])
def test_the_drugs_after_the_seed_resolve_by_their_aliases(kb, alias, drug):
    assert kb.drug(alias).id == drug


def test_every_drug_of_the_knowledge_base_is_a_perturbation_of_the_pathway_model(kb):
    # `her2lab simulate` and `trials predict` accept every drug an arm can name
    from her2lab.pathway import DRUGS

    assert {d.id for d in kb.drugs} <= set(DRUGS)
    for t in kb.trials:
        for a in t.arms:
            assert set(a.regimen) <= set(DRUGS), (t.id, a.id)


def test_every_trial_after_the_seed_is_curated(kb):
    external = {t.id for t in kb.trials if t.provenance.source == "external"}
    assert external == AFTER_SEED


def test_every_trial_after_the_seed_carries_its_date_its_source_and_its_citation(kb):
    for tid in AFTER_SEED:
        t = kb.trial(tid)
        assert t.published is not None and t.published > SEED, tid
        assert t.published_source and t.provenance.citation, tid
        for o in t.outcomes:
            # an outcome is never public before its trial's first report
            assert kb.published(t, o) >= t.published, (tid, o.id)
            assert o.provenance.source == "external" and o.provenance.citation, (tid, o.id)


@pytest.mark.parametrize(("trial", "day"), [
    # the seed's trials at the day their result became public, not 31 December of the year
    ("cleopatra", dt.date(2011, 12, 7)),      # N Engl J Med online, SABCS 2011
    ("emilia", dt.date(2012, 10, 1)),         # N Engl J Med online, ESMO 2012
    ("neosphere", dt.date(2011, 12, 6)),      # Lancet Oncol online
    ("bolero3", dt.date(2014, 4, 15)),        # Lancet Oncol online
    ("neoadjuvant_trastuzumab_buzdar", dt.date(2005, 6, 1)),  # J Clin Oncol issue
])
def test_the_seeds_trials_carry_the_day_their_result_became_public(kb, trial, day):
    t = kb.trial(trial)
    assert t.published == day
    pfs_or_pcr = next(o for o in t.outcomes if o.endpoint.value in ("PFS", "pCR"))
    assert kb.published(t, pfs_or_pcr) == day


def test_cleopatras_overall_survival_keeps_its_own_later_date(kb):
    t = kb.trial("cleopatra")
    by = {o.id: kb.published(t, o) for o in t.outcomes}
    assert by["pfs_hr"] == dt.date(2011, 12, 7)
    assert by["os_hr"] == dt.date(2013, 5, 1)  # Swain SM et al. Lancet Oncol 2013 (seed ref 58)


def test_no_date_of_a_seed_trial_crosses_the_seeds_date(kb):
    for t in kb.trials:
        if t.provenance.source == "seed" and t.published is not None and t.id != "aphinity":
            assert t.published <= SEED, t.id


def test_as_of_the_seed_the_knowledge_base_is_the_seeds(kb):
    view = kb.as_of(SEED)
    ids = {t.id for t in view.trials}
    assert not ids & AFTER_SEED
    assert ids == {t.id for t in kb.trials if t.provenance.source == "seed"}
    seed_outcomes = {(t.id, o.id) for t in kb.trials for o in t.outcomes
                     if o.provenance.source == "seed"}
    assert {(t.id, o.id) for t in view.trials for o in t.outcomes} == seed_outcomes
    aphinity = view.trial("aphinity")
    assert aphinity.status == "ongoing" and aphinity.outcomes == []
    assert kb.trial("aphinity").status == "reported"
    # a conflict about a later result goes with it; the seed's stay
    conflicts = {c.id for c in view.conflicts}
    assert "patina_pfs_hr" not in conflicts and "b41_pcr_trastuzumab" in conflicts


def test_as_of_2012_06_01_keeps_cleopatras_pfs_but_not_its_overall_survival(kb):
    view = kb.as_of(dt.date(2012, 6, 1))
    cleo = {o.id for o in view.trial("cleopatra").outcomes}
    assert "pfs_hr" in cleo and "os_hr" not in cleo
    assert "bolero3" not in {t.id for t in view.trials}  # not yet known


def test_as_of_none_is_the_whole_knowledge_base(kb):
    assert kb.as_of(None) is kb


def test_as_of_keeps_a_trials_earlier_figures_and_drops_its_later_ones(kb):
    # SOPHIA's PFS (ASCO 2019) was public in 2020, its final overall survival (2023) was not
    t = kb.as_of(dt.date(2020, 1, 1)).trial("sophia")
    ids = {o.id for o in t.outcomes}
    assert "pfs_hr" in ids and "os_hr_final" not in ids and t.status == "reported"


def test_trials_as_of_a_date_leave_out_what_was_not_yet_published():
    assert [t.id for t in query.trials(drug="tucatinib")] == ["her2climb"]
    assert query.trials(drug="tucatinib", as_of=SEED) == []
    assert [t.id for t in query.trials(drug="tucatinib", as_of=dt.date(2019, 12, 11))] == [
        "her2climb"]


# --------------------------------------------------------------------------- validation


def _trial(**extra) -> dict:
    return {
        "id": "later", "name": "LATER", "phase": "III", "randomized": True,
        "setting": "metastatic_pretreated", "population": {"description": "test"},
        "design": "test",
        "arms": [{"id": "e", "label": "E", "regimen": ["tucatinib"]},
                 {"id": "c", "label": "C", "regimen": ["trastuzumab"]}],
        "outcomes": [{"id": "hr", "endpoint": "PFS", "kind": "effect", "measure": "HR",
                      "arms": ["e", "c"], "value": 0.5, "ci": {"low": 0.4, "high": 0.6},
                      "provenance": {"source": "external", "locator": "Abstract",
                                     "citation": "test"}}],
        "provenance": {"source": "external", "locator": "report", "citation": "test"},
        **extra,
    }


def _problem(exc: PydanticValidationError) -> str:
    return " ".join(str(e["loc"]) + " " + str(e["msg"]) for e in exc.errors())


def test_a_result_without_a_date_or_seed_references_is_refused():
    with pytest.raises(PydanticValidationError) as exc:
        Trial.model_validate(_trial())
    assert "publication date" in _problem(exc.value)
    t = Trial.model_validate(_trial(published="2020-01-01", published_source="congress"))
    assert t.published == dt.date(2020, 1, 1)


def test_a_date_needs_its_source_and_a_share_needs_its_source():
    with pytest.raises(PydanticValidationError, match="published_source"):
        Trial.model_validate(_trial(published="2020-01-01"))
    dated = {"published": "2020-01-01", "published_source": "congress"}
    with pytest.raises(PydanticValidationError, match="hr_positive_source"):
        Trial.model_validate(_trial(**dated, hr_positive_share=0.5))
    with pytest.raises(PydanticValidationError):
        Trial.model_validate(_trial(**dated, hr_positive_share=1.2,
                                    hr_positive_source="table 1"))
    ok = Trial.model_validate(_trial(**dated, hr_positive_share=1.0,
                                     hr_positive_source="eligibility"))
    assert ok.hr_positive_share == 1.0


def test_an_undated_trial_file_is_reported_with_its_file_line_and_field(tmp_path):
    data = tmp_path / "kb"
    shutil.copytree(MINIMAL, data)
    bolero = data / "trials" / "bolero3.yaml"
    text = bolero.read_text()
    assert "published:" not in text and ", refs: [3]" in text
    bolero.write_text(text.replace(", refs: [3]", ""))  # no seed reference, no date
    with pytest.raises(ValidationError) as exc:
        load_directory(data)
    p = next(p for p in exc.value.problems if "published" in p.field)
    assert p.file.endswith("bolero3.yaml") and p.line and "publication date" in p.expected
    assert p.field.startswith("outcomes[")


# --------------------------------------------------------------------------- the CLI


def test_kb_drug_answers_for_t_dxd():
    res = runner.invoke(app, ["kb", "drug", "T-DXd"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    for text in ("Trastuzumab deruxtecan", "TOP1", "bystander", "destiny_breast03",
                 "Ogitani"):
        assert text in res.output


def test_kb_trials_by_drug_alias_and_as_of():
    res = runner.invoke(app, ["kb", "trials", "--drug", "tucatinib"])
    assert res.exit_code == 0 and "her2climb" in res.output
    res = runner.invoke(app, ["kb", "trials", "--drug", "tucatinib", "--as-of", "2014-08-12"])
    assert res.exit_code == 0 and "her2climb" not in res.output and "0 trial(s)" in res.output


def test_kb_trials_refuses_a_date_it_cannot_read(capsys):
    with pytest.raises(SystemExit) as info:
        main(["kb", "trials", "--as-of", "12/08/2014"])
    assert info.value.code != 0
    assert "--as-of must be a date YYYY-MM-DD; got '12/08/2014'" in capsys.readouterr().err


def test_the_python_example_of_the_knowledge_docs_runs():
    import re

    doc = Path(__file__).resolve().parents[2] / "docs" / "knowledge.md"
    (block, *_) = re.findall(r"```python\n(.*?)```", doc.read_text(), flags=re.S)
    namespace: dict = {}
    exec(compile(block, str(doc), "exec"), namespace)
    assert namespace["seed"].trial("aphinity").status == "ongoing"
