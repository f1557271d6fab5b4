//! Reading a spanned TOML tree field by field, so that every problem in a file is collected
//! (with its line) instead of stopping at the first one. Leaf values go through serde.

use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::de::{DeValue, ValueDeserializer};
use toml::Spanned;

use crate::error::Problem;
use crate::month::Month;
use crate::names;
use crate::price::PriceYear;

pub type Value<'i> = Spanned<DeValue<'i>>;

/// A problem has been pushed to the [`Reader`]: the caller must not report it again, and
/// whatever it was reading is not there to build with. `Err(Reported)` keeps that apart from
/// `Ok(None)`, a key that is simply absent. Only [`Reader::problem`] makes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reported(());

/// For a key with a default: a value already reported reads as absent, so that the item
/// holding it is still built and the checks that use it still run. The file fails on the
/// reported problem, so the default never reaches a [`Scenario`](super::Scenario).
pub trait OrAbsent<T> {
    fn or_absent(self) -> Option<T>;
}

impl<T> OrAbsent<T> for Result<Option<T>, Reported> {
    fn or_absent(self) -> Option<T> {
        self.ok().flatten()
    }
}

/// Collects problems and turns byte offsets into line numbers; carries the scenario's price
/// year, read first, to the factors converted to it.
pub struct Reader<'t> {
    text: &'t str,
    pub problems: Vec<Problem>,
    /// `[scenario] price_year`: `None` when absent, `Some(Err)` when it was reported.
    pub price_year: Option<Result<PriceYear, Reported>>,
}

impl<'t> Reader<'t> {
    pub fn new(text: &'t str) -> Self {
        Reader {
            text,
            problems: Vec::new(),
            price_year: None,
        }
    }

    pub fn line(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    /// Records a problem at the line of `span`.
    pub fn problem(
        &mut self,
        span: &Range<usize>,
        field: &str,
        message: impl Into<String>,
    ) -> Reported {
        let line = self.line(span);
        self.problems.push(Problem::new(Some(line), field, message));
        Reported(())
    }

    /// Records a problem of a setting given with the file rather than in it (no line).
    pub fn problem_of_setting(&mut self, field: &str, message: impl Into<String>) -> Reported {
        self.problems.push(Problem::new(None, field, message));
        Reported(())
    }

    /// Deserializes one value with serde; a failure becomes a problem at the value's line.
    pub fn de<T: DeserializeOwned>(
        &mut self,
        field: &str,
        value: Value<'_>,
    ) -> Result<T, Reported> {
        let span = value.span();
        T::deserialize(ValueDeserializer::from(value)).map_err(|e| {
            let at = e.span().unwrap_or(span);
            self.problem(&at, field, e.message().trim_end().to_string())
        })
    }
}

/// One TOML table being read: keys are taken as they are understood, and whatever is left at
/// the end is reported as unknown, beside the keys the reader asked for (so the keys a table
/// takes are listed once, where they are read).
pub struct Table<'i> {
    pub path: String,
    pub span: Range<usize>,
    entries: Vec<(String, Range<usize>, Value<'i>)>,
    /// Every key asked for, in the order first asked.
    asked: Vec<String>,
}

impl<'i> Table<'i> {
    /// The value as a table, or a problem saying what was expected.
    pub fn from_value(
        r: &mut Reader,
        path: &str,
        value: Value<'i>,
        expected: &str,
    ) -> Result<Self, Reported> {
        let span = value.span();
        match value.into_inner() {
            DeValue::Table(map) => Ok(Table {
                path: path.to_string(),
                span,
                entries: map
                    .into_iter()
                    .map(|(k, v)| (k.get_ref().to_string(), k.span(), v))
                    .collect(),
                asked: Vec::new(),
            }),
            other => Err(r.problem(
                &span,
                path,
                format!("expected {expected}, found {}", kind(&other)),
            )),
        }
    }

    /// The dotted path of a key of this table.
    pub fn field(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// Removes and returns a key's raw value.
    pub fn take(&mut self, key: &str) -> Option<Value<'i>> {
        if !self.asked.iter().any(|k| k == key) {
            self.asked.push(key.to_string());
        }
        let at = self.entries.iter().position(|(k, _, _)| k == key)?;
        Some(self.entries.remove(at).2)
    }

    /// Removes and returns every remaining entry, in file order.
    pub fn drain(&mut self) -> Vec<(String, Range<usize>, Value<'i>)> {
        std::mem::take(&mut self.entries)
    }

    /// An optional key, deserialized, with the span of its value.
    pub fn get<T: DeserializeOwned>(
        &mut self,
        r: &mut Reader,
        key: &str,
    ) -> Result<Option<(T, Range<usize>)>, Reported> {
        let Some(value) = self.take(key) else {
            return Ok(None);
        };
        let span = value.span();
        r.de(&self.field(key), value).map(|v| Some((v, span)))
    }

    /// An optional key, deserialized, without its span.
    pub fn value<T: DeserializeOwned>(
        &mut self,
        r: &mut Reader,
        key: &str,
    ) -> Result<Option<T>, Reported> {
        Ok(self.get(r, key)?.map(|(v, _)| v))
    }

    /// Reports a required key as missing (at the table's line).
    pub fn missing(&self, r: &mut Reader, key: &str) -> Reported {
        r.problem(&self.span, &self.field(key), "required but missing")
    }

    /// What was read from a required key: a problem when it was absent.
    pub fn require<T>(
        &self,
        r: &mut Reader,
        key: &str,
        got: Result<Option<T>, Reported>,
    ) -> Result<T, Reported> {
        got?.ok_or_else(|| self.missing(r, key))
    }

    /// A required key, deserialized, with the span of its value.
    pub fn required<T: DeserializeOwned>(
        &mut self,
        r: &mut Reader,
        key: &str,
    ) -> Result<(T, Range<usize>), Reported> {
        let got = self.get(r, key);
        self.require(r, key, got)
    }

    /// An optional whole number in `[min, max]` (`what` describes the expected value).
    pub fn int_in(
        &mut self,
        r: &mut Reader,
        key: &str,
        min: i64,
        max: i64,
        what: &str,
    ) -> Result<Option<i64>, Reported> {
        match self.get::<i64>(r, key)? {
            Some((v, span)) if !(min..=max).contains(&v) => Err(r.problem(
                &span,
                &self.field(key),
                format!("must be {what}, found {v}"),
            )),
            got => Ok(got.map(|(v, _)| v)),
        }
    }

    /// An optional string key turned into a `T` by `parse`, with its span; `parse`'s error
    /// is the problem.
    pub fn parsed<T>(
        &mut self,
        r: &mut Reader,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<(T, Range<usize>)>, Reported> {
        let Some((text, span)) = self.get::<String>(r, key)? else {
            return Ok(None);
        };
        match parse(&text) {
            Ok(v) => Ok(Some((v, span))),
            Err(message) => Err(r.problem(&span, &self.field(key), message)),
        }
    }

    /// An optional `YYYY-MM` month, with its span.
    pub fn month(
        &mut self,
        r: &mut Reader,
        key: &str,
    ) -> Result<Option<(Month, Range<usize>)>, Reported> {
        self.parsed(r, key, str::parse)
    }

    /// An optional string naming a variant of `T`, a word-valued enum read through its
    /// derived `Deserialize` (see [`names`]).
    pub fn choice<T: DeserializeOwned>(
        &mut self,
        r: &mut Reader,
        key: &str,
    ) -> Result<Option<T>, Reported> {
        let got = self.parsed(r, key, |text| {
            names::from_name(text).ok_or_else(|| {
                format!(
                    "unknown {key} '{text}'; expected {}",
                    names::quoted::<T>(" or ")
                )
            })
        })?;
        Ok(got.map(|(v, _)| v))
    }

    /// Reports every key that was not taken, naming the keys asked for.
    pub fn finish(self, r: &mut Reader) {
        let allowed = &self.asked;
        for (key, span, _) in self.entries {
            let field = join(&self.path, &key);
            r.problem(
                &span,
                &field,
                format!(
                    "unknown key '{key}'; expected one of: {}",
                    allowed.join(", ")
                ),
            );
        }
    }
}

/// Every item, or `Reported` if any failed. Each item is read, so every problem is reported
/// (collecting into `Result<Vec<_>, _>` would stop reading at the first failure).
pub fn read_all<T>(
    items: impl IntoIterator<Item = Result<T, Reported>>,
) -> Result<Vec<T>, Reported> {
    let mut out = Vec::new();
    let mut failed = None;
    for item in items {
        match item {
            Ok(v) => out.push(v),
            Err(reported) => failed = Some(reported),
        }
    }
    failed.map_or(Ok(out), Err)
}

/// `path.key`, or `key` at the top level.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The TOML type of a value, for messages.
pub fn kind(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}
