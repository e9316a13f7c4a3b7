"""Validation: nested leave-one-trial-out (the whole calibration repeated without the trial)
against the Newton step and the refit, on synthetic rates (FakeRates) and three trials."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pytest

from her2lab.knowledge import load
from her2lab.virtual_trials.fit import predict_targets
from her2lab.virtual_trials.link import LinkParams
from her2lab.virtual_trials.model import TrialModel
from her2lab.virtual_trials.targets import targets_from_kb
from her2lab.virtual_trials.validation import leave_one_out

from .fakes import FakeRates

AS_OF = dt.date(2014, 8, 12)
TRIALS = ("emilia", "neosphere", "cleopatra")


@pytest.fixture(scope="module")
def model():
    return TrialModel(FakeRates(), panel_size=4, chemo_points=1)


@pytest.fixture(scope="module")
def synth(model):
    # the model's own predictions at known parameters stand in for the reported values
    sub = [t for t in targets_from_kb(load(), AS_OF) if t.trial in TRIALS]
    truth = LinkParams(log_kill=1.0, log_targeted=0.5, log_resistance=-1.5, tki_offset=0.0)
    pred = predict_targets(sub, truth, model)
    return [replace(t, observed=float(p)) for t, p in zip(sub, pred, strict=True)]


def _loo(model, targets, **kw):
    return leave_one_out(AS_OF, model=model, targets=targets, trials=["neosphere"], **kw)


@pytest.mark.slow
def test_a_nested_fold_does_not_see_the_trial_it_predicts(model, synth):
    # change the left-out trial's reported values: the nested fold (fitted from the priors
    # without it) predicts it exactly as before; the Newton step from the full fit, which saw
    # the trial, moves
    moved = [replace(t, observed=t.observed + 0.1) if t.trial == "neosphere" else t
             for t in synth]
    a, b = _loo(model, synth, nested=True), _loo(model, moved, nested=True)
    assert a["params"] == b["params"]
    assert [r["expected"] for r in a["rows"]] == [r["expected"] for r in b["rows"]]
    na, nb = _loo(model, synth), _loo(model, moved)
    assert na["params"] != nb["params"]
    assert a["method"].startswith("nested") and na["method"].startswith("one Newton")


@pytest.mark.slow
def test_nested_and_refit_reach_the_same_optimum_and_are_labelled_out_of_sample(model, synth):
    nested = _loo(model, synth, nested=True)
    refit = _loo(model, synth, refit=True)
    p, q = nested["params"]["neosphere"], refit["params"]["neosphere"]
    # one objective, two starting points (the priors, the full fit): the same minimum to
    # the optimiser's tolerance on the well-determined parameters
    for name in ("log_kill", "log_targeted"):
        assert p[name] == pytest.approx(q[name], abs=0.05), name
    for res in (nested, refit):
        assert res["sample"] == "out-of-sample"
        assert res["in_sample"]["sample"].startswith("in-sample")
        for s in (res["summary"], res["in_sample"]["summary"]):
            assert np.isfinite(s["mean_z2"]) and np.isfinite(s["null"]["mean_z2"])
    # the in-sample figures are those of the full fit on the same (held-out) targets
    s, s_in = nested["summary"], nested["in_sample"]["summary"]
    assert (s_in["n_hr"], s_in["n_rate"]) == (s["n_hr"], s["n_rate"])


def test_validate_is_the_one_entry_to_forward_and_each_leave_one_out_way(monkeypatch):
    from her2lab.errors import SimulationError
    from her2lab.virtual_trials import validate, validation
    from her2lab.virtual_trials.calibration import Calibration

    seen = []
    monkeypatch.setattr(validation, "forward",
                        lambda as_of, **kw: seen.append(("forward", kw)) or {})
    monkeypatch.setattr(validation, "leave_one_out",
                        lambda as_of, **kw: seen.append(("loo", kw)) or {})
    for method in validation.METHODS:
        validate(AS_OF, method=method)
    assert [(way, kw.get("refit"), kw.get("nested")) for way, kw in seen] == [
        ("forward", None, None), ("loo", False, False), ("loo", True, False),
        ("loo", False, True)]
    with pytest.raises(SimulationError, match="'forward', 'loo', 'refit', 'nested'"):
        validate(AS_OF, method="bootstrap")
    with pytest.raises(SimulationError, match="no calibration"):
        validate(AS_OF, calibration=Calibration.priors())  # forward calibrates by itself


@pytest.mark.slow
def test_the_one_step_fold_takes_the_full_fits_gradients_and_keeps_its_intervals(model, synth):
    # the default fold reuses the full fit's Jacobian of the held-out targets (the step is
    # first order about the full fit): its intervals agree with a Jacobian taken afresh at
    # the fold's own parameters, to the second order the step itself neglects
    from her2lab.virtual_trials.fit import fit, leave_out
    from her2lab.virtual_trials.rows import rows_for

    full = fit(synth, model)
    cal = type("Cal", (), {"fit": full, "table": (), "settings": None})()
    res = leave_one_out(AS_OF, model=model, targets=synth, trials=["neosphere"],
                        calibration=cal)
    p, cov = leave_out(full, "neosphere")
    assert res["params"]["neosphere"] == p.to_dict()
    fresh = rows_for([t for t in synth if t.trial == "neosphere"], p, cov, model)
    assert len(res["rows"]) == len(fresh) > 0
    for got, want in zip(res["rows"], fresh, strict=True):
        assert got["expected"] == pytest.approx(want.expected, rel=1e-9)
        assert want.param_sd > 0
        assert got["param_sd"] == pytest.approx(want.param_sd, rel=0.1), got["outcome"]
