//! Edits to a scenario's TOML text, as the explorer sends them, made in place so that the
//! file keeps its comments, order and layout: set keys of a table (a factor, an action, the
//! `[scenario]` section), remove a table (an action switched off), or replace the ICBs' own
//! inputs (`[[overrides]]`).

use serde::Deserialize;
use serde_json::{Map, Value as Json};
use toml_edit::{ArrayOfTables, DocumentMut, InlineTable, Item, Table, TableLike, Value};

use crate::dist;

/// One edit.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Edit {
    /// Sets keys of the table at `table` (dotted, `costs[0]` for an entry of an array of
    /// tables); a null value removes the key. A key that holds a plain number (a fixed factor,
    /// `x = 0.5`) becomes an inline table when more than a value is set.
    Set {
        table: String,
        set: Map<String, Json>,
    },
    /// Removes the table (or key) at this path.
    Remove { remove: String },
    /// Replaces every `[[overrides]]` entry with these, in order.
    Overrides { overrides: Vec<Map<String, Json>> },
}

/// The order keys are written in when an edit adds them (JSON objects have none): an
/// override's ICB and factor, then a distribution's name and parameters as users write them
/// ([`dist::PARAMETERS`]), then an action's start and end; other keys follow in name order.
fn key_order() -> impl Iterator<Item = &'static str> {
    ["icb", "factor", "dist"]
        .into_iter()
        .chain(dist::PARAMETERS.iter().map(|(k, _)| *k))
        .chain(["start", "end"])
}

/// `set`'s entries in [`key_order`].
fn ordered(set: &Map<String, Json>) -> Vec<(&String, &Json)> {
    let mut entries: Vec<(&String, &Json)> = set.iter().collect();
    let rank = |k: &str| key_order().position(|o| o == k).unwrap_or(usize::MAX);
    entries.sort_by(|(a, _), (b, _)| rank(a).cmp(&rank(b)).then(a.cmp(b)));
    entries
}

/// Applies `edits` to `text` in order. An edit that cannot be made is an error naming it.
pub fn apply(text: &str, edits: &[Edit]) -> Result<String, EditError> {
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| EditError {
        field: "toml".into(),
        message: format!("not valid TOML: {}", e.message()),
    })?;
    for edit in edits {
        match edit {
            Edit::Set { table, set } => set_keys(&mut doc, table, set)?,
            Edit::Remove { remove } => {
                let (parent, key) = split_last(remove);
                let removed = table_at(&mut doc, parent, remove)?.remove(key);
                if removed.is_none() {
                    return Err(EditError::new(remove, "there is no such table or key"));
                }
            }
            Edit::Overrides { overrides } => {
                let root = doc.as_table_mut();
                root.remove("overrides");
                if !overrides.is_empty() {
                    let mut array = ArrayOfTables::new();
                    for (n, entry) in overrides.iter().enumerate() {
                        array.push(override_entry(entry, n)?);
                    }
                    root.insert("overrides", Item::ArrayOfTables(array));
                }
            }
        }
    }
    Ok(doc.to_string())
}

/// Whether `key` is a distribution's: its name or a parameter of any family.
fn is_dist_key(key: &str) -> bool {
    key == "dist" || dist::PARAMETERS.iter().any(|(k, _)| *k == key)
}

/// An `[[overrides]]` entry: `icb`, `factor`, `source` as given; a distribution given as
/// `dist` and its parameters becomes the entry's `value = { dist = …, … }` (a fixed value
/// stays a number).
fn override_entry(entry: &Map<String, Json>, n: usize) -> Result<Table, EditError> {
    let dist = entry.get("dist").and_then(Json::as_str);
    let mut table = Table::new();
    let mut inline = InlineTable::new();
    for (key, value) in ordered(entry) {
        let field = format!("overrides[{n}].{key}");
        let Some(value) = toml_value(value, &field)? else {
            continue;
        };
        match dist {
            Some(d) if d != "fixed" && is_dist_key(key) => {
                inline.insert(key.as_str(), value);
            }
            _ if key == "dist" => {}
            _ => {
                table.insert(key, Item::Value(value));
            }
        }
    }
    if !inline.is_empty() {
        let mut value = Value::InlineTable(inline);
        value.decor_mut().set_prefix(" ");
        table.insert("value", Item::Value(value));
    }
    Ok(table)
}

/// An edit that could not be made: which (`field`, the path it names) and why.
#[derive(Debug, Clone, PartialEq)]
pub struct EditError {
    pub field: String,
    pub message: String,
}

impl EditError {
    fn new(field: &str, message: &str) -> EditError {
        EditError {
            field: field.to_string(),
            message: message.to_string(),
        }
    }
}

fn set_keys(doc: &mut DocumentMut, path: &str, set: &Map<String, Json>) -> Result<(), EditError> {
    let (parent, key) = split_last(path);
    let parent = table_at(doc, parent, path)?;
    let item = parent
        .get_mut(key)
        .ok_or_else(|| EditError::new(path, "there is no such table"))?;
    // A plain number (a fixed factor) stays one when only its value is set.
    if item.as_value().is_some_and(|v| !v.is_inline_table()) {
        let fixed = set.iter().all(|(k, v)| match k.as_str() {
            "dist" => v.as_str() == Some("fixed"),
            "value" => v.is_number(),
            _ => v.is_null(),
        });
        let new = match fixed {
            true => toml_value(
                set.get("value").unwrap_or(&Json::Null),
                &format!("{path}.value"),
            )?,
            false => {
                let mut table = InlineTable::new();
                for (k, v) in ordered(set) {
                    if let Some(v) = toml_value(v, &format!("{path}.{k}"))? {
                        table.insert(k.as_str(), v);
                    }
                }
                Some(Value::InlineTable(table))
            }
        };
        let old = item.as_value().expect("checked").decor().clone();
        let mut new = new.ok_or_else(|| EditError::new(path, "a fixed value needs a value"))?;
        *new.decor_mut() = old;
        *item = Item::Value(new);
        return Ok(());
    }
    let table = item
        .as_table_like_mut()
        .ok_or_else(|| EditError::new(path, "not a table"))?;
    for (key, value) in ordered(set) {
        let field = format!("{path}.{key}");
        match toml_value(value, &field)? {
            None => {
                table.remove(key);
            }
            Some(mut value) => match table.get_mut(key).and_then(Item::as_value_mut) {
                Some(old) => {
                    *value.decor_mut() = old.decor().clone();
                    *old = value;
                }
                None => {
                    table.insert(key, Item::Value(value));
                }
            },
        }
    }
    Ok(())
}

/// The table at the dotted `path` (the document itself when empty); `whole` names the edit.
fn table_at<'d>(
    doc: &'d mut DocumentMut,
    path: &str,
    whole: &str,
) -> Result<&'d mut dyn TableLike, EditError> {
    let mut table: &mut dyn TableLike = doc.as_table_mut();
    if path.is_empty() {
        return Ok(table);
    }
    for segment in path.split('.') {
        let (key, index) = match segment.split_once('[') {
            Some((key, rest)) => {
                let n = rest
                    .strip_suffix(']')
                    .and_then(|n| n.parse::<usize>().ok())
                    .ok_or_else(|| EditError::new(whole, "a path's index is written [n]"))?;
                (key, Some(n))
            }
            None => (segment, None),
        };
        let item = table
            .get_mut(key)
            .ok_or_else(|| EditError::new(whole, "there is no such table"))?;
        table = match index {
            Some(n) => item
                .as_array_of_tables_mut()
                .and_then(|a| a.get_mut(n))
                .map(|t| t as &mut dyn TableLike),
            None => item.as_table_like_mut(),
        }
        .ok_or_else(|| EditError::new(whole, "there is no such table"))?;
    }
    Ok(table)
}

/// `a.b.c` → (`a.b`, `c`); `c` → (``, `c`).
fn split_last(path: &str) -> (&str, &str) {
    path.rsplit_once('.').unwrap_or(("", path))
}

/// A JSON scalar as a TOML value: null is `None` (remove); an integer stays an integer.
fn toml_value(value: &Json, field: &str) -> Result<Option<Value>, EditError> {
    Ok(Some(match value {
        Json::Null => return Ok(None),
        Json::Bool(b) => Value::from(*b),
        Json::String(s) => Value::from(s.as_str()),
        Json::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Value::from(i),
            (None, Some(x)) if x.is_finite() => Value::from(x),
            _ => return Err(EditError::new(field, "not a finite number")),
        },
        Json::Array(_) | Json::Object(_) => {
            return Err(EditError::new(
                field,
                "a value is a string, a number or a boolean",
            ))
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TEXT: &str = r#"# A scenario.
[scenario]
name = "test" # its name
start = "2024-08"
months = 6

[actions.cap]
label = "Cap"

[actions.cap.factors]
# The share above 25.
share = { dist = "pert", min = 0.1, mode = 0.2, max = 0.3, source = "a survey" }
fixed = 0.5

[[actions.cap.costs]]
label = "Line"

[actions.cap.costs.factors.unit]
dist = "uniform"
min = 1.0
max = 2.0

[actions.other]
label = "Other"
"#;

    fn edits(value: serde_json::Value) -> Vec<Edit> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn keys_are_set_and_removed_in_place_keeping_comments_and_layout() {
        let out = apply(
            TEXT,
            &edits(json!([
                { "table": "actions.cap.factors.share", "set": { "dist": "triangular", "min": 0.2, "mode": null, "max": 0.4 } },
                { "table": "actions.cap.costs[0].factors.unit", "set": { "dist": "fixed", "value": 3, "min": null, "max": null } },
                { "table": "scenario", "set": { "months": 12, "seed": 7 } },
            ])),
        )
        .unwrap();
        assert_eq!(
            out,
            TEXT.replace(
                r#"share = { dist = "pert", min = 0.1, mode = 0.2, max = 0.3, source = "a survey" }"#,
                r#"share = { dist = "triangular", min = 0.2, max = 0.4, source = "a survey" }"#
            )
            .replace(
                "dist = \"uniform\"\nmin = 1.0\nmax = 2.0\n",
                "dist = \"fixed\"\nvalue = 3\n"
            )
            .replace("months = 6\n", "months = 12\nseed = 7\n")
        );
    }

    #[test]
    fn a_plain_number_stays_one_or_becomes_an_inline_table() {
        let fixed = apply(
            TEXT,
            &edits(json!([{ "table": "actions.cap.factors.fixed", "set": { "dist": "fixed", "value": 0.6, "min": null } }])),
        )
        .unwrap();
        assert!(fixed.contains("\nfixed = 0.6\n"), "{fixed}");
        let pert = apply(
            TEXT,
            &edits(json!([{ "table": "actions.cap.factors.fixed", "set": { "dist": "pert", "min": 0.4, "mode": 0.5, "max": 0.7, "value": null } }])),
        )
        .unwrap();
        assert!(
            pert.contains("\nfixed = { dist = \"pert\", min = 0.4, mode = 0.5, max = 0.7 }\n"),
            "{pert}"
        );
    }

    #[test]
    fn an_action_is_removed_whole_and_overrides_are_replaced() {
        let out = apply(
            TEXT,
            &edits(json!([
                { "remove": "actions.cap" },
                { "overrides": [ { "icb": "QU9", "factor": "actions.other.factors.x", "value": 0.65 } ] },
            ])),
        )
        .unwrap();
        assert!(!out.contains("Cap") && !out.contains("a survey") && !out.contains("unit"));
        assert!(out.contains("[actions.other]"));
        assert!(
            out.ends_with("[[overrides]]\nicb = \"QU9\"\nfactor = \"actions.other.factors.x\"\nvalue = 0.65\n"),
            "{out}"
        );
        let drawn = apply(
            TEXT,
            &edits(json!([{ "overrides": [
                { "icb": "QU9", "factor": "actions.cap.factors.share", "dist": "pert", "min": 0.5, "mode": 0.6, "max": 0.7, "source": "a survey" },
                { "icb": "QE1", "factor": "actions.cap.factors.share", "dist": "fixed", "value": 0.4 },
            ] }])),
        )
        .unwrap();
        assert!(
            drawn.ends_with(
                "[[overrides]]\nicb = \"QU9\"\nfactor = \"actions.cap.factors.share\"\nsource = \"a survey\"\nvalue = { dist = \"pert\", min = 0.5, mode = 0.6, max = 0.7 }\n\n\
                 [[overrides]]\nicb = \"QE1\"\nfactor = \"actions.cap.factors.share\"\nvalue = 0.4\n"
            ),
            "{drawn}"
        );
        let cleared = apply(&out, &edits(json!([{ "overrides": [] }]))).unwrap();
        assert!(!cleared.contains("overrides"));
    }

    #[test]
    fn what_cannot_be_edited_is_named() {
        let fail = |e: serde_json::Value| apply(TEXT, &edits(json!([e]))).unwrap_err();
        assert_eq!(
            fail(json!({ "table": "actions.nope.factors.x", "set": {} })),
            EditError::new("actions.nope.factors.x", "there is no such table")
        );
        assert_eq!(
            fail(json!({ "remove": "actions.cap.costs[3]" })).message,
            "there is no such table or key"
        );
        assert_eq!(
            fail(json!({ "table": "scenario", "set": { "seed": [1] } })),
            EditError::new(
                "scenario.seed",
                "a value is a string, a number or a boolean"
            )
        );
        assert_eq!(apply("a = [", &[]).unwrap_err().field, "toml");
    }
}
