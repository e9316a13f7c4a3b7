"""The fit and the prediction intervals on worker processes equal the serial ones, value for
value (synthetic rates, a small panel)."""

from __future__ import annotations

import datetime as dt
import pickle

import numpy as np

from her2lab.executor import executor
from her2lab.knowledge import load
from her2lab.virtual_trials.fit import fit
from her2lab.virtual_trials.link import LinkParams
from her2lab.virtual_trials.model import TrialModel
from her2lab.virtual_trials.rows import rows_for
from her2lab.virtual_trials.targets import targets_from_kb

from .fakes import FakeRates


def test_parallel_fit_and_rows_equal_the_serial_ones():
    targets = [t for t in targets_from_kb(load(), dt.date(2014, 8, 12))
               if t.trial in ("emilia", "neosphere", "altto", "cleopatra", "nsabp_b41")]
    model = TrialModel(FakeRates(), panel_size=4, chemo_points=1)
    serial = fit(targets, model, maxiter=3)
    rows = rows_for(targets, serial.params, serial.cov, model)
    with executor("processes", workers=2) as ex:
        par = fit(targets, model, maxiter=3, executor=ex)
        prow = rows_for(targets, par.params, par.cov, model, executor=ex)
    assert par.params == serial.params and par.objective == serial.objective
    assert par.evaluations == serial.evaluations
    assert np.array_equal(par.cov, serial.cov)
    assert par.curvature.grad.keys() == serial.curvature.grad.keys()
    for k in serial.curvature.grad:
        assert np.array_equal(par.curvature.hess[k], serial.curvature.hess[k])
    assert [r.to_dict() for r in prow] == [r.to_dict() for r in rows]


def test_a_pickled_model_drops_the_identity_keyed_rates():
    model = TrialModel(FakeRates(), panel_size=4, chemo_points=1)
    model._raw[(1, (), False)] = np.zeros(1)
    copy = pickle.loads(pickle.dumps(model))
    assert copy._raw == {} and model._raw


def test_prepare_memo_equals_prepare_and_reuses_unchanged_trials():
    targets = targets_from_kb(load(), dt.date(2014, 8, 12))
    model = TrialModel(FakeRates(), panel_size=4, chemo_points=1)
    plans = list({id(t.plan): t.plan for t in targets}.values())
    base = LinkParams()
    other = base.with_(setting=(("metastatic_pretreated", 0.3),))
    for params in (base, other):
        for plan in plans:
            a, b = model.prepare_memo(plan, params), model.prepare(plan, params)
            assert [e.to_dict() for e in a.effects] == [e.to_dict() for e in b.effects]
            assert {k: o.rate for k, o in a.outcomes.items()} == {
                k: o.rate for k, o in b.outcomes.items()}
    early = next(p for p in plans if p.early)
    assert model.prepare_memo(early, other) is model.prepare_memo(early, base)
