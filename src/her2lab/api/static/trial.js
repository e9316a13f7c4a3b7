// One trial: design, arms, outcomes with provenance, its effects as a forest plot, conflicts,
// audit findings, references (and pooled analyses where the synthesis package provides them).
"use strict";

const el = H2L.el;

function ci(o) {
  if (!o.ci || (o.ci.low === null && o.ci.high === null)) return "–";
  return `${H2L.fmt(o.ci.low)} to ${H2L.fmt(o.ci.high)} (${Math.round(o.ci.level * 100)}%)`;
}

function value(o) {
  if (o.kind === "range") return `${H2L.fmt(o.low)}–${H2L.fmt(o.high)} ${o.unit || ""}`;
  if (o.not_reached) return "not reached";
  const q = o.qualifier && o.qualifier !== "=" ? o.qualifier + " " : "";
  const unit = o.unit === "percent" ? "%" : o.unit && o.unit !== "ratio" ? " " + o.unit : "";
  return q + H2L.fmt(o.value) + unit + (o.measure ? " (" + o.measure + ")" : "");
}

function forest(trial, box) {
  const effects = trial.outcomes.filter((o) => o.kind === "effect" && (o.measure === "HR" || o.measure === "OR") && o.ci && o.ci.low !== null && o.ci.high !== null);
  if (!effects.length) return false;
  const labels = effects.map((o) => `${o.endpoint} ${o.measure}${o.subgroup ? " [" + o.subgroup + "]" : ""} (${o.id})`);
  Plotly.newPlot(box, [{
    type: "scatter", mode: "markers", x: effects.map((o) => o.value), y: labels,
    error_x: {type: "data", symmetric: false, array: effects.map((o) => o.ci.high - o.value),
              arrayminus: effects.map((o) => o.value - o.ci.low)},
    marker: {size: 9, color: "#0b5cad", symbol: "square"}, name: "reported",
    hovertemplate: "%{y}: %{x}<extra></extra>",
  }], H2L.layout({title: {text: "Reported effects with their confidence intervals", font: {size: 13}},
    xaxis: {type: "log", title: "ratio (log scale); < 1 favours the first arm"},
    yaxis: {automargin: true}, height: 120 + 34 * effects.length,
    shapes: [{type: "line", x0: 1, x1: 1, yref: "paper", y0: 0, y1: 1, line: {dash: "dot", color: "#888"}}],
    showlegend: false}), H2L.plotConfig);
  return true;
}

async function pooled(trial, box) {
  // Pooled analyses (meta-analyses of the knowledge base) that include this trial.
  let meta = {features: {}};
  try { meta = await H2L.api("/api/meta"); } catch (e) { return; }
  if (!meta.features.pooled) return;
  try {
    const found = await H2L.api("/api/synthesis/pooled?trial=" + encodeURIComponent(trial.id));
    if (!found.length) return;
    box.appendChild(el("h2", {}, "Pooled analyses that include this trial"));
    for (const a of found) {
      const r = a.result;
      const summary = r ? [a.measure, H2L.fmt(r.estimate), "(" + H2L.fmt(r.ci_low) + "–" + H2L.fmt(r.ci_high) + ")",
        r.i2 !== undefined && r.i2 !== null ? "I² " + H2L.fmt(r.i2, 3) + "%" : ""].join(" ") : "network meta-analysis";
      box.appendChild(el("div", {class: "card pooled"},
        el("h3", {}, a.title || a.question),
        el("div", {}, el("b", {}, "Pooled: "), summary, " · " + a.studies.length + " studies"),
        a.forest_svg ? el("img", {src: a.forest_svg, alt: "forest plot: " + (a.title || a.question), class: "forest", style: "max-width:100%"}) : null,
        H2L.table([{key: "trial_name", label: "Study"}, {key: "estimate", label: a.measure, render: (x) => H2L.fmt(x.estimate)},
          {key: "ci", label: "95% CI", render: (x) => H2L.fmt(x.ci_low) + " – " + H2L.fmt(x.ci_high), sort: (x) => x.ci_low},
          {key: "derivation", label: "How the effect was obtained"}], a.studies),
        a.conflicts.length ? el("div", {class: "small"}, "Conflict values used: " + a.conflicts.map((c) => c.conflict + " → " + c.used).join("; ")) : null,
        a.excluded.length ? el("div", {class: "small muted"}, "Left out: " + a.excluded.join("; ")) : null,
        el("div", {class: "small muted"}, a.disclaimer)));
    }
  } catch (e) { /* synthesis optional */ }
}

async function init() {
  await H2L.chrome("/trials");
  const id = decodeURIComponent(window.location.pathname.split("/").pop());
  const box = document.getElementById("trial");
  let d;
  try {
    d = await H2L.api("/api/kb/trials/" + encodeURIComponent(id) + "/detail");
  } catch (err) {
    H2L.showError(document.getElementById("error"), err);
    return;
  }
  const t = d.trial;
  document.title = "her2lab · " + t.name;
  const pop = t.population;
  box.append(
    el("h1", {}, t.name),
    el("p", {class: "lead"}, [t.nct, "phase " + t.phase, t.randomized ? "randomised" : "not randomised",
      H2L.pretty(t.setting), t.n ? t.n + " patients" : null, t.status].filter(Boolean).join(" · ")),
    el("div", {class: "card"},
      el("div", {}, el("b", {}, "Design: "), t.design),
      el("div", {}, el("b", {}, "Population: "), pop.description,
        pop.prior_trastuzumab === null ? "" : pop.prior_trastuzumab ? " (after trastuzumab)" : " (trastuzumab-naive)"),
      el("div", {}, el("b", {}, "Primary endpoint: "), t.primary_endpoint || "–"),
      el("div", {class: "small muted"}, "Source: " + t.provenance.locator +
        (t.provenance.refs.length ? " · refs " + t.provenance.refs.join(", ") : ""))));
  box.append(el("h2", {}, "Arms"), el("div", {class: "card"}, H2L.table([
    {key: "id", label: "Arm"}, {key: "label", label: "Label"},
    {key: "regimen", label: "Regimen", render: (a) => a.regimen.map((r) => el("span", {class: "tag"}, H2L.pretty(r))), sort: (a) => a.regimen.join("+")},
    {key: "role", label: "Role"}, {key: "n", label: "Patients"}], t.arms)));
  box.append(el("h2", {}, "Outcomes"), el("div", {class: "card"}, H2L.table([
    {key: "endpoint", label: "Endpoint"}, {key: "kind", label: "Kind"},
    {key: "arm", label: "Arm(s)", render: (o) => o.arm || o.arms.join(" vs ") || "–", sort: (o) => o.arm || o.arms.join()},
    {key: "value", label: "Value", render: value},
    {key: "ci", label: "CI", render: ci, sort: (o) => (o.ci ? o.ci.low : null)},
    {key: "p", label: "p", render: (o) => (o.p ? (o.p.relation === "=" ? "" : o.p.relation) + H2L.fmt(o.p.value) : "–"), sort: (o) => (o.p ? o.p.value : null)},
    {key: "subgroup", label: "Subgroup"},
    {key: "published", label: "Public by", render: (o) => d.published[o.id], sort: (o) => d.published[o.id]},
    {key: "provenance", label: "Provenance", render: (o) => o.provenance.locator + (o.provenance.refs.length ? " [" + o.provenance.refs.join(",") + "]" : "") + (o.raw ? " · “" + o.raw + "”" : ""), sort: (o) => o.provenance.locator},
  ], t.outcomes)));
  const fp = el("div", {class: "plot", id: "forest"});
  const fcard = el("div", {class: "card"}, fp);
  box.append(el("h2", {}, "Effects"), fcard);
  if (!forest(t, fp)) fcard.replaceChildren(el("span", {class: "muted"}, "No hazard or odds ratio with a confidence interval is recorded for this trial."));
  const pooledBox = el("div", {id: "pooled"});
  box.append(pooledBox);
  box.append(el("h2", {}, "Recorded conflicts"), el("div", {class: "card"}, d.conflicts.length ? d.conflicts.map((c) =>
    el("div", {class: "conflict"}, el("b", {}, c.field + " (" + H2L.pretty(c.kind) + "): "),
      c.values.map((v) => el("span", {class: "tag"}, v.value + " — " + v.provenance.locator)),
      el("div", {class: "small"}, c.note),
      c.resolution ? el("div", {class: "small muted"}, "Resolution: " + c.resolution) : null)) : el("span", {class: "muted"}, "None recorded.")));
  box.append(el("h2", {}, "Audit findings"), el("div", {class: "card"}, d.audit.length ? H2L.table([
    {key: "severity", label: "Severity", render: (f) => el("span", {class: "sev-" + f.severity}, f.severity)},
    {key: "kind", label: "Check"}, {key: "outcome", label: "Outcome"}, {key: "message", label: "Finding"}], d.audit)
    : el("span", {class: "muted"}, "The statistical audit found nothing to report.")));
  box.append(el("h2", {}, "References"), el("div", {class: "card small"}, d.references.length ? el("ol", {}, d.references.map((r) =>
    el("li", {value: r.number}, r.authors.slice(0, 3).join(", ") + (r.et_al || r.authors.length > 3 ? " et al." : "") + ". " + r.title + ". " + r.journal + " " + r.year +
      (r.doi ? ". doi:" + r.doi : "") + (r.pmid ? ". PMID " + r.pmid : "")))) : el("span", {class: "muted"}, "None.")));
  await pooled(t, pooledBox);
}

init();
