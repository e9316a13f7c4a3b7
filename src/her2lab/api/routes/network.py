"""``/api/pathway/network``: the HER2 pathway model as a graph, and a simulation's node
activities on it (what WebMaBoSS shows for a MaBoSS model, served by this app).

``GET /api/pathway/network``: every node (its kind and note from ``annotations.yaml``, its
rule), every influence of one node on another read from the rules (an activation where the
regulator enters the rule un-negated, an inhibition where it enters under a NOT, both where it
enters both ways or through an XOR), the drugs (the nodes each one binds, inhibits or
induces, from ``perturbations.yaml``) and the mechanisms (the profile node each one sets).

``POST /api/pathway/network/activity``: one simulation of a profile under a regimen, with
every node's P(ON) averaged over the read-out window (the same numbers as
:attr:`her2lab.pathway.simulate.Result.nodes`) and the daily P(ON) trajectories of the
chosen nodes.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from her2lab.api.errors import ApiError, problem
from her2lab.api.routes.pathway import MAX_SAMPLES, Name, Profile, Regimen, _profile_arg
from her2lab.seeds import DEFAULT_SEED

router = APIRouter(prefix="/api/pathway", tags=["pathway model"])

Sign = Literal["activation", "inhibition", "both"]
NOTICE = "Research use: a model output, not a treatment recommendation or medical advice."


class NodeOut(BaseModel):
    id: str
    kind: str = Field(description="From annotations.yaml: protein, complex, activity, "
                      "process, phenotype, cell, metabolite, drug_state or profile.")
    note: str = ""
    hgnc: list[str] = Field(default_factory=list)
    rule: str = Field(description="The node's logic rule (MaBoSS syntax).")
    mechanism: str | None = Field(default=None, description="The mechanism whose profile "
                                  "node this is.")
    readout: str | None = Field(default=None, description="The phenotype or kill source "
                                "this node is read out as.")


class EdgeOut(BaseModel):
    source: str
    target: str
    sign: Sign


class DrugEffectOut(BaseModel):
    node: str
    kind: Literal["bind", "inhibit", "induce"]
    weight: float


class DrugOut(BaseModel):
    id: str
    name: str
    effects: list[DrugEffectOut]


class MechanismOut(BaseModel):
    id: str
    name: str
    node: str


class NetworkOut(BaseModel):
    nodes: list[NodeOut]
    edges: list[EdgeOut]
    drugs: list[DrugOut]
    mechanisms: list[MechanismOut]
    time_unit: str = "day"


class ActivityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile: Profile = Field(default_factory=list, examples=[["pten_loss"]],
                             description="Mechanism IDs, or mechanism -> degree in [0, 1].")
    regimen: Regimen = Field(default_factory=list, examples=[["trastuzumab"]])
    hr_positive: bool | None = None
    samples: int = Field(default=500, ge=1, le=MAX_SAMPLES, description="Trajectories.")
    seed: int = Field(default=DEFAULT_SEED, ge=0, le=2**31 - 1)
    nodes: Annotated[list[Name], Field(max_length=12)] = Field(
        default_factory=list, description="Nodes whose P(ON) trajectory to return.",
        examples=[["AKT", "ERK", "Proliferation"]])


class ActivityOut(BaseModel):
    profile: Any
    regimen: list[str]
    samples: int
    seed: int
    window_start: float = Field(description="Start of the read-out window (days).")
    activity: dict[str, float] = Field(description="Every node's P(ON), averaged over the "
                                       "read-out window.")
    times: list[float] = Field(description="Window starts (days) of the trajectories.")
    trajectories: dict[str, list[float]] = Field(description="P(ON) per window of each "
                                                 "chosen node.")
    notice: str = NOTICE


def _signs(expr: Any) -> dict[str, set[bool]]:
    """Regulator -> the polarities (True: un-negated) it enters ``expr`` with."""
    from her2lab.boolnet import expr as ex

    out: dict[str, set[bool]] = {}

    def walk(e: Any, positive: bool) -> None:
        if isinstance(e, ex.Var):
            out.setdefault(e.name, set()).add(positive)
        elif isinstance(e, ex.Not):
            walk(e.arg, not positive)
        elif isinstance(e, ex.Xor | ex.Cond):  # either polarity can raise the node
            for side in ((e.left, e.right) if isinstance(e, ex.Xor) else
                         (e.cond, e.then, e.other)):
                walk(side, True)
                walk(side, False)
        elif isinstance(e, ex.And | ex.Or):
            for child in e.args:
                walk(child, positive)
        elif isinstance(e, ex.Neg):
            walk(e.arg, not positive)
        elif isinstance(e, ex.BinOp):
            walk(e.left, positive)
            walk(e.right, positive)

    walk(expr, True)
    return out


@cache
def network() -> NetworkOut:
    from importlib import resources

    import yaml

    from her2lab.knowledge import load
    from her2lab.pathway import DRUGS, MECHANISMS
    from her2lab.pathway.model import load_model
    from her2lab.pathway.response import KILL_SOURCES, PHENOTYPES

    model = load_model()
    notes = yaml.safe_load((resources.files("her2lab.pathway") / "data" /
                            "annotations.yaml").read_text(encoding="utf-8"))["nodes"]
    mech_of = {m.node: mid for mid, m in MECHANISMS.items()}
    readout = {node: name for name, node in PHENOTYPES.items()}
    readout.update({node: f"{src} kill" for src, node in KILL_SOURCES.items()
                    if node not in readout})
    nodes, edges = [], []
    for n in model.nodes:
        a = notes.get(n, {})
        nodes.append(NodeOut(id=n, kind=str(a.get("kind", "node")), note=str(a.get("note", "")),
                             hgnc=[str(h) for h in a.get("hgnc", []) or []],
                             rule=model.rules[n], mechanism=mech_of.get(n),
                             readout=readout.get(n)))
        for src, pol in sorted(_signs(model.engine[n].logic).items()):
            if src == n and n in model.profile_nodes:
                continue  # a profile node holds itself: not an influence
            sign: Sign = "both" if len(pol) == 2 else "activation" if True in pol else "inhibition"
            edges.append(EdgeOut(source=src, target=n, sign=sign))
    kb = load()

    def name(getter: Any, key: str) -> str:
        try:
            return getter(key).name
        except KeyError:
            return key

    drugs = [DrugOut(id=d, name=name(kb.drug, d),
                     effects=[DrugEffectOut(node=e.node, kind=e.kind, weight=e.weight)
                              for e in m.effects]) for d, m in DRUGS.items()]
    mechs = [MechanismOut(id=mid, name=name(kb.mechanism, mid), node=m.node)
             for mid, m in MECHANISMS.items()]
    return NetworkOut(nodes=nodes, edges=edges, drugs=drugs, mechanisms=mechs)


@router.get("/network", response_model=NetworkOut)
def get_network() -> NetworkOut:
    """The pathway model as a graph: nodes, activations and inhibitions, drugs, mechanisms."""
    return network()


@router.post("/network/activity", response_model=ActivityOut)
async def activity(body: ActivityIn, request: Request) -> ActivityOut:
    """Every node's activity under a regimen on a profile, and trajectories of chosen nodes."""
    from her2lab.pathway.drugs import normalize_regimen
    from her2lab.pathway.mechanisms import normalize_profile
    from her2lab.pathway.model import load_model
    from her2lab.pathway.response import T0
    from her2lab.pathway.simulate import Condition, simulator, stream_seed

    model = load_model()
    known = set(model.nodes)
    for i, n in enumerate(body.nodes):
        if n not in known:
            raise ApiError(422, f"nodes[{i}]: {n!r} is not a node of the pathway model",
                           [problem(f"nodes[{i}]", "a node of GET /api/pathway/network", n)])
    cond = Condition(normalize_profile(_profile_arg(body.profile), body.hr_positive),
                     normalize_regimen(list(body.regimen)))
    sim = simulator(body.samples)  # the simulator of simulate()
    # in a simulation slot (429 at once when every slot and its queue are full); the
    # condition's stream, as simulate() runs it: the numbers of POST /api/pathway/simulate
    res = await request.app.state.slots.run(
        lambda: sim.run(seed=stream_seed(cond, body.seed), overrides=cond.overrides()))
    times = [float(t) for t in res.times]
    k0 = next((k for k, t in enumerate(times) if t >= T0 - 1e-9), 0)
    names = list(res.node_names)
    mean = res.node_probabilities[k0:].mean(axis=0)
    return ActivityOut(
        profile=_profile_arg(body.profile), regimen=list(cond.regimen), samples=body.samples,
        seed=body.seed, window_start=float(T0),
        activity={n: float(v) for n, v in zip(names, mean, strict=True)}, times=times,
        trajectories={n: [float(x) for x in res.node_probabilities[:, names.index(n)]]
                      for n in body.nodes})
