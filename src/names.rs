//! The words of the crate's word-valued enums (a scenario's `cost_view = "icb_cash"`, a
//! benchmark's `quantity = "top6_mean"`) live in one place, their serde derives
//! (`#[serde(rename_all = ...)]` or a variant's `rename`); this reads them back, so that no
//! `match` maps strings to variants or variants to strings by hand.

use serde::de::{self, Deserialize, DeserializeOwned, Deserializer, Visitor};

/// The names a derived `Deserialize` of a unit-only enum accepts, in declaration order.
///
/// serde passes them to `Deserializer::deserialize_enum`; a deserializer that only records
/// them is enough to read them out.
pub fn variant_names<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    match T::deserialize(Names) {
        Err(Found::Variants(names)) => names,
        _ => panic!("variant_names needs an enum with a derived Deserialize"),
    }
}

/// The name of a unit-only enum's variant, given its discriminant (`variant as usize`, which
/// is its place in declaration order when no discriminant is written).
pub fn name_of<'de, T: Deserialize<'de>>(discriminant: usize) -> &'static str {
    variant_names::<T>()[discriminant]
}

/// The names, each in double quotes, joined by `conjunction`: `"icb_cash" or "economic"`.
pub fn quoted<'de, T: Deserialize<'de>>(conjunction: &str) -> String {
    let quoted: Vec<String> = variant_names::<T>()
        .iter()
        .map(|name| format!("\"{name}\""))
        .collect();
    quoted.join(conjunction)
}

/// The variant named `text`, if any.
pub fn from_name<T: DeserializeOwned>(text: &str) -> Option<T> {
    T::deserialize(de::value::StrDeserializer::<de::value::Error>::new(text)).ok()
}

/// A deserializer that answers every request with an error, recording an enum's names.
struct Names;

#[derive(Debug)]
enum Found {
    Variants(&'static [&'static str]),
    Other,
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not an enum")
    }
}

impl std::error::Error for Found {}

impl de::Error for Found {
    fn custom<M: std::fmt::Display>(_: M) -> Self {
        Found::Other
    }
}

impl<'de> Deserializer<'de> for Names {
    type Error = Found;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Found> {
        Err(Found::Other)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Found> {
        Err(Found::Variants(variants))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}
