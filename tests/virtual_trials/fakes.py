"""A synthetic rates model: growth and kill from a few documented rules, no pathway run.

It lets the link, the fit and the trials be tested on rates whose structure is known (the
pathway model's :class:`~her2lab.pathway.Rates`), independently of the pathway model's current
numbers:

* growth 1 per day, 1.3 with ``vegf_high`` unless an anti-angiogenic drug is given;
* targeted kill: each HER2-directed drug adds ``0.6 * potency``, reduced by each mechanism
  present by ``1 - 0.5 * degree`` (``pten_loss`` is reversed by everolimus);
* cytotoxic kill 0.8 with any cytotoxic drug; immune kill 0.2 with an antibody.
"""

from __future__ import annotations

from her2lab.pathway import Rates
from her2lab.virtual_trials.rates import CYTOTOXIC, RatesModel

HER2 = {"trastuzumab": 0.9, "pertuzumab": 0.6, "trastuzumab_emtansine": 1.2,
        "lapatinib": 0.8, "neratinib": 0.9}
ANTIBODIES = {"trastuzumab", "pertuzumab", "trastuzumab_emtansine"}


class FakeRates(RatesModel):
    def rates(self, profile, drugs, potency=(), *, hr_positive=False):
        self.calls += 1
        drugs = set(drugs)
        pot = dict(potency.items() if hasattr(potency, "items") else potency)
        growth = 1.0 + (0.3 if "vegf_high" in profile and "bevacizumab" not in drugs else 0.0)
        escape = 1.0
        for m, deg in profile.items():
            if m == "pten_loss" and "everolimus" in drugs:
                continue
            escape *= 1 - 0.5 * deg
        targeted = sum(0.6 * pot.get(d, HER2[d] / 1.2) * escape for d in drugs if d in HER2)
        if "everolimus" in drugs:
            targeted += 0.1
        cyto = 0.8 if drugs & CYTOTOXIC else 0.0
        immune = 0.2 if drugs & ANTIBODIES else 0.0
        return Rates(growth, {"targeted": targeted, "immune": immune, "cytotoxic": cyto})
