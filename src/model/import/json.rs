//! Lenient typed JSON for the importers: a file is deserialised in one pass straight into the
//! structs an importer reads, yet a field of the wrong type is kept as *what was found* instead of
//! failing inside serde.
//!
//! # Why
//! A generic `serde_json::Value` tree costs an allocation per number and per object key (a 500 kB
//! XGBoost model is ~100 000 of them), then as much again to free it — most of the time `explain`
//! spent loading a model. Plain `#[derive(Deserialize)]` structs avoid that, but a mistyped field
//! then fails inside serde with "invalid type: string, expected i64 at line 1 column 48213", which
//! names neither the tree nor the field. The wrappers here never fail on a type: [`Obj`] and
//! [`List`] record the [`Kind`] found instead, a [`List`] keeps its first bad element (index and
//! text), and [`Scalar`] keeps any scalar as written. The importer then checks fields in its own
//! order and words every error itself ("tree 3: 'split_conditions'[0]: expected a number, found
//! \"NaN\""), as it did over a `Value`. Only malformed JSON (and a key repeated in one object)
//! still fails in serde, with a line and column.
//!
//! Fields use `#[serde(default)]`: an absent key is [`Obj::Missing`], [`List::Missing`] or
//! [`Scalar::Missing`], a JSON `null` is [`Kind::Null`] — as `Value::get` told them apart.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The kind of a JSON value, for messages ("expected a list, found a string").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Null,
    Bool,
    Number,
    String,
    List,
    Object,
}

impl Kind {
    /// "a string", "a list", … as in error messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Bool => "a boolean",
            Kind::Number => "a number",
            Kind::String => "a string",
            Kind::List => "a list",
            Kind::Object => "an object",
        }
    }
}

/// Any JSON value, with scalars kept as written (strings borrowed from the file when they have no
/// escapes) and containers skipped.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) enum Scalar<'a> {
    /// The key was absent.
    #[default]
    Missing,
    Null,
    Bool(bool),
    /// A negative integer.
    Int(i64),
    /// A non-negative integer.
    UInt(u64),
    Float(f64),
    Str(Cow<'a, str>),
    /// A list (its content is skipped).
    List,
    /// An object (its content is skipped).
    Object,
}

impl Scalar<'_> {
    /// The kind of the value; `None` when the key was absent.
    pub(crate) fn kind(&self) -> Option<Kind> {
        Some(match self {
            Scalar::Missing => return None,
            Scalar::Null => Kind::Null,
            Scalar::Bool(_) => Kind::Bool,
            Scalar::Int(_) | Scalar::UInt(_) | Scalar::Float(_) => Kind::Number,
            Scalar::Str(_) => Kind::String,
            Scalar::List => Kind::List,
            Scalar::Object => Kind::Object,
        })
    }

    /// The kind's name, "absent" for a missing key.
    pub(crate) fn kind_name(&self) -> &'static str {
        self.kind().map_or("absent", Kind::name)
    }

    /// An integer that fits `i64` (as `serde_json::Value::as_i64`: not a float).
    pub(crate) fn as_i64(&self) -> Option<i64> {
        match *self {
            Scalar::Int(i) => Some(i),
            Scalar::UInt(u) => i64::try_from(u).ok(),
            _ => None,
        }
    }

    /// A non-negative integer (as `serde_json::Value::as_u64`).
    pub(crate) fn as_u64(&self) -> Option<u64> {
        match *self {
            Scalar::UInt(u) => Some(u),
            _ => None,
        }
    }

    /// Any number as `f64` (as `serde_json::Value::as_f64`).
    pub(crate) fn as_f64(&self) -> Option<f64> {
        match *self {
            Scalar::Int(i) => Some(i as f64),
            Scalar::UInt(u) => Some(u as f64),
            Scalar::Float(f) => Some(f),
            _ => None,
        }
    }

    /// The string, when this is one.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value for an error message: scalars as written in JSON (shortened to 40 characters),
    /// containers by kind.
    pub(crate) fn describe(&self) -> String {
        let text = match self {
            Scalar::Missing | Scalar::List | Scalar::Object => return self.kind_name().to_string(),
            Scalar::Null => "null".to_string(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::UInt(u) => u.to_string(),
            Scalar::Float(f) => {
                serde_json::Number::from_f64(*f).map_or_else(|| f.to_string(), |n| n.to_string())
            }
            Scalar::Str(s) => serde_json::to_string(s.as_ref()).unwrap_or_default(),
        };
        if text.chars().count() > 40 {
            format!("{}…", text.chars().take(40).collect::<String>())
        } else {
            text
        }
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Scalar<'de>, E> {
        Ok(if v < 0 {
            Scalar::Int(v)
        } else {
            Scalar::UInt(v as u64)
        })
    }
    fn visit_u64<E>(self, v: u64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::UInt(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Owned(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Scalar<'de>, A::Error> {
        skip_seq(seq)?;
        Ok(Scalar::List)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Scalar<'de>, A::Error> {
        skip_map(map)?;
        Ok(Scalar::Object)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

fn skip_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// The kind of a scalar (not a container) for [`Obj::Not`] and [`List::Not`].
fn scalar_kind(s: &Scalar) -> Kind {
    s.kind().unwrap_or(Kind::Null)
}

/// The visits of a wrapper's visitor for scalars: `$not(kind)` (the value is not the container the
/// field should hold).
macro_rules! not_a_container {
    ($out:ty, $not:path) => {
        fn visit_unit<E>(self) -> Result<$out, E> {
            Ok($not(Kind::Null))
        }
        fn visit_bool<E>(self, _: bool) -> Result<$out, E> {
            Ok($not(Kind::Bool))
        }
        fn visit_i64<E>(self, _: i64) -> Result<$out, E> {
            Ok($not(Kind::Number))
        }
        fn visit_u64<E>(self, _: u64) -> Result<$out, E> {
            Ok($not(Kind::Number))
        }
        fn visit_f64<E>(self, _: f64) -> Result<$out, E> {
            Ok($not(Kind::Number))
        }
        fn visit_str<E>(self, _: &str) -> Result<$out, E> {
            Ok($not(Kind::String))
        }
    };
}

/// A field that should be a JSON object deserialised as `T`.
#[derive(Debug, Default)]
pub(crate) enum Obj<T> {
    #[default]
    Missing,
    Is(T),
    /// Something else was found.
    Not(Kind),
}

struct ObjVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjVisitor<T> {
    type Value = Obj<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Obj<T>, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(Obj::Is)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Obj<T>, A::Error> {
        skip_seq(seq)?;
        Ok(Obj::Not(Kind::List))
    }
    not_a_container!(Obj<T>, Obj::Not);
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ObjVisitor(PhantomData))
    }
}

/// What a list element can be converted to ([`List`] keeps the first element that cannot).
pub(crate) trait Element<'a>: Sized + Default {
    /// What the element should be, for messages: "an integer", "a number", …
    const EXPECTED: &'static str;
    /// The element, or `None` when `s` is not one.
    fn from_scalar(s: &Scalar<'a>) -> Option<Self>;
    /// What a bad element is called in messages: as written (`"NaN"`, `1.5`) by default.
    fn found(bad: &BadElement) -> &str {
        &bad.text
    }
}

impl<'a> Element<'a> for i64 {
    const EXPECTED: &'static str = "an integer";
    fn from_scalar(s: &Scalar<'a>) -> Option<i64> {
        s.as_i64()
    }
}

impl<'a> Element<'a> for f64 {
    const EXPECTED: &'static str = "a number";
    fn from_scalar(s: &Scalar<'a>) -> Option<f64> {
        s.as_f64()
    }
}

/// 0/1 integers (XGBoost's JSON) or booleans (some converters).
impl<'a> Element<'a> for bool {
    const EXPECTED: &'static str = "0 or 1";
    fn from_scalar(s: &Scalar<'a>) -> Option<bool> {
        match *s {
            Scalar::Bool(b) => Some(b),
            Scalar::UInt(0) => Some(false),
            Scalar::UInt(1) => Some(true),
            _ => None,
        }
    }
}

impl<'de: 'a, 'a> Element<'de> for Cow<'a, str> {
    const EXPECTED: &'static str = "a string";
    fn from_scalar(s: &Scalar<'de>) -> Option<Cow<'a, str>> {
        match s {
            Scalar::Str(s) => Some(s.clone()),
            _ => None,
        }
    }
    /// A list of names calls a bad element by its kind ("found a number").
    fn found(bad: &BadElement) -> &str {
        bad.kind.name()
    }
}

/// The first element of a list that was not what it should be.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct BadElement {
    pub index: usize,
    pub kind: Kind,
    /// As [`Scalar::describe`].
    pub text: String,
}

/// A field that should be a JSON list of `E`.
#[derive(Debug, Default)]
pub(crate) enum List<E> {
    #[default]
    Missing,
    /// The elements (a default value in place of bad ones) and the first bad element.
    Is(Vec<E>, Option<BadElement>),
    /// Something else was found.
    Not(Kind),
}

struct ListVisitor<El>(PhantomData<El>);

impl<'de, El: Element<'de>> Visitor<'de> for ListVisitor<El> {
    type Value = List<El>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<List<El>, A::Error> {
        let mut values = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
        let mut bad = None;
        while let Some(s) = seq.next_element::<Scalar<'de>>()? {
            match El::from_scalar(&s) {
                Some(v) => values.push(v),
                None => {
                    if bad.is_none() {
                        bad = Some(BadElement {
                            index: values.len(),
                            kind: scalar_kind(&s),
                            text: s.describe(),
                        });
                    }
                    values.push(El::default());
                }
            }
        }
        Ok(List::Is(values, bad))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<List<El>, A::Error> {
        skip_map(map)?;
        Ok(List::Not(Kind::Object))
    }
    not_a_container!(List<El>, List::Not);
}

impl<'de, El: Element<'de>> Deserialize<'de> for List<El> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ListVisitor(PhantomData))
    }
}

/// A field that should be a JSON list of objects deserialised as `T`; elements that are not
/// objects are [`Obj::Not`].
#[derive(Debug, Default)]
pub(crate) enum ObjList<T> {
    #[default]
    Missing,
    Is(Vec<Obj<T>>),
    Not(Kind),
}

struct ObjListVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjListVisitor<T> {
    type Value = ObjList<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ObjList<T>, A::Error> {
        let mut values = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
        while let Some(v) = seq.next_element::<Obj<T>>()? {
            values.push(v);
        }
        Ok(ObjList::Is(values))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ObjList<T>, A::Error> {
        skip_map(map)?;
        Ok(ObjList::Not(Kind::Object))
    }
    not_a_container!(ObjList<T>, ObjList::Not);
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjList<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ObjListVisitor(PhantomData))
    }
}
