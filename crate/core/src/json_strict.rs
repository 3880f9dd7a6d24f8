//! Strict JSON reading for everything the format parses: manifests, policy
//! objects, assertion statements and JWS payloads.
//!
//! Plain `serde_json` keeps the last of two equal keys in an object, so two
//! readers of the same bytes could see different values (one signs the first,
//! the other acts on the second). This module rejects duplicate keys at every
//! depth, bounds the input size before parsing and the nesting depth while
//! parsing, and then hands a `serde_json::Value` to the model's `Deserialize`.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Maximum nesting depth of arrays and objects. The deepest structure the
/// format needs (an assertion statement inside the manifest) stays under 16;
/// 64 leaves room for foreign assertion values without letting a hostile
/// document exhaust the stack.
pub const MAX_DEPTH: usize = 64;

/// Errors of strict JSON parsing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    /// The input is larger than the limit given by the caller.
    #[error("JSON document of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Input size in bytes.
        size: usize,
        /// Limit in bytes.
        limit: usize,
    },
    /// The text is not valid JSON, has a duplicate key, nests too deep, or
    /// does not match the expected structure.
    #[error("{0}")]
    Invalid(String),
}

/// Parses `bytes` as JSON into a `Value`, rejecting duplicate keys at any
/// depth, nesting deeper than [`MAX_DEPTH`] and input larger than `limit`.
///
/// # Errors
///
/// [`JsonError::TooLarge`] before any parsing when `bytes` exceeds `limit`;
/// [`JsonError::Invalid`] naming the duplicate key or the syntax error.
pub fn parse_value(bytes: &[u8], limit: usize) -> Result<Value, JsonError> {
    if bytes.len() > limit {
        return Err(JsonError::TooLarge { size: bytes.len(), limit });
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue { depth: 0 }
        .deserialize(&mut deserializer)
        .map_err(|e| JsonError::Invalid(e.to_string()))?;
    deserializer.end().map_err(|e| JsonError::Invalid(e.to_string()))?;
    Ok(value)
}

/// Parses `bytes` strictly (see [`parse_value`]) and then into `T`.
///
/// # Errors
///
/// As [`parse_value`], and [`JsonError::Invalid`] when the value does not
/// match `T`.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8], limit: usize) -> Result<T, JsonError> {
    let value = parse_value(bytes, limit)?;
    serde_json::from_value(value).map_err(|e| JsonError::Invalid(e.to_string()))
}

/// Checks a `Value` tree that came from elsewhere (an already parsed
/// document) against [`MAX_DEPTH`].
///
/// # Errors
///
/// [`JsonError::Invalid`] when the tree nests deeper than [`MAX_DEPTH`].
pub fn check_depth(value: &Value) -> Result<(), JsonError> {
    fn depth(value: &Value) -> usize {
        match value {
            Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
            Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
            _ => 0,
        }
    }
    if depth(value) > MAX_DEPTH {
        return Err(JsonError::Invalid(format!("JSON nests deeper than {MAX_DEPTH} levels")));
    }
    Ok(())
}

/// A `DeserializeSeed` that builds a `Value` while tracking depth and
/// rejecting duplicate object keys.
struct StrictValue {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl StrictValue {
    fn nested<E: de::Error>(&self) -> Result<StrictValue, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(format!("JSON nests deeper than {MAX_DEPTH} levels")));
        }
        Ok(StrictValue { depth: self.depth + 1 })
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.nested()?)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        let mut seen = HashSet::new();
        while let Some(key) = access.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format!("duplicate JSON key {key:?}")));
            }
            let value = access.next_value_seed(self.nested()?)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_document() {
        let value = parse_value(br#"{"a":[1,-2,3.5,"x",null,true],"b":{"c":{}}}"#, 1024).expect("parse");
        assert_eq!(value["a"][1], -2);
        assert_eq!(value["b"]["c"], Value::Object(Map::new()));
    }

    #[test]
    fn rejects_duplicate_keys_at_any_depth() {
        for text in [r#"{"a":1,"a":2}"#, r#"{"x":{"a":1,"b":2,"a":3}}"#, r#"[{"k":[{"z":1,"z":1}]}]"#] {
            let error = parse_value(text.as_bytes(), 1024).expect_err(text);
            assert!(error.to_string().contains("duplicate JSON key"), "{text}: {error}");
        }
    }

    #[test]
    fn equal_keys_in_sibling_objects_are_fine() {
        assert!(parse_value(br#"[{"a":1},{"a":2}]"#, 1024).is_ok());
    }

    #[test]
    fn bounds_depth_and_size() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(parse_value(deep.as_bytes(), 1 << 20).is_err());
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse_value(ok.as_bytes(), 1 << 20).is_ok());
        assert!(matches!(parse_value(b"[1,2,3]", 6), Err(JsonError::TooLarge { size: 7, limit: 6 })));
    }

    #[test]
    fn rejects_trailing_data() {
        assert!(parse_value(br#"{"a":1} x"#, 1024).is_err());
        assert!(parse_value(br#"{"a":1}{"b":2}"#, 1024).is_err());
    }

    #[test]
    fn keeps_member_order() {
        let value = parse_value(br#"{"z":1,"a":2}"#, 1024).expect("parse");
        assert_eq!(serde_json::to_string(&value).expect("serialise"), r#"{"z":1,"a":2}"#);
    }
}
