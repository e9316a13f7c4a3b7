"""``data/perturbations.yaml``: the one list of the model's drugs, mechanisms and attributes.

Read with the knowledge base's YAML reader, so a bad file fails the same way curated data does:
every problem is reported at once with file, line, field, what was expected and what was found
(:class:`her2lab.errors.ValidationError`). The nodes a drug acts on and the node of each
mechanism must be nodes of ``her2.bnd``; a mechanism's node is its profile node ``M_<id>``.
See the comments at the top of the file for what the fields mean.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "AttributeSpec",
    "DrugSpec",
    "EffectSpec",
    "MechanismSpec",
    "PerturbationFile",
    "load_perturbations",
    "read_perturbations",
]

Kind = Literal["bind", "inhibit", "induce"]


def _model_nodes() -> frozenset[str]:
    from her2lab.pathway.model import load_model

    return frozenset(load_model().nodes)


def _check_node(name: str) -> str:
    nodes = _model_nodes()
    if name not in nodes:
        raise ValueError(f"a node of her2.bnd (e.g. {', '.join(sorted(nodes)[:6])})")
    return name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EffectSpec(_Strict):
    node: str
    kind: Kind
    weight: float = Field(1.0, gt=0.0, le=1.0)

    _node = field_validator("node")(classmethod(lambda cls, v: _check_node(v)))


class DrugSpec(_Strict):
    potency: float = Field(ge=0.0, le=1.0)
    potency_source: str = Field(min_length=3)
    why: str = Field(min_length=3)
    refs: list[int] = Field(default_factory=list)
    source: str | None = Field(default=None, min_length=3)
    effects: list[EffectSpec] = Field(min_length=1)


class MechanismSpec(_Strict):
    node: str
    degree: float = Field(1.0, ge=0.0, le=1.0)
    why: str = Field(min_length=3)
    refs: list[int] = Field(default_factory=list)

    _node = field_validator("node")(classmethod(lambda cls, v: _check_node(v)))


class AttributeSpec(_Strict):
    node: str
    why: str = Field(min_length=3)
    refs: list[int] = Field(default_factory=list)

    _node = field_validator("node")(classmethod(lambda cls, v: _check_node(v)))


class PerturbationFile(_Strict):
    schema_: Literal[1] = Field(alias="schema")
    attributes: dict[Literal["hr_positive"], AttributeSpec]
    mechanisms: dict[str, MechanismSpec] = Field(min_length=1)
    drugs: dict[str, DrugSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _profile_nodes(self) -> PerturbationFile:
        for mid, spec in self.mechanisms.items():
            if spec.node != f"M_{mid}":
                raise ValueError(
                    f"mechanisms.{mid}.node: the profile node M_{mid} (got {spec.node!r})"
                )
        return self


def read_perturbations(path: str | Path) -> PerturbationFile:
    """Read and validate a perturbations file (raises ValidationError with located problems)."""
    from her2lab.yamlio import read_model_file

    return read_model_file(path, PerturbationFile)


@cache
def load_perturbations() -> PerturbationFile:
    """The shipped ``data/perturbations.yaml`` (validated once, cached)."""
    with resources.as_file(resources.files("her2lab.pathway") / "data" /
                           "perturbations.yaml") as path:
        return read_perturbations(path)
