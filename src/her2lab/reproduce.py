"""The main job, ``her2lab reproduce``: a sequence of stages, each writing its own outputs.

A stage is a small object with a ``name``, a one-line ``title`` and a ``run(ctx)`` method that
writes files under ``ctx.out_dir`` and returns a :class:`StageResult` (rows for the summary table
and the files it wrote). Capabilities add themselves by appending to :data:`STAGES` in the order
they should run (knowledge base and audit first, then the response matrix, then the virtual
Table 1), so the command grows without changing its shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from her2lab.virtual_trials.defaults import DEFAULT_SEED


@dataclass
class Context:
    """What every stage receives: where to write, the seed, and what earlier stages produced."""

    out_dir: Path
    seed: int = DEFAULT_SEED
    quick: bool = False
    results: dict[str, StageResult] = field(default_factory=dict)


@dataclass
class StageResult:
    summary: list[tuple[str, str]]
    files: list[Path] = field(default_factory=list)
    data: Any = None


class Stage(Protocol):
    name: str
    title: str

    def run(self, ctx: Context) -> StageResult: ...


@dataclass
class FunctionStage:
    """A stage made from a plain function ``fn(ctx) -> StageResult``."""

    name: str
    title: str
    fn: Callable[[Context], StageResult]

    def run(self, ctx: Context) -> StageResult:
        return self.fn(ctx)


STAGES: list[Stage] = []


def register_stage(name: str, title: str, *, after: str | None = None):
    """Decorator: register ``fn(ctx) -> StageResult`` as a stage (appended, or after ``after``)."""

    def deco(fn: Callable[[Context], StageResult]) -> Callable[[Context], StageResult]:
        stage = FunctionStage(name, title, fn)
        if any(s.name == name for s in STAGES):
            raise ValueError(f"a reproduce stage named {name!r} is already registered")
        if after is None:
            STAGES.append(stage)
        else:
            idx = next(i for i, s in enumerate(STAGES) if s.name == after)
            STAGES.insert(idx + 1, stage)
        return fn

    return deco


def load_stages() -> list[Stage]:
    """Import the modules that register stages, in pipeline order, and return the stages."""
    import importlib

    for module in _STAGE_MODULES:
        importlib.import_module(module)
    return list(STAGES)


# Modules that register stages, in the order their stages run.
_STAGE_MODULES = [
    "her2lab.knowledge.stages",
    "her2lab.pathway.stages",
    "her2lab.virtual_trials.stages",
    "her2lab.synthesis.stages",
    "her2lab.report.stages",
]
