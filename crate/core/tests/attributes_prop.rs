//! Property test: the attribute evaluator agrees with a small reference
//! implementation written straight from the rule definitions.

use std::collections::BTreeSet;

use proptest::prelude::*;
use valise_core::attributes::{evaluate, AttributeDefinition, AttributeFqn, AttributeRule, Unmet};

const COMMUNITY: &str = "https://cert.example/community";
const OTHER_COMMUNITY: &str = "https://other.example";

/// A generated case: definitions, required (attribute, value) indexes and
/// held (community is ours?, attribute, value) indexes. Value indexes may
/// point past a definition's values to produce undefined values.
#[derive(Debug, Clone)]
struct Case {
    definitions: Vec<AttributeDefinition>,
    required: Vec<(usize, usize)>,
    held: Vec<(bool, usize, usize)>,
}

fn rule() -> impl Strategy<Value = AttributeRule> {
    prop_oneof![Just(AttributeRule::AllOf), Just(AttributeRule::AnyOf), Just(AttributeRule::Hierarchy)]
}

fn case() -> impl Strategy<Value = Case> {
    prop::collection::vec((rule(), 1usize..5), 1..4).prop_flat_map(|shapes| {
        let definitions: Vec<AttributeDefinition> = shapes
            .iter()
            .enumerate()
            .map(|(index, (rule, count))| AttributeDefinition {
                name: format!("a{index}"),
                rule: *rule,
                values: (0..*count).map(|value| format!("v{value}")).collect(),
            })
            .collect();
        let attribute_count = definitions.len();
        let required = prop::collection::vec((0..attribute_count, 0usize..6), 0..6);
        let held = prop::collection::vec((prop::bool::weighted(0.85), 0..attribute_count, 0usize..6), 0..8);
        (Just(definitions), required, held).prop_map(|(definitions, required, held)| Case { definitions, required, held })
    })
}

/// Returns every unmet requirement as (attribute index, value index) pairs
/// for allOf/hierarchy, (attribute index, None) for anyOf, plus the undefined
/// required values, using nothing but set definitions.
fn reference(case: &Case) -> (BTreeSet<(usize, Option<usize>)>, BTreeSet<(usize, usize)>) {
    let mut unmet = BTreeSet::new();
    let mut undefined = BTreeSet::new();
    for (attribute, definition) in case.definitions.iter().enumerate() {
        let count = definition.values.len();
        let required: BTreeSet<usize> = case
            .required
            .iter()
            .filter(|(a, v)| *a == attribute && *v < count)
            .map(|(_, v)| *v)
            .collect();
        let held: BTreeSet<usize> = case
            .held
            .iter()
            .filter(|(ours, a, v)| *ours && *a == attribute && *v < count)
            .map(|(_, _, v)| *v)
            .collect();
        if required.is_empty() {
            continue;
        }
        match definition.rule {
            AttributeRule::AllOf => {
                for value in &required {
                    if !held.contains(value) {
                        unmet.insert((attribute, Some(*value)));
                    }
                }
            }
            AttributeRule::AnyOf => {
                if required.intersection(&held).next().is_none() {
                    unmet.insert((attribute, None));
                }
            }
            AttributeRule::Hierarchy => {
                // Value 0 is the highest. The reader needs some held value
                // that is at least as high as every required value.
                let satisfied = held.iter().any(|h| required.iter().all(|r| h <= r));
                if !satisfied {
                    let highest_required = required.iter().min().copied();
                    unmet.insert((attribute, highest_required));
                }
            }
        }
    }
    for (attribute, value) in &case.required {
        if *value >= case.definitions[*attribute].values.len() {
            undefined.insert((*attribute, *value));
        }
    }
    (unmet, undefined)
}

fn value_fqn(attribute: usize, value: usize) -> String {
    format!("{COMMUNITY}/attr/a{attribute}/value/v{value}")
}

fn index_of(fqn: &str) -> (usize, usize) {
    let parsed = AttributeFqn::parse(fqn).expect("evaluator returns valid FQNs");
    let attribute = parsed.name().trim_start_matches('a').parse().expect("generated name");
    let value = parsed.value().trim_start_matches('v').parse().expect("generated value");
    (attribute, value)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn evaluator_matches_reference(case in case()) {
        let required: Vec<String> = case.required.iter().map(|(a, v)| value_fqn(*a, *v)).collect();
        let held: Vec<AttributeFqn> = case
            .held
            .iter()
            .map(|(ours, a, v)| {
                let community = if *ours { COMMUNITY } else { OTHER_COMMUNITY };
                AttributeFqn::new(community, &format!("a{a}"), &format!("v{v}")).expect("generated FQN")
            })
            .collect();

        let result = evaluate(&case.definitions, COMMUNITY, &required, &held);

        let mut unmet = BTreeSet::new();
        let mut undefined = BTreeSet::new();
        for entry in &result {
            match entry {
                Unmet::AllOf { value } | Unmet::Hierarchy { value } => {
                    let (attribute, value) = index_of(value);
                    unmet.insert((attribute, Some(value)));
                }
                Unmet::AnyOf { attribute, values } => {
                    let index = attribute.rsplit('a').next().and_then(|n| n.parse::<usize>().ok()).expect("generated name");
                    let listed: BTreeSet<usize> = values.iter().map(|v| index_of(v).1).collect();
                    let expected: BTreeSet<usize> = case
                        .required
                        .iter()
                        .filter(|(a, v)| *a == index && *v < case.definitions[index].values.len())
                        .map(|(_, v)| *v)
                        .collect();
                    prop_assert_eq!(listed, expected, "anyOf lists exactly the required values");
                    unmet.insert((index, None));
                }
                Unmet::Unknown { value } => {
                    undefined.insert(index_of(value));
                }
                other => prop_assert!(false, "unexpected variant {:?}", other),

            }
        }
        let (expected_unmet, expected_undefined) = reference(&case);
        prop_assert_eq!(unmet, expected_unmet);
        prop_assert_eq!(undefined, expected_undefined);
        prop_assert_eq!(result.is_empty(), reference(&case).0.is_empty() && reference(&case).1.is_empty());
    }
}
