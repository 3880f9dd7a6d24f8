//! Attribute FQNs, attribute definitions and the OpenTDF attribute rules.
//!
//! An attribute value is named by its fully qualified name (FQN):
//! `https://COMMUNITY/attr/NAME/value/VALUE`, where `https://COMMUNITY` is the
//! community id (for example `https://cert.example/community`). The grammar is
//! a strict subset of RFC 3986 URIs, so that one value has exactly one
//! spelling:
//!
//! - the scheme is `https`;
//! - the authority is a DNS host name (labels of letters, digits and `-`,
//!   separated by `.`), with no user info and no port;
//! - the community path has zero or more segments of letters, digits, `-`,
//!   `_`, `.` and `~` (the RFC 3986 unreserved characters), none of them
//!   empty, `.` or `..`;
//! - NAME and VALUE use letters, digits, `-` and `_`, start and end with a
//!   letter or digit and are at most 253 characters, as in OpenTDF;
//! - there is no query, no fragment, no trailing `/` and no percent-encoding:
//!   a `%` is rejected, because every allowed character is unreserved and an
//!   encoded form would be a second spelling of the same value.
//!
//! Case: FQNs are case-insensitive, as OpenTDF attribute names and values are,
//! and the canonical form is all lowercase. Parsing accepts any case and
//! returns the lowercase form; every comparison in Valise is between canonical
//! forms.
//!
//! Rules, as OpenTDF defines them, for the values of one attribute that a
//! package requires (its `dataAttributes`):
//!
//! - `allOf`: the reader must hold every required value;
//! - `anyOf`: the reader must hold at least one required value;
//! - `hierarchy`: the definition orders its values from highest to lowest
//!   (the first value is the highest); the reader must hold a value at or
//!   above the highest required value.
//!
//! Entitlements of another community never count: only entitlements whose
//! community is the package's community are considered.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Maximum length of an attribute name or value, as in OpenTDF.
pub const MAX_NAME_LEN: usize = 253;

/// Maximum length of a whole FQN or community id, checked before parsing.
pub const MAX_FQN_LEN: usize = 2048;

/// Maximum number of values of one attribute definition.
pub const MAX_VALUES_PER_ATTRIBUTE: usize = 256;

/// Error from parsing a community id or an attribute FQN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FqnError {
    /// The text is longer than [`MAX_FQN_LEN`].
    #[error("attribute FQN is {0} bytes long, the maximum is {MAX_FQN_LEN}")]
    TooLong(usize),
    /// The scheme is not `https://`.
    #[error("{0:?} does not start with https://")]
    Scheme(String),
    /// The host is missing or not a DNS name, or has user info or a port.
    #[error("{0:?} has an invalid host (expected a DNS name, no user info or port)")]
    Host(String),
    /// A community path segment is empty, `.`, `..` or has a character
    /// outside the allowed set.
    #[error("{0:?} has an invalid path segment {1:?}")]
    PathSegment(String, String),
    /// The text contains `%`, `?` or `#`.
    #[error("{0:?} contains {1:?}; percent-encoding, queries and fragments are not allowed")]
    ForbiddenCharacter(String, char),
    /// The text has no `/attr/NAME/value/VALUE` part.
    #[error("{0:?} is not of the form https://COMMUNITY/attr/NAME/value/VALUE")]
    Shape(String),
    /// An attribute name or value is empty, too long or has a character
    /// outside letters, digits, `-` and `_`.
    #[error("{0:?} is not a valid attribute name or value (letters, digits, '-' and '_', at most 253)")]
    Name(String),
}

/// Parses a community id (`https://HOST[/PATH]`) and returns its canonical,
/// lowercase form.
///
/// # Errors
///
/// Returns an [`FqnError`] naming the offending text when the id breaks the
/// grammar in the module documentation.
pub fn parse_community_id(text: &str) -> Result<String, FqnError> {
    if text.len() > MAX_FQN_LEN {
        return Err(FqnError::TooLong(text.len()));
    }
    for forbidden in ['%', '?', '#'] {
        if text.contains(forbidden) {
            return Err(FqnError::ForbiddenCharacter(text.to_owned(), forbidden));
        }
    }
    let lower = text.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").ok_or_else(|| FqnError::Scheme(text.to_owned()))?;
    let (host, path) = match rest.find('/') {
        Some(index) => (&rest[..index], Some(&rest[index + 1..])),
        None => (rest, None),
    };
    if !is_dns_name(host) {
        return Err(FqnError::Host(text.to_owned()));
    }
    if let Some(path) = path {
        for segment in path.split('/') {
            let valid = !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'));
            if !valid {
                return Err(FqnError::PathSegment(text.to_owned(), segment.to_owned()));
            }
        }
    }
    Ok(lower)
}

fn is_dns_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Checks an attribute name or value and returns it in lowercase.
///
/// # Errors
///
/// Returns [`FqnError::Name`] when the text is empty, longer than
/// [`MAX_NAME_LEN`], has a character other than letters, digits, `-` and
/// `_`, or starts or ends with `-` or `_`.
pub fn parse_name(text: &str) -> Result<String, FqnError> {
    let bytes = text.as_bytes();
    let valid = !bytes.is_empty()
        && bytes.len() <= MAX_NAME_LEN
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric);
    if valid {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(FqnError::Name(text.to_owned()))
    }
}

/// The FQN of one attribute value, in canonical (lowercase) form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AttributeFqn {
    community: String,
    name: String,
    value: String,
}

impl AttributeFqn {
    /// Parses `https://COMMUNITY/attr/NAME/value/VALUE` strictly.
    ///
    /// # Errors
    ///
    /// Returns an [`FqnError`] naming the offending text or part.
    pub fn parse(text: &str) -> Result<AttributeFqn, FqnError> {
        if text.len() > MAX_FQN_LEN {
            return Err(FqnError::TooLong(text.len()));
        }
        // The community part ends at the last "/attr/" that is followed by
        // exactly NAME/value/VALUE, so a community path may itself contain
        // a segment named "attr".
        let segments: Vec<&str> = text.split('/').collect();
        let count = segments.len();
        if count < 7 || !segments[count - 4].eq_ignore_ascii_case("attr") {
            return Err(FqnError::Shape(text.to_owned()));
        }
        if !segments[count - 2].eq_ignore_ascii_case("value") {
            return Err(FqnError::Shape(text.to_owned()));
        }
        let community_text = segments[..count - 4].join("/");
        let community = parse_community_id(&community_text).map_err(|error| match error {
            FqnError::Shape(_) => FqnError::Shape(text.to_owned()),
            other => other,
        })?;
        let name = parse_name(segments[count - 3])?;
        let value = parse_name(segments[count - 1])?;
        Ok(AttributeFqn { community, name, value })
    }

    /// Builds an FQN from its parts, checking each.
    ///
    /// # Errors
    ///
    /// Returns an [`FqnError`] when a part breaks the grammar.
    pub fn new(community: &str, name: &str, value: &str) -> Result<AttributeFqn, FqnError> {
        Ok(AttributeFqn { community: parse_community_id(community)?, name: parse_name(name)?, value: parse_name(value)? })
    }

    /// Returns the community id.
    pub fn community(&self) -> &str {
        &self.community
    }

    /// Returns the attribute name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Returns the attribute value.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Returns the FQN of the attribute definition, `https://COMMUNITY/attr/NAME`.
    pub fn definition_fqn(&self) -> String {
        definition_fqn(&self.community, &self.name)
    }
}

/// Formats the FQN of an attribute definition from a canonical community id
/// and name.
pub fn definition_fqn(community: &str, name: &str) -> String {
    format!("{community}/attr/{name}")
}

impl fmt::Display for AttributeFqn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/attr/{}/value/{}", self.community, self.name, self.value)
    }
}

impl Serialize for AttributeFqn {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AttributeFqn {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        AttributeFqn::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The rule that combines the required values of one attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AttributeRule {
    /// Every required value must be held.
    #[serde(rename = "allOf")]
    AllOf,
    /// At least one required value must be held.
    #[serde(rename = "anyOf")]
    AnyOf,
    /// A value at or above the highest required value must be held.
    #[serde(rename = "hierarchy")]
    Hierarchy,
}

impl AttributeRule {
    /// Returns the rule's name as the trust list spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            AttributeRule::AllOf => "allOf",
            AttributeRule::AnyOf => "anyOf",
            AttributeRule::Hierarchy => "hierarchy",
        }
    }
}

impl fmt::Display for AttributeRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One attribute definition of a community: its name, rule and values.
///
/// For [`AttributeRule::Hierarchy`] the order of `values` is the hierarchy,
/// highest first; for the other rules the order carries no meaning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttributeDefinition {
    /// Attribute name, lowercase.
    pub name: String,
    /// Rule for combining required values.
    pub rule: AttributeRule,
    /// Allowed values, lowercase; for a hierarchy, highest first.
    pub values: Vec<String>,
}

/// Error from checking an attribute definition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DefinitionError {
    /// The name or a value is not a valid, lowercase attribute name.
    #[error("attribute {attribute:?}: {source}")]
    Name {
        /// Attribute the error is about.
        attribute: String,
        /// Underlying error.
        source: FqnError,
    },
    /// A name or value is not in canonical lowercase form.
    #[error("attribute {attribute:?}: {text:?} is not lowercase")]
    NotCanonical {
        /// Attribute the error is about.
        attribute: String,
        /// Offending name or value.
        text: String,
    },
    /// The definition has no values or more than [`MAX_VALUES_PER_ATTRIBUTE`].
    #[error("attribute {attribute:?} has {count} values, expected 1 to {MAX_VALUES_PER_ATTRIBUTE}")]
    ValueCount {
        /// Attribute the error is about.
        attribute: String,
        /// Number of values.
        count: usize,
    },
    /// A value appears twice.
    #[error("attribute {attribute:?} lists the value {value:?} twice")]
    DuplicateValue {
        /// Attribute the error is about.
        attribute: String,
        /// Duplicated value.
        value: String,
    },
}

impl AttributeDefinition {
    /// Checks that the name and values are canonical, unique and within
    /// bounds.
    ///
    /// # Errors
    ///
    /// Returns the first [`DefinitionError`] found.
    pub fn validate(&self) -> Result<(), DefinitionError> {
        check_canonical(&self.name, &self.name)?;
        if self.values.is_empty() || self.values.len() > MAX_VALUES_PER_ATTRIBUTE {
            return Err(DefinitionError::ValueCount { attribute: self.name.clone(), count: self.values.len() });
        }
        let mut seen = BTreeSet::new();
        for value in &self.values {
            check_canonical(&self.name, value)?;
            if !seen.insert(value.as_str()) {
                return Err(DefinitionError::DuplicateValue { attribute: self.name.clone(), value: value.clone() });
            }
        }
        Ok(())
    }

    /// Returns the position of `value` in the definition (0 is the highest
    /// value of a hierarchy), or `None` when the value is not defined.
    pub fn position(&self, value: &str) -> Option<usize> {
        self.values.iter().position(|candidate| candidate == value)
    }
}

fn check_canonical(attribute: &str, text: &str) -> Result<(), DefinitionError> {
    let canonical = parse_name(text).map_err(|source| DefinitionError::Name { attribute: attribute.to_owned(), source })?;
    if canonical != text {
        return Err(DefinitionError::NotCanonical { attribute: attribute.to_owned(), text: text.to_owned() });
    }
    Ok(())
}

/// One requirement of a package that the reader's entitlements do not meet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
#[non_exhaustive]
pub enum Unmet {
    /// An `allOf` value the reader does not hold (one entry per value).
    AllOf {
        /// FQN of the missing value.
        value: String,
    },
    /// An `anyOf` attribute of which the reader holds none of the required
    /// values.
    AnyOf {
        /// FQN of the attribute definition.
        attribute: String,
        /// FQNs of the required values, any one of which would do.
        values: Vec<String>,
    },
    /// A `hierarchy` attribute where the reader holds no value at or above
    /// the required one.
    Hierarchy {
        /// FQN of the lowest value that would do (the highest required one).
        value: String,
    },
    /// A required value whose attribute or value the community does not
    /// define (including values of another community), or that is not a
    /// valid FQN. Nobody can satisfy it.
    Unknown {
        /// The required value as the package gives it.
        value: String,
    },
}

impl Unmet {
    /// Returns the FQN of the attribute definition (or the raw text of an
    /// unknown value) this requirement is about.
    pub fn attribute(&self) -> String {
        match self {
            Unmet::AllOf { value } | Unmet::Hierarchy { value } => match AttributeFqn::parse(value) {
                Ok(fqn) => fqn.definition_fqn(),
                Err(_) => value.clone(),
            },
            Unmet::AnyOf { attribute, .. } => attribute.clone(),
            Unmet::Unknown { value } => value.clone(),
        }
    }

    /// Returns a sentence naming the attribute and the missing value(s).
    pub fn describe(&self) -> String {
        match self {
            Unmet::AllOf { value } => format!("the package requires {value} (all-of) and the reader does not hold it"),
            Unmet::AnyOf { attribute, values } => {
                format!("the package requires one of {} for {attribute} (any-of) and the reader holds none", values.join(", "))
            }
            Unmet::Hierarchy { value } => {
                format!("the package requires {value} or a higher value (hierarchy) and the reader holds neither that value nor a higher one")
            }
            Unmet::Unknown { value } => format!("the package requires {value:?}, which this community does not define, so no reader can hold it"),
        }
    }
}

/// Evaluates a package's required attribute values against a reader's
/// entitlements within one community, and returns every requirement that is
/// not met (empty when access is granted).
///
/// `definitions` are the community's attribute definitions, `community` its
/// canonical id. Required values are raw strings as the policy carries them;
/// a malformed one, one of another community or one the community does not
/// define is reported as [`Unmet::Unknown`]. Entitlements of another
/// community, or whose value the community does not define, are ignored.
/// The result is ordered as the definitions are, then by value.
pub fn evaluate(definitions: &[AttributeDefinition], community: &str, required: &[String], entitlements: &[AttributeFqn]) -> Vec<Unmet> {
    let mut unmet = Vec::new();

    // Required values per definition index, as positions in the definition.
    let mut required_by_definition: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); definitions.len()];
    let mut unknown = BTreeSet::new();
    for text in required {
        let known = AttributeFqn::parse(text).ok().and_then(|fqn| {
            if fqn.community() != community {
                return None;
            }
            let index = definitions.iter().position(|d| d.name == fqn.name())?;
            let position = definitions[index].position(fqn.value())?;
            Some((index, position))
        });
        match known {
            Some((index, position)) => {
                required_by_definition[index].insert(position);
            }
            None => {
                unknown.insert(text.clone());
            }
        }
    }

    for (definition, required_positions) in definitions.iter().zip(&required_by_definition) {
        if required_positions.is_empty() {
            continue;
        }
        let held: BTreeSet<usize> = entitlements
            .iter()
            .filter(|fqn| fqn.community() == community && fqn.name() == definition.name)
            .filter_map(|fqn| definition.position(fqn.value()))
            .collect();
        let value_fqn = |position: usize| format!("{}/value/{}", definition_fqn(community, &definition.name), definition.values[position]);
        match definition.rule {
            AttributeRule::AllOf => {
                for &position in required_positions {
                    if !held.contains(&position) {
                        unmet.push(Unmet::AllOf { value: value_fqn(position) });
                    }
                }
            }
            AttributeRule::AnyOf => {
                if held.is_disjoint(required_positions) {
                    unmet.push(Unmet::AnyOf {
                        attribute: definition_fqn(community, &definition.name),
                        values: required_positions.iter().map(|&p| value_fqn(p)).collect(),
                    });
                }
            }
            AttributeRule::Hierarchy => {
                // Position 0 is the highest value; the strictest requirement
                // is the smallest required position.
                if let Some(&needed) = required_positions.first() {
                    if !held.iter().any(|&position| position <= needed) {
                        unmet.push(Unmet::Hierarchy { value: value_fqn(needed) });
                    }
                }
            }
        }
    }

    unmet.extend(unknown.into_iter().map(|value| Unmet::Unknown { value }));
    unmet
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMUNITY: &str = "https://cert.example/community";

    #[test]
    fn fqn_parses_and_lowercases() {
        let fqn = AttributeFqn::parse("HTTPS://Cert.Example/community/attr/Sector/value/Energy").expect("valid FQN");
        assert_eq!(fqn.community(), COMMUNITY);
        assert_eq!(fqn.name(), "sector");
        assert_eq!(fqn.value(), "energy");
        assert_eq!(fqn.to_string(), "https://cert.example/community/attr/sector/value/energy");
    }

    #[test]
    fn hierarchy_unmet_names_higher_values() {
        let unmet = Unmet::Hierarchy { value: format!("{COMMUNITY}/attr/level/value/high") };
        assert_eq!(
            unmet.describe(),
            format!(
                "the package requires {COMMUNITY}/attr/level/value/high or a higher value (hierarchy) and the reader holds neither that value nor a higher one"
            )
        );
    }

    #[test]
    fn fqn_without_community_path() {
        let fqn = AttributeFqn::parse("https://isac.example/attr/tier/value/gold").expect("valid FQN");
        assert_eq!(fqn.community(), "https://isac.example");
    }

    #[test]
    fn fqn_rejects_malformed() {
        for text in [
            "http://cert.example/attr/a/value/b",
            "https://cert.example/attr/a/value/b/",
            "https://cert.example/attr/a/value/",
            "https://cert.example/attr//value/b",
            "https://user@cert.example/attr/a/value/b",
            "https://cert.example:443/attr/a/value/b",
            "https://cert.example/attr/a/value/b%20c",
            "https://cert.example/attr/a/value/b?x",
            "https://cert.example/attr/a/value/b#x",
            "https://cert.example//attr/a/value/b",
            "https://cert.example/../attr/a/value/b",
            "https://cert.example/attr/a/values/b",
            "https://cert.example/attr/a/value/-b",
            "https://cert.example/attr/a/value/b c",
            "https://-cert.example/attr/a/value/b",
            "https://cert.example/attr/a",
            "cert.example/attr/a/value/b",
        ] {
            assert!(AttributeFqn::parse(text).is_err(), "{text} should be rejected");
        }
    }

    #[test]
    fn fqn_rejects_overlong_before_parsing() {
        let text = format!("https://cert.example/attr/a/value/{}", "b".repeat(MAX_FQN_LEN));
        assert_eq!(AttributeFqn::parse(&text), Err(FqnError::TooLong(text.len())));
    }

    fn definitions() -> Vec<AttributeDefinition> {
        vec![
            AttributeDefinition { name: "sector".into(), rule: AttributeRule::AnyOf, values: vec!["energy".into(), "finance".into()] },
            AttributeDefinition { name: "need".into(), rule: AttributeRule::AllOf, values: vec!["ops".into(), "legal".into()] },
            AttributeDefinition { name: "level".into(), rule: AttributeRule::Hierarchy, values: vec!["top".into(), "high".into(), "low".into()] },
        ]
    }

    fn fqn(name: &str, value: &str) -> String {
        format!("{COMMUNITY}/attr/{name}/value/{value}")
    }

    fn held(values: &[(&str, &str)]) -> Vec<AttributeFqn> {
        values.iter().map(|(name, value)| AttributeFqn::new(COMMUNITY, name, value).expect("valid")).collect()
    }

    #[test]
    fn hierarchy_higher_satisfies_lower() {
        let required = [fqn("level", "high")];
        assert!(evaluate(&definitions(), COMMUNITY, &required, &held(&[("level", "top")])).is_empty());
        assert!(evaluate(&definitions(), COMMUNITY, &required, &held(&[("level", "high")])).is_empty());
        assert_eq!(evaluate(&definitions(), COMMUNITY, &required, &held(&[("level", "low")])), vec![Unmet::Hierarchy { value: fqn("level", "high") }]);
    }

    #[test]
    fn all_of_names_each_missing_value() {
        let required = [fqn("need", "ops"), fqn("need", "legal")];
        assert_eq!(
            evaluate(&definitions(), COMMUNITY, &required, &[]),
            vec![Unmet::AllOf { value: fqn("need", "ops") }, Unmet::AllOf { value: fqn("need", "legal") }]
        );
    }

    #[test]
    fn any_of_one_value_is_enough() {
        let required = [fqn("sector", "energy"), fqn("sector", "finance")];
        assert!(evaluate(&definitions(), COMMUNITY, &required, &held(&[("sector", "finance")])).is_empty());
    }

    #[test]
    fn other_community_never_counts() {
        let required = [fqn("sector", "energy")];
        let foreign = vec![AttributeFqn::new("https://other.example", "sector", "energy").expect("valid")];
        assert_eq!(evaluate(&definitions(), COMMUNITY, &required, &foreign).len(), 1);
        let foreign_required = ["https://other.example/attr/sector/value/energy".to_owned()];
        assert_eq!(
            evaluate(&definitions(), COMMUNITY, &foreign_required, &held(&[("sector", "energy")])),
            vec![Unmet::Unknown { value: foreign_required[0].clone() }]
        );
    }

    #[test]
    fn undefined_value_is_unknown() {
        let required = [fqn("sector", "water"), "not a url".to_owned()];
        let unmet = evaluate(&definitions(), COMMUNITY, &required, &held(&[("sector", "energy")]));
        assert_eq!(unmet.len(), 2);
        assert!(unmet.iter().all(|u| matches!(u, Unmet::Unknown { .. })));
    }

    #[test]
    fn definition_validation() {
        let mut definition = definitions().remove(0);
        assert_eq!(definition.validate(), Ok(()));
        definition.values.push("energy".into());
        assert!(matches!(definition.validate(), Err(DefinitionError::DuplicateValue { .. })));
        definition.values = vec!["Energy".into()];
        assert!(matches!(definition.validate(), Err(DefinitionError::NotCanonical { .. })));
        definition.values.clear();
        assert!(matches!(definition.validate(), Err(DefinitionError::ValueCount { .. })));
    }
}
