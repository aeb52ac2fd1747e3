//! Named sources (`cds-hooks/sources.yaml`): which resources a query draws from, and how their
//! code, date, value and status are read, as FHIRPath over the resources as received. The
//! clinical meaning (which statuses count, which date stands for the event) is pack data:
//! administrators change it like a rule, and a new resource type is a new source.

use std::cell::Cell;
use std::collections::BTreeMap;

use chrono::FixedOffset;

use fhir_r4::{Coding, Concept, ObsValue, Quantity};
use fhirpath::Item;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::eval::RuleEval;
use super::path::{CallEnv, Path};
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

/// The sources of a pack, by name.
pub type Sources = BTreeMap<String, SourceDef>;

/// The sources shipped with the service, for a pack stored before sources were pack data.
pub fn shipped() -> Sources {
    super::load::parse(
        "sources.yaml",
        include_bytes!("../../cds-hooks/sources.yaml"),
    )
    .expect("the shipped sources.yaml parses (tested)")
}

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

/// One resource of a source, read once per call.
#[derive(Debug, Clone)]
pub(super) struct SourceItem {
    pub json: Json,
    /// `Type/id`.
    pub reference: String,
    pub concepts: Vec<Concept>,
    pub when: Option<When>,
    pub value: Option<ObsValue>,
    pub interpretation: Vec<Concept>,
    pub status: Option<String>,
    /// Whether `filter`, `active` and `history` admit it (true when the source has none).
    pub pass: [bool; 3],
}

impl SourceItem {
    pub fn passes(&self, v: Variant) -> bool {
        self.pass[v as usize]
    }
}

/// Reads every resource of `def` in the call's record (or draft orders), for a rule's query.
pub(super) fn items(re: &RuleEval, def: &SourceDef) -> Vec<SourceItem> {
    let env = CallEnv::new(re);
    let (record, tz) = (re.ctx.input.record, re.ctx.input.tz);
    read_all(record, tz, &env, &re.ctx.where_failures, def)
}

/// Reads every resource of `def` in `record` (or its draft orders) with `env`; a resource a
/// FHIRPath of the source fails on is skipped and counted in `failures`.
pub(super) fn read_all<'r>(
    record: &'r PatientRecord,
    tz: FixedOffset,
    env: &dyn fhirpath::Env<'r>,
    failures: &Cell<usize>,
    def: &SourceDef,
) -> Vec<SourceItem> {
    let (list, json): (&[Value], fn(usize) -> Json) = if def.draft_orders {
        (&record.draft_resources, Json::Draft)
    } else {
        (&record.resources, Json::Record)
    };
    let mut out = Vec::new();
    for (i, resource) in list.iter().enumerate() {
        let Some(rt) = resource.get("resourceType").and_then(Value::as_str) else {
            continue;
        };
        if !def.resources.iter().any(|r| r == rt) {
            continue;
        }
        match read(def, resource, env, tz) {
            Ok(mut item) => {
                item.json = json(i);
                let id = resource
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown");
                item.reference = format!("{rt}/{id}");
                out.push(item);
            }
            Err(e) => {
                failures.set(failures.get() + 1);
                tracing::debug!(error = %e, "a source's FHIRPath failed on a resource; skipped");
            }
        }
    }
    out
}

fn read<'r>(
    def: &SourceDef,
    resource: &'r Value,
    env: &dyn fhirpath::Env<'r>,
    tz: FixedOffset,
) -> Result<SourceItem, fhirpath::EvalError> {
    let eval = |p: &Path| p.expr().evaluate(resource, env);
    let test = |p: &Option<Path>| -> Result<bool, fhirpath::EvalError> {
        match p {
            Some(p) => Ok(p.expr().test(resource, env)? == Some(true)),
            None => Ok(true),
        }
    };
    let concepts = |p: &Path| -> Result<Vec<Concept>, fhirpath::EvalError> {
        Ok(eval(p)?.iter().filter_map(concept).collect())
    };
    let when = match &def.date {
        Some(p) => eval(p)?
            .iter()
            .find_map(|i| i.text().and_then(|t| parse_when(t, tz))),
        None => None,
    };
    let value = match &def.value {
        Some(p) => eval(p)?.first().and_then(obs_value),
        None => None,
    };
    let interpretation = match &def.interpretation {
        Some(p) => concepts(p)?,
        None => Vec::new(),
    };
    let filter = test(&def.filter)?;
    Ok(SourceItem {
        json: Json::Record(0),
        reference: String::new(),
        concepts: concepts(&def.code)?,
        when,
        value,
        interpretation,
        status: resource
            .get("status")
            .and_then(Value::as_str)
            .map(str::to_owned),
        pass: [
            filter,
            if def.active.is_some() {
                test(&def.active)?
            } else {
                filter
            },
            if def.history.is_some() {
                test(&def.history)?
            } else {
                filter
            },
        ],
    })
}

/// A CodeableConcept, a Coding, a Reference (its display as text) or a string as a [`Concept`].
pub(super) fn concept(item: &Item) -> Option<Concept> {
    let value = match item {
        Item::Node { value, .. } => *value,
        Item::String(s) => {
            return Some(Concept {
                codings: Vec::new(),
                text: Some(s.to_string()),
            })
        }
        _ => return None,
    };
    let text = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let coding = |c: &Value| Coding {
        system: text(c, "system"),
        code: text(c, "code"),
        display: text(c, "display"),
    };
    Some(match value {
        Value::String(s) => Concept {
            codings: Vec::new(),
            text: Some(s.clone()),
        },
        Value::Object(_) => match value.get("coding").and_then(Value::as_array) {
            Some(codings) => Concept {
                codings: codings.iter().map(coding).collect(),
                text: text(value, "text"),
            },
            None if value.get("code").is_some() || value.get("system").is_some() => Concept {
                codings: vec![coding(value)],
                text: None,
            },
            None => Concept {
                codings: Vec::new(),
                text: text(value, "text").or_else(|| text(value, "display")),
            },
        },
        _ => return None,
    })
}

/// A value as an Observation's: a Quantity (or an integer, without unit), a CodeableConcept,
/// a string or a boolean; `None` for the other types of a choice element (Range, Ratio,
/// Period, dateTime…) and for a Quantity without a finite value.
fn obs_value(item: &Item) -> Option<ObsValue> {
    let Item::Node { value, choice } = item else {
        return None;
    };
    let quantity = || {
        let o = value.as_object()?;
        let n = o.get("value").and_then(Value::as_number)?;
        let text = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
        Some(ObsValue::Quantity(Quantity {
            value: n.as_f64().filter(|v| v.is_finite())?,
            raw: n.to_string(),
            unit: text("code").or_else(|| text("unit")),
            comparator: text("comparator"),
        }))
    };
    let integer = || {
        let n = value.as_number()?;
        Some(ObsValue::Quantity(Quantity {
            value: n.as_f64()?,
            raw: n.to_string(),
            unit: None,
            comparator: None,
        }))
    };
    match *choice {
        Some("Quantity") => quantity(),
        Some("Integer") => integer(),
        Some("CodeableConcept") => concept(item).map(ObsValue::Concept),
        Some("String") => value.as_str().map(|s| ObsValue::Text(s.to_owned())),
        Some("Boolean") => value.as_bool().map(ObsValue::Boolean),
        Some(_) => None,
        None => match value {
            Value::Bool(b) => Some(ObsValue::Boolean(*b)),
            Value::Number(_) => integer(),
            Value::String(s) => Some(ObsValue::Text(s.clone())),
            Value::Object(o) if o.contains_key("value") => quantity(),
            Value::Object(_) => concept(item).map(ObsValue::Concept),
            _ => None,
        },
    }
}

/// An Observation's components (`component`), each code with its value as an Observation's.
pub(super) fn components(resource: &Value) -> Vec<fhir_r4::Component> {
    let Some(list) = resource.get("component").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .map(|c| {
            let code = c
                .get("code")
                .and_then(|code| concept(&Item::node(code)))
                .unwrap_or_default();
            let value = c.as_object().and_then(|o| {
                o.iter().find_map(|(k, v)| {
                    let suffix = k.strip_prefix("value")?;
                    suffix
                        .starts_with(|ch: char| ch.is_ascii_uppercase())
                        .then(|| {
                            obs_value(&Item::Node {
                                value: v,
                                choice: Some(suffix),
                            })
                        })
                        .flatten()
                })
            });
            fhir_r4::Component { code, value }
        })
        .collect()
}

/// The problems of a pack's sources, each with its path in `sources.yaml`.
pub(super) fn problems(
    sources: &Sources,
    valuesets: &dyn Fn(&str) -> bool,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, def) in sources {
        if def.resources.is_empty() {
            out.push((
                format!("{name}.resources"),
                "names no resource type".to_owned(),
            ));
        }
        for (i, r) in def.resources.iter().enumerate() {
            let type_name = r.starts_with(|c: char| c.is_ascii_uppercase())
                && r.chars().all(|c| c.is_ascii_alphanumeric());
            if !type_name {
                out.push((
                    format!("{name}.resources[{i}]"),
                    format!("`{r}` is not a resource type"),
                ));
            }
        }
        for (key, template) in &def.prefetch {
            let checked = template.replace("{{codes}}", "http://loinc.org|1-8");
            if let Err(e) = crate::cds::prefetch::validate_template(&checked, "patient-view") {
                out.push((format!("{name}.prefetch.{key}"), e));
            }
        }
        if let Some(o) = &def.ordering {
            if !sources.get(o).is_some_and(|d| d.draft_orders) {
                out.push((
                    format!("{name}.ordering"),
                    format!("`{o}` is not a source of draft orders"),
                ));
            }
        }
        let paths = [
            ("code", Some(&def.code)),
            ("date", def.date.as_ref()),
            ("value", def.value.as_ref()),
            ("interpretation", def.interpretation.as_ref()),
            ("filter", def.filter.as_ref()),
            ("active", def.active.as_ref()),
            ("history", def.history.as_ref()),
        ];
        for (field, path) in paths {
            let Some(path) = path else { continue };
            for (id, column) in path.expr().value_sets() {
                if !valuesets(id) {
                    let message = format!("column {column}: memberOf: unknown value set `{id}`");
                    out.push((format!("{name}.{field}"), message));
                }
            }
            for (var, column) in path.expr().variables() {
                if !super::path::known_variable(var) {
                    out.push((
                        format!("{name}.{field}"),
                        format!("column {column}: unknown variable %{var}"),
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "source_tests.rs"]
mod tests;
