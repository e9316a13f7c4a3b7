"""Simulate (tumor profile, regimen) pairs: rates, phenotypes, time courses and the response.

>>> from her2lab.pathway import simulate
>>> r = simulate({"pten_loss": 0.6}, "trastuzumab+everolimus", seed=1)  # doctest: +SKIP
>>> r.rates.growth, r.rates.kill["targeted"], r.response  # doctest: +SKIP

A profile is any form :func:`her2lab.pathway.mechanisms.normalize_profile` accepts (a name,
mechanism IDs, a mapping mechanism -> degree, ``hr_positive``); a regimen is a set of drug IDs
(``none`` or empty for untreated). Aliases of the knowledge base are accepted.

The boolnet model is built and compiled once; a condition is a set of typed overrides on it
(the drugs' ``$parameters`` and the profile nodes' initial P(ON)), so nothing is written or
parsed to run one. :func:`simulate_many` runs many conditions in order. Results are cached on
disk (:mod:`her2lab.pathway.cache`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from her2lab.errors import SimulationError
from her2lab.pathway.cache import ResultCache, cache_key, engine_fingerprint
from her2lab.pathway.drugs import normalize_regimen, regimen_parameters
from her2lab.pathway.mechanisms import Profile, normalize_profile
from her2lab.pathway.model import load_model
from her2lab.pathway.response import (
    MAX_TIME,
    READ_NODES,
    Rates,
    TimeCourse,
    rates_from_time_course,
    response,
    response_se,
)
from her2lab.seeds import DEFAULT_SEED

__all__ = [
    "DEFAULT_SAMPLES",
    "DEFAULT_SEED",
    "MAX_TIME",
    "Backend",
    "Result",
    "condition_model",
    "model_files",
    "simulate",
    "simulate_many",
    "simulator",
    "stream_seed",
]

DEFAULT_SAMPLES = 2000
TIME_TICK = 1.0
CHUNKS = 2
"""Blocks of trajectories a run is split into, run on as many threads as there are CPUs (up
to this many): fixed, so a result never depends on the threads that ran it."""
Backend = Literal["boolnet", "maboss"]
BACKENDS: tuple[str, ...] = ("boolnet", "maboss")


@dataclass(frozen=True)
class Result:
    """The outcome of one simulation of a (profile, regimen).

    Attributes
    ----------
    profile : tuple of str
        The mechanisms present (degree > 0).
    regimen : tuple of str
        The drug IDs, sorted.
    phenotypes : dict of str to float
        Read-outs by name (see :data:`her2lab.pathway.PHENOTYPES`).
    response : float
        ``K / (K + G)`` in [0, 1] (see :func:`response`).
    response_se : float
        An upper bound on the Monte Carlo standard error of ``response``.
    samples : int
        Number of trajectories simulated.
    seed : int
        The seed of the run.
    rates : Rates
        Growth and kill by source, per day.
    time_course : TimeCourse
        Phenotype probabilities per day.
    nodes : dict of str to float
        Every node's P(ON) averaged over the read-out window.
    degrees : dict of str to float
        The degree of each mechanism present.
    hr_positive : float
        The HR-positivity degree the run used.
    cached : bool
        Whether the result was read from the on-disk cache rather than simulated.
    """

    profile: tuple[str, ...]
    regimen: tuple[str, ...]
    phenotypes: dict[str, float]
    response: float
    response_se: float
    samples: int
    seed: int
    rates: Rates
    time_course: TimeCourse = field(repr=False)
    nodes: dict[str, float] = field(repr=False)
    degrees: dict[str, float] = field(default_factory=dict)
    hr_positive: float = 0.0
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``her2lab simulate --format json``.

        Returns
        -------
        dict
            ``profile``, ``degrees``, ``hr_positive``, ``regimen``, ``phenotypes``, ``rates`` and
            ``response``, JSON-ready.
        """
        return {
            "profile": list(self.profile),
            "degrees": dict(self.degrees),
            "hr_positive": self.hr_positive,
            "regimen": list(self.regimen),
            "phenotypes": dict(self.phenotypes),
            "rates": self.rates.to_dict(),
            "response": self.response,
        }

    def to_record(self) -> dict[str, Any]:
        """:meth:`to_dict` plus the details a stored record needs.

        Returns
        -------
        dict
            The :meth:`to_dict` keys plus the response's standard-error bound, samples, seed and
            the phenotype time course.
        """
        return {**self.to_dict(), "response_se": self.response_se, "samples": self.samples,
                "seed": self.seed, "time_course": self.time_course.to_dict()}


@dataclass(frozen=True)
class Condition:
    """A resolved (profile, regimen, potency) and the engine overrides it stands for."""

    profile: Profile
    regimen: tuple[str, ...]
    potency: tuple[tuple[str, float], ...] = ()

    @property
    def parameters(self) -> dict[str, float]:
        return regimen_parameters(self.regimen, dict(self.potency))

    @property
    def initial(self) -> dict[str, float]:
        return self.profile.initial()

    def overrides(self) -> Any:
        from her2lab.boolnet import Overrides

        return Overrides(parameters=self.parameters, initial=self.initial)


def _condition(profile: Any, regimen: Any, potency: Mapping[str, float] | None,
               hr_positive: bool | float | None = None) -> Condition:
    reg = normalize_regimen(regimen)
    prof = normalize_profile(profile, hr_positive)
    pot = tuple(sorted((d, float(v)) for d, v in dict(potency or {}).items()))
    cond = Condition(prof, reg, pot)
    cond.parameters  # noqa: B018 - validates potencies now
    return cond


def condition_model(condition: Condition) -> Any:
    """A copy of the engine model with the condition applied (to export or for MaBoSS)."""
    model = load_model().engine.copy()
    model.parameters.update(condition.parameters)
    return model.with_initial(condition.initial)


def model_files(
    profile: Any = None,
    regimen: Iterable[str] | str | None = None,
    *,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    potency: Mapping[str, float] | None = None,
    max_time: float = MAX_TIME,
    threads: int = 1,
) -> tuple[str, str]:
    """The MaBoSS ``(.bnd, .cfg)`` texts for a profile and a regimen: run them anywhere.

    Parameters
    ----------
    profile : optional
        Any form :func:`normalize_profile` accepts (default: no mechanism).
    regimen : iterable of str, str or None, optional
        Any form :func:`normalize_regimen` accepts (default: untreated).
    samples : int, optional
        ``sample_count`` to write (default 2000).
    seed : int, optional
        ``seed_pseudorandom`` to write (default :data:`her2lab.seeds.DEFAULT_SEED`).
    potency : mapping of str to float, optional
        Drug ID -> graded efficacy in [0, 1] overriding the shipped one.
    max_time : float, optional
        Simulated days (default 30).
    threads : int, optional
        ``thread_count`` to write (default 1).

    Returns
    -------
    tuple of (str, str)
        The network and configuration texts.

    Raises
    ------
    UnknownIdError
        If a mechanism or drug is unknown.
    SimulationError
        If a degree or potency is outside [0, 1].
    """
    from her2lab.boolnet import format_maboss

    model = condition_model(_condition(profile, regimen, potency))
    return format_maboss(model, sample_count=samples, max_time=max_time, time_tick=TIME_TICK,
                         thread_count=threads, seed_pseudorandom=seed, discrete_time=0,
                         use_physrandgen=0)


@cache
def simulator(samples: int, max_time: float = MAX_TIME) -> Any:
    """The engine's simulator that every boolnet run of the pathway layer uses (made once per
    ``samples`` and ``max_time``): one-day windows, :data:`CHUNKS` chunks, no final states, no
    joint states, and the read-out nodes (:data:`~her2lab.pathway.response.READ_NODES`,
    which no other node reads) integrated rather than sampled. Run it with
    :func:`stream_seed` and a condition's overrides for the numbers :func:`simulate` gives."""
    from her2lab.boolnet import StochasticSimulator

    # the read-out nodes are read by no other node: their P(ON) is integrated along each
    # trajectory, not sampled (StochasticSimulator's ``integrate``); no joint states are kept
    return StochasticSimulator(load_model().engine, samples=samples, max_time=max_time,
                               time_tick=TIME_TICK, threads=CHUNKS, chunks=CHUNKS,
                               outputs=[], keep_final_states=False,
                               integrate=list(READ_NODES))


def stream_seed(cond: Condition, seed: int) -> int:
    """The engine's seed for ``cond`` under ``seed``: a hash of the seed and the condition's
    tumor profile (its initial states, HR status included; 63 bits), so each profile draws from
    its own stream, shared by every regimen and potency run on it.

    Not one stream for every condition: a continuous-time chain's trajectories part at the
    first event whose rate a drug or a mechanism changes, so runs sharing a stream gain little
    in their differences, while their errors stay correlated across the profiles of a panel
    and do not average out over it. Not one stream per condition either: the regimens of one
    profile do gain from sharing it (a drug received before against the same regimen without
    it: the acquired-resistance parameter). Measured (``bench/streams.py``, 6 seeds, 312
    trajectories per run): the mean squared Monte Carlo SD of the calibration's 28 targets, in
    units of their SEs, is 0.057 with one stream, 0.033 with one per profile, 0.021 with one per
    condition; and across three cold calibrations at 5,000 trajectories (the default seed, 1, 2)
    the largest range of a fitted parameter was 0.25 of its SE with one stream (TKI offset),
    0.29 with one per condition (resistance) and 0.22 with one per profile (log kill; the TKI
    offset 0.08, resistance 0.10).

    Parameters
    ----------
    cond : Condition
        The condition (only its profile's initial states enter).
    seed : int
        The run's seed.

    Returns
    -------
    int
        A seed in ``[0, 2**63)``.
    """
    import hashlib
    import json

    spec = json.dumps({"s": int(seed), "i": cond.initial}, sort_keys=True)
    return int.from_bytes(hashlib.sha256(spec.encode()).digest()[:8], "little") >> 1


def _run_boolnet(conds: Sequence[Condition], samples: int, seed: int,
                 max_time: float) -> list[Any]:
    sim = simulator(samples, max_time)
    seeds = [stream_seed(c, seed) for c in conds]
    if len(conds) == 1:
        return [sim.run(seed=seeds[0], overrides=conds[0].overrides())]
    return sim.run_batch([c.overrides() for c in conds], seeds=seeds)


def _run_maboss(cond: Condition, samples: int, seed: int, max_time: float) -> Any:
    from her2lab.boolnet.reference import run_maboss

    # MaBoSS's seed_pseudorandom is a C int: the condition's stream seed, reduced to 31 bits
    return run_maboss(condition_model(cond), samples=samples, max_time=max_time,
                      time_tick=TIME_TICK, seed=stream_seed(cond, seed) % 2**31, threads=1,
                      outputs=list(READ_NODES))


def _payload(res: Any) -> dict[str, Any]:
    """What a run leaves for the read-outs (and the cache): window times, P(ON) per window of
    the read-out nodes, and each node's mean over the read-out window."""
    from her2lab.pathway.response import T0

    times = [float(t) for t in res.times]
    k0 = next((k for k, t in enumerate(times) if t >= T0 - 1e-9), 0)
    probs = res.node_probabilities
    names = list(res.node_names)
    mean = probs[k0:].mean(axis=0)
    return {
        "times": times,
        "traj": {n: [float(x) for x in probs[:, names.index(n)]] for n in READ_NODES},
        "mean": {n: float(v) for n, v in zip(names, mean, strict=True)},
    }


@cache
def _fingerprint() -> str:
    return engine_fingerprint()


def _key(cond: Condition, samples: int, seed: int, max_time: float, backend: str) -> str:
    import json

    # "streams": a stream per tumor profile (stream_seed); results of the one shared stream
    # before are not reused; "read-outs": boolnet integrates them (simulator), results that
    # sampled them are not reused
    extra = {"read-outs": "integrated"} if backend == "boolnet" else {}
    spec = json.dumps({"p": cond.parameters, "i": cond.initial, "n": samples, "s": seed,
                       "t": max_time, "streams": "profile", **extra}, sort_keys=True)
    return cache_key(load_model().digest, spec, backend, _fingerprint())


def _result(cond: Condition, payload: Mapping[str, Any], samples: int, seed: int,
            cached: bool) -> Result:
    times = tuple(payload["times"])
    traj = {n: tuple(v) for n, v in payload["traj"].items()}
    rates, phenotypes, course = rates_from_time_course(traj, times, samples)
    return Result(
        profile=cond.profile.mechanisms, regimen=cond.regimen, phenotypes=phenotypes,
        response=response(rates), response_se=response_se(rates), samples=samples, seed=seed,
        rates=rates, time_course=course, nodes=dict(payload["mean"]),
        degrees=dict(cond.profile.degrees), hr_positive=cond.profile.hr_positive,
        cached=cached,
    )


def simulate_many(
    pairs: Iterable[tuple[Any, Any]],
    *,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    potency: Mapping[str, float] | None = None,
    max_time: float = MAX_TIME,
    backend: Backend = "boolnet",
    cache: ResultCache | bool = True,
) -> list[Result]:
    """:func:`simulate` for many ``(profile, regimen)`` pairs, results in the order given.

    Conditions not in the cache run together on the one compiled model (in one batch where the
    engine offers it). Each result equals the one :func:`simulate` gives for the same pair.

    Parameters
    ----------
    pairs : iterable of (profile, regimen)
        Each in any form :func:`simulate` accepts.
    samples : int, optional
        Trajectories per condition, >= 1 (default 2000).
    seed : int, optional
        The seed (default :data:`her2lab.seeds.DEFAULT_SEED`); each tumor profile draws from
        its own stream derived from it (:func:`stream_seed`).
    potency : mapping of str to float, optional
        Drug ID -> graded efficacy in [0, 1], for every pair.
    max_time : float, optional
        Simulated days (default 30).
    backend : {"boolnet", "maboss"}, optional
        The engine: her2lab's own (default) or MaBoSS through cmaboss.
    cache : ResultCache or bool, optional
        True (default) uses the on-disk cache, False bypasses it, a :class:`ResultCache`
        chooses its directory.

    Returns
    -------
    list of Result
        One result per pair, in order.

    Raises
    ------
    SimulationError
        If ``samples`` is not a positive int, ``backend`` is unknown, or a degree or potency is
        outside [0, 1].
    UnknownIdError
        If a mechanism or drug is unknown.
    """
    if not isinstance(samples, int) or samples < 1:
        raise SimulationError(f"samples must be a positive integer; got {samples!r} instead")
    if backend not in BACKENDS:
        raise SimulationError(f"backend must be one of {list(BACKENDS)}; got {backend!r} instead")
    conds = [_condition(p, r, potency) for p, r in pairs]
    store = cache if isinstance(cache, ResultCache) else ResultCache() if cache else None
    keys = [_key(c, samples, seed, max_time, backend) for c in conds]
    payloads: dict[str, dict[str, Any]] = {}
    hits: set[str] = set()
    if store is not None:
        payloads.update(store.get_many(list(dict.fromkeys(keys))))
        hits.update(payloads)
    todo = [(k, c) for k, c in dict(zip(keys, conds, strict=True)).items() if k not in payloads]
    if todo:
        if backend == "maboss":
            runs = [_run_maboss(c, samples, seed, max_time) for _, c in todo]
        else:
            runs = _run_boolnet([c for _, c in todo], samples, seed, max_time)
        for (k, _), res in zip(todo, runs, strict=True):
            payloads[k] = _payload(res)
        if store is not None:  # one transaction for the batch
            store.put_many([(k, payloads[k], c.profile.label(), "+".join(c.regimen) or "none",
                             samples, seed, backend) for k, c in todo])
    return [_result(c, payloads[k], samples, seed, k in hits) for k, c in
            zip(keys, conds, strict=True)]


def simulate(
    profile: Any = None,
    regimen: Iterable[str] | str | None = None,
    *,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    potency: Mapping[str, float] | None = None,
    hr_positive: bool | float | None = None,
    max_time: float = MAX_TIME,
    backend: Backend = "boolnet",
    cache: ResultCache | bool = True,
) -> Result:
    """Simulate a regimen on a tumor with a profile: rates, phenotypes and the response.

    Parameters
    ----------
    profile : optional
        Any form :func:`normalize_profile` accepts (``"pten_loss=0.6,p95her2"``, a mapping, a
        :class:`Profile`); default: no mechanism.
    regimen : iterable of str, str or None, optional
        Any form :func:`normalize_regimen` accepts (``"trastuzumab+pertuzumab"``); default:
        untreated.
    samples : int, optional
        Trajectories, >= 1 (default 2000).
    seed : int, optional
        The seed (default :data:`her2lab.seeds.DEFAULT_SEED`); the engine runs the condition
        from the stream :func:`stream_seed` derives from it and the profile.
    potency : mapping of str to float, optional
        Drug ID -> graded efficacy in [0, 1] overriding the shipped one
        (``{"trastuzumab": 0.7}``).
    hr_positive : bool or float, optional
        HR status (a bool or a degree in [0, 1]) over the profile's.
    max_time : float, optional
        Simulated days (default 30); the read-out window is its end.
    backend : {"boolnet", "maboss"}, optional
        The engine: her2lab's own (default) or MaBoSS through cmaboss.
    cache : ResultCache or bool, optional
        True (default) uses the on-disk cache, False bypasses it, a :class:`ResultCache`
        chooses its directory.

    Returns
    -------
    Result
        Rates, phenotypes, the response and its standard-error bound.

    Raises
    ------
    SimulationError
        If ``samples`` is not a positive int, ``backend`` is unknown, or a degree or potency is
        outside [0, 1].
    UnknownIdError
        If a mechanism or drug is unknown.
    """
    prof = normalize_profile(profile, hr_positive)
    return simulate_many([(prof, regimen)], samples=samples, seed=seed, potency=potency,
                         max_time=max_time, backend=backend, cache=cache)[0]
