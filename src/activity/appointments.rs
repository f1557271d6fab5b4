//! NHS England's "Appointments in General Practice" practice-level files
//! (`Practice_Level_Crosstab_<Mon>_<YY>.csv`): each scanned lazily, only the five columns used,
//! and summed in polars' streaming engine to one row per month and practice: its GP
//! appointments and all its appointments.

use std::path::Path;

use polars::prelude::*;

use super::read::{Cell, MonthFormat};
use super::ActivityRow;
use crate::prescribing::{scan_typed, Source};

/// The columns of the practice-level crosstab this module reads (NHS England's names; the
/// others, `GP_NAME`, `SUPPLIER`, `PCN_CODE`, `PCN_NAME`, `SUB_ICB_LOCATION_NAME`,
/// `APPT_MODE`, `NATIONAL_CATEGORY`, `TIME_BETWEEN_BOOK_AND_APPT` and `APPT_STATUS`, are
/// never parsed).
pub mod column {
    /// The first day of the month, `01AUG2024`.
    pub const APPOINTMENT_MONTH_START_DATE: &str = "APPOINTMENT_MONTH_START_DATE";
    /// The practice's ODS code.
    pub const GP_CODE: &str = "GP_CODE";
    /// The sub-ICB location (the former CCG) the practice is in: what `Mapping.csv` maps.
    pub const SUB_ICB_LOCATION_CODE: &str = "SUB_ICB_LOCATION_CODE";
    /// Who held the appointment: `GP`, `Other Practice staff` or `Unknown`.
    pub const HCP_TYPE: &str = "HCP_TYPE";
    /// Appointments in the row's breakdown (mode, category, wait, status, professional).
    pub const COUNT_OF_APPOINTMENTS: &str = "COUNT_OF_APPOINTMENTS";
}
use column::*;

/// The value of `HCP_TYPE` counted as a GP appointment.
pub const GP: &str = "GP";

/// The publication's files, as messages name them.
pub(crate) const SOURCE: Source = Source {
    files: "Appointments in General Practice practice-level files",
    file: "a Practice_Level_Crosstab file of Appointments in General Practice",
};

/// The columns read, with what each must hold.
pub(crate) fn used_columns() -> Vec<(&'static str, Cell)> {
    vec![
        (
            APPOINTMENT_MONTH_START_DATE,
            Cell::Month(MonthFormat::DayMonthYear),
        ),
        (GP_CODE, Cell::Code),
        (SUB_ICB_LOCATION_CODE, Cell::Text),
        (HCP_TYPE, Cell::Text),
        (COUNT_OF_APPOINTMENTS, Cell::Count),
    ]
}

/// The sums of one file by month and practice, with counts of bad values.
fn sums(frame: LazyFrame) -> LazyFrame {
    let count = || col(COUNT_OF_APPOINTMENTS).cast(DataType::Int64);
    frame
        .group_by([col(APPOINTMENT_MONTH_START_DATE), col(GP_CODE)])
        .agg([
            // A practice is in one sub-ICB location: carried (and checked), not grouped by.
            col(SUB_ICB_LOCATION_CODE)
                .min()
                .alias(SUB_ICB_LOCATION_CODE),
            col(SUB_ICB_LOCATION_CODE).max().alias("sub_icb_max"),
            count().filter(col(HCP_TYPE).eq(lit(GP))).sum().alias("gp"),
            count().sum().alias("all"),
            len().cast(DataType::Int64).alias("rows"),
            (count().null_count().cast(DataType::Int64)
                + count().lt(lit(0i64)).cast(DataType::Int64).sum())
            .alias("bad"),
        ])
}

/// The rows of one file, `Err(None)` when a value is bad or missing (the bad cells are then
/// looked for), `Err(Some(e))` when polars failed.
pub(crate) fn read_file(path: &Path) -> Result<(Vec<ActivityRow>, u64), Option<PolarsError>> {
    let columns: Vec<_> = used_columns()
        .into_iter()
        .map(|(n, c)| (n, c.kind()))
        .collect();
    let frame = scan_typed(path, &columns)
        .and_then(|lf| sums(lf).collect_with_engine(Engine::Streaming))
        .map(|r| r.unwrap_single())
        .map_err(Some)?;
    let text = |name: &str| frame.column(name).and_then(|c| c.str().cloned());
    let int = |name: &str| frame.column(name).and_then(|c| c.i64().cloned());
    let (months, practices, subs, sub_max) = (
        text(APPOINTMENT_MONTH_START_DATE).map_err(Some)?,
        text(GP_CODE).map_err(Some)?,
        text(SUB_ICB_LOCATION_CODE).map_err(Some)?,
        text("sub_icb_max").map_err(Some)?,
    );
    let (gp, all, rows, bad) = (
        int("gp").map_err(Some)?,
        int("all").map_err(Some)?,
        int("rows").map_err(Some)?,
        int("bad").map_err(Some)?,
    );
    let mut out = Vec::with_capacity(frame.height());
    let mut input_rows = 0u64;
    for k in 0..frame.height() {
        let month = months
            .get(k)
            .and_then(|m| MonthFormat::DayMonthYear.parse(m));
        let practice = practices.get(k).map(str::trim).unwrap_or("");
        let (Some(month), false, 0) = (month, practice.is_empty(), bad.get(k).unwrap_or(1)) else {
            return Err(None);
        };
        let sub = subs.get(k).map(str::trim).unwrap_or("");
        if sub_max.get(k).map(str::trim).is_some_and(|m| m != sub) {
            return Err(Some(PolarsError::ComputeError(
                format!("practice {practice} is in more than one sub-ICB location in {month}")
                    .into(),
            )));
        }
        input_rows += rows.get(k).unwrap_or(0) as u64;
        out.push(ActivityRow {
            month,
            practice_code: Some(practice.to_string()),
            sub_icb_code: sub.to_string(),
            icb: None,
            values: vec![gp.get(k).unwrap_or(0), all.get(k).unwrap_or(0)],
        });
    }
    Ok((out, input_rows))
}
