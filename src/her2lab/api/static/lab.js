// Calibration and screens: each a background job with its progress bar, then its result
// (the fit: parameters with their intervals, reported against fitted effects; the screen: a
// response matrix of profiles by regimens).
"use strict";

const el = H2L.el;
let mechanisms = [];

function num(id) { const v = document.getElementById(id).value; return v === "" ? null : Number(v); }

async function runJob(path, body, progressBox, button) {
  const err = document.getElementById("error");
  button.disabled = true;
  try {
    const job = await H2L.api(path, {json: body});
    const update = H2L.progressBar(progressBox, job.kind + " progress");
    update(job);
    const result = await H2L.waitJob(job.id, update, 400);
    H2L.showError(err, null);
    progressBox.dataset.finished = "yes";
    return result;
  } catch (e) {
    progressBox.replaceChildren();
    H2L.showError(err, e);
    H2L.reveal(err);
    return null;
  } finally {
    button.disabled = false;
  }
}

// ------------------------------------------------------------------ calibration

async function listCalibrations() {
  const cals = await H2L.api("/api/calibrations");
  const box = document.getElementById("cal-list");
  H2L.fill(box, el("ul", {class: "small"}, cals.map((c) => el("li", {},
    el("a", {href: "#", "data-name": c.name, onclick: (ev) => { ev.preventDefault(); showCalibration(c.name); }}, c.name),
    " — " + c.source + (c.as_of ? ", results by " + c.as_of : "")))));
}

function fitPlot(div, table) {
  const rows = table.filter((r) => (r.measure === "HR" || r.measure === "OR") && r.reported > 0 && r.expected > 0);
  if (!rows.length) return false;
  const n = rows.length;
  const y = rows.map((_, i) => n - 1 - i);
  const label = (r) => r.trial + " " + r.endpoint + " " + r.measure + (r.subgroup ? " [" + r.subgroup + "]" : "") + ": " + r.arms;
  const trace = (name, colour, symbol, v, lo, hi, dy) => ({type: "scatter", mode: "markers", name: name,
    x: rows.map(v), y: y.map((t) => t + dy), marker: {color: colour, symbol: symbol, size: 8},
    error_x: {type: "data", symmetric: false, array: rows.map((r) => (hi(r) ?? v(r)) - v(r)), arrayminus: rows.map((r) => v(r) - (lo(r) ?? v(r))), color: colour},
    text: rows.map(label), hovertemplate: "%{text}<br>" + name + ": %{x:.2f}<extra></extra>"});
  Plotly.newPlot(div, [
    trace("reported (95% CI)", "#13233a", "square", (r) => r.reported, (r) => r.reported_low, (r) => r.reported_high, 0.15),
    trace("calibrated model (95% prediction interval)", "#c0392b", "circle", (r) => r.expected, (r) => r.pred_low, (r) => r.pred_high, -0.15),
    {type: "scatter", mode: "lines", x: [1, 1], y: [-0.6, n - 0.4], line: {dash: "dot", color: "#888", width: 1}, hoverinfo: "skip", showlegend: false}],
    H2L.layout({title: {text: "Reported effects against the calibrated model's, experimental vs control arm of each trial", font: {size: 13}},
      xaxis: H2L.axis("hazard or odds ratio, experimental vs control (log scale)", {type: "log"}),
      yaxis: {tickvals: y, ticktext: rows.map(label), automargin: true, range: [-0.8, n - 0.2], showgrid: false, zeroline: false},
      height: 160 + 26 * n, margin: {l: 20, r: 20, t: 50, b: 60}, legend: {orientation: "h", y: 1.0, yanchor: "bottom"}}), H2L.plotConfig);
  div.dataset.drawn = "yes";
  return true;
}

async function showCalibration(name) {
  const c = await H2L.api("/api/calibrations/" + encodeURIComponent(name));
  const box = document.getElementById("cal-out");
  box.hidden = false;
  const d = c.detail || {};
  const fit = d.fit || {};
  const flat = {};
  for (const [k, v] of Object.entries(c.params)) {
    if (v && typeof v === "object") for (const [k2, v2] of Object.entries(v)) flat[k + "." + k2] = v2;
    else flat[k] = v;
  }
  const reasons = fit.outside_prior_reasons || {};
  const iv = (x) => (x ? H2L.fmt(x[0]) + " to " + H2L.fmt(x[1]) : "–");
  const params = Object.entries(flat).map(([k, v]) => ({name: k, value: v, se: fit.se ? fit.se[k] : null,
    interval: fit.intervals ? fit.intervals[k] : null, prior: fit.prior_intervals ? fit.prior_intervals[k] : null,
    outside: (fit.outside_prior || []).includes(k)}));
  const plot = el("div", {class: "plot", id: "fit-plot"});
  H2L.fill(box, el("h2", {class: "flush"}, "Calibration " + c.name),
    el("div", {}, c.source === "prior" ? "The priors' centres (no fit)." : "Fitted to results published by " + (c.as_of || "–") +
      (d.settings ? " (" + d.settings.targets + " reported effects of " + d.settings.trials + " trials; panel " + d.settings.panel_size + ", " + d.settings.samples + " trajectories)" : "") +
      (fit.objective !== undefined ? "; objective " + H2L.fmt(fit.objective) + ", " + (fit.converged ? "converged" : "not converged") + " after " + fit.evaluations + " evaluations" : "") + "."),
    el("h3", {}, "Parameters"),
    el("div", {class: "scroll"}, H2L.table([{key: "name", label: "Parameter"}, {key: "value", label: "Value", render: (p) => H2L.fmt(p.value)},
      {key: "se", label: "SE", render: (p) => H2L.fmt(p.se)}, {key: "interval", label: "95% interval", render: (p) => iv(p.interval), sort: (p) => (p.interval ? p.interval[0] : null)},
      {key: "prior", label: "Prior 95% interval", render: (p) => iv(p.prior), sort: (p) => (p.prior ? p.prior[0] : null)},
      {key: "outside", label: "Outside its prior", render: (p) => (p.outside ? "yes: " + (reasons[p.name] || "") : "")}], params, {class: "cal-params"})),
    d.table ? el("h3", {}, "Fit: reported against the model") : null, d.table ? plot : null,
    d.table ? el("div", {class: "scroll"}, H2L.table([{key: "trial", label: "Trial"}, {key: "arms", label: "Comparison"},
      {key: "endpoint", label: "Endpoint"}, {key: "measure", label: "Measure"},
      {key: "reported", label: "Reported (95% CI)", render: (r) => H2L.fmt(r.reported) + " (" + H2L.fmt(r.reported_low) + " to " + H2L.fmt(r.reported_high) + ")"},
      {key: "expected", label: "Model (95% prediction interval)", render: (r) => H2L.fmt(r.expected) + " (" + H2L.fmt(r.pred_low) + " to " + H2L.fmt(r.pred_high) + ")"},
      {key: "z", label: "z", render: (r) => H2L.fmt(r.z)},
      {key: "inside_reported_ci", label: "Model inside the reported CI", render: (r) => (r.inside_reported_ci ? "yes" : "no")}], d.table, {class: "cal-table"})) : null,
    el("div", {class: "small muted"}, "Research use: a model calibrated to published results, not medical advice."));
  if (d.table) fitPlot(plot, d.table);
  H2L.reveal(box);
}

async function calibrate(ev) {
  ev.preventDefault();
  const body = {as_of: document.getElementById("cal-asof").value, panel: num("cal-panel"),
                samples: num("cal-samples")};
  const name = document.getElementById("cal-name").value.trim();
  if (name) body.name = name;
  const res = await runJob("/api/calibrations", body, document.getElementById("cal-progress"), document.getElementById("cal-run"));
  if (!res) return;
  await listCalibrations();
  await showCalibration(res.name);
}

// ------------------------------------------------------------------ screen

async function screen(ev) {
  ev.preventDefault();
  const profiles = [...document.querySelectorAll("#screen-profiles input:checked")].map((b) => b.value);
  const regimens = document.getElementById("screen-regimens").value.split("\n").map((s) => s.trim()).filter(Boolean);
  const body = {profiles: profiles.length ? profiles : "all-single", regimens: regimens.length ? regimens : "all-single",
                samples: num("screen-samples"), seed: num("screen-seed")};
  const res = await runJob("/api/pathway/screen", body, document.getElementById("screen-progress"), document.getElementById("screen-run"));
  if (res) showScreen(res);
}

function showScreen(res) {
  const box = document.getElementById("screen-out");
  box.hidden = false;
  const plot = el("div", {class: "plot", id: "screen-plot"});
  const pretty = (s) => s.split("+").map(H2L.pretty).join(" + ");
  H2L.fill(box, el("h2", {class: "flush"}, "Screen: response of " + res.profiles.length + " profiles × " + res.regimens.length + " regimens"),
    plot,
    el("div", {class: "scroll"}, H2L.table([{key: "profile", label: "Profile", render: (c) => H2L.pretty(c.profile)}, {key: "regimen", label: "Regimen", render: (c) => pretty(c.regimen)},
      {key: "response", label: "Response (0–1)", render: (c) => H2L.fmt(c.response) + (c.response_se ? " ± " + H2L.fmt(c.response_se, 2) : "")},
      {key: "proliferation", label: "Proliferation", render: (c) => H2L.fmt(c.proliferation)},
      {key: "apoptosis", label: "Apoptosis", render: (c) => H2L.fmt(c.apoptosis)},
      {key: "growth", label: "Growth /day", render: (c) => H2L.fmt(c.growth)}], res.cells, {class: "screen-cells", sortKey: "response"})),
    el("div", {class: "small muted"}, "Response: tumor control in [0, 1], higher is better (pathway model). Research use: a model output, not a treatment recommendation or medical advice."));
  Plotly.newPlot(plot, [{type: "heatmap", z: res.response, x: res.regimens.map(pretty), y: res.profiles.map(H2L.pretty),
    zmin: 0, zmax: 1, colorscale: "Blues", reversescale: true, colorbar: {title: {text: "response (0–1)"}},
    hovertemplate: "%{y} · %{x}: %{z:.3f}<extra></extra>"}],
    H2L.layout({title: {text: "Response by tumor profile and regimen (pathway model)", font: {size: 13}},
      xaxis: H2L.axis("regimen"), yaxis: H2L.axis("tumor profile"),
      height: 300 + 34 * res.profiles.length}), H2L.plotConfig);
  plot.dataset.drawn = "yes";
  H2L.reveal(box);
}

async function init() {
  await H2L.chrome("/lab");
  const options = await H2L.api("/api/pathway/options");
  mechanisms = options.mechanisms;
  document.getElementById("screen-seed").value = options.default_seed;
  document.getElementById("screen-profiles").replaceChildren(
    el("label", {}, el("input", {type: "checkbox", value: "none", checked: true}), "none"),
    ...mechanisms.map((m) => el("label", {}, el("input", {type: "checkbox", value: m.id, checked: m.id === "pten_loss" || m.id === "p95her2"}), m.name)));
  await listCalibrations();
  document.getElementById("cal-form").addEventListener("submit", calibrate);
  document.getElementById("screen-form").addEventListener("submit", screen);
}

init();
