//! Queries over the patient record (`latest`, `previous`, `count`).
//!
//! A query draws from a named source of the pack (`cds-hooks/sources.yaml`), which says which
//! resources count and how they are read. Results without a numeric value, or whose unit cannot
//! be converted to the query's unit, are ignored, never guessed.

use std::borrow::Cow;
use std::rc::Rc;

use fhir_r4::{Concept, ObsValue};

mod variants;

use super::ctx::{RuleEval, RuleValues};
use super::item::Item;
use super::rule::{Comparison, Num, Query};
use super::rule_path;
use super::scans::{Hits, Scans};
use super::source::{SourceDef, SourceItem, Variant};
use super::valueset::Compiled;
use super::window::Window;
use crate::record::{units, When};

pub(super) fn concept_text(c: &Concept) -> Vec<&str> {
    c.text
        .iter()
        .chain(c.codings.iter().filter_map(|k| k.display.as_ref()))
        .map(String::as_str)
        .collect()
}

/// Whether an observation's value (or an interpretation) is in `vs`, with the words of its
/// texts from the call's memo (every rule with a `value_in` asks this of every result).
pub(super) fn value_matches(
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
/// every rule, which the 2,000-rule bench showed.
struct Bounds {
    last: Option<(Option<String>, Option<f64>)>,
}

impl Bounds {
    fn passes(&mut self, re: &RuleEval, cmp: &Comparison, v: f64, unit: Option<&str>) -> bool {
        let bound = match &self.last {
            Some((u, b)) if u.as_deref() == unit => *b,
            _ => {
                let b = re.bound(cmp, unit);
                self.last = Some((unit.map(str::to_owned), b));
                b
            }
        };
        bound.is_some_and(|b| cmp.holds(v, b))
    }
}

/// The items of a source for this call (every resource of its types in the call's record, or
/// its draft orders).
fn source_items(re: &RuleEval, def: &SourceDef) -> Rc<[SourceItem]> {
    re.ctx.scans.items(def, re.ctx.input.record, |types| {
        rule_path::reader(re, def).read_all(types)
    })
}

/// The items of `def` that `variant` admits and `vs` matches, scanned once per call.
fn scan(re: &RuleEval, def: &SourceDef, variant: Variant, vs: &Compiled) -> Hits {
    re.ctx.scans.hits(def, variant, vs, || {
        let hit = |c: &Concept| {
            vs.match_concept_with(c, |t| re.ctx.scans.words_of(t))
                .is_some()
        };
        // Whether each distinct concept of the reading matches, decided once.
        let mut known: Vec<Option<bool>> = Vec::new();
        let mut matches = |c: &Concept, id: usize| {
            if known.len() <= id {
                known.resize(id + 1, None);
            }
            *known[id].get_or_insert_with(|| hit(c))
        };
        source_items(re, def)
            .iter()
            .enumerate()
            .filter(|(_, item)| item.passes(variant))
            .filter_map(|(i, item)| {
                let mut concepts = item.concepts.iter().zip(&item.concept_ids);
                concepts.position(|(c, &id)| matches(c, id)).map(|c| (i, c))
            })
            .collect()
    })
}

/// What a query found, before its [`Item`] is built: what windows, comparisons and ordering
/// need. A rule reads at most two items of a query (the latest and the previous) and a count
/// reads none, so items (codes, references and display texts cloned from the record) are
/// built only when read, by [`Hit::item`].
pub(super) struct Hit<'q> {
    when: Option<When>,
    value: Option<f64>,
    unit: Option<Cow<'q, str>>,
    found: Found,
}

/// Where a hit is.
enum Found {
    /// An item of a source and the index of its matching concept.
    Item(Rc<[SourceItem]>, usize, usize),
    /// A variant finding of the call's memo ([`variants::variant_items`]).
    Variant(Rc<[Item]>, usize),
}

impl Hit<'_> {
    /// The item: the reference, date and matching code, and for valued sources the value as
    /// the query reads it (converted to its unit) and as it was recorded.
    pub(super) fn item(&self, re: &RuleEval) -> Item {
        match &self.found {
            Found::Item(items, i, c) => {
                let s = &items[*i];
                Item {
                    reference: s.reference(re.ctx.input.record),
                    when: self.when,
                    value: self.value,
                    unit: self.unit.as_deref().map(str::to_owned),
                    shown: shown(s.value_read()),
                    concept: s.concepts.get(*c).map(|c| Concept::clone(c)),
                    json: Some(s.json),
                    ..Item::default()
                }
            }
            Found::Variant(items, i) => items[*i].clone(),
        }
    }
}

/// A result's value as recorded, for people.
pub(super) fn shown(value: Option<&ObsValue>) -> Option<String> {
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
    let mut hits: Vec<Hit<'q>> = Vec::new();
    let Some((name, vs_id)) = q.origin() else {
        return hits;
    };
    let (Some(def), Some(vs)) = (re.ctx.pack.pack.sources.get(name), re.vs(vs_id)) else {
        return hits;
    };
    // The window needs only the date: records outside it are skipped first.
    let window = Window::of(re, q);
    let outside = |when: Option<When>| !window.contains(when);
    if name == "variants" {
        let min_vaf = q.vaf_min_percent.as_ref().and_then(|n| re.num_in(n, "%"));
        let found = variants::variant_items(re, def, vs);
        for (k, item) in found.iter().enumerate() {
            if min_vaf.is_some_and(|m| item.vaf.is_some_and(|v| v < m)) || outside(item.when) {
                continue;
            }
            hits.push(Hit {
                when: item.when,
                value: None,
                unit: None,
                found: Found::Variant(found.clone(), k),
            });
        }
        hits.sort_by_key(|h| std::cmp::Reverse(h.when));
        return hits;
    }
    let variant = match (q.active, q.include_inactive) {
        (Some(true), _) => Variant::Active,
        (_, Some(true)) => Variant::History,
        _ => Variant::Filter,
    };
    let numeric = q.numeric.unwrap_or(def.value.is_some());
    let value_in = q.value_in.as_deref().and_then(|id| re.vs(id));
    let exclude = q.exclude.as_deref().and_then(|id| re.vs(id));
    let mut bounds = Bounds { last: None };
    let mut to_target = units::Converter::default();
    let items = source_items(re, def);
    let reader = rule_path::reader(re, def);
    for &(i, c) in scan(re, def, variant, vs).iter() {
        let item = &items[i];
        if (!def.draft_orders && outside(reader.when(item)))
            || q.status
                .as_deref()
                .is_some_and(|s| Some(s) != item.status(re.ctx.input.record))
            || exclude.is_some_and(|x| item.concepts.iter().any(|c| x.match_concept(c).is_some()))
        {
            continue;
        }
        if let Some(vin) = value_in {
            if !value_matches(
                &re.ctx.scans,
                vin,
                reader.value(item),
                reader.interpretation(item),
            ) {
                continue;
            }
        }
        let (value, unit) = match reader.value(item) {
            Some(ObsValue::Quantity(qty)) => match (q.unit.as_deref(), qty.unit.as_deref()) {
                (Some(target), Some(u)) => (
                    to_target.convert(qty.value, u, target),
                    Some(Cow::Borrowed(target)),
                ),
                (Some(_), None) => (None, None),
                (None, u) => (Some(qty.value), u.map(|u| Cow::Owned(u.to_owned()))),
            },
            _ => (None, None),
        };
        if numeric && value.is_none() {
            continue;
        }
        if let Some(cmp) = &q.value {
            match value {
                Some(v) if bounds.passes(re, cmp, v, unit.as_deref()) => {}
                _ => continue,
            }
        }
        if !rule_path::admits(re, q, item.json) {
            continue;
        }
        let when = if def.draft_orders {
            None
        } else {
            reader.when(item)
        };
        let found = Found::Item(items.clone(), i, c);
        hits.push(Hit {
            when,
            value,
            unit,
            found,
        });
    }
    if def.draft_orders {
        return hits;
    }
    // On order hooks, the orders being placed count as active, dated now.
    let now = Some(When {
        at: re.ctx.input.now,
        date: re.ctx.today,
    });
    let ordering = matches!(re.ctx.input.hook, "order-select" | "order-sign");
    let drafts = def
        .ordering
        .as_deref()
        .and_then(|d| re.ctx.pack.pack.sources.get(d));
    if let (Variant::Active, true, Some(drafts)) = (variant, ordering, drafts) {
        if !outside(now) {
            let items = source_items(re, drafts);
            for &(i, c) in scan(re, drafts, Variant::Filter, vs).iter() {
                if rule_path::admits(re, q, items[i].json) {
                    let found = Found::Item(items.clone(), i, c);
                    hits.push(Hit {
                        when: now,
                        value: None,
                        unit: None,
                        found,
                    });
                }
            }
        }
    }
    hits.sort_by_key(|h| std::cmp::Reverse(h.when));
    hits
}
