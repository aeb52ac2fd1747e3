//! FHIRPath in rules: a query's `where:` is compiled when the rule is read (a syntax or type
//! error refuses the rule with its path and the column) and evaluated on each candidate
//! resource as it was received, with the pack's value sets (`memberOf`), the call's clock
//! (`today()`, `now()`), `%day0` and `%<binding>` (the resource another query binding of the
//! rule found).

use chrono::{DateTime, FixedOffset};
use fhirpath::{Item, Temporal};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sonic_rs::JsonValueTrait;

use super::eval::RuleEval;
use super::rule::{Binding, PathOf, Query};
use super::source::{failed, Json};
use super::CompiledPack;

/// A compiled FHIRPath expression, written in a rule as a string.
#[derive(Debug, Clone)]
pub struct Path(fhirpath::Expr);

impl Path {
    /// The compiled expression.
    pub fn expr(&self) -> &fhirpath::Expr {
        &self.0
    }
}

impl PartialEq for Path {
    fn eq(&self, other: &Path) -> bool {
        self.0.source() == other.0.source()
    }
}

impl Serialize for Path {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.source())
    }
}

impl<'de> Deserialize<'de> for Path {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Path, D::Error> {
        let source = String::deserialize(d)?;
        fhirpath::compile(&source)
            .map(Path)
            .map_err(|e| serde::de::Error::custom(format!("FHIRPath `{source}`: {e}")))
    }
}

/// The variables a rule's FHIRPath may read besides the language's own.
pub const VARIABLES: [&str; 1] = ["day0"];

/// Whether `%name` is defined for the pack's FHIRPath: the language's own or [`VARIABLES`].
pub fn known_variable(name: &str) -> bool {
    let builtin = [
        "resource",
        "context",
        "rootResource",
        "ucum",
        "sct",
        "loinc",
    ];
    builtin.contains(&name) || VARIABLES.contains(&name)
}

/// What an expression sees of the call.
pub(super) struct CallEnv<'c> {
    re: &'c RuleEval<'c, 'c>,
    now: DateTime<FixedOffset>,
}

impl<'c> CallEnv<'c> {
    pub(super) fn new(re: &'c RuleEval<'c, 'c>) -> CallEnv<'c> {
        CallEnv {
            re,
            now: re
                .ctx
                .input
                .now
                .with_timezone(&re.ctx.input.tz)
                .fixed_offset(),
        }
    }
}

impl<'c> fhirpath::Env<'c> for CallEnv<'c> {
    /// `%day0`, and `%<binding>`: the resource a query binding of the rule found (empty when
    /// it found none).
    fn variable(&self, name: &str) -> Option<Vec<Item<'c>>> {
        match name {
            "day0" => Some(
                self.re
                    .ctx
                    .cohort
                    .day0
                    .map(|d| Item::Temporal(Temporal::from_date(d)))
                    .into_iter()
                    .collect(),
            ),
            _ => {
                let query = matches!(
                    self.re.rule.bindings.get(name),
                    Some(Binding::Latest(_) | Binding::Previous(_))
                );
                if !query {
                    return None;
                }
                let record = self.re.ctx.input.record;
                let found = self
                    .re
                    .item(name)
                    .and_then(|i| i.json)
                    .and_then(|j| j.in_record(record));
                Some(found.map(Item::node).into_iter().collect())
            }
        }
    }

    fn member_of(&self, item: &Item<'c>, id: &str) -> bool {
        member_of(self.re.ctx.pack, item, id)
    }

    fn now(&self) -> DateTime<FixedOffset> {
        self.now
    }
}

/// Whether a code, Coding, CodeableConcept, Reference or text is in the pack's value set `id`.
fn member_of(pack: &CompiledPack, item: &Item, id: &str) -> bool {
    let Some(vs) = pack.valuesets.get(id) else {
        return false;
    };
    match item {
        Item::Node { value, .. } if value.as_str().is_some() => {
            vs.match_text(value.as_str().unwrap_or_default()).is_some()
        }
        Item::String(text) => vs.match_text(text).is_some(),
        Item::Node { .. } => {
            super::source::concept(item).is_some_and(|c| vs.match_concept(&c).is_some())
        }
        _ => false,
    }
}

/// What an expression sees outside a rule (the cohort's sources): the pack's value sets and
/// the call's clock, no variables.
pub(super) struct PackEnv<'p> {
    pub pack: &'p CompiledPack,
    pub now: DateTime<FixedOffset>,
}

impl fhirpath::Env<'_> for PackEnv<'_> {
    fn member_of(&self, item: &Item, id: &str) -> bool {
        member_of(self.pack, item, id)
    }

    fn now(&self) -> DateTime<FixedOffset> {
        self.now
    }
}

/// Whether the query's `where:` admits the resource at `json` (always, without one). An
/// expression that fails on the resource (a type mismatch) skips it for this rule.
pub(super) fn admits(re: &RuleEval, q: &Query, json: Json) -> bool {
    let Some(path) = &q.where_ else {
        return true;
    };
    let Some(resource) = json.in_record(re.ctx.input.record) else {
        return false;
    };
    let env = CallEnv::new(re);
    match path.expr().test(resource, &env) {
        Ok(result) => result == Some(true),
        Err(e) => {
            failed(&re.ctx.where_failures, &e);
            false
        }
    }
}

/// The results of `p.expr` on the resource the binding `p.of` found, read by `read`; `None`
/// when the binding found nothing or the expression failed (counted).
fn on_binding<T>(re: &RuleEval, p: &PathOf, read: impl FnOnce(Vec<Item>) -> T) -> Option<T> {
    let resource = re.item(&p.of)?.json?.in_record(re.ctx.input.record)?;
    match p.expr.expr().evaluate(resource, &CallEnv::new(re)) {
        Ok(items) => Some(read(items)),
        Err(e) => {
            failed(&re.ctx.where_failures, &e);
            None
        }
    }
}

/// A `text:` binding: the results as text, joined with "; "; `None` when there are none.
pub(super) fn text_of(re: &RuleEval, p: &PathOf) -> Option<String> {
    on_binding(re, p, |items| {
        let texts: Vec<String> = items
            .iter()
            .filter_map(|i| {
                i.to_text()
                    .or_else(|| super::source::concept(i).and_then(|c| concept_text(&c)))
            })
            .collect();
        (!texts.is_empty()).then(|| texts.join("; "))
    })
    .flatten()
}

/// A CodeableConcept's text, else its first display.
fn concept_text(c: &fhir_r4::Concept) -> Option<String> {
    c.text
        .clone()
        .or_else(|| c.codings.iter().find_map(|k| k.display.clone()))
}

/// A `path:` number: the first result that is a number or a Quantity (its value and unit).
pub(super) fn num_of(re: &RuleEval, p: &PathOf) -> Option<(f64, Option<String>)> {
    on_binding(re, p, |items| {
        items.iter().find_map(|i| match i.plain(false) {
            fhirpath::Plain::Integer(n) => Some((n as f64, None)),
            fhirpath::Plain::Decimal(d) => Some((d, None)),
            _ => i.quantity().map(|(v, u)| (v, Some(u.to_owned()))),
        })
    })
    .flatten()
}
