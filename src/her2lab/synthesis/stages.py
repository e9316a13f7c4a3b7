"""The synthesis stage of ``her2lab reproduce``: the knowledge base's pooled analyses and their
forest plots under ``out/synthesis/`` (one JSON, a studies CSV and SVG/PNG/HTML plots per
question; league tables for the network's parts)."""

from __future__ import annotations

from her2lab.reproduce import Context, StageResult, register_stage


@register_stage("synthesis", "Evidence synthesis: pooled analyses and forest plots")
def synthesis_stage(ctx: Context) -> StageResult:
    from her2lab.synthesis.kb import kb_questions, pool_kb, write_pooled

    out = ctx.out_dir / "synthesis"
    files, summary, data = [], [], {}
    for q in kb_questions():
        pa = pool_kb(q.id)
        files += write_pooled(pa, out)
        data[q.id] = pa
        if pa.result is not None:
            r = pa.result.to_dict()
            summary.append((q.id, f"{q.measure} {r['estimate']:.2f} ({r['ci_low']:.2f}-"
                                  f"{r['ci_high']:.2f}), k = {r['k']}, REML"))
        else:
            summary.append((q.id, f"{len(pa.studies)} trials in {len(pa.networks)} "
                                  "unconnected network parts"))
    return StageResult(summary=summary, files=files, data=data)
