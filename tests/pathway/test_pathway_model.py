"""The model files, their annotations, and their agreement with the knowledge base."""

from __future__ import annotations

import re
from importlib import resources

import pytest
import yaml

from her2lab.boolnet import parse_maboss
from her2lab.errors import ModelDefinitionError
from her2lab.pathway import DRUGS, MECHANISMS, load_model
from her2lab.pathway.model import NodeRates, _parse_baseline

DATA = resources.files("her2lab.pathway") / "data"


@pytest.fixture(scope="module")
def annotations() -> dict:
    return yaml.safe_load((DATA / "annotations.yaml").read_text("utf-8"))


@pytest.fixture(scope="module")
def kb():
    from her2lab.knowledge import load

    return load()


def test_the_model_has_the_nodes_the_issue_asks_for():
    nodes = set(load_model().nodes)
    wanted = {"EGFR", "HER2", "HER3", "HRG", "p95HER2", "IGF1R", "MET", "PI3K", "PTEN", "AKT",
              "mTORC1", "S6", "ERK", "SRC", "MUC4", "HSP90", "VEGF", "Angiogenesis", "NK",
              "ADCC", "TIL", "PD1", "PDL1", "CD73", "DM1", "Proliferation", "Apoptosis",
              "Immune_kill"}
    assert wanted <= nodes
    assert len(nodes) >= 40


def test_every_node_is_annotated_and_every_annotation_is_a_node(annotations):
    assert set(annotations["nodes"]) == set(load_model().nodes)


@pytest.mark.parametrize("node", load_model().nodes)
def test_every_node_has_references_and_hgnc_symbols_of_the_right_shape(annotations, node):
    ann = annotations["nodes"][node]
    assert ann["refs"] or ann.get("external"), f"{node}: a rule without a reference"
    assert all(1 <= r <= 83 for r in ann["refs"]), "seed reference numbers run from 1 to 83"
    for sym in ann["hgnc"]:
        assert re.fullmatch(r"[A-Z][A-Z0-9-]*", sym), sym
    if ann["kind"] in {"protein", "complex"}:
        assert ann["hgnc"], f"{node} is a gene product and needs its HGNC symbol"


def test_drug_targets_of_the_knowledge_base_appear_in_the_annotations(annotations, kb):
    """Each HER2-pathway target gene of a KB drug is the symbol of some model node."""
    symbols = {s for a in annotations["nodes"].values() for s in a["hgnc"]}
    for drug in kb.drugs:
        if drug.drug_class.value in ("chemotherapy", "chemotherapy_regimen"):
            continue
        hits = set(drug.targets) & symbols
        assert hits, f"{drug.id}: none of its targets {drug.targets} is a model node's symbol"


def test_every_drug_of_the_knowledge_base_is_a_perturbation_and_nothing_else(kb):
    assert {d.id for d in kb.drugs} == set(DRUGS)


def test_every_mechanism_of_the_knowledge_base_is_a_setting_and_nothing_else(kb):
    assert {m.id for m in kb.mechanisms} == set(MECHANISMS)


def test_each_mechanism_sets_the_nodes_its_knowledge_base_record_names(kb):
    for mech in kb.mechanisms:
        ours = {s.node for s in MECHANISMS[mech.id]}
        assert ours & set(mech.nodes), (mech.id, ours, mech.nodes)
        assert set(mech.nodes) <= set(load_model().nodes), (mech.id, mech.nodes)


def test_drug_effects_and_mechanism_settings_name_model_nodes():
    nodes = set(load_model().nodes)
    for d in DRUGS.values():
        assert 0 <= d.potency <= 1
        for e in d.effects:
            assert e.node in nodes and 0 < e.weight <= 1
    for settings in MECHANISMS.values():
        for s in settings:
            assert s.node in nodes


def test_the_shipped_files_parse_in_our_engine_with_every_parameter_defined():
    m = load_model()
    model = parse_maboss(m.bnd, m.cfg)
    assert [n.name for n in model] == list(m.nodes)


def test_the_baseline_is_a_her2_amplified_tumor_without_drug():
    base = load_model().baseline
    for absent in ("p95HER2", "EGFR", "HRG", "IGF1R", "MET", "MUC4", "TZ", "PZ", "DM1"):
        assert base[absent].u == 0 and base[absent].g == 0
    for present in ("HSP90", "HER2", "HER3", "PTEN", "TIL"):
        assert base[present].u > 0 and base[present].initial == 1


def test_a_cfg_missing_a_parameter_names_the_node_and_the_parameter():
    m = load_model()
    broken = m.cfg.replace("$g_AKT = 0;", "")
    with pytest.raises(ModelDefinitionError, match=r"AKT lacks the parameter \$g_AKT"):
        _parse_baseline(m.bnd, broken)


def test_negative_rates_are_rejected():
    with pytest.raises(ModelDefinitionError, match="rate u must be >= 0"):
        NodeRates(u=-1)


def test_config_text_writes_di_as_d_plus_i_and_reads_back_the_same_settings():
    m = load_model()
    rates = dict(m.baseline)
    rates["AKT"] = NodeRates(u=0.25, g=0.5, i=0.75, d=0.125, initial=0.3)
    text = m.config_text(rates, samples=10, seed=3, max_time=5)
    assert "$di_AKT = 0.875;" in text
    again = _parse_baseline(m.bnd, text)
    assert again.baseline["AKT"] == rates["AKT"]
    assert again.baseline["HER2"] == m.baseline["HER2"]


def test_settings_for_an_unknown_node_are_an_error():
    m = load_model()
    with pytest.raises(ModelDefinitionError, match="not in the HER2 model"):
        m.config_text({"NOPE": NodeRates()}, samples=1, seed=1, max_time=1)


def test_the_public_api_of_the_pathway_package_changes_only_on_purpose():
    import her2lab.pathway as pw

    assert set(pw.__all__) == {
        "DRUGS", "MECHANISMS", "PHENOTYPES", "Her2Model", "Result", "load_model", "model_files",
        "normalise_profile", "normalise_regimen", "response", "simulate",
    }
    for name in pw.__all__:
        assert hasattr(pw, name)
