//! FHIRPath in rules: a query's `where:` is compiled when the rule is read (a syntax or type
//! error refuses the rule with its path and the column) and evaluated on each candidate
//! resource as it was received, with the pack's value sets (`memberOf`), the call's clock
//! (`today()`, `now()`) and `%day0`.

use chrono::{DateTime, FixedOffset};
use fhir_r4::{Coding, Concept};
use fhirpath::{Item, Temporal};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::eval::RuleEval;
use super::rule::Query;

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

/// What an expression sees of the call.
struct CallEnv<'c> {
    re: &'c RuleEval<'c, 'c>,
    now: DateTime<FixedOffset>,
}

impl<'a> fhirpath::Env<'a> for CallEnv<'_> {
    fn variable(&self, name: &str) -> Option<Vec<Item<'a>>> {
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
            _ => None,
        }
    }

    fn member_of(&self, item: &Item<'a>, id: &str) -> bool {
        let Some(vs) = self.re.ctx.pack.valuesets.get(id) else {
            return false;
        };
        match item {
            Item::Node {
                value: Value::String(text),
                ..
            } => vs.match_text(text).is_some(),
            Item::String(text) => vs.match_text(text).is_some(),
            Item::Node { value, .. } => vs.match_concept(&concept_of(value)).is_some(),
            _ => false,
        }
    }

    fn now(&self) -> DateTime<FixedOffset> {
        self.now
    }
}

/// A CodeableConcept, a Coding or a Reference's display read as a [`Concept`].
fn concept_of(value: &Value) -> Concept {
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let coding = |c: &Value| Coding {
        system: text(c, "system"),
        code: text(c, "code"),
        display: text(c, "display"),
    };
    match value.get("coding").and_then(Value::as_array) {
        Some(codings) => Concept {
            codings: codings.iter().map(coding).collect(),
            text: text(value, "text"),
        },
        None if value.get("code").is_some() => Concept {
            codings: vec![coding(value)],
            text: None,
        },
        None => Concept {
            codings: Vec::new(),
            text: text(value, "text").or_else(|| text(value, "display")),
        },
    }
}

/// Whether the query's `where:` admits the resource at `json` in the record (always, without
/// one). A resource kept without its JSON is not admitted; an expression that fails on the
/// resource (a type mismatch) skips it for this rule.
pub(super) fn admits(re: &RuleEval, q: &Query, json: Option<usize>) -> bool {
    let Some(path) = &q.where_ else {
        return true;
    };
    let Some(resource) = json.and_then(|i| re.ctx.input.record.resources.get(i)) else {
        return false;
    };
    let env = CallEnv {
        re,
        now: re.ctx.input.now.with_timezone(&re.ctx.input.tz),
    };
    match path.expr().test(resource, &env) {
        Ok(result) => result == Some(true),
        Err(e) => {
            re.ctx.where_failures.set(re.ctx.where_failures.get() + 1);
            tracing::debug!(rule = %re.rule.id, error = %e, "where: failed on a resource; skipped");
            false
        }
    }
}
