// The landscape graph, drawn in SVG: four columns (mechanisms, targets, drugs, trials) ordered
// by barycentre sweeps so that linked nodes sit close to each other.
"use strict";

const KINDS = ["mechanism", "target", "drug", "trial"];
const COLOURS = {mechanism: "#c0392b", target: "#2e8b57", drug: "#0b5cad", trial: "#7d4fa8"};
const TITLES = {mechanism: "Resistance mechanisms", target: "Targets", drug: "Drugs",
                trial: "Trials"};
const SVGNS = "http://www.w3.org/2000/svg";

function svg(tag, attrs) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

function order(graph) {
  const cols = {};
  for (const k of KINDS) cols[k] = graph.nodes.filter((n) => n.kind === k);
  const nbr = {};
  for (const n of graph.nodes) nbr[n.id] = [];
  for (const e of graph.edges) {
    if (nbr[e.source] && nbr[e.target]) { nbr[e.source].push(e.target); nbr[e.target].push(e.source); }
  }
  const pos = {};
  const setPos = () => { for (const k of KINDS) cols[k].forEach((n, i) => { pos[n.id] = i / Math.max(1, cols[k].length - 1); }); };
  setPos();
  const sweep = (k) => {
    const bary = (n) => {
      const ps = nbr[n.id].map((m) => pos[m]).filter((p) => p !== undefined);
      return ps.length ? ps.reduce((a, b) => a + b, 0) / ps.length : pos[n.id];
    };
    const b = new Map(cols[k].map((n) => [n.id, bary(n)]));
    cols[k].sort((x, y) => b.get(x.id) - b.get(y.id) || x.label.localeCompare(y.label));
    setPos();
  };
  for (let it = 0; it < 6; it++) for (const k of ["target", "mechanism", "drug", "trial", "drug", "target"]) sweep(k);
  return cols;
}

function draw(graph) {
  const box = document.getElementById("graph");
  box.innerHTML = "";
  box.classList.remove("focus");
  const cols = order(graph);
  const rowH = 19, top = 40;
  const xs = {mechanism: 270, target: 520, drug: 780, trial: 1060};
  const rows = Math.max(...KINDS.map((k) => cols[k].length), 1);
  const height = top + rows * rowH + 20;
  const width = 1270;
  const s = svg("svg", {width: width, height: height, viewBox: `0 0 ${width} ${height}`,
                        role: "group", "aria-label": "drugs, targets, mechanisms and trials"});
  const xy = {};
  for (const k of KINDS) {
    const n = cols[k].length;
    const offset = top + (rows - n) * rowH / 2;
    cols[k].forEach((node, i) => { xy[node.id] = [xs[k], offset + i * rowH + rowH / 2]; });
    const t = svg("text", {x: xs[k], y: 18, "text-anchor": "middle", "font-weight": "bold"});
    t.textContent = `${TITLES[k]} (${n})`;
    s.appendChild(t);
  }
  const edgeEls = [];
  const gEdges = svg("g", {});
  for (const e of graph.edges) {
    if (!xy[e.source] || !xy[e.target]) continue;
    const [x1, y1] = xy[e.source], [x2, y2] = xy[e.target];
    const mx = (x1 + x2) / 2;
    const bend = e.kind === "counteracts" ? -40 : 0;
    const p = svg("path", {d: `M${x1},${y1} C${mx},${y1 + bend} ${mx},${y2 + bend} ${x2},${y2}`,
                           class: "edge " + e.kind});
    p.dataset.source = e.source;
    p.dataset.target = e.target;
    gEdges.appendChild(p);
    edgeEls.push(p);
  }
  s.appendChild(gEdges);
  const nodeEls = {};
  for (const n of graph.nodes) {
    const [x, y] = xy[n.id];
    const g = svg("g", {class: "node", "data-id": n.id, "data-kind": n.kind,
                        transform: `translate(${x},${y})`});
    const r = n.kind === "trial" || n.kind === "target" ? 4.5 : 6;
    g.appendChild(svg("circle", {r: r, fill: COLOURS[n.kind]}));
    const left = n.kind === "mechanism";
    const label = svg("text", {x: left ? -9 : 9, y: 4, "text-anchor": left ? "end" : "start"});
    const max = n.kind === "trial" ? 30 : 34;
    label.textContent = n.label.length > max ? n.label.slice(0, max - 1) + "…" : n.label;
    const title = svg("title", {});
    title.textContent = `${n.label} (${n.id}${n.group ? ", " + n.group.replace(/_/g, " ") : ""})`;
    g.appendChild(label);
    g.appendChild(title);
    // keyboard: Tab reaches every node, focus highlights its links, Enter or Space opens it
    g.setAttribute("tabindex", "0");
    g.setAttribute("role", n.kind === "trial" ? "link" : "button");
    g.setAttribute("aria-label", `${n.kind}: ${n.label}`);
    g.addEventListener("mouseenter", () => focus(n.id));
    g.addEventListener("mouseleave", () => focus(null));
    g.addEventListener("focus", () => focus(n.id));
    g.addEventListener("blur", () => focus(null));
    g.addEventListener("click", () => select(n));
    g.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); select(n); }
    });
    s.appendChild(g);
    nodeEls[n.id] = g;
  }
  function focus(id) {
    box.classList.toggle("focus", id !== null);
    for (const g of Object.values(nodeEls)) g.classList.remove("hl");
    for (const p of edgeEls) p.classList.remove("hl");
    if (id === null) return;
    nodeEls[id].classList.add("hl");
    for (const p of edgeEls) {
      if (p.dataset.source === id || p.dataset.target === id) {
        p.classList.add("hl");
        nodeEls[p.dataset.source].classList.add("hl");
        nodeEls[p.dataset.target].classList.add("hl");
      }
    }
  }
  box.appendChild(s);
  // the drawing's own extent (labels included) as the viewBox: it scales with its box and
  // no label is cut off at either side
  const bb = s.getBBox();
  const pad = 8;
  s.setAttribute("viewBox", `${Math.floor(bb.x - pad)} ${Math.floor(bb.y - pad)} ${Math.ceil(bb.width + 2 * pad)} ${Math.ceil(bb.height + 2 * pad)}`);
  s.removeAttribute("width");
  s.removeAttribute("height");
  s.setAttribute("preserveAspectRatio", "xMidYMin meet");
  box.dataset.nodes = String(graph.nodes.length);
}

async function select(n) {
  const info = document.getElementById("info");
  const local = n.id.split(":").slice(1).join(":");
  if (n.kind === "trial") { window.location.href = "/trials/" + encodeURIComponent(local); return; }
  const el = H2L.el;
  info.innerHTML = "";
  try {
    if (n.kind === "drug") {
      const d = await H2L.api("/api/kb/drugs/" + encodeURIComponent(local));
      info.append(el("h3", {}, d.drug.name), el("div", {class: "muted"}, H2L.pretty(d.drug.drug_class)),
        el("p", {}, d.drug.mechanism.join("; ")),
        el("div", {}, el("b", {}, "Targets: "), d.drug.targets.join(", ") || "–"),
        el("div", {}, el("b", {}, "Counteracts: "), d.counteracts.map(H2L.pretty).join(", ") || "–"),
        el("div", {}, el("b", {}, "Trials: "), d.trials.map((t) => el("a", {href: "/trials/" + t.id, class: "tag"}, t.name))),
        el("div", {class: "small muted"}, "Source: " + d.drug.provenance.locator));
    } else if (n.kind === "mechanism") {
      const m = await H2L.api("/api/kb/mechanisms/" + encodeURIComponent(local));
      info.append(el("h3", {}, m.mechanism.name), el("div", {class: "muted"}, m.mechanism.category),
        el("p", {}, m.mechanism.effect),
        el("div", {}, el("b", {}, "Model nodes: "), m.mechanism.nodes.join(", ")),
        el("div", {}, el("b", {}, "Counteracted by: "), m.mechanism.counteracted_by.join(", ") || "–"),
        el("div", {}, el("b", {}, "Biomarkers: "), m.biomarkers.map((b) => b.name).join(", ") || "–"),
        el("div", {class: "small muted"}, "Source: " + m.mechanism.provenance.locator));
    } else {
      const t = await H2L.api("/api/kb/targets/" + encodeURIComponent(local));
      info.append(el("h3", {}, t.symbol), el("div", {}, t.name), el("p", {}, t.role),
        el("div", {class: "small muted"}, "HGNC:" + t.hgnc + " · " + t.provenance.locator));
    }
  } catch (err) {
    H2L.showError(info, err);
  }
}

async function load() {
  const q = new URLSearchParams();
  for (const [k, id] of [["drug", "f-drug"], ["setting", "f-setting"], ["mechanism", "f-mechanism"], ["as_of", "f-asof"]]) {
    const v = document.getElementById(id).value;
    if (v) q.set(k, v);
  }
  const errBox = document.getElementById("error");
  try {
    draw(await H2L.api("/api/kb/graph?" + q.toString()));
    H2L.showError(errBox, null);
  } catch (err) {
    H2L.showError(errBox, err);
  }
}

async function init() {
  await H2L.chrome("/");
  const [drugs, mechs, trials] = await Promise.all([
    H2L.api("/api/kb/drugs"), H2L.api("/api/kb/mechanisms"), H2L.api("/api/kb/trials")]);
  const fill = (id, items) => { const s = document.getElementById(id); for (const [v, t] of items) s.appendChild(H2L.el("option", {value: v}, t)); };
  fill("f-drug", drugs.map((d) => [d.id, d.name]));
  fill("f-mechanism", mechs.map((m) => [m.id, m.name]));
  fill("f-setting", [...new Set(trials.map((t) => t.setting))].sort().map((s) => [s, H2L.pretty(s)]));
  for (const id of ["f-drug", "f-setting", "f-mechanism", "f-asof"]) document.getElementById(id).addEventListener("change", load);
  document.getElementById("f-reset").addEventListener("click", () => {
    for (const id of ["f-drug", "f-setting", "f-mechanism", "f-asof"]) document.getElementById(id).value = "";
    load();
  });
  await load();
}

init();
