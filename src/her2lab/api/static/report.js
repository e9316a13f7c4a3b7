// The strategy report: a profile and a setting in, a job, then the ranked regimens, the full
// report (HTML, in a frame) and its PDF.
"use strict";

const el = H2L.el;

function profileText() {
  const items = [];
  for (const row of document.querySelectorAll(".mech")) {
    const box = row.querySelector("input[type=checkbox]");
    if (!box.checked) continue;
    const d = Number(row.querySelector("input[type=range]").value);
    items.push(d === 1 ? box.value : box.value + ":" + d);
  }
  if (document.getElementById("pretreated").checked) items.push("trastuzumab_pretreated");
  if (document.getElementById("hr").checked) items.push("hr_positive");
  return items.length ? items.join(",") : "none";
}

function inSilico(r) {
  const parts = [];
  const ra = r.in_silico.rationale, pr = r.in_silico.prediction;
  if (ra) parts.push("model response " + H2L.fmt(ra.response_with) + " (gain " + H2L.fmt(ra.gain) + ")");
  if (pr) parts.push("virtual trials: " + pr.result);
  return parts.length ? parts.join("; ") : "–";
}

function show(rep) {
  const box = document.getElementById("ranked");
  box.hidden = false;
  box.replaceChildren(
    el("h2", {style: "margin-top:0"}, "Ranked regimens: " + H2L.pretty(rep.setting)),
    el("div", {class: "small"}, el("a", {href: rep.pdf, id: "pdf", download: ""}, "Download the PDF"), " · ",
       el("a", {href: rep.html, target: "_blank"}, "open the HTML")),
    H2L.table([
      {key: "rank", label: "Rank"}, {key: "label", label: "Regimen"}, {key: "tier", label: "ESCAT tier"},
      {key: "evidence", label: "Key clinical evidence", render: (r) => r.key_evidence || r.tier_reason || "–", sort: (r) => r.key_evidence},
      {key: "profile_matches", label: "Profile match", render: (r) => r.profile_matches.join(", ") || "–", sort: (r) => r.profile_matches.length},
      {key: "in_silico", label: "In silico (never ranks)", render: inSilico, sort: (r) => (r.in_silico.rationale ? r.in_silico.rationale.gain : null)},
    ], rep.ranked, {class: "ranked"}),
    el("div", {class: "small muted"}, rep.disclaimer));
  const view = document.getElementById("view");
  view.hidden = false;
  view.replaceChildren(el("iframe", {src: rep.html, title: "strategy report", style: "width:100%;height:900px;border:0"}));
}

async function run(ev) {
  ev.preventDefault();
  const btn = document.getElementById("run");
  const status = document.getElementById("status");
  const err = document.getElementById("error");
  btn.disabled = true;
  try {
    const body = {profile: profileText(), setting: document.getElementById("setting").value,
                  calibration: document.getElementById("calibration").value,
                  in_silico: document.getElementById("in-silico").checked,
                  samples: Number(document.getElementById("samples").value),
                  replicates: Number(document.getElementById("replicates").value)};
    const asOf = document.getElementById("as-of").value;
    if (asOf) body.as_of = asOf;
    const job = await H2L.api("/api/reports", {json: body});
    status.textContent = "Building the report for " + body.profile + " (job " + job.id + ") ...";
    const rep = await H2L.waitJob(job.id, null, 800);
    status.textContent = "";
    H2L.showError(err, null);
    show(rep);
    document.body.dataset.report = rep.id;
  } catch (e) {
    status.textContent = "";
    H2L.showError(err, e);
  } finally {
    btn.disabled = false;
  }
}

async function init() {
  await H2L.chrome("/report");
  const [options, trials, cals] = await Promise.all([H2L.api("/api/pathway/options"),
    H2L.api("/api/kb/trials"), H2L.api("/api/calibrations")]);
  const mbox = document.getElementById("mechanisms");
  for (const m of options.mechanisms) {
    const out = el("span", {class: "small"}, "1");
    mbox.appendChild(el("div", {class: "mech", title: m.detail},
      el("input", {type: "checkbox", value: m.id, id: "m-" + m.id}),
      el("label", {for: "m-" + m.id, style: "margin:0;color:inherit"}, m.name),
      el("input", {type: "range", min: "0", max: "1", step: "0.1", value: "1", "aria-label": m.name + " degree",
                   oninput: (e) => { out.textContent = e.target.value; }}), out));
  }
  document.getElementById("m-pten_loss").checked = true;
  const settings = [...new Set(trials.map((t) => t.setting))].filter((s) => s !== "advanced_solid_tumors" && s !== "metastatic_any_line").sort();
  document.getElementById("setting").replaceChildren(...settings.map((s) => el("option", {value: s}, H2L.pretty(s))));
  document.getElementById("setting").value = "metastatic_pretreated";
  document.getElementById("calibration").replaceChildren(...cals.map((c) => el("option", {value: c.name}, c.name)));
  document.getElementById("form").addEventListener("submit", run);
}

init();
