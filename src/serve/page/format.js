// icb-impact explorer: the page's pure functions (no DOM, no state), imported by app.js and
// unit-tested under Node (tests/browser/format.test.mjs). The money and percent formatters
// write what the CLI writes (src/money.rs); a test holds the two to the same text.

/** `a` (positive, finite) to three significant figures as Rust's `{:.2e}` rounds it: to the
 * nearest, an exact tie to the even digit (JavaScript's toExponential rounds a tie up). Returns
 * the three digits and the decimal exponent. */
function threeFigures(a) {
  const [mant, expText] = a.toExponential(2).split("e");
  let digits = mant.replace(".", "");
  let exp = parseInt(expText, 10);
  // A tie has a short exact expansion, which toExponential(100) gives in full: d1 d2 d3 5 0 0 …
  const [exact, exactExp] = a.toExponential(100).split("e");
  const e = exact.replace(".", "");
  if (/^\d{3}50*$/.test(e) && Number(e[2]) % 2 === 0) {
    digits = e.slice(0, 3);
    exp = parseInt(exactExp, 10);
  }
  return [digits, exp];
}

/** Pounds with three significant figures, as the CLI writes them: £4.32m, £610k, £14.0m, −£40.0k. */
export function gbp(x) {
  if (x === null || x === undefined || x === "" || !Number.isFinite(Number(x))) return "–";
  x = Number(x);
  const sign = x < 0 ? "−" : "";
  const a = Math.abs(x);
  if (a === 0) return "£0";
  const [digits, exp] = threeFigures(a);
  const [unit, power] = exp >= 9 ? ["bn", 9] : exp >= 6 ? ["m", 6] : exp >= 3 ? ["k", 3] : ["", 0];
  const whole = exp - power + 1;
  let text;
  if (whole <= 0) text = "0." + "0".repeat(-whole) + digits;
  else if (whole >= digits.length) text = digits + "0".repeat(whole - digits.length);
  else text = digits.slice(0, whole) + "." + digits.slice(whole);
  return `${sign}£${text}${unit}`;
}

/** A difference with its sign: +£1.20m, −£40.0k. */
export const gbpSigned = (x) => (Number(x) > 0 ? "+" : "") + gbp(x);

/** A probability as the CLI writes it: 0%, under 1%, 37%, over 99%, 100%. */
export function percent(p) {
  if (p === null || p === undefined || p === "" || !Number.isFinite(Number(p))) return "–";
  p = Number(p);
  if (p <= 0) return "0%";
  if (p >= 1) return "100%";
  if (p < 0.01) return "under 1%";
  if (p > 0.99) return "over 99%";
  // Rounded as Rust's `{:.0}` rounds: an exact half to the even whole number.
  const v = 100 * p;
  const floor = Math.floor(v);
  const whole = v - floor === 0.5 ? floor + (floor % 2) : Math.round(v);
  return `${whole}%`;
}

export const thousands = (n) => Number(n).toLocaleString("en-GB");
export const secs = (x) => (x < 1 ? x.toFixed(2) : x.toFixed(1));
export const num = (v) => (v === null || v === undefined || v === "" ? NaN : Number(v));

/** A factor's name in words: share_of_contacts_above_25 → "Share of contacts above 25". */
export const ACRONYMS = { icb: "ICB", icbs: "ICBs", gp: "GP", gps: "GPs", ae: "A&E", ucc: "UCC", caip: "CAIP", nhs: "NHS", pcn: "PCN", ooh: "OOH", uec: "UEC", nhs111: "NHS 111" };
export function words(name) {
  const parts = String(name).split(".");
  const one = (part) => {
    const s = part.replace(/_gbp$/, " (£)").split("_").map((w) => ACRONYMS[w.toLowerCase()] || w).join(" ");
    return s.charAt(0).toUpperCase() + s.slice(1);
  };
  return parts.map((p, i) => (i === 0 ? one(p) : one(p).toLowerCase().replace(/\b(icb|gp|a&e|ucc|caip|nhs)\b/g, (w) => w.toUpperCase()))).join(": ");
}

/** Month arithmetic on "YYYY-MM". */
export function addMonths(ym, k) {
  const [y, m] = ym.split("-").map(Number);
  const t = y * 12 + (m - 1) + k;
  return `${Math.floor(t / 12)}-${String((t % 12) + 1).padStart(2, "0")}`;
}
export const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
export function monthName(ym) {
  const m = /^(\d{4})-(\d{2})$/.exec(String(ym));
  return m ? `${MONTHS[Number(m[2]) - 1]} ${m[1]}` : String(ym);
}

/** A number typed by a person: "2,000,000", "£1.5" and " 0.3 " read as numbers; "" as absent. */
export function readNumber(text) {
  const t = String(text).trim();
  if (t === "") return null;
  const cleaned = t.replace(/[,£\s]/g, "");
  const n = Number(cleaned);
  return cleaned !== "" && Number.isFinite(n) ? n : t; // not a number: sent as typed, the server says why
}

/** Four significant figures, for values the page proposes. */
export const round4 = (x) => (Number.isFinite(x) ? Number(x.toPrecision(4)) : x);

/** Which of data observed's files `text` is, by its header: "observations" (the figures of
 * --benchmarks-out), "monthly" (observed_monthly.csv) or null. */
export function observedFileKind(text) {
  const header = text.slice(0, text.search(/\r?\n|$/)).split(",").map((c) => c.trim().replace(/^"|"$/g, ""));
  if (header[0] === "id" && (header.includes("published") || header.includes("published_gbp"))) return "observations";
  if (header.includes("observed_gbp") && header.includes("counterfactual_gbp")) return "monthly";
  return null;
}
