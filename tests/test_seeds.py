"""The default seed is written once: in her2lab.seeds, which every package imports."""

from __future__ import annotations

from pathlib import Path

import her2lab
from her2lab.seeds import DEFAULT_SEED
from her2lab.virtual_trials.defaults import RunSettings

SRC = Path(her2lab.__file__).parent


def test_the_default_seed_literal_is_written_only_in_the_seeds_module():
    literal = str(DEFAULT_SEED)
    found = sorted(p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py")
                   if literal in p.read_text(encoding="utf-8"))
    assert found == ["seeds.py"]


def test_every_entry_point_defaults_to_the_one_seed():
    from her2lab.api.routes.network import ActivityIn
    from her2lab.api.routes.pathway import ScreenIn, SimulateIn
    from her2lab.pathway.simulate import DEFAULT_SEED as PATHWAY_SEED
    from her2lab.reproduce import Context
    from her2lab.virtual_trials import defaults
    from her2lab.virtual_trials.population import PANEL_SEED

    assert PATHWAY_SEED == defaults.DEFAULT_SEED == PANEL_SEED == DEFAULT_SEED
    assert RunSettings().seed == DEFAULT_SEED
    for body in (SimulateIn, ScreenIn, ActivityIn):
        assert body.model_fields["seed"].default == DEFAULT_SEED
    assert Context.__dataclass_fields__["seed"].default == DEFAULT_SEED
