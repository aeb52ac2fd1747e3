//! The shipped pack against its own published JSON Schemas (`cds-hooks/schema/`), and the
//! schemas against the Rust types of the format, so that neither drifts from the other:
//!
//! * every schema is a valid JSON Schema (2020-12), and every file of the shipped pack that has
//!   a schema (`rules/*.yaml`, `valuesets/*.yaml`, `cohort.yaml`) is valid against it
//!   (`sources.yaml` and `services/*.json` have none);
//! * at every level of the format, the properties the schema allows are exactly the fields the
//!   Rust deserialiser accepts (read from serde's `deny_unknown_fields` message, which lists
//!   them), and the schema's enumerations of Rust enums are exactly their variants; every
//!   object of the schemas is in the table, so a new one must be paired with its Rust type.
//!
//! `pack_mutations.rs` compares the two on thousands of mutated copies of the pack.

use std::collections::BTreeSet;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use cart_sentinel::engine::rule::{
    ActionTemplate, Before, Binding, CardTemplate, CardVariant, Case, CaseBranch, CodingTemplate,
    CohortRequirement, Comparison, Cond, DayRange, Due, Evidence, LinkTemplate, ListItem, Num,
    Parameter, PathOf, PatientNum, Prevention, Query, Rule, RuleStatus, SnoozeSetting,
    SuggestionTemplate, Within,
};
use cart_sentinel::engine::valueset::{CodeEntry, CohortDef, Product, TextEntry, ValueSet};
use cart_sentinel::engine::{load, Pack};

use crate::helpers::root;

/// The kinds of file that have a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Rule,
    ValueSet,
    Cohort,
}

impl Kind {
    pub(crate) fn of(file: &str) -> Kind {
        match file.split_once('/') {
            Some(("rules", _)) => Kind::Rule,
            Some(("valuesets", _)) => Kind::ValueSet,
            _ if file == "cohort.yaml" => Kind::Cohort,
            _ => panic!("{file} has no schema"),
        }
    }

    pub(crate) fn schema_file(self) -> &'static str {
        match self {
            Kind::Rule => "rule.schema.json",
            Kind::ValueSet => "valueset.schema.json",
            Kind::Cohort => "cohort.schema.json",
        }
    }
}

pub(crate) fn schema_json(kind: Kind) -> Value {
    let path = root().join("cds-hooks/schema").join(kind.schema_file());
    serde_json::from_slice(&std::fs::read(&path).unwrap()).expect("a schema is JSON")
}

pub(crate) fn validator(kind: Kind) -> jsonschema::Validator {
    jsonschema::validator_for(&schema_json(kind)).expect("the schema compiles")
}

/// Every error of the schema, as `instance path: message`.
pub(crate) fn schema_errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// A pack file read as the loader reads it (YAML into JSON, `engine::load::parse`).
pub(crate) fn read_doc(file: &str) -> Value {
    read_doc_at(&root().join("cds-hooks").join(file), file)
}

pub(crate) fn read_doc_at(path: &Path, file: &str) -> Value {
    load::parse(file, &std::fs::read(path).unwrap()).unwrap_or_else(|p| panic!("{p}"))
}

/// The files of the shipped pack that have a schema, relative to `cds-hooks/`.
pub(crate) fn shipped_files() -> Vec<String> {
    let mut out = vec!["cohort.yaml".to_owned()];
    for dir in ["rules", "valuesets"] {
        for e in std::fs::read_dir(root().join("cds-hooks").join(dir)).unwrap() {
            let name = e.unwrap().file_name().into_string().unwrap();
            out.push(format!("{dir}/{name}"));
        }
    }
    out.sort();
    out
}

/// The Rust deserialiser's verdict on the shape of a document (no pack-level checks).
pub(crate) fn rust_parse(kind: Kind, file: &str, doc: &Value) -> Result<(), String> {
    let doc = doc.clone();
    let r = match kind {
        Kind::Rule => load::from_json::<Rule>(file, doc).map(drop),
        Kind::ValueSet => load::from_json::<ValueSet>(file, doc).map(drop),
        Kind::Cohort => load::from_json::<CohortDef>(file, doc).map(drop),
    };
    r.map_err(|p| p.to_string())
}

/// The loader's verdict (`rules check`): the document parsed and put in `pack` in place of
/// the file, and the whole pack validated.
pub(crate) fn loader_accepts(pack: &Pack, file: &str, doc: &Value) -> Result<(), String> {
    let stem = file
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches(".yaml")
        .to_owned();
    let mut pack = pack.clone();
    let doc = doc.clone();
    let parsed = match Kind::of(file) {
        Kind::Rule => load::from_json(file, doc).map(|r| drop(pack.rules.insert(stem, r))),
        Kind::ValueSet => load::from_json(file, doc).map(|v| drop(pack.valuesets.insert(stem, v))),
        Kind::Cohort => load::from_json(file, doc).map(|c| pack.cohort = c),
    };
    parsed.map_err(|p| p.to_string())?;
    cart_sentinel::engine::compile(pack)
        .map(drop)
        .map_err(|ps| {
            ps.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        })
}

#[test]
fn the_pack_schemas_are_valid_json_schemas_and_each_has_its_files() {
    let mut names: Vec<String> = std::fs::read_dir(root().join("cds-hooks/schema"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    // A new schema must be added to `Kind` (and so to these tests).
    assert_eq!(
        names,
        [
            "cohort.schema.json",
            "rule.schema.json",
            "valueset.schema.json"
        ]
    );
    for kind in [Kind::Rule, Kind::ValueSet, Kind::Cohort] {
        let schema = schema_json(kind);
        if let Err(e) = jsonschema::meta::validate(&schema) {
            panic!("{}: {}: {e}", kind.schema_file(), e.instance_path());
        }
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
    }
}

#[test]
fn every_shipped_file_is_valid_against_its_published_schema() {
    let validators = [Kind::Rule, Kind::ValueSet, Kind::Cohort].map(|k| (k, validator(k)));
    let files = shipped_files();
    let mut problems = Vec::new();
    for file in &files {
        let kind = Kind::of(file);
        let v = &validators.iter().find(|(k, _)| *k == kind).unwrap().1;
        for e in schema_errors(v, &read_doc(file)) {
            problems.push(format!("{file}: {e}"));
        }
    }
    assert!(files.len() > 60, "{} files", files.len());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The names in serde's "unknown field/variant `x`, expected one of `a`, `b`" message.
fn expected_names<T: DeserializeOwned>(probe: Value) -> BTreeSet<String> {
    let err = serde_json::from_value::<T>(probe)
        .err()
        .expect("the probe is refused")
        .to_string();
    let (_, tail) = err
        .split_once("expected")
        .unwrap_or_else(|| panic!("{err}"));
    tail.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The fields (or, for an enum written as a one-key map, the variants) a type accepts.
fn keys<T: DeserializeOwned>() -> BTreeSet<String> {
    expected_names::<T>(json!({"zzz_unknown": null}))
}

/// The variants of a Rust enum written as a string.
fn variants<T: DeserializeOwned>() -> BTreeSet<String> {
    expected_names::<T>(json!("zzz_unknown"))
}

type Names = fn() -> BTreeSet<String>;

/// Every object of the schemas (pointer to a subschema with `properties`) with its Rust type.
const OBJECTS: &[(Kind, &str, Names)] = &[
    (Kind::Rule, "", keys::<Rule>),
    (Kind::Rule, "/$defs/num/oneOf/1", keys::<Num>),
    (Kind::Rule, "/$defs/case", keys::<Case>),
    (
        Kind::Rule,
        "/$defs/case/properties/when/items",
        keys::<CaseBranch>,
    ),
    (Kind::Rule, "/$defs/comparison", keys::<Comparison>),
    (Kind::Rule, "/$defs/before", keys::<Before>),
    (Kind::Rule, "/$defs/query", keys::<Query>),
    (Kind::Rule, "/$defs/dayRange", keys::<DayRange>),
    (Kind::Rule, "/$defs/within", keys::<Within>),
    (Kind::Rule, "/$defs/cond", keys::<Cond>),
    (Kind::Rule, "/$defs/path_of", keys::<PathOf>),
    (Kind::Rule, "/$defs/binding", keys::<Binding>),
    (Kind::Rule, "/$defs/parameter", keys::<Parameter>),
    (Kind::Rule, "/$defs/listItem", keys::<ListItem>),
    (Kind::Rule, "/$defs/variant", keys::<CardVariant>),
    (Kind::Rule, "/$defs/action", keys::<ActionTemplate>),
    (Kind::Rule, "/$defs/suggestion", keys::<SuggestionTemplate>),
    (Kind::Rule, "/$defs/link", keys::<LinkTemplate>),
    (Kind::Rule, "/$defs/coding", keys::<CodingTemplate>),
    (Kind::Rule, "/$defs/card", keys::<CardTemplate>),
    (Kind::Rule, "/$defs/due", keys::<Due>),
    (
        Kind::Rule,
        "/$defs/card/properties/snooze",
        keys::<SnoozeSetting>,
    ),
    (Kind::Rule, "/$defs/evidence", keys::<Evidence>),
    (Kind::ValueSet, "", keys::<ValueSet>),
    (Kind::ValueSet, "/$defs/codeEntry", keys::<CodeEntry>),
    (Kind::ValueSet, "/$defs/textEntry", keys::<TextEntry>),
    (Kind::Cohort, "", keys::<CohortDef>),
    (
        Kind::Cohort,
        "/properties/products/additionalProperties",
        keys::<Product>,
    ),
];

/// The schema's enumerations of values that are Rust enums.
const ENUMS: &[(Kind, &str, Names)] = &[
    (Kind::Rule, "/properties/status", variants::<RuleStatus>),
    (Kind::Rule, "/properties/prevention", variants::<Prevention>),
    (
        Kind::Rule,
        "/properties/cohort",
        variants::<CohortRequirement>,
    ),
    (
        Kind::Rule,
        "/$defs/num/oneOf/1/properties/patient",
        variants::<PatientNum>,
    ),
];

/// The schema's enumerations of values the Rust types read as strings and the loader checks
/// (`pack_mutations.rs` sets each value and an unknown one).
pub(crate) const CHECKED_STRINGS: &[(Kind, &str)] = &[
    (Kind::Rule, "/properties/hooks/items"),
    (Kind::Rule, "/$defs/cond/properties/hook/items"),
    (Kind::Rule, "/$defs/indicator"),
    (Kind::Rule, "/$defs/action/properties/type"),
    (Kind::Rule, "/$defs/link/properties/type"),
    (Kind::Rule, "/$defs/card/properties/selection_behavior"),
    (Kind::Rule, "/$defs/evidence/properties/status"),
    (Kind::ValueSet, "/$defs/codeEntry/properties/status"),
];

/// Pointers of every subschema that has `key`.
fn subschemas_with(v: &Value, key: &str, at: String, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if m.contains_key(key) {
                out.insert(at.clone());
            }
            for (k, x) in m {
                let k = k.replace('~', "~0").replace('/', "~1");
                // `properties` and `$defs` hold names, not keywords.
                if matches!(k.as_str(), "properties" | "$defs") {
                    for (name, sub) in x.as_object().into_iter().flatten() {
                        subschemas_with(sub, key, format!("{at}/{k}/{name}"), out);
                    }
                } else if !matches!(
                    k.as_str(),
                    // `if` is a condition, not a shape; the others hold values.
                    "if" | "examples" | "default" | "enum" | "const"
                ) {
                    subschemas_with(x, key, format!("{at}/{k}"), out);
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                subschemas_with(x, key, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn at_every_level_the_schema_allows_exactly_the_fields_of_the_rust_types() {
    let mut problems = Vec::new();
    for kind in [Kind::Rule, Kind::ValueSet, Kind::Cohort] {
        let schema = schema_json(kind);
        let file = kind.schema_file();
        let paired = |table: &[(Kind, &str, Names)]| -> BTreeSet<String> {
            table
                .iter()
                .filter(|(k, _, _)| *k == kind)
                .map(|(_, p, _)| p.to_string())
                .collect()
        };
        let mut enums = paired(ENUMS);
        enums.extend(
            CHECKED_STRINGS
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, p)| p.to_string()),
        );
        for (key, in_table) in [("properties", paired(OBJECTS)), ("enum", enums)] {
            let mut in_schema = BTreeSet::new();
            subschemas_with(&schema, key, String::new(), &mut in_schema);
            for p in in_schema.symmetric_difference(&in_table) {
                problems.push(format!(
                    "{file}#{p}: `{key}` {} (update the tables of tests/api/pack_schema.rs)",
                    if in_schema.contains(p) {
                        "is not paired with a Rust type"
                    } else {
                        "is in the table but not in the schema"
                    }
                ));
            }
        }
        for (k, pointer, rust) in OBJECTS.iter().chain(ENUMS) {
            if *k != kind {
                continue;
            }
            let sub = schema.pointer(pointer).unwrap_or(&Value::Null);
            let allowed: BTreeSet<String> = match sub.get("properties") {
                Some(props) => props.as_object().unwrap().keys().cloned().collect(),
                None => sub["enum"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|v| v.as_str().unwrap().to_owned())
                    .collect(),
            };
            let accepted = rust();
            if allowed != accepted {
                problems.push(format!(
                    "{file}#{pointer}: only the schema has {:?}, only the Rust type has {:?}",
                    allowed.difference(&accepted).collect::<Vec<_>>(),
                    accepted.difference(&allowed).collect::<Vec<_>>()
                ));
            }
            if sub.get("properties").is_some()
                && sub.get("additionalProperties") != Some(&json!(false))
            {
                problems.push(format!(
                    "{file}#{pointer}: the Rust type denies unknown fields; the schema must too"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
