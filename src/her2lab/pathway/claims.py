"""The seed's mechanistic statements as executable expectations (``data/claims.yaml``).

Each claim is a **contrast** of simulated conditions: a sum of conditions counted ``+`` minus a
sum counted ``-`` (a condition is ``"profile | regimen"``, e.g. ``"pten_loss |
trastuzumab+everolimus"``), measured on one read-out (``response``, a phenotype, or any model
node as ``node:S6``), and an expected ``direction``:

``greater``  the contrast is above zero;  ``less``  below zero;
``similar``  it lies within ``± tolerance``.

A plain comparison has one ``+`` and one ``-`` condition; an interaction ("PTEN loss blunts
trastuzumab") has two of each: (mechanism, drug) - (mechanism, none) - (none, drug) + (none,
none).

**Margins from the sample count.** Every condition is simulated with ``n`` trajectories
(``samples``, default :data:`CLAIM_SAMPLES`). A phenotype probability then has standard error
``sqrt(p (1 - p) / n)``, and the response the bound of
:func:`her2lab.pathway.response.response_se`. The contrast's standard error is at most the sum
of the standard errors of its conditions (the triangle inequality holds whatever the
correlation between runs, and all conditions share one seed). The margin is ``k = 3`` times
that bound: a claim *passes* when the contrast clears zero by more than the margin in the
expected direction (``similar``: when contrast ± margin lies inside ± tolerance), is
*contradicted* when it clears zero by the margin the other way, and is *inconclusive*
otherwise. With ``n = 2000`` a single probability has SE <= 0.011, so a two-condition contrast
on a phenotype has a margin of at most 0.067 and a four-condition interaction one of 0.13;
the claims are written so that the effects they state are larger than that, or they ask for
more samples.

A claim the model does not reproduce stays in the file with ``expected: miss`` and a ``note``
saying why; the test suite checks that each claim's status is still the one recorded.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from her2lab.errors import DataError, Problem, ValidationError
from her2lab.pathway.drugs import DRUGS, normalize_regimen
from her2lab.pathway.mechanisms import MECHANISMS, Profile, normalize_profile
from her2lab.pathway.response import KILL_SOURCES, PHENOTYPES
from her2lab.pathway.simulate import DEFAULT_SEED, Result, simulate, simulate_many

__all__ = [
    "CLAIM_SAMPLES",
    "K_SIGMA",
    "Claim",
    "ClaimOutcome",
    "Condition",
    "batch_runner",
    "evaluate",
    "evaluate_all",
    "load_claims",
]

CLAIM_SAMPLES = 2000
K_SIGMA = 3.0

Direction = Literal["greater", "less", "similar"]
Status = Literal["pass", "inconclusive", "contradicted"]


@dataclass(frozen=True)
class Condition:
    profile: Profile
    regimen: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Condition:
        if text.count("|") != 1:
            raise DataError(
                f"a condition must read 'profile | regimen' (e.g. 'pten_loss | trastuzumab'); "
                f"got {text!r}"
            )
        prof, reg = (t.strip() for t in text.split("|"))
        return cls(normalize_profile(prof), normalize_regimen(reg))

    def __str__(self) -> str:
        return f"{self.profile.label()} | {'+'.join(self.regimen) or 'none'}"


@dataclass(frozen=True)
class Claim:
    id: str
    statement: str
    locator: str
    refs: tuple[int, ...]
    readout: str
    plus: tuple[Condition, ...]
    minus: tuple[Condition, ...]
    direction: Direction
    tolerance: float = 0.0
    samples: int = CLAIM_SAMPLES
    expected: Literal["pass", "miss"] = "pass"
    note: str = ""
    mechanisms: tuple[str, ...] = field(default=())
    drugs: tuple[str, ...] = field(default=())

    @property
    def conditions(self) -> tuple[Condition, ...]:
        return self.plus + self.minus


@dataclass(frozen=True)
class ClaimOutcome:
    claim: Claim
    value: float
    margin: float
    status: Status

    @property
    def as_expected(self) -> bool:
        return (self.status == "pass") == (self.claim.expected == "pass")

    def to_row(self) -> dict[str, Any]:
        c = self.claim
        return {
            "id": c.id,
            "readout": c.readout,
            "direction": c.direction,
            "contrast": round(self.value, 4),
            "margin": round(self.margin, 4),
            "status": self.status,
            "expected": c.expected,
            "as_expected": self.as_expected,
            "samples": c.samples,
            "locator": c.locator,
            "refs": list(c.refs),
            "note": c.note,
        }


_RATE_READOUTS = {"growth", "total_kill", *(f"kill:{s}" for s in KILL_SOURCES)}
_READOUTS = set(PHENOTYPES) | {"response"} | _RATE_READOUTS


def _readout(result: Result, readout: str) -> tuple[float, float]:
    """Value and standard-error bound of a read-out of one simulation."""
    n = result.samples
    if readout == "response":
        return result.response, result.response_se
    rates = result.rates
    if readout == "growth":
        return rates.growth, rates.se["growth"]
    if readout == "total_kill":
        return rates.total_kill, sum(rates.se[s] for s in rates.kill)
    if readout.startswith("kill:"):
        return rates.kill[readout[5:]], rates.se[readout[5:]]
    if readout in PHENOTYPES:
        p = result.phenotypes[readout]
    elif readout.startswith("node:"):
        p = result.nodes[readout[5:]]
    else:  # pragma: no cover - validated at load time
        raise DataError(f"unknown read-out {readout!r}")
    q = min(max(p, 1.0 / n), 1.0 - 1.0 / n)
    return p, math.sqrt(q * (1.0 - q) / n)


def _status(direction: Direction, value: float, margin: float, tol: float) -> Status:
    if direction == "greater":
        return "pass" if value > margin else "contradicted" if value < -margin else "inconclusive"
    if direction == "less":
        return "pass" if value < -margin else "contradicted" if value > margin else "inconclusive"
    if abs(value) + margin <= tol:
        return "pass"
    return "contradicted" if abs(value) - margin > tol else "inconclusive"


Runner = Callable[[Condition, int], Result]


def default_runner(seed: int = DEFAULT_SEED, **kw: Any) -> Runner:
    def run(cond: Condition, samples: int) -> Result:
        return simulate(cond.profile, cond.regimen, samples=samples, seed=seed, **kw)

    return run


def batch_runner(claims: Iterable[Claim], seed: int = DEFAULT_SEED, **kw: Any) -> Runner:
    """A runner that simulates every condition of ``claims`` up front (:func:`simulate_many`,
    one batch per sample count) and then answers from memory."""
    by_n: dict[int, list[Condition]] = {}
    for c in claims:
        by_n.setdefault(c.samples, []).extend(c.conditions)
    memo: dict[tuple[Condition, int], Result] = {}
    for n, conds in by_n.items():
        uniq = list(dict.fromkeys(conds))
        results = simulate_many([(c.profile, c.regimen) for c in uniq], samples=n, seed=seed,
                                **kw)
        memo.update({(c, n): r for c, r in zip(uniq, results, strict=True)})
    fallback = default_runner(seed, **kw)

    def run(cond: Condition, samples: int) -> Result:
        got = memo.get((cond, samples))
        return got if got is not None else fallback(cond, samples)

    return run


def evaluate(claim: Claim, run: Runner | None = None) -> ClaimOutcome:
    """Simulate the conditions of ``claim`` and judge it (see the module docstring)."""
    run = run or default_runner()
    value, se = 0.0, 0.0
    for sign, conds in ((1.0, claim.plus), (-1.0, claim.minus)):
        for cond in conds:
            v, s = _readout(run(cond, claim.samples), claim.readout)
            value += sign * v
            se += s
    margin = K_SIGMA * se
    return ClaimOutcome(claim, value, margin, _status(claim.direction, value, margin,
                                                       claim.tolerance))


def evaluate_all(claims: Iterable[Claim] | None = None,
                 run: Runner | None = None) -> list[ClaimOutcome]:
    """Judge ``claims`` (default: the shipped ones); without ``run``, in one batch."""
    todo = list(load_claims() if claims is None else claims)
    run = run or batch_runner(todo)
    return [evaluate(c, run) for c in todo]


def _as_list(v: Any) -> list[Any]:
    return [] if v is None else list(v) if isinstance(v, list | tuple) else [v]


def parse_claims(records: list[dict[str, Any]], source: str = "claims.yaml") -> list[Claim]:
    """Validate claim records; every problem is reported at once."""
    problems: list[Problem] = []
    claims: list[Claim] = []
    seen: set[str] = set()
    allowed = {"id", "statement", "locator", "refs", "readout", "plus", "minus", "direction",
               "tolerance", "samples", "expected", "note"}
    for k, rec in enumerate(records):
        cid = str(rec.get("id", f"#{k + 1}"))
        before = len(problems)

        def bad(fld: str, expected: str, found: Any, cid: str = cid) -> None:
            problems.append(Problem(source, f"{cid}.{fld}", expected, repr(found)))

        extra = set(rec) - allowed
        if extra:
            bad("(fields)", f"only {sorted(allowed)}", sorted(extra))
        if cid in seen:
            bad("id", "a unique id", cid)
        seen.add(cid)
        for fld in ("statement", "locator"):
            if not isinstance(rec.get(fld), str) or len(rec.get(fld, "")) < 3:
                bad(fld, "a non-empty string", rec.get(fld))
        readout = rec.get("readout")
        if readout not in _READOUTS and not (isinstance(readout, str)
                                              and readout.startswith("node:")):
            bad("readout", f"one of {sorted(_READOUTS)} or node:NAME", readout)
        direction = rec.get("direction")
        if direction not in ("greater", "less", "similar"):
            bad("direction", "greater, less or similar", direction)
        if direction == "similar" and not rec.get("tolerance", 0) > 0:
            bad("tolerance", "a positive tolerance for a 'similar' claim", rec.get("tolerance"))
        if rec.get("expected", "pass") not in ("pass", "miss"):
            bad("expected", "pass or miss", rec.get("expected"))
        if rec.get("expected") == "miss" and not rec.get("note"):
            bad("note", "an explanation for an expected miss", rec.get("note"))
        conds: dict[str, tuple[Condition, ...]] = {}
        for side in ("plus", "minus"):
            try:
                conds[side] = tuple(Condition.parse(t) for t in _as_list(rec.get(side)))
            except (DataError, KeyError) as exc:
                bad(side, "conditions 'profile | regimen' with known IDs", str(exc))
                conds[side] = ()
        if not conds["plus"] or not conds["minus"]:
            bad("plus/minus", "at least one condition on each side", rec.get("plus"))
        if len(problems) > before:
            continue
        from her2lab.pathway.model import load_model

        if readout.startswith("node:") and readout[5:] not in load_model().nodes:
            bad("readout", "a node of the HER2 model", readout)
            continue
        allc = conds["plus"] + conds["minus"]
        claims.append(Claim(
            id=cid, statement=rec["statement"], locator=rec["locator"],
            refs=tuple(int(r) for r in _as_list(rec.get("refs"))), readout=readout,
            plus=conds["plus"], minus=conds["minus"], direction=direction,
            tolerance=float(rec.get("tolerance", 0.0)),
            samples=int(rec.get("samples", CLAIM_SAMPLES)),
            expected=rec.get("expected", "pass"), note=rec.get("note", ""),
            mechanisms=tuple(sorted({m for c in allc for m in c.profile.mechanisms})),
            drugs=tuple(sorted({d for c in allc for d in c.regimen})),
        ))
    if problems:
        raise ValidationError(problems, f"{len(problems)} problem(s) in {source}")
    return claims


@cache
def _load_shipped() -> tuple[Claim, ...]:
    text = (resources.files("her2lab.pathway") / "data" / "claims.yaml").read_text("utf-8")
    return tuple(parse_claims(yaml.safe_load(text) or [], "claims.yaml"))


def load_claims() -> list[Claim]:
    """The shipped claims (validated)."""
    return list(_load_shipped())


def coverage(claims: Iterable[Claim]) -> dict[str, set[str]]:
    """Mechanisms and drugs exercised by ``claims`` (for the coverage test)."""
    claims = list(claims)
    return {
        "mechanisms": {m for c in claims for m in c.mechanisms} & set(MECHANISMS),
        "drugs": {d for c in claims for d in c.drugs} & set(DRUGS),
    }
