//! The Excel workbook of a report: sheets Summary, ICBs, Actions, Monthly, Assumptions and
//! Manifest, with £ number formats, frozen header rows, set column widths and a native Excel
//! chart of the ICB costs.

use rust_xlsxwriter::{
    Chart, ChartType, DocProperties, ExcelDateTime, Format, FormatAlign, Workbook, Worksheet,
    XlsxError,
};

use crate::error::{Error, Result};
use crate::report::Report;

fn fail(e: XlsxError) -> Error {
    Error::Output(format!("workbook: {e}"))
}

/// A cost's mean, 5th percentile, median and 95th percentile in four columns from `first`.
fn cost_columns(
    sheet: &mut Worksheet,
    row: u32,
    first: u16,
    cost: &crate::stats::Summary,
    pounds: &Format,
) -> std::result::Result<(), XlsxError> {
    for (col, v) in [cost.mean, cost.p05, cost.p50, cost.p95]
        .into_iter()
        .enumerate()
    {
        sheet.write_number_with_format(row, first + col as u16, v, pounds)?;
    }
    Ok(())
}

/// Header row in bold with a bottom border, frozen, and column widths.
fn header(sheet: &mut Worksheet, names: &[(&str, f64)]) -> std::result::Result<(), XlsxError> {
    let bold = Format::new()
        .set_bold()
        .set_border_bottom(rust_xlsxwriter::FormatBorder::Thin);
    for (col, (name, width)) in names.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *name, &bold)?;
        sheet.set_column_width(col as u16, *width)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

/// The workbook of a report, as the bytes of an `.xlsx` file.
pub fn workbook(r: &Report) -> Result<Vec<u8>> {
    build(r).and_then(|mut w| w.save_to_buffer()).map_err(fail)
}

fn build(r: &Report) -> std::result::Result<Workbook, XlsxError> {
    let (sc, s) = (r.scenario, r.summary);
    let pounds = Format::new().set_num_format("£#,##0");
    let percent = Format::new().set_num_format("0.0%");
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let bold = Format::new().set_bold();
    let mut book = Workbook::new();
    // A fixed creation date (the scenario's first month) keeps the file byte-identical run to run.
    let created = ExcelDateTime::from_ymd(sc.start.year() as u16, sc.start.month() as u8, 1)?;
    book.set_properties(
        &DocProperties::new()
            .set_title(sc.name.as_str())
            .set_subject("GP collective action: simulated cost to ICBs")
            .set_creation_datetime(&created),
    );

    let sheet = book.add_worksheet().set_name("Summary")?;
    sheet.set_column_width(0, 48)?;
    sheet.set_column_width(1, 22)?;
    sheet.write_string_with_format(0, 0, sc.name.as_str(), &bold)?;
    sheet.write_string(
        1,
        0,
        format!("{}, {}", sc.period(), sc.cost_view.describe()),
    )?;
    let rows: [(&str, f64, &Format); 10] = [
        ("National cost, mean", s.national.mean, &pounds),
        ("National cost, 5th percentile", s.national.p05, &pounds),
        ("National cost, 95th percentile", s.national.p95, &pounds),
        (
            "National cost, Monte Carlo standard error of the mean",
            s.national.mcse_mean,
            &pounds,
        ),
        ("Mean cost per ICB", s.per_icb_average.mean, &pounds),
        (
            "Mean cost per ICB, 5th percentile",
            s.per_icb_average.p05,
            &pounds,
        ),
        (
            "Mean cost per ICB, 95th percentile",
            s.per_icb_average.p95,
            &pounds,
        ),
        ("Reference figure per ICB", s.reference_gbp, &pounds),
        (
            "Probability the mean cost per ICB exceeds the reference",
            s.prob_average_above_reference,
            &percent,
        ),
        (
            "ICBs whose mean cost exceeds the reference",
            s.icbs_mean_above_reference as f64,
            &Format::new(),
        ),
    ];
    for (k, (label, value, format)) in rows.iter().enumerate() {
        let row = 3 + k as u32;
        sheet.write_string(row, 0, *label)?;
        sheet.write_number_with_format(row, 1, *value, format)?;
    }
    sheet.write_string(14, 0, format!("Reference: {}", sc.reference.label))?;
    sheet.write_string(
        15,
        0,
        format!("Iterations: {}, seed {}", s.iterations, sc.seed),
    )?;

    let sheet = book.add_worksheet().set_name("ICBs")?;
    header(
        sheet,
        &[
            ("ICB code", 10.0),
            ("ICB", 44.0),
            ("Region", 24.0),
            ("Mean (£)", 14.0),
            ("5th percentile (£)", 16.0),
            ("Median (£)", 14.0),
            ("95th percentile (£)", 16.0),
            ("P(above reference)", 16.0),
        ],
    )?;
    for (k, icb) in s.icbs.iter().enumerate() {
        let row = 1 + k as u32;
        sheet.write_string(row, 0, icb.code.as_str())?;
        sheet.write_string(row, 1, crate::chart::short_icb_name(&icb.name))?;
        sheet.write_string(row, 2, icb.region.as_str())?;
        cost_columns(sheet, row, 3, &icb.cost, &pounds)?;
        sheet.write_number_with_format(row, 7, icb.prob_above_reference, &percent)?;
    }
    let last = s.icbs.len() as u32;
    let mut chart = Chart::new(ChartType::Bar);
    chart
        .add_series()
        .set_name("Mean cost")
        .set_categories(("ICBs", 1, 1, last, 1))
        .set_values(("ICBs", 1, 3, last, 3));
    chart
        .title()
        .set_name(format!("Mean cost per ICB, {} to {}", sc.start, sc.end()).as_str());
    chart.x_axis().set_num_format("£#,##0");
    chart.legend().set_hidden();
    chart.set_width(720).set_height(960);
    sheet.insert_chart(1, 9, &chart)?;

    if !s.former.is_empty() {
        // The ICBs a footprint replaced, as apportioned parts of its bodies.
        let sheet = book.add_worksheet().set_name("Former ICBs")?;
        header(
            sheet,
            &[
                ("ICB code", 10.0),
                ("ICB", 44.0),
                ("Part of (share of patients)", 44.0),
                ("Mean (£)", 14.0),
                ("5th percentile (£)", 16.0),
                ("Median (£)", 14.0),
                ("95th percentile (£)", 16.0),
            ],
        )?;
        for (k, icb) in s.former.iter().enumerate() {
            let row = 1 + k as u32;
            sheet.write_string(row, 0, icb.code.as_str())?;
            sheet.write_string(row, 1, crate::chart::short_icb_name(&icb.name))?;
            sheet.write_string(row, 2, icb.members_text())?;
            cost_columns(sheet, row, 3, &icb.cost, &pounds)?;
        }
    }

    let sheet = book.add_worksheet().set_name("Actions")?;
    header(
        sheet,
        &[
            ("ICB code", 10.0),
            ("Action", 30.0),
            ("Mean (£)", 14.0),
            ("5th percentile (£)", 16.0),
            ("95th percentile (£)", 16.0),
        ],
    )?;
    for (k, a) in s.icb_actions.iter().enumerate() {
        let row = 1 + k as u32;
        sheet.write_string(row, 0, s.icbs[a.icb].code.as_str())?;
        sheet.write_string(row, 1, sc.actions[a.action].id.as_str())?;
        for (col, v) in [(2, a.cost.mean), (3, a.cost.p05), (4, a.cost.p95)] {
            sheet.write_number_with_format(row, col, v, &pounds)?;
        }
    }

    let sheet = book.add_worksheet().set_name("Monthly")?;
    header(
        sheet,
        &[
            ("Month", 10.0),
            ("Cumulative national mean (£)", 26.0),
            ("5th percentile (£)", 16.0),
            ("95th percentile (£)", 16.0),
        ],
    )?;
    for (k, m) in s.monthly.iter().enumerate() {
        let row = 1 + k as u32;
        sheet.write_string(row, 0, m.month.to_string())?;
        for (col, v) in [
            (1, m.cumulative.mean),
            (2, m.cumulative.p05),
            (3, m.cumulative.p95),
        ] {
            sheet.write_number_with_format(row, col, v, &pounds)?;
        }
    }

    // What the model expects to see in the data: each activity, nationally and per ICB.
    let sheet = book.add_worksheet().set_name("Activity")?;
    header(
        sheet,
        &[
            ("Scope", 12.0),
            ("Activity", 30.0),
            ("Mean", 14.0),
            ("5th percentile", 14.0),
            ("95th percentile", 14.0),
        ],
    )?;
    let counts = Format::new().set_num_format("#,##0");
    let mut row = 1u32;
    for a in &s.activity {
        let scopes = std::iter::once(("national", &a.national))
            .chain(s.icbs.iter().map(|i| i.code.as_str()).zip(&a.icbs));
        for (scope, summary) in scopes {
            sheet.write_string(row, 0, scope)?;
            sheet.write_string(row, 1, a.name.as_str())?;
            for (col, v) in [(2, summary.mean), (3, summary.p05), (4, summary.p95)] {
                sheet.write_number_with_format(row, col, v, &counts)?;
            }
            row += 1;
        }
    }

    let sheet = book.add_worksheet().set_name("Assumptions")?;
    header(
        sheet,
        &[
            ("Action", 30.0),
            ("Factor", 34.0),
            ("Distribution", 40.0),
            ("Varies", 10.0),
            ("Assumption", 12.0),
            ("Source", 90.0),
        ],
    )?;
    for (row, (label, f)) in (1..).zip(sc.labelled_factors()) {
        sheet.write_string(row, 0, label)?;
        sheet.write_string(row, 1, f.name.as_str())?;
        sheet.write_string(row, 2, f.describe())?;
        sheet.write_string(row, 3, f.vary.as_str())?;
        sheet.write_string(row, 4, if f.assumption { "yes" } else { "no" })?;
        sheet.write_string_with_format(row, 5, f.source.as_deref().unwrap_or(""), &wrap)?;
    }
    let first = 1 + sc.labelled_factors().count() as u32;
    for (row, (label, f, o)) in (first..).zip(sc.own_inputs()) {
        sheet.write_string(row, 0, label)?;
        sheet.write_string(row, 1, f.name.as_str())?;
        sheet.write_string(row, 2, o.dist.spec().describe())?;
        sheet.write_string(row, 3, crate::report::own_input(o))?;
        sheet.write_string(row, 4, "no")?;
        sheet.write_string_with_format(row, 5, o.source.as_deref().unwrap_or(""), &wrap)?;
    }

    let sheet = book.add_worksheet().set_name("Manifest")?;
    header(sheet, &[("Item", 24.0), ("Value", 100.0)])?;
    let items = crate::report::manifest_rows(r);
    for (k, (item, value)) in items.iter().enumerate() {
        sheet.write_string(1 + k as u32, 0, *item)?;
        sheet.write_string(1 + k as u32, 1, value.as_str())?;
    }
    Ok(book)
}
