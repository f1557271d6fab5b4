//! The decision section of the briefing and of a one-pager: each option's expected cost, the
//! probability it is the cheapest, the saving against `none`, the EVPI and what each factor
//! would be worth to learn first.

use std::fmt::Write as _;

use super::{esc, money_cell, strip_xml_header, Report};
use crate::chart::{self, short_icb_name, Chart};
use crate::decide::Decision;
use crate::error::Result;
use crate::money::{gbp, percent};

/// The factors a section names as worth learning first.
const TOP_FACTORS: usize = 5;

/// The table of the options open in scope `scope`.
fn options_table(d: &Decision, scope: usize, id: &str) -> String {
    let s = &d.scopes[scope];
    let mut b = format!(
        "<table class=\"sortable\" id=\"{id}\"><thead><tr><th>Option</th>\
         <th class=\"n\">Expected cost</th><th class=\"n\">5th percentile</th><th class=\"n\">95th percentile</th>\
         <th class=\"n\">Probability best</th><th class=\"n\">Saving against none</th><th class=\"n\">± MCSE</th></tr></thead><tbody>"
    );
    for (k, o) in s.options.iter().enumerate() {
        let choice = &d.options[o.option];
        let _ = write!(
            b,
            "<tr{}><td>{}{} <code>{}</code></td>{}{}{}<td class=\"n\" data-value=\"{p}\">{}</td>{}{}</tr>",
            if k == s.best { " class=\"best\"" } else { "" },
            if k == s.best { "★ " } else { "" },
            esc(&choice.label),
            esc(&choice.id),
            money_cell(o.cost.mean),
            money_cell(o.cost.p05),
            money_cell(o.cost.p95),
            percent(o.prob_best),
            money_cell(o.saving.value),
            money_cell(o.saving.se),
            p = o.prob_best
        );
    }
    b.push_str("</tbody></table>");
    b
}

/// What the best option is in scope `scope`, what it saves, and the EVPI, in words; `who`
/// names the scope ("England", an ICB's short name).
fn verdict(d: &Decision, scope: usize, who: &str) -> String {
    let s = &d.scopes[scope];
    let best = &s.options[s.best];
    let choice = &d.options[best.option];
    let mut text = match s.best {
        0 => format!(
            "For {who}, no option lowers the expected cost: the scenario as it stands costs {} and is the cheapest in {} of the simulated futures.",
            gbp(best.cost.mean),
            percent(best.prob_best)
        ),
        _ => format!(
            "For {who}, “{}” has the lowest expected cost, {}: it saves {} on average against the scenario as it stands (Monte Carlo standard error {}) and is the cheapest in {} of the simulated futures.",
            choice.label,
            gbp(best.cost.mean),
            gbp(best.saving.value),
            gbp(best.saving.se),
            percent(best.prob_best)
        ),
    };
    let _ = write!(
        text,
        " Knowing every uncertain input before deciding would be worth {} (the expected value of perfect information, EVPI; standard error {}).",
        gbp(s.evpi.value),
        gbp(s.evpi.se)
    );
    text
}

/// The factors most worth learning in scope `scope`, as a list of sentences.
fn worth_learning(d: &Decision, scope: usize, who: &str) -> String {
    let rows: Vec<_> = d
        .evppi_of(scope)
        .into_iter()
        .filter(|e| e.value.value > 0.0)
        .take(TOP_FACTORS)
        .collect();
    if rows.is_empty() {
        return format!(
            "<p>No single factor is worth learning before deciding for {}: one option is the cheapest whatever its value.</p>",
            esc(who)
        );
    }
    let mut b = String::from("<ul class=\"evppi\">");
    for e in rows {
        let _ = write!(
            b,
            "<li>Learning “{}”{} would be worth {} to {} before deciding (EVPPI, standard error {}).</li>",
            esc(&e.label),
            if e.group { " (together)" } else { "" },
            esc(&gbp(e.value.value)),
            esc(who),
            esc(&gbp(e.value.se))
        );
    }
    b.push_str("</ul>");
    b
}

/// The briefing's decision section, when the run decided (`run --decide`): the national
/// table, verdict and charts, what is worth learning, and the best option in every ICB.
pub(super) fn section(r: &Report) -> String {
    let Some(d) = &r.summary.decision else {
        return String::new();
    };
    let mut b =
        String::from("<section id=\"decision\"><h2>Decision: what ICBs can do about it</h2>");
    let _ = write!(
        b,
        "<p>Each option is the scenario with some of its factors set to other values and cost lines of its own (what the option costs), run on the same {} simulated futures as the scenario as it stands (<code>none</code>), so every difference is paired. Costs are {}.</p>",
        d.iterations,
        esc(r.scenario.cost_view.describe())
    );
    b.push_str(&options_table(d, 0, "decision-table"));
    let _ = write!(
        b,
        "<p id=\"decision-verdict\">{}</p>",
        esc(&verdict(d, 0, "England"))
    );
    for name in ["decision_costs", "decision_prob_best", "decision_evppi"] {
        if let Some(Chart { svg, .. }) = r.charts.iter().find(|c| c.name == name) {
            let caption = match name {
                "decision_costs" => "Expected cost with each option taken (the scenario's cost plus the option's own), with its 90% interval.",
                "decision_prob_best" => "Share of the simulated futures in which each option is the cheapest.",
                _ => "What learning each factor (or group of factors) before deciding would be worth: the expected value of partial perfect information, estimated by nonparametric regression on the same draws (Strong, Oakley & Brennan 2014), with ±1.96 standard errors; the line is the EVPI.",
            };
            let _ = write!(
                b,
                "<figure id=\"chart-{name}\">{}<figcaption>{}</figcaption></figure>",
                strip_xml_header(svg),
                esc(caption)
            );
        }
    }
    b.push_str("<h3>Worth learning first</h3>");
    b.push_str(&worth_learning(d, 0, "England"));
    b.push_str(
        "<h3>The best option in each ICB</h3><p class=\"note\">An option one ICB takes is open in that ICB alone. Click a column heading to sort.</p>\
         <table class=\"sortable\" id=\"decision-icb-table\"><thead><tr><th>Code</th><th>ICB</th><th>Best option</th>\
         <th class=\"n\">Expected cost</th><th class=\"n\">Saving against none</th><th class=\"n\">Probability best</th>\
         <th class=\"n\">EVPI</th><th>Worth most to learn</th></tr></thead><tbody>",
    );
    for (k, s) in d.scopes.iter().enumerate().skip(1) {
        let best = &s.options[s.best];
        let top = d.evppi_of(k).into_iter().find(|e| e.value.value > 0.0);
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td>{}{}<td class=\"n\" data-value=\"{p}\">{}</td>{}<td>{}</td></tr>",
            esc(&s.code),
            esc(short_icb_name(&s.name)),
            esc(&d.options[best.option].id),
            money_cell(best.cost.mean),
            money_cell(best.saving.value),
            percent(best.prob_best),
            money_cell(s.evpi.value),
            top.map_or(String::from("nothing"), |e| format!(
                "{} ({})",
                esc(&e.label),
                esc(&gbp(e.value.value))
            )),
            p = best.prob_best
        );
    }
    b.push_str("</tbody></table></section>\n");
    b
}

/// A one-pager's decision section for ICB `icb` (table index), when the run decided.
pub(super) fn one_pager_section(r: &Report, icb: usize) -> Result<String> {
    let Some(d) = &r.summary.decision else {
        return Ok(String::new());
    };
    let scope = icb + 1;
    let s = &d.scopes[scope];
    let who = short_icb_name(&s.name);
    let mut b = String::from("<section id=\"decision\"><h2>Decision: what this ICB can do</h2>");
    b.push_str(&options_table(d, scope, "decision-table"));
    let _ = write!(
        b,
        "<p id=\"decision-verdict\">{}</p>",
        esc(&verdict(d, scope, who))
    );
    let charts = chart::decision_charts(r.scenario, d, scope)?;
    if let Some(c) = charts.iter().find(|c| c.name == "decision_costs") {
        let _ = write!(
            b,
            "<figure id=\"chart-decision_costs\">{}<figcaption>{}</figcaption></figure>",
            strip_xml_header(&c.svg),
            esc("Expected cost to this ICB with each option taken, with its 90% interval.")
        );
    }
    b.push_str(&worth_learning(d, scope, who));
    b.push_str("</section>");
    Ok(b)
}
