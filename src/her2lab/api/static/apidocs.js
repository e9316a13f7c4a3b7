// The API reference: the server's OpenAPI description rendered here (no Swagger UI or ReDoc
// from the network), one block per operation with its parameters, body, responses and a form
// that sends it to this server.
"use strict";

const el = H2L.el;
let spec = null;

function resolve(schema, depth) {
  if (!schema || depth > 6) return schema || {};
  if (schema.$ref) {
    const name = schema.$ref.split("/").pop();
    return Object.assign({title: name}, resolve(spec.components.schemas[name], depth + 1));
  }
  return schema;
}

function typeText(schema, depth) {
  const s = resolve(schema, depth || 0);
  if (schema && schema.$ref) return schema.$ref.split("/").pop();
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (s.anyOf || s.oneOf) return (s.anyOf || s.oneOf).map((x) => typeText(x, (depth || 0) + 1)).join(" | ");
  if (s.type === "array") return "array of " + typeText(s.items || {}, (depth || 0) + 1);
  if (s.type === "object" && s.additionalProperties && typeof s.additionalProperties === "object") return "object of " + typeText(s.additionalProperties, (depth || 0) + 1);
  return s.type || (s.properties ? "object" : "any");
}

function bounds(s) {
  const r = resolve(s, 0);
  const parts = [];
  for (const [k, w] of [["minimum", "≥"], ["exclusiveMinimum", ">"], ["maximum", "≤"], ["exclusiveMaximum", "<"],
                        ["minLength", "length ≥"], ["maxLength", "length ≤"], ["minItems", "items ≥"], ["maxItems", "items ≤"], ["pattern", "matches"]]) {
    if (r[k] !== undefined) parts.push(w + " " + r[k]);
  }
  if (r.default !== undefined) parts.push("default " + JSON.stringify(r.default));
  return parts.join(", ");
}

// An example value of a schema: its example, default, first enum value, or one built from
// its properties.
function example(schema, depth) {
  const s = resolve(schema, depth);
  if (depth > 5) return null;
  if (s.examples && s.examples.length) return s.examples[0];
  if (s.example !== undefined) return s.example;
  if (s.default !== undefined) return s.default;
  if (s.enum) return s.enum[0];
  if (s.anyOf || s.oneOf) return example((s.anyOf || s.oneOf)[0], depth + 1);
  if (s.type === "array") return [];
  if (s.type === "object" || s.properties) {
    const out = {};
    for (const k of s.required || []) out[k] = example(s.properties[k], depth + 1);
    return out;
  }
  return {string: "", integer: 0, number: 0, boolean: false}[s.type] ?? null;
}

function fieldsTable(schema) {
  const s = resolve(schema, 0);
  if (!s.properties) return el("div", {class: "small"}, typeText(schema));
  const req = new Set(s.required || []);
  return el("div", {class: "scroll"}, el("table", {class: "fields"},
    el("thead", {}, el("tr", {}, el("th", {}, "Field"), el("th", {}, "Type"), el("th", {}, "Limits"), el("th", {}, "Description"))),
    el("tbody", {}, Object.entries(s.properties).map(([k, v]) => el("tr", {},
      el("td", {}, el("code", {}, k), req.has(k) ? el("span", {class: "tag"}, "required") : null),
      el("td", {}, typeText(v)), el("td", {}, bounds(v)), el("td", {}, resolve(v, 0).description || ""))))));
}

function operation(path, method, op) {
  const params = op.parameters || [];
  const body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
  const inputs = {};
  const out = el("pre", {class: "response", hidden: true});
  const send = el("button", {type: "button"}, "Send");
  const bodyBox = body ? el("textarea", {rows: "8", class: "body", "aria-label": "request body"},
    JSON.stringify(example(body.schema, 0), null, 2)) : null;
  send.addEventListener("click", async () => {
    let url = path;
    const q = new URLSearchParams();
    for (const p of params) {
      const v = inputs[p.name].value;
      if (p.in === "path") url = url.replace("{" + p.name + "}", encodeURIComponent(v));
      else if (v !== "") q.set(p.name, v);
    }
    if ([...q].length) url += "?" + q.toString();
    const opts = {method: method.toUpperCase(), headers: {}};
    if (bodyBox) { opts.body = bodyBox.value; opts.headers["Content-Type"] = "application/json"; }
    out.hidden = false;
    out.textContent = opts.method + " " + url + " …";
    try {
      const r = await fetch(url, opts);
      const text = await r.text();
      let shown = text;
      try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* not JSON */ }
      out.textContent = opts.method + " " + url + " → " + r.status + "\n" + shown.slice(0, 20000);
    } catch (e) {
      out.textContent = String(e);
    }
  });
  const paramTable = params.length ? el("div", {class: "scroll"}, el("table", {class: "fields"},
    el("thead", {}, el("tr", {}, el("th", {}, "Parameter"), el("th", {}, "In"), el("th", {}, "Type"), el("th", {}, "Value"), el("th", {}, "Description"))),
    el("tbody", {}, params.map((p) => {
      inputs[p.name] = el("input", {type: "text", "aria-label": p.name,
        value: p.example !== undefined ? String(p.example) : ""});
      return el("tr", {}, el("td", {}, el("code", {}, p.name), p.required ? el("span", {class: "tag"}, "required") : null),
        el("td", {}, p.in), el("td", {}, typeText(p.schema || {}) + (bounds(p.schema || {}) ? " (" + bounds(p.schema) + ")" : "")),
        el("td", {}, inputs[p.name]), el("td", {}, p.description || (p.schema && p.schema.description) || ""));
    })))) : null;
  const responses = Object.entries(op.responses || {}).map(([code, r]) => {
    const c = r.content && (r.content["application/json"] || Object.values(r.content)[0]);
    return el("li", {}, el("b", {}, code), " " + (r.description || "") + (c && c.schema ? " — " + typeText(c.schema) : ""));
  });
  return el("details", {class: "op card", "data-method": method, "data-path": path},
    el("summary", {}, el("span", {class: "method m-" + method}, method.toUpperCase()), " ", el("code", {class: "path"}, path),
      " ", el("span", {class: "muted"}, op.summary || "")),
    op.description ? el("p", {class: "op-description"}, op.description) : null,
    paramTable,
    body ? el("div", {}, el("h4", {}, "Request body (JSON)"), fieldsTable(body.schema)) : null,
    el("h4", {}, "Responses"), el("ul", {}, responses),
    el("h4", {}, "Try it against this server"), bodyBox, el("p", {}, send), out);
}

function filter() {
  const q = document.getElementById("q").value.trim().toLowerCase();
  let shown = 0;
  for (const d of document.querySelectorAll("details.op")) {
    const hit = !q || d.textContent.toLowerCase().includes(q);
    d.hidden = !hit;
    shown += hit ? 1 : 0;
  }
  for (const s of document.querySelectorAll("section.tag-group")) {
    s.hidden = ![...s.querySelectorAll("details.op")].some((d) => !d.hidden);
  }
  document.getElementById("count").textContent = shown + " operation(s)";
}

async function init() {
  await H2L.chrome("/docs");
  try {
    spec = await H2L.api("/openapi.json");
  } catch (e) {
    H2L.showError(document.getElementById("error"), e);
    return;
  }
  const groups = {};
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!["get", "post", "put", "patch", "delete", "head"].includes(method)) continue;
      const tag = (op.tags && op.tags[0]) || "other";
      (groups[tag] = groups[tag] || []).push(operation(path, method, op));
    }
  }
  const box = document.getElementById("ops");
  for (const [tag, ops] of Object.entries(groups)) {
    box.appendChild(el("section", {class: "tag-group"}, el("h2", {}, tag), ops));
  }
  document.getElementById("q").addEventListener("input", filter);
  document.getElementById("expand").addEventListener("click", () => {
    const all = [...document.querySelectorAll("details.op")];
    const open = !all.every((d) => d.open);
    for (const d of all) d.open = open;
  });
  if (window.location.pathname === "/redoc") for (const d of document.querySelectorAll("details.op")) d.open = true;
  document.title = "her2lab · API reference (" + spec.info.version + ")";
  filter();
  document.body.dataset.ops = String(document.querySelectorAll("details.op").length);
}

init();
