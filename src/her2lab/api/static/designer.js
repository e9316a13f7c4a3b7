// The virtual-trial designer: a form for the library's TrialSpec, then predict (KM curves or
// rates, the effect with its interval) or design (patients per arm for a power, as a job).
"use strict";

const el = H2L.el;
let drugs = [];
let examples = {};
let binary = new Set(["pCR", "ORR"]);

function armRow(arm) {
  const select = el("div", {class: "checks arm-regimen", style: "max-height:96px", "aria-label": "arm drugs"},
    // the arm's drugs first, so that they show without scrolling
    [...drugs.filter((d) => arm.regimen.includes(d.id)), ...drugs.filter((d) => !arm.regimen.includes(d.id))]
      .map((d) => el("label", {}, el("input", {type: "checkbox", value: d.id, checked: arm.regimen.includes(d.id)}), d.name)));
  const row = el("div", {class: "card arm", style: "padding:6px;margin:4px 0"},
    el("div", {class: "row"},
      el("div", {style: "flex:2"}, el("input", {type: "text", class: "arm-name", value: arm.name, "aria-label": "arm name", oninput: controls})),
      el("div", {style: "flex:1"}, el("input", {type: "number", class: "arm-n", value: String(arm.n), min: "1", max: "5000", "aria-label": "patients"})),
      el("button", {type: "button", class: "secondary", title: "remove this arm", onclick: () => { row.remove(); controls(); }}, "×")),
    select);
  return row;
}

function controls() {
  const sel = document.getElementById("control");
  const keep = sel.value;
  const names = [...document.querySelectorAll(".arm-name")].map((i) => i.value);
  sel.replaceChildren(...names.map((n) => el("option", {value: n}, n)));
  if (names.includes(keep)) sel.value = keep;
  else if (names.length) sel.value = names[names.length - 1];
}

function endpointChanged() {
  const isBinary = binary.has(document.getElementById("endpoint").value);
  document.getElementById("anchor-tte").hidden = isBinary;
  document.getElementById("anchor-bin").hidden = !isBinary;
}

function fill(spec) {
  document.getElementById("name").value = spec.name;
  document.getElementById("setting").value = spec.setting;
  document.getElementById("endpoint").value = spec.endpoint;
  const prior = spec.population.prior_trastuzumab;
  document.getElementById("prior").value = prior === null || prior === undefined ? "" : String(prior);
  for (const b of document.querySelectorAll("#require input")) b.checked = spec.population.require.includes(b.value);
  const arms = document.getElementById("arms");
  arms.replaceChildren(...spec.arms.map(armRow));
  controls();
  document.getElementById("control").value = spec.control;
  document.getElementById("median").value = spec.control_median_months || "";
  document.getElementById("rate").value = spec.control_rate || "";
  document.getElementById("follow").value = spec.follow_up_months || "";
  endpointChanged();
}

function num(id) {
  const v = document.getElementById(id).value;
  return v === "" ? null : Number(v);
}

function spec() {
  const prior = document.getElementById("prior").value;
  const endpoint = document.getElementById("endpoint").value;
  const s = {
    name: document.getElementById("name").value,
    setting: document.getElementById("setting").value,
    endpoint: endpoint,
    population: {prior_trastuzumab: prior === "" ? null : prior === "true",
                 require: [...document.querySelectorAll("#require input:checked")].map((b) => b.value), exclude: []},
    arms: [...document.querySelectorAll(".arm")].map((row) => ({
      name: row.querySelector(".arm-name").value,
      regimen: [...row.querySelectorAll(".arm-regimen input:checked")].map((b) => b.value),
      n: Number(row.querySelector(".arm-n").value)})),
    control: document.getElementById("control").value,
  };
  if (binary.has(endpoint)) { if (num("rate") !== null) s.control_rate = num("rate"); }
  else if (num("median") !== null) s.control_median_months = num("median");
  if (num("follow") !== null) s.follow_up_months = num("follow");
  return s;
}

function settings() {
  return {calibration: document.getElementById("calibration").value, replicates: num("replicates"),
          samples: num("samples"), panel: num("panel")};
}

function drawCurves(res) {
  if (res.curves && Object.keys(res.curves).length) {
    const traces = Object.entries(res.curves).map(([name, c]) => ({type: "scatter", mode: "lines",
      line: {shape: "hv"}, name: name + (name === res.control ? " (control)" : ""), x: c.time, y: c.survival}));
    Plotly.newPlot("curves", traces, H2L.layout({title: {text: res.trial + ": simulated " + res.endpoint + " (Kaplan–Meier, first replicate)", font: {size: 13}},
      xaxis: {title: "months"}, yaxis: {title: res.endpoint + " probability", range: [0, 1.02]}, height: 380}), H2L.plotConfig);
  } else {
    const arms = res.arms;
    const v = arms.map(armValue);
    Plotly.newPlot("curves", [{type: "bar", x: arms.map((a) => a.name), y: v.map((a) => a.value),
      error_y: {type: "data", symmetric: false, array: v.map((a) => (a.high ?? a.value) - a.value), arrayminus: v.map((a) => a.value - (a.low ?? a.value))},
      marker: {color: "#0b5cad"}}], H2L.layout({title: {text: res.trial + ": simulated " + res.endpoint + " rate by arm (first replicate, 95% CI)", font: {size: 13}},
      yaxis: {range: [0, 1], title: res.endpoint + " rate"}, height: 380}), H2L.plotConfig);
  }
  document.getElementById("curves").dataset.drawn = "yes";
}

// An arm's simulated value: the first replicate's median or rate (either result shape).
function armValue(a) {
  const f = a.first_replicate || a;
  return {n: a.n, events: f.events, value: f.median ?? f.rate, low: f.ci_low, high: f.ci_high};
}

function drawEffect(res) {
  const box = document.getElementById("effect");
  box.hidden = false;
  const e = res.effect || {};
  const st = (res.replicates.statistics || {})["effect.estimate"] || {};
  const exp = (res.effects || [])[0];
  const expected = exp && exp.expected !== undefined ? [el("span", {class: "kpi"},
    el("b", {}, H2L.fmt(exp.expected) + " [" + H2L.fmt(exp.pred_low) + ", " + H2L.fmt(exp.pred_high) + "]"),
    "expected " + exp.measure + " (model) with its 95% prediction interval")] : [];
  const hasModel = res.arms.some((a) => a.expected !== undefined && a.expected !== null);
  const columns = [{key: "name", label: "Arm"}, {key: "n", label: "Patients"},
    {key: "events", label: "Events", render: (a) => H2L.fmt(armValue(a).events)},
    {key: "value", label: res.curves && Object.keys(res.curves).length ? "Median (months), first replicate" : "Rate (proportion), first replicate",
     render: (a) => H2L.fmt(armValue(a).value)},
    {key: "ci", label: "95% CI", render: (a) => H2L.fmt(armValue(a).low) + " – " + H2L.fmt(armValue(a).high)}];
  if (hasModel) columns.push({key: "expected", label: "Expected (model)", render: (a) =>
    H2L.fmt(a.expected) + " [" + H2L.fmt(a.pred_low) + ", " + H2L.fmt(a.pred_high) + "] " + (a.unit || "")});
  box.replaceChildren(
    el("span", {class: "kpi"}, el("b", {}, H2L.fmt(e.estimate)), (e.measure || "effect") + " " + (e.arm || "") + " vs " + (e.control || "")),
    el("span", {class: "kpi"}, el("b", {}, H2L.fmt(e.ci_low) + " – " + H2L.fmt(e.ci_high)), "95% CI (first replicate)"),
    el("span", {class: "kpi"}, el("b", {}, H2L.fmt(e.p)), "p (" + (e.test || "") + ")"),
    el("span", {class: "kpi"}, el("b", {}, H2L.fmt(st.median) + " [" + H2L.fmt(st.p2_5) + ", " + H2L.fmt(st.p97_5) + "]"), "median [2.5%, 97.5%] over " + res.replicates.replicates + " replicates"),
    el("span", {class: "kpi"}, el("b", {}, H2L.fmt(res.replicates.power)), "power at this size"),
    ...expected,
    H2L.table(columns, res.arms),
    el("div", {class: "small muted"}, "Calibration " + res.calibration + "; " + res.notice));
}

function drawDesign(d) {
  const box = document.getElementById("design-out");
  box.hidden = false;
  const sim = d.simulation, form = d.formula;
  const plot = el("div", {class: "plot", id: "power-curve"});
  box.replaceChildren(el("h3", {}, "Patients per arm for power " + d.power + " at alpha " + d.alpha),
    el("span", {class: "kpi"}, el("b", {}, String(sim.n_per_arm)), "by simulation (power there " + H2L.fmt(sim.power) + " ± " + H2L.fmt(sim.power_se) + ")"),
    el("span", {class: "kpi"}, el("b", {}, String(form.n_per_arm)), form.method + " formula"),
    el("div", {class: "small"}, "Expected effect (model): " + Object.entries(d.expected_effect).map(([k, v]) => k + " " + H2L.fmt(v)).join(", ")),
    plot, el("div", {class: "small muted"}, d.notice));
  const ev = sim.evaluations || [];
  Plotly.newPlot(plot, [{type: "scatter", mode: "markers+lines", x: ev.map((e) => e.n_per_arm), y: ev.map((e) => e.power),
    error_y: {type: "data", array: ev.map((e) => e.se)}, name: "simulated power"}],
    H2L.layout({title: {text: "Power by patients per arm (simulated trials)", font: {size: 13}}, xaxis: {type: "log", title: "patients per arm"},
      yaxis: {range: [0, 1], title: "power"}, height: 320,
      shapes: [{type: "line", xref: "paper", x0: 0, x1: 1, y0: d.power, y1: d.power, line: {dash: "dot", color: "#888"}}]}), H2L.plotConfig);
}

async function predict(ev) {
  ev.preventDefault();
  const btn = document.getElementById("predict");
  const err = document.getElementById("error");
  btn.disabled = true;
  try {
    const res = await H2L.api("/api/virtual-trials/predict", {json: Object.assign({spec: spec()}, settings())});
    H2L.showError(err, null);
    drawEffect(res);
    drawCurves(res);
  } catch (e) {
    H2L.showError(err, e);
  } finally {
    btn.disabled = false;
  }
}

async function design() {
  const btn = document.getElementById("design");
  const err = document.getElementById("error");
  const box = document.getElementById("design-out");
  btn.disabled = true;
  try {
    const s = settings();
    const job = await H2L.api("/api/virtual-trials/design", {json: {spec: spec(), calibration: s.calibration,
      samples: s.samples, panel: s.panel, power: num("power"), alpha: num("alpha"), replicates: num("design-reps")}});
    box.hidden = false;
    box.replaceChildren(el("span", {class: "muted"}, "Simulating trials of increasing size (job " + job.id + ") ..."));
    const result = await H2L.waitJob(job.id, null, 700);
    H2L.showError(err, null);
    drawDesign(result);
  } catch (e) {
    box.hidden = true;
    H2L.showError(err, e);
  } finally {
    btn.disabled = false;
  }
}

async function init() {
  await H2L.chrome("/designer");
  const [schema, kbDrugs, mechs, cals, ex] = await Promise.all([
    H2L.api("/openapi.json"), H2L.api("/api/kb/drugs"), H2L.api("/api/kb/mechanisms"),
    H2L.api("/api/calibrations"), H2L.api("/api/virtual-trials/examples")]);
  drugs = kbDrugs;
  examples = ex;
  const enumOf = (name) => schema.components.schemas[name].enum;
  const opt = (id, values, label) => document.getElementById(id).replaceChildren(...values.map((v) => el("option", {value: v}, label ? label(v) : v)));
  opt("setting", enumOf("SpecSetting"), H2L.pretty);
  opt("endpoint", enumOf("SpecEndpoint"));
  opt("calibration", cals.map((c) => c.name), (n) => n + (n === "default" ? " (priors)" : ""));
  opt("example", ["", ...Object.keys(ex)], (v) => (v ? H2L.pretty(v) : "–"));
  document.getElementById("require").replaceChildren(...mechs.map((m) =>
    el("label", {}, el("input", {type: "checkbox", value: m.id}), m.name)));
  document.getElementById("example").addEventListener("change", (e) => { if (e.target.value) fill(examples[e.target.value]); });
  document.getElementById("endpoint").addEventListener("change", endpointChanged);
  document.getElementById("add-arm").addEventListener("click", () => {
    const n = document.querySelectorAll(".arm").length + 1;
    document.getElementById("arms").appendChild(armRow({name: "arm" + n, regimen: [], n: 100}));
    controls();
  });
  document.getElementById("spec").addEventListener("submit", predict);
  document.getElementById("design").addEventListener("click", design);
  const first = Object.keys(ex)[0];
  if (first) { document.getElementById("example").value = first; fill(ex[first]); }
}

init();
