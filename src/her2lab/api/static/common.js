// her2lab web UI: helpers shared by every page (no framework, no network beyond this server).
"use strict";

const H2L = {};

H2L.NOTICE = "Research use: simulated and curated results, not medical advice.";

// Element builder: el("td", {class: "x"}, "text", child, ...)
H2L.el = function (tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    e.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
  return e;
};

// An API error: the server's JSON body (error, message, problems) kept for display.
class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || ("HTTP " + status));
    this.status = status;
    this.body = body || {};
  }
}
H2L.ApiError = ApiError;

H2L.api = async function (path, options) {
  const opts = Object.assign({headers: {}}, options || {});
  if (opts.json !== undefined) {
    opts.method = opts.method || "POST";
    opts.body = JSON.stringify(opts.json);
    opts.headers["Content-Type"] = "application/json";
    delete opts.json;
  }
  const r = await fetch(path, opts);
  const text = await r.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = {message: text}; }
  if (!r.ok) throw new ApiError(r.status, body);
  return body;
};

// Show an error (an ApiError lists its problems: field, expected, found).
H2L.showError = function (box, err) {
  box.innerHTML = "";
  if (!err) { box.hidden = true; return; }
  box.hidden = false;
  const lines = [err.message || String(err)];
  const problems = (err.body && err.body.problems) || [];
  for (const p of problems.slice(0, 8)) {
    lines.push("  " + p.field + ": expected " + p.expected + "; found " + p.found);
  }
  box.appendChild(H2L.el("div", {class: "error", role: "alert"}, lines.join("\n")));
};

H2L.fmt = function (x, digits) {
  if (x === null || x === undefined || (typeof x === "number" && !isFinite(x))) return "–";
  if (typeof x === "number") {
    const d = digits === undefined ? 3 : digits;
    return Math.abs(x) >= 1000 ? Math.round(x).toString() : Number(x.toPrecision(d)).toString();
  }
  return String(x);
};

H2L.pretty = (s) => String(s || "").replace(/_/g, " ");

// Poll a background job until it is done or failed; onProgress(job) on each poll.
H2L.waitJob = async function (id, onProgress, intervalMs) {
  for (;;) {
    const job = await H2L.api("/api/jobs/" + encodeURIComponent(id));
    if (onProgress) onProgress(job);
    if (job.status === "done") return job.result;
    if (job.status === "failed") throw new ApiError(400, job.error || {message: "the job failed"});
    await new Promise((ok) => setTimeout(ok, intervalMs || 500));
  }
};

// The header (navigation, with the report and synthesis pages where installed) and footer.
H2L.chrome = async function (active) {
  const links = [["/", "Landscape"], ["/trials", "Trials"], ["/pathway", "Pathway simulator"],
                 ["/network", "Network"], ["/designer", "Trial designer"], ["/lab", "Calibration & screens"]];
  let meta = {features: {}};
  try { meta = await H2L.api("/api/meta"); } catch (e) { /* the page still works */ }
  if (meta.features && meta.features.report) links.push(["/report", "Strategy report"]);
  const nav = H2L.el("nav", {}, links.map(([href, text]) =>
    H2L.el("a", {href: href, class: href === active ? "active" : null}, text)));
  const header = H2L.el("header", {class: "top"},
    H2L.el("a", {class: "brand", href: "/"}, "her2lab"), nav,
    H2L.el("a", {href: "/docs", class: "api-link"}, "API"));
  document.body.insertBefore(header, document.body.firstChild);
  document.body.appendChild(H2L.el("footer", {},
    "her2lab " + (meta.version || "") + " · " + H2L.NOTICE + " · all data and code served locally"));
  return meta;
};

// A sortable table: columns [{key, label, render?(row) -> node|string, sort?(row) -> value}].
H2L.table = function (columns, rows, opts) {
  const state = {key: (opts && opts.sortKey) || null, dir: 1};
  const thead = H2L.el("thead");
  const tbody = H2L.el("tbody");
  const table = H2L.el("table", {class: (opts && opts.class) || ""}, thead, tbody);
  const sortValue = (c, r) => (c.sort ? c.sort(r) : r[c.key]);
  function draw() {
    thead.innerHTML = "";
    tbody.innerHTML = "";
    const tr = H2L.el("tr");
    for (const c of columns) {
      const cls = "sortable" + (state.key === c.key ? (state.dir > 0 ? " sorted-asc" : " sorted-desc") : "");
      tr.appendChild(H2L.el("th", {class: cls, "data-key": c.key, onclick: () => {
        state.dir = state.key === c.key ? -state.dir : 1;
        state.key = c.key;
        draw();
      }}, c.label));
    }
    thead.appendChild(tr);
    let shown = rows.slice();
    if (state.key) {
      const c = columns.find((x) => x.key === state.key);
      shown.sort((a, b) => {
        const va = sortValue(c, a), vb = sortValue(c, b);
        if (va === vb) return 0;
        if (va === null || va === undefined) return 1;
        if (vb === null || vb === undefined) return -1;
        return (va < vb ? -1 : 1) * state.dir;
      });
    }
    for (const r of shown) {
      tbody.appendChild(H2L.el("tr", {}, columns.map((c) => {
        const v = c.render ? c.render(r) : r[c.key];
        return H2L.el("td", {}, v === null || v === undefined ? "–" : v);
      })));
    }
  }
  table.setRows = (newRows) => { rows = newRows; draw(); };
  draw();
  return table;
};

// Plotly layout defaults shared by every plot (offline: plotly.js is served by this app).
// Break text into lines of at most n characters (plotly does not wrap titles or ticks).
H2L.wrap = function (text, n) {
  const words = String(text).split(" ");
  const lines = [];
  let cur = "";
  for (const w of words) {
    if (cur && (cur + " " + w).length > n) { lines.push(cur); cur = w; } else cur = cur ? cur + " " + w : w;
  }
  if (cur) lines.push(cur);
  return lines.join("<br>");
};
H2L.narrow = () => window.innerWidth < 640;

// The title sits top left, the legend in a row above the plot (never over an axis title); on
// a phone a long title wraps and the top margin grows to hold it.
H2L.layout = function (extra) {
  const out = Object.assign({margin: {l: 60, r: 20, t: 66, b: 50}, font: {size: 12},
                             paper_bgcolor: "#fff", plot_bgcolor: "#fff",
                             legend: {orientation: "h", y: 1.02, yanchor: "bottom", x: 0}},
                            extra || {});
  if (out.title && typeof out.title === "object") {
    out.title = Object.assign({x: 0, xanchor: "left", y: 1, yanchor: "top", pad: {t: 10}}, out.title);
    const per = Math.max(24, Math.floor((Math.min(window.innerWidth, 1320) - 60) / 7));
    if (out.title.text && out.title.text.length > per) {
      out.title.text = H2L.wrap(out.title.text, per);
      const lines = out.title.text.split("<br>").length;
      out.margin = Object.assign({}, out.margin, {t: (out.margin.t || 66) + 16 * (lines - 1)});
      out.height = (out.height || 400) + 16 * (lines - 1);
    }
  }
  return out;
};

// The children of a node, dropping null and undefined (replaceChildren would print "null").
H2L.fill = function (node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
  return node;
};
H2L.plotConfig = {displaylogo: false, responsive: true};

// An axis with its title (plotly.js wants {title: {text}}; a bare string is dropped).
H2L.axis = function (text, extra) {
  return Object.assign({title: {text: text}, automargin: true}, extra || {});
};

H2L.COLOURS = ["#0b5cad", "#c0392b", "#2e8b57", "#7d4fa8", "#b8860b", "#17808a"];

// Ticks for a time axis from 0 to tmax: about `count` steps of 1, 2, 3, 6 or 12 x 10^k.
H2L.ticks = function (tmax, count) {
  const raw = Math.max(tmax, 1e-9) / (count || 6);
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 3, 6, 12].map((m) => m * p).find((s) => s >= raw) || 12 * p;
  const out = [];
  for (let t = 0; t <= tmax + 1e-9; t += step) out.push(Number(t.toPrecision(6)));
  return out;
};

// Patients at risk at time t from a curve's risk table (at_risk[i] at time[i]): the count at
// the first recorded time at or after t, 0 beyond the last.
H2L.atRisk = function (curve, t) {
  const i = curve.time.findIndex((x) => x >= t - 1e-9);
  return i < 0 ? 0 : curve.at_risk[i];
};

// Kaplan–Meier curves with the numbers at risk under the plot, one row per arm, in the arm's
// colour. curves: {arm: {time, survival, at_risk}}; opts: {title, endpoint, control, unit}.
H2L.kmPlot = function (div, curves, opts) {
  const o = opts || {};
  const names = Object.keys(curves);
  const tmax = Math.max(...names.map((n) => Math.max(...curves[n].time)));
  const ticks = H2L.ticks(tmax, 8);
  const traces = names.map((n, i) => ({type: "scatter", mode: "lines", line: {shape: "hv", color: H2L.COLOURS[i % 6]},
    name: n + (n === o.control ? " (control)" : ""), x: curves[n].time, y: curves[n].survival,
    hovertemplate: "%{x:.1f} " + (o.unit || "months") + ": %{y:.3f}<extra>" + n + "</extra>"}));
  const hasRisk = names.every((n) => Array.isArray(curves[n].at_risk));
  const annotations = [];
  const rowH = 17, first = 62;
  const table = {};
  if (hasRisk) {
    annotations.push({xref: "paper", yref: "paper", x: 0, y: 0, yshift: -first + 4, xshift: -16, xanchor: "right",
      yanchor: "top", text: "<b>At risk</b>", showarrow: false, font: {size: 11}});
    names.forEach((n, i) => {
      const label = n.length > 16 ? n.slice(0, 15) + "…" : n;
      annotations.push({xref: "paper", yref: "paper", x: 0, y: 0, yshift: -first - rowH * (i + 1) + 4, xshift: -16,
        xanchor: "right", yanchor: "top", text: label, showarrow: false, font: {size: 11, color: H2L.COLOURS[i % 6]}});
      table[n] = ticks.map((t) => H2L.atRisk(curves[n], t));
      ticks.forEach((t, k) => annotations.push({xref: "x", yref: "paper", x: t, y: 0,
        yshift: -first - rowH * (i + 1) + 4, yanchor: "top", text: String(table[n][k]), showarrow: false,
        font: {size: 11, color: H2L.COLOURS[i % 6]}}));
    });
  }
  const longest = Math.max(8, ...names.map((n) => Math.min(n.length, 16)));
  const layout = H2L.layout({title: {text: o.title || "", font: {size: 13}},
    xaxis: H2L.axis("time since randomisation (" + (o.unit || "months") + ")", {tickvals: ticks, range: [0, tmax * 1.02], zeroline: false}),
    yaxis: H2L.axis((o.endpoint || "event-free") + " probability (Kaplan–Meier)", {range: [0, 1.02]}),
    annotations: annotations, height: 360 + (hasRisk ? rowH * (names.length + 1) : 0),
    margin: {l: Math.max(70, 7 * longest + 36), r: 24, t: 66 + (H2L.narrow() ? 20 * (names.length - 1) : 0), b: hasRisk ? first + rowH * (names.length + 1) + 8 : 50},
    legend: {orientation: "h", y: 1.02, yanchor: "bottom", x: 0}});
  div.dataset.atRisk = JSON.stringify({ticks: ticks, arms: table});
  return Plotly.newPlot(div, traces, layout, H2L.plotConfig);
};

// A forest plot. rows: [{label, estimate, low, high, pooled?, highlight?}] top to bottom;
// opts: {measure, title, favours: [below 1, above 1], xtitle}. Pooled rows are diamonds.
H2L.forestPlot = function (div, rows, opts) {
  const o = opts || {};
  const n = rows.length;
  const y = rows.map((_, i) => n - 1 - i);
  const plain = rows.map((r, i) => [r, y[i]]).filter(([r]) => !r.pooled);
  const traces = [];
  const point = (sel, colour, name) => {
    if (!sel.length) return;
    traces.push({type: "scatter", mode: "markers", name: name, x: sel.map(([r]) => r.estimate), y: sel.map(([, yy]) => yy),
      error_x: {type: "data", symmetric: false, array: sel.map(([r]) => r.high - r.estimate),
                arrayminus: sel.map(([r]) => r.estimate - r.low), color: colour, thickness: 1.5, width: 4},
      marker: {symbol: "square", size: 9, color: colour},
      text: sel.map(([r]) => r.label), customdata: sel.map(([r]) => [r.low, r.high]),
      hovertemplate: "%{text}: %{x:.2f} (%{customdata[0]:.2f} to %{customdata[1]:.2f})<extra></extra>"});
  };
  point(plain.filter(([r]) => !r.highlight), "#0b5cad", o.pointName || "study (95% CI)");
  point(plain.filter(([r]) => r.highlight), "#c0392b", o.highlightName || "this trial");
  rows.forEach((r, i) => {
    if (!r.pooled) return;
    const yy = y[i];
    traces.push({type: "scatter", mode: "lines", fill: "toself", fillcolor: "#13233a", line: {color: "#13233a"},
      name: r.name || "pooled", x: [r.low, r.estimate, r.high, r.estimate, r.low], y: [yy, yy + 0.3, yy, yy - 0.3, yy],
      hoverinfo: "text", text: r.label + ": " + H2L.fmt(r.estimate) + " (" + H2L.fmt(r.low) + " to " + H2L.fmt(r.high) + ")"});
  });
  traces.push({type: "scatter", mode: "lines", x: [1, 1], y: [-0.6, n - 0.4], line: {dash: "dot", color: "#888", width: 1},
    hoverinfo: "skip", showlegend: false, name: "no effect"});
  const fav = o.favours || ["the first arm", "the second arm"];
  // on a phone each label wraps and they stack, the axis title below both
  const narrow = H2L.narrow();
  const left = "← favours " + fav[0], right = "favours " + fav[1] + " →";
  const lt = narrow ? H2L.wrap(left, 26) : left, rt = narrow ? H2L.wrap(right, 26) : right;
  const linesL = lt.split("<br>").length, linesR = rt.split("<br>").length;
  const rightShift = narrow ? -26 - 15 * linesL : -24;
  const standoff = narrow ? 30 + 15 * (linesL + linesR) : 26;
  const annotations = [
    {xref: "paper", yref: "paper", x: 0, y: 0, yshift: -24, xanchor: "left", yanchor: "top", showarrow: false, align: "left",
     text: lt, font: {size: 11, color: "#2e5d2e"}},
    {xref: "paper", yref: "paper", x: 1, y: 0, yshift: rightShift, xanchor: "right", yanchor: "top", showarrow: false, align: "right",
     text: rt, font: {size: 11, color: "#7a2e2e"}}];
  const all = rows.flatMap((r) => [r.low, r.high]).filter((v) => v > 0 && isFinite(v));
  const lo = Math.min(0.8, ...all), hi = Math.max(1.25, ...all);
  const xaxis = H2L.axis(o.xtitle || ((o.measure === "OR" ? "odds ratio" : "hazard ratio") + " (log scale)"),
    {type: "log", range: [Math.log10(lo / 1.15), Math.log10(hi * 1.15)]});
  xaxis.title.standoff = standoff;  // below the favours labels
  // on a phone each row's label sits above its interval, across the plot's whole width
  if (narrow) {
    rows.forEach((r, i) => annotations.push({xref: "paper", yref: "y", x: 0, y: y[i] + 0.34, xanchor: "left", yanchor: "bottom",
      showarrow: false, align: "left", font: {size: 11},
      text: r.highlight ? "<b>" + H2L.wrap(r.label, 54) + "</b>" : H2L.wrap(r.label, 54)}));
  }
  const layout = H2L.layout({title: {text: o.title || "", font: {size: 13}},
    xaxis: xaxis,
    yaxis: {tickvals: y, ticktext: rows.map((r) => (r.highlight ? "<b>" + r.label + "</b>" : r.label)),
            showticklabels: !narrow, range: [-0.8, n - 0.2 + (narrow ? 0.5 : 0)], automargin: true, zeroline: false, showgrid: false},
    height: 170 + (narrow ? 84 : 30) * n, margin: {l: 20, r: 20, t: 66 + (narrow ? 20 * (traces.filter((t) => t.showlegend !== false).length - 2) : 0), b: 60}, showlegend: true,
    legend: {orientation: "h", y: 1.02, yanchor: "bottom", x: 0}, annotations: annotations});
  return Plotly.newPlot(div, traces, layout, H2L.plotConfig);
};

// A progress bar for a background job: steps done of steps known, the stage in words.
H2L.progressBar = function (box, label) {
  const bar = H2L.el("progress", {max: "1", value: "0", "aria-label": label || "progress"});
  const text = H2L.el("span", {class: "small progress-text"}, "queued");
  box.replaceChildren(H2L.el("div", {class: "progress"}, bar, text));
  return (job) => {
    const p = job.progress || {};
    if (p.total > 0) {
      bar.max = p.total;
      bar.value = Math.min(p.done, p.total);
      text.textContent = (p.stage ? p.stage + ": " : "") + p.done + " of " + p.total +
        " (" + Math.round(100 * p.done / p.total) + "%)";
    } else {
      bar.removeAttribute("value");  // indeterminate until the job knows its steps
      text.textContent = job.status === "queued" ? "queued" : (p.stage || "starting") + " …";
    }
    box.dataset.done = String(p.done || 0);
    box.dataset.total = String(p.total || 0);
  };
};

// Show a result: scroll it into view and move the focus there (for keyboard users).
H2L.reveal = function (node) {
  if (!node) return;
  if (!node.hasAttribute("tabindex")) node.setAttribute("tabindex", "-1");
  node.scrollIntoView({behavior: "auto", block: "start"});
  node.focus({preventScroll: true});
};
