// The trials table: the server filters (drug, setting, mechanism, as_of); search and sort here.
"use strict";

let rows = [];
let table = null;

const COLUMNS = [
  {key: "name", label: "Trial", render: (t) => H2L.el("a", {href: "/trials/" + t.id}, t.name)},
  {key: "nct", label: "NCT"},
  {key: "phase", label: "Phase"},
  {key: "setting", label: "Setting", render: (t) => H2L.pretty(t.setting)},
  {key: "n", label: "Patients"},
  {key: "primary_endpoint", label: "Primary endpoint"},
  {key: "drugs", label: "Drugs", render: (t) => t.drugs.map((d) => H2L.el("span", {class: "tag"}, H2L.pretty(d))),
   sort: (t) => t.drugs.join(",")},
  {key: "outcomes", label: "Outcomes"},
  {key: "in_table1", label: "Table 1", render: (t) => (t.in_table1 ? "yes" : "")},
  {key: "first_published", label: "First published"},
];

function shown() {
  const q = document.getElementById("f-text").value.trim().toLowerCase();
  const keep = rows.filter((t) => !q || [t.name, t.id, t.nct || "", t.drugs.join(" ")].join(" ").toLowerCase().includes(q));
  document.getElementById("count").textContent = keep.length + " of " + rows.length + " trial(s)";
  return keep;
}

async function load() {
  const q = new URLSearchParams();
  for (const [k, id] of [["drug", "f-drug"], ["setting", "f-setting"], ["mechanism", "f-mechanism"], ["as_of", "f-asof"]]) {
    const v = document.getElementById(id).value;
    if (v) q.set(k, v);
  }
  const err = document.getElementById("error");
  try {
    rows = await H2L.api("/api/kb/trials?" + q.toString());
    H2L.showError(err, null);
  } catch (e) {
    rows = [];
    H2L.showError(err, e);
  }
  table.setRows(shown());
}

async function init() {
  await H2L.chrome("/trials");
  const [drugs, mechs, all] = await Promise.all([
    H2L.api("/api/kb/drugs"), H2L.api("/api/kb/mechanisms"), H2L.api("/api/kb/trials")]);
  const fill = (id, items) => { const s = document.getElementById(id); for (const [v, t] of items) s.appendChild(H2L.el("option", {value: v}, t)); };
  fill("f-drug", drugs.map((d) => [d.id, d.name]));
  fill("f-mechanism", mechs.map((m) => [m.id, m.name]));
  fill("f-setting", [...new Set(all.map((t) => t.setting))].sort().map((s) => [s, H2L.pretty(s)]));
  rows = all;
  table = H2L.table(COLUMNS, shown(), {class: "trials"});
  document.getElementById("table").appendChild(table);
  for (const id of ["f-drug", "f-setting", "f-mechanism", "f-asof"]) document.getElementById(id).addEventListener("change", load);
  document.getElementById("f-text").addEventListener("input", () => table.setRows(shown()));
}

init();
