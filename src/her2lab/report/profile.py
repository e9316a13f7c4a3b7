"""A tumor profile for the strategy report: mechanisms with degrees, biomarkers, attributes.

Two ways to write one:

- compact, on the command line: ``pten_loss,p95her2:0.5,hr_positive,trastuzumab_pretreated``
  (``name`` alone means present, degree 1; ``name:0.5`` or ``name=0.5`` gives a degree;
  ``none`` is the empty profile of a trastuzumab-sensitive, HER2-amplified tumor);
- a YAML file: a mapping ``{pten_loss: true, p95her2: 0.5, hr_positive: yes}`` or a list
  ``[pten_loss, {p95her2: 0.5}]``.

Names:

``mechanisms``  the resistance mechanisms of the pathway model (:data:`her2lab.pathway.
                MECHANISMS`, aliases of the knowledge base accepted), each with a degree in
                [0, 1] (the share of the mechanism's effect; 0 is absent);
``biomarkers``  biomarkers of the knowledge base (``pten_low``, ``ps6_high``, ...): present or
                absent; one that measures a modelled mechanism (:data:`BIOMARKER_MECHANISM`)
                sets that mechanism, and a mechanism sets its biomarker, so that subgroup
                results of trials (BOLERO-3's PTEN-low subgroup) match either spelling;
``attributes``  ``hr_positive`` (hormone-receptor positive; a degree, as the pathway model
                takes it) and ``trastuzumab_pretreated`` (yes or no).

Anything else, a degree outside [0, 1] or a degree on a yes/no name raises
:class:`~her2lab.errors.ValidationError` naming the item, where it was and what was expected.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from her2lab.errors import Problem, UnknownIdError, ValidationError

__all__ = ["ATTRIBUTES", "BIOMARKER_MECHANISM", "HER2_BIOMARKER", "Profile", "parse_profile"]

ATTRIBUTES = {
    "hr_positive": "degree",
    "trastuzumab_pretreated": "flag",
}
"""Profile attributes that are not mechanisms: how each is given (a degree or a yes/no flag)."""

BIOMARKER_MECHANISM = {
    "pten_low": "pten_loss",
    "pik3ca_mutant": "pik3ca_mutation",
    "pd_l1_positive": "pd_l1_high",
}
"""Knowledge-base biomarkers whose positive result is the presence of a modelled mechanism.

``tils_high`` is kept out on purpose: it measures ``immune_cold`` but its positive result is
the mechanism's absence."""

HER2_BIOMARKER = "her2_status"
"""The knowledge base's HER2 biomarker: the report's scope. Giving it as absent is refused."""

_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}


@dataclass(frozen=True)
class Profile:
    """A parsed tumor profile. Mechanism and biomarker IDs are the knowledge base's.

    Build one with :func:`parse_profile`.

    Attributes
    ----------
    mechanisms : mapping of str to float
        Mechanism ID -> degree in (0, 1] (the share of the mechanism's effect).
    biomarkers : tuple of str
        Biomarker IDs present (``pten_low``), including those a mechanism implies.
    hr_positive : float
        Hormone-receptor positivity, a degree in [0, 1] (default 0).
    trastuzumab_pretreated : bool or None
        Whether the tumor has been treated with trastuzumab (None: not said).
    source : str
        Where the profile came from (the compact text or the file), for messages.
    """

    mechanisms: Mapping[str, float] = field(default_factory=dict)
    """Mechanism ID -> degree in (0, 1] (absent mechanisms are left out)."""
    biomarkers: tuple[str, ...] = ()
    """Positive biomarkers, given or implied by a mechanism (sorted)."""
    hr_positive: float = 0.0
    trastuzumab_pretreated: bool | None = None
    source: str = ""

    def label(self) -> str:
        """The profile in the compact syntax (canonical IDs, degrees below 1 written).

        Returns
        -------
        str
            ``pten_loss,p95her2:0.5,hr_positive``; ``none`` for the empty profile.
        """
        items = [m if d >= 1 else f"{m}:{d:g}" for m, d in sorted(self.mechanisms.items())]
        items += [b for b in self.biomarkers if b not in _implied_by(self.mechanisms)]
        if self.hr_positive:
            items.append("hr_positive" if self.hr_positive >= 1
                         else f"hr_positive:{self.hr_positive:g}")
        if self.trastuzumab_pretreated is not None:
            items.append("trastuzumab_pretreated" if self.trastuzumab_pretreated
                         else "trastuzumab_pretreated:no")
        return ",".join(items) or "none"

    def pathway_profile(self) -> dict[str, float]:
        """What :func:`her2lab.pathway.simulate` takes: mechanism -> degree.

        Returns
        -------
        dict of str to float
            The mechanisms and their degrees, sorted by ID.
        """
        return dict(sorted(self.mechanisms.items()))

    @property
    def mechanism_ids(self) -> tuple[str, ...]:
        return tuple(sorted(self.mechanisms))

    def to_dict(self) -> dict[str, Any]:
        """The profile as a JSON-ready dict.

        Returns
        -------
        dict
            ``label``, ``mechanisms``, ``biomarkers``, ``hr_positive`` and
            ``trastuzumab_pretreated``.
        """
        return {"label": self.label(), "mechanisms": dict(sorted(self.mechanisms.items())),
                "biomarkers": list(self.biomarkers), "hr_positive": self.hr_positive,
                "trastuzumab_pretreated": self.trastuzumab_pretreated}


def _implied_by(mechanisms: Mapping[str, float]) -> set[str]:
    return {b for b, m in BIOMARKER_MECHANISM.items() if m in mechanisms}


def _degree(value: Any) -> float | None:
    """A degree from a YAML value or compact text; None when it is not one."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if value is None:
        return 1.0
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return 1.0
    if text in _FALSE:
        return 0.0
    try:
        return float(text)
    except ValueError:
        return None


def _known_names() -> tuple[list[str], list[str]]:
    from her2lab.knowledge import load
    from her2lab.pathway import MECHANISMS

    return list(MECHANISMS), [b.id for b in load().biomarkers]


def _resolve(name: str) -> tuple[str, str]:
    """``(kind, id)`` of a profile name: kind is mechanism, biomarker or attribute."""
    from her2lab.knowledge import load
    from her2lab.pathway import MECHANISMS, normalize_profile

    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    if key in ATTRIBUTES:
        return "attribute", key
    if key in MECHANISMS:
        return "mechanism", key
    kb = load()
    try:
        return "biomarker", kb.biomarker(name).id
    except UnknownIdError:
        pass
    try:
        (mid,) = normalize_profile([name])
        return "mechanism", mid
    except (UnknownIdError, ValueError):
        pass
    mechs, biomarkers = _known_names()
    raise UnknownIdError("profile item (mechanism, biomarker or attribute)", name,
                         [*mechs, *biomarkers, *ATTRIBUTES])


def _build(items: list[tuple[str, Any, str, int | None]], source: str) -> Profile:
    """Items are ``(name, raw value, file, line)``; every problem is collected."""
    problems: list[Problem] = []
    mechanisms: dict[str, float] = {}
    biomarkers: set[str] = set()
    negative: dict[str, tuple[str, str, int | None]] = {}
    attrs: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for name, raw, file, line in items:
        try:
            kind, cid = _resolve(str(name))
        except UnknownIdError as exc:
            problems.append(Problem(file, str(name), "a mechanism, biomarker or attribute: "
                                    + ", ".join(exc.valid), repr(str(name)), line))
            continue
        if cid in seen:
            problems.append(Problem(file, str(name), "each item once",
                                    f"a second entry for {cid!r} (first: {seen[cid]!r})", line))
            continue
        seen[cid] = str(name)
        deg = _degree(raw)
        takes_degree = kind == "mechanism" or ATTRIBUTES.get(cid) == "degree"
        if deg is None or not math.isfinite(deg):
            want = "a degree in [0, 1] or yes/no" if takes_degree else "yes or no"
            problems.append(Problem(file, str(name), want, repr(raw), line))
            continue
        if not 0.0 <= deg <= 1.0:
            problems.append(Problem(file, str(name), "a degree in [0, 1]", repr(raw), line))
            continue
        if not takes_degree and deg not in (0.0, 1.0):
            problems.append(Problem(
                file, str(name), f"yes or no ({kind} {cid!r} is present or absent and takes no "
                "degree)", repr(raw), line))
            continue
        if cid == HER2_BIOMARKER and deg == 0:
            problems.append(Problem(
                file, str(name), "a HER2-positive tumor (the report's scope: every trial of "
                "the knowledge base selected HER2-overexpressing or -amplified tumors); leave "
                f"{name!r} out or give it as yes", repr(raw), line))
            continue
        if deg == 0:
            negative[cid] = (str(name), file, line)
        if kind == "mechanism":
            if deg > 0:
                mechanisms[cid] = deg
        elif kind == "biomarker":
            if cid == HER2_BIOMARKER:
                continue  # the scope itself: every profile is HER2-positive
            if deg > 0:
                biomarkers.add(cid)
                m = BIOMARKER_MECHANISM.get(cid)
                if m is not None:
                    mechanisms[m] = max(mechanisms.get(m, 0.0), 1.0)
        else:
            attrs[cid] = deg
    # a biomarker said absent and its mechanism present (or the other way round)
    for b, m in BIOMARKER_MECHANISM.items():
        for off, on in ((b, m), (m, b)):
            if off in negative and (on in mechanisms or on in biomarkers):
                name, file, line = negative[off]
                problems.append(Problem(
                    file, name, f"no contradiction: {b!r} measures the mechanism {m!r}, so "
                    "one cannot be absent while the other is present", "both given", line))
    if problems:
        raise ValidationError(problems, f"the profile {source!r} is not valid")
    biomarkers |= _implied_by(mechanisms)
    pre = attrs.get("trastuzumab_pretreated")
    return Profile(
        mechanisms=mechanisms, biomarkers=tuple(sorted(biomarkers)),
        hr_positive=float(attrs.get("hr_positive", 0.0)),
        trastuzumab_pretreated=None if pre is None else bool(pre), source=source,
    )


def _compact_items(spec: str) -> list[tuple[str, Any, str, int | None]]:
    items = []
    if not spec.strip():
        raise ValidationError([Problem("--profile", "(profile)", "mechanisms, biomarkers and "
                                       "attributes, comma-separated, or 'none'",
                                       "an empty string")], "the profile is empty")
    for part in spec.split(","):
        part = part.strip()
        if not part:
            raise ValidationError([Problem("--profile", "(profile)", "an item between each "
                                           "pair of commas", f"an empty item in {spec!r}")],
                                  f"the profile {spec!r} has an empty item")
        if part.lower() == "none":
            continue
        for sep in (":", "="):
            if sep in part:
                name, value = part.split(sep, 1)
                items.append((name.strip(), value.strip(), "--profile", None))
                break
        else:
            items.append((part, None, "--profile", None))
    return items


def _yaml_items(path: Path) -> list[tuple[str, Any, str, int | None]]:
    from her2lab.yamlio import read_yaml_document

    problems: list[Problem] = []
    file = str(path)
    doc = read_yaml_document(path, file, problems)
    if problems or doc is None:
        raise ValidationError(problems, f"the profile file {file} could not be read")
    data = doc.data
    items: list[tuple[str, Any, str, int | None]] = []
    if data is None:
        return items
    if isinstance(data, Mapping):
        for k, v in data.items():
            items.append((str(k), v, file, doc.line((k,))))
        return items
    if isinstance(data, list):
        for i, entry in enumerate(data):
            if isinstance(entry, str):
                items.append((entry, None, file, doc.line((i,))))
            elif isinstance(entry, Mapping) and len(entry) == 1:
                ((k, v),) = entry.items()
                items.append((str(k), v, file, doc.line((i,))))
            else:
                problems.append(Problem(file, f"[{i}]", "a name or a one-entry mapping "
                                        "name: degree", repr(entry), doc.line((i,))))
        if problems:
            raise ValidationError(problems, f"the profile file {file} is not valid")
        return items
    raise ValidationError([Problem(file, "(document)", "a mapping name: degree or a list of "
                                   "names", type(data).__name__, doc.line(()))],
                          f"the profile file {file} is not valid")


def parse_profile(spec: str | Path | Mapping[str, Any] | Profile | None) -> Profile:
    """A :class:`Profile` from compact text, a YAML file path, a mapping, or a Profile.

    Parameters
    ----------
    spec : str, Path, mapping, Profile or None
        Compact text (``pten_loss,p95her2:0.5,hr_positive,trastuzumab_pretreated``; ``none`` is
        the empty profile); a string or path naming an existing ``.yaml``/``.yml`` file, read
        as a mapping ``{pten_loss: true, p95her2: 0.5}`` or a list; a mapping of the same
        shape; or a :class:`Profile`, returned as it is.

    Returns
    -------
    Profile
        The profile, with canonical IDs.

    Raises
    ------
    ValidationError
        If an item is unknown, a degree is outside [0, 1] or given to a yes/no name, or the
        file cannot be read (each problem names the item and where it was).
    """
    if isinstance(spec, Profile):
        return spec
    if spec is None:
        return _build([], "none")
    if isinstance(spec, str) and not spec.strip(" ,"):
        raise ValidationError([Problem("--profile", "(profile)", "at least one mechanism, "
                                       "biomarker or attribute, or 'none' for a "
                                       "trastuzumab-sensitive HER2-positive tumor",
                                       repr(spec))], "the profile is empty")
    if isinstance(spec, Mapping):
        return _build([(str(k), v, "profile", None) for k, v in spec.items()], "mapping")
    path = Path(spec)
    if path.suffix.lower() in (".yaml", ".yml"):
        if not path.is_file():
            raise ValidationError([Problem(str(path), "(file)", "an existing YAML profile file",
                                           "no such file")], "the profile file is missing")
        return _build(_yaml_items(path), str(path))
    return _build(_compact_items(str(spec)), str(spec))
