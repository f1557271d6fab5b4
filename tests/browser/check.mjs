// Opens an HTML page of a report (the briefing or a one-pager) in headless Chromium and
// reports, as JSON on stdout: problems (console errors and warnings, page errors, failed or
// network requests), the number of inline SVG charts, of those drawn at a visible size, and of
// captions, the tables and their row counts, the text of every headline card, the rows of the
// one-pager's inputs table, whether clicking the "Mean" heading sorts the ICB table (null
// without one), and the page count of an A4 print.
// Usage: CHROMIUM=/path/to/chromium node check.mjs PAGE.html SCREENSHOT.png PRINT.pdf
import { chromium } from "playwright-core";
import { resolve } from "node:path";
import { readFileSync } from "node:fs";

const [, , htmlPath, shotPath, pdfPath] = process.argv;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
const problems = [];
page.on("console", (m) => {
  if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
});
page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
page.on("requestfailed", (r) => problems.push(`failed request: ${r.url()}`));
page.on("request", (r) => {
  const url = r.url();
  if (!url.startsWith("file:") && !url.startsWith("data:")) problems.push(`network request: ${url}`);
});
await page.goto("file://" + resolve(htmlPath), { waitUntil: "load" });
const figures = await page.locator("figure svg").count();
const visible_figures = await page.evaluate(() =>
  Array.from(document.querySelectorAll("figure svg")).filter((svg) => {
    const box = svg.getBoundingClientRect();
    return box.width > 100 && box.height > 100;
  }).length,
);
const captions = await page.locator("figure figcaption").count();
const cards = await page.evaluate(() =>
  Array.from(document.querySelectorAll(".card")).map((card) => ({
    value: card.querySelector(".v").textContent,
    label: card.querySelector(".l").textContent,
  })),
);
const inputs = await page.evaluate(() =>
  Array.from(document.querySelectorAll("#inputs-table tr")).map((row) =>
    Array.from(row.cells).map((cell) => cell.textContent),
  ),
);
const tables = await page.evaluate(() =>
  Array.from(document.querySelectorAll("table")).map((t) => ({
    id: t.id,
    rows: t.tBodies.length ? t.tBodies[0].rows.length : 0,
  })),
);
let sorted = null;
if (await page.locator("#icb-table").count()) {
  const means = async () =>
    page.evaluate(() =>
      Array.from(document.querySelectorAll("#icb-table tbody tr")).map((r) => parseFloat(r.cells[3].getAttribute("data-value"))),
    );
  await page.locator("#icb-table th", { hasText: "Mean" }).first().click();
  const ascending = await means();
  await page.locator("#icb-table th", { hasText: "Mean" }).first().click();
  const descending = await means();
  const isSorted = (v, sign) => v.every((x, i) => i === 0 || sign * (x - v[i - 1]) >= 0);
  sorted = isSorted(ascending, 1) && isSorted(descending, -1);
}
await page.evaluate(() => window.scrollTo(0, 0));
await page.screenshot({ path: shotPath, fullPage: false });
await page.pdf({ path: pdfPath, format: "A4", printBackground: true });
const pdf = readFileSync(pdfPath, "latin1");
const pages = (pdf.match(/\/Type\s*\/Page[^s]/g) || []).length;
await browser.close();
console.log(
  JSON.stringify({ problems, figures, visible_figures, captions, cards, inputs, tables, sorted, pages }),
);
