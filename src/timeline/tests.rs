//! The timeline's data from small records and the shipped pack: thresholds are the pack's
//! parameters (and move when one is tuned), values are converted and dated by day N, medications
//! become periods, conditions events, findings and cards markers.

use std::path::Path;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use sonic_rs::{json, Value};

use super::*;
use crate::engine::{compile, load, Pack};
use crate::record::RecordBuilder;

const PATIENT: &str = "p1";

/// The shipped pack has no value set of infection diagnoses.
const NO_INFECTION_VS: &str = "value set infection or source conditions (not in the active pack)";

pub(super) fn shipped() -> Pack {
    load::load_dir(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("cds-hooks")
            .as_path(),
    )
    .expect("the shipped pack loads")
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 15, 12, 0, 0).unwrap()
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

pub(super) fn subject() -> Value {
    json!({"reference": format!("Patient/{PATIENT}")})
}

/// Yescarta given on `day0` (a completed administration, coded by its brand name).
pub(super) fn infusion(day0: &str) -> Value {
    json!({"resourceType": "MedicationAdministration", "id": "car-t", "status": "completed",
        "medicationCodeableConcept": {"text": "Yescarta (axicabtagene ciloleucel)"},
        "subject": subject(), "effectiveDateTime": day0})
}

fn result(id: &str, loinc: &str, when: &str, value: Value, unit: &str) -> Value {
    json!({"resourceType": "Observation", "id": id, "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        "subject": subject(), "effectiveDateTime": when,
        "valueQuantity": {"value": value, "system": "http://unitsofmeasure.org", "code": unit}})
}

fn request(id: &str, text: &str, status: &str, authored: &str, end: Option<&str>) -> Value {
    let mut r = json!({"resourceType": "MedicationRequest", "id": id, "status": status,
        "intent": "order", "medicationCodeableConcept": {"text": text},
        "subject": subject(), "authoredOn": authored});
    if let Some(end) = end {
        r["dosageInstruction"] =
            json!([{"timing": {"repeat": {"boundsPeriod": {"start": authored, "end": end}}}}]);
    }
    r
}

pub(super) fn record(resources: Vec<Value>) -> PatientRecord {
    let mut b = RecordBuilder::new(PATIENT);
    b.add(json!({"resourceType": "Patient", "id": PATIENT, "birthDate": "1970-01-01"}));
    for r in resources {
        b.add(r);
    }
    b.finish()
}

pub(super) fn timeline(
    pack: &CompiledPack,
    record: &PatientRecord,
    findings: &[KnownFinding],
) -> Timeline {
    build(&Inputs {
        pack,
        record,
        findings,
        past_cards: &[],
        now: now(),
        tz: Tz::UTC,
    })
}

fn series<'t>(t: &'t Timeline, key: &str) -> &'t Series {
    t.series.iter().find(|s| s.key == key).unwrap()
}

fn param(pack: &Pack, rule: &str, name: &str) -> f64 {
    pack.rules[rule].parameters[name].value
}

#[test]
fn thresholds_are_the_active_packs_parameters_and_move_when_one_is_tuned() {
    let pack = shipped();
    let cyto = "prolonged-cytopenia-marrow-evaluation";
    let compiled = compile(pack.clone()).unwrap();
    let t = timeline(&compiled, &record(vec![infusion("2026-01-10")]), &[]);
    let anc: Vec<(f64, &str)> = series(&t, "anc")
        .thresholds
        .iter()
        .map(|th| (th.value, th.parameter.as_str()))
        .collect();
    assert_eq!(
        anc,
        [
            (param(&pack, cyto, "anc_threshold"), "anc_threshold"),
            (
                param(&pack, cyto, "hematotoxicity_anc_threshold"),
                "hematotoxicity_anc_threshold"
            ),
        ]
    );
    let igg = &series(&t, "igg").thresholds[0];
    assert_eq!(
        igg.value,
        param(&pack, "hypogammaglobulinemia-ivig", "igg_threshold")
    );
    assert_eq!(
        igg.label("mg/dL"),
        format!("≤ {} mg/dL", units::fmt_num(igg.value))
    );
    assert_eq!(t.missing, [NO_INFECTION_VS]);

    // An administrator tunes the platelet threshold: the line follows, and so does which
    // results are drawn as beyond it.
    let mut tuned = pack.clone();
    let old = param(&pack, cyto, "platelet_threshold");
    let p = tuned
        .rules
        .get_mut(cyto)
        .unwrap()
        .parameters
        .get_mut("platelet_threshold")
        .unwrap();
    p.value = old + 20.0;
    let between = old + 10.0;
    let rec = record(vec![
        infusion("2026-01-10"),
        result("plt", "777-3", "2026-05-01", json!(between), "10*9/L"),
    ]);
    let before = timeline(&compiled, &rec, &[]);
    let after = timeline(&compile(tuned).unwrap(), &rec, &[]);
    assert_eq!(series(&after, "platelets").thresholds[0].value, old + 20.0);
    assert!(!series(&before, "platelets").points[0].beyond);
    assert!(series(&after, "platelets").points[0].beyond);
}

#[test]
fn a_rule_the_pack_no_longer_has_leaves_its_line_out_and_says_so() {
    let mut pack = shipped();
    pack.rules.remove("cd4-monitoring-due");
    let t = timeline(&compile(pack).unwrap(), &record(vec![]), &[]);
    assert!(series(&t, "cd4").thresholds.is_empty());
    assert_eq!(
        t.missing,
        [
            NO_INFECTION_VS,
            "parameter cd4_threshold of active rule cd4-monitoring-due"
        ]
    );
}

#[test]
fn results_are_converted_to_the_rules_unit_dated_and_judged() {
    let compiled = compile(shipped()).unwrap();
    let rec = record(vec![
        infusion("2026-01-10"),
        result("anc2", "751-8", "2026-05-20", json!(1.6), "10*9/L"),
        result(
            "anc1",
            "751-8",
            "2026-04-20T08:30:00+00:00",
            json!(450),
            "/uL",
        ),
        result("anc3", "751-8", "2026-05-30", json!(3), "furlongs"),
        result("hb", "718-7", "2026-05-01", json!(75), "g/L"),
    ]);
    let t = timeline(&compiled, &rec, &[]);
    let anc = series(&t, "anc");
    let got: Vec<(NaiveDate, f64, bool)> = anc
        .points
        .iter()
        .map(|p| (p.date, p.value, p.beyond))
        .collect();
    // 450 /uL is 0.45 ×10⁹/L, under both ANC lines of the shipped pack; 1.6 under neither.
    assert_eq!(
        got,
        [
            (date("2026-04-20"), 0.45, true),
            (date("2026-05-20"), 1.6, false)
        ]
    );
    assert_eq!(anc.points[0].shown, "450 /µL");
    assert_eq!(
        anc.unconverted, 1,
        "a unit that cannot be converted is not drawn"
    );
    assert_eq!(series(&t, "hemoglobin").points[0].value, 7.5);
}

#[test]
fn day_zero_and_product_are_the_cohorts() {
    let compiled = compile(shipped()).unwrap();
    let t = timeline(&compiled, &record(vec![infusion("2026-01-10")]), &[]);
    assert!(t.recipient);
    assert_eq!(t.day0, Some(date("2026-01-10")));
    assert_eq!(
        t.product.as_deref(),
        Some("Yescarta (axicabtagene ciloleucel)")
    );
    assert_eq!(t.today, date("2026-06-15"));
    assert_eq!(t.day(t.today), Some(156));
    let none = timeline(&compiled, &record(vec![]), &[]);
    assert!(!none.recipient);
    assert_eq!(none.day(none.today), None);
}

#[test]
fn medications_become_periods_of_coverage() {
    let compiled = compile(shipped()).unwrap();
    let rec = record(vec![
        infusion("2026-01-10"),
        request(
            "v1",
            "valacyclovir 500 mg tablet",
            "completed",
            "2026-01-12",
            Some("2026-03-01"),
        ),
        request(
            "v2",
            "valacyclovir 500 mg tablet",
            "active",
            "2026-03-05",
            None,
        ),
        request("v3", "acyclovir 400 mg", "completed", "2026-02-01", None),
    ]);
    let t = timeline(&compiled, &rec, &[]);
    let hsv = t.coverage.iter().find(|c| c.key == "hsv-vzv").unwrap();
    let got: Vec<(NaiveDate, NaiveDate, bool)> = hsv
        .periods
        .iter()
        .map(|p| (p.start, p.end, p.ongoing))
        .collect();
    assert_eq!(
        got,
        [
            (date("2026-01-12"), date("2026-03-01"), false),
            (date("2026-02-01"), date("2026-02-01"), false),
            (date("2026-03-05"), date("2026-06-15"), true),
        ]
    );
    let pjp = t.coverage.iter().find(|c| c.key == "pjp").unwrap();
    assert!(pjp.periods.is_empty());
}

#[test]
fn ivig_given_malignancies_and_positive_cmv_are_events() {
    let compiled = compile(shipped()).unwrap();
    let ivig = json!({"resourceType": "MedicationAdministration", "id": "ivig", "status": "completed",
        "medicationCodeableConcept": {"text": "IVIG 30 g"}, "subject": subject(),
        "effectiveDateTime": "2026-04-02"});
    let lymphoma = json!({"resourceType": "Condition", "id": "ptcl",
        "clinicalStatus": {"coding": [{"code": "resolved"}]},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C84.40",
            "display": "Peripheral T-cell lymphoma"}]},
        "subject": subject(), "onsetDateTime": "2026-05-05"});
    let cmv_pcr = |id: &str, value: &str| {
        json!({"resourceType": "Observation", "id": id, "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "29604-6"}]},
            "subject": subject(), "effectiveDateTime": "2026-03-03", "valueString": value})
    };
    let cmv = cmv_pcr("cmv", "CMV DNA detected");
    let cmv_neg = cmv_pcr("cmv-neg", "not detected");
    let rec = record(vec![infusion("2026-01-10"), ivig, lymphoma, cmv, cmv_neg]);
    let t = timeline(&compiled, &rec, &[]);
    let (label, doses) = series(&t, "igg").doses.as_ref().unwrap();
    assert_eq!(*label, "IVIG / SCIG given");
    assert_eq!(
        doses.iter().map(|d| d.date).collect::<Vec<_>>(),
        [date("2026-04-02")]
    );
    let lane = |key| &t.events.iter().find(|e| e.key == key).unwrap().events;
    assert_eq!(
        lane("t-cell-malignancy")
            .iter()
            .map(|e| (e.date, e.label.as_str()))
            .collect::<Vec<_>>(),
        [(date("2026-05-05"), "Peripheral T-cell lymphoma")],
        "a resolved malignancy is still an event"
    );
    assert_eq!(lane("cmv").len(), 1, "a negative CMV result is no event");
    assert!(lane("infection").is_empty());
    assert_eq!(
        t.missing,
        [NO_INFECTION_VS],
        "the pack ships no infection value set, and the page says so"
    );
}

#[test]
fn worklist_findings_and_todays_cards_are_markers() {
    let compiled = compile(shipped()).unwrap();
    // Infused long ago with no CBC on record: the pack raises the CBC card today.
    let rec = record(vec![infusion("2025-06-01")]);
    let first = Utc.with_ymd_and_hms(2026, 5, 1, 3, 0, 0).unwrap();
    let findings = [KnownFinding {
        rule_id: "igg-monitoring-due".into(),
        indicator: "info".into(),
        summary: "IgG due".into(),
        first_seen: first,
        closed: Some(first + chrono::Duration::days(20)),
    }];
    let t = timeline(&compiled, &rec, &findings);
    let finding = &t.markers[0];
    assert_eq!(
        (finding.kind, finding.date, finding.closed),
        (
            MarkerKind::Finding,
            date("2026-05-01"),
            Some(date("2026-05-21"))
        )
    );
    let cards: Vec<&Marker> = t
        .markers
        .iter()
        .filter(|m| m.kind == MarkerKind::Card)
        .collect();
    assert!(cards.iter().all(|m| m.date == t.today));
    let expected = compiled.evaluate(&EvalInput {
        record: &rec,
        hook: HOOK,
        now: now(),
        tz: Tz::UTC,
    });
    assert_eq!(
        cards.iter().map(|m| m.rule_id.as_str()).collect::<Vec<_>>(),
        expected
            .iter()
            .map(|f| f.rule_id.as_str())
            .collect::<Vec<_>>()
    );
    assert!(cards
        .iter()
        .any(|m| m.rule_id == "cbc-surveillance-overdue"));
}

#[test]
fn a_threshold_counts_only_on_the_days_its_rule_applies_it() {
    let pack = shipped();
    let cyto = "prolonged-cytopenia-marrow-evaluation";
    let after = param(&pack, cyto, "after_day") as i64;
    let ht_from = param(&pack, cyto, "hematotoxicity_from_day") as i64;
    let ht = param(&pack, cyto, "hematotoxicity_anc_threshold");
    let late = param(&pack, cyto, "anc_threshold");
    let day0 = date("2026-01-10");
    let on = |n: i64| (day0 + chrono::Duration::days(n)).to_string();
    // Under both lines early on (no line applies yet), in the hematotoxicity window, and late.
    let low = ht / 2.0;
    let between = (ht + late) / 2.0;
    let rec = record(vec![
        infusion("2026-01-10"),
        result("a1", "751-8", &on(ht_from - 1), json!(low), "10*9/L"),
        result("a2", "751-8", &on(ht_from), json!(low), "10*9/L"),
        result("a3", "751-8", &on(after), json!(between), "10*9/L"),
        result("a4", "751-8", &on(after + 1), json!(between), "10*9/L"),
    ]);
    let t = timeline(&compile(pack).unwrap(), &rec, &[]);
    let anc = series(&t, "anc");
    let windows: Vec<(Option<i64>, Option<i64>)> = anc
        .thresholds
        .iter()
        .map(|th| (th.from_day, th.to_day))
        .collect();
    assert_eq!(
        windows,
        [(Some(after + 1), None), (Some(ht_from), Some(after))]
    );
    assert_eq!(
        anc.thresholds[1].label("10*9/L"),
        format!("≤ {} ×10⁹/L, days {ht_from}-{after}", units::fmt_num(ht))
    );
    let beyond: Vec<bool> = anc.points.iter().map(|p| p.beyond).collect();
    assert_eq!(beyond, [false, true, false, true]);
}
