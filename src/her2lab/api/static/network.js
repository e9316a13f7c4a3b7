// The pathway model as a network (after WebMaBoSS's view of a MaBoSS model, drawn here in SVG):
// nodes in layers from the profile and receptor nodes down to the phenotypes, activations as
// arrows and inhibitions as bars, drugs of the chosen regimen as diamonds on the nodes they act
// on, mechanisms' profile nodes outlined in red; a simulation colours every node by its P(ON)
// and plots the trajectories of the nodes picked.
"use strict";

const el = H2L.el;
const SVGNS = "http://www.w3.org/2000/svg";
const ACT = "#2e7d32", INH = "#c0392b", DRUG = "#0b5cad";
let net = null;
let activity = null;
let chosen = ["HER2_HER3", "AKT", "ERK", "Proliferation", "Apoptosis"];

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// P(ON) 0 -> white, 1 -> deep blue.
function colour(p) {
  const t = Math.max(0, Math.min(1, p));
  const mix = (a, b) => Math.round(a + (b - a) * t);
  return `rgb(${mix(255, 11)},${mix(255, 60)},${mix(255, 130)})`;
}

// Layers by longest path over the graph without its feedback edges (found by depth-first
// search from the profile nodes), then barycentre sweeps to keep linked nodes close.
function layout(nodes, edges) {
  const ids = nodes.map((n) => n.id);
  const out = Object.fromEntries(ids.map((i) => [i, []]));
  for (const e of edges) if (e.source !== e.target) out[e.source].push(e.target);
  const state = {}, back = new Set();
  const visit = (v) => {
    state[v] = 1;
    for (const w of out[v]) {
      if (state[w] === 1) back.add(v + ">" + w);
      else if (!state[w]) visit(w);
    }
    state[v] = 2;
  };
  const roots = [...nodes.filter((n) => n.kind === "profile"), ...nodes.filter((n) => n.kind === "drug_state"), ...nodes].map((n) => n.id);
  for (const r of roots) if (!state[r]) visit(r);
  const fwd = edges.filter((e) => e.source !== e.target && !back.has(e.source + ">" + e.target));
  const preds = Object.fromEntries(ids.map((i) => [i, []]));
  for (const e of fwd) preds[e.target].push(e.source);
  const layer = {};
  const depth = (v, seen) => {
    if (layer[v] !== undefined) return layer[v];
    seen.add(v);
    const ps = preds[v].filter((p) => !seen.has(p));
    layer[v] = ps.length ? 1 + Math.max(...ps.map((p) => depth(p, seen))) : 0;
    return layer[v];
  };
  for (const v of ids) depth(v, new Set());
  // profile nodes sit one layer above the first node they act on
  for (const n of nodes) {
    if (n.kind !== "profile") continue;
    const succ = out[n.id].map((w) => layer[w]);
    if (succ.length) layer[n.id] = Math.max(0, Math.min(...succ) - 1);
  }
  const rows = [];
  for (const v of ids) (rows[layer[v]] = rows[layer[v]] || []).push(v);
  const pos = {};
  const setPos = () => rows.forEach((r) => r && r.forEach((v, i) => { pos[v] = (i + 0.5) / r.length; }));
  setPos();
  const nbr = Object.fromEntries(ids.map((i) => [i, []]));
  for (const e of fwd) { nbr[e.source].push(e.target); nbr[e.target].push(e.source); }
  for (let it = 0; it < 10; it++) {
    const order = it % 2 ? [...rows.keys()].reverse() : [...rows.keys()];
    for (const k of order) {
      const r = rows[k];
      if (!r) continue;
      const b = new Map(r.map((v) => {
        const ps = nbr[v].map((w) => pos[w]);
        return [v, ps.length ? ps.reduce((a, c) => a + c, 0) / ps.length : pos[v]];
      }));
      r.sort((x, y) => b.get(x) - b.get(y) || x.localeCompare(y));
      setPos();
    }
  }
  return {rows: rows.filter(Boolean), back: back};
}

function drawLegend() {
  const box = document.getElementById("net-legend");
  const grad = svg("svg", {width: "170", height: "26", viewBox: "0 0 170 26", role: "img", "aria-label": "activity colour scale"});
  const defs = svg("defs");
  const lg = svg("linearGradient", {id: "pon", x1: "0", x2: "1"});
  lg.append(svg("stop", {offset: "0", "stop-color": colour(0)}), svg("stop", {offset: "1", "stop-color": colour(1)}));
  defs.append(lg);
  grad.append(defs, svg("rect", {x: "0", y: "2", width: "120", height: "12", fill: "url(#pon)", stroke: "#999"}),
    svg("text", {x: "0", y: "25", "font-size": "10"}, "0"), svg("text", {x: "112", y: "25", "font-size": "10"}, "1"),
    svg("text", {x: "126", y: "12", "font-size": "10"}, "P(ON)"));
  H2L.fill(box, 
    el("span", {}, el("b", {class: "sw-act"}, "→"), " activation"),
    el("span", {}, el("b", {class: "sw-inh"}, "⊣"), " inhibition"),
    el("span", {}, el("b", {class: "sw-drug"}, "◆"), " drug of the regimen (bind, inhibit or induce)"),
    el("span", {}, el("b", {class: "sw-mech"}, "▭"), " mechanism's profile node"),
    el("span", {class: "muted"}, "dashed: feedback"), grad);
}

function draw() {
  const box = document.getElementById("net");
  const regimen = [...document.querySelectorAll("#drugs input:checked")].map((b) => b.value);
  const drugs = net.drugs.filter((d) => regimen.includes(d.id));
  const nodes = net.nodes;
  const {rows, back} = layout(nodes, net.edges);
  const slotW = 86, rowH = 74, top = 40;
  const widest = Math.max(...rows.map((r) => r.length));
  const width = widest * slotW + 40;
  const xy = {};
  rows.forEach((r, k) => r.forEach((v, i) => {
    xy[v] = [20 + (i + 0.5) * (width - 40) / r.length, top + k * rowH];
  }));
  const s = svg("svg", {viewBox: `0 0 ${width} ${top + rows.length * rowH + 30}`, role: "group",
                        "aria-label": "pathway network: " + nodes.length + " nodes", preserveAspectRatio: "xMidYMin meet"});
  const defs = svg("defs");
  const arrow = svg("marker", {id: "m-act", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse"});
  arrow.append(svg("path", {d: "M0,0 L10,5 L0,10 z", fill: ACT}));
  const bar = svg("marker", {id: "m-inh", viewBox: "0 0 4 10", refX: "3", refY: "5", markerWidth: "4", markerHeight: "9", orient: "auto"});
  bar.append(svg("rect", {x: "1", y: "0", width: "2.5", height: "10", fill: INH}));
  const dm = svg("marker", {id: "m-drug", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "6", markerHeight: "6", orient: "auto"});
  dm.append(svg("path", {d: "M0,0 L10,5 L0,10 z", fill: DRUG}));
  defs.append(arrow, bar, dm);
  s.appendChild(defs);
  const gEdges = svg("g", {class: "edges"});
  const hw = 34, hh = 12;
  for (const e of net.edges) {
    if (e.source === e.target || !xy[e.source] || !xy[e.target]) continue;
    const [x1, y1] = xy[e.source], [x2, y2] = xy[e.target];
    const isBack = back.has(e.source + ">" + e.target) || y2 <= y1;
    let d;
    if (isBack) {
      const side = x1 < width / 2 ? -1 : 1;
      const bend = 40 + Math.abs(y1 - y2) * 0.25;
      d = `M${x1 + side * hw},${y1} C${x1 + side * (hw + bend)},${y1} ${x2 + side * (hw + bend)},${y2} ${x2 + side * hw},${y2}`;
    } else {
      const my = (y1 + y2) / 2;
      d = `M${x1},${y1 + hh} C${x1},${my} ${x2},${my} ${x2},${y2 - hh - 3}`;
    }
    const p = svg("path", {d: d, class: "nedge " + e.sign + (isBack ? " feedback" : ""),
      "marker-end": e.sign === "inhibition" ? "url(#m-inh)" : "url(#m-act)"});
    p.dataset.source = e.source;
    p.dataset.target = e.target;
    p.appendChild(svg("title", {}, e.source + (e.sign === "inhibition" ? " inhibits " : e.sign === "both" ? " acts both ways on " : " activates ") + e.target));
    gEdges.appendChild(p);
  }
  s.appendChild(gEdges);
  const gNodes = svg("g", {class: "nodes"});
  for (const n of nodes) {
    const [x, y] = xy[n.id];
    const a = activity ? activity[n.id] : undefined;
    const g = svg("g", {class: "nnode k-" + n.kind + (n.mechanism ? " mech" : "") + (chosen.includes(n.id) ? " chosen" : ""),
      transform: `translate(${x},${y})`, tabindex: "0", role: "button",
      "aria-label": n.id + " (" + n.kind + ")" + (a !== undefined ? ", P(ON) " + a.toFixed(2) : ""),
      "data-id": n.id});
    if (a !== undefined) g.dataset.activity = a.toFixed(4);
    const fill = a !== undefined ? colour(a) : "#fff";
    g.append(svg("rect", {x: -hw, y: -hh, width: 2 * hw, height: 2 * hh, rx: n.kind === "phenotype" ? 12 : 4, fill: fill, class: "nbox"}),
      svg("text", {x: 0, y: 4, "text-anchor": "middle", class: a !== undefined && a > 0.55 ? "light" : ""},
        n.id.length > 11 ? n.id.slice(0, 10) + "…" : n.id),
      svg("title", {}, n.id + " — " + n.kind + (n.note ? ": " + n.note : "") + "\nrule: " + n.rule +
        (a !== undefined ? "\nP(ON) " + a.toFixed(3) : "")));
    g.addEventListener("click", () => pick(n));
    g.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); pick(n); } });
    g.addEventListener("focus", () => highlight(s, n.id));
    g.addEventListener("blur", () => highlight(s, null));
    g.addEventListener("mouseenter", () => highlight(s, n.id));
    g.addEventListener("mouseleave", () => highlight(s, null));
    gNodes.appendChild(g);
  }
  // drugs of the regimen: a diamond beside each node they act on
  const gDrugs = svg("g", {class: "drugs"});
  const perNode = {};
  for (const d of drugs) {
    for (const eff of d.effects) {
      if (!xy[eff.node]) continue;
      const k = (perNode[eff.node] = (perNode[eff.node] || 0) + 1);
      const [x, y] = xy[eff.node];
      const dx = x - hw - 16 * k, dy = y - hh - 10;
      const g = svg("g", {class: "ndrug", "data-drug": d.id, "data-node": eff.node, transform: `translate(${dx},${dy})`});
      g.append(svg("path", {d: "M0,-7 L7,0 L0,7 L-7,0 z", fill: DRUG}),
        svg("line", {x1: 5, y1: 3, x2: x - dx - hw + 2, y2: y - dy - 2, stroke: DRUG, "stroke-width": 1.4,
                     "marker-end": eff.kind === "induce" ? "url(#m-drug)" : "url(#m-inh)"}),
        svg("title", {}, d.name + " " + (eff.kind === "bind" ? "binds" : eff.kind === "induce" ? "induces" : "inhibits") + " " + eff.node + " (weight " + eff.weight + ")"));
      gDrugs.appendChild(g);
    }
  }
  s.append(gNodes, gDrugs);
  H2L.fill(box, s);
  const bb = s.getBBox();
  s.setAttribute("viewBox", `${Math.floor(bb.x - 10)} ${Math.floor(bb.y - 10)} ${Math.ceil(bb.width + 20)} ${Math.ceil(bb.height + 20)}`);
  box.dataset.nodes = String(nodes.length);
}

function highlight(s, id) {
  s.classList.toggle("focus", id !== null);
  for (const p of s.querySelectorAll(".nedge")) p.classList.toggle("hl", id !== null && (p.dataset.source === id || p.dataset.target === id));
}

function pick(n) {
  const info = document.getElementById("node-info");
  const ins = net.edges.filter((e) => e.target === n.id && e.source !== n.id);
  const outs = net.edges.filter((e) => e.source === n.id && e.target !== n.id);
  const drugsOn = net.drugs.filter((d) => d.effects.some((e) => e.node === n.id));
  const mech = n.mechanism ? net.mechanisms.find((m) => m.id === n.mechanism) : null;
  const on = chosen.includes(n.id);
  const toggle = el("button", {type: "button", class: "secondary", id: "toggle-trajectory"}, on ? "Remove its trajectory" : "Plot its trajectory");
  toggle.addEventListener("click", () => {
    chosen = on ? chosen.filter((c) => c !== n.id) : [...chosen, n.id].slice(-12);
    pick(n);
    if (activity) run(); else draw();
  });
  const list = (es, key) => es.map((e) => el("span", {class: "tag " + e.sign}, (e.sign === "inhibition" ? "⊣ " : "→ ") + e[key]));
  H2L.fill(info, el("h3", {class: "flush"}, n.id), el("div", {class: "muted"}, n.kind + (n.hgnc.length ? " · HGNC " + n.hgnc.join(", ") : "") + (n.readout ? " · read out as " + n.readout : "")),
    n.note ? el("p", {}, n.note) : null,
    el("div", {}, el("b", {}, "Rule: "), el("code", {}, n.rule)),
    el("div", {}, el("b", {}, "Regulated by: "), ins.length ? list(ins, "source") : "–"),
    el("div", {}, el("b", {}, "Acts on: "), outs.length ? list(outs, "target") : "–"),
    drugsOn.length ? el("div", {}, el("b", {}, "Drugs acting on it: "), drugsOn.map((d) => d.name).join(", ")) : null,
    mech ? el("div", {}, el("b", {}, "Mechanism: "), mech.name) : null,
    activity ? el("div", {}, el("b", {}, "P(ON), read-out window: "), H2L.fmt(activity[n.id])) : null,
    el("p", {}, toggle));
}

function plotTrajectories(res) {
  const div = document.getElementById("trajectories");
  const traces = Object.entries(res.trajectories).map(([n, v], i) => ({type: "scatter", mode: "lines", name: n, x: res.times, y: v,
    line: {color: H2L.COLOURS[i % 6]}}));
  Plotly.newPlot(div, traces, H2L.layout({title: {text: "Trajectories: " + (res.regimen.length ? res.regimen.map(H2L.pretty).join(" + ") : "untreated") +
      " on " + (Array.isArray(res.profile) ? (res.profile.join(", ") || "no mechanism") : Object.entries(res.profile).map(([k, v]) => k + " " + v).join(", ")) +
      " (" + res.samples + " trajectories; shaded: read-out window)", font: {size: 13}},
    xaxis: H2L.axis("time (days)"), yaxis: H2L.axis("P(ON), share of trajectories", {range: [0, 1.02]}),
    shapes: [{type: "rect", xref: "x", yref: "paper", x0: res.window_start, x1: Math.max(...res.times) + 1, y0: 0, y1: 1,
              fillcolor: "#eef1f5", opacity: 0.5, line: {width: 0}, layer: "below"}],
    height: 360}), H2L.plotConfig);
  div.dataset.drawn = "yes";
}

async function run(ev) {
  if (ev) ev.preventDefault();
  const btn = document.getElementById("run");
  const err = document.getElementById("error");
  btn.disabled = true;
  const status = document.getElementById("status");
  status.textContent = "simulating …";
  try {
    const profile = [...document.querySelectorAll("#mechanisms input:checked")].map((b) => b.value);
    const regimen = [...document.querySelectorAll("#drugs input:checked")].map((b) => b.value);
    const res = await H2L.api("/api/pathway/network/activity", {json: {profile: profile, regimen: regimen,
      samples: Number(document.getElementById("samples").value), seed: Number(document.getElementById("seed").value), nodes: chosen}});
    activity = res.activity;
    H2L.showError(err, null);
    draw();
    plotTrajectories(res);
    status.textContent = "Coloured by P(ON) over days " + res.window_start + "–" + Math.max(...res.times) + " (" + res.samples + " trajectories, seed " + res.seed + "). " + res.notice;
    document.body.dataset.simulated = "yes";
  } catch (e) {
    status.textContent = "";
    H2L.showError(err, e);
  } finally {
    btn.disabled = false;
  }
}

async function init() {
  await H2L.chrome("/network");
  net = await H2L.api("/api/pathway/network");
  document.getElementById("seed").value = (await H2L.api("/api/pathway/options")).default_seed;
  const known = new Set(net.nodes.map((n) => n.id));
  chosen = chosen.filter((c) => known.has(c));
  document.getElementById("mechanisms").replaceChildren(...net.mechanisms.map((m) =>
    el("label", {}, el("input", {type: "checkbox", value: m.id, checked: m.id === "pten_loss"}), m.name)));
  document.getElementById("drugs").replaceChildren(...net.drugs.map((d) =>
    el("label", {}, el("input", {type: "checkbox", value: d.id, checked: d.id === "trastuzumab", onchange: draw}), d.name)));
  drawLegend();
  draw();
  document.getElementById("form").addEventListener("submit", run);
}

init();
