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

function armLabel(trial, id) {
  const a = trial.arms.find((x) => x.id === id);
  return a ? a.label : H2L.pretty(id);
}

// Endpoints whose event is good (a response): there a ratio above 1 favours the first arm.
const GOOD = /^(pCR|ORR|CBR|response)/i;

// The trial's own reported effects (HR, OR with an interval): each row says which arm is
// compared with which, and the axis says which side favours which arm (one plot for
// endpoints where a ratio below 1 is better, one for responses, where above 1 is).
function forest(trial, box) {
  const effects = trial.outcomes.filter((o) => o.kind === "effect" && (o.measure === "HR" || o.measure === "OR") && o.ci && o.ci.low !== null && o.ci.high !== null);
  if (!effects.length) return false;
  const pairs = [...new Set(effects.map((o) => (o.arms || []).join("|")))];
  const groups = [effects.filter((o) => !GOOD.test(o.endpoint)), effects.filter((o) => GOOD.test(o.endpoint))];
  H2L.fill(box, );
  groups.forEach((group, g) => {
    if (!group.length) return;
    const [expId, ctrlId] = group[0].arms || [];
    const rows = group.map((o) => {
      const [a, b] = o.arms || [];
      const vs = a && b && pairs.length > 1 ? ": " + armLabel(trial, a) + " vs " + armLabel(trial, b) : "";
      return {label: o.endpoint + " " + o.measure + (o.subgroup ? " [" + o.subgroup + "]" : "") + vs,
              estimate: o.value, low: o.ci.low, high: o.ci.high};
    });
    const first = expId ? armLabel(trial, expId) : "the first arm", second = ctrlId ? armLabel(trial, ctrlId) : "the second arm";
    const comparator = first + " vs " + second;
    const div = el("div", {class: "plot forest-plot", id: g ? "forest-response" : "forest-events"});
    div.dataset.comparator = comparator;
    box.appendChild(div);
    H2L.forestPlot(div, rows, {measure: group[0].measure, pointName: "reported (95% CI)",
      title: "Reported effects, " + comparator + " (95% CI)",
      favours: g ? [second, first] : [first, second]});
  });
  return true;
}

// A network part's estimate of `exp` against `ctrl`: from its random-effects estimates
// against the reference where one of the two is the reference, otherwise its league table.
function networkEstimate(net, exp, ctrl) {
  const byT = Object.fromEntries((net.random || []).map((r) => [r.treatment, r]));
  if (ctrl === net.reference && byT[exp]) {
    const r = byT[exp];
    return {estimate: Math.exp(r.estimate), low: Math.exp(r.ci_low), high: Math.exp(r.ci_high)};
  }
  if (exp === net.reference && byT[ctrl]) {
    const r = byT[ctrl];
    return {estimate: Math.exp(-r.estimate), low: Math.exp(-r.ci_high), high: Math.exp(-r.ci_low)};
  }
  const league = net.league_random || [];
  const i = league.findIndex((row, k) => row[k] === exp), j = league.findIndex((row, k) => row[k] === ctrl);
  if (i < 0 || j < 0) return null;
  const m = /^([\d.]+) \(([\d.]+) to ([\d.]+)\)/.exec(String(league[i][j]));
  return m ? {estimate: Number(m[1]), low: Number(m[2]), high: Number(m[3])} : null;
}

// The forest rows of one pooled analysis with this trial's study highlighted and the pooled
// estimate as a diamond. For a network, the connected part that holds this trial.
function pooledRows(a, trialId) {
  const mine = a.studies.find((s) => s.trial === trialId);
  const studyRow = (s) => ({label: s.trial_name + ": " + s.experimental + " vs " + s.control, estimate: s.estimate,
    low: s.ci_low, high: s.ci_high, highlight: s.trial === trialId});
  if (a.result) {
    const r = a.result;
    return {rows: [...a.studies.map(studyRow), {label: "Pooled (" + (r.method || "random effects") + ")", name: "pooled estimate", pooled: true,
      estimate: r.estimate, low: r.ci_low, high: r.ci_high}], mine: mine, pooled: r, comparator: mine ? mine.experimental + " vs " + mine.control : ""};
  }
  if (!mine) return null;
  const net = (a.networks || []).find((n) => n.treatments.includes(mine.experimental) && n.treatments.includes(mine.control));
  if (!net) return null;
  const inPart = a.studies.filter((s) => net.treatments.includes(s.experimental) && net.treatments.includes(s.control));
  const est = networkEstimate(net, mine.experimental, mine.control);
  const rows = inPart.map(studyRow);
  if (est) rows.push(Object.assign({label: "Network estimate: " + mine.experimental + " vs " + mine.control, name: "network (pooled) estimate", pooled: true}, est));
  return {rows: rows, mine: mine, pooled: est, net: net, comparator: mine.experimental + " vs " + mine.control};
}

async function pooled(trial, box) {
  // Pooled analyses (meta-analyses of the knowledge base) that include this trial.
  let meta = {features: {}};
  try { meta = await H2L.api("/api/meta"); } catch (e) { return; }
  if (!meta.features.pooled) return;
  let found;
  try {
    found = await H2L.api("/api/synthesis/pooled?trial=" + encodeURIComponent(trial.id));
  } catch (e) { return; /* synthesis optional */ }
  if (!found.length) return;
  box.appendChild(el("h2", {}, "Pooled analyses that include this trial"));
  found.forEach((a, k) => {
    const part = pooledRows(a, trial.id);
    const plot = el("div", {class: "plot pooled-plot", id: "pooled-plot-" + k});
    const r = part && part.pooled;
    const summary = r ? a.measure + " " + H2L.fmt(r.estimate) + " (95% CI " + H2L.fmt(r.low ?? r.ci_low) + " to " + H2L.fmt(r.high ?? r.ci_high) + "), " +
      part.comparator + (a.result && a.result.i2 !== undefined && a.result.i2 !== null ? "; I² " + H2L.fmt(a.result.i2, 3) + "%" : "") : "no pooled estimate for this trial's comparison";
    const studies = part ? part.rows.filter((x) => !x.pooled).length : a.studies.length;
    box.appendChild(el("div", {class: "card pooled"},
      el("h3", {}, a.title || a.question),
      el("div", {}, el("b", {}, a.result ? "Pooled: " : "Network estimate for this trial's comparison: "), summary,
        " · " + studies + " studies" + (part && part.net ? " in the connected part of the network that holds this trial (" + a.studies.length + " in the whole network)" : "")),
      plot,
      a.forest_svg ? el("div", {class: "small"}, el("a", {href: a.forest_svg}, "forest plot as SVG")) : null,
      el("div", {class: "scroll"}, H2L.table([{key: "trial_name", label: "Study"},
        {key: "comparison", label: "Comparison", render: (x) => x.experimental + " vs " + x.control, sort: (x) => x.experimental},
        {key: "estimate", label: a.measure, render: (x) => H2L.fmt(x.estimate)},
        {key: "ci", label: "95% CI", render: (x) => H2L.fmt(x.ci_low) + " – " + H2L.fmt(x.ci_high), sort: (x) => x.ci_low},
        {key: "derivation", label: "How the effect was obtained"}], a.studies)),
      a.conflicts.length ? el("div", {class: "small"}, "Conflict values used: " + a.conflicts.map((c) => c.conflict + " → " + c.used).join("; ")) : null,
      a.excluded.length ? el("div", {class: "small muted"}, "Left out: " + a.excluded.join("; ")) : null,
      el("div", {class: "small muted"}, a.disclaimer)));
    if (part) {
      const [e, c] = part.mine ? [part.mine.experimental, part.mine.control] : ["experimental", "control"];
      H2L.forestPlot(plot, part.rows, {measure: a.measure, highlightName: trial.name + " (this trial)",
        title: (a.result ? "Studies and pooled estimate" : "This trial's part of the network, with the network estimate") + " (95% CI)",
        favours: GOOD.test((a.endpoints || [a.question]).join(" ")) || /pcr/i.test(a.question) ? [c, e] : [e, c]});
      plot.dataset.pooled = r ? String(r.estimate) : "";
    }
  });
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
  const fp = el("div", {id: "forest"});
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
