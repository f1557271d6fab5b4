//! The text the commands print on stdout.

use std::path::Path;

use crate::benchmark::Comparison;
use crate::calibrate::{moved, Interval, CUTOFF, MIN_ESS};
use crate::money::{gbp, in_unit, percent, reference_position, thousands};
use crate::pipeline::{Calibrated, ComparedRuns, Decided, Prepared, SensitivityRun, Settled};
use crate::price::{self, Deflators};
use crate::scenario::{Factor, Granularity, Scenario, Uprating, NO_OPTION};
use crate::sensitivity::SobolRow;
use crate::summary::RunSummary;

/// The summary `run` prints.
pub fn run_summary(scenario: &Scenario, s: &RunSummary, out: &Path) -> String {
    let mut text = String::new();
    let n = &s.national;
    let a = &s.per_icb_average;
    outln!(
        text,
        "{}: {}, {}, {} iterations, seed {}{}",
        scenario.name,
        scenario.period(),
        scenario.cost_view.describe(),
        s.iterations,
        scenario.seed,
        match scenario.granularity {
            Granularity::Practice => ", practice by practice",
            Granularity::Icb => "",
        }
    );
    outln!(
        text,
        "National cost:  mean {} ± {} (90% interval {} ± {} to {} ± {})",
        gbp(n.mean),
        gbp(n.mcse_mean),
        gbp(n.p05),
        gbp(n.mcse_p05),
        gbp(n.p95),
        gbp(n.mcse_p95)
    );
    outln!(
        text,
        "Mean per ICB:   {} ± {} (90% interval {} to {})",
        gbp(a.mean),
        gbp(a.mcse_mean),
        gbp(a.p05),
        gbp(a.p95)
    );
    if let Some(c) = &s.calibrated {
        outln!(
            text,
            "Calibrated:     national factors drawn from the posterior in {} (effective sample size {:.0}); on the priors the national cost is {} (90% interval {} to {}), the mean per ICB {}",
            c.posterior,
            c.ess,
            gbp(c.prior_national.mean),
            gbp(c.prior_national.p05),
            gbp(c.prior_national.p95),
            gbp(c.prior_per_icb_average.mean)
        );
    }
    outln!(text,
        "Reference:      {} ({}) is {} of the mean per ICB; {} of {} ICBs have a mean cost above it",
        gbp(s.reference_gbp),
        scenario.reference.label,
        reference_position(s.reference_percentile),
        s.icbs_mean_above_reference,
        s.icbs.len()
    );
    outln!(
        text,
        "(± is the Monte Carlo standard error of the figure beside it.)"
    );
    outln!(text, "Results in {}", out.display());
    text
}

/// The table `benchmark` prints.
pub fn benchmarks(scenario: &Scenario, rows: &[Comparison], out: &Path) -> String {
    let mut text = String::new();
    outln!(
        text,
        "{}: {}, {}",
        scenario.name,
        scenario.period(),
        scenario.cost_view.describe()
    );
    outln!(
        text,
        "{:<62} {:>10} {:>32}  {}",
        "Published figure",
        "Published",
        "Simulated mean (90% interval)",
        "Published figure falls"
    );
    for c in rows {
        let label: String = c.benchmark.label.chars().take(62).collect();
        let unit = c.benchmark.unit.as_str();
        let amount = |x: f64| in_unit(x, unit);
        let published = c.benchmark.published.map_or("-".to_string(), amount);
        match (&c.simulated, c.published_percentile) {
            (Some(s), Some(pct)) => outln!(
                text,
                "{label:<62} {published:>10} {:>32}  {} [{}]",
                format!(
                    "{} ({} to {})",
                    amount(s.mean),
                    amount(s.p05),
                    amount(s.p95)
                ),
                reference_position(pct),
                scope(c)
            ),
            _ => outln!(
                text,
                "{label:<62} {published:>10} {:>32}  not comparable: {}",
                "-",
                c.reason
            ),
        }
    }
    outln!(text, "Results in {}", out.display());
    text
}

/// What `settlement` prints: each settlement month's national cost and the cost of that
/// month over settling a month earlier.
pub fn settlement(s: &Settled, out: &Path) -> String {
    let sc = &s.prepared.scenario;
    let mut text = String::new();
    outln!(
        text,
        "{}: {}, {}; settled in each month, on the same draws",
        sc.name,
        sc.period(),
        sc.cost_view.describe()
    );
    outln!(
        text,
        "{:<10} {:>32} {:>14} {:>36}",
        "Settled in",
        "National cost (90% interval)",
        "Mean per ICB",
        "One more month costs (90% interval)"
    );
    for r in &s.settlement.rows {
        outln!(
            text,
            "{:<10} {:>32} {:>14} {:>36}",
            r.month.to_string(),
            format!(
                "{} ({} to {})",
                gbp(r.national.mean),
                gbp(r.national.p05),
                gbp(r.national.p95)
            ),
            gbp(r.per_icb.mean),
            r.marginal.as_ref().map_or("-".to_string(), |m| format!(
                "{} ({} to {})",
                gbp(m.mean),
                gbp(m.p05),
                gbp(m.p95)
            ))
        );
    }
    if let Some(m) = s.settlement.mean_marginal {
        outln!(
            text,
            "Each month without a settlement costs {} on average nationally ({} per ICB).",
            gbp(m),
            gbp(m / s.prepared.table.len() as f64)
        );
    }
    outln!(text, "Results in {}", out.display());
    text
}

/// What `calibrate` prints: the effective sample size and non-implausible share, each figure
/// before and after, the factors that moved most, and conflicts when there is no posterior.
pub fn calibration(c: &Calibrated, out: &Path) -> String {
    let k = &c.calibration;
    let mut text = String::new();
    outln!(
        text,
        "{}: calibrated to {} figures of {} on {} prior draws",
        c.prepared.scenario.name,
        k.figures.len(),
        c.benchmarks,
        thousands(k.draws as u64)
    );
    let shares: Vec<String> = k.wave_shares.iter().map(|&s| percent(s)).collect();
    outln!(
        text,
        "Non-implausible draws (every figure within {CUTOFF} sd): {}{}; effective sample size {:.0}",
        shares.join(", then "),
        match k.waves {
            1 => String::new(),
            w => format!(" ({w} waves, each drawn within the range the last found non-implausible)"),
        },
        k.ess
    );
    let interval = |i: &Interval| format!("{} ({} to {})", gbp(i.mean), gbp(i.p05), gbp(i.p95));
    outln!(
        text,
        "{:<44} {:>10} {:>30} {:>30}  {}",
        "Published figure",
        "Published",
        "Prior predictive (90%)",
        "Calibrated (90%)",
        "Left out, it falls"
    );
    for f in &k.figures {
        let label: String = f.label.chars().take(44).collect();
        outln!(
            text,
            "{label:<44} {:>10} {:>30} {:>30}  {}",
            gbp(f.published),
            interval(&f.prior),
            f.posterior.as_ref().map_or("-".to_string(), interval),
            f.loo_percentile.map_or("-".to_string(), reference_position)
        );
    }
    if k.posterior_reported {
        outln!(text, "Factors that moved most (mean, prior → calibrated):");
        for (f, post) in moved(k).iter().take(5) {
            outln!(
                text,
                "  {}: {:.4} → {:.4} (90%: {:.4} to {:.4} → {:.4} to {:.4})",
                f.path,
                f.prior.mean,
                post.mean,
                f.prior.p05,
                f.prior.p95,
                post.p05,
                post.p95
            );
        }
    } else {
        outln!(
            text,
            "No posterior: the effective sample size is below {MIN_ESS}, after {} wave(s):",
            k.waves
        );
        for conflict in &k.conflicts {
            let figures = conflict.figures.join(" and ");
            if conflict.best_implausibility <= CUTOFF {
                outln!(
                    text,
                    "  {figures}: matched by too few draws (effective sample size {:.0}); more --draws would help",
                    conflict.ess
                );
                continue;
            }
            let with = if conflict.figures.len() == 1 {
                "with the priors"
            } else {
                "with each other"
            };
            outln!(
                text,
                "  {figures} {with}: the closest draw is {:.1} sd away",
                conflict.best_implausibility
            );
        }
    }
    for u in &c.unused {
        outln!(text, "Not used: {}: {}", u.id, u.reason);
    }
    outln!(text, "Results in {}", out.display());
    text
}

/// The scope a figure was compared on, in words.
fn scope(c: &Comparison) -> String {
    let mut parts = vec![c.actions.join(", ")];
    if let Some((first, last)) = c.period {
        parts.push(format!("{first} to {last}"));
    }
    if let Some(view) = c.cost_view {
        parts.push(view.describe().to_string());
    }
    for (path, value) in &c.benchmark.scope.conditions {
        parts.push(format!("{path} = {value}"));
    }
    for (icb, path, value) in &c.benchmark.scope.icb_conditions {
        parts.push(format!("{icb}: {path} = {value}"));
    }
    parts.join("; ")
}

/// What `sensitivity` prints: the largest drivers by tornado swing and by Sobol total order.
pub fn sensitivity(r: &SensitivityRun, out: &Path) -> String {
    let p = &r.simulation.prepared;
    let (names, tornado, sobol, base) = (&r.names, &r.tornado, &r.sobol, r.base_national);
    let mut text = String::new();
    outln!(
        text,
        "{}: {}, expected national cost at the medians {}",
        p.scenario.name,
        p.scenario.cost_view.describe(),
        gbp(base)
    );
    outln!(
        text,
        "Tornado (each national factor at its 10th and 90th percentile, others at their medians):"
    );
    for r in tornado.iter().take(10) {
        outln!(
            text,
            "  {:<70} {:>9} to {:>9}  swing {}",
            names[r.factor].path,
            gbp(r.national_low),
            gbp(r.national_high),
            gbp(r.swing())
        );
    }
    outln!(
        text,
        "Sobol indices of the expected national cost (first order, total order, 95% intervals):"
    );
    let mut ranked: Vec<&SobolRow> = sobol.iter().collect();
    ranked.sort_by(|a, b| b.index.total.total_cmp(&a.index.total));
    for r in ranked.iter().take(10) {
        let i = &r.index;
        outln!(
            text,
            "  {:<70} S {:.3} [{:.3}, {:.3}]  ST {:.3} [{:.3}, {:.3}]",
            r.name,
            i.first,
            i.first_lo,
            i.first_hi,
            i.total,
            i.total_lo,
            i.total_hi
        );
    }
    outln!(text, "Results in {}", out.display());
    text
}

/// What `compare` prints: each scenario's national difference from the baseline.
pub fn comparison(c: &ComparedRuns, out: &Path) -> String {
    let a = &c.baseline.prepared;
    let (iterations, seed) = (c.baseline.draws.iterations, a.scenario.seed);
    let compared = &c.compared;
    let mut text = String::new();
    outln!(
        text,
        "Baseline A: {} ({} iterations, seed {}, {})",
        a.scenario.name,
        iterations,
        seed,
        a.scenario.cost_view.describe()
    );
    for c in compared {
        let n = c.rows.last().expect("a national row");
        outln!(
            text,
            "{} − A: national {} (90% interval {} to {}); P(B > A) = {:.3}",
            c.scenario.name,
            gbp(n.diff.mean),
            gbp(n.diff.p05),
            gbp(n.diff.p95),
            n.prob_b_greater
        );
    }
    outln!(text, "Results in {}", out.display());
    text
}

/// What `validate` prints: the scenario, its tables and every action, cost line and factor.
pub fn validation(path: &Path, p: &Prepared) -> String {
    let s = &p.scenario;
    let mut text = String::new();
    outln!(text, "{} is valid.", path.display());
    outln!(text, "Scenario:   {}", s.name);
    if !s.description.is_empty() {
        outln!(text, "            {}", s.description);
    }
    outln!(text, "Period:     {}", s.period());
    outln!(text, "Iterations: {}, seed {}", s.iterations, s.seed);
    outln!(
        text,
        "ICB table:  {} ({} ICBs, sha256 {})",
        p.table.file.source,
        p.table.len(),
        &p.table.file.sha256[..12]
    );
    outln!(
        text,
        "Reference:  {} per ICB: {}",
        gbp(s.reference.per_icb_gbp),
        s.reference.label
    );
    outln!(
        text,
        "Draws:      {} national factors per iteration, {} per ICB",
        p.model.national.len(),
        p.model.per_icb.len()
    );
    if let (Some(practices), Some(table)) = (&p.model.practices, &p.practices) {
        outln!(
            text,
            "Practices:  {} in {} ICBs ({}), each drawn taking part or not in each action, every iteration",
            thousands(practices.keys.len() as u64),
            practices.ranges.len(),
            table.file.source
        );
    }
    if let Some(rebuilt) = &p.footprint {
        outln!(
            text,
            "Footprint:  {} ICBs, each practice of the {} in {} ICBs of {} placed in one ({})",
            p.table.len(),
            thousands(rebuilt.old_practices.len() as u64),
            rebuilt.old_table.len(),
            rebuilt.old_table.file.source,
            rebuilt.footprint.file.source
        );
    }
    if let Some(map) = &p.icb_map {
        outln!(
            text,
            "ICB map:    {} ICBs into {} bodies ({})",
            p.table.len(),
            map.bodies.len(),
            map.file.source
        );
    }
    if let Some(year) = s.price_year {
        let converted = s.factors().filter(|(_, f)| f.price.is_some()).count();
        outln!(
            text,
            "Prices:     {year}: {converted} {} with a price year, converted to {year} with {} ({})",
            if converted == 1 { "factor" } else { "factors" },
            price::INDEX_NAME,
            price::EMBEDDED_NAME
        );
    }
    outln!(
        text,
        "Cost view:  {} ({})",
        s.cost_view.as_str(),
        s.cost_view.describe()
    );
    if let Some(e) = &s.engagement {
        let curve: Vec<String> = e.curve.iter().map(|(m, v)| format!("{m} {v}")).collect();
        outln!(
            text,
            "Engagement: national share {} (linear between, flat outside)",
            curve.join(", ")
        );
        for f in e.factors() {
            print_factor(&mut text, f, "  ");
        }
    }
    for action in &s.actions {
        outln!(text);
        outln!(
            text,
            "Action {} ({}): {}{}",
            action.id,
            action.label,
            action.timing.describe(),
            match &s.engagement {
                Some(e) if e.additional_for(action).is_some() =>
                    "; engaged, times the additional share",
                _ if action.engaged => "; engaged",
                _ => "",
            }
        );
        for f in &action.factors {
            print_factor(&mut text, f, "  ");
        }
        for line in &action.costs {
            let views: Vec<&str> = line.views.iter().map(|v| v.as_str()).collect();
            outln!(
                text,
                "  Cost line: {} = {}{} × factors × w(m) / 12{}",
                line.label,
                if line.negative { "−" } else { "" },
                line.driver.as_deref().unwrap_or("1"),
                if line.views.contains(&s.cost_view) {
                    String::new()
                } else {
                    format!(" (not counted: views {})", views.join(", "))
                }
            );
            if line.timing != action.timing {
                outln!(text, "    timing: {}", line.timing.describe());
            }
            for f in &line.factors {
                print_factor(&mut text, f, "    ");
            }
        }
    }
    if !s.overrides.is_empty() {
        outln!(text);
        outln!(
            text,
            "ICBs' own inputs (each replaces the factor for that ICB only):"
        );
        for o in &s.overrides {
            outln!(
                text,
                "  {}: {}: {}; mean {:.6}",
                o.icb,
                o.factor,
                o.dist.spec().describe(),
                o.dist.mean()
            );
            outln!(
                text,
                "    source: {}",
                o.source.as_deref().unwrap_or("not given")
            );
        }
    }
    if !s.options.is_empty() {
        outln!(text);
        outln!(
            text,
            "Options (each compared with {NO_OPTION}, the scenario as it stands, on the same draws by `decide`):"
        );
        for o in &s.options {
            outln!(
                text,
                "Option {} ({}): {}",
                o.id,
                o.label,
                o.icb
                    .as_ref()
                    .map_or("every ICB".to_string(), |icb| format!("{icb} only"))
            );
            for set in &o.set {
                outln!(
                    text,
                    "  sets {} = {}; mean {:.6}",
                    set.factor,
                    set.dist.spec().describe(),
                    set.dist.mean()
                );
                if let Some(source) = &set.source {
                    outln!(text, "    source: {source}");
                }
            }
            for line in &o.costs {
                outln!(
                    text,
                    "  Cost line: {} = {}{} × factors × w(m) / 12",
                    line.label,
                    if line.negative { "−" } else { "" },
                    line.driver.as_deref().unwrap_or("1"),
                );
                for f in &line.factors {
                    print_factor(&mut text, f, "    ");
                }
            }
            if let Some(source) = &o.source {
                outln!(text, "  source: {source}");
            }
        }
        for g in &s.factor_groups {
            outln!(
                text,
                "Factor group {} ({}): {}",
                g.id,
                g.label,
                g.factors.join(", ")
            );
        }
    }
    text
}

/// What `decide` prints: nationally, each option's expected cost, probability of being the
/// cheapest and saving; the EVPI and the factors most worth learning; the best option in
/// each ICB.
pub fn decision(d: &Decided, out: &Path) -> String {
    let sc = &d.prepared.scenario;
    let dec = &d.decision;
    let mut text = String::new();
    outln!(
        text,
        "{}: {}, {}, {} iterations, seed {}; every option on the same draws",
        sc.name,
        sc.period(),
        sc.cost_view.describe(),
        dec.iterations,
        sc.seed
    );
    let national = &dec.scopes[0];
    outln!(
        text,
        "{:<44} {:>32} {:>11} {:>26}",
        "England: option",
        "Expected cost (90% interval)",
        "Prob. best",
        "Saving vs none (± MCSE)"
    );
    for (k, o) in national.options.iter().enumerate() {
        let choice = &dec.options[o.option];
        outln!(
            text,
            "{:<44} {:>32} {:>11} {:>26}",
            format!(
                "{}{}",
                if k == national.best { "* " } else { "  " },
                choice.id
            ),
            format!(
                "{} ({} to {})",
                gbp(o.cost.mean),
                gbp(o.cost.p05),
                gbp(o.cost.p95)
            ),
            percent(o.prob_best),
            format!("{} ± {}", gbp(o.saving.value), gbp(o.saving.se))
        );
    }
    outln!(
        text,
        "Best by expected cost: {}. EVPI (learning everything before deciding): {} ± {}.",
        dec.options[national.options[national.best].option].id,
        gbp(national.evpi.value),
        gbp(national.evpi.se)
    );
    let top: Vec<String> = dec
        .evppi_of(0)
        .into_iter()
        .filter(|e| e.value.value > 0.0)
        .take(3)
        .map(|e| format!("{} {} ± {}", e.factor, gbp(e.value.value), gbp(e.value.se)))
        .collect();
    match top.is_empty() {
        false => outln!(text, "Worth most to learn first (EVPPI): {}", top.join("; ")),
        true if national.evpi.value == 0.0 => outln!(
            text,
            "No factor is worth learning first: one option is the cheapest in every simulated future."
        ),
        true => outln!(
            text,
            "No single factor or group is worth learning first on its own (every EVPPI is zero)."
        ),
    }
    let mut counts: Vec<(usize, usize)> = Vec::new();
    for s in &dec.scopes[1..] {
        let best = s.options[s.best].option;
        match counts.iter_mut().find(|(o, _)| *o == best) {
            Some((_, c)) => *c += 1,
            None => counts.push((best, 1)),
        }
    }
    let counts: Vec<String> = counts
        .iter()
        .map(|(o, c)| format!("{} in {c}", dec.options[*o].id))
        .collect();
    outln!(
        text,
        "Best option by ICB ({} ICBs): {}",
        dec.scopes.len() - 1,
        counts.join(", ")
    );
    outln!(text, "Results in {}", out.display());
    text
}

fn print_factor(text: &mut String, f: &Factor, indent: &str) {
    outln!(
        text,
        "{indent}{} ({}{}{}): {}; mean {:.6}{}{}",
        f.name,
        f.vary.as_str(),
        f.view
            .map_or(String::new(), |v| format!(", {} view only", v.as_str())),
        if f.participation {
            ", participation"
        } else {
            ""
        },
        f.describe(),
        f.dist.mean(),
        f.baseline.as_ref().map_or(String::new(), |b| format!(
            "; net of a baseline {}",
            b.dist.spec().describe()
        )),
        if f.assumption { "; ASSUMPTION" } else { "" }
    );
    // The path by which benchmarks' conditions, overrides and error messages name the factor.
    outln!(text, "{indent}  path: {}", f.path);
    if let Some(price) = &f.price {
        outln!(text, "{indent}  {}", price_years(price));
    }
    if let Some(source) = &f.source {
        outln!(text, "{indent}  source: {source}");
    }
}

/// A converted factor's values as written, their price years and the converted values:
/// `as written: min 148 (2016/17 prices), mode 266 (2024/25); in 2024/25 prices: min 194.54, …`.
fn price_years(price: &Uprating) -> String {
    let deflators = Deflators::embedded();
    let mut written = Vec::new();
    let mut converted = Vec::new();
    for (n, ((name, v), (_, year))) in price.written.values().iter().zip(&price.years).enumerate() {
        let prices = if n == 0 { " prices" } else { "" };
        written.push(format!("{name} {v} ({year}{prices})"));
        let to = deflators
            .convert(*v, *year, price.to)
            .expect("price years are in the table");
        converted.push(format!("{name} {}", round2(to)));
    }
    format!(
        "as written: {}; in {} prices ({}): {}",
        written.join(", "),
        price.to,
        price::INDEX_NAME,
        converted.join(", ")
    )
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}
