//! Numbers as people read them: pounds (£950, £12k, £1.2m, £1.5bn, £2,000,000), counts with
//! thousands separators, percentages, ordinals and where a figure falls among simulated values.
//! Every number the tool prints or shows is formatted here.

/// Short form with about three significant figures: `£1.2m`, `£850k`, `−£40k`.
pub fn gbp(x: f64) -> String {
    let sign = if x < 0.0 { "−" } else { "" };
    let a = x.abs();
    let (value, unit) = if a >= 1e9 {
        (a / 1e9, "bn")
    } else if a >= 1e6 {
        (a / 1e6, "m")
    } else if a >= 1e3 {
        (a / 1e3, "k")
    } else {
        (a, "")
    };
    let digits = if value >= 100.0 || (unit.is_empty() && value >= 10.0) {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    let text = format!("{value:.digits$}");
    // Trailing zeros say nothing: £1.50m reads as £1.5m, £2.00m as £2m.
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    format!("{sign}£{text}{unit}")
}

/// Whole pounds with thousands separators: `£2,000,000`.
pub fn gbp_full(x: f64) -> String {
    let digits = format!("{:.0}", x.abs());
    let sign = if x < 0.0 && digits != "0" { "−" } else { "" };
    format!("{sign}£{}", grouped(&digits))
}

/// A count with thousands separators: `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    grouped(&n.to_string())
}

/// Whole pounds with thousands separators and no pound sign, for table cells under a £
/// heading: `2,000,000`.
pub fn pounds(x: f64) -> String {
    gbp_full(x).replace('£', "")
}

/// Digits with a comma before each group of three from the right.
fn grouped(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A probability as a percentage that never rounds a near-certainty to a certainty:
/// `0%`, `under 1%`, `37%`, `over 99%`, `100%`.
pub fn percent(p: f64) -> String {
    if p <= 0.0 {
        "0%".to_string()
    } else if p >= 1.0 {
        "100%".to_string()
    } else if p < 0.01 {
        "under 1%".to_string()
    } else if p > 0.99 {
        "over 99%".to_string()
    } else {
        format!("{:.0}%", 100.0 * p)
    }
}

/// 1st, 2nd, 3rd, 4th, 11th, 62nd…
pub fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Where a figure falls among simulated values, in words, from its percentile (0 to 100).
pub fn reference_position(percentile: f64) -> String {
    if percentile >= 100.0 {
        "above every simulated future".to_string()
    } else if percentile <= 0.0 {
        "below every simulated future".to_string()
    } else {
        format!(
            "at the {} percentile",
            ordinal(percentile.round().clamp(1.0, 99.0) as u32)
        )
    }
}

/// Rounds pounds to whole pence for tables.
pub fn pence(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_form_scales_and_trims() {
        assert_eq!(gbp(2_000_000.0), "£2m");
        assert_eq!(gbp(1_234_567.0), "£1.23m");
        assert_eq!(gbp(12_345_678.0), "£12.3m");
        assert_eq!(gbp(850_000.0), "£850k");
        assert_eq!(gbp(950.0), "£950");
        assert_eq!(gbp(205e6), "£205m");
        assert_eq!(gbp(1.5e9), "£1.5bn");
        assert_eq!(gbp(-40_000.0), "−£40k");
        assert_eq!(gbp(0.0), "£0");
        assert_eq!(gbp(0.095), "£0.1");
        assert_eq!(gbp(4.5), "£4.5");
    }

    #[test]
    fn full_form_groups_thousands() {
        assert_eq!(gbp_full(2_000_000.0), "£2,000,000");
        assert_eq!(gbp_full(999.4), "£999");
        assert_eq!(gbp_full(-1234.0), "−£1,234");
    }

    #[test]
    fn counts_group_thousands() {
        let got: Vec<String> = [0, 7, 999, 1000, 12_345, 1_234_567]
            .iter()
            .map(|&n| thousands(n))
            .collect();
        assert_eq!(got, ["0", "7", "999", "1,000", "12,345", "1,234,567"]);
        assert_eq!(pounds(-1234.4), "−1,234");
    }

    #[test]
    fn ordinals_follow_english_usage() {
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 62, 100]
            .iter()
            .map(|&n| ordinal(n))
            .collect();
        assert_eq!(
            got,
            ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "62nd", "100th"]
        );
    }

    #[test]
    fn positions_name_the_tails_and_never_round_into_them() {
        assert_eq!(reference_position(100.0), "above every simulated future");
        assert_eq!(reference_position(0.0), "below every simulated future");
        assert_eq!(reference_position(0.2), "at the 1st percentile");
        assert_eq!(reference_position(99.7), "at the 99th percentile");
        assert_eq!(reference_position(36.4), "at the 36th percentile");
    }

    #[test]
    fn percentages_keep_certainty_for_certain_events() {
        let got: Vec<String> = [0.0, 0.004, 0.37, 0.995, 1.0]
            .iter()
            .map(|&p| percent(p))
            .collect();
        assert_eq!(got, ["0%", "under 1%", "37%", "over 99%", "100%"]);
    }

    #[test]
    fn pence_rounds_to_two_places() {
        assert_eq!(pence(1.005_1), 1.01);
        assert_eq!(pence(2.0), 2.0);
    }
}
