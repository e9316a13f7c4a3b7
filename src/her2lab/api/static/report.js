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

function drugsText(drugs) {
  return drugs && drugs.length ? drugs.map(H2L.pretty).join(" + ") : "no treatment";
}

// In-silico results, each with what it is compared against.
function inSilico(r) {
  const parts = [];
  const ra = r.in_silico.rationale, pr = r.in_silico.prediction;
  if (ra) {
    parts.push("model response " + H2L.fmt(ra.response_with) + " with " + drugsText(r.regimen) + " vs " +
      H2L.fmt(ra.response_without) + " with " + drugsText(ra.without) + " (gain " + H2L.fmt(ra.gain) + ")");
  }
  if (pr) {
    const ctrl = pr.control_regimen && pr.control_regimen.length ? pr.control + " (" + drugsText(pr.control_regimen) + ")" : pr.control || "no treatment";
    parts.push("virtual trials: " + pr.endpoint + " " + pr.result + " vs " + ctrl);
  }
  return parts.length ? parts.join("; ") : "–";
}

function show(rep) {
  const box = document.getElementById("ranked");
  box.hidden = false;
  H2L.fill(box, 
    el("h2", {class: "flush"}, "Ranked regimens: " + H2L.pretty(rep.setting)),
    el("div", {class: "small"}, el("a", {href: rep.pdf, id: "pdf", download: ""}, "Download the PDF"), " · ",
       el("a", {href: rep.html, target: "_blank"}, "open the HTML")),
    el("div", {class: "scroll"}, H2L.table([
      {key: "rank", label: "Rank"}, {key: "label", label: "Regimen"}, {key: "tier", label: "ESCAT tier"},
      {key: "evidence", label: "Key clinical evidence", render: (r) => r.key_evidence || r.tier_reason || "–", sort: (r) => r.key_evidence},
      {key: "profile_matches", label: "Profile match", render: (r) => r.profile_matches.join(", ") || "–", sort: (r) => r.profile_matches.length},
      {key: "in_silico", label: "In silico (never ranks)", render: inSilico, sort: (r) => (r.in_silico.rationale ? r.in_silico.rationale.gain : null)},
    ], rep.ranked, {class: "ranked"})),
    el("div", {class: "small muted"}, rep.disclaimer));
  const view = document.getElementById("view");
  view.hidden = false;
  view.replaceChildren(el("iframe", {src: rep.html, title: "strategy report", class: "report-frame"}));
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
    const update = H2L.progressBar(status, "report progress");
    update(job);
    const rep = await H2L.waitJob(job.id, update, 500);
    status.replaceChildren();
    H2L.showError(err, null);
    show(rep);
    document.body.dataset.report = rep.id;
    H2L.reveal(document.getElementById("ranked"));
  } catch (e) {
    status.replaceChildren();
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
      el("label", {for: "m-" + m.id, class: "inline-label"}, m.name),
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
