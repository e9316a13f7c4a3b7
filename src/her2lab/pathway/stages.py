"""The pathway model's stage of ``her2lab reproduce``: claims and the response matrix.

Writes under ``OUT/pathway/``:

- ``her2.bnd``, ``her2.cfg``: the model as run (MaBoSS format, loads in MaBoSS);
- ``claims.csv``: every claim of ``claims.yaml`` with its contrast, margin and status;
- ``response_*``: the response matrix of the seed's mechanisms (none and each single one) by
  untreated, every single drug of the knowledge base and every Table 1 regimen, as long and
  matrix CSV, heatmap PNG and interactive HTML;
- ``best_regimens.csv``: per profile, the regimens ranked first (research use only).
"""

from __future__ import annotations

import csv
from importlib import resources

from her2lab.atomic import atomic_open, atomic_write_bytes
from her2lab.pathway.claims import CLAIM_SAMPLES, default_runner, evaluate_all, load_claims
from her2lab.pathway.screen import label, resolve_profiles, resolve_regimens, screen, write_outputs
from her2lab.reproduce import Context, StageResult, register_stage

QUICK_SAMPLES = 250


@register_stage("pathway", "HER2 pathway model: claims and response matrix")
def pathway_stage(ctx: Context) -> StageResult:
    out = ctx.out_dir / "pathway"
    out.mkdir(parents=True, exist_ok=True)
    files = []
    data = resources.files("her2lab.pathway") / "data"
    for name in ("her2.bnd", "her2.cfg", "annotations.yaml", "perturbations.yaml"):
        with resources.as_file(data / name) as src:
            atomic_write_bytes(out / name, src.read_bytes())
        files.append(out / name)

    # claims: at their own sample counts (the margins are derived from them); --quick skips
    claims = load_claims()
    outcomes = [] if ctx.quick else evaluate_all(claims, default_runner(seed=ctx.seed))
    claims_csv = out / "claims.csv"
    with atomic_open(claims_csv, newline="") as fh:
        if outcomes:
            rows = [o.to_row() for o in outcomes]
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        else:
            fh.write("id,status\n" + "".join(f"{c.id},not run (--quick)\n" for c in claims))
    files.append(claims_csv)

    samples = QUICK_SAMPLES if ctx.quick else CLAIM_SAMPLES
    profiles = resolve_profiles("all-single+hr")
    regimens = resolve_regimens("all-single")
    regimens += [r for r in resolve_regimens("table1") if r not in regimens]
    result = screen(profiles, regimens, samples=samples, seed=ctx.seed)
    files += write_outputs(result, out)

    best_csv = out / "best_regimens.csv"
    with atomic_open(best_csv, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["profile", "rank", "regimen", "response", "response_se",
                    "trastuzumab_response"])
        for p in profiles:
            ranked = sorted(regimens, key=lambda r, p=p: -result.response(p, r))
            for k, r in enumerate(ranked[:5], start=1):
                res = result.results[(p, r)]
                w.writerow([label(p), k, label(r, "+"), f"{res.response:.4f}",
                            f"{res.response_se:.4f}",
                            f"{result.response(p, ('trastuzumab',)):.4f}"])
    files.append(best_csv)

    n_pass = sum(o.status == "pass" for o in outcomes)
    n_miss = sum(o.claim.expected == "miss" and o.as_expected for o in outcomes)
    n_bad = sum(not o.as_expected for o in outcomes)
    none = profiles[0]
    base = result.response(none, ())
    tz = result.response(none, ("trastuzumab",))
    resistant = [p for p in profiles if p.degrees
                 and result.response(p, ("trastuzumab",)) < tz - 0.1]
    summary = [
        ("claims: pass / known miss / unexpected",
         f"{n_pass} / {n_miss} / {n_bad} of {len(claims)}" if outcomes else "skipped (--quick)"),
        ("response matrix (profiles x regimens, samples)",
         f"{len(profiles)} x {len(regimens)} ({samples})"),
        ("response untreated / trastuzumab (sensitive tumor)", f"{base:.2f} / {tz:.2f}"),
        ("mechanisms blunting trastuzumab by > 0.1", f"{len(resistant)} of {len(profiles) - 1}"),
    ]
    return StageResult(summary=summary, files=files, data={"outcomes": outcomes,
                                                           "screen": result})
