"""The HER2 model, written out by the engine's MaBoSS exporter, gives the same results in
MaBoSS (cmaboss) as in our engine.

Tolerance: each final node probability is a mean over 4,000 trajectories, so the difference of
two independent estimates has standard error at most sqrt(2 p (1 - p) / n) (time averaging
within the last window only lowers it). We allow 4.5 of those, with p the pooled estimate
floored at 1/n: a two-sided 4.5-sigma event has probability 7e-6, so over the 5 x 42
comparisons below a correct engine fails with probability about 0.15%, while a real
difference of 0.05 in a probability near 0.5 (the size of a drug effect we care about) is 7
standard errors and is caught.
"""

from __future__ import annotations

import math

import pytest

from her2lab.boolnet import StochasticSimulator, format_maboss, parse_maboss
from her2lab.pathway import model_files

cmaboss = pytest.importorskip("cmaboss", reason="cmaboss (the MaBoSS reference) is not installed")

N = 4000
CONDITIONS = [
    ("none", "none"),
    ("none", "trastuzumab"),
    ("pten_loss", "trastuzumab+vinorelbine+everolimus"),
    ("pd_l1_high,her3_activation", "trastuzumab+pertuzumab+anti_pd1"),
    ("p95her2,pik3ca_mutation", "tanespimycin+trastuzumab_emtansine+buparlisib"),
]


def _ours(bnd: str, cfg: str) -> dict[str, float]:
    model = parse_maboss(bnd, cfg)
    sim = StochasticSimulator(model, samples=N, max_time=40.0, time_tick=1.0, threads=1,
                              outputs=[], keep_final_states=False)
    return sim.run(seed=5).final


def _maboss(bnd: str, cfg: str) -> dict[str, float]:
    exported_bnd, exported_cfg = format_maboss(parse_maboss(bnd, cfg), seed_pseudorandom=17)
    res = cmaboss.MaBoSSSim(network_str=exported_bnd, config_str=exported_cfg).run()
    probs, _t, names, _e = res.get_last_nodes_probtraj()
    out = dict.fromkeys(parse_maboss(bnd, cfg).node_names, 0.0)
    out.update({str(n): float(p) for n, p in zip(names, probs[-1], strict=True)})
    return out


@pytest.mark.parametrize(("profile", "regimen"), CONDITIONS)
def test_our_engine_and_maboss_agree_on_every_node(profile, regimen):
    bnd, cfg = model_files(profile, regimen, samples=N, seed=5, threads=1)
    ours, ref = _ours(bnd, cfg), _maboss(bnd, cfg)
    assert set(ours) == set(ref)
    bad = []
    for node, p in ours.items():
        q = ref[node]
        pooled = min(max((p + q) / 2, 1 / N), 1 - 1 / N)
        tol = 4.5 * math.sqrt(2 * pooled * (1 - pooled) / N)
        if abs(p - q) > tol:
            bad.append(f"{node}: ours {p:.4f}, MaBoSS {q:.4f}, tolerance {tol:.4f}")
    assert not bad, "\n".join(bad)


def test_the_exported_files_keep_the_rate_scheme():
    bnd, cfg = model_files("pten_loss", "everolimus", samples=10, seed=1)
    exported_bnd, exported_cfg = format_maboss(parse_maboss(bnd, cfg))
    assert "$u_mTORC1" in exported_bnd and "$i_mTORC1" in exported_bnd
    assert "$u_mTORC1 = 0.2;" in exported_cfg
