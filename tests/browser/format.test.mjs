// The explorer's pure functions (src/serve/page/format.js) under Node's test runner, and the
// money and percent formatters against the CLI's own text: CASES (a JSON list of
// {"fn": "gbp" | "percent", "x": number, "cli": text}, written by the Rust test from
// src/money.rs) must give the same text in the page.
// Usage: CASES=cases.json node --test tests/browser/format.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { gbp, percent, addMonths, monthName, readNumber, observedFileKind, words, round4 } from "../../src/serve/page/format.js";

test("gbp and percent write what the CLI writes", () => {
  const path = process.env.CASES;
  assert.ok(path, "CASES names the CLI's cases");
  const cases = JSON.parse(readFileSync(path, "utf8"));
  assert.ok(cases.length > 100, `${cases.length} cases`);
  const fns = { gbp, percent };
  const wrong = cases.filter((c) => fns[c.fn](c.x) !== c.cli).map((c) => `${c.fn}(${c.x}): page ${fns[c.fn](c.x)}, CLI ${c.cli}`);
  assert.deepEqual(wrong, []);
});

test("what is not a number is shown as a dash", () => {
  for (const x of [null, undefined, "", "abc", NaN, Infinity]) {
    assert.equal(gbp(x), "–");
    assert.equal(percent(x), "–");
  }
});

test("months add across years and read as words", () => {
  assert.equal(addMonths("2026-11", 3), "2027-02");
  assert.equal(addMonths("2026-01", -1), "2025-12");
  assert.equal(monthName("2026-06"), "Jun 2026");
  assert.equal(monthName("June"), "June");
});

test("numbers typed by a person", () => {
  assert.equal(readNumber(" 2,000,000 "), 2000000);
  assert.equal(readNumber("£1.5"), 1.5);
  assert.equal(readNumber(""), null);
  assert.equal(readNumber("lots"), "lots");
  assert.equal(round4(1234.5678), 1235);
});

test("data observed's two files are told apart by their header", () => {
  assert.equal(observedFileKind("id,label,published,published_sd\nx,y,1,2\n"), "observations");
  assert.equal(observedFileKind("month,icb_code,observed_gbp,counterfactual_gbp\r\n"), "monthly");
  assert.equal(observedFileKind("\"id\",\"label\",\"published_gbp\"\n"), "observations");
  assert.equal(observedFileKind("code,name\n"), null);
});

test("factor names in words", () => {
  assert.equal(words("share_of_contacts_above_25"), "Share of contacts above 25");
  assert.equal(words("actions.contact_cap.cost_per_gp_gbp"), "Actions: contact cap: cost per GP (£)");
});
