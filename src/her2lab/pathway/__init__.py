"""The HER2 pathway model: signaling, graded escape routes, drugs as graded perturbations.

A logical model of HER2-driven signaling (``data/her2.bnd``, ``data/her2.cfg``, annotated in
``data/annotations.yaml``) run on :mod:`her2lab.boolnet`. Drugs and resistance mechanisms are
data (``data/perturbations.yaml``): a tumor profile gives each mechanism a degree in [0, 1]
(the share of cells carrying it) and an HR status; a regimen is a set of drugs. A run gives
phenotype time courses, growth and kill rates per day (:class:`Rates`) and one scalar response
(higher is better). The seed's mechanistic statements are executable expectations in
``data/claims.yaml`` (:mod:`her2lab.pathway.claims`).
"""

from her2lab.pathway.drugs import DRUGS, normalize_regimen
from her2lab.pathway.mechanisms import ATTRIBUTES, MECHANISMS, Profile, normalize_profile
from her2lab.pathway.model import Her2Model, load_model
from her2lab.pathway.response import KILL_SOURCES, PHENOTYPES, Rates, TimeCourse, response
from her2lab.pathway.simulate import Result, model_files, simulate, simulate_many

__all__ = [
    "ATTRIBUTES",
    "DRUGS",
    "KILL_SOURCES",
    "MECHANISMS",
    "PHENOTYPES",
    "Her2Model",
    "Profile",
    "Rates",
    "Result",
    "TimeCourse",
    "load_model",
    "model_files",
    "normalize_profile",
    "normalize_regimen",
    "response",
    "simulate",
    "simulate_many",
]
