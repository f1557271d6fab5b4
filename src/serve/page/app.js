// icb-impact explorer: the browser side of `icb-impact serve`. Plain ES2020 modules (this one
// and format.js, its pure functions), no dependencies, no build step, no request anywhere but
// this server. The page keeps the scenario's TOML as loaded plus a list
// of edits; the server applies the edits (keeping comments) and validates the result.
import { gbp, gbpSigned, percent, thousands, secs, num, words, addMonths, monthName, readNumber, round4, observedFileKind } from "./format.js";

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

/** Creates an element: attrs may hold class, text, html-free children, dataset and properties. */
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k === "on") for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
    else if (k in node && typeof v !== "string") node[k] = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

let uid = 0;
const nextId = (prefix) => `${prefix}-${++uid}`;

// The distribution families and their parameters, as the server serves them (GET
// /api/families, from the one list in the Rust code): name → parameters, name → words, every
// parameter, parameter → words.
let DIST_PARAMS = {};
let DIST_WORDS = {};
let ALL_PARAMS = [];
let PARAM_LABELS = {};

/** Takes the families the server serves. */
function useFamilies(served) {
  DIST_PARAMS = Object.fromEntries(served.families.map((f) => [f.name, f.parameters]));
  DIST_WORDS = Object.fromEntries(served.families.map((f) => [f.name, f.words]));
  ALL_PARAMS = served.parameters.map((p) => p.key);
  PARAM_LABELS = Object.fromEntries(served.parameters.map((p) => [p.key, p.words]));
}

// ---------------------------------------------------------------------------------------------
// The API
// ---------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(message, problems = [], status = 0) {
    super(message);
    this.problems = problems || [];
    this.status = status;
  }
}

async function api(method, url, body, as = "json") {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    if (typeof body === "string") {
      opts.headers["Content-Type"] = "text/plain; charset=utf-8";
      opts.body = body;
    } else {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
  }
  let res;
  try {
    res = await fetch(url, opts);
  } catch (e) {
    throw new ApiError("The explorer's server could not be reached. Is `icb-impact serve` still running?", [], 0);
  }
  if (!res.ok) {
    if (res.status === 503) {
      const after = res.headers.get("Retry-After");
      throw new ApiError(`The server is busy; try again in ${after || "a few"} s`, [], 503);
    }
    let data = null;
    try {
      data = await res.json();
    } catch (e) {
      data = null;
    }
    const msg = data && data.error ? data.error : `The server answered ${res.status} ${res.statusText}`.trim();
    throw new ApiError(msg, data && data.problems, res.status);
  }
  if (as === "text") return res.text();
  if (as === "blob") {
    const disposition = res.headers.get("Content-Disposition") || "";
    const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
    return { blob: await res.blob(), filename: m ? decodeURIComponent(m[1]) : null };
  }
  return res.json();
}

/**
 * POSTs `body` to a simulating API with `progress=true` and reads the answer as it comes:
 * newline-delimited JSON, `{"progress": {"done", "total"}}` lines (each passed to `onProgress`)
 * then `{"result": …}` or `{"error", "problems", "status"}`. Returns the result. (XMLHttpRequest
 * rather than fetch: its progress events hand over the text received so far, and the request
 * completes as any other.)
 */
function apiStream(url, body, onProgress) {
  const sep = url.includes("?") ? "&" : "?";
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${url}${sep}progress=true`);
    const text = typeof body === "string";
    xhr.setRequestHeader("Content-Type", text ? "text/plain; charset=utf-8" : "application/json");
    let seen = 0;
    let last = null;
    const consume = () => {
      const received = xhr.responseText;
      let newline;
      while ((newline = received.indexOf("\n", seen)) >= 0) {
        const line = received.slice(seen, newline).trim();
        seen = newline + 1;
        if (!line) continue;
        const message = JSON.parse(line);
        if (message.progress) onProgress(message.progress.done, message.progress.total);
        else last = message;
      }
    };
    xhr.onprogress = () => {
      if (xhr.status === 200) consume();
    };
    xhr.onerror = () => reject(new ApiError("The explorer's server could not be reached. Is `icb-impact serve` still running?", [], 0));
    xhr.onload = () => {
      if (xhr.status === 503) {
        reject(new ApiError(`The server is busy; try again in ${xhr.getResponseHeader("Retry-After") || "a few"} s`, [], 503));
        return;
      }
      if (xhr.status !== 200) {
        let data = null;
        try {
          data = JSON.parse(xhr.responseText);
        } catch (e) {
          data = null;
        }
        reject(new ApiError(data && data.error ? data.error : `The server answered ${xhr.status}`, data && data.problems, xhr.status));
        return;
      }
      try {
        consume();
      } catch (e) {
        reject(new ApiError("The server's answer could not be read.", [], 0));
        return;
      }
      if (last && "result" in last) resolve(last.result);
      else if (last && last.error) reject(new ApiError(last.error, last.problems, last.status || 500));
      else reject(new ApiError("The server stopped answering before the run finished.", [], 0));
    };
    xhr.send(text ? body : JSON.stringify(body));
  });
}

/** Shows a simulation's progress beside the status text (hidden when `total` is null). */
function showProgress(done, total) {
  const bar = $("#progress");
  if (!bar) return;
  bar.hidden = total === null;
  if (total !== null) {
    bar.max = Math.max(total, 1);
    bar.value = done;
  }
}

/** A simulating request with its progress shown while it runs. */
async function simulateWithProgress(url, body) {
  showProgress(0, 1);
  try {
    return await apiStream(url, body, showProgress);
  } finally {
    showProgress(0, null);
  }
}

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

const S = {
  limits: null, // GET /api/limits, read before anything is loaded
  scenarios: [],
  icbs: [],
  icbByCode: new Map(),
  loadSeq: 0,
  id: null, // scenario id, or the loaded file's name without .toml
  loaded: null, // TOML text as loaded
  base: null, // the validation's scenario of the text as loaded
  baseValidation: null,
  edited: null, // the text /api/edit returned (the loaded text until the first edit)
  validation: null, // the validation of `edited`
  edits: null,
  overrides: [], // every [[overrides]] entry, in the form the overrides edit takes
  editSeq: 0,
  editPending: false,
  editTimer: null,
  editError: null, // an edit the server could not apply
  extraProblems: [], // problems from a failed run, compare, settlement or report
  busy: false,
  run: null,
  runToml: null,
  runs: 0,
  compare: null,
  compareToml: null,
  settlement: null,
  decision: null,
  nowcast: null,
  /** The observations loaded for the nowcast: obs.csv's text and observed_monthly.csv's. */
  nowcastFiles: { observations: null, monthly: null },
  /** The ICB the user chose (remembered across scenarios and visits). */
  chosenIcb: "",
  /** The ICB picked out in the results: the chosen one, or its successor on a footprint. */
  myIcb: "",
  targets: new Map(), // problem field → { slot, input }
  factorByPath: new Map(),
};

function freshEdits() {
  return { scenario: {}, actions: {}, removed: new Set(), factors: new Map(), overridesTouched: false };
}

/** The edit list for /api/edit, in a stable order. */
function editList() {
  const e = S.edits;
  const list = [];
  if (Object.keys(e.scenario).length) list.push({ table: "scenario", set: { ...e.scenario } });
  for (const [id, set] of Object.entries(e.actions)) {
    if (!e.removed.has(id) && Object.keys(set).length) list.push({ table: `actions.${id}`, set: { ...set } });
  }
  for (const [table, set] of e.factors) {
    const owner = /^actions\.([^.[]+)/.exec(table);
    if (owner && e.removed.has(owner[1])) continue; // the action's table is gone
    list.push({ table, set: { ...set } });
  }
  for (const id of e.removed) list.push({ remove: `actions.${id}` });
  if (e.overridesTouched) list.push({ overrides: S.overrides.map((o) => ({ ...o })) });
  return list;
}

const currentScenario = () => (S.validation && S.validation.scenario) || S.base;
const allProblems = () => [
  ...((S.validation && S.validation.problems) || []),
  ...(S.editError ? S.editError.problems : []),
  ...S.extraProblems,
];
const hasEdits = () => S.edited !== null && S.loaded !== null && S.edited !== S.loaded;

// ---------------------------------------------------------------------------------------------
// Status, busy state, buttons
// ---------------------------------------------------------------------------------------------

function setStatus(text, state = "idle") {
  $("#status-text").textContent = text;
  $("#status").dataset.state = state;
}

function refreshButtons() {
  // Problems of the scenario block Run; those from a failed request (extraProblems) are shown
  // but do not, since the next attempt may well succeed (other settings, a free server).
  const problems = ((S.validation && S.validation.problems) || []).length > 0 || S.editError !== null;
  const blocked = !S.loaded || S.busy || S.editPending || problems;
  $("#run").disabled = blocked;
  $("#compare").disabled = blocked;
  $("#settlement-run").disabled = blocked;
  $("#decide-run").disabled = blocked || !hasOptions();
  $("#decide-run").title = hasOptions() ? "" : "The scenario has no [[options]] to decide between";
  $("#nowcast-run").disabled = blocked || !S.nowcastFiles.observations;
  $("#nowcast-run").title = S.nowcastFiles.observations ? "" : "Load obs.csv first";
  for (const id of ["#download-html", "#download-xlsx", "#download-zip"]) $(id).disabled = blocked;
  $("#download-toml").disabled = !S.loaded || S.editPending;
  $("#run").title = problems ? "Fix the problems shown before running" : "";
  $("#compare-changes").textContent = !S.loaded
    ? ""
    : hasEdits()
      ? `You have changed ${editList().length === 1 ? "one part" : editList().length + " parts"} of the scenario.`
      : "You have not changed anything yet: the two versions are the same, so the difference will be zero.";
  refreshStale();
}

function refreshStale() {
  const note = $("#stale-note");
  if (note) note.hidden = !S.run || S.runToml === S.edited;
}

async function busyWhile(text, fn) {
  S.busy = true;
  refreshButtons();
  setStatus(text, "running");
  const t0 = performance.now();
  try {
    const out = await fn();
    return { out, seconds: (performance.now() - t0) / 1000 };
  } finally {
    S.busy = false;
    refreshButtons();
  }
}

function showError(err, prefix) {
  const msg = err instanceof ApiError ? err.message : `Something went wrong in the page: ${err.message}`;
  setStatus(prefix ? `${prefix}: ${msg}` : msg, "error");
  if (err instanceof ApiError && err.problems.length) {
    S.extraProblems = err.problems;
    renderProblems();
  }
}

// ---------------------------------------------------------------------------------------------
// Tabs
// ---------------------------------------------------------------------------------------------

function showTab(tabId) {
  for (const tab of $$('[role="tab"]')) {
    const on = tab.id === tabId;
    tab.setAttribute("aria-selected", on ? "true" : "false");
    tab.tabIndex = on ? 0 : -1;
    $("#" + tab.getAttribute("aria-controls")).hidden = !on;
  }
}

function setupTabs() {
  const tabs = $$('[role="tab"]');
  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => showTab(tab.id));
    tab.addEventListener("keydown", (ev) => {
      let j = null;
      if (ev.key === "ArrowRight") j = (i + 1) % tabs.length;
      if (ev.key === "ArrowLeft") j = (i - 1 + tabs.length) % tabs.length;
      if (ev.key === "Home") j = 0;
      if (ev.key === "End") j = tabs.length - 1;
      if (j !== null) {
        ev.preventDefault();
        showTab(tabs[j].id);
        tabs[j].focus();
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Loading a scenario
// ---------------------------------------------------------------------------------------------

async function loadScenarioText(text, id) {
  const seq = ++S.loadSeq;
  setStatus("Reading the scenario…", "checking");
  let v;
  try {
    v = await api("POST", "/api/validate", text);
  } catch (err) {
    if (seq === S.loadSeq) showError(err, "The scenario could not be read");
    return;
  }
  if (seq !== S.loadSeq) return;
  clearTimeout(S.editTimer);
  S.editSeq++;
  S.editPending = false;
  S.editError = null;
  S.extraProblems = [];
  S.id = id;
  S.loaded = text;
  S.edited = text;
  S.baseValidation = v;
  S.validation = v;
  if (v.icbs) setIcbs(v.icbs);
  S.base = v.scenario;
  S.edits = freshEdits();
  S.overrides = S.base ? S.base.overrides.map(overrideToEdit) : [];
  S.run = null;
  S.runToml = null;
  S.compare = null;
  S.settlement = null;
  S.decision = null;
  S.nowcast = null;
  renderScenario();
  renderResults();
  $("#compare-result").replaceChildren();
  $("#settlement-result").replaceChildren();
  $("#decide-result").replaceChildren();
  $("#nowcast-result").replaceChildren();
  renderSettlementMonths();
  if (S.base) {
    $("#iterations").value = String(Math.min(S.base.iterations, S.limits.max_iterations));
    $("#seed").value = String(S.base.seed);
  }
  applyValidation();
  $("#scenario-info").dataset.id = id;
  document.body.dataset.scenario = id;
  setStatus(
    v.ok ? `Loaded “${S.base.name}”. Change any input, then press Run.` : "The scenario has problems: see the list above.",
    v.ok ? "idle" : "error",
  );
}

async function loadShipped(id) {
  if (!id) return;
  setStatus("Loading the scenario…", "checking");
  try {
    const text = await api("GET", `/api/scenarios/${encodeURIComponent(id)}`, undefined, "text");
    await loadScenarioText(text, id);
    try {
      localStorage.setItem("icb-impact.scenario", id);
    } catch (e) {
      /* storage unavailable: fine */
    }
  } catch (err) {
    showError(err, "The scenario could not be loaded");
  }
}

function confirmDiscard() {
  return !hasEdits() || window.confirm("Load another scenario and discard your changes to this one?");
}

function overrideToEdit(o) {
  const d = o.dist || {};
  if (d.dist === "fixed" || typeof d === "number") return { icb: o.icb, factor: o.factor, value: typeof d === "number" ? d : d.value };
  const out = { icb: o.icb, factor: o.factor, dist: d.dist };
  for (const p of DIST_PARAMS[d.dist] || []) out[p] = d[p];
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rendering the scenario's inputs
// ---------------------------------------------------------------------------------------------

/** Registers a place where problems about `field` are shown. */
function target(field, slot, input) {
  if (field) S.targets.set(field, { slot, input });
}

function errorSlot() {
  return h("div", { class: "err-slot", "aria-live": "polite" });
}

/** Places for problems that concern no scenario field: the query's settings. */
function registerStaticTargets() {
  target("iterations", $("#iterations-slot"), $("#iterations"));
  target("query:iterations", $("#iterations-slot"), $("#iterations"));
  target("seed", $("#seed-slot"), $("#seed"));
  target("query:seed", $("#seed-slot"), $("#seed"));
  target("query:months", $("#settle-slot"), $("#settle-from"));
  target("query:format", $("#download-slot"), null);
}

function renderScenario() {
  S.targets = new Map();
  registerStaticTargets();
  S.factorByPath = new Map();
  const info = $("#scenario-info");
  const inputs = $("#inputs");
  info.replaceChildren();
  inputs.replaceChildren();
  const sc = S.base;
  if (!sc) {
    info.append(h("p", { class: "note" }, "This scenario cannot be shown until its problems (listed above) are fixed in the file."));
    renderMyIcbInputs();
    return;
  }
  // The scenario itself.
  const slot = errorSlot();
  target("scenario", slot, null);
  const startIn = textInput("scenario.start", sc.start, "YYYY-MM", (v) => setScenario("start", v === "" ? null : v));
  const monthsIn = textInput("scenario.months", String(sc.months), "", (v) => setScenario("months", readNumber(v)));
  monthsIn.input.setAttribute("inputmode", "numeric");
  monthsIn.input.size = 4;
  const viewSel = h("select", { id: nextId("cost-view") });
  for (const [v, label] of [["icb_cash", "ICB cash: only what lands on ICB budgets"], ["economic", "Economic: the whole-NHS cost"]]) {
    viewSel.append(h("option", { value: v, text: label, selected: v === sc.cost_view }));
  }
  if (![...viewSel.options].some((o) => o.value === sc.cost_view)) viewSel.append(h("option", { value: sc.cost_view, text: sc.cost_view, selected: true }));
  const viewSlot = errorSlot();
  target("scenario.cost_view", viewSlot, viewSel);
  viewSel.addEventListener("change", () => setScenario("cost_view", viewSel.value));

  info.append(
    h("h2", { id: "scenario-name" }, sc.name),
    sc.description ? h("p", { class: "desc" }, sc.description) : null,
    h(
      "div",
      { class: "facts" },
      fact("Period", h("span", { id: "period-words" }, periodWords(sc))),
      fact("Start month", startIn.wrap, true),
      fact("Months", monthsIn.wrap, true),
      fact(h("label", { for: viewSel.id }, "Cost view"), h("div", {}, viewSel, viewSlot)),
      fact("Default iterations", thousands(sc.iterations)),
      fact("Seed", String(sc.seed)),
      fact("Granularity", sc.granularity === "practice" ? "practice by practice" : "ICB by ICB (practices take part in proportion)"),
      sc.price_year ? fact("Prices", `${sc.price_year} prices`) : null,
      sc.reference ? fact("Reference", `${gbp(sc.reference.per_icb_gbp)} per ICB: ${sc.reference.label}`) : null,
    ),
    h("ul", { class: "warnings", id: "scenario-warnings", hidden: true }),
    slot,
  );

  // Factors grouped by owner: first those of no action (engagement), then each action's.
  const groups = new Map();
  for (const f of sc.factors) {
    const key = f.action ? `action:${f.action}` : `owner:${f.owner}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(f);
  }
  for (const [key, factors] of groups) {
    if (key.startsWith("owner:")) inputs.append(renderOwnerGroup(factors[0].owner, factors));
  }
  for (const a of sc.actions) inputs.append(renderAction(a, groups.get(`action:${a.id}`) || []));
  for (const [key, factors] of groups) {
    if (key.startsWith("action:") && !sc.actions.some((a) => `action:${a.id}` === key)) {
      inputs.append(renderOwnerGroup(factors[0].owner, factors));
    }
  }
  renderMyIcbInputs();
}

function periodWords(sc) {
  return `${monthName(sc.start)} to ${monthName(sc.end)} (${sc.months} month${sc.months === 1 ? "" : "s"})`;
}

function fact(label, value, isInput) {
  return h("div", { class: "fact" + (isInput ? " fact-input" : "") }, h("div", { class: "fact-l" }, label), h("div", { class: "fact-v" }, value));
}

/** A labelled text input with its error slot, registered under `field`. */
function textInput(field, value, placeholder, onChange, label) {
  const id = nextId("in");
  const input = h("input", { type: "text", id, value: value ?? "", placeholder: placeholder || null, autocomplete: "off", spellcheck: "false" });
  const slot = errorSlot();
  target(field, slot, input);
  input.addEventListener("input", () => onChange(input.value.trim()));
  const wrap = h("div", { class: "input-wrap" }, label ? h("label", { for: id }, label) : null, input, slot);
  if (!label) input.setAttribute("aria-label", words(field.split(".").pop()));
  return { input, wrap, slot };
}

function renderOwnerGroup(owner, factors) {
  return h(
    "section",
    { class: "group", dataset: { owner } },
    h("h3", {}, owner),
    h("div", { class: "factors" }, factors.map(renderFactor)),
  );
}

/** The label of each cost line, `actions.<id>.costs[<n>]` → "A&E attendances", read from the text. */
function costLabels(text) {
  const out = new Map();
  const counts = new Map();
  let current = null;
  for (const line of String(text || "").split(/\r?\n/)) {
    const head = /^\s*\[\[\s*actions\.([A-Za-z0-9_-]+)\.costs\s*\]\]/.exec(line);
    if (head) {
      const n = counts.get(head[1]) || 0;
      counts.set(head[1], n + 1);
      current = `actions.${head[1]}.costs[${n}]`;
      continue;
    }
    if (/^\s*\[/.test(line)) {
      current = null;
      continue;
    }
    const label = current && /^\s*label\s*=\s*"((?:[^"\\]|\\.)*)"/.exec(line);
    if (label) {
      out.set(current, label[1].replace(/\\"/g, '"'));
      current = null;
    }
  }
  return out;
}

/** An action's factors, with a heading before each cost line's. */
function factorsWithCostLines(factors) {
  const labels = costLabels(S.loaded);
  const out = [];
  let line = null;
  for (const f of factors) {
    const m = /^(actions\.[^.]+\.costs\[(\d+)\])\./.exec(f.path);
    const key = m ? m[1] : null;
    if (key !== line) {
      line = key;
      if (key) out.push(h("h4", { class: "cost-line" }, "Cost: ", labels.get(key) || `line ${Number(m[2]) + 1}`));
    }
    out.push(renderFactor(f));
  }
  return out;
}

function renderAction(a, factors) {
  const section = h("section", { class: "group action", dataset: { action: a.id } });
  const slot = errorSlot();
  target(`actions.${a.id}`, slot, null);
  const cb = h("input", { type: "checkbox", id: `action-on-${a.id}`, checked: true });
  cb.addEventListener("change", () => {
    if (cb.checked) S.edits.removed.delete(a.id);
    else S.edits.removed.add(a.id);
    section.classList.toggle("off", !cb.checked);
    for (const el of $$(".factors input, .factors select, .timing-inputs input", section)) el.disabled = !cb.checked;
    scheduleEdit();
  });
  const start = textInput(`actions.${a.id}.start`, a.start, "YYYY-MM", (v) => setAction(a.id, "start", v === "" ? null : v), "Starts");
  const end = textInput(`actions.${a.id}.end`, a.end ?? "", "end of period", (v) => setAction(a.id, "end", v === "" ? null : v), "Ends");
  section.append(
    h(
      "div",
      { class: "action-head" },
      h("div", { class: "switch" }, cb, h("label", { for: cb.id }, h("span", { class: "action-label" }, a.label))),
      h("div", { class: "timing-inputs" }, start.wrap, end.wrap),
    ),
    h("p", { class: "timing note", dataset: { timing: a.id } }, a.timing, a.engaged ? " · taken up by practices engaged in collective action" : ""),
    a.description ? h("details", { class: "action-desc" }, h("summary", {}, "What this action is and how it is costed"), h("p", {}, a.description)) : null,
    slot,
    h("div", { class: "factors" }, factorsWithCostLines(factors)),
  );
  return section;
}

function distOf(f) {
  if (typeof f.dist === "number") return { dist: "fixed", value: f.dist };
  return f.dist || { dist: "fixed", value: f.mean };
}

function renderFactor(f) {
  S.factorByPath.set(f.path, f);
  const d = distOf(f);
  const block = h("div", { class: "factor", dataset: { path: f.path } });
  const slot = errorSlot();
  target(f.path, slot, null);
  const badges = [
    f.assumption ? h("span", { class: "badge assumption", title: "No one has published this value: it is the modeller's assumption" }, "assumption") : null,
    f.vary === "icb" ? h("span", { class: "badge", title: "Drawn separately for each ICB" }, "varies by ICB") : null,
    f.participation ? h("span", { class: "badge", title: "A share of engaged practices taking this action" }, "participation") : null,
  ];
  const editor = paramEditor(d, f.path, (set) => setFactor(f, set));
  block.append(
    h(
      "div",
      { class: "factor-head" },
      h("span", { class: "factor-name" }, words(f.name)),
      badges,
      h("code", { class: "path", title: "The factor's name in the scenario file" }, f.path),
    ),
    h(
      "p",
      { class: "factor-words" },
      h("span", { class: "words" }, f.words),
      " · mean ",
      h("span", { class: "mean" }, fmtValue(f.mean)),
      f.price_year ? h("span", { class: "price-year" }, ` · the parameters below are in ${/ /.test(String(f.price_year)) ? "the prices of " + f.price_year : f.price_year + " prices"}, as written`) : "",
    ),
    editor,
    slot,
    h("p", { class: "own-note", hidden: true }),
    sourceBlock(f.source),
  );
  return block;
}

function fmtValue(x) {
  if (x === null || x === undefined || !Number.isFinite(Number(x))) return "–";
  x = Number(x);
  const a = Math.abs(x);
  if (a >= 1000) return thousands(Math.round(x * 100) / 100);
  return String(Number(x.toPrecision(4)));
}

function sourceBlock(source) {
  if (!source) return h("p", { class: "source note" }, "No source given.");
  const short = source.length > 110 ? source.slice(0, 105).replace(/\s+\S*$/, "") + "…" : source;
  if (short === source) return h("p", { class: "source note" }, h("span", { class: "source-l" }, "Source: "), source);
  return h(
    "details",
    { class: "source" },
    h("summary", {}, h("span", { class: "source-l" }, "Source: "), h("span", { class: "source-short" }, short), h("span", { class: "more" }, " (show all)")),
    h("p", {}, source),
  );
}

/**
 * A distribution <select> and an input per parameter. `onChange(set)` gets the edit's `set`:
 * the chosen dist, every parameter it uses, and null for every other parameter.
 */
function paramEditor(d, field, onChange, opts = {}) {
  const wrap = h("div", { class: "params" });
  const distId = nextId("dist");
  const sel = h("select", { id: distId, class: "dist-select", "aria-label": "Distribution" });
  for (const [k, label] of Object.entries(DIST_WORDS)) sel.append(h("option", { value: k, text: label, selected: k === d.dist }));
  if (!DIST_PARAMS[d.dist]) sel.append(h("option", { value: d.dist, text: d.dist, selected: true }));
  const distSlot = errorSlot();
  target(`${field}.dist`, distSlot, sel);
  const inputsBox = h("div", { class: "param-inputs" });
  wrap.append(h("div", { class: "param dist-param" }, h("label", { for: distId }, "Distribution"), sel, distSlot), inputsBox);

  let current = { ...d };
  const emit = () => {
    const set = { dist: current.dist };
    for (const p of ALL_PARAMS) set[p] = null;
    for (const p of DIST_PARAMS[current.dist] || []) set[p] = current[p] === undefined ? null : current[p];
    onChange(set, current);
  };
  const drawInputs = () => {
    inputsBox.replaceChildren();
    for (const p of DIST_PARAMS[current.dist] || []) {
      const id = nextId("p");
      const input = h("input", {
        type: "text",
        id,
        inputmode: "decimal",
        autocomplete: "off",
        value: current[p] === undefined || current[p] === null ? "" : String(current[p]),
        dataset: { param: p },
      });
      const slot = errorSlot();
      target(`${field}.${p}`, slot, input);
      input.addEventListener("input", () => {
        current[p] = readNumber(input.value);
        emit();
      });
      inputsBox.append(h("div", { class: "param", dataset: { param: p } }, h("label", { for: id }, PARAM_LABELS[p] || p), input, slot));
    }
    if (opts.disabled) for (const i of $$("input", inputsBox)) i.disabled = true;
  };
  sel.addEventListener("change", () => {
    current = convertDist(current, sel.value);
    drawInputs();
    emit();
  });
  drawInputs();
  return wrap;
}

/** Proposes parameters for a new distribution from the old one's, keeping its centre and spread. */
function convertDist(old, dist) {
  const n = (k) => (typeof old[k] === "number" ? old[k] : NaN);
  let mean = n("value");
  if (!Number.isFinite(mean)) mean = n("mode");
  if (!Number.isFinite(mean)) mean = n("mean");
  if (!Number.isFinite(mean) && Number.isFinite(n("min")) && Number.isFinite(n("max"))) mean = (n("min") + n("max")) / 2;
  if (!Number.isFinite(mean) && Number.isFinite(n("p05")) && Number.isFinite(n("p95"))) mean = Math.sqrt(n("p05") * n("p95"));
  if (!Number.isFinite(mean) && Number.isFinite(n("p"))) mean = n("p");
  if (!Number.isFinite(mean) && Number.isFinite(n("alpha")) && Number.isFinite(n("beta"))) mean = n("alpha") / (n("alpha") + n("beta"));
  if (!Number.isFinite(mean)) mean = 0;
  let lo = Number.isFinite(n("min")) ? n("min") : Number.isFinite(n("p05")) ? n("p05") : Number.isFinite(n("sd")) ? mean - 1.645 * n("sd") : mean * 0.8;
  let hi = Number.isFinite(n("max")) ? n("max") : Number.isFinite(n("p95")) ? n("p95") : Number.isFinite(n("sd")) ? mean + 1.645 * n("sd") : mean * 1.2;
  if (lo > hi) [lo, hi] = [hi, lo];
  if (lo === hi) {
    lo = mean === 0 ? 0 : mean * 0.8;
    hi = mean === 0 ? 1 : mean * 1.2;
    if (lo > hi) [lo, hi] = [hi, lo];
  }
  const mode = Math.min(Math.max(mean, lo), hi);
  switch (dist) {
    case "fixed": return { dist, value: round4(mean) };
    case "uniform": return { dist, min: round4(lo), max: round4(hi) };
    case "triangular":
    case "pert": return { dist, min: round4(lo), mode: round4(mode), max: round4(hi) };
    case "normal": return { dist, mean: round4(mean), sd: round4((hi - lo) / 3.29 || 1) };
    case "lognormal": {
      const l = lo > 0 ? lo : Math.max(mean * 0.5, 1e-6);
      const u = hi > l ? hi : l * 2;
      return { dist, p05: round4(l), p95: round4(u) };
    }
    case "beta": return { dist, alpha: 2, beta: 2 };
    case "bernoulli": return { dist, p: round4(Math.min(Math.max(mean, 0), 1)) };
    default: return { dist };
  }
}

// An input put back to its value as loaded is no longer an edit, so that undoing a change
// leaves the file exactly as loaded.
function setScenario(key, value) {
  if (S.base && String(S.base[key] ?? "") === String(value ?? "")) delete S.edits.scenario[key];
  else S.edits.scenario[key] = value;
  scheduleEdit();
}

function setAction(id, key, value) {
  const a = S.base && S.base.actions.find((x) => x.id === id);
  S.edits.actions[id] = S.edits.actions[id] || {};
  if (a && String(a[key] ?? "") === String(value ?? "")) delete S.edits.actions[id][key];
  else S.edits.actions[id][key] = value;
  scheduleEdit();
}

function setFactor(f, set) {
  const d = distOf(f);
  const same = set.dist === d.dist && ALL_PARAMS.every((p) => (set[p] ?? null) === (d[p] ?? null));
  // A factor's path is the TOML table /api/edit sets.
  if (same) S.edits.factors.delete(f.path);
  else S.edits.factors.set(f.path, set);
  scheduleEdit();
}

// ---------------------------------------------------------------------------------------------
// My ICB: its figures and its own inputs (the scenario's overrides)
// ---------------------------------------------------------------------------------------------

/** "NHS Humber and North Yorkshire Integrated Care Board" → "Humber and North Yorkshire". */
function shortIcb(name) {
  return String(name || "").replace(/^NHS /, "").replace(/ Integrated Care Board$| ICB$/, "");
}

function icbName(code) {
  const i = S.icbByCode.get(code);
  return i ? `${shortIcb(i.name)} ICB` : code;
}

function renderMyIcbInputs() {
  const box = $("#my-icb-inputs");
  box.replaceChildren();
  // Override problems are registered afresh for the rows shown.
  for (const key of [...S.targets.keys()]) if (key.startsWith("overrides")) S.targets.delete(key);
  if (!S.base) return;
  const code = S.myIcb;
  box.append(h("h2", { id: "my-icb-heading" }, code ? `${icbName(code)}: its own inputs` : "My ICB's own inputs"));
  if (!code) {
    box.append(h("p", { class: "note" }, "Choose your ICB under “My ICB” above to see its figures picked out in the results and to give it its own values of any factor (for example, a local survey's share of practices taking part)."));
    refreshOwnNotes();
    return;
  }
  const mine = S.overrides.map((o, i) => [o, i]).filter(([o]) => o.icb === code);
  if (!mine.length) {
    box.append(h("p", { class: "note" }, `${icbName(code)} uses the scenario's values for every factor. Add one of its own below.`));
  } else {
    const list = h("ul", { class: "overrides" });
    for (const [o, i] of mine) {
      const f = S.factorByPath.get(o.factor);
      const d = o.dist ? { ...o } : { dist: "fixed", value: o.value };
      delete d.icb;
      delete d.factor;
      const field = `overrides[${i}]`;
      const slot = errorSlot();
      target(field, slot, null);
      const editor = paramEditor(d, `${field}.value`, (set) => {
        const entry = { icb: o.icb, factor: o.factor };
        if (set.dist === "fixed") entry.value = set.value;
        else {
          entry.dist = set.dist;
          for (const p of DIST_PARAMS[set.dist] || []) entry[p] = set[p];
        }
        S.overrides[i] = entry;
        S.edits.overridesTouched = true;
        scheduleEdit();
        refreshOwnNotes();
      });
      const remove = h("button", { type: "button", class: "small", "aria-label": `Remove ${code}'s own value of ${f ? words(f.name) : o.factor}` }, "Remove");
      remove.addEventListener("click", () => {
        S.overrides.splice(i, 1);
        S.edits.overridesTouched = true;
        scheduleEdit();
        renderMyIcbInputs();
      });
      list.append(
        h(
          "li",
          { class: "override", dataset: { factor: o.factor } },
          h("div", { class: "factor-head" }, h("span", { class: "factor-name" }, f ? words(f.name) : o.factor), f ? h("span", { class: "note" }, ` (${f.owner}; scenario: ${f.words})`) : null, remove),
          editor,
          slot,
        ),
      );
    }
    box.append(list);
  }
  // Adding one.
  const selId = nextId("add-factor");
  const valId = nextId("add-value");
  const sel = h("select", { id: selId }, h("option", { value: "", text: "Choose a factor…" }));
  const byOwner = new Map();
  for (const f of S.base.factors) {
    if (!byOwner.has(f.owner)) byOwner.set(f.owner, []);
    byOwner.get(f.owner).push(f);
  }
  for (const [owner, fs] of byOwner) {
    const g = h("optgroup", { label: owner });
    for (const f of fs) g.append(h("option", { value: f.path, text: `${words(f.name)} (scenario: ${f.words})` }));
    sel.append(g);
  }
  const val = h("input", { type: "text", id: valId, inputmode: "decimal", autocomplete: "off", size: 10 });
  const add = h("button", { type: "button", id: "add-override" }, `Add ${code}'s value`);
  const msg = h("p", { class: "field-error", hidden: true });
  sel.addEventListener("change", () => {
    const f = S.factorByPath.get(sel.value);
    if (f && val.value.trim() === "") val.value = fmtValue(f.mean).replace(/,/g, "");
  });
  add.addEventListener("click", () => {
    const value = readNumber(val.value);
    msg.hidden = true;
    if (!sel.value) {
      msg.textContent = "Choose a factor first.";
      msg.hidden = false;
      return;
    }
    if (typeof value !== "number") {
      msg.textContent = "Give the value as a number.";
      msg.hidden = false;
      return;
    }
    const existing = S.overrides.findIndex((o) => o.icb === code && o.factor === sel.value);
    const entry = { icb: code, factor: sel.value, value };
    if (existing >= 0) S.overrides[existing] = entry;
    else S.overrides.push(entry);
    S.edits.overridesTouched = true;
    scheduleEdit();
    renderMyIcbInputs();
  });
  box.append(
    h(
      "div",
      { class: "add-override inline-fields" },
      h("div", { class: "field" }, h("label", { for: selId }, "Factor"), sel),
      h("div", { class: "field" }, h("label", { for: valId }, `${code}'s value (fixed)`), val),
      add,
    ),
    msg,
  );
  refreshOwnNotes();
  applyProblems();
}

/** Notes on each factor block where the chosen ICB has its own value. */
function refreshOwnNotes() {
  for (const note of $$(".own-note")) note.hidden = true;
  if (!S.myIcb) return;
  for (const o of S.overrides) {
    if (o.icb !== S.myIcb) continue;
    const block = $$(".factor").find((b) => b.dataset.path === o.factor);
    if (!block) continue;
    const note = $(".own-note", block);
    const what = o.dist ? `${o.dist}(${(DIST_PARAMS[o.dist] || []).map((p) => `${p} ${o[p]}`).join(", ")})` : String(o.value);
    note.textContent = `${S.myIcb} uses its own value: ${what} (see “My ICB's own inputs” above).`;
    note.hidden = false;
  }
}

/**
 * The ICBs the loaded scenario reports on (its footprint's, when it has one) in the "My ICB"
 * list. A chosen ICB that the footprint replaced becomes the body holding most of its patients,
 * and the page says so.
 */
function setIcbs(icbs) {
  S.icbs = icbs;
  S.icbByCode = new Map(icbs.map((i) => [i.code, i]));
  const icbSel = $("#icb-select");
  icbSel.replaceChildren(
    h("option", { value: "", text: "None chosen" }),
    ...[...icbs].sort((a, b) => a.name.localeCompare(b.name)).map((i) => h("option", { value: i.code, text: `${i.name.replace(/ Integrated Care Board$/, " ICB")} (${i.code})` })),
  );
  const note = $("#icb-moved");
  note.hidden = true;
  const mine = S.chosenIcb;
  if (!mine || S.icbByCode.has(mine)) {
    icbSel.value = mine || "";
    S.myIcb = mine || "";
    return;
  }
  const successor = successorOf(icbs, mine);
  if (successor) {
    note.textContent = `${shortIcb(successor.former.name)} ICB (${mine}) is not one of this scenario's ICBs: ${percent(successor.former.share_of_its_patients)} of its patients are now in ${icbName(successor.icb.code)} (${successor.icb.code}), chosen instead.`;
    note.hidden = false;
    icbSel.value = successor.icb.code;
    S.myIcb = successor.icb.code;
  } else {
    icbSel.value = "";
    S.myIcb = "";
  }
}

/** The ICB of `icbs` holding the largest share of the replaced ICB `code`'s patients. */
function successorOf(icbs, code) {
  let best = null;
  for (const icb of icbs) {
    for (const former of icb.former || []) {
      if (former.code === code && (!best || former.share_of_its_patients > best.former.share_of_its_patients)) best = { icb, former };
    }
  }
  return best;
}

function chooseIcb(code) {
  $("#icb-moved").hidden = true;
  S.chosenIcb = code;
  S.myIcb = code;
  try {
    localStorage.setItem("icb-impact.icb", code);
  } catch (e) {
    /* storage unavailable: fine */
  }
  renderMyIcbInputs();
  renderResults();
  renderCompare();
}

// ---------------------------------------------------------------------------------------------
// Editing and validation
// ---------------------------------------------------------------------------------------------

function scheduleEdit() {
  S.editPending = true;
  S.extraProblems = [];
  setStatus("Checking your changes…", "checking");
  refreshButtons();
  clearTimeout(S.editTimer);
  S.editTimer = setTimeout(sendEdits, 350);
}

async function sendEdits() {
  const seq = ++S.editSeq;
  const edits = editList();
  if (!edits.length) {
    S.edited = S.loaded;
    S.validation = S.baseValidation;
    S.editError = null;
    S.editPending = false;
    applyValidation();
    return;
  }
  try {
    const r = await api("POST", "/api/edit", { toml: S.loaded, edits });
    if (seq !== S.editSeq) return;
    S.edited = r.toml;
    S.validation = r.validation;
    S.editError = null;
  } catch (err) {
    if (seq !== S.editSeq) return;
    S.editError = err instanceof ApiError ? err : new ApiError(err.message);
  }
  S.editPending = false;
  applyValidation();
}

function applyValidation() {
  const sc = S.validation && S.validation.scenario;
  if (sc) {
    // Words and means of the factors as edited.
    for (const f of sc.factors) {
      const block = $$(".factor").find((b) => b.dataset.path === f.path);
      if (!block) continue;
      $(".words", block).textContent = f.words;
      $(".mean", block).textContent = fmtValue(f.mean);
    }
    for (const a of sc.actions) {
      const t = $(`[data-timing="${CSS.escape(a.id)}"]`);
      if (t) t.firstChild.textContent = a.timing;
    }
    const pw = $("#period-words");
    if (pw) pw.textContent = periodWords(sc);
    const cw = $("#cost-view-words");
    if (cw) cw.textContent = sc.cost_view_words || "";
    renderSettlementMonths();
  }
  const warn = $("#scenario-warnings");
  if (warn) {
    const list = (S.validation && S.validation.warnings) || [];
    warn.replaceChildren(...list.map((w) => h("li", {}, typeof w === "string" ? w : w.message || JSON.stringify(w))));
    warn.hidden = !list.length;
  }
  renderProblems();
  refreshButtons();
  if (S.editError) setStatus(`Your change could not be applied: ${S.editError.message}`, "error");
  else if (allProblems().length) setStatus("Fix the problems shown to run the scenario.", "error");
  else if (!S.busy) setStatus(hasEdits() ? "Changes checked: ready to run." : "Ready to run.", "idle");
}

/** Finds where a problem belongs: the longest registered field that is `field` or a prefix of it. */
function findTarget(field, file) {
  if (!field) return null;
  if (file && S.targets.has(`${file}:${field}`)) return S.targets.get(`${file}:${field}`);
  const candidates = [field, field.replace(/^scenario\./, "scenario.")];
  let best = null;
  let bestLen = -1;
  for (const [key, t] of S.targets) {
    for (const f of candidates) {
      if ((f === key || f.startsWith(key + ".") || f.startsWith(key + "[")) && key.length > bestLen) {
        best = t;
        bestLen = key.length;
      }
    }
  }
  // Scenario keys may come without their table name ("start", "months").
  if (!best && S.targets.has(`scenario.${field}`)) best = S.targets.get(`scenario.${field}`);
  return best;
}

function renderProblems() {
  applyProblems();
}

function applyProblems() {
  for (const slot of $$(".err-slot")) slot.replaceChildren();
  for (const i of $$('[aria-invalid="true"]')) {
    i.removeAttribute("aria-invalid");
    i.removeAttribute("aria-describedby");
  }
  for (const b of $$(".has-error")) b.classList.remove("has-error");
  const unmatched = [];
  let matched = 0;
  let first = null;
  for (const p of allProblems()) {
    const t = findTarget(p.field, p.file);
    if (!t || !document.body.contains(t.slot)) {
      unmatched.push(p);
      continue;
    }
    matched++;
    const id = nextId("err");
    const err = h("p", { class: "field-error", id, title: p.line ? `${p.file || "scenario"} line ${p.line}: ${p.field}` : p.field || "" }, p.message);
    t.slot.append(err);
    const block = t.slot.closest(".factor, .group, .scenario-info, .override");
    if (block) block.classList.add("has-error");
    const inputs = t.input ? [t.input] : t.slot.closest(".factor") ? $$(".param input", t.slot.closest(".factor")) : [];
    for (const input of inputs) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", id);
    }
    if (!first) first = t.input || t.slot;
  }
  const box = $("#problems");
  box.replaceChildren();
  const n = allProblems().length;
  if (!n) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const blocking = ((S.validation && S.validation.problems) || []).length > 0 || S.editError !== null;
  box.append(
    blocking
      ? h("p", { class: "problems-head" }, h("strong", {}, n === 1 ? "There is a problem with the scenario." : `There are ${n} problems with the scenario.`), " Run is off until they are fixed.")
      : h("p", { class: "problems-head" }, h("strong", {}, "The server refused the last request:"), " see the problems below or beside their inputs."),
  );
  if (S.editError) box.append(h("p", {}, `Your change could not be applied: ${S.editError.message}`));
  if (unmatched.length) {
    box.append(
      h(
        "ul",
        { id: "problem-list" },
        unmatched.map((p) => h("li", {}, p.field ? h("code", {}, p.field) : null, p.field ? ": " : "", p.message, p.line ? h("span", { class: "note" }, ` (line ${p.line})`) : null)),
      ),
    );
  }
  if (matched) {
    const go = h("button", { type: "button", class: "link" }, matched === 1 ? "Show the problem beside its input" : `Show the ${matched} problems beside their inputs`);
    go.addEventListener("click", () => {
      showTab("inputs-tab");
      const el = first;
      if (el) {
        el.scrollIntoView({ block: "center" });
        if (el.focus) el.focus();
      }
    });
    box.append(h("p", {}, go));
  }
}

// ---------------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------------

/** Reads and checks the iterations and seed inputs; null when not valid (the reason is shown). */
function runSettings() {
  const itText = $("#iterations").value.replace(/[,\s]/g, "");
  const seedText = $("#seed").value.trim();
  const itErr = $("#iterations-error");
  const seedErr = $("#seed-error");
  itErr.hidden = true;
  seedErr.hidden = true;
  $("#iterations").removeAttribute("aria-invalid");
  $("#seed").removeAttribute("aria-invalid");
  let ok = true;
  const it = Number(itText);
  if (!/^\d+$/.test(itText) || it < 1 || it > S.limits.max_iterations) {
    itErr.textContent = `Iterations must be a whole number from 1 to ${thousands(S.limits.max_iterations)}.`;
    itErr.hidden = false;
    $("#iterations").setAttribute("aria-invalid", "true");
    ok = false;
  }
  if (!/^\d+$/.test(seedText)) {
    seedErr.textContent = "The seed must be a whole number.";
    seedErr.hidden = false;
    $("#seed").setAttribute("aria-invalid", "true");
    ok = false;
  }
  return ok ? { iterations: it, seed: seedText, query: `iterations=${it}&seed=${encodeURIComponent(seedText)}` } : null;
}

async function doRun() {
  const rs = runSettings();
  if (!rs || $("#run").disabled) return;
  const toml = S.edited;
  try {
    const { out, seconds } = await busyWhile(`Running ${thousands(rs.iterations)} iterations…`, () => simulateWithProgress(`/api/run?${rs.query}`, toml));
    S.extraProblems = [];
    S.run = out;
    S.runToml = toml;
    S.runs++;
    document.body.dataset.runs = String(S.runs);
    renderResults();
    renderProblems();
    showTab("results-tab");
    setStatus(`Done: ${thousands(out.summary.iterations)} iterations in ${secs(seconds)} s.`, "done");
  } catch (err) {
    showError(err, "The run failed");
  }
  refreshButtons();
}

/** Inserts an SVG chart sent as text, parsed as SVG (no HTML, no scripts). */
function svgNode(text) {
  if (!text) return null;
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const svg = doc.documentElement;
  if (!svg || svg.nodeName.toLowerCase() !== "svg") return null;
  for (const bad of svg.querySelectorAll("script, foreignObject")) bad.remove();
  const node = document.importNode(svg, true);
  if (!node.getAttribute("viewBox") && node.getAttribute("width") && node.getAttribute("height")) {
    node.setAttribute("viewBox", `0 0 ${parseFloat(node.getAttribute("width"))} ${parseFloat(node.getAttribute("height"))}`);
  }
  node.removeAttribute("width");
  node.removeAttribute("height");
  node.setAttribute("role", "img");
  return node;
}

function figure(svgText, caption, id) {
  const svg = svgNode(svgText);
  if (!svg) return null;
  const capId = nextId("cap");
  svg.setAttribute("aria-labelledby", capId);
  return h("figure", { id: id || null }, svg, h("figcaption", { id: capId }, caption));
}

function card(value, mcse, label, attrs = {}) {
  return h(
    "div",
    { class: "card", ...attrs },
    h("div", { class: "v" }, h("span", { class: "fig" }, value), mcse ? h("span", { class: "mcse", title: "Monte Carlo standard error: how far the figure could move with a different seed" }, ` ± ${mcse} MCSE`) : null),
    h("div", { class: "l" }, label),
  );
}

/** A sortable table: columns [{ label, key, num, fmt, cls }], rows of objects. */
function sortableTable(id, columns, rows, rowAttrs) {
  const table = h("table", { id, class: "sortable" });
  const thead = h("thead");
  const tr = h("tr");
  const tbody = h("tbody");
  columns.forEach((c, col) => {
    const btn = h("button", { type: "button", class: "sort" }, c.label);
    const th = h("th", { class: c.num ? "n" : null, scope: "col", "aria-sort": "none" }, btn);
    const sort = () => {
      const asc = th.getAttribute("aria-sort") !== "ascending";
      for (const other of $$("th", tr)) other.setAttribute("aria-sort", "none");
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      const key = (row) => {
        const v = row.cells[col].getAttribute("data-value");
        return v === null ? row.cells[col].textContent : parseFloat(v);
      };
      const list = Array.from(tbody.rows);
      list.sort((a, b) => {
        const x = key(a);
        const y = key(b);
        const d = typeof x === "number" && typeof y === "number" ? (Number.isNaN(x) ? -Infinity : x) - (Number.isNaN(y) ? -Infinity : y) : String(x).localeCompare(String(y));
        return asc ? d : -d;
      });
      for (const r of list) tbody.appendChild(r);
    };
    th.addEventListener("click", sort);
    tr.append(th);
  });
  thead.append(tr);
  for (const r of rows) {
    const row = h("tr", rowAttrs ? rowAttrs(r) : {});
    for (const c of columns) {
      const raw = c.key(r);
      const text = c.fmt ? c.fmt(raw, r) : raw;
      row.append(h("td", { class: c.num ? "n" : c.cls || null, "data-value": c.num && Number.isFinite(num(raw)) ? String(num(raw)) : null }, text));
    }
    tbody.append(row);
  }
  table.append(thead, tbody);
  return table;
}

function renderResults() {
  const box = $("#results");
  box.replaceChildren();
  const r = S.run;
  if (!r) {
    box.append(h("p", { class: "note empty" }, "No results yet. Press ", h("strong", {}, "Run"), " to simulate the scenario."));
    return;
  }
  const s = r.summary;
  const n = s.national_total_gbp;
  const per = s.mean_per_icb_gbp;
  const ref = s.reference;
  const tables = r.tables || {};
  const icbRows = tables.icb_summary || tables.icbs || [];
  const actionByIcb = tables.action_summary || tables.actions || [];
  const mine = S.myIcb ? icbRows.find((row) => row.icb_code === S.myIcb) : null;
  const iters = Number(s.iterations);

  box.append(
    h("h2", {}, "Results"),
    h(
      "p",
      { class: "sub" },
      `${s.scenario}: ${monthName(s.period_start)} to ${monthName(s.period_end)} (${s.months} months), ${s.cost_view_label}, ${thousands(iters)} iterations, seed ${s.seed}`,
      r.elapsed_seconds !== undefined ? `; simulated in ${Number(r.elapsed_seconds).toFixed(2)} s.` : ".",
    ),
    h("p", { id: "stale-note", class: "stale", hidden: true }, "You have changed the inputs since this run: press Run to update the results."),
  );
  if (s.warnings && s.warnings.length) box.append(h("ul", { class: "warnings" }, s.warnings.map((w) => h("li", {}, typeof w === "string" ? w : JSON.stringify(w)))));

  const cards = h("div", { id: "headline", class: "cards" });
  cards.append(
    card(gbp(n.mean), gbp(n.mcse_mean), `National cost, mean (90% interval ${gbp(n.p05)} to ${gbp(n.p95)}; MCSE of the ends ± ${gbp(n.mcse_p05)} and ± ${gbp(n.mcse_p95)})`, {
      id: "card-national",
      "data-value": String(n.mean),
      dataset: { kind: "national" },
    }),
    card(gbp(per.mean), gbp(per.mcse_mean), `Mean cost per ICB (national ÷ ${s.icbs}; 90% interval ${gbp(per.p05)} to ${gbp(per.p95)})`, {
      id: "card-per-icb",
      "data-value": String(per.mean),
      dataset: { kind: "per-icb" },
    }),
  );
  if (ref) {
    const p = Number(ref.prob_mean_per_icb_above);
    const se = Math.sqrt((p * (1 - p)) / Math.max(iters, 1));
    cards.append(
      card(percent(p), `${(100 * se).toFixed(1)} pts`, `Chance the mean cost per ICB is above the reference ${gbp(ref.per_icb_gbp)} (${ref.label}); ${ref.icbs_with_mean_above} of ${s.icbs} ICBs have a mean above it`, {
        id: "card-reference",
        "data-value": String(p),
        dataset: { kind: "reference" },
      }),
    );
  }
  if (mine) {
    cards.append(
      card(gbp(mine.mean_gbp), gbp(mine.mcse_mean_gbp), `${shortIcb(mine.icb_name)} ICB (${mine.icb_code}), mean (90% interval ${gbp(mine.p05_gbp)} to ${gbp(mine.p95_gbp)}; chance above ${gbp(ref ? ref.per_icb_gbp : 2e6)}: ${percent(mine.prob_above_reference)})`, {
        id: "card-my-icb",
        class: "card mine",
        "data-value": String(mine.mean_gbp),
        dataset: { kind: "my-icb", icb: mine.icb_code },
      }),
    );
  } else {
    cards.append(h("div", { class: "card card-hint" }, h("div", { class: "v" }, "My ICB"), h("div", { class: "l" }, "Choose your ICB under “My ICB” above to see its own figures here.")));
  }
  box.append(cards);
  box.append(
    h(
      "p",
      { class: "note" },
      "Every figure is a Monte Carlo estimate; “± MCSE” is its Monte Carlo standard error, which shrinks as iterations grow. The 90% interval is where 9 in 10 simulated futures fall.",
    ),
  );

  const c = r.charts || {};
  box.append(
    figure(c.distribution, "How the mean cost per ICB is spread across simulated futures, against the reference.", "chart-distribution"),
    figure(c.exceedance, "The chance that the cost exceeds each amount.", "chart-exceedance"),
  );

  // ICB table.
  box.append(h("h2", {}, "Cost by ICB"), h("p", { class: "note" }, "Click a column heading to sort. Your ICB's row is highlighted."));
  box.append(
    sortableTable(
      "icb-table",
      [
        { label: "Code", key: (r) => r.icb_code },
        { label: "ICB", key: (r) => shortIcb(r.icb_name) },
        { label: "Region", key: (r) => r.region },
        { label: "Mean", key: (r) => r.mean_gbp, num: true, fmt: gbp },
        { label: "5th pct", key: (r) => r.p05_gbp, num: true, fmt: gbp },
        { label: "Median", key: (r) => r.p50_gbp, num: true, fmt: gbp },
        { label: "95th pct", key: (r) => r.p95_gbp, num: true, fmt: gbp },
        { label: `Chance above ${gbp(ref ? ref.per_icb_gbp : 2e6)}`, key: (r) => r.prob_above_reference, num: true, fmt: percent },
        { label: "MCSE of mean", key: (r) => r.mcse_mean_gbp, num: true, fmt: (v) => "± " + gbp(v) },
      ],
      icbRows,
      (row) => ({ class: row.icb_code === S.myIcb ? "mine highlight" : null, "aria-current": row.icb_code === S.myIcb ? "true" : null, dataset: { icb: row.icb_code } }),
    ),
  );
  box.append(figure(c.icb_costs, "Mean cost of each ICB with its 90% interval.", "chart-icb-costs"));

  // Cost by action.
  const actionRows = s.actions || [];
  const mineByAction = new Map();
  if (S.myIcb) {
    for (const row of actionByIcb) if (row.icb_code === S.myIcb) mineByAction.set(row.action, row);
  }
  const actCols = [
    { label: "Action", key: (a) => a.label },
    { label: "National mean", key: (a) => a.national_gbp.mean, num: true, fmt: gbp },
    { label: "5th pct", key: (a) => a.national_gbp.p05, num: true, fmt: gbp },
    { label: "95th pct", key: (a) => a.national_gbp.p95, num: true, fmt: gbp },
    { label: "Share of total", key: (a) => (n.mean ? a.national_gbp.mean / n.mean : NaN), num: true, fmt: (v) => (Number.isFinite(v) ? `${(100 * v).toFixed(0)}%` : "–") },
    { label: "MCSE of mean", key: (a) => a.national_gbp.mcse_mean, num: true, fmt: (v) => "± " + gbp(v) },
  ];
  if (mineByAction.size) actCols.splice(4, 0, { label: `${S.myIcb} mean`, key: (a) => (mineByAction.get(a.id) || {}).mean_gbp, num: true, fmt: gbp });
  box.append(h("h2", {}, "Cost by action"), sortableTable("action-table", actCols, actionRows, (a) => ({ dataset: { action: a.id } })));
  box.append(
    figure(c.actions, "National cost of each action.", "chart-actions"),
    figure(c.monthly, "National cost month by month.", "chart-monthly"),
    figure(c.regions, "Cost by NHS region.", "chart-regions"),
    figure(c.convergence, "How the national mean settles as iterations accumulate (a check that there are enough).", "chart-convergence"),
  );

  // What the model expects to see in the data: each activity the cost lines count.
  const activityRows = tables.activity || [];
  const nationalActivity = activityRows.filter((a) => a.scope === "national");
  if (nationalActivity.length) {
    const mineActivity = new Map(activityRows.filter((a) => a.scope === S.myIcb).map((a) => [a.activity, a]));
    const count = (v) => (Number.isFinite(num(v)) ? thousands(Math.round(num(v))) : "–");
    const actCounts = [
      { label: "Activity", key: (a) => a.activity },
      { label: "National mean", key: (a) => a.mean, num: true, fmt: count },
      { label: "5th pct", key: (a) => a.p05, num: true, fmt: count },
      { label: "95th pct", key: (a) => a.p95, num: true, fmt: count },
    ];
    if (mineActivity.size) actCounts.push({ label: `${S.myIcb} mean`, key: (a) => (mineActivity.get(a.activity) || {}).mean, num: true, fmt: count });
    box.append(
      h("h2", {}, "What the model expects to see in the data"),
      h(
        "p",
        { class: "note" },
        "The activity the actions add (negative: remove) over the period, on the same draws as the costs: GP appointments against NHS England's Appointments in General Practice, A&G requests against its specialist advice data, and so on (activity.csv).",
      ),
      sortableTable("activity-table", actCounts, nationalActivity, (a) => ({ dataset: { activity: a.activity } })),
    );
  }
  refreshStale();
}

// ---------------------------------------------------------------------------------------------
// Compare with the scenario as loaded
// ---------------------------------------------------------------------------------------------

async function doCompare() {
  const rs = runSettings();
  if (!rs || $("#compare").disabled) return;
  try {
    const { out, seconds } = await busyWhile(`Comparing: running both versions, ${thousands(rs.iterations)} iterations each…`, () =>
      simulateWithProgress(`/api/compare?${rs.query}`, { a: S.loaded, b: S.edited }),
    );
    S.compare = out;
    S.compareToml = S.edited;
    renderCompare();
    setStatus(`Comparison done in ${secs(seconds)} s.`, "done");
  } catch (err) {
    showError(err, "The comparison failed");
  }
}

function renderCompare() {
  const box = $("#compare-result");
  box.replaceChildren();
  const cmp = S.compare;
  if (!cmp) return;
  const rows = cmp.rows || [];
  const nat = rows.find((r) => r.icb_code === "national");
  const icbs = rows.filter((r) => r.icb_code !== "national");
  const mine = S.myIcb ? icbs.find((r) => r.icb_code === S.myIcb) : null;
  const cards = h("div", { class: "cards", id: "compare-cards" });
  if (nat) {
    cards.append(
      card(gbpSigned(nat.mean_diff_gbp), null, `National cost, edited − as loaded (${gbp(nat.mean_b_gbp)} against ${gbp(nat.mean_a_gbp)}; 90% interval of the difference ${gbpSigned(nat.p05_diff_gbp)} to ${gbpSigned(nat.p95_diff_gbp)}; chance the edited scenario costs more: ${percent(nat.prob_b_greater)})`, {
        id: "compare-national",
        "data-value": String(nat.mean_diff_gbp),
      }),
    );
  }
  if (mine) {
    cards.append(
      card(gbpSigned(mine.mean_diff_gbp), null, `${shortIcb(mine.icb_name)} ICB (${mine.icb_code}), edited − as loaded (${gbp(mine.mean_b_gbp)} against ${gbp(mine.mean_a_gbp)}; 90% interval ${gbpSigned(mine.p05_diff_gbp)} to ${gbpSigned(mine.p95_diff_gbp)}; chance higher: ${percent(mine.prob_b_greater)})`, {
        id: "compare-my-icb",
        class: "card mine",
        "data-value": String(mine.mean_diff_gbp),
      }),
    );
  }
  box.append(cards);
  if (S.compareToml !== S.edited) box.append(h("p", { class: "stale" }, "You have changed the inputs since this comparison: compare again to update it."));
  const chart = cmp.chart || (cmp.charts && Object.values(cmp.charts)[0]);
  box.append(figure(chart, "Difference in each ICB's mean cost, edited minus as loaded, with its 90% interval.", "chart-compare"));
  box.append(
    h("h3", {}, "Difference by ICB"),
    sortableTable(
      "compare-table",
      [
        { label: "Code", key: (r) => r.icb_code },
        { label: "ICB", key: (r) => shortIcb(r.icb_name) },
        { label: "As loaded", key: (r) => r.mean_a_gbp, num: true, fmt: gbp },
        { label: "Edited", key: (r) => r.mean_b_gbp, num: true, fmt: gbp },
        { label: "Difference", key: (r) => r.mean_diff_gbp, num: true, fmt: gbpSigned },
        { label: "5th pct", key: (r) => r.p05_diff_gbp, num: true, fmt: gbpSigned },
        { label: "95th pct", key: (r) => r.p95_diff_gbp, num: true, fmt: gbpSigned },
        { label: "Chance higher", key: (r) => r.prob_b_greater, num: true, fmt: percent },
      ],
      icbs,
      (row) => ({ class: row.icb_code === S.myIcb ? "mine highlight" : null, dataset: { icb: row.icb_code } }),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Cost of delay
// ---------------------------------------------------------------------------------------------

function renderSettlementMonths() {
  const sc = currentScenario();
  const from = $("#settle-from");
  const to = $("#settle-to");
  if (!sc) return;
  const months = Array.from({ length: sc.months }, (_, k) => addMonths(sc.start, k));
  const key = months.join(",");
  if (from.dataset.months === key) return;
  from.dataset.months = key;
  const fill = (sel, chosen) => {
    sel.replaceChildren(...months.map((m) => h("option", { value: m, text: monthName(m), selected: m === chosen })));
  };
  fill(from, months[0]);
  fill(to, months[months.length - 1]);
}

async function doSettlement() {
  const rs = runSettings();
  const err = $("#settle-error");
  err.hidden = true;
  if (!rs || $("#settlement-run").disabled) return;
  const from = $("#settle-from").value;
  const to = $("#settle-to").value;
  if (from > to) {
    err.textContent = "The first settlement month must not be after the last.";
    err.hidden = false;
    return;
  }
  try {
    const { out, seconds } = await busyWhile(`Costing each settlement month from ${monthName(from)} to ${monthName(to)}…`, () =>
      simulateWithProgress(`/api/settlement?months=${from}..${to}&${rs.query}`, S.edited),
    );
    S.settlement = out;
    renderSettlement();
    setStatus(`Cost of delay done in ${secs(seconds)} s.`, "done");
  } catch (e) {
    showError(e, "The cost of delay failed");
  }
}

function renderSettlement() {
  const box = $("#settlement-result");
  box.replaceChildren();
  const st = S.settlement;
  if (!st) return;
  const rows = st.rows || [];
  const marginal = rows.slice(1).map((r) => num(r.marginal_mean_gbp)).filter(Number.isFinite);
  if (marginal.length) {
    const m = marginal.reduce((a, b) => a + b, 0) / marginal.length;
    const perIcb = S.icbs.length ? m / S.icbs.length : null;
    box.append(
      h(
        "p",
        { class: "lead", id: "settlement-sentence", "data-value": String(m) },
        `Each month without a settlement costs ICBs about ${gbp(m)}`,
        perIcb !== null ? ` in total (about ${gbp(perIcb)} per ICB).` : ".",
      ),
    );
  }
  box.append(figure(st.chart, "National cost by the month a settlement is reached, with its 90% interval.", "chart-settlement"));
  box.append(
    sortableTable(
      "settlement-table",
      [
        { label: "Settled at the end of", key: (r) => r.settlement_month, fmt: (v) => monthName(v) },
        { label: "National mean", key: (r) => r.national_mean_gbp, num: true, fmt: gbp },
        { label: "90% interval", key: (r) => r.national_p05_gbp, num: true, fmt: (v, r) => `${gbp(r.national_p05_gbp)} to ${gbp(r.national_p95_gbp)}` },
        { label: "Mean per ICB", key: (r) => r.mean_per_icb_gbp, num: true, fmt: gbp },
        { label: "Cost of one more month", key: (r) => r.marginal_mean_gbp, num: true, fmt: (v) => (Number.isFinite(num(v)) ? gbp(v) : "–") },
        { label: "Its 90% interval", key: (r) => r.marginal_p05_gbp, num: true, fmt: (v, r) => (Number.isFinite(num(r.marginal_p05_gbp)) ? `${gbp(r.marginal_p05_gbp)} to ${gbp(r.marginal_p95_gbp)}` : "–") },
      ],
      rows,
      (r) => ({ dataset: { month: r.settlement_month } }),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Decide
// ---------------------------------------------------------------------------------------------

/** Whether the scenario as edited has options to decide between (its validation says). */
function hasOptions() {
  const sc = currentScenario();
  return !!(sc && sc.options && sc.options.length);
}

async function doDecide() {
  const rs = runSettings();
  if (!rs || $("#decide-run").disabled) return;
  try {
    const { out, seconds } = await busyWhile(`Deciding between the options, ${thousands(rs.iterations)} iterations each on the same draws…`, () =>
      simulateWithProgress(`/api/decide?${rs.query}`, S.edited),
    );
    S.decision = out;
    fillDecideScopes();
    renderDecision();
    setStatus(`Decision done in ${secs(seconds)} s.`, "done");
  } catch (e) {
    showError(e, "The decision failed");
  }
}

/** The scope picker: England, then every ICB of the decision (the user's own selected). */
function fillDecideScopes() {
  const sel = $("#decide-scope");
  const d = S.decision;
  if (!d) return;
  const chosen = S.myIcb && d.summary.icbs.some((s) => s.scope === S.myIcb) ? S.myIcb : sel.value || "national";
  sel.replaceChildren(
    h("option", { value: "national", text: "England", selected: chosen === "national" }),
    ...d.summary.icbs.map((s) => h("option", { value: s.scope, text: `${s.name} (${s.scope})`, selected: s.scope === chosen })),
  );
}

function renderDecision() {
  const box = $("#decide-result");
  box.replaceChildren();
  const d = S.decision;
  if (!d) return;
  const scope = $("#decide-scope").value || "national";
  const sum = scope === "national" ? d.summary.national : d.summary.icbs.find((s) => s.scope === scope);
  if (!sum) return;
  const who = scope === "national" ? "England" : sum.name;
  box.append(
    h(
      "p",
      { class: "lead", id: "decide-sentence", dataset: { best: sum.best, evpi: String(sum.evpi_gbp) } },
      sum.best === "none"
        ? `For ${who}, no option lowers the expected cost (${gbp(sum.best_mean_gbp)} as it stands). `
        : `For ${who}, “${sum.best_label}” has the lowest expected cost, ${gbp(sum.best_mean_gbp)}, saving ${gbp(sum.best_saving_vs_none_gbp)} on average. `,
      `Knowing every uncertain input before deciding would be worth ${gbp(sum.evpi_gbp)} (EVPI).`,
    ),
  );
  if (scope === "national") {
    box.append(figure(d.charts.decision_costs, "Expected national cost with each option taken, with its 90% interval.", "chart-decision_costs"));
    box.append(figure(d.charts.decision_prob_best, "Share of the simulated futures in which each option is the cheapest.", "chart-decision_prob_best"));
    if (d.charts.decision_evppi)
      box.append(figure(d.charts.decision_evppi, "What learning each factor before deciding would be worth (EVPPI), with ±1.96 standard errors; the line is the EVPI.", "chart-decision_evppi"));
  }
  box.append(
    sortableTable(
      "decide-table",
      [
        { label: "Option", key: (r) => r.label },
        { label: "Expected cost", key: (r) => r.mean_gbp, num: true, fmt: gbp },
        { label: "90% interval", key: (r) => r.p05_gbp, num: true, fmt: (v, r) => `${gbp(r.p05_gbp)} to ${gbp(r.p95_gbp)}` },
        { label: "Probability best", key: (r) => r.prob_best, num: true, fmt: (v) => percent(v) },
        { label: "Saving against none", key: (r) => r.saving_vs_none_gbp, num: true, fmt: (v, r) => `${gbp(v)} ± ${gbp(r.mcse_saving_gbp)}` },
      ],
      d.decision.filter((r) => r.scope === scope),
      (r) => ({ class: r.best ? "highlight" : null, dataset: { option: r.option } }),
    ),
  );
  const evppi = d.evppi.filter((r) => r.scope === scope).sort((a, b) => num(b.evppi_gbp) - num(a.evppi_gbp));
  box.append(h("h3", {}, "Worth learning first"));
  box.append(
    sortableTable(
      "decide-evppi-table",
      [
        { label: "Factor", key: (r) => r.label, fmt: (v, r) => (r.kind === "group" ? `${v} (group)` : v) },
        { label: `Worth to ${who} before deciding (EVPPI)`, key: (r) => r.evppi_gbp, num: true, fmt: gbp },
        { label: "Standard error", key: (r) => r.se_gbp, num: true, fmt: gbp },
      ],
      evppi,
      (r) => ({ dataset: { factor: r.factor } }),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Nowcast
// ---------------------------------------------------------------------------------------------

async function loadNowcastFiles(files) {
  const said = [];
  for (const file of files) {
    const text = await file.text();
    const kind = observedFileKind(text);
    if (kind) {
      S.nowcastFiles[kind] = text;
      said.push(`${file.name}: ${kind === "observations" ? "the observed figures" : "the observed months"}`);
    } else {
      said.push(`${file.name}: neither data observed's figures (--benchmarks-out) nor its observed_monthly.csv, so not used`);
    }
  }
  S.nowcast = null;
  $("#nowcast-result").replaceChildren();
  const missing = !S.nowcastFiles.observations
    ? " Load the figures (obs.csv) to calibrate."
    : !S.nowcastFiles.monthly
      ? " Without observed_monthly.csv the chart shows the figure alone, not the months."
      : "";
  $("#nowcast-loaded").textContent = `${said.join("; ")}.${missing}`;
  refreshButtons();
}

async function doNowcast() {
  const rs = runSettings();
  if (!rs || $("#nowcast-run").disabled) return;
  const body = { scenario: S.edited, observations: S.nowcastFiles.observations };
  if (S.nowcastFiles.monthly) body.monthly = S.nowcastFiles.monthly;
  try {
    const { out, seconds } = await busyWhile(`Calibrating to the observations and running, ${thousands(rs.iterations)} iterations…`, () =>
      simulateWithProgress(`/api/nowcast?${rs.query}`, body),
    );
    S.nowcast = out;
    renderNowcast();
    setStatus(`Nowcast done in ${secs(seconds)} s.`, "done");
  } catch (e) {
    showError(e, "The nowcast failed");
  }
}

function renderNowcast() {
  const box = $("#nowcast-result");
  box.replaceChildren();
  const n = S.nowcast;
  if (!n) return;
  const s = n.run.summary;
  const c = n.calibration;
  const cal = s.calibrated;
  const interval = (x) => `90% interval ${gbp(x.p05)} to ${gbp(x.p95)}`;
  const cards = h("div", { id: "nowcast-headline", class: "cards" });
  const prior = cal ? cal.prior_national_total_gbp : s.national_total_gbp;
  cards.append(
    card(gbp(prior.mean), gbp(prior.mcse_mean), `National cost on the priors, mean (${interval(prior)})`, {
      id: "nowcast-prior",
      "data-value": String(prior.mean),
    }),
  );
  if (cal) {
    const post = s.national_total_gbp;
    cards.append(
      card(gbp(post.mean), gbp(post.mcse_mean), `National cost calibrated to the observations, mean (${interval(post)}; effective sample size ${Math.round(cal.effective_sample_size)})`, {
        id: "nowcast-calibrated",
        "data-value": String(post.mean),
      }),
    );
  }
  box.append(
    h(
      "p",
      { class: "lead", id: "nowcast-sentence", dataset: { reported: String(c.posterior_reported) } },
      c.posterior_reported
        ? `Calibrated to ${c.figures.length} observed figure${c.figures.length === 1 ? "" : "s"} on ${thousands(c.draws)} prior draws (${c.waves} wave${c.waves === 1 ? "" : "s"}): ${s.scenario}, ${monthName(s.period_start)} to ${monthName(s.period_end)}.`
        : `The calibration reported no posterior: its effective sample size, ${Math.round(c.ess)}, is under ${c.min_ess}, or the figures conflict (see the figures below). The run shown is on the priors.`,
    ),
    cards,
  );
  if (n.chart)
    box.append(
      figure(
        n.chart,
        "What the data show so far (the excess above its counterfactual, cumulated, and the figure with its 95% interval) against what the scenario expects of the same quantity, month by month: on the priors and calibrated, each with its 90% interval.",
        "chart-nowcast",
      ),
    );
  if (n.expected) {
    const band = (b) => (b ? `${gbp(b.mean)} (${gbp(b.p05)} to ${gbp(b.p95)})` : "–");
    box.append(
      sortableTable(
        "nowcast-months",
        [
          { label: "Month", key: (r) => r.month, fmt: (v) => monthName(v) },
          { label: "Observed so far", key: (r) => r.observed, num: true, fmt: (v) => (v === null || v === undefined ? "–" : gbp(v)) },
          { label: "Expected on the priors (90% interval)", key: (r) => r.prior && r.prior.mean, num: true, fmt: (v, r) => band(r.prior) },
          { label: "Expected, calibrated (90% interval)", key: (r) => r.calibrated && r.calibrated.mean, num: true, fmt: (v, r) => band(r.calibrated) },
        ],
        n.expected.months,
        (r) => ({ dataset: { month: r.month } }),
      ),
    );
  }
  box.append(h("h3", {}, "The observed figures"));
  box.append(
    sortableTable(
      "nowcast-figures",
      [
        { label: "Figure", key: (r) => r.label },
        { label: "Observed", key: (r) => r.published, num: true, fmt: (v, r) => `${gbp(v)} ± ${gbp(r.sd)}` },
        { label: "Prior mean", key: (r) => r.prior_mean, num: true, fmt: gbp },
        { label: "Calibrated mean", key: (r) => r.posterior_mean, num: true, fmt: (v) => (Number.isFinite(num(v)) ? gbp(v) : "–") },
      ],
      c.figures,
      (r) => ({ dataset: { figure: r.id } }),
    ),
  );
  if (c.figures_not_used.length)
    box.append(h("ul", { class: "warnings" }, c.figures_not_used.map((u) => h("li", {}, `${u.id}: ${u.reason}`))));
}

// ---------------------------------------------------------------------------------------------
// Downloads
// ---------------------------------------------------------------------------------------------

function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30000);
}

function downloadToml() {
  if (!S.loaded) return;
  // Exactly the text the server returned, encoded as UTF-8 (the encoding it came in).
  const blob = new Blob([S.edited], { type: "application/toml" });
  saveBlob(blob, `${S.id || "scenario"}-edited.toml`);
  setStatus(`Saved ${S.id || "scenario"}-edited.toml.`, "done");
}

const REPORT_WORDS = { html: ["the briefing", "report.html"], xlsx: ["the workbook", "report.xlsx"], zip: ["the tables and charts", "run.zip"] };

async function downloadReport(format) {
  const rs = runSettings();
  if (!rs) return;
  const [what, suffix] = REPORT_WORDS[format];
  try {
    const { out, seconds } = await busyWhile(`Preparing ${what} (${thousands(rs.iterations)} iterations)…`, () =>
      api("POST", `/api/report?format=${format}&${rs.query}`, S.edited, "blob"),
    );
    const name = `${S.id || "scenario"}-${out.filename || suffix}`;
    saveBlob(out.blob, name);
    setStatus(`Saved ${name} (${secs(seconds)} s).`, "done");
  } catch (err) {
    showError(err, `Could not prepare ${what}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------------------------

async function start() {
  setupTabs();
  $("#run").addEventListener("click", doRun);
  $("#compare").addEventListener("click", doCompare);
  $("#settlement-run").addEventListener("click", doSettlement);
  $("#decide-run").addEventListener("click", doDecide);
  $("#decide-scope").addEventListener("change", renderDecision);
  $("#nowcast-run").addEventListener("click", doNowcast);
  $("#nowcast-files").addEventListener("change", (ev) => loadNowcastFiles([...ev.target.files]));
  $("#download-toml").addEventListener("click", downloadToml);
  for (const b of $$("[data-format]")) b.addEventListener("click", () => downloadReport(b.dataset.format));
  for (const id of ["#iterations", "#seed"]) {
    $(id).addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") doRun();
    });
    $(id).addEventListener("change", runSettings);
    $(id).addEventListener("input", () => {
      if (S.extraProblems.length) {
        S.extraProblems = [];
        applyProblems();
      }
    });
  }
  $("#icb-select").addEventListener("change", (ev) => chooseIcb(ev.target.value));
  const scenarioSel = $("#scenario-select");
  scenarioSel.addEventListener("change", () => {
    if (!scenarioSel.value) return;
    if (!confirmDiscard()) {
      scenarioSel.value = S.id || "";
      return;
    }
    loadShipped(scenarioSel.value);
  });
  $("#scenario-file").addEventListener("change", (ev) => {
    const file = ev.target.files && ev.target.files[0];
    if (!file) return;
    if (!confirmDiscard()) {
      ev.target.value = "";
      return;
    }
    const reader = new FileReader();
    reader.onload = () => {
      scenarioSel.value = "";
      loadScenarioText(String(reader.result), file.name.replace(/\.toml$/i, "") || "scenario");
    };
    reader.onerror = () => setStatus(`The file ${file.name} could not be read.`, "error");
    reader.readAsText(file, "utf-8");
  });

  let scenarios, icbs, limits, families;
  try {
    [scenarios, icbs, limits, families] = await Promise.all([
      api("GET", "/api/scenarios"),
      api("GET", "/api/icbs"),
      api("GET", "/api/limits"),
      api("GET", "/api/families"),
    ]);
  } catch (err) {
    showError(err, "The explorer could not start");
    return;
  }
  S.scenarios = scenarios;
  S.limits = limits;
  useFamilies(families);
  $("#iterations").title = `Up to ${thousands(S.limits.max_iterations)}`;
  scenarioSel.replaceChildren(...scenarios.map((s) => h("option", { value: s.id, text: s.name, title: s.description || "" })));
  let remembered = "";
  let rememberedIcb = "";
  try {
    remembered = localStorage.getItem("icb-impact.scenario") || "";
    rememberedIcb = localStorage.getItem("icb-impact.icb") || "";
  } catch (e) {
    /* storage unavailable: fine */
  }
  S.chosenIcb = rememberedIcb;
  setIcbs(icbs);
  const first = scenarios.some((s) => s.id === remembered) ? remembered : scenarios.length ? scenarios[0].id : "";
  scenarioSel.value = first;
  if (first) await loadShipped(first);
}

document.addEventListener("DOMContentLoaded", () => {
  start().catch((err) => showError(err));
});
