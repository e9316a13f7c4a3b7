"""From the pathway model's rates to trial outcomes: a tumor-burden model.

Every virtual patient is a **type**: a tumor profile (mechanisms with degrees, drawn by
:mod:`.population`), a hormone-receptor status (which the pathway model's ER module reads), and
a patient-level chemosensitivity shared by every cytotoxic drug. Under the drugs of one phase
of a schedule (:mod:`.schedule`) the pathway model gives the tumor's growth and kill rates
(:mod:`.rates`); in months,

* growth ``K_L = a * growth`` with ``a`` set by the untreated doubling time
  (:data:`KINETICS`), so the link depends only on rates relative to untreated growth;
* kill ``K_D = a * G * (w * max(targeted + immune - untreated, 0) + c * e_s * (cytotoxic +
  payload))``, ``untreated`` the type's own apoptosis and immune kill without drugs (part of
  its untreated growth: a drug's kill is what it adds), ``c`` the patient's chemosensitivity,
  ``e_s`` the **chemosensitivity of the setting group** ``s`` (calibrated with partial pooling:
  what differs between early, first-line and pretreated disease beyond the mechanisms of
  their populations, which the pathway model carries, is how much cytotoxic therapy a tumor
  has survived), ``w`` the weight of the targeted kill (calibrated), ``G`` the **kill gain**
  (calibrated: the log-kill per cycle of trastuzumab + docetaxel on a tumor without
  resistance);
* acquired resistance: the kill decays as ``exp(-lambda t)`` from the start of therapy
  (Claret L et al. J Clin Oncol 2009;27:4103-4108, the tumor-growth-inhibition model),
  ``lambda`` calibrated.

The log tumor burden relative to the start is ``ln y(t) = int_0^t K_L - K_D exp(-lambda u) du``
(phase by phase). From it, per type:

* **follow-up over calendar time**: every arm is followed from randomisation through each
  phase and after the last one (no drug: the untreated growth; a metastatic regimen runs
  until progression), the same trajectory for every outcome (:func:`follow_up`). A cell's
  lineage survives to ``t`` with probability ``1 / D(t)``, ``D(t) = 1 + int_0^t K_D e^{-lambda
  u} / y(u) du`` (Kendall DG. Ann Math Stat 1948;19:1-15): ``D`` never falls, so a tumor cured
  during treatment stays cured, a phase without drugs changes nothing, and a kill that has
  decayed adds nothing (a drug never raises growth above the untreated rate,
  :meth:`.model.TrialModel.kinetics`);
* **pCR** (neoadjuvant): the probability that no clonogenic cell survives the schedule,
  ``exp(-N0 / D(surgery))`` (the Poisson tumor-control probability; Munro TR & Gilbert CW, Br
  J Radiol 1961;34:246-251), ``N0`` the clonogenic burden;
* **progression** (metastatic PFS, TTP): the first time the burden has regrown to
  ``1.2**3`` times its nadir (RECIST 1.1's 20% increase in diameters; Eisenhauer EA et al.
  Eur J Cancer 2009;45:228-247); **ORR**: the nadir below ``0.7**3`` of the start;
* **cure and recurrence** (adjuvant, early disease): micrometastatic burden ``N_m`` is cured
  with probability ``exp(-N_m / D)`` at the end of the last phase that acts; otherwise the
  burden of a patient not cured, ``N_m y / (1 - exp(-N_m / D))``, reaches the detection limit
  (about 1e9 cells, a cubic centimetre; Del Monte U, Cell Cycle 2009;8:505-506) during
  treatment (under a kill that has decayed) or after it at the untreated rate
  (:func:`recurrence`). The benefit of a longer schedule flattens at the rate ``lambda`` at
  which the kill decays (``log_resistance``, prior from Claret 2009): after ``1 / lambda``
  months a drug adds ``1/e`` of its first kill. ``N_m`` varies between patients of one type,
  log-normally with SD ``micromet_sd`` (Gauss-Hermite nodes): many relapses then come from
  burdens no schedule cures, which dilutes adjuvant hazard ratios. Angiogenesis does not
  drive micrometastatic disease (:mod:`.rates`), so anti-angiogenic drugs act only on
  macroscopic tumors;
* **OS** (metastatic): progression plus post-progression survival. After progression the
  tumor regrows from its burden at progression (the nadir times the progression volume) to a
  lethal burden (``lethal_log_ratio`` above the burden at the start), at the type's untreated
  growth slowed alike in every arm by later lines (the anchored scale): a deeper nadir leaves
  longer to live after progression, later lines still dilute the first line's difference;
  log-normal between patients (``pps_sd``) around each type's median.

Times vary between patients of one type by a log-normal factor (``kinetic_sd``: initial burden
and growth differ), so each type has a smooth survival curve and the population curve is their
mixture. Each trial's **baseline** is anchored: a time scale for progression, ``N0`` for pCR,
``N_m`` for early disease, the post-progression median for OS, chosen so that the control arm
matches its reported (or the setting's) median, landmark or rate. The model predicts the
differences between arms. The hazard ratio is the limit of the Cox estimate under the trial's
censoring (:func:`limiting_cox_from_curves`; Struthers CA & Kalbfleisch JD, Biometrika
1986;73:363-369), computed exactly from the arms' mixture curves.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy import fft as sp_fft
from scipy import optimize, special

from her2lab.knowledge import BINARY
from her2lab.virtual_trials import _kernels

__all__ = [
    "GROUPS",
    "KINETICS",
    "PRIORS",
    "PRIOR_DEPARTURES",
    "TKI",
    "ArmKinetics",
    "Constant",
    "LinkParams",
    "Prior",
    "arm_curves",
    "chemo_nodes",
    "follow_up",
    "limiting_cox_from_curves",
    "limiting_cox_log_hr",
    "log_burden_end",
    "log_burden_grid",
    "progression_times",
    "recurrence",
]

EARLY_ENDPOINTS = frozenset({"DFS", "iDFS", "EFS", "RFI"})
GROUPS = ("early", "metastatic_first_line", "metastatic_pretreated")
TKI = ("lapatinib", "neratinib")


@dataclass(frozen=True)
class Constant:
    value: float
    source: str


KINETICS: dict[str, Constant] = {
    "doubling_months": Constant(
        3.0, "assumption: untreated volume doubling time of a HER2-positive tumor, of the order "
        "of the 2-6 months measured on serial imaging; sets the time unit of early disease only"
        " (metastatic trials anchor their own time scale)"),
    "progression_volume": Constant(
        1.2 ** 3, "RECIST 1.1: progression is a 20% increase in the sum of diameters from the "
        "nadir (Eisenhauer EA et al. Eur J Cancer 2009;45:228-247); volume = diameter cubed"),
    "response_volume": Constant(
        0.7 ** 3, "RECIST 1.1: partial response is a 30% decrease in the sum of diameters"),
    "detection_log_cells": Constant(
        math.log(1e9), "a clinically detectable recurrence: about 1e9 cells, one cubic "
        "centimetre (Del Monte U. Cell Cycle 2009;8:505-506)"),
    "kinetic_sd": Constant(
        0.6, "assumption: SD of log time between patients of one type (initial burden, growth); "
        "a log-normal spread whose median-to-quartile ratio (x1.5) is that of the Kaplan-Meier "
        "curves of the metastatic trials"),
    "chemo_sd": Constant(
        0.5, "assumption: SD of log chemosensitivity between patients, shared by every cytotoxic "
        "drug of a patient (three Gauss-Hermite nodes)"),
    "hr_positive": Constant(
        0.5, "share of HER2-positive tumors that are hormone-receptor positive: 47% in NeoSphere "
        "(Gianni L et al. Lancet Oncol 2012;13:25-32) and 47% in CLEOPATRA (Baselga J et al. N "
        "Engl J Med 2012;366:109-119)"),
    "hr_chemo_shift": Constant(
        -0.5, "assumption: log chemosensitivity of hormone-receptor-positive tumors relative to "
        "negative ones (less proliferative; their pCR is about half: NeoSphere THP-D 26% vs 63%, "
        "Gianni 2012)"),
    "hr_escape_half": Constant(
        0.2, "assumption: in hormone-receptor-positive tumors ER signalling offsets a share "
        "kt / (kt + h) of the kill kt (targeted and immune) that anti-HER2 drugs add, and of "
        "the growth they stop, beyond the pathway model's one ER node; h is this constant "
        "times trastuzumab's kill on a tumor without resistance, so trastuzumab keeps a sixth "
        "of its kill and a second anti-HER2 drug adds less still than in HR-negative tumors. "
        "ER and ER-target genes are up-regulated within two weeks of anti-HER2 therapy in "
        "HER2+/ER+ tumors, which keep proliferating (Giuliano M et al. Clin Cancer Res "
        "2015;21:3995-4003); ER signalling is the escape of HER2+/ER+ xenografts from the "
        "most complete HER2 blockade, whose complete regressions needed estrogen deprivation "
        "(Arpino G et al. J Natl Cancer Inst 2007;99:694-705); lapatinib induces ER "
        "signalling as its escape (Xia W et al. Proc Natl Acad Sci USA 2006;103:7795-7800). "
        "0.2 is an assumption, not fitted (the knowledge base holds no result by HR status), "
        "chosen knowing the size of the HR-subgroup differences the neoadjuvant trials "
        "report, so the HR property is not an out-of-sample check"),
    "micromet_sd": Constant(
        3.0, "assumption: SD of the log micrometastatic burden between patients of one type "
        "(a factor of 20): it spans orders of magnitude, none detectable in most patients and "
        "near a detectable recurrence in some (disseminated tumour cells in the bone marrow of "
        "30.6% of 4,703 patients with stage I-III breast cancer: Braun S et al. N Engl J Med "
        "2005;353:793-802); seven Gauss-Hermite nodes"),
    "lethal_log_ratio": Constant(
        math.log(100.0), "assumption: log of the lethal tumor burden (about 1e12 cells, a "
        "kilogram; Del Monte U. Cell Cycle 2009;8:505-506) over the measurable metastatic "
        "burden at the start of a line (about 1e10 cells, some ten cubic centimetres)"),
    "prior_exposure_months": Constant(
        12.4, "months of trastuzumab a trastuzumab-pretreated patient has received before: "
        "the median PFS of first-line trastuzumab + docetaxel, 12.4 months in CLEOPATRA's "
        "control arm (Baselga J et al. N Engl J Med 2012;366:109-119); the added kill of "
        "trastuzumab has decayed by acquired resistance for that long"),
    "pps_sd": Constant(
        0.9, "assumption: SD of log post-progression survival between patients"),
}
"""The link's fixed constants, each with its source or stated as an assumption."""


@dataclass(frozen=True)
class Prior:
    mean: float
    sd: float
    source: str
    published: str = "1977-01-01"

    def interval(self) -> tuple[float, float]:
        return (self.mean - 1.96 * self.sd, self.mean + 1.96 * self.sd)


PRIORS: dict[str, Prior] = {
    "log_kill": Prior(
        math.log(math.log(10)), math.log(10) / 1.96 / 2,
        "log of the log-kill (natural units) per three-week cycle of trastuzumab + docetaxel on "
        "a tumor without resistance mechanism: about one decade per cycle (95%: 0.3 to 3), the "
        "fractional-kill hypothesis of Skipper HE et al. Cancer Chemother Rep 1964;35:1-111 "
        "as applied to solid tumors by Norton L & Simon R. Cancer Treat Rep 1977;61:1307-1317",
        "1977-10-01"),
    "log_targeted": Prior(
        0.0, 1.0,
        "log of the weight of the targeted and immune kill relative to the cytotoxic kill: the "
        "pathway model reads both as apoptosis on one scale; SD 1 (a factor of 7 either way, "
        "95%), an assumption", "2014-01-01"),
    "log_resistance": Prior(
        math.log(0.2), 1.0,
        "log of the rate (per month) at which the kill decays by acquired resistance: of the "
        "order of months, as in the tumor-growth-inhibition model (Claret L et al. J Clin Oncol "
        "2009;27:4103-4108); SD 1 on the log scale (a factor of 7 either way, 95%)",
        "2009-09-01"),
    "tki_offset": Prior(
        0.0, 0.2,
        "shift of the potency of both HER2 kinase inhibitors (lapatinib, neratinib) from the "
        "pathway model's defaults, which are starting values, not measurements", "2014-01-01"),
}
"""Priors of the calibrated parameters (normal on the scale given), with their sources."""

PRIOR_DEPARTURES: dict[str, str] = {
    "log_targeted": (
        "its prior weighs a unit of targeted kill like a unit of cytotoxic kill; the targeted "
        "kill is what anti-HER2 drugs add to the untreated tumor's own apoptosis, small beside "
        "the pathway model's cytotoxic kill, while the trials show anti-HER2 therapy adding "
        "about as much as chemotherapy (NeoSphere: pertuzumab + trastuzumab without "
        "chemotherapy against with docetaxel)"),
    "tki_offset": (
        "the pathway model's TKI potencies are starting values, not measurements (its prior is "
        "centred on them); every head-to-head comparison in the knowledge base puts lapatinib "
        "below trastuzumab with the same chemotherapy (GeparQuinto, NeoALTTO; NSABP B-41 "
        "equal) and T-DM1 above lapatinib + capecitabine (EMILIA), which the lower potency "
        "reproduces"),
}
"""Why a calibrated value may lie outside its prior's 95% interval: shown beside it when it
does (:attr:`.fit.Fit.outside_prior`)."""

SETTING_SD = Constant(
    0.5, "partial pooling: the mean log chemosensitivity of each setting group differs from the "
    "common one by a normal effect with SD 0.5 (a factor of 2.7, 95%); assumption")
"""Prior SD of the setting-group effects on the log chemosensitivity."""


@dataclass(frozen=True)
class LinkParams:
    """The calibrated parameters. ``log_kill``: log of the log-kill per cycle of the reference
    regimen; ``log_resistance``: log of the resistance rate per month; ``tki_offset``: shift
    of both TKIs' potency; ``setting``: each setting group's effect on the log chemosensitivity
    (the cytotoxic and payload kill; the targeted kill is the same in every setting)."""

    log_kill: float = PRIORS["log_kill"].mean
    log_targeted: float = 0.0
    log_resistance: float = PRIORS["log_resistance"].mean
    tki_offset: float = 0.0
    setting: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.setting, Mapping):
            object.__setattr__(self, "setting", tuple(sorted(self.setting.items())))
        bad = {g for g, _ in self.setting} - set(GROUPS)
        if bad:
            raise ValueError(f"unknown setting group(s) {sorted(bad)}; expected {GROUPS}")

    # the parameter vector the optimiser sees
    NAMES = ("log_kill", "log_targeted", "log_resistance", "tki_offset",
             *(f"setting.{g}" for g in GROUPS))
    GLOBAL = ("log_kill", "log_targeted", "log_resistance", "tki_offset")

    def vector(self) -> np.ndarray:
        s = dict(self.setting)
        return np.array([self.log_kill, self.log_targeted, self.log_resistance,
                         self.tki_offset, *(s.get(g, 0.0) for g in GROUPS)])

    @classmethod
    def from_vector(cls, v: Sequence[float]) -> LinkParams:
        v = [float(x) for x in v]
        return cls(v[0], v[1], v[2], v[3], tuple(zip(GROUPS, v[4:7], strict=True)))

    @property
    def targeted_weight(self) -> float:
        return math.exp(self.log_targeted)

    def kill_per_cycle(self) -> float:
        """The log-kill (natural units) per cycle of the reference regimen."""
        return math.exp(self.log_kill)

    def chemosensitivity(self, group: str) -> float:
        """The factor on the cytotoxic and payload kill of setting group ``group``."""
        return math.exp(dict(self.setting).get(group, 0.0))

    @property
    def resistance(self) -> float:
        return math.exp(self.log_resistance)

    def potency(self, default: Mapping[str, float]) -> dict[str, float]:
        """TKI potencies after the offset (clipped to [0.05, 1])."""
        return {d: min(max(default[d] + self.tki_offset, 0.05), 1.0) for d in TKI
                if d in default}

    def to_dict(self) -> dict[str, Any]:
        return {"log_kill": self.log_kill, "log_targeted": self.log_targeted,
                "log_resistance": self.log_resistance,
                "tki_offset": self.tki_offset, "setting": dict(self.setting),
                "kill_per_cycle": self.kill_per_cycle(),
                "resistance_per_month": self.resistance}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LinkParams:
        return cls(float(d["log_kill"]), float(d.get("log_targeted", 0.0)),
                   float(d["log_resistance"]), float(d["tki_offset"]),
                   tuple(sorted(dict(d.get("setting", {})).items())))

    def with_(self, **kw: Any) -> LinkParams:
        return replace(self, **kw)


def chemo_nodes(n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Hermite nodes and weights for a standard normal."""
    x, w = _chemo_nodes(n)
    return x.copy(), w.copy()


@functools.lru_cache(maxsize=16)
def _chemo_nodes(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = special.roots_hermitenorm(n)
    return x, w / w.sum()


# --------------------------------------------------------------------------- kinetics


@dataclass(frozen=True)
class ArmKinetics:
    """One arm's per-type rates (per month), phase by phase, and the types' weights.

    ``growth`` and ``kill`` have shape ``(phases, types)``; ``months`` the phases' lengths
    (``inf`` for the last phase of a treatment until progression); ``untreated`` the types'
    growth without therapy (for regrowth after an adjuvant schedule)."""

    weights: np.ndarray
    growth: np.ndarray
    kill: np.ndarray
    months: tuple[float, ...]
    untreated: np.ndarray
    resistance: float

    @property
    def duration(self) -> float:
        return float(sum(self.months))


def log_burden_end(k: ArmKinetics) -> np.ndarray:
    """``ln y(D)`` per type at the end of a finite schedule."""
    lam = k.resistance
    out = np.zeros(k.weights.size)
    t0 = 0.0
    for p, d in enumerate(k.months):
        if not math.isfinite(d):
            raise ValueError("a schedule with a phase until progression has no end")
        out += k.growth[p] * d - k.kill[p] / lam * (math.exp(-lam * t0) - math.exp(-lam * (t0 + d)))
        t0 += d
    return out


def log_burden_grid(k: ArmKinetics, t: np.ndarray) -> np.ndarray:
    """``ln y(t)`` per type (rows) on the time grid ``t`` (columns), months."""
    lam = k.resistance
    out = np.zeros((k.weights.size, t.size))
    t0 = 0.0
    base = np.zeros(k.weights.size)
    for p, d in enumerate(k.months):
        t1 = t0 + d
        inside = (t > t0) & (t <= t1) if math.isfinite(t1) else t > t0
        tt = t[inside]
        seg = (k.growth[p][:, None] * (tt - t0)[None, :]
               - (k.kill[p] / lam)[:, None] * (math.exp(-lam * t0) - np.exp(-lam * tt))[None, :])
        out[:, inside] = base[:, None] + seg
        if not math.isfinite(t1):
            break
        base = base + k.growth[p] * d - k.kill[p] / lam * (
            math.exp(-lam * t0) - math.exp(-lam * t1))
        t0 = t1
    else:
        # after a finite schedule the tumor grows at the untreated rate
        after = t > t0
        out[:, after] = base[:, None] + k.untreated[:, None] * (t[after] - t0)[None, :]
    return out


# --------------------------------------------------------------------------- follow-up


def effective_end(k: ArmKinetics) -> int:
    """The number of leading phases that act on the tumor: trailing phases with no kill and the
    untreated growth (an empty phase, ``drugs: []``) change nothing and are dropped."""
    n = len(k.months)
    while n > 0 and math.isfinite(k.months[n - 1]) and not np.any(k.kill[n - 1] > 0) and (
            np.array_equal(np.minimum(k.growth[n - 1], k.untreated), k.untreated)):
        n -= 1
    return n


@dataclass(frozen=True)
class Trajectory:
    """One arm's burden over calendar time from randomisation, per type (rows), at the points
    ``t`` (months; 0 first, the end of the last phase that acts last): ``log_y`` the mean log
    burden relative to the start, ``log_den`` the log of the lineage denominator ``D(t)``.

    A tumor cell's lineage under birth rate ``b(t)`` (the growth) and death rate ``d(t)`` (the
    decaying kill) survives to ``t`` with probability ``1 / D(t)``, ``D(t) = 1 + int_0^t d(u) /
    y(u) du`` (Kendall DG. Ann Math Stat 1948;19:1-15, the generalized birth-and-death
    process): ``D`` never falls, so a tumor cured during treatment stays cured, and a phase
    without kill leaves it as it is. ``N`` cells are all extinct with probability ``exp(-N /
    D)`` (the Poisson tumor-control probability; Munro TR & Gilbert CW, Br J Radiol
    1961;34:246-251, where ``1 / D`` replaces the surviving fraction ``y``, which it equals
    when no cell divides)."""

    t: np.ndarray
    log_y: np.ndarray
    log_den: np.ndarray

    @property
    def end(self) -> float:
        return float(self.t[-1])


FOLLOW_POINTS = 12
"""Points per phase at which a trajectory is kept (where a recurrence during treatment is
looked for; cure and the burden at the end are exact)."""

_LARGE_V = 300.0


def _log_gamma_integral(a: np.ndarray, v0: np.ndarray, v1: np.ndarray) -> np.ndarray:
    """``log int_{v1}^{v0} v**(a-1) exp(-v) dv`` (``v1 <= v0``), ``-inf`` where it is 0."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        upper = v1 > a
        diff = np.where(upper, special.gammaincc(a, v1) - special.gammaincc(a, v0),
                        special.gammainc(a, v0) - special.gammainc(a, v1))
        out = special.gammaln(a) + np.log(np.maximum(diff, 0.0))
        # far in the upper tail the regularised functions underflow: the integral is then
        # v1**(a-1) exp(-v1) (1 - exp(-(v0 - v1))) to a relative (a - 1) / v1
        big = v1 > _LARGE_V
        if np.any(big):
            far = (a - 1) * np.log(np.maximum(v1, 1e-300)) - v1 + np.log(-np.expm1(v1 - v0))
            out = np.where(big, far, out)
        return np.where(v0 > v1, out, -np.inf)


def _phase_points(lny0, lnden0, g, kd, lam, t0, tau):
    """``ln y`` and ``ln D`` at the times ``tau`` (columns) of a phase starting at ``t0`` with
    ``ln y0``, ``ln D0``, growth ``g`` and kill ``kd`` at the start of therapy (rows: types).

    With ``v = kd / lam exp(-lam u)``, ``int kd e^{-lam u} / y(u) du`` is an incomplete gamma
    integral: ``exp(-ln y0 + v0 - (a - 1) ln v0) int_{v}^{v0} x**(a-1) e^{-x} dx``,
    ``a = 1 + g / lam``."""
    g = np.maximum(g, 0.0)[:, None]
    kd = np.maximum(kd, 0.0)[:, None]
    v0 = kd / lam * math.exp(-lam * t0)
    v = kd / lam * np.exp(-lam * tau)[None, :]
    lny = lny0[:, None] + g * (tau - t0)[None, :] - (v0 - v)
    a = 1.0 + g / lam
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = -lny0[:, None] + v0 - (a - 1.0) * np.log(v0)
        inc = np.where(kd > 0, scale + _log_gamma_integral(a, np.broadcast_to(v0, v.shape), v),
                       -np.inf)
    return lny, np.logaddexp(lnden0[:, None], inc)


def follow_up(k: ArmKinetics, points: int = FOLLOW_POINTS) -> Trajectory:
    """The arm's :class:`Trajectory` from randomisation to the end of its last acting phase
    (after it the tumor grows at its untreated rate and no cell dies: ``D`` stays)."""
    n = effective_end(k)
    lam = k.resistance
    types = k.weights.size
    lny, lnden = np.zeros(types), np.zeros(types)
    ts, ys, ds = [np.zeros(1)], [lny[:, None]], [lnden[:, None]]
    t0 = 0.0
    for p in range(n):
        d = k.months[p]
        if not math.isfinite(d):
            raise ValueError("a schedule with a phase until progression has no end")
        tau = t0 + d * np.arange(1, points + 1) / points
        y_p, d_p = _phase_points(lny, lnden, k.growth[p], k.kill[p], lam, t0, tau)
        ts.append(tau)
        ys.append(y_p)
        ds.append(d_p)
        lny, lnden = y_p[:, -1], d_p[:, -1]
        t0 += d
    return Trajectory(np.concatenate(ts), np.concatenate(ys, axis=1),
                      np.concatenate(ds, axis=1))


def _log1mexp(x: np.ndarray) -> np.ndarray:
    """``log(1 - exp(-x))`` for ``x >= 0`` (``-inf`` at 0)."""
    with np.errstate(divide="ignore"):
        return np.where(x > 0.693, np.log1p(-np.exp(-x)), np.log(-np.expm1(-x)))


def recurrence(traj: Trajectory, untreated: np.ndarray, log_n: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Cure probability and time to a detectable recurrence (months from randomisation) of
    patients with log micrometastatic burden ``log_n`` (types x burden nodes).

    Cure: every cell's lineage extinct, ``exp(-N / D)`` at the end (``D`` no longer changes).
    Recurrence: the first time the burden of a patient not cured, ``N y / (1 - exp(-N / D))``
    (at least one cell), reaches the detection limit: during treatment on the trajectory's
    points (a recurrence under a therapy whose kill has decayed), else at the untreated rate
    after it."""
    det = KINETICS["detection_log_cells"].value
    lnden_e, lny_e = traj.log_den[:, -1:], traj.log_y[:, -1:]
    ns_e = np.exp(np.minimum(log_n - lnden_e, 50.0))
    cure = np.exp(-ns_e)
    level = np.maximum(log_n + lny_e - _log1mexp(ns_e), 0.0)
    median = traj.end + np.maximum(det - level, 0.0) / np.maximum(untreated, 1e-6)[:, None]
    if traj.t.size > 1:
        # N y / (1 - e^{-N/D}) <= N y + y D: only a patient whose bound reaches the limit
        # somewhere during treatment can recur during it
        bound = np.logaddexp(log_n + traj.log_y.max(axis=1, keepdims=True),
                             (traj.log_y + traj.log_den).max(axis=1, keepdims=True))
        rows, cols = np.nonzero(bound >= det)
        if rows.size:
            ln = log_n[rows, cols][:, None]
            ns = np.exp(np.minimum(ln - traj.log_den[rows], 50.0))
            lv = np.maximum(ln + traj.log_y[rows] - _log1mexp(ns), 0.0)
            up = lv >= det
            hit = up.any(axis=1)
            i = up.argmax(axis=1)
            r, c, i, lv_h = rows[hit], cols[hit], i[hit], lv[hit]
            j = np.arange(i.size)
            t1 = traj.t[i]
            t_0 = traj.t[np.maximum(i - 1, 0)]
            l1, l0 = lv_h[j, i], lv_h[j, np.maximum(i - 1, 0)]
            frac = np.where(l1 > l0, (det - l0) / np.maximum(l1 - l0, 1e-300), 1.0)
            median[r, c] = np.maximum(t_0 + np.clip(frac, 0.0, 1.0) * (t1 - t_0), 1e-3)
    return cure, median


MICROMET_POINTS = 7

PROGRESSION_GRID = np.linspace(0.0, 240.0, 481)[1:]


def progression_times(k: ArmKinetics, grid: np.ndarray = PROGRESSION_GRID
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Per type: the time (months, at the kinetic time scale) at which the burden first
    exceeds the progression volume times its nadir, and the depth ``-min ln y``.

    One fused pass per type (:func:`._kernels.progression_scan`); the same values as
    :func:`_progression_times_numpy`, its NumPy statement on :func:`log_burden_grid`."""
    lam = k.resistance
    grid = np.ascontiguousarray(grid, dtype=float)
    e0s, e1s = [], []
    t0 = 0.0
    for d in k.months:
        t1 = t0 + d
        e0s.append(math.exp(-lam * t0))
        e1s.append(math.exp(-lam * t1) if math.isfinite(t1) else 0.0)
        if not math.isfinite(t1):
            break
        t0 = t1
    n_ph = len(e0s)
    thr = math.log(KINETICS["progression_volume"].value)
    return _kernels.progression_scan(
        np.ascontiguousarray(k.growth[:n_ph], dtype=float),
        np.ascontiguousarray(k.kill[:n_ph], dtype=float),
        np.array(k.months[:n_ph], dtype=float), np.array(e0s), np.array(e1s),
        np.ascontiguousarray(k.untreated, dtype=float), float(lam), grid,
        np.exp(-lam * grid), thr)


def _progression_times_numpy(k: ArmKinetics, grid: np.ndarray = PROGRESSION_GRID
                             ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`progression_times` in NumPy on the types x grid matrix (the reference)."""
    ly = log_burden_grid(k, grid)
    ly = np.concatenate([np.zeros((ly.shape[0], 1)), ly], axis=1)
    nadir = np.minimum.accumulate(ly, axis=1)
    excess = ly - nadir
    thr = math.log(KINETICS["progression_volume"].value)
    up = excess >= thr
    first = np.where(up.any(axis=1), up.argmax(axis=1), ly.shape[1] - 1)
    first = np.maximum(first, 1)
    tg = np.concatenate([[0.0], grid])
    rows = np.arange(ly.shape[0])
    e0, e1 = excess[rows, first - 1], excess[rows, first]
    frac = np.clip((thr - e0) / np.maximum(e1 - e0, 1e-12), 0.0, 1.0)
    t = tg[first - 1] + frac * (tg[first] - tg[first - 1])
    return np.maximum(t, 1e-3), -nadir[:, -1]


# --------------------------------------------------------------------------- curves


def _lognormal_sf(t: np.ndarray, median: np.ndarray, sd: float) -> tuple[np.ndarray, np.ndarray]:
    """Survival and density of log-normal times, types in rows, times in columns."""
    with np.errstate(divide="ignore"):
        z = (np.log(t)[None, :] - np.log(median)[:, None]) / sd
    sf = special.ndtr(-z)
    pdf = np.exp(-0.5 * z * z) / (math.sqrt(2 * math.pi) * sd * t[None, :])
    return sf, pdf


@dataclass(frozen=True)
class Curves:
    """Population survival ``S`` and event density ``f`` of one arm on the grid ``t``."""

    t: np.ndarray
    S: np.ndarray
    f: np.ndarray

    def at(self, time: float) -> float:
        return float(np.interp(time, self.t, self.S))

    def median(self) -> float | None:
        below = np.nonzero(self.S <= 0.5)[0]
        if below.size == 0:
            return None
        i = below[0]
        if i == 0:
            return float(self.t[0])
        t0, t1, s0, s1 = self.t[i - 1], self.t[i], self.S[i - 1], self.S[i]
        return float(t0 + (s0 - 0.5) / (s0 - s1) * (t1 - t0)) if s0 != s1 else float(t1)


def mixture_curves(t: np.ndarray, weights: np.ndarray, median: np.ndarray,
                   cure: np.ndarray | None = None, sd: float | None = None) -> Curves:
    """``S(t) = sum_j w_j [cure_j + (1 - cure_j) S_j(t)]`` with log-normal ``S_j``."""
    sd = KINETICS["kinetic_sd"].value if sd is None else sd
    # the values of _lognormal_sf and of the NumPy weighting, from one kernel pass
    t = np.asarray(t, dtype=float)
    with np.errstate(divide="ignore"):
        lt, lm = np.log(t), np.log(np.asarray(median, dtype=float))
    surv, dens = _kernels.mixture_terms(
        np.ascontiguousarray(lt), np.ascontiguousarray(lm),
        np.ascontiguousarray(math.sqrt(2 * math.pi) * sd * t),
        _EMPTY if cure is None else np.ascontiguousarray(cure, dtype=float),
        cure is not None, float(sd))
    return Curves(t, weights @ surv, weights @ dens)


_EMPTY = np.zeros(0)


def os_curves(t: np.ndarray, weights: np.ndarray, pfs_median: np.ndarray,
              pps_median: np.ndarray) -> Curves:
    """OS of a mixture of types: each type's log-normal PFS (median ``pfs_median``) followed
    by its own log-normal post-progression survival (median ``pps_median``)."""
    s_p, _ = _lognormal_sf(t, pfs_median, KINETICS["kinetic_sd"].value)
    sf, pdf = _lognormal_sf(t, pps_median, KINETICS["pps_sd"].value)
    n = t.size
    S = weights @ s_p
    # per type, the progressions of each grid step (the drop of its PFS curve over the step,
    # so that OS never rises) convolved with the survival (density) of the post-progression
    # time since; the weighted sum over types taken in the frequency domain: one transform
    # per type and series, one inverse per curve (the direct convolutions agree to rounding,
    # tests/virtual_trials/test_link.py)
    j = np.nonzero(weights > 0)[0]
    size = sp_fft.next_fast_len(2 * n - 1, real=True)
    ones, zeros = np.ones((j.size, 1)), np.zeros((j.size, 1))
    drop = np.concatenate([ones, s_p[j, :-1]], axis=1) - s_p[j]
    mass = sp_fft.rfft(drop, size, axis=1) * weights[j][:, None]
    alive = sp_fft.rfft(np.concatenate([ones, sf[j, :-1]], axis=1), size, axis=1)
    dying = sp_fft.rfft(np.concatenate([zeros, pdf[j, :-1]], axis=1), size, axis=1)
    S += sp_fft.irfft((mass * alive).sum(axis=0), size)[:n]
    f = sp_fft.irfft((mass * dying).sum(axis=0), size)[:n]
    return Curves(t, np.clip(S, 0, 1), f)


def pps_scale(k: ArmKinetics, depth: np.ndarray) -> np.ndarray:
    """Relative post-progression survival of each type: the time for the tumor to regrow from
    its burden at progression (the nadir times the progression volume) to the lethal burden,
    at the type's untreated growth rate (later lines slow every type alike: the anchor's
    scale)."""
    room = (KINETICS["lethal_log_ratio"].value + depth
            - math.log(KINETICS["progression_volume"].value))
    return np.maximum(room, 0.1) / np.maximum(k.untreated, 1e-6)


# --------------------------------------------------------------------------- Cox limit


def limiting_cox_from_curves(
    t: np.ndarray, s_e: np.ndarray, f_e: np.ndarray, s_c: np.ndarray, f_c: np.ndarray, *,
    accrual: float, follow_up: float, dropout_per_year: float = 0.05, allocation: float = 0.5,
) -> float:
    """The value the Cox estimate of log HR (experimental vs control) converges to, for arms
    with population survival ``s`` and density ``f`` on the grid ``t`` (months).

    Solves ``int [pi_E f_E G - e^b pi_E S_E / (e^b pi_E S_E + pi_C S_C) (pi_E f_E + pi_C f_C)
    G] dt = 0`` with ``G`` the probability of being still under observation (uniform accrual,
    administrative censoring at accrual + follow-up, exponential dropout).
    """
    from her2lab.virtual_trials.stats.simulate import dropout_rate

    tmax = accrual + follow_up
    dt = np.diff(np.concatenate([[0.0], t]))
    admin = (np.clip((tmax - t) / accrual, 0.0, 1.0) if accrual > 0
             else (t <= tmax).astype(float))
    g = admin * np.exp(-dropout_rate(dropout_per_year) * t)
    pe, pc = allocation, 1.0 - allocation
    d_e = pe * f_e * g * dt
    d_all = (pe * f_e + pc * f_c) * g * dt
    se, sc = np.maximum(s_e, 1e-300), np.maximum(s_c, 1e-300)
    se, sc = np.ascontiguousarray(se, dtype=float), np.ascontiguousarray(sc, dtype=float)
    d_e = np.ascontiguousarray(d_e, dtype=float)
    d_all = np.ascontiguousarray(d_all, dtype=float)

    def score(b: float) -> float:
        return float(_kernels.cox_score(math.exp(b) * pe, pc, se, sc, d_e, d_all))

    lo, hi = -6.0, 6.0
    if not np.any(d_all > 0) or score(lo) * score(hi) > 0:
        return float("nan")
    return float(optimize.brentq(score, lo, hi, xtol=1e-10))


def limiting_cox_log_hr(
    mult_exp: np.ndarray, mult_ctrl: np.ndarray, weights: np.ndarray, *, shape: float,
    scale: float, accrual: float, follow_up: float, dropout_per_year: float = 0.05,
    allocation: float = 0.5, grid: int = 600,
) -> float:
    """The limiting Cox log HR for mixtures of Weibull proportional-hazards profiles
    (hazard multipliers per profile, weights shared), through :func:`limiting_cox_from_curves`."""
    tmax = accrual + follow_up
    t = np.linspace(0.0, tmax, grid + 1)[1:]
    u = (t / scale) ** shape
    dh = shape / scale * (t / scale) ** (shape - 1)
    ee = np.exp(-u[:, None] * mult_exp[None, :])
    ec = np.exp(-u[:, None] * mult_ctrl[None, :])
    s_e, s_c = ee @ weights, ec @ weights
    f_e = (ee * mult_exp[None, :]) @ weights * dh
    f_c = (ec * mult_ctrl[None, :]) @ weights * dh
    return limiting_cox_from_curves(t, s_e, f_e, s_c, f_c, accrual=accrual, follow_up=follow_up,
                                    dropout_per_year=dropout_per_year, allocation=allocation)


# --------------------------------------------------------------------------- arms to outcomes


@dataclass(frozen=True)
class Anchor:
    """What fixes a trial's baseline: ``kind`` is ``median`` (months), ``rate`` (share event-free
    at ``time`` months), or ``binary`` (a response rate ``value``); ``pfs`` the PFS anchor an
    OS prediction also needs."""

    kind: str
    value: float
    time: float | None = None
    pfs: Anchor | None = None
    source: str = "specification"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "time": self.time, "source": self.source,
                "pfs": None if self.pfs is None else self.pfs.to_dict()}


@dataclass
class ArmOutcome:
    """An arm's per-type outcome model after anchoring (what a simulation draws from)."""

    weights: np.ndarray
    prob: np.ndarray | None = None          # binary: per-type probability
    median: np.ndarray | None = None        # time to event: per-type median (months)
    cure: np.ndarray | None = None          # early disease: per-type cure probability
    pps_median: np.ndarray | None = None    # OS: per-type post-progression median
    curves: Curves | None = None

    @property
    def rate(self) -> float | None:
        return None if self.prob is None else float(self.weights @ self.prob)


def _solve(f, lo: float, hi: float) -> float:
    flo, fhi = f(lo), f(hi)
    if flo * fhi > 0:
        return lo if abs(flo) < abs(fhi) else hi
    return float(optimize.brentq(f, lo, hi, xtol=1e-9))


def arm_curves(
    arms: Mapping[str, ArmKinetics], control: str, endpoint: str, anchor: Anchor,
    *, horizon: float, early: bool,
) -> dict[str, ArmOutcome]:
    """Per-arm outcome models for ``endpoint``, the baseline anchored on ``control``."""
    if endpoint == "pCR":
        # no clonogenic cell's lineage survives to surgery: exp(-N0 / D), D at the end
        ly = {a: -follow_up(k).log_den[:, -1] for a, k in arms.items()}
        w = arms[control].weights

        def p(lnn0: float, a: str) -> np.ndarray:
            return np.exp(-np.exp(np.minimum(lnn0 + ly[a], 50.0)))

        lnn0 = _solve(lambda x: float(w @ p(x, control)) - anchor.value, -30.0, 60.0)
        return {a: ArmOutcome(k.weights, prob=p(lnn0, a)) for a, k in arms.items()}
    if endpoint == "ORR":
        depth = {a: progression_times(k)[1] for a, k in arms.items()}
        w = arms[control].weights
        sd = KINETICS["kinetic_sd"].value

        def p(h: float, a: str) -> np.ndarray:
            with np.errstate(divide="ignore"):
                return special.ndtr((np.log(np.maximum(depth[a], 1e-12)) - h) / sd)

        h = _solve(lambda x: float(w @ p(x, control)) - anchor.value, -20.0, 20.0)
        return {a: ArmOutcome(k.weights, prob=p(h, a)) for a, k in arms.items()}
    t = np.linspace(0.0, horizon, 301)[1:]
    if early and endpoint in EARLY_ENDPOINTS | {"OS"}:
        return _early_curves(arms, control, anchor, t)
    return _metastatic_curves(arms, control, endpoint, anchor, t)


def point_sf(time: float, weights: np.ndarray, median: np.ndarray,
             cure: np.ndarray | None = None) -> float:
    """The mixture's survival at one time (cheap: what anchoring solves on)."""
    sd = KINETICS["kinetic_sd"].value
    with np.errstate(divide="ignore"):
        lm = np.log(np.asarray(median, dtype=float))
    sf = _kernels.point_terms(np.ascontiguousarray(lm), math.log(time),
                              _EMPTY if cure is None else np.ascontiguousarray(cure, dtype=float),
                              cure is not None, sd)
    return float(weights @ sf)


def _target_time(anchor: Anchor) -> tuple[float, float]:
    """(time, survival) the control arm must pass through."""
    if anchor.kind == "median":
        return anchor.value, 0.5
    return float(anchor.time), anchor.value


def _early_curves(arms, control, anchor, t) -> dict[str, ArmOutcome]:
    # every arm followed from randomisation over calendar time (its phases, then no drug)
    traj = {a: follow_up(k) for a, k in arms.items()}

    # the micrometastatic burden varies between patients: Gauss-Hermite nodes on its log
    zs, wz = _chemo_nodes(MICROMET_POINTS)
    zs = KINETICS["micromet_sd"].value * zs

    def parts(lnm: float, a: str) -> tuple[np.ndarray, np.ndarray]:
        log_n = np.broadcast_to(lnm + zs[None, :], (arms[a].weights.size, zs.size))
        cure, median = recurrence(traj[a], arms[a].untreated, log_n)
        return median.ravel(), cure.ravel()

    def wts(a: str) -> np.ndarray:
        return np.outer(arms[a].weights, wz).ravel()

    tt, ss = _target_time(anchor)
    w = wts(control)
    lnm = _solve(lambda x: point_sf(tt, w, *parts(x, control)) - ss, -20.0, 40.0)
    out = {}
    for a in arms:
        median, cure = parts(lnm, a)
        wa = wts(a)
        out[a] = ArmOutcome(wa, median=median, cure=cure,
                            curves=mixture_curves(t, wa, median, cure))
    return out


def _metastatic_curves(arms, control, endpoint, anchor, t) -> dict[str, ArmOutcome]:
    scans = {a: progression_times(k) for a, k in arms.items()}  # (time, depth) per type
    tp = {a: v[0] for a, v in scans.items()}
    pfs_anchor = anchor.pfs if endpoint == "OS" else anchor
    if pfs_anchor is None:
        raise ValueError("an OS prediction needs the PFS anchor of its control arm")
    tt, ss = _target_time(pfs_anchor)
    w = arms[control].weights
    log_s = _solve(lambda x: point_sf(tt, w, tp[control] * math.exp(x)) - ss, -8.0, 8.0)
    out = {a: ArmOutcome(k.weights, median=tp[a] * math.exp(log_s),
                         curves=mixture_curves(t, k.weights, tp[a] * math.exp(log_s)))
           for a, k in arms.items()}
    if endpoint != "OS":
        return out
    tt, ss = _target_time(anchor)
    w = arms[control].weights
    q = {a: pps_scale(k, scans[a][1]) for a, k in arms.items()}
    norm = float(np.exp(w @ np.log(q[control])))
    q = {a: v / norm for a, v in q.items()}
    med_c = out[control].median
    # the control's OS at the anchor's time, with the progressions of each step counted as
    # os_curves counts them (its PFS curve's drop), the last step ending at the anchor's time
    points = np.concatenate([t[t < tt], [tt]])
    s_p, _ = _lognormal_sf(points, med_c, KINETICS["kinetic_sd"].value)
    mass = np.concatenate([np.ones((s_p.shape[0], 1)), s_p[:, :-1]], axis=1) - s_p
    s_tt = s_p[:, -1]
    lag = np.log(np.maximum(tt - points, 1e-9))
    sd = KINETICS["pps_sd"].value
    lq = np.log(q[control])

    def os_at(log_m: float) -> float:
        alive = special.ndtr((log_m + lq[:, None] - lag[None, :]) / sd)
        return float(w @ (s_tt + (mass * alive).sum(axis=1)))

    log_m = _solve(lambda x: os_at(x) - ss, -3.0, 6.0)
    m = math.exp(log_m)
    return {a: ArmOutcome(o.weights, median=o.median, pps_median=m * q[a],
                          curves=os_curves(t, o.weights, o.median, m * q[a]))
            for a, o in out.items()}


@dataclass
class ExpectedEffect:
    """The model's expected effect of one arm against the control (deterministic)."""

    arm: str
    control: str
    measure: str  # "HR", "OR", "difference"
    estimate: float

    def to_dict(self) -> dict[str, Any]:
        return {"arm": self.arm, "control": self.control, "measure": self.measure,
                "estimate": self.estimate}


def expected_effects(
    outcomes: Mapping[str, ArmOutcome], control: str, endpoint: str, *, accrual: float,
    follow_up: float, dropout_per_year: float, allocation: Mapping[str, float] | None = None,
) -> list[ExpectedEffect]:
    """HR (limiting Cox) for time to event, OR and difference (points) for binary endpoints."""
    out: list[ExpectedEffect] = []
    c = outcomes[control]
    for a, o in outcomes.items():
        if a == control:
            continue
        if endpoint in BINARY:
            pe, pc = o.rate, c.rate
            pe_, pc_ = min(max(pe, 1e-9), 1 - 1e-9), min(max(pc, 1e-9), 1 - 1e-9)
            out.append(ExpectedEffect(a, control, "OR",
                                      (pe_ / (1 - pe_)) / (pc_ / (1 - pc_))))
            out.append(ExpectedEffect(a, control, "difference", 100 * (pe - pc)))
        else:
            share = 0.5 if allocation is None else allocation[a] / (allocation[a]
                                                                    + allocation[control])
            b = limiting_cox_from_curves(
                o.curves.t, o.curves.S, o.curves.f, c.curves.S, c.curves.f, accrual=accrual,
                follow_up=follow_up, dropout_per_year=dropout_per_year, allocation=share)
            out.append(ExpectedEffect(a, control, "HR", math.exp(b) if math.isfinite(b)
                                      else float("nan")))
    return out


@dataclass
class Prepared:
    """A trial's arms after anchoring: outcome models, expected effects, the anchor used."""

    outcomes: dict[str, ArmOutcome]
    effects: list[ExpectedEffect]
    anchor: Anchor
    extra: dict[str, Any] = field(default_factory=dict)
