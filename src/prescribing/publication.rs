//! When NHSBSA publishes an EPD month, and so which months a run should hold: those missing
//! inside the span read, and those expected by now but absent after its last month.

use crate::month::{list, Month};

/// Whole months after a month ends by which its EPD is published. NHSBSA's EPD page: "For
/// data from April 2024 (published in June)"; a third-party test mocking the portal's listing
/// has July 2025's file of the EPD with SNOMED Code created on 15 September 2025. Each month
/// appears within about two months of its end, so once two whole months have passed it is
/// late.
pub const LAG_MONTHS: i32 = 2;

/// The latest month whose EPD is expected to be out during month `as_of`: the one that ended
/// [`LAG_MONTHS`] whole months before `as_of` began (in December, September's).
pub fn expected_through(as_of: Month) -> Month {
    as_of.plus(-(LAG_MONTHS + 1))
}

/// The months a run read, against those NHSBSA should have published by `as_of`.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedMonths {
    /// The month the run is "today" in (`--as-of`, by default the clock's).
    pub as_of: Month,
    /// [`expected_through`] of `as_of`.
    pub expected_through: Month,
    /// The last month read.
    pub last: Month,
    /// Months inside the span read that no file holds.
    pub missing: Vec<Month>,
    /// Months after the last read, to `expected_through`: expected but absent.
    pub late: Vec<Month>,
}

impl PublishedMonths {
    /// The coverage of `months` (sorted, not empty) in `as_of`; `Err` when `as_of` is not
    /// after the last month (no month is published before it ends: a wrong `--as-of`, or a
    /// wrong clock).
    pub fn of(months: &[Month], as_of: Month) -> Result<PublishedMonths, String> {
        let (Some(&first), Some(&last)) = (months.first(), months.last()) else {
            return Err("no months were read".to_string());
        };
        if as_of <= last {
            return Err(format!(
                "{as_of} is not after the last month read, {last}: a month's EPD is published after it ends, so give the month the run is in (YYYY-MM)"
            ));
        }
        let expected = expected_through(as_of);
        let late = (1..=expected.since(last)).map(|k| last.plus(k)).collect();
        let missing = crate::month::missing(months);
        debug_assert!(missing.iter().all(|m| *m > first && *m < last));
        Ok(PublishedMonths {
            as_of,
            expected_through: expected,
            last,
            missing,
            late,
        })
    }

    /// The sentence for months expected but absent after the last, if any.
    pub fn late_note(&self) -> Option<String> {
        (!self.late.is_empty()).then(|| {
            format!(
                "{} expected by {} but not read (NHSBSA publishes each EPD month about {LAG_MONTHS} months after it ends); the figures end at {}, the last month read",
                months_text(&self.late),
                self.as_of,
                self.last
            )
        })
    }

    /// The sentence for months missing inside the span, if any.
    pub fn missing_note(&self) -> Option<String> {
        (!self.missing.is_empty()).then(|| {
            format!(
                "{} missing between the first and last months read",
                months_text(&self.missing)
            )
        })
    }
}

/// Months for a sentence: listed when a few, as a range when a run of more ("2024-04 to
/// 2026-09, 30 months").
fn months_text(months: &[Month]) -> String {
    let consecutive = months.windows(2).all(|w| w[1].since(w[0]) == 1);
    match (months.len(), months.first(), months.last()) {
        (n, Some(a), Some(b)) if n > 3 && consecutive => format!("{a} to {b}, {n} months"),
        _ => list(months),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(y: i32, mo: u32) -> Month {
        Month::new(y, mo).unwrap()
    }

    #[test]
    fn a_month_is_expected_once_two_whole_months_have_passed_since_it_ended() {
        assert_eq!(expected_through(m(2026, 12)), m(2026, 9));
        assert_eq!(expected_through(m(2024, 6)), m(2024, 3));
        let span = |a: Month, b: Month| (0..=b.since(a)).map(|k| a.plus(k)).collect::<Vec<_>>();
        let months = span(m(2024, 6), m(2026, 8));
        let c = PublishedMonths::of(&months, m(2026, 12)).unwrap();
        assert_eq!(
            (c.late.clone(), c.missing.clone()),
            (vec![m(2026, 9)], vec![])
        );
        assert_eq!(
            c.late_note().unwrap(),
            "2026-09 expected by 2026-12 but not read (NHSBSA publishes each EPD month about 2 months after it ends); the figures end at 2026-08, the last month read"
        );
        // In November, September's is not yet due.
        let c = PublishedMonths::of(&months, m(2026, 11)).unwrap();
        assert!(c.late.is_empty() && c.late_note().is_none());
        // Far behind: a range.
        let c = PublishedMonths::of(&span(m(2024, 1), m(2024, 3)), m(2026, 12)).unwrap();
        assert_eq!(c.late.len(), 30);
        assert!(c
            .late_note()
            .unwrap()
            .starts_with("2024-04 to 2026-09, 30 months expected"));
        // A month missing inside.
        let gap = [m(2024, 1), m(2024, 2), m(2024, 4)];
        let c = PublishedMonths::of(&gap, m(2024, 7)).unwrap();
        assert_eq!(
            (c.missing.clone(), c.late.clone()),
            (vec![m(2024, 3)], vec![])
        );
        assert_eq!(
            c.missing_note().unwrap(),
            "2024-03 missing between the first and last months read"
        );
        assert!(PublishedMonths::of(&gap, m(2024, 4))
            .unwrap_err()
            .contains("2024-04 is not after the last month read, 2024-04"));
    }
}
