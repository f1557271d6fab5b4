//! Numbers as people read them: pounds (£950, £12.0k, £1.20m, £1.50bn, £2,000,000), counts with
//! thousands separators, percentages, ordinals and where a figure falls among simulated values.
//! Every number the tool prints or shows is formatted here.

/// Short form with three significant figures, trailing zeros kept so that figures side by
/// side read alike: `£1.20m`, `£14.0m`, `£850k`, `−£40.0k`, `£2.00m`. Zero is `£0`.
pub fn gbp(x: f64) -> String {
    short(x, "£")
}

/// A count in the short form of [`gbp`], without the pound sign: `1.24m`, `−850k`, `12.0`.
pub fn count_short(x: f64) -> String {
    short(x, "")
}

/// A figure in `unit`: pounds for `gbp` ([`gbp`]), otherwise a count of the activity named
/// `unit` ([`count_short`]).
pub fn in_unit(x: f64, unit: &str) -> String {
    match unit {
        "gbp" => gbp(x),
        _ => count_short(x),
    }
}

/// Three significant figures with a k, m or bn suffix, after `prefix`.
fn short(x: f64, prefix: &str) -> String {
    let sign = if x < 0.0 { "−" } else { "" };
    let a = x.abs();
    if a == 0.0 || !a.is_finite() {
        return format!("{prefix}{a}");
    }
    // Rounded to three significant figures by the formatter itself, so that £999,950 becomes
    // `1.00e6` (£1.00m) rather than £1000k.
    let scientific = format!("{a:.2e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("scientific notation has an exponent");
    let digits = mantissa.replace('.', "");
    let exponent: i32 = exponent.parse().expect("an integer exponent");
    let (unit, power) = match exponent {
        9.. => ("bn", 9),
        6.. => ("m", 6),
        3.. => ("k", 3),
        _ => ("", 0),
    };
    // Digits before the decimal point.
    let whole = exponent - power + 1;
    let text = if whole <= 0 {
        format!("0.{}{digits}", "0".repeat((-whole) as usize))
    } else if whole as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(whole as usize - digits.len()))
    } else {
        let (int, frac) = digits.split_at(whole as usize);
        format!("{int}.{frac}")
    };
    format!("{sign}{prefix}{text}{unit}")
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
    fn short_form_has_three_significant_figures() {
        let cases = [
            (2_000_000.0, "£2.00m"),
            (5_300_000.0, "£5.30m"),
            (5_214_000.0, "£5.21m"),
            (14_000_000.0, "£14.0m"),
            (16_349_000.0, "£16.3m"),
            (1_234_567.0, "£1.23m"),
            (12_345_678.0, "£12.3m"),
            (163_000_000.0, "£163m"),
            (205e6, "£205m"),
            (850_000.0, "£850k"),
            (40_000.0, "£40.0k"),
            (1_500.0, "£1.50k"),
            (950.0, "£950"),
            (12.0, "£12.0"),
            (4.5, "£4.50"),
            (0.095, "£0.0950"),
            (1.5e9, "£1.50bn"),
            (2.5e12, "£2500bn"),
            (-40_000.0, "−£40.0k"),
            (0.0, "£0"),
            (-0.0, "£0"),
            // Rounding that carries into the next unit moves to it.
            (999_950.0, "£1.00m"),
            (999.6, "£1.00k"),
            (9_995.0, "£10.0k"),
            (99_960_000.0, "£100m"),
            // Half-way cases round as the formatter does, never to four figures.
            (1_005_000.0, "£1.00m"),
            (1_006_000.0, "£1.01m"),
        ];
        for (x, want) in cases {
            assert_eq!(gbp(x), want, "{x}");
        }
        // Every value has exactly three significant digits, whatever its size.
        for k in -20..60 {
            let x = 1.37f64.powi(k) * 1234.567;
            let text = gbp(x);
            let digits: String = text
                .chars()
                .filter(char::is_ascii_digit)
                .skip_while(|&c| c == '0')
                .collect();
            assert!(digits.len() == 3 || text.ends_with("bn"), "{x}: {text}");
        }
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
