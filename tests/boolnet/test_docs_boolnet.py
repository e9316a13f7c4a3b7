"""The Python examples of docs/boolnet.md run as written (on the shared Sahin 2009 model)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "boolnet.md"


@pytest.mark.needs_shared
def test_the_python_examples_of_the_boolnet_docs_run(sahin_dir, tmp_path, monkeypatch):
    shutil.copy(sahin_dir / "model.bnet", tmp_path / "model.bnet")
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 3
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    # what the examples claim: perturbed copies leave the model alone, and so does the `with`
    # block once it is over
    assert namespace["ko"].fixed == {"v_MYC": False}
    assert namespace["model"].fixed == {}
    assert namespace["model"].rate_factors("v_MEK1") == (1.0, 1.0)
    assert 0.0 <= namespace["result"].final["v_pRB1"] <= 1.0
