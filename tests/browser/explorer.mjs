// Drives the explorer page of `icb-impact serve` in headless Chromium and reports, as one JSON
// object on stdout: problems (console errors and warnings, page errors, failed requests, any
// request beyond the server's origin, and any step that failed), the national mean before and
// after raising one factor, the message shown beside a factor given an invalid value and whether
// Run was then disabled, the path of the downloaded edited TOML, whether the chosen ICB's row is
// highlighted, the national difference of the comparison with the scenario as loaded, the number
// of cost-of-delay rows, the text of each headline card, and the "My ICB" list on a scenario
// with a footprint (its length, the ICB chosen and the note beside it), and the nowcast on it from
// the observations in NOWCAST_DIR (obs.csv and observed_monthly.csv: the two headline values,
// the months and the observed months in its table, whether its chart is drawn). Exits 0 unless
// the script itself crashes; the Rust test judges the JSON.
// Usage: CHROMIUM=/path/to/chromium NOWCAST_DIR=DIR node explorer.mjs http://127.0.0.1:PORT SCREENSHOT.png DOWNLOAD_DIR
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";

const [, , baseUrl, shotPath, downloadDir] = process.argv;
if (!baseUrl || !shotPath || !downloadDir) {
  console.error("usage: node explorer.mjs http://127.0.0.1:PORT SCREENSHOT.png DOWNLOAD_DIR");
  process.exit(2);
}
const origin = new URL(baseUrl).origin;
const SCENARIO = "collective-action-2024";
const FACTOR = "actions.contact_cap.factors.share_of_contacts_above_25";
const ICB = "QU9";
const FOOTPRINT_SCENARIO = "escalation-2026";
const STEP_TIMEOUT = 20_000;

const out = {
  problems: [],
  mean_before: null,
  mean_after: null,
  field_error: null,
  run_disabled: null,
  downloaded_toml: null,
  icb_highlighted: null,
  compare_national_diff: null,
  settlement_rows: null,
  cards: [],
  footprint: null,
};

let browser = null;
let printed = false;
function finish(code = 0) {
  if (!printed) {
    printed = true;
    console.log(JSON.stringify(out));
  }
  const close = browser ? browser.close().catch(() => {}) : Promise.resolve();
  close.finally(() => process.exit(code));
}
// The whole script has 60 s; past that it reports what it has.
const overall = setTimeout(() => {
  out.problems.push("timeout: the script did not finish within 60 s");
  finish(0);
}, 60_000);

browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, acceptDownloads: true });
const page = await context.newPage();
page.setDefaultTimeout(STEP_TIMEOUT);
page.on("dialog", (d) => d.accept());
page.on("console", (m) => {
  if (m.type() === "error" || m.type() === "warning") out.problems.push(`console ${m.type()}: ${m.text()}`);
});
page.on("pageerror", (e) => out.problems.push(`page error: ${e.message}`));
page.on("requestfailed", (r) => {
  const url = r.url();
  // A blob: URL handed to a download is "aborted" by design.
  if (url.startsWith("blob:")) return;
  out.problems.push(`failed request: ${url} (${r.failure() ? r.failure().errorText : "unknown"})`);
});
page.on("request", (r) => {
  const url = r.url();
  if (!(url === origin || url.startsWith(origin + "/") || url.startsWith("data:") || url.startsWith("blob:"))) {
    out.problems.push(`request beyond the server: ${url}`);
  }
});
page.on("response", (r) => {
  if (r.status() >= 400) out.problems.push(`HTTP ${r.status()} for ${r.request().method()} ${r.url()}`);
});

/** Runs a step; a failure is reported as a problem and the script goes on. */
async function step(name, fn) {
  try {
    await fn();
  } catch (e) {
    out.problems.push(`step '${name}' failed: ${String(e.message || e).split("\n")[0]}`);
  }
}

/** Waits until the page has checked the last change (no edit pending or in flight). */
async function settled() {
  await page.waitForFunction(() => {
    const s = document.querySelector("#status");
    return s && s.dataset.state !== "checking" && s.dataset.state !== "running";
  });
}

async function runAndReadMean() {
  const runs = Number((await page.getAttribute("body", "data-runs")) || 0);
  await page.waitForSelector("#run:not([disabled])");
  const response = page.waitForResponse((r) => r.url().startsWith(origin + "/api/run"), { timeout: STEP_TIMEOUT });
  await page.click("#run");
  const r = await response;
  if (!r.ok()) throw new Error(`the run answered ${r.status()}`);
  await page.waitForFunction((n) => Number(document.body.dataset.runs || 0) > n, runs);
  await page.waitForSelector("#card-national[data-value]");
  return Number(await page.getAttribute("#card-national", "data-value"));
}

async function fillParam(param, value) {
  await page.fill(`[data-path="${FACTOR}"] input[data-param="${param}"]`, String(value));
}

// 1-2. Open the page, choose the scenario, run 2,000 iterations.
await step("open and run", async () => {
  await page.goto(baseUrl, { waitUntil: "load" });
  await page.waitForSelector(`#scenario-select option[value="${SCENARIO}"]`, { state: "attached" });
  const validated = page.waitForResponse((r) => r.url().startsWith(origin + "/api/validate"), { timeout: 10_000 }).catch(() => null);
  await page.selectOption("#scenario-select", SCENARIO);
  await validated;
  await page.waitForFunction((id) => document.body.dataset.scenario === id, SCENARIO);
  await settled();
  await page.fill("#iterations", "2000");
  out.mean_before = await runAndReadMean();
});

// 3. Raise one factor and run again.
await step("raise a factor", async () => {
  await page.click("#inputs-tab");
  await page.waitForSelector(`[data-path="${FACTOR}"] input[data-param="min"]`);
  await fillParam("max", 0.45);
  await fillParam("mode", 0.4);
  await fillParam("min", 0.3);
  await settled();
  out.mean_after = await runAndReadMean();
});

// 4. An invalid value: min above max. Read the message beside the factor, then fix it back.
await step("invalid value", async () => {
  await page.click("#inputs-tab");
  await fillParam("min", 0.5);
  await settled();
  const error = page.locator(`[data-path="${FACTOR}"] .field-error`).first();
  await error.waitFor({ state: "visible" });
  out.field_error = (await error.textContent()).trim();
  out.run_disabled = await page.isDisabled("#run");
  await fillParam("min", 0.3);
  await settled();
  await page.waitForSelector("#run:not([disabled])");
});

// 5. Download the edited scenario.
await step("download TOML", async () => {
  mkdirSync(downloadDir, { recursive: true });
  await page.click("#downloads-tab");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-toml")]);
  const path = resolve(join(downloadDir, download.suggestedFilename() || `${SCENARIO}-edited.toml`));
  await download.saveAs(path);
  out.downloaded_toml = path;
});

// 6. My ICB: its row in the ICB table is highlighted.
await step("my ICB", async () => {
  await page.selectOption("#icb-select", ICB);
  await page.click("#results-tab");
  const row = page.locator(`#icb-table tbody tr[data-icb="${ICB}"]`);
  await row.waitFor({ state: "visible" });
  out.icb_highlighted = await row.evaluate((tr) => {
    const own = getComputedStyle(tr).backgroundColor;
    const other = tr.parentElement.querySelector("tr:not(.highlight)");
    const plain = other ? getComputedStyle(other).backgroundColor : "";
    return tr.classList.contains("highlight") && own !== plain;
  });
  // What the model expects to see in the data: a row per activity, with my ICB's column.
  out.activity_rows = await page.locator("#activity-table tbody tr").count();
  out.activity_has_my_icb = (await page.locator("#activity-table thead th", { hasText: `${ICB} mean` }).count()) === 1;
});

// 7. Compare with the scenario as loaded.
await step("compare", async () => {
  await page.click("#compare-tab");
  await page.waitForSelector("#compare:not([disabled])");
  const response = page.waitForResponse((r) => r.url().startsWith(origin + "/api/compare"));
  await page.click("#compare");
  await response;
  await page.waitForSelector("#compare-national[data-value]");
  out.compare_national_diff = Number(await page.getAttribute("#compare-national", "data-value"));
});

// 8. Cost of delay.
await step("cost of delay", async () => {
  await page.click("#settlement-tab");
  await page.waitForSelector("#settlement-run:not([disabled])");
  const response = page.waitForResponse((r) => r.url().startsWith(origin + "/api/settlement"));
  await page.click("#settlement-run");
  await response;
  await page.waitForSelector("#settlement-table tbody tr");
  out.settlement_rows = await page.locator("#settlement-table tbody tr").count();
});

// 9. The results as a full-page screenshot, and the headline cards.
await step("screenshot", async () => {
  await page.click("#results-tab");
  await page.waitForSelector("#headline .card");
  out.cards = await page.evaluate(() =>
    Array.from(document.querySelectorAll("#headline .card")).map((card) => {
      const v = card.querySelector(".v");
      const l = card.querySelector(".l");
      return { value: v ? v.textContent.trim() : "", label: l ? l.textContent.trim() : "" };
    }),
  );
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: shotPath, fullPage: true });
  // Further views, for a person looking at the page: explorer-inputs.png and so on, in the
  // directory EXPLORER_ALL_SHOTS names.
  if (process.env.EXPLORER_ALL_SHOTS) {
    for (const tab of ["results", "inputs", "compare", "settlement"]) {
      await page.click(`#${tab}-tab`);
      await page.screenshot({ path: join(process.env.EXPLORER_ALL_SHOTS, `explorer-${tab}.png`), fullPage: true });
    }
  }
});

// 10. A scenario on the 2026 footprint: the "My ICB" list is its ICBs, and the ICB chosen in
// step 6, which the footprint replaced, becomes the body holding its patients, said beside it.
await step("footprint", async () => {
  const validated = page.waitForResponse((r) => r.url().startsWith(origin + "/api/validate"), { timeout: 10_000 });
  await page.selectOption("#scenario-select", FOOTPRINT_SCENARIO);
  await validated;
  await page.waitForFunction((id) => document.body.dataset.scenario === id, FOOTPRINT_SCENARIO);
  await settled();
  out.footprint = {
    options: await page.locator("#icb-select option").count(),
    selected: await page.inputValue("#icb-select"),
    note: (await page.locator("#icb-moved").isVisible()) ? (await page.textContent("#icb-moved")).trim() : null,
  };
});

// 11. The nowcast on that scenario: load data observed's two files, calibrate and run.
await step("nowcast", async () => {
  const dir = process.env.NOWCAST_DIR;
  if (!dir) throw new Error("NOWCAST_DIR is not set");
  await page.fill("#iterations", "2000");
  await page.click("#nowcast-tab");
  await page.setInputFiles("#nowcast-files", [join(dir, "obs.csv"), join(dir, "obs", "observed_monthly.csv")]);
  await page.waitForSelector("#nowcast-run:not([disabled])");
  out.nowcast_loaded = (await page.textContent("#nowcast-loaded")).trim();
  const response = page.waitForResponse((r) => r.url().startsWith(origin + "/api/nowcast"), { timeout: 60_000 });
  await page.click("#nowcast-run");
  const r = await response;
  if (!r.ok()) throw new Error(`the nowcast answered ${r.status()}`);
  await page.waitForSelector("#chart-nowcast svg", { timeout: 60_000 });
  out.nowcast = {
    query: new URL(r.url()).search,
    prior: Number(await page.getAttribute("#nowcast-prior", "data-value")),
    calibrated: Number(await page.getAttribute("#nowcast-calibrated", "data-value")),
    months: await page.locator("#nowcast-months tbody tr").count(),
    observed: await page.evaluate(() =>
      Array.from(document.querySelectorAll("#nowcast-months tbody tr")).filter((tr) => tr.children[1].textContent.trim() !== "–").length,
    ),
    chart: await page.locator("#chart-nowcast svg").count(),
  };
  if (process.env.EXPLORER_ALL_SHOTS)
    await page.screenshot({ path: join(process.env.EXPLORER_ALL_SHOTS, "explorer-nowcast.png"), fullPage: true });
});

clearTimeout(overall);
finish(0);
