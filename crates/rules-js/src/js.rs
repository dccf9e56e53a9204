//! Serde between Rust values and JavaScript values, written for a small wasm.
//!
//! `serde_json` (text in, text out) cost about half of the package: its parser is inlined into
//! every type's `Deserialize` instance. Here a JavaScript value is read where it lies (after a
//! `JSON.parse(JSON.stringify(value))`, so it is plain data, as JSON would have it), each
//! generic method only dispatches on the value's kind, and everything else is shared.
//!
//! Errors name the path of the value at fault (`lines[2].quantity`): it is built on the way
//! out of a failed read, one key or index per level, so reading costs nothing for it.

use js_sys::{Array, Object};
use serde::{
    de::{self, DeserializeSeed, Expected, Unexpected, Visitor},
    ser::{self, Serialize},
};
use std::fmt::{self, Display};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = JSON, js_name = stringify)]
    fn stringify(value: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_namespace = JSON, js_name = parse)]
    fn parse(text: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = Object, js_name = entries)]
    fn entries(object: &JsValue) -> Array;
    /// `String(number)`: how JavaScript writes a number.
    #[wasm_bindgen(js_name = String)]
    fn number_text(number: f64) -> String;
}

/// A value as JSON would have it: `undefined` properties dropped, dates as strings, `toJSON`
/// applied. `None` when it cannot be written as JSON (a cycle, a `BigInt`).
pub fn plain(value: &JsValue) -> Option<JsValue> {
    let text = stringify(value).ok()?;
    if text.is_undefined() {
        // `JSON.stringify(undefined)` (or of a function) writes nothing: read as null.
        return Some(JsValue::NULL);
    }
    parse(&text).ok()
}

/// A failed read or write: what is wrong, and where (innermost step first).
///
/// Boxed: a `Result` of it is one word, so the many `?` of the derived readers stay small.
#[derive(Debug)]
pub struct Error(Box<Inner>);

#[derive(Debug)]
struct Inner {
    message: String,
    path: Vec<Step>,
}

#[derive(Debug)]
enum Step {
    Key(String),
    Index(u32),
}

impl Error {
    #[inline(never)]
    fn new(message: String) -> Error {
        Error(Box::new(Inner { message, path: Vec::new() }))
    }

    #[inline(never)]
    fn at(mut self, step: Step) -> Error {
        self.0.path.push(step);
        self
    }

    /// The error of the value of an object's key.
    #[inline(never)]
    fn at_key(self, key: &str) -> Error {
        self.at(Step::Key(key.to_owned()))
    }

    /// The path of the value at fault, after `root` (`cart.lines[0].quantity`).
    pub fn path(&self, root: &str) -> String {
        let mut path = String::from(root);
        for step in self.0.path.iter().rev() {
            match step {
                Step::Key(key) => {
                    path.push('.');
                    path.push_str(key);
                }
                Step::Index(i) => {
                    path.push('[');
                    path.push_str(&i.to_string());
                    path.push(']');
                }
            }
        }
        path
    }

    pub fn message(&self) -> &str {
        &self.0.message
    }
}

impl Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl std::error::Error for Error {}

/// Serde's words for an unexpected value, except that a float is written as JavaScript writes
/// it (Rust's float formatting alone is 14 KB of wasm) and null is "null" (as in serde_json).
fn unexpected(unexp: &Unexpected<'_>) -> String {
    match *unexp {
        Unexpected::Unit => "null".to_owned(),
        Unexpected::Float(f) => format!("floating point `{}`", number_text(f)),
        Unexpected::Bool(b) => format!("boolean `{b}`"),
        Unexpected::Unsigned(u) => format!("integer `{u}`"),
        Unexpected::Signed(i) => format!("integer `{i}`"),
        Unexpected::Char(c) => format!("character `{c}`"),
        Unexpected::Str(s) => format!("string {}", rules::condition::text::quoted(s)),
        Unexpected::Bytes(_) => "byte array".to_owned(),
        Unexpected::Option => "Option value".to_owned(),
        Unexpected::NewtypeStruct => "newtype struct".to_owned(),
        Unexpected::Seq => "sequence".to_owned(),
        Unexpected::Map => "map".to_owned(),
        Unexpected::Enum => "enum".to_owned(),
        Unexpected::UnitVariant => "unit variant".to_owned(),
        Unexpected::NewtypeVariant => "newtype variant".to_owned(),
        Unexpected::TupleVariant => "tuple variant".to_owned(),
        Unexpected::StructVariant => "struct variant".to_owned(),
        Unexpected::Other(other) => other.to_owned(),
    }
}

impl de::Error for Error {
    fn custom<T: Display>(msg: T) -> Error {
        Error::new(msg.to_string())
    }

    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn Expected) -> Error {
        Error::new(format!("invalid type: {}, expected {exp}", unexpected(&unexp)))
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn Expected) -> Error {
        Error::new(format!("invalid value: {}, expected {exp}", unexpected(&unexp)))
    }
}

impl ser::Error for Error {
    fn custom<T: Display>(msg: T) -> Error {
        Error::new(msg.to_string())
    }
}

/// Reads a plain JavaScript value (see [`plain`]) as `T`.
pub fn from_value<T: de::DeserializeOwned>(value: JsValue) -> Result<T, Error> {
    T::deserialize(De(value))
}

/// Writes a value as a plain JavaScript value.
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, Error> {
    value.serialize(Ser)
}

/// What a JavaScript value is, as far as reading goes.
enum Kind {
    Null,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Str(String),
    Array,
    Object,
}

const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

#[inline(never)]
fn kind(value: &JsValue) -> Kind {
    if let Some(n) = value.as_f64() {
        // As serde_json reads numbers: integers when they are (and fit), floats otherwise.
        if n.fract() == 0.0 {
            if (0.0..TWO_POW_64).contains(&n) {
                return Kind::Unsigned(n as u64);
            }
            if (-TWO_POW_63..0.0).contains(&n) {
                return Kind::Signed(n as i64);
            }
        }
        Kind::Float(n)
    } else if let Some(s) = value.as_string() {
        Kind::Str(s)
    } else if let Some(b) = value.as_bool() {
        Kind::Bool(b)
    } else if value.is_null() || value.is_undefined() {
        Kind::Null
    } else if Array::is_array(value) {
        Kind::Array
    } else {
        Kind::Object
    }
}

/// The error for a value of the wrong kind.
#[inline(never)]
fn invalid_type(value: &JsValue, exp: &dyn Expected) -> Error {
    let kind = kind(value);
    let unexp = match &kind {
        Kind::Null => Unexpected::Unit,
        Kind::Bool(b) => Unexpected::Bool(*b),
        Kind::Unsigned(u) => Unexpected::Unsigned(*u),
        Kind::Signed(i) => Unexpected::Signed(*i),
        Kind::Float(f) => Unexpected::Float(*f),
        Kind::Str(s) => Unexpected::Str(s),
        Kind::Array => Unexpected::Seq,
        Kind::Object => Unexpected::Map,
    };
    <Error as de::Error>::invalid_type(unexp, exp)
}

#[inline(never)]
fn is_object(value: &JsValue) -> bool {
    value.is_object() && !Array::is_array(value)
}

/// A deserializer of one plain JavaScript value.
struct De(JsValue);

impl De {
    fn number<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match kind(&self.0) {
            Kind::Unsigned(u) => visitor.visit_u64(u),
            Kind::Signed(i) => visitor.visit_i64(i),
            Kind::Float(f) => visitor.visit_f64(f),
            _ => Err(invalid_type(&self.0, &visitor)),
        }
    }

    fn string<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0.as_string() {
            Some(s) => visitor.visit_string(s),
            None => Err(invalid_type(&self.0, &visitor)),
        }
    }

    fn seq<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if Array::is_array(&self.0) {
            visitor.visit_seq(Seq::new(self.0.unchecked_into()))
        } else {
            Err(invalid_type(&self.0, &visitor))
        }
    }

    fn map<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if is_object(&self.0) {
            visitor.visit_map(Map::new(&self.0))
        } else {
            Err(invalid_type(&self.0, &visitor))
        }
    }
}

impl<'de> de::Deserializer<'de> for De {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match kind(&self.0) {
            Kind::Null => visitor.visit_unit(),
            Kind::Bool(b) => visitor.visit_bool(b),
            Kind::Unsigned(u) => visitor.visit_u64(u),
            Kind::Signed(i) => visitor.visit_i64(i),
            Kind::Float(f) => visitor.visit_f64(f),
            Kind::Str(s) => visitor.visit_string(s),
            Kind::Array => visitor.visit_seq(Seq::new(self.0.unchecked_into())),
            Kind::Object => visitor.visit_map(Map::new(&self.0)),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0.as_bool() {
            Some(b) => visitor.visit_bool(b),
            None => Err(invalid_type(&self.0, &visitor)),
        }
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.number(visitor)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.number(visitor)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.number(visitor)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.number(visitor)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.number(visitor)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.number(visitor)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.number(visitor)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.number(visitor)
    }
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.number(visitor)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.number(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.string(visitor)
    }
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.string(visitor)
    }
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.string(visitor)
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.string(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.0.is_null() || self.0.is_undefined() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.0.is_null() || self.0.is_undefined() {
            visitor.visit_unit()
        } else {
            Err(invalid_type(&self.0, &visitor))
        }
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.seq(visitor)
    }
    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.seq(visitor)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.map(visitor)
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.map(visitor)
    }

    /// `"variant"` or `{"variant": value}`, as serde_json reads enums.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if self.0.is_string() {
            return visitor.visit_enum(Variant { key: text(&self.0), value: None });
        }
        if is_object(&self.0) {
            let entries = entries(&self.0);
            if entries.length() == 1 {
                let entry: Array = entries.get(0).unchecked_into();
                return visitor
                    .visit_enum(Variant { key: text(&entry.get(0)), value: Some(entry.get(1)) });
            }
            return Err(<Error as de::Error>::invalid_value(
                Unexpected::Map,
                &"map with a single key",
            ));
        }
        Err(invalid_type(&self.0, &visitor))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

struct Seq {
    array: Array,
    index: u32,
    len: u32,
}

impl Seq {
    #[inline(never)]
    fn new(array: Array) -> Seq {
        let len = array.length();
        Seq { array, index: 0, len }
    }
}

impl Seq {
    #[inline(never)]
    fn next(&mut self) -> Option<JsValue> {
        if self.index >= self.len {
            return None;
        }
        let value = self.array.get(self.index);
        self.index = self.index.saturating_add(1);
        Some(value)
    }
}

impl<'de> de::SeqAccess<'de> for Seq {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let index = self.index;
        match self.next() {
            Some(value) => {
                seed.deserialize(De(value)).map(Some).map_err(|e| e.at(Step::Index(index)))
            }
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.len.saturating_sub(self.index) as usize)
    }
}

/// An object's entries, in their order (JSON's order).
struct Map {
    entries: Array,
    index: u32,
    len: u32,
    /// The current entry's key.
    key: String,
}

impl Map {
    #[inline(never)]
    fn new(object: &JsValue) -> Map {
        let entries = entries(object);
        let len = entries.length();
        Map { entries, index: 0, len, key: String::new() }
    }
}

impl Map {
    /// Moves to the next entry, reading its key; false after the last.
    #[inline(never)]
    fn next_key(&mut self) -> bool {
        if self.index >= self.len {
            return false;
        }
        let entry: Array = self.entries.get(self.index).unchecked_into();
        self.key = text(&entry.get(0));
        true
    }

    #[inline(never)]
    fn next_value(&mut self) -> JsValue {
        let entry: Array = self.entries.get(self.index).unchecked_into();
        self.index = self.index.saturating_add(1);
        entry.get(1)
    }
}

impl<'de> de::MapAccess<'de> for Map {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        if self.next_key() { seed.deserialize(Key(&self.key)).map(Some) } else { Ok(None) }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        seed.deserialize(De(self.next_value())).map_err(|e| e.at_key(&self.key))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.len.saturating_sub(self.index) as usize)
    }
}

/// A string read once: an object's key or a variant's name.
#[inline(never)]
fn text(value: &JsValue) -> String {
    value.as_string().unwrap_or_default()
}

/// A deserializer of an object's key (a struct's field, a map's key) or a variant's name,
/// already read as a string: every field name of every type is read by this one path.
struct Key<'a>(&'a str);

impl<'de> de::Deserializer<'de> for Key<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_str(self.0)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    /// A unit variant by its name (a map keyed by an enum).
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_enum(de::value::StrDeserializer::<Error>::new(self.0))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// An enum's variant: its name, and its value unless it is a unit variant written as a string.
struct Variant {
    key: String,
    value: Option<JsValue>,
}

impl<'de> de::EnumAccess<'de> for Variant {
    type Error = Error;
    type Variant = Variant;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Variant), Error> {
        let variant = seed.deserialize(Key(&self.key))?;
        Ok((variant, self))
    }
}

impl Variant {
    /// The variant's value; an error (naming it) for a bare string.
    fn value(self, exp: &dyn Expected) -> Result<(De, String), Error> {
        match self.value {
            Some(value) => Ok((De(value), self.key)),
            None => Err(<Error as de::Error>::invalid_type(Unexpected::UnitVariant, exp)),
        }
    }
}

impl<'de> de::VariantAccess<'de> for Variant {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.value {
            None => Ok(()),
            Some(value) => de::Deserialize::deserialize(De(value)).map_err(|e| e.at_key(&self.key)),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        let (de, key) = self.value(&"newtype variant")?;
        seed.deserialize(de).map_err(|e| e.at_key(&key))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        let (de, key) = self.value(&"tuple variant")?;
        de.seq(visitor).map_err(|e| e.at_key(&key))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let (de, key) = self.value(&"struct variant")?;
        de.map(visitor).map_err(|e| e.at_key(&key))
    }
}

/// A serializer to plain JavaScript values (as `JSON.parse` of serde_json's text would give).
struct Ser;

#[inline(never)]
fn set(object: &JsValue, key: &JsValue, value: &JsValue) {
    // Setting a property of a fresh plain object cannot fail.
    let _ = js_sys::Reflect::set(object, key, value);
}

/// `{key: value}`.
#[inline(never)]
fn single(key: &str, value: &JsValue) -> JsValue {
    let object = Object::new().into();
    set(&object, &JsValue::from_str(key), value);
    object
}

impl ser::Serializer for Ser {
    type Ok = JsValue;
    type Error = Error;
    type SerializeSeq = ArraySer;
    type SerializeTuple = ArraySer;
    type SerializeTupleStruct = ArraySer;
    type SerializeTupleVariant = VariantSer<ArraySer>;
    type SerializeMap = ObjectSer;
    type SerializeStruct = ObjectSer;
    type SerializeStructVariant = VariantSer<ObjectSer>;

    fn serialize_bool(self, v: bool) -> Result<JsValue, Error> {
        Ok(JsValue::from_bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<JsValue, Error> {
        self.serialize_f64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<JsValue, Error> {
        self.serialize_f64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<JsValue, Error> {
        self.serialize_f64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<JsValue, Error> {
        self.serialize_f64(v as f64)
    }
    fn serialize_u8(self, v: u8) -> Result<JsValue, Error> {
        self.serialize_f64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<JsValue, Error> {
        self.serialize_f64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<JsValue, Error> {
        self.serialize_f64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<JsValue, Error> {
        self.serialize_f64(v as f64)
    }
    fn serialize_f32(self, v: f32) -> Result<JsValue, Error> {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> Result<JsValue, Error> {
        // JSON has no NaN or infinities; serde_json writes them as null.
        Ok(if v.is_finite() { JsValue::from_f64(v) } else { JsValue::NULL })
    }
    fn serialize_char(self, v: char) -> Result<JsValue, Error> {
        Ok(JsValue::from_str(v.encode_utf8(&mut [0; 4])))
    }
    fn serialize_str(self, v: &str) -> Result<JsValue, Error> {
        Ok(JsValue::from_str(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<JsValue, Error> {
        let array = Array::new();
        for b in v {
            array.push(&JsValue::from_f64((*b).into()));
        }
        Ok(array.into())
    }
    fn serialize_none(self) -> Result<JsValue, Error> {
        Ok(JsValue::NULL)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<JsValue, Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<JsValue, Error> {
        Ok(JsValue::NULL)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<JsValue, Error> {
        Ok(JsValue::NULL)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<JsValue, Error> {
        Ok(JsValue::from_str(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<JsValue, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<JsValue, Error> {
        Ok(single(variant, &value.serialize(self)?))
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<ArraySer, Error> {
        Ok(ArraySer(Array::new()))
    }
    fn serialize_tuple(self, _len: usize) -> Result<ArraySer, Error> {
        Ok(ArraySer(Array::new()))
    }
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<ArraySer, Error> {
        Ok(ArraySer(Array::new()))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<VariantSer<ArraySer>, Error> {
        Ok(VariantSer { variant, inner: ArraySer(Array::new()) })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<ObjectSer, Error> {
        Ok(ObjectSer::new())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<ObjectSer, Error> {
        Ok(ObjectSer::new())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<VariantSer<ObjectSer>, Error> {
        Ok(VariantSer { variant, inner: ObjectSer::new() })
    }
}

struct ArraySer(Array);

impl ArraySer {
    #[inline(never)]
    fn append(&self, value: JsValue) {
        self.0.push(&value);
    }

    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let value = value.serialize(Ser)?;
        self.append(value);
        Ok(())
    }
}

impl ser::SerializeSeq for ArraySer {
    type Ok = JsValue;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.push(value)
    }
    fn end(self) -> Result<JsValue, Error> {
        Ok(self.0.into())
    }
}

impl ser::SerializeTuple for ArraySer {
    type Ok = JsValue;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.push(value)
    }
    fn end(self) -> Result<JsValue, Error> {
        Ok(self.0.into())
    }
}

impl ser::SerializeTupleStruct for ArraySer {
    type Ok = JsValue;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.push(value)
    }
    fn end(self) -> Result<JsValue, Error> {
        Ok(self.0.into())
    }
}

struct ObjectSer {
    object: JsValue,
    key: JsValue,
}

impl ObjectSer {
    fn new() -> ObjectSer {
        ObjectSer { object: Object::new().into(), key: JsValue::UNDEFINED }
    }
}

impl ObjectSer {
    #[inline(never)]
    fn field(&self, key: &str, value: JsValue) {
        set(&self.object, &JsValue::from_str(key), &value);
    }

    #[inline(never)]
    fn entry(&self, value: JsValue) {
        set(&self.object, &self.key, &value);
    }
}

impl ser::SerializeMap for ObjectSer {
    type Ok = JsValue;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        // A number key becomes its text, as a property name does in JavaScript.
        self.key = key.serialize(Ser)?;
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let value = value.serialize(Ser)?;
        self.entry(value);
        Ok(())
    }
    fn end(self) -> Result<JsValue, Error> {
        Ok(self.object)
    }
}

impl ser::SerializeStruct for ObjectSer {
    type Ok = JsValue;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let value = value.serialize(Ser)?;
        self.field(key, value);
        Ok(())
    }
    fn end(self) -> Result<JsValue, Error> {
        Ok(self.object)
    }
}

/// `{variant: [...]}` or `{variant: {...}}`.
struct VariantSer<T> {
    variant: &'static str,
    inner: T,
}

impl ser::SerializeTupleVariant for VariantSer<ArraySer> {
    type Ok = JsValue;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.inner.push(value)
    }
    fn end(self) -> Result<JsValue, Error> {
        Ok(single(self.variant, &self.inner.0.into()))
    }
}

impl ser::SerializeStructVariant for VariantSer<ObjectSer> {
    type Ok = JsValue;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        ser::SerializeStruct::serialize_field(&mut self.inner, key, value)
    }
    fn end(self) -> Result<JsValue, Error> {
        Ok(single(self.variant, &self.inner.object))
    }
}
