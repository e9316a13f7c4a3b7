"""Resistance mechanisms and hormone-receptor status: a tumor profile (``data/perturbations.yaml``).

A mechanism is a **degree** in [0, 1], the share of the tumor's cells that carry it (a subclone
fraction or a penetrance), not a knock-out: in the model it is the P(ON) at t = 0 of its profile
node ``M_<id>``, which never changes during a run, so a trajectory stands for a cell of the
subclone with that probability and a partial escape gives a partial loss of response.
Mechanisms are drawn independently per cell. ``hr_positive`` (a bool or a degree) is an
attribute of the profile in the same way (node ``HR_pos``).

A profile is given as

- a name: ``"none"`` (a HER2-amplified tumor with no named mechanism) or mechanism IDs/aliases
  joined by ``,``, each optionally with a degree (``"pten_loss=0.6,p95her2"``); ``hr_positive``
  (or ``hr_positive=0.5``) may be one of the items;
- a list of such items, or a mapping ``{"pten_loss": 0.6, "hr_positive": True}``;
- a :class:`Profile`.

A named mechanism without a degree takes its default degree from the file (1.0 today).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from her2lab.errors import SimulationError, UnknownIdError
from her2lab.pathway.perturbations import load_perturbations

__all__ = [
    "ATTRIBUTES",
    "HR_ATTRIBUTE",
    "MECHANISMS",
    "MechanismModel",
    "Profile",
    "normalize_profile",
    "resolve_mechanism",
]

HR_ATTRIBUTE = "hr_positive"
ATTRIBUTES: tuple[str, ...] = tuple(load_perturbations().attributes)
"""Profile attributes besides mechanisms (``hr_positive``)."""


@dataclass(frozen=True)
class MechanismModel:
    id: str
    node: str
    degree: float
    why: str
    refs: tuple[int, ...] = ()


def _build() -> dict[str, MechanismModel]:
    data = load_perturbations()
    return {mid: MechanismModel(mid, s.node, s.degree, s.why, tuple(s.refs))
            for mid, s in data.mechanisms.items()}


MECHANISMS: dict[str, MechanismModel] = _build()
"""Mechanism ID -> its model, in the order of ``perturbations.yaml``."""


def hr_node() -> str:
    return load_perturbations().attributes[HR_ATTRIBUTE].node


@dataclass(frozen=True)
class Profile:
    """A tumor profile: degrees of mechanisms and hormone-receptor positivity.

    Build one with :func:`normalize_profile`, which resolves names and checks degrees.

    Attributes
    ----------
    degrees : tuple of (str, float)
        ``(mechanism ID, degree)`` for the mechanisms present (degree > 0), sorted by ID; a
        degree in (0, 1] is the share of the tumor's cells that carry the mechanism.
    hr_positive : float
        Degree of hormone-receptor positivity, in [0, 1] (default 0: HR-negative).
    """

    degrees: tuple[tuple[str, float], ...] = ()
    hr_positive: float = 0.0

    @property
    def mechanisms(self) -> tuple[str, ...]:
        return tuple(m for m, _ in self.degrees)

    def degree(self, mechanism: str) -> float:
        """The degree of one mechanism in this profile.

        Parameters
        ----------
        mechanism : str
            A mechanism ID (``pten_loss``).

        Returns
        -------
        float
            Its degree in [0, 1]; 0.0 when the profile lacks it.
        """
        return dict(self.degrees).get(mechanism, 0.0)

    def initial(self) -> dict[str, float]:
        """P(ON) at t = 0 of every profile node.

        Returns
        -------
        dict of str to float
            ``M_<mechanism>`` node -> degree (0 for mechanisms absent), and ``HR_pos`` ->
            ``hr_positive``.
        """
        out = {m.node: 0.0 for m in MECHANISMS.values()}
        for mid, d in self.degrees:
            out[MECHANISMS[mid].node] = d
        out[hr_node()] = self.hr_positive
        return out

    def __iter__(self):  # type: ignore[no-untyped-def]
        """The mechanism IDs present (so a profile unpacks like the tuple it used to be)."""
        return iter(self.mechanisms)

    def __len__(self) -> int:
        return len(self.degrees)

    def label(self) -> str:
        """The profile as text, the form :func:`normalize_profile` reads back.

        Returns
        -------
        str
            ``pten_loss=0.6,p95her2`` (a default degree is not written; ``hr_positive`` appended
            when set); ``none`` if empty.
        """
        items = [m if d == MECHANISMS[m].degree else f"{m}={d:g}" for m, d in self.degrees]
        if self.hr_positive:
            items.append(HR_ATTRIBUTE if self.hr_positive == 1 else
                         f"{HR_ATTRIBUTE}={self.hr_positive:g}")
        return ",".join(items) or "none"

    def __str__(self) -> str:
        return self.label()


def _degree(value: Any, what: str) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    try:
        d = float(value)
    except (TypeError, ValueError):
        raise SimulationError(
            f"the degree of {what} must be a number in [0, 1] or a bool; got {value!r} instead"
        ) from None
    if not (math.isfinite(d) and 0.0 <= d <= 1.0):
        raise SimulationError(f"the degree of {what} must lie in [0, 1]; got {value!r} instead")
    return d


def resolve_mechanism(name: str) -> str:
    """A mechanism ID from an ID or an alias of the knowledge base (case-insensitive)."""
    low = name.strip().lower()
    if low in MECHANISMS:
        return low
    from her2lab.knowledge import load as load_kb

    try:
        mid = load_kb().mechanism(name).id
    except UnknownIdError:
        raise UnknownIdError("mechanism", name, [*MECHANISMS, HR_ATTRIBUTE, "none"]) from None
    if mid not in MECHANISMS:
        raise UnknownIdError("mechanism with a model setting", name, list(MECHANISMS))
    return mid


def _items(profile: Any) -> list[tuple[str, Any]]:
    if isinstance(profile, str):
        if not profile.strip():
            raise SimulationError("a profile must name mechanisms, comma-separated "
                                  "(pten_loss=0.6,hr_positive), or be 'none'; got an empty "
                                  "string")
        parts = profile.split(",")
        if any(not p.strip() for p in parts):
            raise SimulationError(f"profile {profile!r}: an empty item between commas; "
                                  "expected MECHANISM[=DEGREE],... or 'none'")
        profile = parts
    if isinstance(profile, Mapping):
        return [(str(k), v) for k, v in profile.items()]
    out: list[tuple[str, Any]] = []
    for item in profile:
        if not isinstance(item, str):
            raise SimulationError(
                f"a profile item must be a mechanism ID (optionally ID=degree); got {item!r}"
            )
        name, sep, value = item.partition("=")
        out.append((name, value.strip() if sep else None))
    return out


def normalize_profile(
    profile: Profile | Mapping[str, Any] | Iterable[str] | str | None,
    hr_positive: bool | float | None = None,
) -> Profile:
    """Resolve any accepted form of a profile (see the module docstring) to a :class:`Profile`.

    Parameters
    ----------
    profile : Profile, mapping, iterable of str, str or None
        ``"none"``/None, mechanism IDs or aliases joined by ``,`` each optionally with a degree
        (``"pten_loss=0.6,p95her2"``), a list of such items, a mapping
        ``{"pten_loss": 0.6, "hr_positive": True}``, or a :class:`Profile`. A mechanism without
        a degree takes its default degree from ``perturbations.yaml``.
    hr_positive : bool or float, optional
        HR positivity (a bool or a degree in [0, 1]); when given it overrides an
        ``hr_positive`` item of ``profile``.

    Returns
    -------
    Profile
        The profile, mechanisms sorted.

    Raises
    ------
    UnknownIdError
        If a mechanism is unknown (the valid IDs are listed).
    SimulationError
        If a degree is outside [0, 1] or the text is malformed.
    """
    if isinstance(profile, Profile):
        base = profile
    else:
        degrees: dict[str, float] = {}
        given: dict[str, float] = {}
        hr = 0.0
        for name, value in _items(profile or ()):
            key = name.strip()
            if key.lower() in ("none", ""):
                continue
            if key.lower() == HR_ATTRIBUTE:
                mid, degree = HR_ATTRIBUTE, 1.0 if value is None else _degree(value, HR_ATTRIBUTE)
            else:
                mid = resolve_mechanism(key)
                degree = MECHANISMS[mid].degree if value is None else _degree(value, mid)
            if mid in given and given[mid] != degree:
                raise SimulationError(
                    f"profile: {mid} is given twice with different degrees ({given[mid]:g} and "
                    f"{degree:g}); give each mechanism once")
            given[mid] = degree
            if mid == HR_ATTRIBUTE:
                hr = degree
            else:
                degrees[mid] = degree
        base = Profile(tuple(sorted((m, d) for m, d in degrees.items() if d > 0)), hr)
    if hr_positive is not None:
        base = Profile(base.degrees, _degree(hr_positive, HR_ATTRIBUTE))
    return base
