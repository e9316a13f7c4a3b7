// The pathway simulator: a profile (mechanisms with degrees), two regimens, one plot each of
// phenotypes and response, time courses when the library returns them.
"use strict";

const el = H2L.el;
let options = null;

function profile() {
  const picked = {};
  for (const row of document.querySelectorAll(".mech")) {
    const box = row.querySelector("input[type=checkbox]");
    if (box.checked) picked[box.value] = Number(row.querySelector("input[type=range]").value);
  }
  const ids = Object.keys(picked);
  // all at degree 1: a plain list of mechanisms; otherwise mechanism -> degree
  return ids.every((k) => picked[k] === 1) ? ids : picked;
}

function regimen(id) {
  return [...document.querySelectorAll("#" + id + " input:checked")].map((b) => b.value);
}

function regimenLabel(r) { return r.length ? r.map(H2L.pretty).join(" + ") : "untreated"; }

function drawPhenotypes(results, labels) {
  const names = options.phenotypes;
  const traces = results.map((r, i) => ({
    type: "bar", name: labels[i], x: [...names.map(H2L.pretty), "response"],
    y: [...names.map((n) => r.phenotypes[n]), r.response],
    error_y: {type: "data", array: [...names.map(() => 0), r.response_se || 0], visible: true},
    hovertemplate: "%{x}: %{y:.3f}<extra>" + labels[i] + "</extra>",
  }));
  Plotly.newPlot("phenotypes", traces, H2L.layout({barmode: "group",
    title: {text: "Phenotype probabilities and response (± SE bound)", font: {size: 13}},
    xaxis: H2L.axis("phenotype, and the response (tumor control)"),
    yaxis: H2L.axis("probability or response (0–1)", {range: [0, 1]}), height: 380}), H2L.plotConfig);
}

function courseSeries(tc) {
  // accepts {time: [...], phenotypes: {name: [...]}} or {time: [...], name: [...], ...}
  const time = tc && (tc.time || tc.times);
  if (!Array.isArray(time)) return null;
  const src = tc.phenotypes && typeof tc.phenotypes === "object" ? tc.phenotypes : (tc.values || tc);
  const series = {};
  for (const [k, v] of Object.entries(src)) if (k !== "time" && k !== "times" && Array.isArray(v)) series[k] = v;
  return Object.keys(series).length ? {time: time, series: series} : null;
}

function drawCourses(results, labels) {
  const box = document.getElementById("courses");
  box.innerHTML = "";
  // lay every card out first, then plot, so that each plot takes its own card's width
  const todo = [];
  results.forEach((r, i) => {
    const c = courseSeries(r.time_course);
    if (!c) return;
    const div = el("div", {class: "plot course", id: "course-" + i});
    box.appendChild(el("div", {class: "card col course-card"}, div));
    todo.push([div, c, labels[i]]);
  });
  for (const [div, c, label] of todo) {
    Plotly.newPlot(div, Object.entries(c.series).map(([k, v]) => ({type: "scatter", mode: "lines", name: H2L.pretty(k), x: c.time, y: v})),
      H2L.layout({title: {text: "Time course: " + label, font: {size: 13}}, xaxis: H2L.axis("time (days)"),
                  yaxis: H2L.axis("share of trajectories", {range: [0, 1]}), height: 320}), H2L.plotConfig);
  }
}

function summary(results, labels) {
  const box = document.getElementById("summary");
  box.hidden = false;
  box.innerHTML = "";
  results.forEach((r, i) => {
    const se = r.response_se ? " ± " + H2L.fmt(r.response_se, 2) : "";
    box.appendChild(el("span", {class: "kpi"}, el("b", {}, H2L.fmt(r.response) + se),
      el("span", {class: "kpi-label"}, "response (tumor control, 0–1, higher is better) under " + labels[i])));
  });
  if (results.length === 2) {
    const d = results[1].response - results[0].response;
    box.appendChild(el("span", {class: "kpi"}, el("b", {}, (d >= 0 ? "+" : "") + H2L.fmt(d, 2)),
      el("span", {class: "kpi-label"}, "difference in response, " + labels[1] + " against " + labels[0])));
  }
  const withRates = results.filter((r) => r.rates);
  if (withRates.length) {
    const kills = [...new Set(withRates.flatMap((r) => Object.keys(r.rates.kill)))];
    box.appendChild(el("div", {class: "scroll"}, H2L.table([{key: "regimen", label: "Regimen"}, {key: "growth", label: "Growth /day"},
      ...kills.map((k) => ({key: "kill_" + k, label: "Kill (" + k + ") /day"})), {key: "total", label: "Total kill /day"}],
      results.map((r, i) => Object.assign({regimen: labels[i], growth: r.rates ? H2L.fmt(r.rates.growth) : "–",
        total: r.rates ? H2L.fmt(r.rates.total_kill) : "–"},
        Object.fromEntries(kills.map((k) => ["kill_" + k, r.rates ? H2L.fmt(r.rates.kill[k]) : "–"])))))));
  }
  box.appendChild(el("div", {class: "small muted"}, results[0].samples + " trajectories, seed " + results[0].seed + ". " + results[0].notice));
}

function downloads() {
  const p = profile();
  const text = Array.isArray(p) ? p.join(",") : Object.entries(p).map(([k, v]) => k + ":" + v).join(",");
  const q = (fmt) => "/api/pathway/model?" + new URLSearchParams({format: fmt, profile: text, regimen: regimen("regimen-a").join("+")});
  const box = document.getElementById("downloads");
  H2L.fill(box, "Model for this profile and regimen A: ",
    el("a", {href: q("maboss")}, "MaBoSS"), " · ", el("a", {href: q("bnet")}, "bnet"), " · ", el("a", {href: q("sbml")}, "SBML-qual"));
}

async function run(ev) {
  if (ev) ev.preventDefault();
  const btn = document.getElementById("run");
  const err = document.getElementById("error");
  btn.disabled = true;
  const regs = [regimen("regimen-a"), regimen("regimen-b")];
  const labels = ["A: " + regimenLabel(regs[0]), "B: " + regimenLabel(regs[1])];
  try {
    const base = {profile: profile(), samples: Number(document.getElementById("samples").value),
                  seed: Number(document.getElementById("seed").value)};
    const hr = document.getElementById("hr");
    if (hr && hr.checked) base.hr_positive = true;
    const results = [];
    for (const r of regs) results.push(await H2L.api("/api/pathway/simulate", {json: Object.assign({regimen: r}, base)}));
    H2L.showError(err, null);
    summary(results, labels);
    drawPhenotypes(results, labels);
    drawCourses(results, labels);
    document.body.dataset.simulated = "yes";
    H2L.reveal(document.getElementById("summary"));
  } catch (e) {
    H2L.showError(err, e);
  } finally {
    btn.disabled = false;
    downloads();
  }
}

async function init() {
  await H2L.chrome("/pathway");
  options = await H2L.api("/api/pathway/options");
  document.getElementById("seed").value = options.default_seed;
  const mbox = document.getElementById("mechanisms");
  for (const m of options.mechanisms) {
    const out = el("span", {class: "small"}, "1");
    const range = el("input", {type: "range", min: "0", max: "1", step: "0.1", value: "1", "aria-label": m.name + " degree", oninput: (e) => { out.textContent = e.target.value; }});
    mbox.appendChild(el("div", {class: "mech", title: m.detail},
      el("input", {type: "checkbox", value: m.id, id: "m-" + m.id, onchange: downloads}),
      el("label", {for: "m-" + m.id, class: "inline-label"}, m.name), range, out));
  }
  const preset = {"regimen-a": ["trastuzumab"], "regimen-b": ["trastuzumab", "everolimus"]};
  for (const id of ["regimen-a", "regimen-b"]) {
    const box = document.getElementById(id);
    for (const d of options.drugs) {
      box.appendChild(el("label", {title: d.detail}, el("input", {type: "checkbox", value: d.id, checked: preset[id].includes(d.id), onchange: downloads}), d.name));
    }
  }
  document.getElementById("m-pten_loss").checked = true;
  document.getElementById("form").addEventListener("submit", run);
  downloads();
}

init();
