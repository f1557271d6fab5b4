//! Reading a spanned TOML tree field by field, so that every problem in a file is collected
//! (with its line) instead of stopping at the first one. Leaf values go through serde.

use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::de::{DeValue, ValueDeserializer};
use toml::Spanned;

use crate::error::Problem;

pub type Value<'i> = Spanned<DeValue<'i>>;

/// Collects problems and turns byte offsets into line numbers.
pub struct Reader<'t> {
    text: &'t str,
    pub problems: Vec<Problem>,
}

impl<'t> Reader<'t> {
    pub fn new(text: &'t str) -> Self {
        Reader {
            text,
            problems: Vec::new(),
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

    pub fn problem(&mut self, span: &Range<usize>, field: &str, message: impl Into<String>) {
        let line = self.line(span);
        self.problems.push(Problem::new(Some(line), field, message));
    }

    /// Deserializes one value with serde; a failure becomes a problem at the value's line.
    pub fn de<T: DeserializeOwned>(&mut self, field: &str, value: Value<'_>) -> Option<T> {
        let span = value.span();
        match T::deserialize(ValueDeserializer::from(value)) {
            Ok(v) => Some(v),
            Err(e) => {
                let at = e.span().unwrap_or(span);
                self.problem(&at, field, e.message().trim_end().to_string());
                None
            }
        }
    }
}

/// One TOML table being read: keys are taken as they are understood, and whatever is left at
/// the end is reported as unknown.
pub struct Table<'i> {
    pub path: String,
    pub span: Range<usize>,
    entries: Vec<(String, Range<usize>, Value<'i>)>,
}

impl<'i> Table<'i> {
    /// The value as a table, or a problem saying what was expected.
    pub fn from_value(
        r: &mut Reader,
        path: &str,
        value: Value<'i>,
        expected: &str,
    ) -> Option<Self> {
        let span = value.span();
        match value.into_inner() {
            DeValue::Table(map) => Some(Table {
                path: path.to_string(),
                span,
                entries: map
                    .into_iter()
                    .map(|(k, v)| (k.get_ref().to_string(), k.span(), v))
                    .collect(),
            }),
            other => {
                r.problem(
                    &span,
                    path,
                    format!("expected {expected}, found {}", kind(&other)),
                );
                None
            }
        }
    }

    /// The dotted path of a key of this table.
    pub fn field(&self, key: &str) -> String {
        join(&self.path, key)
    }

    pub fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _, _)| k == key)
    }

    /// Removes and returns a key's raw value.
    pub fn take(&mut self, key: &str) -> Option<Value<'i>> {
        let at = self.entries.iter().position(|(k, _, _)| k == key)?;
        Some(self.entries.remove(at).2)
    }

    /// Removes and returns every remaining entry, in file order.
    pub fn drain(&mut self) -> Vec<(String, Range<usize>, Value<'i>)> {
        std::mem::take(&mut self.entries)
    }

    /// An optional key, deserialized; `None` when absent or invalid (the latter is recorded).
    pub fn get<T: DeserializeOwned>(
        &mut self,
        r: &mut Reader,
        key: &str,
    ) -> Option<(T, Range<usize>)> {
        let value = self.take(key)?;
        let span = value.span();
        r.de(&self.field(key), value).map(|v| (v, span))
    }

    /// A required key: a problem when absent.
    pub fn required<T: DeserializeOwned>(
        &mut self,
        r: &mut Reader,
        key: &str,
    ) -> Option<(T, Range<usize>)> {
        if !self.has(key) {
            r.problem(&self.span, &self.field(key), "required but missing");
            return None;
        }
        self.get(r, key)
    }

    /// An optional whole number in `[min, max]`: `Ok(None)` when absent, `Err(())` when
    /// invalid (recorded, with `what` describing the expected value).
    pub fn int_in(
        &mut self,
        r: &mut Reader,
        key: &str,
        min: i64,
        max: i64,
        what: &str,
    ) -> Result<Option<i64>, ()> {
        let present = self.has(key);
        match self.get::<i64>(r, key) {
            Some((v, _)) if (min..=max).contains(&v) => Ok(Some(v)),
            Some((v, span)) => {
                r.problem(
                    &span,
                    &self.field(key),
                    format!("must be {what}, found {v}"),
                );
                Err(())
            }
            None if present => Err(()),
            None => Ok(None),
        }
    }

    /// An optional string that must be one of `choices`.
    pub fn choice(
        &mut self,
        r: &mut Reader,
        key: &str,
        choices: &[&str],
    ) -> Result<Option<String>, ()> {
        let present = self.has(key);
        match self.get::<String>(r, key) {
            Some((v, _)) if choices.contains(&v.as_str()) => Ok(Some(v)),
            Some((v, span)) => {
                let quoted: Vec<String> = choices.iter().map(|c| format!("\"{c}\"")).collect();
                r.problem(
                    &span,
                    &self.field(key),
                    format!("unknown {key} '{v}'; expected {}", quoted.join(" or ")),
                );
                Err(())
            }
            None if present => Err(()),
            None => Ok(None),
        }
    }

    /// Reports every key that was not taken.
    pub fn finish(self, r: &mut Reader, allowed: &[&str]) {
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
