"""Simulate one (tumor profile, regimen): phenotype probabilities and the response.

>>> from her2lab.pathway import simulate
>>> r = simulate("pten_loss", "trastuzumab+everolimus", samples=1000, seed=1)  # doctest: +SKIP
>>> r.to_dict()["phenotypes"]["proliferation"]  # doctest: +SKIP

A profile is a set of mechanism IDs (``none`` or empty for a HER2-amplified, sensitive tumor);
a regimen is a set of drug IDs (``none`` or empty for untreated). Aliases of the knowledge base
are accepted. Results are cached on disk (:mod:`her2lab.pathway.cache`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from her2lab.errors import SimulationError
from her2lab.pathway.cache import ResultCache, cache_key, engine_fingerprint
from her2lab.pathway.drugs import apply_regimen, normalise_regimen
from her2lab.pathway.engine import Backend, final_probabilities
from her2lab.pathway.mechanisms import apply_mechanisms, normalise_profile
from her2lab.pathway.model import NodeRates, load_model
from her2lab.pathway.response import PHENOTYPES, response, response_se

__all__ = ["DEFAULT_SAMPLES", "DEFAULT_SEED", "MAX_TIME", "Result", "model_files", "simulate"]

DEFAULT_SAMPLES = 2000
DEFAULT_SEED = 20140812
MAX_TIME = 40.0
"""Simulated time (in units of the unit rates): long enough for the deepest chain of the model
(about 15 steps from HSP90 to the T-cell/PD-L1 loop) to settle."""


@dataclass(frozen=True)
class Result:
    """The outcome of one simulation of a (profile, regimen)."""

    profile: tuple[str, ...]
    regimen: tuple[str, ...]
    phenotypes: dict[str, float]
    response: float
    response_se: float
    samples: int
    seed: int
    nodes: dict[str, float] = field(repr=False)
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``her2lab simulate --format json`` (exactly these four keys)."""
        return {
            "profile": list(self.profile),
            "regimen": list(self.regimen),
            "phenotypes": dict(self.phenotypes),
            "response": self.response,
        }

    def to_record(self) -> dict[str, Any]:
        """:meth:`to_dict` plus the response's standard-error bound, samples and seed."""
        return {**self.to_dict(), "response_se": self.response_se, "samples": self.samples,
                "seed": self.seed}


_FINGERPRINT: list[str] = []


def _fingerprint() -> str:
    if not _FINGERPRINT:
        _FINGERPRINT.append(engine_fingerprint())
    return _FINGERPRINT[0]


def node_rates(
    profile: Iterable[str], regimen: Iterable[str], potency: Mapping[str, float] | None = None
) -> dict[str, NodeRates]:
    """Node settings for already-resolved mechanism and drug IDs."""
    model = load_model()
    rates = dict(model.baseline)
    apply_mechanisms(rates, profile)
    apply_regimen(rates, regimen, potency)
    return rates


def model_files(
    profile: Iterable[str] | str | None = None,
    regimen: Iterable[str] | str | None = None,
    *,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    potency: Mapping[str, float] | None = None,
    max_time: float = MAX_TIME,
    threads: int = 1,
) -> tuple[str, str]:
    """The MaBoSS ``(.bnd, .cfg)`` texts for a profile and a regimen: run them anywhere."""
    prof = normalise_profile(profile)
    reg = normalise_regimen(regimen)
    model = load_model()
    cfg = model.config_text(
        node_rates(prof, reg, potency), samples=samples, seed=seed, max_time=max_time,
        threads=threads,
    )
    return model.bnd, cfg


def simulate(
    profile: Iterable[str] | str | None = None,
    regimen: Iterable[str] | str | None = None,
    *,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    potency: Mapping[str, float] | None = None,
    max_time: float = MAX_TIME,
    backend: Backend = "boolnet",
    cache: ResultCache | bool = True,
) -> Result:
    """Simulate ``regimen`` on a tumor with ``profile`` and return phenotypes and response.

    ``potency`` overrides drugs' graded efficacy (``{"trastuzumab": 0.7}``); ``cache=False``
    bypasses the on-disk cache, a :class:`ResultCache` chooses its directory.
    """
    if samples < 1:
        raise SimulationError(f"samples must be a positive integer; got {samples} instead")
    prof = normalise_profile(profile)
    reg = normalise_regimen(regimen)
    model = load_model()
    bnd, cfg = model_files(prof, reg, samples=samples, seed=seed, potency=potency,
                           max_time=max_time)
    store = cache if isinstance(cache, ResultCache) else ResultCache() if cache else None
    key = cache_key(model.digest, cfg, backend, _fingerprint())
    nodes = store.get(key) if store is not None else None
    hit = nodes is not None
    if nodes is None:
        raw = final_probabilities(bnd, cfg, backend=backend)
        nodes = {n: float(raw.get(n, 0.0)) for n in model.nodes}
        if store is not None:
            store.put(key, nodes, profile=",".join(prof) or "none",
                      regimen="+".join(reg) or "none", samples=samples, seed=seed,
                      backend=backend)
    ph = {k: nodes[v] for k, v in PHENOTYPES.items()}
    return Result(
        profile=prof, regimen=reg, phenotypes=ph, response=response(ph),
        response_se=response_se(ph, samples), samples=samples, seed=seed, nodes=nodes,
        cached=hit,
    )
