//! Specialist advice (Advice & Guidance) requests by ICB and month, in the project's minimal
//! layout of NHS England's ICB-level specialist advice data (docs/observed.md says why the
//! column names are the project's): each file scanned lazily, only the four columns used, and
//! summed in polars' streaming engine to one row per month and ICB.

use std::path::Path;

use polars::prelude::*;

use super::read::{Cell, MonthFormat};
use super::ActivityRow;
use crate::prescribing::{scan_typed, Source};

/// The columns this module reads; any others are ignored.
pub mod column {
    /// The month the requests were raised in, `YYYY-MM`.
    pub const MONTH: &str = "MONTH";
    /// The ICB raising the requests (ODS code, e.g. `QE1`).
    pub const ICB_CODE: &str = "ICB_CODE";
    pub const ICB_NAME: &str = "ICB_NAME";
    /// Specialist advice requests raised: NHS England's "total requests" measure.
    pub const TOTAL_REQUESTS: &str = "TOTAL_REQUESTS";
}
use column::*;

/// The files, as messages name them.
pub(crate) const SOURCE: Source = Source {
    files: "specialist advice files",
    file: "a specialist advice file (MONTH, ICB_CODE, ICB_NAME, TOTAL_REQUESTS)",
};

/// The columns read, with what each must hold.
pub(crate) fn used_columns() -> Vec<(&'static str, Cell)> {
    vec![
        (MONTH, Cell::Month(MonthFormat::YearMonth)),
        (ICB_CODE, Cell::Code),
        (ICB_NAME, Cell::Text),
        (TOTAL_REQUESTS, Cell::Count),
    ]
}

/// The rows of one file (several rows of an ICB and month, by specialty or type of advice,
/// are summed), `Err(None)` when a value is bad or missing (the bad cells are then looked
/// for), `Err(Some(e))` when polars failed.
pub(crate) fn read_file(path: &Path) -> Result<(Vec<ActivityRow>, u64), Option<PolarsError>> {
    let columns: Vec<_> = used_columns()
        .into_iter()
        .map(|(n, c)| (n, c.kind()))
        .collect();
    let requests = || col(TOTAL_REQUESTS).cast(DataType::Int64);
    let frame = scan_typed(path, &columns)
        .and_then(|lf| {
            lf.group_by([col(MONTH), col(ICB_CODE)])
                .agg([
                    col(ICB_NAME).min().alias(ICB_NAME),
                    requests().sum().alias("requests"),
                    len().cast(DataType::Int64).alias("rows"),
                    (requests().null_count().cast(DataType::Int64)
                        + requests().lt(lit(0i64)).cast(DataType::Int64).sum())
                    .alias("bad"),
                ])
                .sort([MONTH, ICB_CODE], SortMultipleOptions::default())
                .collect_with_engine(Engine::Streaming)
        })
        .map(|r| r.unwrap_single())
        .map_err(Some)?;
    let text = |name: &str| frame.column(name).and_then(|c| c.str().cloned());
    let int = |name: &str| frame.column(name).and_then(|c| c.i64().cloned());
    let (months, codes, names) = (
        text(MONTH).map_err(Some)?,
        text(ICB_CODE).map_err(Some)?,
        text(ICB_NAME).map_err(Some)?,
    );
    let (requests, rows, bad) = (
        int("requests").map_err(Some)?,
        int("rows").map_err(Some)?,
        int("bad").map_err(Some)?,
    );
    let mut out = Vec::with_capacity(frame.height());
    let mut input_rows = 0u64;
    for k in 0..frame.height() {
        let month = months.get(k).and_then(|m| MonthFormat::YearMonth.parse(m));
        let code = codes.get(k).map(str::trim).unwrap_or("");
        let (Some(month), false, 0) = (month, code.is_empty(), bad.get(k).unwrap_or(1)) else {
            return Err(None);
        };
        input_rows += rows.get(k).unwrap_or(0) as u64;
        out.push(ActivityRow {
            month,
            practice_code: None,
            sub_icb_code: String::new(),
            icb: Some((
                code.to_string(),
                names.get(k).unwrap_or("").trim().to_string(),
            )),
            values: vec![requests.get(k).unwrap_or(0)],
        });
    }
    Ok((out, input_rows))
}
