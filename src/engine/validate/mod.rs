//! Whole-pack validation: names, types, units, placeholders, resource templates, cycles.
//! Every problem names its file and path; a pack with any problem is not compiled.

use std::collections::{HashMap, HashSet};

use super::rule::{Binding, Num, NumOp, Query, Rule};

mod cycles;
mod query;
mod rule;
mod settings;
mod sources;
mod suggestion;

use super::valueset::Compiled;
use super::{CompiledPack, Pack, Problem};
use cycles::rule_refs;
use rule::check_rule;

/// Hooks the service answers.
pub const HOOKS: &[&str] = &[
    "patient-view",
    "order-select",
    "order-sign",
    "encounter-start",
    "encounter-discharge",
];
const BUILTINS: &[&str] = &["product", "target", "day", "day0", "today", "patient.ref"];

struct Checker<'p> {
    pack: &'p Pack,
    file: String,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn err(&mut self, path: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.clone(),
            path: path.to_owned(),
            message: message.into(),
        });
    }

    fn valueset(&mut self, path: &str, id: &str) {
        if !self.pack.valuesets.contains_key(id) {
            self.err(path, format!("unknown value set `{id}`"));
        }
    }
}

/// The sources a query names.
fn source(q: &Query) -> Vec<&str> {
    q.origins().into_iter().map(|(s, _)| s).collect()
}

/// Whether a source's items have a value (`value_of`, `{{binding.value}}`, `unit`…).
fn valued(pack: &Pack, source: &str) -> bool {
    source == "variants" || pack.sources.get(source).is_some_and(|s| s.value.is_some())
}

/// Validates and compiles a pack.
pub(super) fn compile(pack: Pack) -> Result<CompiledPack, Vec<Problem>> {
    let mut c = Checker {
        pack: &pack,
        file: "cohort.yaml".into(),
        problems: Vec::new(),
    };
    for (field, vs) in [
        ("product_valueset", &pack.cohort.product_valueset),
        ("infusion_valueset", &pack.cohort.infusion_valueset),
    ] {
        c.valueset(field, vs);
    }
    if pack.cohort.course_gap_days < 1 {
        c.err("course_gap_days", "must be at least 1");
    }
    for (id, product) in &pack.cohort.products {
        if product.course_gap_days.is_some_and(|g| g < 1) {
            c.err(
                &format!("products.{id}.course_gap_days"),
                "must be at least 1",
            );
        }
    }
    for (field, s) in [
        ("product_source", &pack.cohort.product_source),
        ("infusion_source", &pack.cohort.infusion_source),
    ] {
        if !pack.sources.contains_key(s) {
            c.err(field, format!("unknown source `{s}` (sources.yaml)"));
        }
    }
    c.file = "sources.yaml".into();
    for (path, message) in sources::problems(&pack.sources, &|id| pack.valuesets.contains_key(id)) {
        c.err(&path, message);
    }
    for (key, vs) in &pack.valuesets {
        c.file = format!("valuesets/{key}.yaml");
        if let Err(e) = super::valueset::expanded(&pack.valuesets, key) {
            c.err("include", e);
        }
        if &vs.id != key {
            c.err(
                "id",
                format!("id `{}` does not match the file name `{key}`", vs.id),
            );
        }
        for (i, e) in vs.codes.iter().chain(&vs.prefixes).enumerate() {
            if e.code.trim().is_empty() || e.system.trim().is_empty() {
                c.err(&format!("codes[{i}]"), "system and code are required");
            }
            if !matches!(e.status.as_str(), "V" | "V2" | "M" | "local") {
                c.err(&format!("codes[{i}].status"), "must be V, V2, M or local");
            }
            if let Some(p) = &e.product {
                if !pack.cohort.products.contains_key(p) {
                    c.err(
                        &format!("codes[{i}].product"),
                        format!("unknown product `{p}`"),
                    );
                }
            }
        }
        for (i, t) in vs.text.iter().enumerate() {
            if super::valueset::words(&t.pattern).is_empty() {
                c.err(&format!("text[{i}].match"), "must contain a word");
            }
            if let Some(p) = &t.product {
                if !pack.cohort.products.contains_key(p) {
                    c.err(
                        &format!("text[{i}].product"),
                        format!("unknown product `{p}`"),
                    );
                }
            }
        }
    }
    for (key, rule) in &pack.rules {
        c.file = format!("rules/{key}.yaml");
        if &rule.id != key {
            c.err(
                "id",
                format!("id `{}` does not match the file name `{key}`", rule.id),
            );
        }
        check_rule(&mut c, rule);
    }
    // Cycles between rules (`rule:` conditions).
    let graph: HashMap<&str, Vec<String>> = pack
        .rules
        .iter()
        .map(|(k, r)| {
            let mut out = Vec::new();
            rule_refs(&r.when, &mut out);
            r.bindings.values().for_each(|b| {
                if let Binding::Num(Num::Op(op)) = b {
                    if let NumOp::Case(case) = op.as_ref() {
                        case.when
                            .iter()
                            .for_each(|br| rule_refs(&br.cond, &mut out));
                    }
                }
            });
            (k.as_str(), out)
        })
        .collect();
    for start in graph.keys() {
        let mut stack: Vec<&str> = vec![start];
        let mut seen = HashSet::new();
        while let Some(n) = stack.pop() {
            for next in graph.get(n).into_iter().flatten() {
                if next == start {
                    c.file = format!("rules/{start}.yaml");
                    c.err("when", "rule conditions refer to each other in a cycle");
                    stack.clear();
                    break;
                }
                if seen.insert(next.as_str()) {
                    stack.push(next.as_str());
                }
            }
        }
    }
    let problems = c.problems;
    if !problems.is_empty() {
        return Err(problems);
    }
    let valuesets = pack
        .valuesets
        .keys()
        .filter_map(|k| {
            let vs = super::valueset::expanded(&pack.valuesets, k).ok()?;
            Some((k.clone(), Compiled::new(&vs)))
        })
        .collect();
    let rules: Vec<Rule> = pack.rules.values().cloned().collect();
    let rule_index = rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.clone(), i))
        .collect();
    let mut by_hook: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, r) in rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.status == super::RuleStatus::Active)
    {
        for h in &r.hooks {
            by_hook.entry(h.clone()).or_default().push(i);
        }
    }
    let derived = super::prefetch::derive(&pack, HOOKS);
    Ok(CompiledPack {
        pack,
        valuesets,
        rules,
        rule_index,
        by_hook,
        prefetch: derived.by_hook,
        warnings: derived.warnings,
    })
}

/// Card details whose text, before any placeholder is filled, is longer than `max_chars`: EHRs
/// show cards in a narrow panel, so the decision and the action must fit without scrolling.
/// Warnings, not refusals: a site may accept a longer card.
pub fn long_details(pack: &Pack, max_chars: usize) -> Vec<Problem> {
    let mut out = Vec::new();
    for (id, rule) in &pack.rules {
        let card = &rule.card;
        let details = std::iter::once(("card.detail".to_owned(), Some(&card.detail))).chain(
            card.variants
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("card.variants[{i}].detail"), v.detail.as_ref())),
        );
        for (path, detail) in details {
            let Some(detail) = detail else { continue };
            let n = super::template::text_length(detail);
            if n > max_chars {
                out.push(Problem {
                    file: format!("rules/{id}.yaml"),
                    path,
                    message: format!(
                        "{n} characters before its placeholders are filled; a card detail should stay within {max_chars} (rules.max_detail_chars)"
                    ),
                });
            }
        }
    }
    out
}
