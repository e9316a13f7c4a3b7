"""The model files, their annotations, and their agreement with the knowledge base."""

from __future__ import annotations

import re
from importlib import resources

import pytest
import yaml

from her2lab.boolnet import parse_maboss
from her2lab.boolnet.expr import parse_expr
from her2lab.errors import ModelDefinitionError
from her2lab.pathway import DRUGS, MECHANISMS, load_model
from her2lab.pathway.model import NodeRates

DATA = resources.files("her2lab.pathway") / "data"


@pytest.fixture(scope="module")
def annotations() -> dict:
    return yaml.safe_load((DATA / "annotations.yaml").read_text("utf-8"))


@pytest.fixture(scope="module")
def kb():
    from her2lab.knowledge import load

    return load()


def _reads(node: str) -> set[str]:
    return set(load_model().engine[node].reads())


def test_the_model_has_the_nodes_the_issue_asks_for():
    nodes = set(load_model().nodes)
    wanted = {"EGFR", "HER2", "HER3", "HRG", "p95HER2", "IGF1R", "MET", "PI3K", "PTEN", "AKT",
              "mTORC1", "mTORC2", "S6", "ERK", "SRC", "MUC4", "HSP90", "VEGF", "Angiogenesis",
              "NK", "ADCC", "TIL", "PD1", "PDL1", "CD73", "DM1", "FOXO", "ER", "CycD", "BCL2",
              "Proliferation", "Apoptosis", "Immune_kill", "Cytotoxic_death", "Payload_death",
              "HR_pos"}
    assert wanted <= nodes


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


def test_each_mechanism_acts_on_the_genes_its_knowledge_base_record_names(kb, annotations):
    """The profile node M_<id> is read by a node that is, or carries a gene of, a node the KB
    record names (mutant PI3K activity is its own node, PIK3CA_mut, feeding SGK)."""
    model = load_model()

    def genes(node: str) -> set[str]:
        return set(annotations["nodes"][node]["hgnc"]) | {node}

    for mech in kb.mechanisms:
        node = MECHANISMS[mech.id].node
        assert set(mech.nodes) <= set(model.nodes), (mech.id, mech.nodes)
        readers = {n for n in model.nodes if n != node and node in _reads(n)}
        kb_genes = set().union(*(genes(n) for n in mech.nodes))
        assert any(genes(r) & kb_genes for r in readers), (mech.id, readers, mech.nodes)


def test_profile_nodes_never_change_during_a_run():
    model = load_model()
    assert set(model.profile_nodes) == {m.node for m in MECHANISMS.values()} | {"HR_pos"}
    for n in model.profile_nodes:
        node = model.engine[n]
        assert node.rate_up == parse_expr("0", boolean=False) == node.rate_down, n
        assert model.initial[n] == 0, "the baseline carries no mechanism"


def test_drug_effects_name_model_nodes_with_the_rate_scheme():
    model = load_model()
    for d in DRUGS.values():
        assert 0 <= d.potency <= 1
        for e in d.effects:
            assert e.node in model.baseline and 0 < e.weight <= 1


def test_the_baseline_is_untreated_with_heregulin_present_in_every_tumor():
    base = load_model().baseline
    for drug_state in ("TZ", "PZ", "TDM1", "TKI"):
        assert base[drug_state].u == 0 and base[drug_state].g == 0, drug_state
    for induced in ("MT_stress", "DNA_damage"):
        assert base[induced].g == 0 and str(load_model().rules[induced]) == "0"
    hrg = base["HRG"]
    assert hrg.g / (hrg.g + hrg.di) == pytest.approx(0.5), "a graded ligand baseline"
    assert hrg.u / (hrg.u + hrg.i) > 0.8, "higher under her3_activation"


@pytest.mark.parametrize("node", ["Apoptosis", "Immune_kill", "Cytotoxic_death", "Payload_death"])
def test_death_nodes_are_absorbing(node):
    model = load_model()
    assert node in _reads(node), "the rule holds once the node is ON"
    assert model.baseline[node].i == 0, "and nothing turns it OFF while the rule holds"


def test_the_shipped_files_parse_in_our_engine_with_every_parameter_defined():
    m = load_model()
    model = parse_maboss(m.bnd, m.cfg)
    assert [n.name for n in model] == list(m.nodes)
    assert set(model.parameters) == {p for n in m.baseline for p in m.baseline[n].parameters(n)}


def test_negative_rates_are_rejected():
    with pytest.raises(ModelDefinitionError, match="rate u must be >= 0"):
        NodeRates(u=-1)


def test_the_public_api_of_the_pathway_package_changes_only_on_purpose():
    import her2lab.pathway as pw

    assert set(pw.__all__) == {
        "ATTRIBUTES", "DRUGS", "KILL_SOURCES", "MECHANISMS", "PHENOTYPES", "Her2Model",
        "Profile", "Rates", "Result", "TimeCourse", "load_model", "model_files",
        "normalize_profile",
        "normalize_regimen", "response", "simulate", "simulate_many",
    }
    for name in pw.__all__:
        assert hasattr(pw, name)
