"""The HER2 pathway model: signaling, escape routes, drugs as graded perturbations.

A logical model of HER2-driven signaling (``data/her2.bnd``, ``data/her2.cfg``, annotated in
``data/annotations.yaml``) run on :mod:`her2lab.boolnet`. A tumor profile (a set of resistance
mechanisms of the knowledge base) and a regimen (a set of drugs) are settings of the model's
rate parameters; the read-outs are the probabilities of four phenotypes and one scalar
response (tumor control, higher is better). The seed's mechanistic statements are executable
expectations in ``data/claims.yaml`` (:mod:`her2lab.pathway.claims`).
"""

from her2lab.pathway.drugs import DRUGS, normalise_regimen
from her2lab.pathway.mechanisms import MECHANISMS, normalise_profile
from her2lab.pathway.model import Her2Model, load_model
from her2lab.pathway.response import PHENOTYPES, response
from her2lab.pathway.simulate import Result, model_files, simulate

__all__ = [
    "DRUGS",
    "MECHANISMS",
    "PHENOTYPES",
    "Her2Model",
    "Result",
    "load_model",
    "model_files",
    "normalise_profile",
    "normalise_regimen",
    "response",
    "simulate",
]
