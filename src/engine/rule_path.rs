//! FHIRPath inside a rule: what its expressions see ([`CallEnv`]: `%day0` and `%<binding>`,
//! the resource another query binding of the rule found, besides the pack's value sets and
//! the call's clock), the sources its queries read ([`reader`]), a query's `where:` on each
//! candidate resource, and a binding's `text:` and `path:` on the resource another binding
//! found.

use chrono::{DateTime, FixedOffset};
use fhirpath::{Item, Temporal};

use super::ctx::{RuleEval, RuleValues};
use super::path::member_of;
use super::rule::{Binding, PathOf, Query};
use super::source::{failed, Json, Reader, SourceDef};
use super::values::concept;

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
        member_of(&self.re.ctx.pack.valuesets, item, id)
    }

    fn now(&self) -> DateTime<FixedOffset> {
        self.now
    }
}

/// A reader of a source for a query of the rule being evaluated.
pub(super) fn reader<'c>(re: &'c RuleEval<'c, 'c>, def: &'c SourceDef) -> Reader<'c, CallEnv<'c>> {
    Reader {
        record: re.ctx.input.record,
        tz: re.ctx.input.tz,
        env: CallEnv::new(re),
        failures: &re.ctx.where_failures,
        def,
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
                    .or_else(|| concept(i).and_then(|c| concept_text(&c)))
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
