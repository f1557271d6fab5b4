//! Calendar months (`YYYY-MM`), the time unit of every scenario.

use std::fmt;
use std::str::FromStr;

/// A calendar month, stored as months since January of year 0 so that differences are plain
/// subtraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(i32);

impl Month {
    pub fn new(year: i32, month: u32) -> Option<Month> {
        ((1..=12).contains(&month) && (1900..=2200).contains(&year))
            .then(|| Month(year * 12 + month as i32 - 1))
    }

    pub fn year(self) -> i32 {
        self.0.div_euclid(12)
    }

    /// 1 to 12.
    pub fn month(self) -> u32 {
        self.0.rem_euclid(12) as u32 + 1
    }

    /// The month `n` months later (earlier when negative).
    pub fn plus(self, n: i32) -> Month {
        Month(self.0 + n)
    }

    /// Whole months from `earlier` to `self` (negative when `self` is earlier).
    pub fn since(self, earlier: Month) -> i32 {
        self.0 - earlier.0
    }

    /// The month (UTC) of a time given as seconds since 1970-01-01T00:00:00Z; `None` outside
    /// the years a month may have. The civil date of a day count by Hinnant's algorithm
    /// ("chrono-Compatible Low-Level Date Algorithms", `civil_from_days`).
    pub fn from_unix_seconds(seconds: i64) -> Option<Month> {
        let z = seconds.div_euclid(86_400) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Month::new(i32::try_from(year).ok()?, month as u32)
    }
}

/// The months between the first and the last of `months` (sorted) that it does not hold.
pub fn missing(months: &[Month]) -> Vec<Month> {
    let (Some(&first), Some(&last)) = (months.first(), months.last()) else {
        return Vec::new();
    };
    (0..=last.since(first))
        .map(|k| first.plus(k))
        .filter(|m| months.binary_search(m).is_err())
        .collect()
}

/// Months as a list for a message: `2024-01, 2024-02`.
pub fn list(months: &[Month]) -> String {
    months
        .iter()
        .map(|m| m.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl FromStr for Month {
    type Err = String;

    /// Accepts exactly `YYYY-MM`, years 1900 to 2200.
    fn from_str(text: &str) -> Result<Month, String> {
        let bad = || format!("'{text}' is not a month: write YYYY-MM, e.g. 2024-08");
        let bytes = text.as_bytes();
        if bytes.len() != 7 || bytes[4] != b'-' {
            return Err(bad());
        }
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        let (year, month) = (&text[..4], &text[5..]);
        if !digits(year) || !digits(month) {
            return Err(bad());
        }
        let (year, month): (i32, u32) = (
            year.parse().map_err(|_| bad())?,
            month.parse().map_err(|_| bad())?,
        );
        Month::new(year, month).ok_or_else(bad)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_round_trip() {
        let m: Month = "2024-08".parse().unwrap();
        assert_eq!((m.year(), m.month()), (2024, 8));
        assert_eq!(m.to_string(), "2024-08");
        assert_eq!(m.plus(5).to_string(), "2025-01");
        assert_eq!("2025-01".parse::<Month>().unwrap().since(m), 5);
    }

    #[test]
    fn the_month_of_a_unix_time_is_its_utc_month() {
        let at = |s: i64| Month::from_unix_seconds(s).unwrap().to_string();
        assert_eq!(at(0), "1970-01");
        // 2024-02-29T23:59:59Z and a second later; 2026-12-07T07:55:02Z; 2000-03-01.
        assert_eq!(at(1_709_251_199), "2024-02");
        assert_eq!(at(1_709_251_200), "2024-03");
        assert_eq!(at(1_796_630_102), "2026-12");
        assert_eq!(at(951_868_800), "2000-03");
        assert_eq!(at(-1), "1969-12");
    }

    #[test]
    fn rejects_malformed_months() {
        for bad in [
            "2024-13",
            "2024-00",
            "2024-8",
            "24-08",
            "2024/08",
            "August",
            "2024-08-01",
            "",
        ] {
            assert!(bad.parse::<Month>().is_err(), "{bad} accepted");
        }
    }
}
