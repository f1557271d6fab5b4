//! Price years: financial years (`YYYY/YY`) and the deflator table that converts money
//! amounts from one year's prices to another's (`data/deflators.csv`, built into the binary).

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

/// The name the embedded deflator table goes by in manifests.
pub const EMBEDDED_NAME: &str = "embedded:data/deflators.csv";

/// The deflator table built into the binary: HM Treasury's GDP deflator at market prices by
/// financial year, 2024/25 = 100 (sources in `data/SOURCES.md`).
pub const EMBEDDED_CSV: &str = include_str!("../data/deflators.csv");

/// What the table is, for printed text.
pub const INDEX_NAME: &str = "the HM Treasury GDP deflator";

/// A financial year (April to March), named by the calendar year it starts in and written
/// `2024/25`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PriceYear(u16);

impl PriceYear {
    /// The financial year starting in April of `year` (1900 to 2199).
    pub fn starting(year: u16) -> Option<PriceYear> {
        (1900..2200).contains(&year).then_some(PriceYear(year))
    }

    /// The calendar year it starts in.
    pub fn start(self) -> u16 {
        self.0
    }
}

impl FromStr for PriceYear {
    type Err = String;

    /// Accepts exactly `YYYY/YY`, where `YY` is the year after `YYYY`.
    fn from_str(text: &str) -> Result<PriceYear, String> {
        let bad = || format!("'{text}' is not a financial year: write YYYY/YY, e.g. \"2024/25\"");
        let bytes = text.as_bytes();
        if bytes.len() != 7 || bytes[4] != b'/' || !text[..4].bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        if !text[5..].bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let first: u16 = text[..4].parse().map_err(|_| bad())?;
        let second: u16 = text[5..].parse().map_err(|_| bad())?;
        let year = PriceYear::starting(first).ok_or_else(bad)?;
        if second != (first + 1) % 100 {
            return Err(format!(
                "'{text}' is not a financial year: {first}/ must be followed by {:02}, the next year",
                (first + 1) % 100
            ));
        }
        Ok(year)
    }
}

impl fmt::Display for PriceYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{:02}", self.0, (self.0 + 1) % 100)
    }
}

/// A deflator table: an index for each financial year, in year order.
#[derive(Debug, Clone, PartialEq)]
pub struct Deflators {
    rows: Vec<(PriceYear, f64)>,
}

impl Deflators {
    /// The table built into the binary.
    pub fn embedded() -> &'static Deflators {
        static TABLE: OnceLock<Deflators> = OnceLock::new();
        TABLE.get_or_init(|| {
            Deflators::from_csv(EMBEDDED_CSV).expect("the embedded deflator table is valid")
        })
    }

    /// Reads `year,index[,…]` rows after a header: years in increasing order without repeats,
    /// positive finite indices.
    pub fn from_csv(text: &str) -> Result<Deflators, String> {
        let mut lines = text.lines().enumerate();
        let header = lines.next().map(|(_, h)| h).unwrap_or_default();
        if !header.starts_with("year,index") {
            return Err(format!(
                "line 1: expected the header year,index, found '{header}'"
            ));
        }
        let mut rows: Vec<(PriceYear, f64)> = Vec::new();
        for (n, line) in lines.filter(|(_, l)| !l.trim().is_empty()) {
            let at = |m: String| format!("line {}: {m}", n + 1);
            let mut cells = line.split(',');
            let year: PriceYear = cells
                .next()
                .unwrap_or_default()
                .trim()
                .parse()
                .map_err(at)?;
            let index: f64 = cells
                .next()
                .unwrap_or_default()
                .trim()
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v > 0.0)
                .ok_or_else(|| at(format!("the index of {year} must be a positive number")))?;
            if rows.last().is_some_and(|(last, _)| *last >= year) {
                return Err(at(format!("{year} is out of order or repeated")));
            }
            rows.push((year, index));
        }
        if rows.is_empty() {
            return Err("the table has no years".to_string());
        }
        Ok(Deflators { rows })
    }

    /// The index of `year`, if the table has it.
    pub fn index(&self, year: PriceYear) -> Option<f64> {
        self.rows.iter().find(|(y, _)| *y == year).map(|(_, v)| *v)
    }

    /// The years the table has, in order.
    pub fn years(&self) -> impl Iterator<Item = PriceYear> + '_ {
        self.rows.iter().map(|(y, _)| *y)
    }

    /// What to say when `year` is not in the table: the years it has.
    pub fn missing(&self, year: PriceYear) -> String {
        let years: Vec<String> = self.years().map(|y| y.to_string()).collect();
        format!(
            "no deflator for {year}: data/deflators.csv has {}",
            years.join(", ")
        )
    }

    /// `value` in `from` prices converted to `to` prices: `value × index[to] ÷ index[from]`;
    /// a year missing from the table is named with the years it has.
    pub fn convert(&self, value: f64, from: PriceYear, to: PriceYear) -> Result<f64, String> {
        let index = |y| self.index(y).ok_or_else(|| self.missing(y));
        let (i_from, i_to) = (index(from)?, index(to)?);
        Ok(value * i_to / i_from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn financial_years_read_and_print_as_yyyy_yy() {
        let y: PriceYear = "2024/25".parse().unwrap();
        assert_eq!((y.start(), y.to_string()), (2024, "2024/25".to_string()));
        assert_eq!(
            "1999/00".parse::<PriceYear>().unwrap().to_string(),
            "1999/00"
        );
        for bad in [
            "2024-25",
            "2024/2025",
            "24/25",
            "2024/ 5",
            "abcd/ef",
            "",
            "2024/25 ",
        ] {
            let e = bad.parse::<PriceYear>().unwrap_err();
            assert!(e.contains("write YYYY/YY"), "{bad}: {e}");
        }
        assert_eq!(
            "2024/26".parse::<PriceYear>().unwrap_err(),
            "'2024/26' is not a financial year: 2024/ must be followed by 25, the next year"
        );
    }

    #[test]
    fn the_embedded_table_covers_2014_15_to_2025_26_with_2024_25_at_100() {
        let t = Deflators::embedded();
        let years: Vec<String> = t.years().map(|y| y.to_string()).collect();
        assert_eq!(years.first().map(String::as_str), Some("2014/15"));
        assert_eq!(years.last().map(String::as_str), Some("2025/26"));
        assert_eq!(years.len(), 12);
        assert_eq!(t.index("2024/25".parse().unwrap()), Some(100.0));
        assert_eq!(t.index("2016/17".parse().unwrap()), Some(76.0754));
        // Prices rose every year of the table.
        let values: Vec<f64> = t.rows.iter().map(|(_, v)| *v).collect();
        assert!(values.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn conversion_is_the_ratio_of_the_indices() {
        let t = Deflators::embedded();
        let (from, to) = ("2016/17".parse().unwrap(), "2024/25".parse().unwrap());
        assert_eq!(t.convert(148.0, from, to).unwrap(), 148.0 * 100.0 / 76.0754);
        assert_eq!(t.convert(148.0, to, to).unwrap(), 148.0);
        assert_eq!(
            t.convert(1.0, "2010/11".parse().unwrap(), to).unwrap_err(),
            "no deflator for 2010/11: data/deflators.csv has 2014/15, 2015/16, 2016/17, 2017/18, \
             2018/19, 2019/20, 2020/21, 2021/22, 2022/23, 2023/24, 2024/25, 2025/26"
        );
    }

    #[test]
    fn bad_tables_are_refused_with_their_line() {
        for (text, expected) in [
            ("y,i\n", "line 1: expected the header year,index"),
            ("year,index\n", "the table has no years"),
            (
                "year,index\n2024-25,100\n",
                "line 2: '2024-25' is not a financial year",
            ),
            (
                "year,index\n2024/25,x\n",
                "line 2: the index of 2024/25 must be a positive",
            ),
            (
                "year,index\n2024/25,0\n",
                "line 2: the index of 2024/25 must be a positive",
            ),
            (
                "year,index\n2024/25,1\n2023/24,1\n",
                "line 3: 2023/24 is out of order",
            ),
        ] {
            let e = Deflators::from_csv(text).unwrap_err();
            assert!(e.starts_with(expected), "{text:?}: {e}");
        }
    }
}
