//! Helpers of the engine's table-driven tests (`engine/tests/`): a small pack built from YAML
//! strings (the rules and value sets a test needs, with the shipped `sources.yaml`,
//! `cohort.yaml` and the two value sets the cohort reads), a record built from a handful of
//! FHIR resources written with `serde_json::json!`, and an evaluation at a fixed `now`.
//!
//! Rules are written with [`rule`] (the boilerplate filled in, one flow-style YAML line per
//! key), value sets with [`valueset`] or [`codes`]. Resources name the patient [`PATIENT`];
//! [`record`] refuses a resource the record would drop, so that a row cannot pass because its
//! resource was silently skipped.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{json, Value};

use super::{load, CompiledPack, EvalInput, Finding, Pack, Problem};
use crate::record::{PatientRecord, RecordBuilder};

mod resources;
pub use resources::*;

/// The moment every table evaluates at, unless a row says otherwise.
pub const NOW: &str = "2026-03-15T12:00:00Z";
/// Day 0 of [`yescarta`] administrations in most rows: day 14 at [`NOW`].
pub const DAY0: &str = "2026-03-01";
/// The patient of every record.
pub const PATIENT: &str = "p1";
/// The code system of the tests' own codes ([`concept`]).
pub const SYS: &str = "http://example.org/codes";
/// HCPCS, the system of the shipped product codes (`cart-products`).
pub const HCPCS: &str = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets";

const COHORT: &str = include_str!("../../../cds-hooks/cohort.yaml");
const SOURCES: &str = include_str!("../../../cds-hooks/sources.yaml");
const PRODUCTS: &str = include_str!("../../../cds-hooks/valuesets/cart-products.yaml");
/// Included by `cart-products`: the cohort's value sets do not compile without it.
const CILTA_CEL: &str = include_str!("../../../cds-hooks/valuesets/product-cilta-cel.yaml");
const INFUSION: &str = include_str!("../../../cds-hooks/valuesets/cart-infusion.yaml");

/// A rule file being written: [`rule`], then the parts a test needs.
#[derive(Debug, Clone)]
pub struct RuleText {
    id: String,
    status: &'static str,
    hooks: &'static str,
    cohort: &'static str,
    parameters: Option<String>,
    bindings: Option<String>,
    lists: Option<String>,
    when: String,
    summary: String,
    extra_card: Option<String>,
    due: Option<String>,
}

/// An active `patient-view` rule for CAR-T recipients with the condition `when` (flow YAML)
/// and the summary "fired".
pub fn rule(id: &str, when: &str) -> RuleText {
    RuleText {
        id: id.to_owned(),
        status: "active",
        hooks: "[patient-view]",
        cohort: "required",
        parameters: None,
        bindings: None,
        lists: None,
        when: when.to_owned(),
        summary: "fired".to_owned(),
        extra_card: None,
        due: None,
    }
}

impl RuleText {
    /// `let:` (a flow mapping of bindings).
    pub fn bind(mut self, yaml: &str) -> Self {
        self.bindings = Some(yaml.to_owned());
        self
    }
    /// `parameters:` (a flow mapping).
    pub fn params(mut self, yaml: &str) -> Self {
        self.parameters = Some(yaml.to_owned());
        self
    }
    /// `lists:` (a flow mapping).
    pub fn lists(mut self, yaml: &str) -> Self {
        self.lists = Some(yaml.to_owned());
        self
    }
    /// The card's summary template.
    pub fn summary(mut self, template: &str) -> Self {
        self.summary = template.to_owned();
        self
    }
    /// More keys of the card (flow YAML, without the braces: `variants: [...]`).
    pub fn card(mut self, yaml: &str) -> Self {
        self.extra_card = Some(yaml.to_owned());
        self
    }
    /// `due:` (a flow mapping).
    pub fn due(mut self, yaml: &str) -> Self {
        self.due = Some(yaml.to_owned());
        self
    }
    /// `status:`.
    pub fn status(mut self, status: &'static str) -> Self {
        self.status = status;
        self
    }
    /// `hooks:` (a flow list).
    pub fn hooks(mut self, hooks: &'static str) -> Self {
        self.hooks = hooks;
        self
    }
    /// `cohort: any`: every patient, recipient or not.
    pub fn any_patient(mut self) -> Self {
        self.cohort = "any";
        self
    }

    /// The rule file.
    pub fn yaml(&self) -> String {
        let quoted = |s: &str| serde_json::to_string(s).expect("a string");
        let mut out = format!(
            "id: {id}\ntitle: {id}\nstatus: {}\nhooks: {}\nprevention: secondary\ncohort: {}\n",
            self.status,
            self.hooks,
            self.cohort,
            id = self.id
        );
        for (key, value) in [
            ("parameters", &self.parameters),
            ("let", &self.bindings),
            ("lists", &self.lists),
            ("due", &self.due),
        ] {
            if let Some(v) = value {
                out.push_str(&format!("{key}: {v}\n"));
            }
        }
        let extra = self
            .extra_card
            .as_ref()
            .map_or(String::new(), |e| format!(", {e}"));
        out.push_str(&format!(
            "when: {}\ncard: {{indicator: info, summary: {}, detail: detail{extra}}}\n",
            self.when,
            quoted(&self.summary)
        ));
        out.push_str(
            "evidence: [{label: test, citation: test, url: \"https://example.org/\", status: V}]\n",
        );
        out
    }
}

/// A value set file: `id` with `entries` (YAML lines such as `codes: [...]`).
pub fn valueset(id: &str, entries: &str) -> String {
    format!("id: {id}\ntitle: {id}\ndescription: test\n{entries}\n")
}

/// A value set of the tests' own codes ([`SYS`]).
pub fn codes(id: &str, codes: &[&str]) -> String {
    let list: Vec<String> = codes
        .iter()
        .map(|c| format!("{{system: \"{SYS}\", code: \"{c}\", status: local}}"))
        .collect();
    valueset(id, &format!("codes: [{}]", list.join(", ")))
}

/// The pack document: the shipped cohort, sources and cohort value sets, and these.
pub fn pack_doc(rules: &[RuleText], valuesets: &[String]) -> Pack {
    let mut pack = Pack {
        cohort: load::parse("cohort.yaml", COHORT.as_bytes()).expect("shipped cohort"),
        valuesets: Default::default(),
        rules: Default::default(),
        sources: load::parse("sources.yaml", SOURCES.as_bytes()).expect("shipped sources"),
    };
    for text in [PRODUCTS, CILTA_CEL, INFUSION]
        .into_iter()
        .map(str::to_owned)
        .chain(valuesets.iter().cloned())
    {
        let vs: super::ValueSet = load::parse("valueset", text.as_bytes())
            .unwrap_or_else(|p| panic!("test value set does not parse: {p}\n{text}"));
        pack.valuesets.insert(vs.id.clone(), vs);
    }
    for r in rules {
        let text = r.yaml();
        let rule: super::Rule = load::parse(&format!("rules/{}.yaml", r.id), text.as_bytes())
            .unwrap_or_else(|p| panic!("test rule does not parse: {p}\n{text}"));
        pack.rules.insert(rule.id.clone(), rule);
    }
    pack
}

/// The pack compiled, or every problem `rules check` would list.
pub fn try_compile(rules: &[RuleText], valuesets: &[String]) -> Result<CompiledPack, Vec<Problem>> {
    super::compile(pack_doc(rules, valuesets))
}

/// The pack compiled; a test pack that does not compile is a broken test.
pub fn compile(rules: &[RuleText], valuesets: &[String]) -> CompiledPack {
    try_compile(rules, valuesets).unwrap_or_else(|problems| {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        panic!("test pack refused:\n{}", list.join("\n"))
    })
}

fn sonic(v: &Value) -> sonic_rs::Value {
    sonic_rs::from_str(&v.to_string()).expect("JSON")
}

/// The record of [`PATIENT`]: resources without an `id` get `r0`, `r1`… by position. Panics
/// when the record drops one (invalid, or another patient's).
pub fn record(resources: &[Value]) -> PatientRecord {
    record_with_drafts(resources, &[])
}

/// [`record`] with `context.draftOrders`.
pub fn record_with_drafts(resources: &[Value], drafts: &[Value]) -> PatientRecord {
    let mut b = RecordBuilder::new(PATIENT);
    for (i, r) in resources.iter().enumerate() {
        let mut r = r.clone();
        if r.get("id").is_none() {
            r["id"] = json!(format!("r{i}"));
        }
        b.add(sonic(&r));
    }
    let entries: Vec<Value> = drafts.iter().map(|d| json!({"resource": d})).collect();
    b.add_draft_orders(&json!({"resourceType": "Bundle", "type": "collection", "entry": entries}));
    let rec = b.finish();
    assert_eq!(
        (rec.stats.skipped_invalid, rec.stats.other_patient),
        (0, 0),
        "a test resource was dropped: {resources:?} {drafts:?}"
    );
    assert_eq!(
        rec.draft_resources.len(),
        drafts.len(),
        "a draft order was dropped"
    );
    rec
}

/// An instant written in RFC 3339.
pub fn instant(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("an RFC 3339 instant")
        .with_timezone(&Utc)
}

/// A hook call: the hook, the moment and the time zone of calendar dates.
#[derive(Debug, Clone, Copy)]
pub struct At {
    pub hook: &'static str,
    pub now: DateTime<Utc>,
    pub tz: Tz,
}

impl Default for At {
    fn default() -> At {
        At {
            hook: "patient-view",
            now: instant(NOW),
            tz: Tz::UTC,
        }
    }
}

/// A `patient-view` call at `now`, in UTC.
pub fn at(now: &str) -> At {
    At {
        now: instant(now),
        ..At::default()
    }
}

impl At {
    /// The same call on another hook.
    pub fn hook(self, hook: &'static str) -> At {
        At { hook, ..self }
    }
    /// The same call with calendar dates in `tz`.
    pub fn tz(self, tz: Tz) -> At {
        At { tz, ..self }
    }

    /// The findings of the call; [`CompiledPack::firing`] must name the same rules.
    pub fn findings(&self, pack: &CompiledPack, record: &PatientRecord) -> Vec<Finding> {
        let input = EvalInput {
            record,
            hook: self.hook,
            now: self.now,
            tz: self.tz,
        };
        let found = pack.evaluate(&input);
        let mut ids: Vec<&str> = found.iter().map(|f| f.rule_id.as_str()).collect();
        let mut firing = pack.firing(&input);
        ids.sort_unstable();
        firing.sort_unstable();
        assert_eq!(ids, firing, "evaluate and firing disagree");
        found
    }

    /// The summary of rule `id`'s card, when it fires.
    pub fn summary(&self, pack: &CompiledPack, record: &PatientRecord, id: &str) -> Option<String> {
        self.findings(pack, record)
            .into_iter()
            .find(|f| f.rule_id == id)
            .map(|f| f.summary)
    }

    /// Whether rule `id` fires.
    pub fn fires(&self, pack: &CompiledPack, record: &PatientRecord, id: &str) -> bool {
        self.summary(pack, record, id).is_some()
    }
}

/// The summary of `rule`'s card on a `patient-view` call at [`NOW`] in UTC, when it fires.
pub fn summary_of(rule: RuleText, valuesets: &[String], resources: &[Value]) -> Option<String> {
    let id = rule.id.clone();
    let pack = compile(&[rule], valuesets);
    At::default().summary(&pack, &record(resources), &id)
}
