"""The public surface changes only on purpose: these tests pin it."""

from __future__ import annotations

import subprocess
import sys

import her2lab
import her2lab.knowledge


def test_the_top_level_exports_are_pinned():
    assert sorted(her2lab.__all__) == ["Her2labError", "__version__", "load"]


def test_every_exported_name_exists():
    for name in her2lab.__all__:
        assert getattr(her2lab, name) is not None
    for name in her2lab.knowledge.__all__:
        assert getattr(her2lab.knowledge, name) is not None


def test_top_level_load_is_the_knowledge_base_loader():
    assert her2lab.load is her2lab.knowledge.load


def test_importing_her2lab_does_not_import_the_knowledge_base():
    code = "import sys, her2lab; print('her2lab.knowledge' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_knowledge_package_exports_are_pinned():
    assert sorted(her2lab.knowledge.__all__) == sorted([
        "CI", "Arm", "Biomarker", "Conflict", "ConflictValue", "Drug", "DrugClass", "Endpoint",
        "KnowledgeBase", "Mechanism", "Outcome", "PValue", "Population", "PredictiveStatement",
        "Provenance", "Reference", "Setting", "Target", "Timepoint", "Trial", "load",
        "load_directory", "ANY", "ASSUMED_ARM_SIZE", "BINARY", "TIME_TO_EVENT", "OutcomeRef",
        "outcome_key",
    ])
