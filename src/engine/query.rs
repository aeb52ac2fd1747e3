//! Queries over the patient record (`latest`, `previous`, `count`).
//!
//! The status rules are the catalogue's "Definitions every rule uses": what counts as a result,
//! an active medication, a condition. Results without a numeric value, or whose unit cannot be
//! converted to the query's unit, are ignored, never guessed.

use std::cell::RefCell;
use std::rc::Rc;

use fhir_r4::{Concept, ObsValue};
use rustc_hash::FxHashMap;

use super::eval::RuleEval;
use super::path;
use super::rule::{Comparison, Num, Query};
use super::valueset::{words, Compiled};
use super::window::Window;
use crate::record::{units, MedKind, When};

const LOINC: &str = "http://loinc.org";
const GENE_STUDIED: &str = "48018-6";
const SIGNIFICANCE: &str = "53037-8";
const ALLELE_FREQUENCY: &str = "81258-6";

/// One thing a query found.
#[derive(Debug, Clone, Default)]
pub(super) struct Item {
    /// `Type/id`.
    pub reference: String,
    /// When it happened.
    pub when: Option<When>,
    /// Numeric value, in `unit`.
    pub value: Option<f64>,
    /// Unit of `value`.
    pub unit: Option<String>,
    /// The value as recorded, for people.
    pub shown: Option<String>,
    /// The code (or medication) of the item.
    pub concept: Option<Concept>,
    /// Variants: the gene.
    pub gene: Option<String>,
    /// Variants: allele frequency in percent.
    pub vaf: Option<f64>,
}

fn countable(status: &str) -> bool {
    matches!(status, "final" | "amended" | "corrected")
}

fn has_code(c: &Concept, system: &str, code: &str) -> bool {
    c.codings.iter().any(|k| {
        k.system.as_deref().map(|s| s.trim_end_matches('/')) == Some(system)
            && k.code.as_deref() == Some(code)
    })
}

fn concept_text(c: &Concept) -> Vec<&str> {
    c.text
        .iter()
        .chain(c.codings.iter().filter_map(|k| k.display.as_ref()))
        .map(String::as_str)
        .collect()
}

/// Whether an observation's value (or an interpretation) is in `vs`, with the words of its
/// texts from the call's memo (every rule with a `value_in` asks this of every result).
fn value_matches(
    scans: &Scans,
    vs: &Compiled,
    value: Option<&ObsValue>,
    interp: &[Concept],
) -> bool {
    let concept = |c: &Concept| vs.match_concept_with(c, |t| scans.words_of(t)).is_some();
    let by_value = match value {
        Some(ObsValue::Concept(c)) => concept(c),
        Some(ObsValue::Text(t)) => vs.match_text_with(t, |t| scans.words_of(t)).is_some(),
        _ => false,
    };
    by_value || interp.iter().any(concept)
}

impl RuleEval<'_, '_> {
    fn vs(&self, id: &str) -> Option<&Compiled> {
        self.ctx.pack.valuesets.get(id)
    }

    /// The comparison's bound, in `unit` when the value has one.
    fn bound(&self, cmp: &Comparison, unit: Option<&str>) -> Option<f64> {
        let n = cmp.bound();
        match unit {
            Some(u) => self.num_in(n, u),
            None => self.num(n).map(|(b, _)| b),
        }
    }
}

impl Comparison {
    fn bound(&self) -> &Num {
        match self {
            Comparison::Lt(n) | Comparison::Le(n) | Comparison::Gt(n) | Comparison::Ge(n) => n,
        }
    }

    fn holds(&self, v: f64, bound: f64) -> bool {
        match self {
            Comparison::Lt(_) => v < bound,
            Comparison::Le(_) => v <= bound,
            Comparison::Gt(_) => v > bound,
            Comparison::Ge(_) => v >= bound,
        }
    }
}

/// A query's comparison bound, computed once per unit of the values compared, not once per
/// record: the values of one query nearly always share a unit, and the bound (a parameter
/// converted to that unit) would otherwise be looked up and converted for every result of
/// every rule (issue #6: rule scale).
struct Bounds<'q> {
    last: Option<(Option<&'q str>, Option<f64>)>,
}

impl<'q> Bounds<'q> {
    fn passes(&mut self, re: &RuleEval, cmp: &Comparison, v: f64, unit: Option<&'q str>) -> bool {
        let bound = match self.last {
            Some((u, b)) if u == unit => b,
            _ => {
                let b = re.bound(cmp, unit);
                self.last = Some((unit, b));
                b
            }
        };
        bound.is_some_and(|b| cmp.holds(v, b))
    }
}

/// The kinds of record a query scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Pool {
    /// Observations with a countable status.
    Results,
    Medications,
    Conditions,
    /// Completed procedures.
    Procedures,
    Encounters,
}

/// Per-call memo of value-set scans: which records of a pool match a value set, in record
/// order (for encounters, with the index of the first matching concept). Every query over the
/// same pool and value set repeats the same scan, and matching is pure, so one scan per call
/// serves all rules; a pack of many rules then costs little more than its distinct value sets.
///
/// Variant findings (`variants` queries) are memoised the same way, per gene value set, before
/// the rule's own allele-frequency threshold is applied.
#[derive(Default)]
pub(super) struct Scans {
    hits: RefCell<FxHashMap<ScanKey, Hits>>,
    variants: RefCell<FxHashMap<*const Compiled, Rc<[Item]>>>,
    /// The [`words`] of the record's texts, by content: every value set with text entries
    /// matches the same texts, and most texts recur (the same display on every monthly
    /// result), so a call splits and lower-cases each distinct text once. Keyed by address
    /// until issue #6's seventh round, when every recurrence was split again: 1.8 M of a typical
    /// call's 22.5 M instructions. A key is copied once per distinct text.
    words: RefCell<FxHashMap<Box<str>, Rc<[String]>>>,
}

impl Scans {
    /// The words of `text`.
    fn words_of(&self, text: &str) -> Rc<[String]> {
        if let Some(w) = self.words.borrow().get(text) {
            return w.clone();
        }
        let w: Rc<[String]> = words(text).into();
        self.words.borrow_mut().insert(text.into(), w.clone());
        w
    }
}

/// A pool and a value set (by address: value sets live as long as the compiled pack).
type ScanKey = (Pool, *const Compiled);

/// The matching records of a pool, in record order, each with the index of its matching
/// concept (encounters) or 0.
type Hits = Rc<[(usize, usize)]>;

fn scan(re: &RuleEval, pool: Pool, vs: &Compiled) -> Hits {
    let key = (pool, vs as *const Compiled);
    if let Some(hits) = re.ctx.scans.hits.borrow().get(&key) {
        return hits.clone();
    }
    let record = re.ctx.input.record;
    let hit = |c: &Concept| {
        vs.match_concept_with(c, |t| re.ctx.scans.words_of(t))
            .is_some()
    };
    fn matching<T>(records: &[T], keep: impl Fn(&T) -> bool) -> Hits {
        records
            .iter()
            .enumerate()
            .filter(|(_, r)| keep(r))
            .map(|(i, _)| (i, 0))
            .collect()
    }
    let hits: Hits = match pool {
        Pool::Results => matching(&record.observations, |o| {
            countable(&o.status) && hit(&o.code)
        }),
        Pool::Medications => matching(&record.medications, |m| hit(&m.medication)),
        Pool::Conditions => matching(&record.conditions, |c| hit(&c.code)),
        Pool::Procedures => matching(&record.procedures, |p| {
            p.status == "completed" && hit(&p.code)
        }),
        Pool::Encounters => record
            .encounters
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.concepts.iter().position(hit).map(|c| (i, c)))
            .collect(),
    };
    re.ctx.scans.hits.borrow_mut().insert(key, hits.clone());
    hits
}

/// What a query found, before its [`Item`] is built: what windows, comparisons and ordering
/// need. A rule reads at most two items of a query (the latest and the previous) and a count
/// reads none, so items (codes, references and display texts cloned from the record) are
/// built only when read, by [`Hit::item`] (issue #6: rule scale).
pub(super) struct Hit<'q> {
    when: Option<When>,
    value: Option<f64>,
    unit: Option<&'q str>,
    source: Source,
}

/// Where a hit is in the record.
enum Source {
    Observation(usize),
    Medication(usize),
    DraftOrder(usize),
    Condition(usize),
    Procedure(usize),
    /// An encounter and the index of its matching concept.
    Encounter(usize, usize),
    /// A variant finding of the call's memo ([`variant_items`]).
    Variant(Rc<[Item]>, usize),
}

impl Hit<'_> {
    /// The item: the record's reference, date and code, and for results the value as the
    /// query reads it (converted to its unit) and as it was recorded.
    pub(super) fn item(&self, re: &RuleEval) -> Item {
        let record = re.ctx.input.record;
        let item = |reference: &String, concept: &Concept| Item {
            reference: reference.clone(),
            when: self.when,
            concept: Some(concept.clone()),
            ..Item::default()
        };
        match &self.source {
            Source::Observation(i) => {
                let o = &record.observations[*i];
                Item {
                    value: self.value,
                    unit: self.unit.map(str::to_owned),
                    shown: shown(o.value.as_ref()),
                    ..item(&o.reference, &o.code)
                }
            }
            Source::Medication(i) => {
                let m = &record.medications[*i];
                item(&m.reference, &m.medication)
            }
            Source::DraftOrder(i) => {
                let d = &record.draft_orders[*i];
                item(&d.reference, &d.concept)
            }
            Source::Condition(i) => {
                let c = &record.conditions[*i];
                item(&c.reference, &c.code)
            }
            Source::Procedure(i) => {
                let p = &record.procedures[*i];
                item(&p.reference, &p.code)
            }
            Source::Encounter(i, c) => {
                let e = &record.encounters[*i];
                item(&e.reference, &e.concepts[*c])
            }
            Source::Variant(items, i) => items[*i].clone(),
        }
    }
}

/// A result's value as recorded, for people.
fn shown(value: Option<&ObsValue>) -> Option<String> {
    match value? {
        ObsValue::Quantity(qty) => Some(match qty.unit.as_deref() {
            Some(u) if !units::display(u).is_empty() => {
                format!("{} {}", qty.raw, units::display(u))
            }
            _ => qty.raw.clone(),
        }),
        ObsValue::Concept(c) => concept_text(c).first().map(|s| (*s).to_owned()),
        ObsValue::Text(t) => Some(t.clone()),
        ObsValue::Boolean(b) => Some(b.to_string()),
    }
}

/// Runs a query: hits newest first (draft orders in bundle order).
pub(super) fn run<'q>(re: &RuleEval<'q, '_>, q: &'q Query) -> Vec<Hit<'q>> {
    let record = re.ctx.input.record;
    let mut hits: Vec<Hit<'q>> = Vec::new();
    // The window needs only the date: records outside it are skipped first.
    let window = Window::of(re, q);
    let outside = |when: Option<When>| !window.contains(when);
    let dated = |when: Option<When>, source: Source| Hit {
        when,
        value: None,
        unit: None,
        source,
    };
    if let Some(vs) = q.results.as_deref().and_then(|id| re.vs(id)) {
        let numeric = q.numeric.unwrap_or(true);
        let value_in = q.value_in.as_deref().and_then(|id| re.vs(id));
        let mut bounds = Bounds { last: None };
        let mut to_target = units::Converter::default();
        for &(i, _) in scan(re, Pool::Results, vs).iter() {
            let o = &record.observations[i];
            if outside(o.when) {
                continue;
            }
            if let Some(vin) = value_in {
                if !value_matches(&re.ctx.scans, vin, o.value.as_ref(), &o.interpretation) {
                    continue;
                }
            }
            let (value, unit) = match &o.value {
                Some(ObsValue::Quantity(qty)) => match (q.unit.as_deref(), qty.unit.as_deref()) {
                    (Some(target), Some(u)) => {
                        (to_target.convert(qty.value, u, target), Some(target))
                    }
                    (Some(_), None) => (None, None),
                    (None, u) => (Some(qty.value), u),
                },
                _ => (None, None),
            };
            if numeric && value.is_none() {
                continue;
            }
            if let Some(cmp) = &q.value {
                match value {
                    Some(v) if bounds.passes(re, cmp, v, unit) => {}
                    _ => continue,
                }
            }
            if !path::admits(re, q, o.json) {
                continue;
            }
            hits.push(Hit {
                when: o.when,
                value,
                unit,
                source: Source::Observation(i),
            });
        }
    } else if let Some(vs) = q.medications.as_deref().and_then(|id| re.vs(id)) {
        let active_only = q.active.unwrap_or(false);
        for &(i, _) in scan(re, Pool::Medications, vs).iter() {
            let m = &record.medications[i];
            if outside(m.when) {
                continue;
            }
            let ok = match (m.kind, active_only) {
                (MedKind::Request | MedKind::Statement, true) => m.status == "active",
                (MedKind::Administration, true) => false,
                (MedKind::Administration, false) => {
                    matches!(m.status.as_str(), "completed" | "in-progress")
                }
                (MedKind::Request, false) => {
                    matches!(
                        m.status.as_str(),
                        "active" | "completed" | "stopped" | "on-hold"
                    )
                }
                (MedKind::Statement, false) => matches!(m.status.as_str(), "active" | "completed"),
            };
            if ok && path::admits(re, q, m.json) {
                hits.push(dated(m.when, Source::Medication(i)));
            }
        }
        // Orders being placed count as active medications, dated now.
        let now = Some(When {
            at: re.ctx.input.now,
            date: re.ctx.today,
        });
        let ordering = matches!(re.ctx.input.hook, "order-select" | "order-sign");
        if active_only && ordering && !outside(now) {
            for (i, d) in record.draft_orders.iter().enumerate() {
                if live_order(&d.status)
                    && vs.match_concept(&d.concept).is_some()
                    && path::admits(re, q, d.json)
                {
                    hits.push(dated(now, Source::DraftOrder(i)));
                }
            }
        }
    } else if let Some(vs) = q.conditions.as_deref().and_then(|id| re.vs(id)) {
        let exclude = q.exclude.as_deref().and_then(|id| re.vs(id));
        let history = q.include_inactive.unwrap_or(false);
        for &(i, _) in scan(re, Pool::Conditions, vs).iter() {
            let c = &record.conditions[i];
            if outside(c.when) {
                continue;
            }
            let clinical_ok = history
                || matches!(
                    c.clinical_status.as_deref(),
                    Some("active" | "recurrence" | "relapse")
                );
            let verified_ok = !matches!(
                c.verification_status.as_deref(),
                Some("refuted" | "entered-in-error")
            );
            if clinical_ok
                && verified_ok
                && exclude.is_none_or(|x| x.match_concept(&c.code).is_none())
                && path::admits(re, q, c.json)
            {
                hits.push(dated(c.when, Source::Condition(i)));
            }
        }
    } else if let Some(vs) = q.procedures.as_deref().and_then(|id| re.vs(id)) {
        for &(i, _) in scan(re, Pool::Procedures, vs).iter() {
            let p = &record.procedures[i];
            if !outside(p.when) && path::admits(re, q, p.json) {
                hits.push(dated(p.when, Source::Procedure(i)));
            }
        }
    } else if let Some(vs) = q.encounters.as_deref().and_then(|id| re.vs(id)) {
        for &(i, c) in scan(re, Pool::Encounters, vs).iter() {
            let e = &record.encounters[i];
            if outside(e.when)
                || q.status.as_ref().is_some_and(|s| *s != e.status)
                || !path::admits(re, q, e.json)
            {
                continue;
            }
            hits.push(dated(e.when, Source::Encounter(i, c)));
        }
    } else if let Some(vs) = q.draft_orders.as_deref().and_then(|id| re.vs(id)) {
        for (i, d) in record.draft_orders.iter().enumerate() {
            if live_order(&d.status)
                && vs.match_concept(&d.concept).is_some()
                && path::admits(re, q, d.json)
            {
                hits.push(dated(None, Source::DraftOrder(i)));
            }
        }
        return hits;
    } else if let Some(vs) = q.variants.as_deref().and_then(|id| re.vs(id)) {
        let min_vaf = q.vaf_min_percent.as_ref().and_then(|n| re.num_in(n, "%"));
        let found = variant_items(re, vs);
        for (k, item) in found.iter().enumerate() {
            if min_vaf.is_some_and(|m| item.vaf.is_some_and(|v| v < m)) || outside(item.when) {
                continue;
            }
            hits.push(dated(item.when, Source::Variant(found.clone(), k)));
        }
    }
    hits.sort_by(|a, b| b.when.cmp(&a.when));
    hits
}

fn live_order(status: &str) -> bool {
    !matches!(status, "entered-in-error" | "cancelled" | "revoked")
}

/// Every pathogenic variant of a gene in `genes`, whatever its allele frequency, in record
/// order; memoised per call (see [`Scans`]).
fn variant_items(re: &RuleEval, genes: &Compiled) -> Rc<[Item]> {
    let key = genes as *const Compiled;
    if let Some(items) = re.ctx.scans.variants.borrow().get(&key) {
        return items.clone();
    }
    let items: Rc<[Item]> = re
        .ctx
        .input
        .record
        .observations
        .iter()
        .filter(|o| countable(&o.status))
        .filter_map(|o| variant(o, genes))
        .collect();
    re.ctx
        .scans
        .variants
        .borrow_mut()
        .insert(key, items.clone());
    items
}

fn variant(o: &crate::record::Observation, genes: &Compiled) -> Option<Item> {
    let mut gene = None;
    let mut significance: Option<Vec<String>> = None;
    let mut vaf = None;
    for c in &o.components {
        if has_code(&c.code, LOINC, GENE_STUDIED) {
            let hit = match &c.value {
                Some(ObsValue::Concept(v)) => genes
                    .match_concept(v)
                    .map(|_| concept_text(v).first().map(|s| s.to_string())),
                Some(ObsValue::Text(t)) => genes.match_text(t).map(|_| Some(t.clone())),
                _ => None,
            };
            if let Some(name) = hit {
                gene = Some(name.unwrap_or_else(|| "gene".to_owned()));
            }
        } else if has_code(&c.code, LOINC, SIGNIFICANCE) {
            significance = Some(match &c.value {
                Some(ObsValue::Concept(v)) => {
                    concept_text(v).iter().flat_map(|t| words(t)).collect()
                }
                Some(ObsValue::Text(t)) => words(t),
                _ => Vec::new(),
            });
        } else if has_code(&c.code, LOINC, ALLELE_FREQUENCY) {
            if let Some(ObsValue::Quantity(q)) = &c.value {
                vaf = Some(match q.unit.as_deref() {
                    Some("%") => q.value,
                    Some("1") | None if q.value <= 1.0 => q.value * 100.0,
                    _ => q.value,
                });
            }
        }
    }
    if gene.is_none() {
        if let Some(text) = &o.code.text {
            if genes.match_text(text).is_some() {
                gene = Some(text.clone());
            }
        }
    }
    let gene = gene?;
    let pathogenic = match significance {
        Some(w) => w.iter().any(|w| w == "pathogenic") && !w.iter().any(|w| w == "benign"),
        None => {
            let mut texts: Vec<String> = o
                .interpretation
                .iter()
                .flat_map(|c| concept_text(c))
                .map(str::to_owned)
                .collect();
            match &o.value {
                Some(ObsValue::Concept(c)) => {
                    texts.extend(concept_text(c).into_iter().map(str::to_owned))
                }
                Some(ObsValue::Text(t)) => texts.push(t.clone()),
                _ => {}
            }
            texts.iter().any(|t| {
                let w = words(t);
                (w.contains(&"detected".to_owned()) || w.contains(&"positive".to_owned()))
                    && !w.contains(&"not".to_owned())
                    && !w.contains(&"negative".to_owned())
            })
        }
    };
    if !pathogenic {
        return None;
    }
    Some(Item {
        reference: o.reference.clone(),
        when: o.when,
        value: vaf,
        unit: vaf.map(|_| "%".to_owned()),
        shown: vaf.map(|v| format!("{} %", units::fmt_num(v))),
        concept: Some(o.code.clone()),
        gene: Some(gene),
        vaf,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_memoised_by_content_whatever_the_address() {
        let scans = Scans::default();
        let (a, b) = (
            String::from("Hemoglobin [Mass]"),
            String::from("Hemoglobin [Mass]"),
        );
        assert_ne!(a.as_ptr(), b.as_ptr());
        let first = scans.words_of(&a);
        assert_eq!(&*first, words(&a).as_slice());
        assert!(Rc::ptr_eq(&first, &scans.words_of(&b)), "split once");
        let other = scans.words_of("Platelets");
        assert_eq!(&*other, ["platelets".to_owned()].as_slice());
        assert!(!Rc::ptr_eq(&first, &other));
    }
}
