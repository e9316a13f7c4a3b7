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
                 ["/designer", "Trial designer"]];
  let meta = {features: {}};
  try { meta = await H2L.api("/api/meta"); } catch (e) { /* the page still works */ }
  if (meta.features && meta.features.report) links.push(["/report", "Strategy report"]);
  const nav = H2L.el("nav", {}, links.map(([href, text]) =>
    H2L.el("a", {href: href, class: href === active ? "active" : null}, text)));
  const header = H2L.el("header", {class: "top"},
    H2L.el("a", {class: "brand", href: "/"}, "her2lab"), nav,
    H2L.el("a", {href: "/docs", style: "margin-left:auto;color:#c9d6e8"}, "API"));
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
H2L.layout = function (extra) {
  return Object.assign({margin: {l: 60, r: 20, t: 36, b: 50}, font: {size: 12},
                        paper_bgcolor: "#fff", plot_bgcolor: "#fff", legend: {orientation: "h"}},
                       extra || {});
};
H2L.plotConfig = {displaylogo: false, responsive: true};
