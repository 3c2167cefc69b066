//! Strict JSON reading for untrusted documents: UTF-8 without a BOM, a bounded nesting depth,
//! and no member name twice in one object (RFC 7515 §5.2 and RFC 8725 §3.4 leave parsers that
//! keep "the last one" open to confusion attacks; we refuse the document instead).

use crate::error::{ConfigError, Error};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::Cell;
use std::fmt;

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonError {
    /// Not UTF-8, has a BOM, or is not JSON: where (1-based line and column, when known) and what.
    Syntax(Option<Position>),
    /// A member name appears twice in one object.
    DuplicateMember,
    /// Nesting deeper than the limit.
    TooDeep,
    /// More values (members, elements, scalars) than the limit.
    TooManyValues,
}

/// Where a JSON syntax error is, and what it is (serde_json's words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong there (`trailing comma`, `EOF while parsing an object`, …).
    pub what: String,
}

impl JsonError {
    /// The refusal of a configuration document (policy or JWKS; `kind` is `Error::Policy` or
    /// `Error::Jwks`): a syntax error names its line and column.
    pub fn into_error(self, kind: fn(ConfigError) -> Error) -> Error {
        match self {
            JsonError::Syntax(Some(at)) => kind(ConfigError::at_position(at.line, at.column, at.what)),
            JsonError::Syntax(None) => kind(ConfigError::new("", "not a JSON document")),
            JsonError::DuplicateMember => kind(ConfigError::new("", "a member name appears twice")),
            JsonError::TooDeep => kind(ConfigError::new("", "nested too deeply")),
            JsonError::TooManyValues => kind(ConfigError::new("", "too many values")),
        }
    }
}

const DUPLICATE: &str = "edgeward: duplicate member";
const TOO_DEEP: &str = "edgeward: too deep";
const TOO_MANY: &str = "edgeward: too many values";

/// Parses `bytes` as one JSON value, refusing duplicates and nesting deeper than `max_depth`
/// (a scalar is depth 0, `{}` is depth 1).
pub fn parse(bytes: &[u8], max_depth: usize) -> Result<Value, JsonError> {
    parse_bounded(bytes, max_depth, usize::MAX)
}

/// [`parse`] that also refuses a document of more than `max_values` values (every object member,
/// array element and scalar counts one): a token of a thousand tiny members costs its parser far
/// more than its bytes suggest.
pub fn parse_bounded(bytes: &[u8], max_depth: usize, max_values: usize) -> Result<Value, JsonError> {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        let what = "a byte-order mark (BOM) is not allowed".to_owned();
        return Err(JsonError::Syntax(Some(Position { line: 1, column: 1, what })));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let values_left = Cell::new(max_values);
    let value = StrictValue { depth_left: max_depth, values_left: &values_left }
        .deserialize(&mut deserializer)
        .map_err(|e| classify(&e))?;
    deserializer.end().map_err(|e| classify(&e))?;
    Ok(value)
}

/// Parses `bytes` as a JSON object (see [`parse_bounded`]).
pub fn parse_object(bytes: &[u8], max_depth: usize, max_values: usize) -> Result<Map<String, Value>, JsonError> {
    match parse_bounded(bytes, max_depth, max_values)? {
        Value::Object(map) => Ok(map),
        _ => Err(JsonError::Syntax(None)),
    }
}

fn classify(error: &serde_json::Error) -> JsonError {
    let text = error.to_string();
    if text.starts_with(DUPLICATE) {
        JsonError::DuplicateMember
    } else if text.starts_with(TOO_DEEP) || text.starts_with("recursion limit exceeded") {
        JsonError::TooDeep
    } else if text.starts_with(TOO_MANY) {
        JsonError::TooManyValues
    } else if error.line() == 0 {
        JsonError::Syntax(None)
    } else {
        // serde_json ends its message with " at line L column C"; the position is kept apart.
        let what = text.split(" at line ").next().unwrap_or(&text).to_owned();
        JsonError::Syntax(Some(Position { line: error.line(), column: error.column(), what }))
    }
}

/// Builds a `serde_json::Value` while counting depth and values and checking member names.
struct StrictValue<'b> {
    depth_left: usize,
    values_left: &'b Cell<usize>,
}

impl<'b> StrictValue<'b> {
    fn nested<E: de::Error>(&self) -> Result<StrictValue<'b>, E> {
        match self.depth_left.checked_sub(1) {
            Some(depth_left) => Ok(StrictValue { depth_left, values_left: self.values_left }),
            None => Err(E::custom(TOO_DEEP)),
        }
    }

    fn child(&self) -> StrictValue<'b> {
        StrictValue { depth_left: self.depth_left, values_left: self.values_left }
    }
}

impl<'de> DeserializeSeed<'de> for StrictValue<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        match self.values_left.get().checked_sub(1) {
            Some(left) => self.values_left.set(left),
            None => return Err(de::Error::custom(TOO_MANY)),
        }
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        // serde_json refuses non-finite literals, but a huge exponent can still overflow to inf.
        serde_json::Number::from_f64(v).map(Value::Number).ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.nested()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(inner.child())? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.nested()?;
        let mut members = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            if members.contains_key(&name) {
                return Err(de::Error::custom(DUPLICATE));
            }
            let value = map.next_value_seed(inner.child())?;
            members.insert(name, value);
        }
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ordinary_objects() {
        let map = parse_object(br#"{"a":1,"b":[true,null,"x"],"c":{"d":1.5}}"#, 8, 100).unwrap_or_default();
        assert_eq!(map.len(), 3);
        assert_eq!(map["c"]["d"], 1.5);
    }

    #[test]
    fn refuses_duplicates_at_any_depth() {
        assert_eq!(parse(br#"{"a":1,"a":2}"#, 8), Err(JsonError::DuplicateMember));
        assert_eq!(parse(br#"{"x":{"a":1,"a":1}}"#, 8), Err(JsonError::DuplicateMember));
        // Escapes are decoded before comparing: "\u0061" is "a".
        assert_eq!(parse(br#"{"a":1,"\u0061":2}"#, 8), Err(JsonError::DuplicateMember));
    }

    #[test]
    fn bounds_depth() {
        assert!(parse(b"[[[1]]]", 3).is_ok());
        assert_eq!(parse(b"[[[1]]]", 2), Err(JsonError::TooDeep));
        let deep = "[".repeat(100_000);
        assert_eq!(parse(deep.as_bytes(), 32), Err(JsonError::TooDeep));
    }

    #[test]
    fn refuses_bom_trailing_data_and_bad_utf8() {
        let syntax = |r: Result<Value, JsonError>| matches!(r, Err(JsonError::Syntax(_)));
        assert!(syntax(parse(b"\xEF\xBB\xBF{}", 8)));
        assert!(syntax(parse(b"{} {}", 8)));
        assert!(syntax(parse(b"{\"a\":\"\xff\"}", 8)));
        assert!(syntax(parse(b"{\"a\":1e999}", 8)));
        assert_eq!(parse_object(b"[1]", 8, 10), Err(JsonError::Syntax(None)));
        assert!(syntax(parse(b"{\"a\":NaN}", 8)));
    }

    #[test]
    fn bounds_the_number_of_values() {
        // {"a":1,"b":[true,null]}: the object, 1, the array, true, null = 5 values.
        let doc = br#"{"a":1,"b":[true,null]}"#;
        assert!(parse_bounded(doc, 8, 5).is_ok());
        assert_eq!(parse_bounded(doc, 8, 4), Err(JsonError::TooManyValues));
        let many = format!("[{}]", vec!["0"; 10_000].join(","));
        assert_eq!(parse_bounded(many.as_bytes(), 8, 512), Err(JsonError::TooManyValues));
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let at = |text: &str| match parse(text.as_bytes(), 8) {
            Err(JsonError::Syntax(Some(p))) => (p.line, p.column, p.what),
            other => panic!("{other:?}"),
        };
        assert_eq!(at("{\n  \"a\": 1,\n}"), (3, 1, "trailing comma".to_owned()));
        assert_eq!(at("{\"a\": [1, 2}"), (1, 12, "expected `,` or `]`".to_owned()));
        assert_eq!(at("{} x").0, 1);
    }
}
