"""Virtual patients: priors with sources, exclusivity, conditioning, enrichment."""

from __future__ import annotations

import math

import numpy as np
import pytest

from her2lab.errors import DataError, ValidationError
from her2lab.knowledge import load
from her2lab.virtual_trials.population import (
    MECHANISMS,
    Population,
    group_of_setting,
    load_prevalence,
    mask_of,
    profile_of,
)

N = 40_000  # a marginal frequency then has SE <= sqrt(0.25 / N) = 0.0025; tolerance 5 SE


@pytest.fixture(scope="module")
def table():
    return load_prevalence()


def test_every_mechanism_of_the_kb_has_a_prior_with_a_source(table):
    kb = load()
    assert set(MECHANISMS) == {m.id for m in kb.mechanisms}
    numbers = {r.number for r in kb.references}
    for mech, prior in table.mechanisms.items():
        prov = prior.provenance
        assert prov.citation or prov.refs, mech
        assert set(prov.refs) <= numbers, mech
        assert prior.early.low <= prior.early.value <= prior.early.high


def test_pik3ca_mutation_and_pten_loss_never_occur_together(table):
    pop = Population.for_setting("metastatic_pretreated", prior_trastuzumab=True, table=table)
    s = pop.draw(N, np.random.default_rng(1))
    assert not np.any(s.has("pik3ca_mutation") & s.has("pten_loss"))


@pytest.mark.parametrize("setting", ["neoadjuvant", "metastatic_first_line",
                                     "metastatic_pretreated"])
def test_drawn_frequencies_match_the_marginal_probabilities(table, setting):
    pop = Population.for_setting(setting, table=table)
    s = pop.draw(N, np.random.default_rng(2))
    for mech, p in pop.mechanism_probability().items():
        se = math.sqrt(p * (1 - p) / N)
        assert abs(s.has(mech).mean() - p) <= 5 * se + 1e-12, mech


def test_pretreated_odds_are_enriched_by_the_stated_odds_ratio(table):
    early = table.prevalences("early")
    pre = table.prevalences("metastatic_pretreated")
    orr = table.pretreated_odds_ratio
    for m in MECHANISMS:
        if m in orr.applies_to:
            odds = early[m] / (1 - early[m]) * orr.value
            assert pre[m] == pytest.approx(odds / (1 + odds))
        else:
            assert pre[m] == early[m]


def test_required_mechanisms_are_always_present_and_excluded_never(table):
    pop = Population.for_setting("early", require=["pten_loss"], exclude=["p95her2"],
                                 table=table)
    s = pop.draw(5000, np.random.default_rng(3))
    assert s.has("pten_loss").all()
    assert not s.has("p95her2").any()
    assert not s.has("pik3ca_mutation").any()  # excluded by PTEN loss (ref 27)


def test_impossible_filters_are_errors(table):
    with pytest.raises(DataError, match="mutually exclusive"):
        Population.for_setting("early", require=["pten_loss", "pik3ca_mutation"], table=table)
    with pytest.raises(DataError, match="unknown mechanism"):
        Population.for_setting("early", require=["her4_activation"], table=table)
    with pytest.raises(DataError, match="both required and excluded"):
        Population.for_setting("early", require=["p95her2"], exclude=["p95her2"], table=table)


def test_prior_uncertainty_draws_centre_on_the_stated_values(table):
    rng = np.random.default_rng(4)
    draws = [table.prevalences("early", rng)["p95her2"] for _ in range(4000)]
    prior = table.mechanisms["p95her2"].early
    sd = (prior.high - prior.low) / 3.92
    assert np.mean(draws) == pytest.approx(prior.value, abs=5 * sd / math.sqrt(4000))
    assert np.std(draws) == pytest.approx(sd, rel=0.15)


def test_masks_round_trip():
    for prof in [(), ("p95her2",), ("immune_cold", "pten_loss", "vegf_high")]:
        assert profile_of(mask_of(prof)) == tuple(sorted(prof))


@pytest.mark.parametrize("setting,prior,group", [
    ("neoadjuvant", None, "early"), ("adjuvant", False, "early"),
    ("metastatic_first_line", None, "metastatic_first_line"),
    ("metastatic_first_line", True, "metastatic_pretreated"),
    ("metastatic_pretreated", None, "metastatic_pretreated"),
])
def test_settings_map_to_prevalence_groups(setting, prior, group):
    assert group_of_setting(setting, prior) == group


def test_a_broken_prevalence_file_names_file_line_and_field(tmp_path):
    src = (tmp_path / "p.yaml")
    from importlib import resources

    shipped = (resources.files("her2lab.virtual_trials") / "data" / "prevalence.yaml").read_text()
    src.write_text(shipped.replace("early: {value: 0.30, low: 0.20, high: 0.40}",
                                   "early: {value: 1.3, low: 0.20, high: 0.40}"))
    with pytest.raises(ValidationError) as exc:
        load_prevalence(src)
    (problem,) = exc.value.problems
    assert problem.file == str(src)
    assert "p95her2" in problem.field and "value" in problem.field
    assert problem.line is not None
    assert src.read_text().splitlines()[problem.line - 1].strip().startswith(("early", "p95her2"))


def test_the_assumption_scale_changes_only_assumed_prevalences(table):
    base = table.prevalences("early")
    scaled = table.prevalences("early", assumption_scale=0.5)
    for m, prior in table.mechanisms.items():
        if prior.kind == "assumption":
            odds = base[m] / (1 - base[m]) * 0.5
            assert scaled[m] == pytest.approx(odds / (1 + odds))
        else:
            assert scaled[m] == base[m]
