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

/// The name of a unit-only enum's variant, as its derived `Serialize` writes it: the name,
/// never one of its aliases (which `variant_names` lists too, so a place in that list is no
/// variant's name once an alias is added).
pub fn name_of<T>(value: &T) -> &'static str
where
    T: serde::Serialize + for<'de> Deserialize<'de>,
{
    let written = serde_json::to_value(value).expect("a unit variant serializes");
    let written = written
        .as_str()
        .expect("a unit variant serializes as its name");
    variant_names::<T>()
        .iter()
        .find(|name| **name == written)
        .expect("the name a variant serializes as is one Deserialize accepts")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Aliased {
        #[serde(alias = "first_old")]
        First,
        Second,
    }

    #[test]
    fn a_name_is_the_variant_s_own_even_after_an_alias() {
        // serde lists the alias among the names, so the place of `Second` is 2, not 1.
        assert_eq!(variant_names::<Aliased>(), ["first", "first_old", "second"]);
        assert_eq!(name_of(&Aliased::First), "first");
        assert_eq!(name_of(&Aliased::Second), "second");
        assert_eq!(from_name::<Aliased>("first_old"), Some(Aliased::First));
    }

    #[test]
    fn every_word_valued_enum_names_each_variant_as_it_reads_it() {
        use crate::benchmark::Quantity;
        use crate::calibrate::Observation;
        use crate::scenario::{CostView, Granularity, Vary};
        fn round_trip<T>(all: &[T], as_str: fn(T) -> &'static str)
        where
            T: Copy + PartialEq + std::fmt::Debug + DeserializeOwned,
        {
            for &v in all {
                assert_eq!(from_name::<T>(as_str(v)), Some(v), "{v:?}");
            }
        }
        round_trip(
            &[
                Quantity::IcbTotal,
                Quantity::NationalTotal,
                Quantity::MeanPerIcb,
                Quantity::DisclosedMean,
                Quantity::DisclosedSum,
                Quantity::Count,
                Quantity::NationalActivity,
                Quantity::IcbActivity,
            ],
            Quantity::as_str,
        );
        round_trip(
            &[Observation::Normal, Observation::Lognormal],
            Observation::as_str,
        );
        round_trip(&[CostView::IcbCash, CostView::Economic], CostView::as_str);
        round_trip(
            &[Granularity::Icb, Granularity::Practice],
            Granularity::as_str,
        );
        round_trip(&[Vary::National, Vary::Icb], Vary::as_str);
    }
}
