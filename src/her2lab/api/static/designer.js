// The virtual-trial designer: a form for the library's TrialSpec, then predict (KM curves or
// rates, the effect with its interval) or design (patients per arm for a power, as a job).
"use strict";

const el = H2L.el;
let drugs = [];
let examples = {};
let binary = new Set(["pCR", "ORR"]);

function armRow(arm) {
  const select = el("div", {class: "checks arm-regimen", "aria-label": "arm drugs"},
    // the arm's drugs first, so that they show without scrolling
    [...drugs.filter((d) => arm.regimen.includes(d.id)), ...drugs.filter((d) => !arm.regimen.includes(d.id))]
      .map((d) => el("label", {}, el("input", {type: "checkbox", value: d.id, checked: arm.regimen.includes(d.id)}), d.name)));
  const row = el("div", {class: "card arm"},
    el("div", {class: "row"},
      el("div", {class: "grow2"}, el("input", {type: "text", class: "arm-name", value: arm.name, "aria-label": "arm name", oninput: controls})),
      el("div", {class: "grow1"}, el("input", {type: "number", class: "arm-n", value: String(arm.n), min: "1", max: "10000", "aria-label": "patients"})),
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
  const hr = spec.population.hr_positive;
  document.getElementById("hr").value = hr === null || hr === undefined ? "" : String(hr);
  const arms = document.getElementById("arms");
  arms.replaceChildren(...spec.arms.map(armRow));
  controls();
  document.getElementById("control").value = spec.control;
  document.getElementById("median").value = spec.control_median_months || "";
  document.getElementById("rate").value = spec.control_rate ? Number((100 * spec.control_rate).toPrecision(6)) : "";
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
  if (binary.has(endpoint)) { if (num("rate") !== null) s.control_rate = num("rate") / 100; }
  else if (num("median") !== null) s.control_median_months = num("median");
  if (num("follow") !== null) s.follow_up_months = num("follow");
  if (num("hr") !== null) s.population.hr_positive = num("hr");
  return s;
}

function settings() {
  return {calibration: document.getElementById("calibration").value, replicates: num("replicates"),
          samples: num("samples"), panel: num("panel")};
}

const MEASURES = {HR: "hazard ratio", OR: "odds ratio", RR: "risk ratio", RD: "risk difference"};

function isTimeToEvent(res) { return !!(res.curves && Object.keys(res.curves).length); }

function drawCurves(res) {
  const div = document.getElementById("curves");
  if (isTimeToEvent(res)) {
    H2L.kmPlot(div, res.curves, {title: res.trial + ": simulated " + res.endpoint + ", first replicate",
      endpoint: res.endpoint, control: res.control});
  } else {
    const arms = res.arms;
    const v = arms.map(armValue);
    Plotly.newPlot(div, [{type: "bar", x: arms.map((a) => a.name + (a.name === res.control ? " (control)" : "")),
      y: v.map((a) => a.value),
      error_y: {type: "data", symmetric: false, array: v.map((a) => (a.high ?? a.value) - a.value), arrayminus: v.map((a) => a.value - (a.low ?? a.value))},
      marker: {color: "#0b5cad"}, hovertemplate: "%{x}: %{y:.1f}%<extra></extra>"}],
      H2L.layout({title: {text: res.trial + ": simulated " + res.endpoint + " by arm (first replicate, 95% CI)", font: {size: 13}},
        xaxis: H2L.axis("arm"), yaxis: H2L.axis(res.endpoint + " rate (percent of patients)", {range: [0, 100]}), height: 380}), H2L.plotConfig);
  }
  div.dataset.drawn = "yes";
}

// An arm's simulated value: the first replicate's median (months) or rate (as a percent,
// like the model's expected rates), either result shape.
function armValue(a) {
  const f = a.first_replicate || a;
  const pct = (x) => (x === null || x === undefined ? x : 100 * x);
  if (f.rate !== undefined && f.median === undefined) {
    return {n: a.n, events: f.events, value: pct(f.rate), low: pct(f.ci_low), high: pct(f.ci_high), unit: "%"};
  }
  return {n: a.n, events: f.events, value: f.median, low: f.ci_low, high: f.ci_high, unit: " months"};
}

function kpi(value, what) {
  return el("span", {class: "kpi"}, el("b", {}, value), el("span", {class: "kpi-label"}, what));
}

function drawEffect(res) {
  const box = document.getElementById("effect");
  box.hidden = false;
  const e = res.effect || {};
  const st = (res.replicates.statistics || {})["effect.estimate"] || {};
  const exp = (res.effects || [])[0];
  const measure = MEASURES[e.measure] || e.measure || "effect";
  const vs = (e.arm || "") + " vs " + (e.control || res.control || "");
  const expected = exp && exp.expected !== undefined ? [kpi(H2L.fmt(exp.expected) + " [" + H2L.fmt(exp.pred_low) + ", " + H2L.fmt(exp.pred_high) + "]",
    "expected " + (MEASURES[exp.measure] || exp.measure) + " (" + exp.measure + "), " + (exp.arm || e.arm) + " vs " + (exp.control || res.control) +
    ", from the model, with its 95% prediction interval")] : [];
  const hasModel = res.arms.some((a) => a.expected !== undefined && a.expected !== null);
  const tte = isTimeToEvent(res);
  const unitOf = (a) => (a.unit === "percent" ? "%" : a.unit ? " " + a.unit : "");
  const columns = [{key: "name", label: "Arm", render: (a) => a.name + (a.name === res.control ? " (control)" : "")},
    {key: "n", label: "Patients"},
    {key: "events", label: tte ? "Events" : "Responders", render: (a) => H2L.fmt(armValue(a).events)},
    {key: "value", label: tte ? "Median (months), first replicate" : res.endpoint + " rate (%), first replicate",
     render: (a) => H2L.fmt(armValue(a).value) + armValue(a).unit},
    {key: "ci", label: "95% CI", render: (a) => H2L.fmt(armValue(a).low) + " – " + H2L.fmt(armValue(a).high) + armValue(a).unit}];
  if (hasModel) columns.push({key: "expected", label: "Expected (model) [95% prediction interval]", render: (a) =>
    H2L.fmt(a.expected) + unitOf(a) + " [" + H2L.fmt(a.pred_low) + ", " + H2L.fmt(a.pred_high) + "]"});
  H2L.fill(box, 
    kpi(H2L.fmt(e.estimate), measure + " (" + (e.measure || "") + "), " + vs + ", first simulated replicate"),
    kpi(H2L.fmt(e.ci_low) + " – " + H2L.fmt(e.ci_high), "its 95% confidence interval"),
    kpi(H2L.fmt(e.p), "p-value (" + (e.test || "test") + "), " + vs),
    kpi(H2L.fmt(st.median) + " [" + H2L.fmt(st.p2_5) + ", " + H2L.fmt(st.p97_5) + "]",
      e.measure + " " + vs + ": median [2.5%, 97.5%] over " + res.replicates.replicates + " simulated replicates"),
    kpi(H2L.fmt(res.replicates.power), "power: share of the " + res.replicates.replicates + " replicates significant at alpha " + H2L.fmt(res.replicates.alpha)),
    ...expected,
    el("div", {class: "scroll"}, H2L.table(columns, res.arms)),
    el("div", {class: "small muted"}, "Calibration " + res.calibration + "; " + res.notice));
}

function drawDesign(d) {
  const box = document.getElementById("design-out");
  box.hidden = false;
  const sim = d.simulation, form = d.formula;
  const plot = el("div", {class: "plot", id: "power-curve"});
  const expectedEffect = Object.entries(d.expected_effect || {}).map(([k, v]) => k + " " + H2L.fmt(v)).join(", ");
  H2L.fill(box, el("h3", {}, "Patients per arm for power " + d.power + " at alpha " + d.alpha),
    kpi(String(sim.n_per_arm), "patients per arm by simulation (power there " + H2L.fmt(sim.power) + " ± " + H2L.fmt(sim.power_se) + " SE)"),
    kpi(String(form.n_per_arm), "patients per arm by the " + form.method + " formula"),
    el("div", {class: "small"}, "Expected effect (model) of the experimental arm against the control arm: " + expectedEffect),
    plot, el("div", {class: "small muted"}, d.notice));
  const ev = sim.evaluations || [];
  Plotly.newPlot(plot, [{type: "scatter", mode: "markers+lines", x: ev.map((e) => e.n_per_arm), y: ev.map((e) => e.power),
    error_y: {type: "data", array: ev.map((e) => e.se)}, name: "simulated power (± SE)"},
    {type: "scatter", mode: "lines", x: [Math.min(...ev.map((e) => e.n_per_arm)), Math.max(...ev.map((e) => e.n_per_arm))],
     y: [d.power, d.power], line: {dash: "dot", color: "#888"}, name: "target power " + d.power, hoverinfo: "skip"}],
    H2L.layout({title: {text: "Power by patients per arm (simulated trials)", font: {size: 13}},
      xaxis: H2L.axis("patients per arm (log scale)", {type: "log"}),
      yaxis: H2L.axis("power (share of trials significant at alpha " + d.alpha + ")", {range: [0, 1]}), height: 340}), H2L.plotConfig);
  box.dataset.drawn = "yes";
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
    H2L.reveal(document.getElementById("effect"));
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
    const update = H2L.progressBar(box, "design progress");
    update(job);
    const result = await H2L.waitJob(job.id, update, 500);
    H2L.showError(err, null);
    drawDesign(result);
    H2L.reveal(box);
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
