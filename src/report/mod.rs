//! Briefings for people who read reports, not CSVs: a self-contained HTML report (inline SVG
//! charts, inline CSS, a few lines of inline script to sort tables; no network requests), a
//! one-page HTML briefing per ICB, and an Excel workbook (`xlsx`).

mod decision;
pub mod xlsx;

use std::fmt::Write as _;

use crate::chart::{self, short_icb_name, Chart};
use crate::data::IcbTable;
use crate::engine::Draws;
use crate::error::Result;
use crate::model::Model;
use crate::money::{gbp, gbp_full, ordinal, percent, pounds, reference_position};
use crate::provenance::{RunInfo, GENERATOR};
use crate::scenario::{Factor, Granularity, Override, Scenario, Vary};
use crate::summary::{BodyResult, RunSummary};

/// Everything a report shows.
pub struct Report<'a> {
    pub scenario: &'a Scenario,
    pub table: &'a IcbTable,
    pub summary: &'a RunSummary,
    pub info: &'a RunInfo,
    /// The charts of the run; the report shows those named in [`REPORT_CHARTS`], in that
    /// order.
    pub charts: &'a [Chart],
}

/// The charts a report shows, in order.
pub const REPORT_CHARTS: [&str; 7] = [
    "icb_costs",
    "distribution",
    "exceedance",
    "actions",
    "regions",
    "monthly",
    "convergence",
];

/// HTML-escapes text.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { --ink: #1d1d1b; --muted: #5f5f5f; --rule: #d9d9d9; --accent: #005eb8; --warn: #d55e00; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Segoe UI", Arial, sans-serif; color: var(--ink); margin: 0 auto; max-width: 1100px; padding: 24px; line-height: 1.45; }
h1 { font-size: 1.7rem; margin: 0 0 4px; }
h2 { font-size: 1.25rem; margin: 32px 0 8px; border-bottom: 2px solid var(--accent); padding-bottom: 4px; }
.sub { color: var(--muted); margin: 0 0 16px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(230px, 1fr)); gap: 12px; margin: 16px 0; }
.card { border: 1px solid var(--rule); border-left: 5px solid var(--accent); padding: 10px 14px; }
.card .v { font-size: 1.45rem; font-weight: bold; }
.card .l { color: var(--muted); font-size: 0.9rem; }
figure { margin: 16px 0 24px; }
figure svg { width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { color: var(--ink); font-size: 0.95rem; margin-top: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 0.88rem; margin: 8px 0 16px; }
th, td { border-bottom: 1px solid var(--rule); padding: 4px 6px; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th::after { content: " \21C5"; color: var(--muted); font-size: 0.75rem; }
.assumption { color: var(--warn); font-weight: bold; }
.note { font-size: 0.9rem; color: var(--muted); }
code { font-size: 0.85rem; }
@page { size: A4; margin: 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  figure, .card, tr { break-inside: avoid; }
  h2 { break-after: avoid; }
  table.sortable th::after { content: ""; }
}
"#;

/// Sorts a table by the clicked column: numbers by `data-value`, text otherwise.
const SORT_SCRIPT: &str = r#"
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var asc = th.getAttribute("data-order") !== "asc";
      table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("data-order"); });
      th.setAttribute("data-order", asc ? "asc" : "desc");
      var key = function (row) {
        var cell = row.cells[col], v = cell.getAttribute("data-value");
        return v === null ? cell.textContent : parseFloat(v);
      };
      var rows = Array.prototype.slice.call(table.tBodies[0].rows);
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var d = (typeof x === "number") ? x - y : String(x).localeCompare(String(y));
        return asc ? d : -d;
      });
      rows.forEach(function (r) { table.tBodies[0].appendChild(r); });
    });
  });
});
"#;

fn page(title: &str, body: &str, script: bool) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}",
        esc(title)
    );
    if script {
        let _ = writeln!(html, "<script>{SORT_SCRIPT}</script>");
    }
    html.push_str("</body>\n</html>\n");
    html
}

fn card(value: &str, label: &str) -> String {
    format!(
        "<div class=\"card\"><div class=\"v\">{}</div><div class=\"l\">{}</div></div>",
        esc(value),
        esc(label)
    )
}

fn money_cell(x: f64) -> String {
    format!(
        "<td class=\"n\" data-value=\"{x:.2}\">{}</td>",
        esc(&gbp(x))
    )
}

/// One sentence per chart, written from the numbers.
pub fn caption(name: &str, scenario: &Scenario, s: &RunSummary) -> String {
    let reference = gbp(s.reference_gbp);
    match name {
        "icb_costs" => {
            let top = s.icbs.iter().max_by(|a, b| a.cost.mean.total_cmp(&b.cost.mean)).expect("ICBs");
            format!(
                "{} of {} ICBs have a mean cost above {reference}; the costliest, {}, averages {} (90% interval {} to {}).",
                s.icbs_mean_above_reference,
                s.icbs.len(),
                short_icb_name(&top.name),
                gbp(top.cost.mean),
                gbp(top.cost.p05),
                gbp(top.cost.p95)
            )
        }
        "distribution" => format!(
            "In 9 of 10 simulated futures the average ICB loses between {} and {}; the {reference} reference is {}.",
            gbp(s.per_icb_average.p05),
            gbp(s.per_icb_average.p95),
            reference_position(s.reference_percentile)
        ),
        "exceedance" => format!(
            "The chance that the average ICB's cost exceeds {reference} is {}; for a single ICB, taken at random, it is {}.",
            percent(s.prob_average_above_reference),
            percent(s.icbs.iter().map(|r| r.prob_above_reference).sum::<f64>() / s.icbs.len() as f64)
        ),
        "actions" => {
            let top = s.actions.iter().max_by(|a, b| a.cost.mean.total_cmp(&b.cost.mean)).expect("actions");
            format!(
                "{} contributes {:.0}% of the national cost ({} of {} on average).",
                top.label,
                100.0 * top.cost.mean / s.national.mean,
                gbp(top.cost.mean),
                gbp(s.national.mean)
            )
        }
        "regions" => match s.regions.iter().max_by(|a, b| a.cost.mean.total_cmp(&b.cost.mean)) {
            Some(top) => format!(
                "{} carries the largest regional cost, {} on average across its {} ICBs ({:.0}% of the national total).",
                top.name,
                gbp(top.cost.mean),
                top.icbs,
                100.0 * top.cost.mean / s.national.mean
            ),
            None => "The ICB table has no regions.".to_string(),
        },
        "monthly" => {
            let last = s.monthly.last().expect("months");
            format!(
                "By {} the national cost reaches {} on average (90% interval {} to {}), over the {} months from {}.",
                last.month,
                gbp(last.cumulative.mean),
                gbp(last.cumulative.p05),
                gbp(last.cumulative.p95),
                scenario.months,
                scenario.start
            )
        }
        "convergence" => match s.trace.last() {
            Some(t) => format!(
                "After {} iterations the national mean is known to within ±{} (95%; relative standard error {:.2}%).",
                t.iterations,
                gbp(1.96 * t.mcse_mean),
                100.0 * t.rse
            ),
            None => String::new(),
        },
        _ => String::new(),
    }
}

/// The full report of a run.
pub fn html(r: &Report) -> String {
    let (sc, s) = (r.scenario, r.summary);
    let mut b = String::new();
    let _ = write!(
        b,
        "<header><h1>{}</h1><p class=\"sub\">{} · {} · {} simulated futures · seed {}</p>",
        esc(&sc.name),
        sc.period(),
        esc(sc.cost_view.describe()),
        s.iterations,
        sc.seed
    );
    if !sc.description.is_empty() {
        let _ = write!(b, "<p>{}</p>", esc(&sc.description));
    }
    b.push_str("</header>\n<section id=\"headline\"><h2>Headline</h2><div class=\"cards\">");
    let n = &s.national;
    let average_prob =
        s.icbs.iter().map(|i| i.prob_above_reference).sum::<f64>() / s.icbs.len() as f64;
    b.push_str(&card(
        &gbp(n.mean),
        &format!(
            "national cost, mean (90% interval {} to {}){}",
            gbp(n.p05),
            gbp(n.p95),
            if s.calibrated.is_some() {
                ", calibrated"
            } else {
                ""
            }
        ),
    ));
    if let Some(c) = &s.calibrated {
        b.push_str(&card(
            &gbp(c.prior_national.mean),
            &format!(
                "national cost on the priors, before calibration (90% interval {} to {})",
                gbp(c.prior_national.p05),
                gbp(c.prior_national.p95)
            ),
        ));
    }
    b.push_str(&card(
        &gbp(s.per_icb_average.mean),
        &format!(
            "mean cost per ICB, against the {} reference ({})",
            gbp(s.reference_gbp),
            sc.reference.label
        ),
    ));
    b.push_str(&card(
        &percent(average_prob),
        &format!("probability an ICB's cost exceeds {}", gbp(s.reference_gbp)),
    ));
    b.push_str(&card(
        &format!("{} of {}", s.icbs_mean_above_reference, s.icbs.len()),
        &format!("ICBs whose mean cost exceeds {}", gbp(s.reference_gbp)),
    ));
    let _ = write!(
        b,
        "</div><p class=\"note\">Costs are {} over {} to {}. Every figure is a Monte Carlo estimate: the national mean carries a standard error of {}.",
        esc(sc.cost_view.describe()),
        sc.start,
        sc.end(),
        gbp(n.mcse_mean)
    );
    if let Some(c) = &s.calibrated {
        let _ = write!(
            b,
            " <span id=\"calibrated\">Calibrated: the national factors are drawn from the posterior of a calibration to published figures ({}, effective sample size {:.0}), not from their priors; on the priors the mean cost per ICB is {}.</span>",
            esc(&c.posterior),
            c.ess,
            gbp(c.prior_per_icb_average.mean)
        );
    }
    b.push_str("</p></section>\n");
    b.push_str("<section id=\"charts\"><h2>Charts</h2>");
    let shown = REPORT_CHARTS
        .iter()
        .filter_map(|name| r.charts.iter().find(|c| c.name == *name));
    for Chart { name, svg } in shown {
        let _ = writeln!(
            b,
            "<figure id=\"chart-{name}\">{}<figcaption>{}</figcaption></figure>",
            strip_xml_header(svg),
            esc(&caption(name, sc, s))
        );
    }
    b.push_str("</section>\n");
    b.push_str(&cost_of_delay(r));
    b.push_str(&decision::section(r));
    b.push_str(&icb_table(r));
    b.push_str(&region_table(s));
    b.push_str(&body_table(s));
    b.push_str(&former_table(s));
    b.push_str(&activity_table(s));
    b.push_str(&assumptions(sc));
    b.push_str(&model_in_brief(sc));
    b.push_str(&caveats(sc, s));
    b.push_str(&manifest(r));
    page(&format!("{} — icb-impact report", sc.name), &b, true)
}

/// The cost of delay, when the run computed it (`run --settlement`): its chart and what one
/// more month costs.
fn cost_of_delay(r: &Report) -> String {
    let (Some(st), Some(chart)) = (
        &r.summary.settlement,
        r.charts.iter().find(|c| c.name == "settlement"),
    ) else {
        return String::new();
    };
    let sc = r.scenario;
    let last = st.rows.last().expect("at least one settlement month");
    let mut b = String::from("<section id=\"settlement\"><h2>The cost of delay</h2>");
    let _ = write!(
        b,
        "<figure id=\"chart-settlement\">{}<figcaption>{}</figcaption></figure>",
        strip_xml_header(&chart.svg),
        esc(&format!(
            "If every action ended in a given month (fading afterwards as each action's recovery says), the national cost over {} to {} would be as shown; settled in {}, {}.",
            sc.start,
            sc.end(),
            last.month,
            gbp(last.national.mean)
        ))
    );
    if let (Some(m), Some(marginal)) = (st.mean_marginal, &last.marginal) {
        let _ = write!(
            b,
            "<p>Each month without a settlement costs {} on average nationally ({} per ICB); the last month of the horizon, {} (90% interval {} to {}). Every settlement month uses the same draws, so these are paired differences. Costs after {} are not counted.</p>",
            gbp(m),
            gbp(m / r.table.len() as f64),
            gbp(marginal.mean),
            gbp(marginal.p05),
            gbp(marginal.p95),
            sc.end()
        );
    }
    b.push_str("</section>\n");
    b
}

fn strip_xml_header(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |k| &svg[k..])
}

fn icb_table(r: &Report) -> String {
    let s = r.summary;
    let mut b = String::from(
        "<section id=\"icbs\"><h2>ICBs</h2><p class=\"note\">Click a column heading to sort.</p>\
         <table class=\"sortable\" id=\"icb-table\"><thead><tr><th>Code</th><th>ICB</th><th>Region</th>\
         <th class=\"n\">Mean</th><th class=\"n\">5th percentile</th><th class=\"n\">95th percentile</th>\
         <th class=\"n\">P(above reference)</th></tr></thead><tbody>",
    );
    for icb in &s.icbs {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td>{}{}{}<td class=\"n\" data-value=\"{p}\">{}</td></tr>",
            esc(&icb.code),
            esc(short_icb_name(&icb.name)),
            esc(&icb.region),
            money_cell(icb.cost.mean),
            money_cell(icb.cost.p05),
            money_cell(icb.cost.p95),
            percent(icb.prob_above_reference),
            p = icb.prob_above_reference
        );
    }
    b.push_str("</tbody></table></section>\n");
    b
}

fn region_table(s: &RunSummary) -> String {
    if s.regions.is_empty() {
        return String::new();
    }
    let mut b = String::from(
        "<section id=\"regions\"><h2>Regional roll-up</h2><table class=\"sortable\" id=\"region-table\"><thead><tr>\
         <th>Region</th><th class=\"n\">ICBs</th><th class=\"n\">Mean</th><th class=\"n\">5th percentile</th>\
         <th class=\"n\">95th percentile</th></tr></thead><tbody>",
    );
    for r in &s.regions {
        let _ = write!(
            b,
            "<tr><td>{}</td><td class=\"n\" data-value=\"{}\">{}</td>{}{}{}</tr>",
            esc(&r.name),
            r.icbs,
            r.icbs,
            money_cell(r.cost.mean),
            money_cell(r.cost.p05),
            money_cell(r.cost.p95)
        );
    }
    let _ = writeln!(
        b,
        "</tbody><tfoot><tr><th>England</th><th class=\"n\">{}</th>{}{}{}</tr></tfoot></table></section>",
        s.icbs.len(),
        money_cell(s.national.mean),
        money_cell(s.national.p05),
        money_cell(s.national.p95)
    );
    b
}

/// What the model expects to see in the data: each activity's national change over the
/// horizon, and where it is published, when the scenario's lines count any.
fn activity_table(s: &RunSummary) -> String {
    if s.activity.is_empty() {
        return String::new();
    }
    let mut b = String::from(
        "<section id=\"activity\"><h2>What the model expects to see in the data</h2>\
         <p>The activity the actions add (or, negative, remove) nationally over the period, counted by the same \
         draws as the costs: set it against the published series named beside it (benchmark and calibrate \
         do so for the observations in the benchmarks table).</p>\
         <table class=\"sortable\" id=\"activity-table\"><thead><tr><th>Activity</th>\
         <th class=\"n\">Mean</th><th class=\"n\">5th percentile</th><th class=\"n\">95th percentile</th>\
         <th>Published in</th></tr></thead><tbody>",
    );
    for a in &s.activity {
        let known = crate::activities::find(&a.name);
        let cell = |x: f64| {
            format!(
                "<td class=\"n\" data-value=\"{x:.1}\">{}</td>",
                crate::money::count_short(x)
            )
        };
        let _ = write!(
            b,
            "<tr><td>{}</td>{}{}{}<td>{}</td></tr>",
            esc(known.map_or(a.name.as_str(), |k| k.label)),
            cell(a.national.mean),
            cell(a.national.p05),
            cell(a.national.p95),
            esc(known.map_or("", |k| k.published_in))
        );
    }
    b.push_str("</tbody></table></section>\n");
    b
}

/// The bodies of the scenario's ICB map, when it has one.
fn body_table(s: &RunSummary) -> String {
    group_section(
        &s.bodies,
        [
            "bodies",
            "The ICBs as reconfigured",
            "body-table",
            "Body",
            "Former ICBs",
        ],
        "Each body's cost is the sum, in every simulated future, of its former ICBs' costs \
         (times the share of an ICB that was split).",
    )
}

/// With a footprint, the ICBs of the table it rebuilt.
fn former_table(s: &RunSummary) -> String {
    group_section(
        &s.former,
        [
            "former",
            "The ICBs before the footprint",
            "former-table",
            "ICB",
            "Part of",
        ],
        "The run is on the footprint's ICBs. For continuity with figures of the ICBs it replaced, \
         each of those is given, in every simulated future, its part of the bodies its practices \
         are in, by registered patients (the share of each body's patients that were its own). \
         That is exact for costs that follow patients and an apportionment for those that \
         follow prescribing or practices: a figure of a replaced ICB is not compared with it.",
    )
}

/// A table of sums of the run's ICBs, under `[section id, title, table id, name header,
/// members header]`; nothing when there are none.
fn group_section(rows: &[BodyResult], names: [&str; 5], intro: &str) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let [id, title, table, name, members] = names;
    let mut b = format!(
        "<section id=\"{id}\"><h2>{title}</h2><p>{intro}</p>\
         <table class=\"sortable\" id=\"{table}\"><thead><tr><th>Code</th><th>{name}</th><th>{members}</th>\
         <th class=\"n\">Mean</th><th class=\"n\">5th percentile</th><th class=\"n\">95th percentile</th></tr></thead><tbody>",
    );
    for row in rows {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td>{}{}{}</tr>",
            esc(&row.code),
            esc(short_icb_name(&row.name)),
            esc(&row.members_text()),
            money_cell(row.cost.mean),
            money_cell(row.cost.p05),
            money_cell(row.cost.p95)
        );
    }
    b.push_str("</tbody></table></section>\n");
    b
}

fn factor_row(b: &mut String, action: &str, f: &Factor) {
    let _ = write!(
        b,
        "<tr><td>{}</td><td><code>{}</code></td><td>{}{}</td><td>{}</td><td>{}{}</td></tr>",
        esc(action),
        esc(&f.name),
        esc(&f.describe()),
        f.baseline.as_ref().map_or(String::new(), |x| format!(
            ", net of {}",
            esc(&x.dist.spec().describe())
        )),
        if f.vary == Vary::Icb {
            "each ICB"
        } else {
            "national"
        },
        if f.assumption {
            "<span class=\"assumption\">Assumption.</span> "
        } else {
            ""
        },
        esc(f.source.as_deref().unwrap_or("not given"))
    );
}

fn assumptions(sc: &Scenario) -> String {
    let mut b = String::from(
        "<section id=\"assumptions\"><h2>Assumptions</h2><p class=\"note\">Every factor of the scenario, its distribution in words, \
         whether it varies by ICB, and its source. Figures no one has published are marked as assumptions.</p>\
         <table id=\"assumption-table\"><thead><tr><th>Action</th><th>Factor</th><th>Distribution</th><th>Varies</th><th>Source</th></tr></thead><tbody>",
    );
    for (label, f) in sc.labelled_factors() {
        factor_row(&mut b, label, f);
    }
    for (label, f, o) in sc.own_inputs() {
        let _ = write!(
            b,
            "<tr class=\"own-input\"><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(label),
            esc(&f.name),
            esc(&o.dist.spec().describe()),
            esc(&own_input(o)),
            esc(o.source.as_deref().unwrap_or("not given"))
        );
    }
    b.push_str("</tbody></table></section>\n");
    b
}

/// Where an override applies, for the assumptions tables: `QU9 only (its own input)`.
pub fn own_input(o: &Override) -> String {
    format!("{} only (its own input)", o.icb)
}

fn model_in_brief(sc: &Scenario) -> String {
    format!(
        "<section id=\"model\"><h2>The model in brief</h2><p>Each action's cost to an ICB in a month is a driver of the ICB \
         (registered patients, practices or prescribing spend) times the action's factors (shares, rates, unit costs) times a \
         time weight for how far the action has built up, divided by 12 because factors are annual: \
         <code>cost(i, m) = driver<sub>i</sub> × Π factors × w(m) / 12</code>. An ICB's cost is the sum over actions, cost \
         lines and the {} months from {}. Uncertain factors are drawn {} times; national factors are one draw shared by all \
         ICBs (uncertainty about the world), ICB-level factors a draw per ICB. Every draw comes from a random stream keyed by \
         the seed, the iteration, the ICB and the factor, so the same inputs always give the same numbers.{}{}</p></section>\n",
        sc.months, sc.start, sc.iterations,
        match sc.granularity {
            Granularity::Practice => " Whether each practice takes part in an action is drawn practice by practice, with \
                                      probability the share of practices taking part; an ICB's cost sums its practices' shares.",
            Granularity::Icb => "",
        },
        recoveries(sc)
    )
}

/// A sentence for each action whose effect outlasts its end (its own recovery, or its first
/// cost line's), for the model in brief.
fn recoveries(sc: &Scenario) -> String {
    let mut text = String::new();
    for a in &sc.actions {
        let recovery = a
            .timing
            .recovery
            .as_ref()
            .or_else(|| a.costs.iter().find_map(|c| c.timing.recovery.as_ref()));
        if let (Some(end), Some(r)) = (a.timing.end, recovery) {
            let _ = write!(
                text,
                " {} ends in {end}, but its effect fades rather than stopping ({}, as shares of its effect in {end}), \
                 so settling does not stop the cost at once.",
                esc(&a.label),
                esc(&r.describe())
            );
        }
    }
    text
}

fn caveats(sc: &Scenario, s: &RunSummary) -> String {
    let mut b = format!(
        "<section id=\"caveats\"><h2>Caveats</h2><ul>\
         <li>Prescribing spend per ICB is an estimate (the national total shared by need-weighted population), good to perhaps ±20%.</li>\
         <li>The reference figure is what ICBs told an FOI they expected; the ICBs that disclosed a cost were those that had one, \
         and 19 of 42 had made no assessment.</li>\
         <li>Many parameters are assumptions where nothing has been published; they are marked in the table above and drive much of the spread.</li>\
         <li>{}</li>",
        match (s.former.is_empty(), s.bodies.is_empty()) {
            (false, _) => format!(
                "The {} ICBs of the scenario's footprint are simulated, each built from its practices; the {} ICBs they replaced are shown above as apportioned parts of them.",
                s.icbs.len(),
                s.former.len()
            ),
            (true, bodies) => format!(
                "The {} ICBs of the table are simulated throughout (the shipped table's are those of 2022), including after the April 2026 mergers{}.",
                s.icbs.len(),
                match bodies {
                    true => "",
                    false => "; the reconfigured bodies above add up their former ICBs",
                }
            ),
        }
    );
    for w in s.warnings() {
        let _ = write!(b, "<li>{}</li>", esc(&w));
    }
    let _ = writeln!(
        b,
        "<li>Cost view: {}.</li></ul></section>",
        esc(sc.cost_view.describe())
    );
    b
}

/// What made the numbers: tool, generator, inputs and their hashes, seed, iterations, view.
pub fn manifest_rows(r: &Report) -> [(&'static str, String); 9] {
    [
        (
            "Tool",
            format!("{} {}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")),
        ),
        ("Random generator", GENERATOR.to_string()),
        ("Scenario", r.info.scenario_path.display().to_string()),
        ("Scenario SHA-256", r.info.scenario.sha256.clone()),
        ("ICB table", r.table.file.source.clone()),
        ("ICB table SHA-256", r.table.file.sha256.clone()),
        ("Seed", r.scenario.seed.to_string()),
        ("Iterations", r.summary.iterations.to_string()),
        ("Cost view", r.scenario.cost_view.as_str().to_string()),
    ]
}

fn manifest(r: &Report) -> String {
    let rows = manifest_rows(r);
    let mut b = String::from(
        "<section id=\"manifest\"><h2>Manifest</h2><table id=\"manifest-table\"><tbody>",
    );
    for (k, v) in rows {
        let _ = write!(
            b,
            "<tr><th>{}</th><td><code>{}</code></td></tr>",
            esc(k),
            esc(&v)
        );
    }
    b.push_str("</tbody></table></section>\n");
    b
}

/// A one-page briefing for ICB `icb` (index in the table): its distribution against the
/// reference, its cost by action, its expected monthly path, its national rank and its own
/// inputs.
pub fn one_pager(r: &Report, model: &Model, draws: &Draws, icb: usize) -> Result<String> {
    let (sc, s) = (r.scenario, r.summary);
    let me = &s.icbs[icb];
    let rank = 1 + s.icbs.iter().filter(|o| o.cost.mean > me.cost.mean).count();
    let values = draws.icb(icb);
    let monthly = crate::sensitivity::expected_monthly(model, icb);
    let by_action: Vec<(String, f64, f64, f64)> = s
        .icb_actions
        .iter()
        .filter(|a| a.icb == icb)
        .map(|a| {
            (
                sc.actions[a.action].label.clone(),
                a.cost.mean,
                a.cost.p05,
                a.cost.p95,
            )
        })
        .collect();
    let subtitle = format!(
        "{}: {} to {}, {}",
        sc.name,
        sc.start,
        sc.end(),
        sc.cost_view.describe()
    );
    let charts = [
        (
            "distribution",
            chart::icb_distribution_svg(
                me,
                &values,
                s.reference_gbp,
                &sc.reference.label,
                &subtitle,
            )?,
        ),
        ("actions", chart::icb_actions_svg(me, &by_action)?),
        (
            "monthly",
            chart::icb_monthly_svg(me, sc, &monthly, &subtitle)?,
        ),
    ];
    let mut b = String::new();
    let _ = write!(
        b,
        "<header><h1>{} ({})</h1><p class=\"sub\">{} · {} · {} · {} simulated futures</p></header>\
         <div class=\"cards\">{}{}{}{}</div>",
        esc(short_icb_name(&me.name)),
        esc(&me.code),
        esc(&sc.name),
        sc.period(),
        esc(sc.cost_view.describe()),
        s.iterations,
        card(
            &gbp(me.cost.mean),
            &format!(
                "mean cost (90% interval {} to {})",
                gbp(me.cost.p05),
                gbp(me.cost.p95)
            )
        ),
        card(
            &percent(me.prob_above_reference),
            &format!(
                "probability the cost exceeds {} ({})",
                gbp(s.reference_gbp),
                sc.reference.label
            )
        ),
        card(
            &format!("{} of {}", ordinal(rank as u32), s.icbs.len()),
            "rank by mean cost nationally (1st = costliest)"
        ),
        card(
            &format!("{:.1}%", 100.0 * me.cost.mean / s.national.mean),
            &format!("of the national cost ({})", gbp(s.national.mean))
        ),
    );
    let top_action = by_action.iter().max_by(|a, b| a.1.total_cmp(&b.1));
    let captions = [
        format!(
            "In 9 of 10 simulated futures {} loses between {} and {}; the {} reference is {}.",
            short_icb_name(&me.name),
            gbp(me.cost.p05),
            gbp(me.cost.p95),
            gbp(s.reference_gbp),
            reference_position(crate::stats::percentile_of(&values, s.reference_gbp))
        ),
        match top_action {
            Some((label, mean, _, _)) => format!(
                "{label} is the largest cost: {} of {} on average.",
                gbp(*mean),
                gbp(me.cost.mean)
            ),
            None => String::new(),
        },
        format!(
            "The expected cost builds up to {} by {}.",
            gbp(monthly.iter().sum::<f64>()),
            sc.end()
        ),
    ];
    for ((name, svg), text) in charts.iter().zip(captions) {
        let _ = write!(
            b,
            "<figure id=\"chart-{name}\">{}<figcaption>{}</figcaption></figure>",
            strip_xml_header(svg),
            esc(&text)
        );
    }
    b.push_str("<h2>This ICB's inputs</h2><table id=\"inputs-table\"><tbody>");
    let _ = write!(b, "<tr><th>Region</th><td>{}</td></tr>", esc(&me.region));
    for (column, label, money) in [
        ("registered_patients", "Registered patients", false),
        ("gp_practices", "GP practices", false),
        (
            "prescribing_cost_gbp",
            "Prescribing spend a year (estimate)",
            true,
        ),
    ] {
        if let Some(v) = r.table.numeric(column) {
            let text = if money {
                gbp_full(v[icb])
            } else {
                pounds(v[icb])
            };
            let _ = write!(b, "<tr><th>{label}</th><td class=\"n\">{text}</td></tr>");
        }
    }
    for o in sc
        .overrides
        .iter()
        .filter(|o| o.icb.eq_ignore_ascii_case(&me.code))
    {
        let _ = write!(
            b,
            "<tr class=\"own-input\"><th>Its own <code>{}</code></th><td>{} (source: {})</td></tr>",
            esc(&o.factor),
            esc(&o.dist.spec().describe()),
            esc(o.source.as_deref().unwrap_or("not given"))
        );
    }
    b.push_str("</tbody></table>");
    b.push_str(&decision::one_pager_section(r, icb)?);
    b.push_str(&assumptions(sc));
    b.push_str(&manifest(r));
    Ok(page(&format!("{} — {}", me.code, sc.name), &b, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc("<b>\"A&B\" 'c'</b>"),
            "&lt;b&gt;&quot;A&amp;B&quot; &#39;c&#39;&lt;/b&gt;"
        );
    }
}
