"""Our engine against MaBoSS (the PyPI package cmaboss) within Monte Carlo error.

Both engines run the same model (written by ``format_maboss``) with the same settings. Every
node probability in every time window, and every output-state probability, must agree within
Z = 5 standard errors of the difference of two independent binomial proportions over N
trajectories each: ``|a - b| <= 5 * sqrt(2 p (1 - p) / N)``, ``p`` the mean of the two, the
variance floored at ``1/N`` so that probabilities near 0 or 1 get a tolerance of a few
trajectories. A window mean is a time average within the window, whose variance is at most
``p (1 - p)``, so the bound is conservative. With M comparisons per model (nodes x windows, a
few hundred to a thousand) the chance that a correct engine fails by bad luck is at most
M * 5.7e-7 < 1e-3; the seeds are fixed, so a run that passes always passes. The last test shows
that these tolerances do detect a wrong rate.

The reference call, for the record: ``cmaboss.MaBoSSSim(network_str=bnd, config_str=cfg).run()``
then ``get_nodes_probtraj()`` and ``get_probtraj()`` (cmaboss 1.0.0b34; ``cmaboss_128n`` above
64 nodes).
"""

from __future__ import annotations

import numpy as np
import pytest

from her2lab.boolnet import StochasticSimulator
from her2lab.boolnet.generate import random_model
from her2lab.boolnet.reference import run_maboss

pytest.importorskip("cmaboss", reason="cmaboss (the MaBoSS reference) is a test dependency")

Z = 5.0
N = 20_000
SETTINGS = dict(samples=N, max_time=5.0, time_tick=0.5, threads=2)


def z_scores(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    p = (a + b) / 2
    var = np.maximum(p * (1 - p), 1.0 / n)
    return np.abs(a - b) / np.sqrt(2 * var / n)


def compare_nodes(model, seed: int, samples: int = N) -> np.ndarray:
    # MaBoSS reports the trajectories of its non-internal nodes only, and then also tracks
    # their joint states: with every node non-internal that is its costly part, hence fewer
    # samples (and a tolerance that widens accordingly) for the largest networks
    settings = SETTINGS | {"samples": samples}
    ours = StochasticSimulator(model, outputs=[], **settings).run(seed=seed)
    ref = run_maboss(model, seed=seed, **settings)
    assert np.allclose(ours.times, ref.times)
    cols = [ours.node_names.index(n) for n in ref.node_names]
    return z_scores(ours.node_probabilities[:, cols], ref.node_probabilities, samples)


def compare_states(model, outputs, seed: int) -> np.ndarray:
    ours = StochasticSimulator(model, outputs=outputs, **SETTINGS).run(seed=seed)
    ref = run_maboss(model, outputs=outputs, seed=seed, **SETTINGS)
    keys = sorted(set(ours.state_keys.tolist()) | set(ref.state_keys.tolist()))

    def table(res):
        out = np.zeros((len(res.times), len(keys)))
        for j, key in enumerate(res.state_keys.tolist()):
            out[:, keys.index(key)] = res.state_probabilities[:, j]
        return out

    return z_scores(table(ours), table(ref), N)


RANDOM_NETWORKS = [
    pytest.param(20, 101, 2, id="20-nodes"),
    pytest.param(40, 202, 3, id="40-nodes"),
    pytest.param(60, 303, 4, id="60-nodes"),
]
SAMPLES = {20: N, 40: N, 60: 8_000}


@pytest.mark.parametrize(("n_nodes", "seed", "mutations"), RANDOM_NETWORKS)
def test_node_trajectories_equal_maboss_on_random_networks(n_nodes, seed, mutations):
    model = random_model(n_nodes, seed=seed, n_mutations=mutations)
    z = compare_nodes(model, seed=seed, samples=SAMPLES[n_nodes])
    assert z.max() <= Z, f"largest deviation {z.max():.1f} standard errors"


@pytest.mark.parametrize(("n_nodes", "seed", "mutations"), RANDOM_NETWORKS)
def test_state_trajectories_equal_maboss_on_random_networks(n_nodes, seed, mutations):
    model = random_model(n_nodes, seed=seed, n_mutations=mutations)
    outputs = model.node_names[1:5]
    z = compare_states(model, outputs, seed=seed + 1)
    assert z.max() <= Z, f"largest deviation {z.max():.1f} standard errors"


def test_beyond_64_nodes_node_trajectories_equal_maboss_128n():
    model = random_model(70, seed=707, n_mutations=3)
    z = compare_nodes(model, seed=7, samples=5_000)
    assert z.max() <= Z, f"largest deviation {z.max():.1f} standard errors"


def test_the_tolerance_detects_a_rate_off_by_a_factor_of_two():
    # the comparison must be able to fail: halve every up rate of one well-connected node in
    # our run only, and the deviation must exceed the tolerance
    model = random_model(20, seed=101, n_mutations=2)
    target = max((n for n in model.node_names if n not in model.fixed),
                 key=lambda n: sum(n in m.reads() for m in model))
    ours = StochasticSimulator(model.perturbed(up_factor={target: 0.5}), outputs=[],
                               **SETTINGS).run(seed=101)
    ref = run_maboss(model, seed=101, **SETTINGS)
    cols = [ours.node_names.index(n) for n in ref.node_names]
    assert z_scores(ours.node_probabilities[:, cols], ref.node_probabilities, N).max() > Z


@pytest.mark.needs_shared
@pytest.mark.parametrize("knock_out", [[], ["v_MYC"]], ids=["wild-type", "MYC-OFF"])
def test_sahin_2009_equals_maboss_and_myc_off_abolishes_prb1(sahin, knock_out):
    model = sahin.perturbed(knock_out=knock_out)
    settings = dict(samples=N, max_time=50.0, time_tick=5.0, threads=2)
    ours = StochasticSimulator(model, outputs=["v_pRB1", "v_MYC"], **settings).run(seed=2009)
    ref = run_maboss(model, outputs=["v_pRB1", "v_MYC"], seed=2009, **settings)
    a = ours.node_probabilities[:, [ours.node_names.index("v_pRB1")]]
    b = ref.node_probabilities[:, [ref.node_names.index("v_pRB1")]]
    assert z_scores(a, b, N).max() <= Z
    if knock_out:
        # the known answer (README of the shared model): MYC OFF drives P(pRB1) to 0
        assert ours.final["v_pRB1"] == 0.0 and ref.final["v_pRB1"] == 0.0
    else:
        assert ours.final["v_pRB1"] > 0.85  # ~0.93 in the shared model's README


def test_discrete_time_follows_maboss_and_its_closed_form():
    # MaBoSS's discrete_time = 1: the next node is chosen by rate, and transition k happens at
    # k * time_tick. A (up rate 1) and B (up rate 3) start OFF, C = A & B: the first
    # transition, at t = dt, is A with probability 1/4 and B with 3/4, the second is the
    # other one, the third C; so the windows are [0, 0, 0], [1/4, 3/4, 0], [1, 1, 0], [1, 1, 1]
    from her2lab.boolnet import Model, Node

    abc = Model([Node("A", "A", rate_up="1", rate_down="0", initial=0.0),
                 Node("B", "B", rate_up="3", rate_down="0", initial=0.0),
                 Node("C", "A & B", initial=0.0)])
    kw = dict(samples=N, max_time=2.0, time_tick=0.4, threads=2)
    ours = StochasticSimulator(abc, discrete_time=True, **kw).run(seed=1)
    expected = np.array([[0, 0, 0], [0.25, 0.75, 0], [1, 1, 0], [1, 1, 1], [1, 1, 1]])
    sd = np.sqrt(np.maximum(expected * (1 - expected), 1 / N) / N)
    assert np.all(np.abs(ours.node_probabilities - expected) <= Z * sd)
    ref = run_maboss(abc, seed=1, discrete_time=True, **kw)
    assert np.all(np.abs(ref.node_probabilities - expected) <= Z * sd)
    # and on a random network with feedback, state-dependent rates and mutations
    model = random_model(20, seed=404, n_mutations=2)
    settings = SETTINGS | {"samples": 8000}
    ours = StochasticSimulator(model, outputs=[], discrete_time=True, **settings).run(seed=2)
    ref = run_maboss(model, seed=2, discrete_time=True, **settings)
    cols = [ours.node_names.index(n) for n in ref.node_names]
    z = z_scores(ours.node_probabilities[:, cols], ref.node_probabilities, 8000)
    assert z.max() < Z
    # the two time semantics differ, so the comparison can tell them apart
    cont = StochasticSimulator(model, outputs=[], **settings).run(seed=2)
    assert z_scores(cont.node_probabilities[:, cols], ref.node_probabilities, 8000).max() > Z
