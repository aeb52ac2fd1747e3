//! The rule engine: pure and synchronous.
//!
//! `evaluate(pack, input) -> findings`: no I/O, no clock (the caller passes `now`), no
//! randomness (uuids are added when findings become cards, in `cards`). Rules are data
//! ([`rule`]), loaded and validated as a whole ([`load`], [`validate`]); an invalid pack never
//! becomes a [`CompiledPack`]. Rules are indexed by hook so that rules that do not apply cost
//! nothing. Must not import `actix_web`, sqlx or reqwest.
//!
//! Its modules import downwards only, in layers:
//! - the pack's data: the rule format ([`rule`]), compiled FHIRPath ([`path`]), value sets
//!   ([`valueset`]), sources ([`source`]), the card template syntax (`template`), FHIR values
//!   (`values`), problems (`problem`);
//! - one call's state: what a query found (`item`), the call's scans of the record (`scans`),
//!   the cohort (`cohort`), the call and the rule being evaluated (`ctx`);
//! - reading the record for a rule: windows (`window`), FHIRPath inside a rule (`rule_path`),
//!   queries (`query`);
//! - the condition evaluator (`eval`), then rendering (`render`, with a finding's due date from
//!   `due`) and cards ([`cards`]);
//! - reading, validating and compiling a pack ([`load`], `validate`, `prefetch`);
//! - everything the record holds of a value set, for display ([`readings`]).
//!
//! A number may count a query and a query's window or value filter may read a number, so
//! queries, windows and FHIRPath ask numbers and bindings back of the evaluator through
//! `ctx::RuleValues`, which `eval` implements.

pub mod cards;
mod cohort;
mod ctx;
mod due;
mod eval;
mod item;
pub mod load;
pub mod path;
mod prefetch;
mod problem;
mod query;
pub mod readings;
mod render;
pub mod rule;
mod rule_path;
mod scans;
pub mod source;
mod template;
mod validate;
mod values;
pub mod valueset;
mod window;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::record::PatientRecord;
pub use cohort::Cohort;
use ctx::Ctx;
pub use problem::Problem;
pub use rule::{Rule, RuleStatus};
pub use validate::long_details;
pub use valueset::{CohortDef, ValueSet};

/// A whole rule pack as administrators edit it: the stored, exported and imported document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pack {
    /// Cohort definition.
    pub cohort: CohortDef,
    /// Value sets by id.
    pub valuesets: BTreeMap<String, ValueSet>,
    /// Rules by id.
    pub rules: BTreeMap<String, Rule>,
    /// The sources queries draw from, by name (`sources.yaml`).
    #[serde(default = "load::shipped_sources")]
    pub sources: source::Sources,
}

/// A validated pack, ready to evaluate.
#[derive(Debug)]
pub struct CompiledPack {
    pack: Pack,
    valuesets: HashMap<String, valueset::Compiled>,
    rules: Vec<Rule>,
    rule_index: HashMap<String, usize>,
    by_hook: HashMap<String, Vec<usize>>,
    /// Prefetch templates by hook, derived from the sources the active rules read.
    prefetch: HashMap<String, BTreeMap<String, String>>,
    /// What `rules check` reports without refusing the pack.
    warnings: Vec<Problem>,
}

/// What an evaluation gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// The findings, ordered critical, warning, info, then by rule id.
    pub findings: Vec<Finding>,
    /// Resources a FHIRPath (a source's or a `where:`) failed on, each skipped for that read.
    pub fhirpath_failures: usize,
}

/// What the engine needs about the call besides the record.
#[derive(Debug, Clone)]
pub struct EvalInput<'a> {
    /// The patient record.
    pub record: &'a PatientRecord,
    /// The hook being called.
    pub hook: &'a str,
    /// The moment of the hook call.
    pub now: DateTime<Utc>,
    /// The IANA time zone in which calendar dates are compared.
    pub tz: Tz,
}

/// A rule that fired, rendered: everything a card needs except uuids.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Rule id.
    pub rule_id: String,
    /// Rule title.
    pub title: String,
    /// `info`, `warning` or `critical`.
    pub indicator: String,
    /// Summary.
    pub summary: String,
    /// Detail (markdown): the key values and the action; the evidence is in `links`.
    pub detail: String,
    /// Source label and url (first evidence).
    pub source_label: String,
    /// Source url.
    pub source_url: String,
    /// Suggestions.
    pub suggestions: Vec<FindingSuggestion>,
    /// `any` or `at-most-one`.
    pub selection_behavior: String,
    /// Links (label, url, type).
    pub links: Vec<(String, String, String)>,
    /// Override reasons (system, code, display).
    pub override_reasons: Vec<(String, String, String)>,
    /// When what it reports became due, when the rule's `due:` can say (not on cards).
    pub due: Option<NaiveDate>,
}

/// A rendered suggestion.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingSuggestion {
    /// Label.
    pub label: String,
    /// isRecommended.
    pub recommended: Option<bool>,
    /// Actions.
    pub actions: Vec<FindingAction>,
}

/// A rendered action.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingAction {
    /// `create`, `update` or `delete`.
    pub kind: String,
    /// Description.
    pub description: String,
    /// The FHIR resource (validated and serialised by fhirbolt).
    pub resource: Option<serde_json::Value>,
    /// `Type/id` for delete.
    pub resource_id: Option<String>,
}

impl CompiledPack {
    /// The document this pack was compiled from.
    pub fn pack(&self) -> &Pack {
        &self.pack
    }

    /// The prefetch templates the pack's active rules need on `hook` (see `prefetch.rs`).
    pub fn prefetch(&self, hook: &str) -> &BTreeMap<String, String> {
        static NONE: BTreeMap<String, String> = BTreeMap::new();
        self.prefetch.get(hook).unwrap_or(&NONE)
    }

    /// Problems that do not refuse the pack (a value set a prefetch search cannot fetch).
    pub fn warnings(&self) -> &[Problem] {
        &self.warnings
    }

    /// Indices of the active rules that run on `hook` (the pack is indexed by hook).
    fn on_hook(&self, hook: &str) -> impl Iterator<Item = usize> + '_ {
        self.by_hook.get(hook).into_iter().flatten().copied()
    }

    /// Active rules that run on `hook`.
    pub fn rules_for(&self, hook: &str) -> impl Iterator<Item = &Rule> {
        self.on_hook(hook).map(|i| &self.rules[i])
    }

    /// Evaluates every active rule of the hook against the record; findings are ordered
    /// critical, warning, info, then by rule id. One rule gives at most one finding.
    pub fn evaluate(&self, input: &EvalInput) -> Vec<Finding> {
        self.evaluate_counting(input).findings
    }

    /// [`evaluate`](CompiledPack::evaluate), with how many times a FHIRPath failed on a
    /// resource (the resource was skipped for that rule or source).
    pub fn evaluate_counting(&self, input: &EvalInput) -> Evaluation {
        let ctx = Ctx::new(self, input);
        let mut findings: Vec<Finding> = self
            .on_hook(input.hook)
            .filter(|&i| ctx.holds(i))
            .map(|i| render::finding(&ctx.rule_eval(i)))
            .collect();
        findings.sort_by(|a, b| {
            severity(&b.indicator)
                .cmp(&severity(&a.indicator))
                .then_with(|| a.rule_id.cmp(&b.rule_id))
        });
        Evaluation {
            findings,
            fhirpath_failures: ctx.where_failures.get(),
        }
    }

    /// Ids of the rules of the hook whose conditions hold, in pack order: what [`evaluate`]
    /// decides before it renders the findings (the rule-scale bench times both).
    ///
    /// [`evaluate`]: CompiledPack::evaluate
    pub fn firing(&self, input: &EvalInput) -> Vec<&str> {
        let ctx = Ctx::new(self, input);
        self.on_hook(input.hook)
            .filter(|&i| ctx.holds(i))
            .map(|i| self.rules[i].id.as_str())
            .collect()
    }

    /// The cohort facts (CAR-T recipient, day 0, product) of the input's record.
    pub fn cohort(&self, input: &EvalInput) -> Cohort {
        cohort::compute(
            self,
            input,
            &std::cell::Cell::new(0),
            &scans::Scans::default(),
        )
    }
}

fn severity(indicator: &str) -> u8 {
    match indicator {
        "critical" => 2,
        "warning" => 1,
        _ => 0,
    }
}

/// Validates and compiles a pack; every problem is reported with its file and path.
pub fn compile(pack: Pack) -> Result<CompiledPack, Vec<Problem>> {
    validate::compile(pack)
}
