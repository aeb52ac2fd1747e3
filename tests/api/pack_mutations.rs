//! The published schemas and the Rust loader judge thousands of mutated pack files alike; a
//! file with an unknown top-level key is refused by both.
//!
//! Every file of the shipped pack that has a schema, plus `every-construct.rule.yaml` (a rule
//! that uses every property of the rule schema, so that none is left out), is mutated at every
//! node outside suggestion resources (free FHIR): an unknown key added to each object, each key
//! removed, each array item removed, each value replaced by one of another JSON type, each
//! string by an unknown word. For each copy:
//!
//! * an unknown key is refused by both;
//! * what the schema accepts, the Rust deserialiser accepts (the schema is not looser than the
//!   types; FHIRPath syntax, which no schema can say, aside);
//! * what the loader accepts (`rules check`: the types, then the whole pack), the schema accepts
//!   (the schema is not stricter than the service). The schema may accept what the loader
//!   refuses for reasons beyond the shape: unknown names, units, placeholders. Two known
//!   exceptions are listed in `LOADER_LOOSER`. Empty strings are not among the mutations: the
//!   schemas' `minLength: 1` on titles, descriptions, product names and `exclude_text` are
//!   editorial rules that `rules check` does not enforce.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use cart_sentinel::engine::{load, Pack};

use crate::helpers::root;
use crate::pack_schema::{
    loader_accepts, read_doc, read_doc_at, rust_parse, schema_errors, schema_json, shipped_files,
    validator, Kind, CHECKED_STRINGS,
};

const EVERY_CONSTRUCT: &str = "rules/zz-every-construct.yaml";

/// The shipped pack with the every-construct rule, and the files to mutate with their JSON.
fn pack_and_files() -> (Pack, Vec<(String, Value)>) {
    let mut pack = load::load_dir(&root().join("cds-hooks")).expect("the shipped pack loads");
    let extra = read_doc_at(
        &root().join("tests/api/every-construct.rule.yaml"),
        EVERY_CONSTRUCT,
    );
    let mut files: Vec<(String, Value)> = shipped_files()
        .into_iter()
        .map(|f| {
            let doc = read_doc(&f);
            (f, doc)
        })
        .collect();
    files.push((EVERY_CONSTRUCT.to_owned(), extra.clone()));
    pack.rules.insert(
        "zz-every-construct".to_owned(),
        load::from_json(EVERY_CONSTRUCT, extra).unwrap(),
    );
    (pack, files)
}

struct Mutation {
    what: String,
    doc: Value,
    unknown_key: bool,
}

/// `doc` with the node at `at` edited.
fn push(out: &mut Vec<Mutation>, doc: &Value, at: &str, what: &str, edit: &dyn Fn(&mut Value)) {
    let mut copy = doc.clone();
    edit(copy.pointer_mut(at).unwrap());
    out.push(Mutation {
        what: format!("{at}: {what}"),
        doc: copy,
        unknown_key: what == UNKNOWN_KEY,
    });
}

const UNKNOWN_KEY: &str = "unknown key added";

/// Every mutation of `doc`, walking from `at` (a JSON pointer).
fn mutations(doc: &Value, at: &str, out: &mut Vec<Mutation>) {
    match doc.pointer(at).unwrap() {
        Value::Object(m) => {
            push(out, doc, at, UNKNOWN_KEY, &|v| {
                v.as_object_mut()
                    .unwrap()
                    .insert("zzz_unknown".into(), json!({"zzz": 1}));
            });
            for k in m.keys() {
                push(out, doc, at, &format!("`{k}` removed"), &|v| {
                    v.as_object_mut().unwrap().remove(k);
                });
            }
            push(out, doc, at, "an array instead", &|v| *v = json!([]));
            // A suggestion's resource is free FHIR (checked by rendering it, not by a schema).
            for k in m.keys().filter(|k| k.as_str() != "resource") {
                let k = k.replace('~', "~0").replace('/', "~1");
                mutations(doc, &format!("{at}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for i in 0..a.len() {
                push(out, doc, at, &format!("item {i} removed"), &|v| {
                    v.as_array_mut().unwrap().remove(i);
                });
                mutations(doc, &format!("{at}/{i}"), out);
            }
            push(out, doc, at, "an object instead", &|v| *v = json!({}));
        }
        Value::String(_) => {
            push(out, doc, at, "a number instead", &|v| *v = json!(7));
            push(out, doc, at, "an unknown word", &|v| {
                *v = json!("zzz-unknown")
            });
        }
        Value::Number(_) => push(out, doc, at, "a string instead", &|v| *v = json!("7")),
        Value::Bool(_) => push(out, doc, at, "a string instead", &|v| *v = json!("yes")),
        Value::Null => {}
    }
}

/// The keys of every object of a document outside suggestion resources (`what` = "keys"), or
/// the names of every `properties` of a schema.
fn names(v: &Value, what: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if what == "keys" {
                    out.insert(k.clone());
                } else if k == "properties" {
                    out.extend(x.as_object().into_iter().flatten().map(|(k, _)| k.clone()));
                }
                if k != "resource" || what != "keys" {
                    names(x, what, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| names(x, what, out)),
        _ => {}
    }
}

/// Where the loader is knowingly looser than the schema (mutation ending, why). The schema
/// says what the format is; these are accidents of the Rust side, not forms to document.
const LOADER_LOOSER: &[(&str, &str)] = &[
    (
        ": an array instead",
        "serde's derived Deserialize also reads a struct from an array of its fields in order \
         (`day: [0, 28]` is `day: {from: 0, to: 28}`, `within: [fever, 24]` is \
         `within: {of: fever, days: 24}`); only `day: []` (every field optional) shows here",
    ),
    (
        "/product: item 0 removed",
        "`rules check` accepts `product: []` (a condition that never holds); the schema asks \
         for at least one product, as `rules check` does for `all` and `any`",
    ),
];

#[test]
fn the_schemas_and_the_loader_judge_every_mutated_file_alike() {
    let (pack, files) = pack_and_files();
    let validators = [Kind::Rule, Kind::ValueSet, Kind::Cohort].map(|k| (k, validator(k)));
    let mut problems = Vec::new();
    let mut count = 0;
    for (file, doc) in &files {
        let kind = Kind::of(file);
        let v = &validators.iter().find(|(k, _)| *k == kind).unwrap().1;
        assert!(schema_errors(v, doc).is_empty(), "{file} is valid");
        loader_accepts(&pack, file, doc).unwrap_or_else(|e| panic!("{file} loads: {e}"));
        let mut all = Vec::new();
        mutations(doc, "", &mut all);
        count += all.len();
        for m in all {
            let errors = schema_errors(v, &m.doc);
            let parsed = rust_parse(kind, file, &m.doc);
            let at = format!("{file}{}", m.what);
            if m.unknown_key && (errors.is_empty() || parsed.is_ok()) {
                problems.push(format!(
                    "{at}: not refused by both (schema {errors:?}, Rust {parsed:?})"
                ));
            }
            match (&parsed, errors.first()) {
                (Err(e), None) if !e.contains("FHIRPath `") => problems.push(format!(
                    "{at}: the schema accepts, the Rust types refuse: {e}"
                )),
                (Ok(()), Some(error))
                    if !LOADER_LOOSER.iter().any(|(end, _)| m.what.ends_with(end))
                        && loader_accepts(&pack, file, &m.doc).is_ok() =>
                {
                    problems.push(format!(
                        "{at}: the loader accepts, the schema refuses: {error}"
                    ))
                }
                _ => {}
            }
        }
    }
    assert!(count > 10_000, "{count} mutations");
    for kind in [Kind::Rule, Kind::ValueSet, Kind::Cohort] {
        let mut used = BTreeSet::new();
        files
            .iter()
            .filter(|(f, _)| Kind::of(f) == kind)
            .for_each(|(_, doc)| names(doc, "keys", &mut used));
        let mut allowed = BTreeSet::new();
        names(&schema_json(kind), "properties", &mut allowed);
        let unused: Vec<_> = allowed.difference(&used).collect();
        assert!(
            unused.is_empty(),
            "{}: no file mutated here has {unused:?} (add them to every-construct.rule.yaml)",
            kind.schema_file()
        );
    }
    assert!(
        problems.is_empty(),
        "{} of {count} mutations judged differently:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Where the every-construct rule or a shipped file holds a value of each checked enumeration.
const ENUM_SITES: &[(&str, &str, &str)] = &[
    ("/properties/hooks/items", EVERY_CONSTRUCT, "/hooks/0"),
    (
        "/$defs/cond/properties/hook/items",
        EVERY_CONSTRUCT,
        "/when/all/0/any/0/hook/0",
    ),
    ("/$defs/indicator", EVERY_CONSTRUCT, "/card/indicator"),
    (
        "/$defs/indicator",
        EVERY_CONSTRUCT,
        "/card/variants/0/indicator",
    ),
    (
        "/$defs/action/properties/type",
        EVERY_CONSTRUCT,
        "/card/suggestions/0/actions/0/type",
    ),
    (
        "/$defs/action/properties/type",
        EVERY_CONSTRUCT,
        "/card/suggestions/1/actions/0/type",
    ),
    (
        "/$defs/link/properties/type",
        EVERY_CONSTRUCT,
        "/card/links/0/type",
    ),
    (
        "/$defs/card/properties/selection_behavior",
        EVERY_CONSTRUCT,
        "/card/selection_behavior",
    ),
    (
        "/$defs/evidence/properties/status",
        EVERY_CONSTRUCT,
        "/evidence/0/status",
    ),
    (
        "/$defs/codeEntry/properties/status",
        "valuesets/ivig.yaml",
        "/codes/0/status",
    ),
];

/// Every value an enumeration of the schema lists that the Rust types read as a string is
/// accepted by the loader where the schema accepts it, and an unknown one is refused by both.
#[test]
fn every_value_the_schema_enumerates_is_accepted_by_the_loader() {
    let (pack, files) = pack_and_files();
    let mut problems = Vec::new();
    for (kind, pointer) in CHECKED_STRINGS {
        let schema = schema_json(*kind);
        let v = validator(*kind);
        let values = schema.pointer(pointer).unwrap()["enum"].as_array().unwrap();
        let sites: Vec<_> = ENUM_SITES.iter().filter(|(p, _, _)| p == pointer).collect();
        assert!(!sites.is_empty(), "no site for {pointer}");
        for value in values.iter().chain([&json!("zzz-unknown")]) {
            let mut accepted_somewhere = false;
            for (_, file, at) in &sites {
                let (_, doc) = files.iter().find(|(f, _)| f == file).unwrap();
                let mut doc = doc.clone();
                *doc.pointer_mut(at).unwrap() = value.clone();
                let schema_ok = schema_errors(&v, &doc).is_empty();
                let loaded = loader_accepts(&pack, file, &doc);
                if schema_ok && loaded.is_err() {
                    problems.push(format!(
                        "{file}{at} = {value}: schema accepts, loader: {loaded:?}"
                    ));
                }
                if !schema_ok && loaded.is_ok() {
                    problems.push(format!(
                        "{file}{at} = {value}: loader accepts, schema refuses"
                    ));
                }
                accepted_somewhere |= schema_ok && loaded.is_ok();
            }
            if accepted_somewhere != (value != "zzz-unknown") {
                problems.push(format!(
                    "{pointer}: {value} accepted somewhere: {accepted_somewhere}"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_file_with_an_unknown_top_level_key_is_refused_by_the_schema_and_the_loader() {
    for file in [
        "rules/possible-crs-fever.yaml",
        "valuesets/ivig.yaml",
        "cohort.yaml",
    ] {
        let dir = tempfile::tempdir().unwrap();
        crate::helpers::copy_pack(dir.path(), &|path, text| {
            if path.ends_with(file) {
                format!("{text}\nreviewed_by: someone\n")
            } else {
                text
            }
        });
        let doc = read_doc_at(&dir.path().join(file), file);
        let errors = schema_errors(&validator(Kind::of(file)), &doc);
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with(": ") && e.contains("reviewed_by")),
            "{file}: the schema accepts an unknown top-level key: {errors:?}"
        );
        let problems = load::compile_dir(dir.path())
            .err()
            .unwrap_or_else(|| panic!("{file}: the loader accepts an unknown top-level key"));
        assert!(
            problems
                .iter()
                .any(|p| p.file == file && p.message.contains("unknown field `reviewed_by`")),
            "{file}: {problems:?}"
        );
    }
}
