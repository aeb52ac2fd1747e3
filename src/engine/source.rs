//! Named sources (`cds-hooks/sources.yaml`): which resources a query draws from, and how their
//! code, date, value and status are read, as FHIRPath over the resources as received. The
//! clinical meaning (which statuses count, which date stands for the event) is pack data:
//! administrators change it like a rule, and a new resource type is a new source.

use std::cell::{Cell, OnceCell};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use chrono_tz::Tz;

use fhir_r4::{Concept, ObsValue};
use fhirpath::json::get_str;
use rustc_hash::{FxHashMap, FxHasher};
use serde::{Deserialize, Serialize};
use sonic_rs::Value;

use super::path::Path;
pub(super) use super::values::{components, concept, obs_value};
use super::values::{concept_ref, ConceptRef};
use crate::record::{parse_when, PatientRecord, When};

/// One named source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceDef {
    /// What the source is, for people.
    pub description: String,
    /// The resource types it draws from.
    pub resources: Vec<String>,
    /// It reads the orders being placed (`context.draftOrders`), not the patient's record.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub draft_orders: bool,
    /// The codes a value set is matched against (a `CodeableConcept`, `Coding` or `Reference`).
    pub code: Path,
    /// When it happened: the first date or date-time found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<Path>,
    /// The value compared by `value`, `unit` and `value_in` (a Quantity, CodeableConcept,
    /// string, boolean or integer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Path>,
    /// Interpretations, also matched by `value_in`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpretation: Option<Path>,
    /// Which resources count (their status); all of them when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Path>,
    /// Which count for a query with `active: true` (instead of `filter`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<Path>,
    /// Which count for a query with `include_inactive: true` (instead of `filter`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Path>,
    /// On order hooks, a query with `active: true` also counts the items of this source (the
    /// orders being placed), dated now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordering: Option<String>,
    /// The prefetch keys and FHIR search templates that bring its resources (with
    /// `{{context.patientId}}`, and `{{codes}}` for the codes of the value sets read through
    /// it); a service asks for them when an active rule of its hook reads the source.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub prefetch: BTreeMap<String, String>,
}

impl SourceDef {
    /// What it reads from a record, as text: the resources and the expressions that read
    /// them (not what it prefetches or says of itself). Two sources with the same reading
    /// have the same items.
    pub(super) fn reading(&self) -> String {
        let paths = [
            Some(&self.code),
            self.date.as_ref(),
            self.value.as_ref(),
            self.interpretation.as_ref(),
            self.filter.as_ref(),
            self.active.as_ref(),
            self.history.as_ref(),
        ];
        let mut out = format!("{}", self.draft_orders);
        // Each part prefixed by its length, so that no content can pass for a separator.
        let parts = self
            .resources
            .iter()
            .map(String::as_str)
            .chain([""])
            .chain(paths.iter().map(|p| p.map_or("", |p| p.expr().source())));
        for part in parts {
            out.push_str(&format!("{}:{part}", part.len()));
        }
        out
    }
}

/// The sources of a pack, by name.
pub type Sources = BTreeMap<String, SourceDef>;

/// Which of a source's filters a query applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Variant {
    Filter,
    Active,
    History,
}

/// Where an item's resource is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Json {
    Record(usize),
    Draft(usize),
}

impl Json {
    /// The resource in `record`.
    pub fn in_record(self, record: &PatientRecord) -> Option<&Value> {
        match self {
            Json::Record(i) => record.resources.get(i),
            Json::Draft(i) => record.draft_resources.get(i),
        }
    }
}

/// A FHIRPath failed on a resource, which is skipped for that read: counted in `failures`
/// (the call's metric), logged without content.
pub(super) fn failed(failures: &Cell<usize>, e: &fhirpath::EvalError) {
    failures.set(failures.get() + 1);
    tracing::debug!(error = %e, "a FHIRPath of the pack failed on a resource; skipped");
}

/// One resource of a source, read once per call: its codes and which filters admit it at
/// once (every query scans them), its date, value and interpretation when first asked
/// (most resources match no value set a query names, and these expressions cost most).
#[derive(Debug, Clone)]
pub(super) struct SourceItem {
    pub json: Json,
    /// Its codes, each shared by the items of the reading that have it.
    pub concepts: Vec<Rc<Concept>>,
    /// For each of `concepts`, its number among the distinct concepts of the reading: equal
    /// concepts have equal numbers, so a value set is matched against each distinct concept
    /// once (the same panel code recurs on every monthly result).
    pub concept_ids: Vec<usize>,
    /// Whether `filter`, `active` and `history` admit it (true when the source has none).
    pub pass: [bool; 3],
    when: OnceCell<Option<When>>,
    value: OnceCell<Option<ObsValue>>,
    interpretation: OnceCell<Vec<Concept>>,
}

impl SourceItem {
    /// `Type/id`, made when asked (for the few items a card or the cohort names).
    pub fn reference(&self, record: &PatientRecord) -> String {
        let resource = self.json.in_record(record);
        let text = |name| resource.and_then(|r| get_str(r, name));
        format!(
            "{}/{}",
            text("resourceType").unwrap_or_default(),
            text("id").unwrap_or("unknown")
        )
    }

    /// Its `status` as received.
    pub fn status<'r>(&self, record: &'r PatientRecord) -> Option<&'r str> {
        self.json
            .in_record(record)
            .and_then(|r| get_str(r, "status"))
    }

    pub fn passes(&self, v: Variant) -> bool {
        self.pass[v as usize]
    }

    /// The value, when it has been read (a query over a valued source reads it for each hit).
    pub fn value_read(&self) -> Option<&ObsValue> {
        self.value.get().and_then(Option::as_ref)
    }
}

/// Reads the items of one source in one call's record with one environment.
pub(super) struct Reader<'r, E> {
    pub record: &'r PatientRecord,
    pub tz: Tz,
    pub env: E,
    pub failures: &'r Cell<usize>,
    pub def: &'r SourceDef,
}

impl<'r, E: fhirpath::Env<'r>> Reader<'r, E> {
    fn resource(&self, item: &SourceItem) -> Option<&'r Value> {
        item.json.in_record(self.record)
    }

    fn failed(&self, e: fhirpath::EvalError) {
        failed(self.failures, &e);
    }

    fn eval(&self, p: &'r Path, resource: &'r Value) -> Option<Vec<fhirpath::Item<'r>>> {
        p.expr()
            .evaluate(resource, &self.env)
            .map_err(|e| self.failed(e))
            .ok()
    }

    /// When it happened: the first date or date-time the source's `date` finds.
    pub fn when(&self, item: &SourceItem) -> Option<When> {
        *item.when.get_or_init(|| {
            let p = self.def.date.as_ref()?;
            p.expr()
                .find_map(self.resource(item)?, &self.env, |i| {
                    i.text().and_then(|t| parse_when(t, self.tz))
                })
                .map_err(|e| self.failed(e))
                .ok()
                .flatten()
        })
    }

    /// The value the source's `value` finds, as an Observation's.
    pub fn value<'i>(&self, item: &'i SourceItem) -> Option<&'i ObsValue> {
        item.value
            .get_or_init(|| {
                let p = self.def.value.as_ref()?;
                self.eval(p, self.resource(item)?)?
                    .first()
                    .and_then(obs_value)
            })
            .as_ref()
    }

    /// The interpretations the source's `interpretation` finds.
    pub fn interpretation<'i>(&self, item: &'i SourceItem) -> &'i [Concept] {
        item.interpretation.get_or_init(|| {
            let Some(p) = self.def.interpretation.as_ref() else {
                return Vec::new();
            };
            self.resource(item)
                .and_then(|r| self.eval(p, r))
                .map(|found| found.iter().filter_map(concept).collect())
                .unwrap_or_default()
        })
    }

    /// Every resource of the source's types in the record (or its draft orders), with its
    /// codes and filters read; a resource they fail on is skipped and counted. `types` are
    /// the record's (the draft orders' are read here).
    pub fn read_all(&self, types: &Types) -> Vec<SourceItem> {
        let def = self.def;
        let drafts;
        let (list, json, types): (&[Value], fn(usize) -> Json, &Types) = if def.draft_orders {
            drafts = Types::of(&self.record.draft_resources);
            (&self.record.draft_resources, Json::Draft, &drafts)
        } else {
            (&self.record.resources, Json::Record, types)
        };
        let wanted: Vec<bool> = (types.names.iter())
            .map(|n| def.resources.contains(n))
            .collect();
        let mut out = Vec::new();
        let mut distinct = Distinct::default();
        for (i, resource) in list.iter().enumerate() {
            if !types
                .of
                .get(i)
                .copied()
                .flatten()
                .is_some_and(|t| wanted[t])
            {
                continue;
            }
            match self.read(resource) {
                Ok(None) => {}
                Ok(Some((codes, pass))) => {
                    let (concept_ids, concepts) = (codes.iter().filter_map(concept_ref))
                        .map(|c| distinct.id(&c))
                        .unzip();
                    out.push(SourceItem {
                        json: json(i),
                        concept_ids,
                        concepts,
                        pass,
                        when: OnceCell::new(),
                        value: OnceCell::new(),
                        interpretation: OnceCell::new(),
                    });
                }
                Err(e) => self.failed(e),
            }
        }
        out
    }

    /// Which filters admit `resource`, and its codes; `None` when none admits it (its codes
    /// are then not read: no view of the source would ever show it).
    fn read(&self, resource: &'r Value) -> Result<Option<Read<'r>>, fhirpath::EvalError> {
        let def = self.def;
        let test = |p: &'r Option<Path>| -> Result<bool, fhirpath::EvalError> {
            match p {
                Some(p) => Ok(p.expr().test(resource, &self.env)? == Some(true)),
                None => Ok(true),
            }
        };
        let filter = test(&def.filter)?;
        let active = if def.active.is_some() {
            test(&def.active)?
        } else {
            filter
        };
        let history = if def.history.is_some() {
            test(&def.history)?
        } else {
            filter
        };
        if !(filter || active || history) {
            return Ok(None);
        }
        let codes = def.code.expr().evaluate(resource, &self.env)?;
        Ok(Some((codes, [filter, active, history])))
    }
}

/// A resource's codes and which of its source's filters admit it (filter, active, history).
type Read<'r> = (fhirpath::Collection<'r>, [bool; 3]);

/// The `resourceType` of each resource of a list, numbered among its distinct types: every
/// source picks its resources by type, and a record has few types, read once per call.
#[derive(Debug, Default)]
pub(super) struct Types {
    names: Vec<String>,
    of: Vec<Option<usize>>,
}

impl Types {
    pub fn of(list: &[Value]) -> Types {
        let mut types = Types::default();
        for resource in list {
            let t = get_str(resource, "resourceType").map(|rt| {
                match types.names.iter().position(|n| n == rt) {
                    Some(t) => t,
                    None => {
                        types.names.push(rt.to_owned());
                        types.names.len() - 1
                    }
                }
            });
            types.of.push(t);
        }
        types
    }
}

/// Numbers the distinct concepts of one reading, in the order first seen, and copies each
/// out of the record once.
#[derive(Default)]
struct Distinct {
    /// The numbers of the concepts seen, by a hash of their content.
    by_hash: FxHashMap<u64, Vec<usize>>,
    seen: Vec<Rc<Concept>>,
}

impl Distinct {
    fn id(&mut self, c: &ConceptRef) -> (usize, Rc<Concept>) {
        let mut h = FxHasher::default();
        c.hash(&mut h);
        let ids = self.by_hash.entry(h.finish()).or_default();
        if let Some(&id) = ids.iter().find(|&&id| c.is(&self.seen[id])) {
            return (id, self.seen[id].clone());
        }
        let id = self.seen.len();
        ids.push(id);
        let copied = Rc::new(c.to_concept());
        self.seen.push(copied.clone());
        (id, copied)
    }
}

#[cfg(test)]
#[path = "source_tests.rs"]
mod tests;
