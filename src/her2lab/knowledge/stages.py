"""The knowledge base's stage of ``her2lab reproduce``: build, audit, write."""

from __future__ import annotations

import csv
import json
from collections import Counter

from her2lab.atomic import atomic_open, atomic_write_text
from her2lab.knowledge.audit import run_audit
from her2lab.knowledge.load import load
from her2lab.reproduce import Context, StageResult, register_stage


@register_stage("knowledge", "Knowledge base and statistical audit")
def knowledge_stage(ctx: Context) -> StageResult:
    kb = load()
    out = ctx.out_dir / "knowledge"
    out.mkdir(parents=True, exist_ok=True)

    kb_json = out / "kb.json"
    atomic_write_text(kb_json, json.dumps(kb.model_dump(mode="json"), indent=1, ensure_ascii=False))

    findings = run_audit(kb)
    audit_json = out / "audit.json"
    atomic_write_text(audit_json, json.dumps([f.to_dict() for f in findings], indent=1,
                                         ensure_ascii=False))

    table1 = out / "table1.csv"
    with atomic_open(table1, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["trial", "nct", "phase", "setting", "endpoint", "outcome", "kind", "arm(s)",
                    "value", "unit", "ci_low", "ci_high", "ci_level", "p", "locator", "refs"])
        for t in kb.trials:
            if not t.in_table1:
                continue
            for o in t.outcomes:
                w.writerow([
                    t.name, t.nct or "", t.phase, t.setting.value, o.endpoint.value, o.id, o.kind,
                    o.arm or " vs ".join(o.arms), "" if o.value is None else o.value,
                    o.unit or (o.measure or ""),
                    "" if o.ci is None or o.ci.low is None else o.ci.low,
                    "" if o.ci is None or o.ci.high is None else o.ci.high,
                    "" if o.ci is None else o.ci.level,
                    "" if o.p is None else f"{o.p.relation}{o.p.value:g}".lstrip("="),
                    o.provenance.locator, " ".join(map(str, o.provenance.refs)),
                ])

    sev = Counter(f.severity for f in findings)
    n_arms = sum(len(t.arms) for t in kb.trials)
    n_out = sum(len(t.outcomes) for t in kb.trials)
    summary = [
        ("drugs / targets / mechanisms / biomarkers",
         f"{len(kb.drugs)} / {len(kb.targets)} / {len(kb.mechanisms)} / {len(kb.biomarkers)}"),
        ("trials (Table 1) / arms / outcomes",
         f"{len(kb.trials)} ({sum(t.in_table1 for t in kb.trials)}) / {n_arms} / {n_out}"),
        ("references / recorded conflicts", f"{len(kb.references)} / {len(kb.conflicts)}"),
        ("audit findings (error / warning / info)",
         f"{sev['error']} / {sev['warning']} / {sev['info']}"),
    ]
    return StageResult(summary=summary, files=[kb_json, audit_json, table1], data=findings)
