//! The rule format: what an administrator reads and edits in `cds-hooks/rules/*.yaml`.
//!
//! These types are the format; `cds-hooks/schema/rule.schema.json` publishes it. Documents
//! are read as YAML (JSON is valid YAML) into a `serde_json::Value` and deserialised from it
//! (`engine::load::parse`), because `serde_yaml` only reads externally tagged enums written as
//! YAML tags. Numbers are in `num`, the card in `card`. Validation beyond the shape (names,
//! types, placeholders) is in `engine::validate`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

mod card;
mod due;
mod num;

pub use card::*;
pub use due::Due;
pub use num::*;

/// One rule file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable id; also the card's `source.topic.code`.
    pub id: String,
    /// Human title.
    pub title: String,
    /// Only `active` rules run.
    pub status: RuleStatus,
    /// Hooks the rule runs on.
    pub hooks: Vec<String>,
    /// Level of prevention in the SPM pathway.
    pub prevention: Prevention,
    /// `required` (default): only CAR-T recipients; `any`: every patient (order rules for products).
    #[serde(default)]
    pub cohort: CohortRequirement,
    /// Free-text notes for administrators (e.g. which codes are unverified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Parameters with defaults and units; administrators change `value`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, Parameter>,
    /// Named bindings, evaluated on demand and at most once per call.
    #[serde(default, rename = "let", skip_serializing_if = "BTreeMap::is_empty")]
    pub bindings: BTreeMap<String, Binding>,
    /// Named lists of findings: each item is shown when its condition holds.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lists: BTreeMap<String, Vec<ListItem>>,
    /// The rule fires when this holds.
    pub when: Cond,
    /// The card shown when it fires.
    pub card: CardTemplate,
    /// When what the rule reports became due (population runs: the worklist's overdue filter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<Due>,
    /// The evidence cited by the card (at least one).
    pub evidence: Vec<Evidence>,
}

/// Lifecycle status of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleStatus {
    /// Written but not approved; never runs.
    Draft,
    /// Runs.
    Active,
    /// Withdrawn; never runs.
    Retired,
}

/// Level of prevention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Prevention {
    /// Before and at CAR-T.
    Primary,
    /// After infusion: early detection.
    Secondary,
    /// After a new malignancy.
    Tertiary,
}

/// Whether the patient must be a CAR-T recipient.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CohortRequirement {
    /// Only CAR-T recipients.
    #[default]
    Required,
    /// Any patient.
    Any,
}

/// A site-tunable parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    /// Current value.
    pub value: f64,
    /// UCUM unit (`d` and `h` for durations, `1` for counts and years of age as `a`).
    pub unit: String,
    /// What it means and where the default comes from.
    pub description: String,
    /// Lowest accepted value (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Highest accepted value (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Values for patients who received one of these products (ids of `cohort.yaml`), in
    /// place of `value`: labels differ by product (obe-cel's proximity and driving durations).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub products: BTreeMap<String, f64>,
}

impl Parameter {
    /// The value for a patient who received `product` (its own value, else `value`).
    pub fn value_for(&self, product: Option<&str>) -> f64 {
        product
            .and_then(|p| self.products.get(p))
            .copied()
            .unwrap_or(self.value)
    }
}

/// A named binding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Binding {
    /// The newest matching item (for draft orders: the first in the bundle).
    Latest(Query),
    /// The second newest matching item.
    Previous(Query),
    /// A number.
    Num(Num),
    /// Text read by FHIRPath from the resource another query binding found (its results
    /// joined with "; "); `exists:` holds when there is any.
    Text(PathOf),
}

/// `{of: <query binding>, expr: <FHIRPath>}`: an expression on the resource a binding found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathOf {
    /// The query binding whose resource the expression reads.
    pub of: String,
    /// The expression.
    pub expr: super::path::Path,
}

/// Where a query looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Observations with a countable status.
    Results,
    /// Medication events (administrations, requests, statements).
    Medications,
    /// Conditions.
    Conditions,
    /// Procedures.
    Procedures,
    /// Encounters.
    Encounters,
    /// Orders in `context.draftOrders`.
    DraftOrders,
    /// Genetic-variant observations (clonal hematopoiesis).
    Variants,
}

/// A query over the patient record. Exactly one of the source fields is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Query {
    /// A source of `cds-hooks/sources.yaml` by name, with `codes` (the named fields below are
    /// the same for the shipped sources: `results: igg` is `source: results, codes: igg`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// With `source`: the value set its codes must be in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codes: Option<String>,
    /// Observations whose code is in this value set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<String>,
    /// Medication events whose medication is in this value set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medications: Option<String>,
    /// Conditions whose code is in this value set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<String>,
    /// Completed procedures whose code is in this value set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procedures: Option<String>,
    /// Encounters whose type, service type or reason is in this value set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encounters: Option<String>,
    /// Draft orders whose code or medication is in this value set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft_orders: Option<String>,
    /// Variant observations naming a gene in this value set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variants: Option<String>,
    /// Results: normalise values to this UCUM unit; other units are ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Results: require a numeric value (default true; false for panels and coded results).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numeric: Option<bool>,
    /// Results: the coded or text value (or interpretation) must be in this value set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_in: Option<String>,
    /// Results: filter on the normalised numeric value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Comparison>,
    /// Variants: minimum variant allele frequency, in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vaf_min_percent: Option<Num>,
    /// Conditions: exclude those with any code in this value set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude: Option<String>,
    /// Conditions: also count resolved/inactive ones (history); default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_inactive: Option<bool>,
    /// Medications: only prescriptions/statements that are active now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Encounters: required status (e.g. `finished`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Dated on or after day 0 + N.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_day: Option<Num>,
    /// Dated on or before day 0 + N.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_day: Option<Num>,
    /// Dated on or after today − N days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_days: Option<Num>,
    /// Dated on or after now − N hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_hours: Option<Num>,
    /// Dated on or before the date of another binding minus some days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Before>,
    /// A FHIRPath condition each candidate resource must meet (`where:`), evaluated on the
    /// resource as received.
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    pub where_: Option<super::path::Path>,
}

impl Query {
    /// Every source the query names with its value set: `(source, value set)`. A valid query
    /// names exactly one.
    pub fn origins(&self) -> Vec<(&str, &str)> {
        let named = [
            ("results", &self.results),
            ("medications", &self.medications),
            ("conditions", &self.conditions),
            ("procedures", &self.procedures),
            ("encounters", &self.encounters),
            ("draft_orders", &self.draft_orders),
            ("variants", &self.variants),
        ];
        let mut out: Vec<(&str, &str)> = named
            .into_iter()
            .filter_map(|(n, vs)| vs.as_deref().map(|vs| (n, vs)))
            .collect();
        if let Some(s) = &self.source {
            out.push((s.as_str(), self.codes.as_deref().unwrap_or_default()));
        }
        out
    }

    /// The source and value set of a valid query.
    pub fn origin(&self) -> Option<(&str, &str)> {
        self.origins().first().copied()
    }
}

/// `before: {of: binding, minus_days: N}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Before {
    /// A query binding.
    pub of: String,
    /// Days subtracted from that binding's date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minus_days: Option<Num>,
}

/// A one-sided comparison, e.g. `{lt: {param: anc_threshold}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Comparison {
    /// Strictly less than.
    Lt(Num),
    /// Less than or equal.
    Le(Num),
    /// Strictly greater than.
    Gt(Num),
    /// Greater than or equal.
    Ge(Num),
}

/// A condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Cond {
    /// Every condition holds.
    All(Vec<Cond>),
    /// At least one holds.
    Any(Vec<Cond>),
    /// Negation.
    Not(Box<Cond>),
    /// The hook being called is one of these.
    Hook(Vec<String>),
    /// The patient's CAR-T product (ids of `cohort.yaml`) is one of these.
    Product(Vec<String>),
    /// Day 0 is known and today's day N is within the bounds (inclusive).
    Day(DayRange),
    /// The query binding found an item.
    Exists(String),
    /// The binding's date is within a window before now.
    Within(Within),
    /// The list has at least one item whose condition holds.
    Nonempty(String),
    /// Another rule is active and its condition holds for this patient.
    Rule(String),
    /// Numeric comparisons; false when either side is unknown.
    Lt(Box<[Num; 2]>),
    /// `≤`.
    Le(Box<[Num; 2]>),
    /// `>`.
    Gt(Box<[Num; 2]>),
    /// `≥`.
    Ge(Box<[Num; 2]>),
}

/// `day: {from: 0, to: 14}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DayRange {
    /// Lowest day N (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Num>,
    /// Highest day N (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Num>,
}

/// `within: {of: binding, days: N}` or `hours: N`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Within {
    /// A query binding.
    pub of: String,
    /// Window in days (calendar dates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<Num>,
    /// Window in hours (instants).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<Num>,
}

/// An item of a named list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListItem {
    /// Shown when this holds.
    pub when: Cond,
    /// Text with placeholders.
    pub text: String,
}
