//! The prefetch a service asks for, derived from the active pack: every source an active rule
//! of the hook reads (and the ones the cohort reads) contributes its `prefetch` templates.
//! A template may search by `{{codes}}`: the exact codes of the value sets read through that
//! source, so that an EHR returns only what the rules match; a value set matched by text or
//! by a code prefix cannot be fetched that way, and `rules check` warns about it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use super::problem::Problem;
use super::rule::{Rule, RuleStatus};
use super::Pack;

/// Prefetch templates by hook, and the warnings about value sets they cannot fetch.
pub(super) struct Derived {
    pub by_hook: HashMap<String, BTreeMap<String, String>>,
    pub warnings: Vec<Problem>,
}

/// The `(source, value set)` pairs a rule's queries read.
fn reads(rule: &Rule) -> BTreeSet<(String, String)> {
    fn walk(v: &Value, out: &mut BTreeSet<(String, String)>) {
        match v {
            Value::Object(map) => {
                let named = [
                    "results",
                    "medications",
                    "conditions",
                    "procedures",
                    "encounters",
                    "draft_orders",
                    "variants",
                ];
                for key in named {
                    if let Some(Value::String(vs)) = map.get(key) {
                        out.insert((key.to_owned(), vs.clone()));
                    }
                }
                if let (Some(Value::String(s)), Some(Value::String(vs))) =
                    (map.get("source"), map.get("codes"))
                {
                    out.insert((s.clone(), vs.clone()));
                }
                map.values().for_each(|v| walk(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    // Queries live in bindings, lists and conditions, never in card text or templates.
    if let Ok(Value::Object(rule)) = serde_json::to_value(rule) {
        for section in ["let", "lists", "when"] {
            if let Some(v) = rule.get(section) {
                walk(v, &mut out);
            }
        }
    }
    out
}

/// Derives every hook's prefetch from the pack's active rules and sources.
pub(super) fn derive(pack: &Pack, hooks: &[&str]) -> Derived {
    let mut by_hook = HashMap::new();
    let mut warnings = Vec::new();
    let active: Vec<(&Rule, BTreeSet<(String, String)>)> = pack
        .rules
        .values()
        .filter(|r| r.status == RuleStatus::Active)
        .map(|r| (r, reads(r)))
        .collect();
    for hook in hooks {
        // The cohort's two sources are read on every hook.
        let mut read: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for s in [&pack.cohort.product_source, &pack.cohort.infusion_source] {
            read.entry(s.as_str()).or_default();
        }
        let on_hook = active
            .iter()
            .filter(|(r, _)| r.hooks.iter().any(|h| h == hook));
        for (_, reads) in on_hook {
            for (source, vs) in reads {
                if let Some((name, _)) = pack.sources.get_key_value(source) {
                    read.entry(name.as_str()).or_default().insert(vs.clone());
                }
            }
        }
        let mut templates = BTreeMap::new();
        for (source, valuesets) in read {
            let Some(def) = pack.sources.get(source) else {
                continue;
            };
            for (key, template) in &def.prefetch {
                if !template.contains("{{codes}}") {
                    templates.insert(key.clone(), template.clone());
                    continue;
                }
                let mut codes = BTreeSet::new();
                for id in &valuesets {
                    let Ok(vs) = super::valueset::expanded(&pack.valuesets, id) else {
                        continue;
                    };
                    codes.extend(vs.codes.iter().map(|c| format!("{}|{}", c.system, c.code)));
                    if !vs.text.is_empty() || !vs.prefixes.is_empty() {
                        warnings.push(Problem {
                            file: "sources.yaml".into(),
                            path: format!("{source}.prefetch.{key}"),
                            message: format!(
                                "value set `{id}` is matched by text or code prefix, which a search by {{{{codes}}}} cannot fetch ({hook})"
                            ),
                        });
                    }
                }
                let codes: Vec<String> = codes.into_iter().collect();
                templates.insert(key.clone(), template.replace("{{codes}}", &codes.join(",")));
            }
        }
        by_hook.insert((*hook).to_owned(), templates);
    }
    warnings.sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
    warnings.dedup();
    Derived { by_hook, warnings }
}

#[cfg(test)]
mod tests {
    use super::super::load::load_dir;

    #[test]
    fn a_search_by_codes_lists_the_value_sets_codes_and_warns_about_text_only_ones() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("cds-hooks");
        let mut pack = load_dir(&dir).expect("shipped pack");
        let results = pack.sources.get_mut("results").unwrap();
        results.prefetch.insert(
            "observations".into(),
            "Observation?patient={{context.patientId}}&code={{codes}}".into(),
        );
        let compiled = super::super::compile(pack).expect("compiles");
        let monitoring = &compiled.prefetch("patient-view")["observations"];
        assert!(
            monitoring.contains("http://loinc.org|2465-3"),
            "IgG: {monitoring}"
        );
        assert!(!monitoring.contains("{{codes}}"));
        let warned: Vec<String> = compiled
            .warnings()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(
            warned
                .iter()
                .any(|w| w.contains("results.prefetch.observations") && w.contains("`hcv-screen`")),
            "{warned:?}"
        );
        // A hook none of whose active rules reads results asks only for the cohort's sources.
        let discharge = compiled.prefetch("encounter-discharge");
        assert!(discharge.contains_key("procedures") && !discharge.contains_key("observations"));
    }
}
