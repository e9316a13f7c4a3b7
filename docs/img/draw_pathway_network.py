"""Draw the HER2 model's network (docs/img/pathway_network.svg) from the model files.

Run from the repository root: ``python docs/img/draw_pathway_network.py``. Nodes are placed by
layer (columns) in the order of ``her2.bnd``; an edge goes from every input of a node's rule to
the node, green when the input acts positively, red when it acts through a negation. Drawn
with matplotlib only, so it needs nothing beyond the project's dependencies.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from her2lab.boolnet.expr import And, Expr, Not, Or, Var, Xor
from her2lab.pathway import load_model

LAYERS: list[tuple[str, list[str]]] = [
    ("profile", ["M_p95her2", "M_egfr_coexpression", "M_her3_activation", "M_igf1r_activation",
                 "M_met_overexpression", "M_muc4_masking", "M_pten_loss", "M_pik3ca_mutation",
                 "M_src_activation", "HR_pos", "M_vegf_high", "M_immune_cold", "M_pd_l1_high"]),
    ("receptors, drugs", ["HSP90", "HER2", "p95HER2", "EGFR", "HRG", "HER3", "IGF1R", "MET",
                          "MUC4", "TZ", "PZ", "TDM1", "TKI", "DM1"]),
    ("HER2/HER3 unit", ["HER2_HER2", "HER2_HER3", "HER2_EGFR", "ERBB_kinase", "HER3_p",
                        "HER2_surface"]),
    ("PI3K, MAPK, ER", ["PTEN", "SRC", "IRS1", "PIK3CA_mut", "PI3K", "PIP3", "mTORC2", "AKT",
                        "SGK", "FOXO", "mTORC1", "S6", "RAS", "ERK", "E2", "ER", "BCL2"]),
    ("cell fate, vessels, immune", ["CycD", "BAD", "HIF1A", "VEGF", "VEGFR", "TIL", "NK",
                                    "ADCC", "CD73", "PD1", "PDL1", "Tcell", "IFNG",
                                    "MT_stress", "DNA_damage"]),
    ("phenotypes", ["Proliferation", "Angiogenesis", "Apoptosis", "Payload_death",
                    "Cytotoxic_death", "Immune_kill"]),
]


def signed_inputs(e: Expr, negated: bool = False) -> set[tuple[str, bool]]:
    """(variable, acts through a negation) for every variable of a Boolean rule."""
    if isinstance(e, Var):
        return {(e.name, negated)}
    if isinstance(e, Not):
        return signed_inputs(e.arg, not negated)
    if isinstance(e, And | Or):
        return set().union(*(signed_inputs(a, negated) for a in e.args))
    if isinstance(e, Xor):
        return signed_inputs(e.left, negated) | signed_inputs(e.right, negated)
    return set()


def draw(path: Path) -> None:
    model = load_model()
    placed = [n for _, col in LAYERS for n in col]
    missing = set(model.nodes) - set(placed)
    if missing:
        raise SystemExit(f"nodes without a layer: {sorted(missing)}")
    pos: dict[str, tuple[float, float]] = {}
    for x, (_, col) in enumerate(LAYERS):
        for k, n in enumerate(col):
            pos[n] = (x * 3.0, -(k - (len(col) - 1) / 2) * 1.0)
    fig, ax = plt.subplots(figsize=(17, 11))
    for target in model.nodes:
        if target in model.profile_nodes:
            continue
        for src, neg in signed_inputs(model.engine[target].logic):
            if src == target:
                continue  # the absorbing death nodes' self-loop
            (x0, y0), (x1, y1) = pos[src], pos[target]
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                        arrowprops={"arrowstyle": "-|>" if not neg else "-[",
                                    "color": "#c0392b" if neg else "#27ae60", "lw": 0.6,
                                    "alpha": 0.55, "shrinkA": 14, "shrinkB": 14,
                                    "connectionstyle": "arc3,rad=0.12"})
    kinds = {"profile": "#f5e6ff", "receptors, drugs": "#e8f1fb", "HER2/HER3 unit": "#e8f1fb",
             "PI3K, MAPK, ER": "#eef8ee", "cell fate, vessels, immune": "#fff6e5",
             "phenotypes": "#fde8e8"}
    for x, (name, col) in enumerate(LAYERS):
        ax.text(x * 3.0, max(p[1] for n, p in pos.items() if n in col) + 1.0, name,
                ha="center", fontsize=10, weight="bold")
        for n in col:
            ax.text(*pos[n], n, ha="center", va="center", fontsize=7.5,
                    bbox={"boxstyle": "round,pad=0.3", "fc": kinds[name], "ec": "#555555",
                          "lw": 0.6})
    ax.set_xlim(-1.6, 3.0 * (len(LAYERS) - 1) + 1.6)
    top = max(len(col) for _, col in LAYERS) / 2 + 1.6
    ax.set_ylim(-top, top)
    ax.set_axis_off()
    ax.set_title("her2lab HER2 pathway model: rules' inputs (green: activating, red: "
                 "inhibiting); profile nodes hold each mechanism's degree", fontsize=11)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.95, bottom=0.01)
    fig.savefig(path)
    plt.close(fig)


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name(
        "pathway_network.svg")
    draw(out)
    print(out)
