//! The cohort, through the shipped `cohort.yaml`, `cart-products` and `cart-infusion`: who is a
//! CAR-T recipient (a product administered, or an infusion procedure, in a status the cohort's
//! sources count), which product, and day 0 (the first administration of the most recent
//! course; administrations closer than the course gap are one course).

use serde_json::{json, Value};

use crate::engine::test_support::*;

fn given(kind: &str, status: &str, hcpcs: &str, when: &str) -> Value {
    let m = with(administered(hcpcs, when), "resourceType", kind.into());
    let m = with(m, "status", status.into());
    match kind {
        "MedicationRequest" => with(
            with(
                with(m, "effectiveDateTime", Value::Null),
                "authoredOn",
                when.into(),
            ),
            "intent",
            "order".into(),
        ),
        _ => m,
    }
}

fn infusion(code: Value, status: &str) -> Value {
    procedure(code, status, DAY0)
}

fn cpt(code: &str) -> Value {
    json!({"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": code}]})
}

fn named(text: &str, when: &str) -> Value {
    with(
        yescarta(when),
        "medicationCodeableConcept",
        json!({"text": text}),
    )
}

const YESCARTA_DAY14: &str = "Yescarta (axicabtagene ciloleucel) | CD19 | day 14 | 2026-03-01";
const UNKNOWN_DAY14: &str =
    "CAR-T therapy (product not recorded) | unknown target | day 14 | 2026-03-01";

#[test]
fn a_recipient_is_found_with_their_product_and_day_0() {
    let undated = with(
        given("MedicationStatement", "active", "Q2041", DAY0),
        "effectiveDateTime",
        Value::Null,
    );
    #[rustfmt::skip]
    let rows: Vec<(&str, Vec<Value>, Option<&str>)> = vec![
        // (case, record, the card of a rule for recipients says "product | target | day N | day 0")
        ("a completed administration of a product code", vec![yescarta(DAY0)], Some(YESCARTA_DAY14)),
        ("an administration in progress is not yet a recipient", vec![given("MedicationAdministration", "in-progress", "Q2041", DAY0)], None),
        ("an administration not done is not", vec![given("MedicationAdministration", "not-done", "Q2041", DAY0)], None),
        ("a completed request", vec![given("MedicationRequest", "completed", "Q2041", DAY0)], Some(YESCARTA_DAY14)),
        ("an active request (ordered, not given) is not", vec![given("MedicationRequest", "active", "Q2041", DAY0)], None),
        ("an active statement", vec![given("MedicationStatement", "active", "Q2041", DAY0)], Some(YESCARTA_DAY14)),
        ("an undated statement: a recipient on an unknown day", vec![undated], Some("Yescarta (axicabtagene ciloleucel) | CD19 | day unknown | unknown")),
        ("a completed infusion procedure (CPT 0540T), product not recorded", vec![infusion(cpt("0540T"), "completed")], Some(UNKNOWN_DAY14)),
        ("an infusion procedure in progress is not", vec![infusion(cpt("0540T"), "in-progress")], None),
        ("a harvest procedure code is not an infusion (CPT 0537T)", vec![infusion(cpt("0537T"), "completed")], None),
        ("an infusion named in text", vec![infusion(json!({"text": "CAR-T infusion"}), "completed")], Some(UNKNOWN_DAY14)),
        ("apheresis wording vetoes an infusion text", vec![infusion(json!({"text": "CAR T cell infusion: apheresis collection"}), "completed")], None),
        ("a product named by brand in text", vec![named("KYMRIAH suspension for IV infusion", DAY0)], Some("Kymriah (tisagenlecleucel) | CD19 | day 14 | 2026-03-01")),
        ("a product named by its abbreviation", vec![named("cilta-cel", DAY0)], Some("Carvykti (ciltacabtagene autoleucel) | BCMA | day 14 | 2026-03-01")),
        ("a product without a brand shows its name", vec![named("zevor-cel", DAY0)], Some("zevorcabtagene autoleucel | BCMA | day 14 | 2026-03-01")),
        ("an infusion procedure and the product given that day", vec![infusion(cpt("0540T"), "completed"), yescarta(DAY0)], Some(YESCARTA_DAY14)),
        ("another medication is not a CAR-T product", vec![medication("MedicationAdministration", "completed", "M", DAY0)], None),
        ("no CAR-T on record", vec![], None),
        ("doses 14 days apart are one course: day 0 is the first", vec![yescarta("2026-02-15"), yescarta(DAY0)], Some("Yescarta (axicabtagene ciloleucel) | CD19 | day 28 | 2026-02-15")),
        ("doses 15 days apart are two courses: day 0 is the second", vec![yescarta("2026-02-14"), yescarta(DAY0)], Some(YESCARTA_DAY14)),
        ("obe-cel's split dose 21 days apart is one course", vec![administered("Q2058", "2026-02-08"), administered("Q2058", DAY0)], Some("Aucatzyl (obecabtagene autoleucel) | CD19 | day 35 | 2026-02-08")),
        ("obe-cel doses 22 days apart are two courses", vec![administered("Q2058", "2026-02-07"), administered("Q2058", DAY0)], Some("Aucatzyl (obecabtagene autoleucel) | CD19 | day 14 | 2026-03-01")),
        ("the product of the most recent course", vec![administered("Q2042", "2025-01-01"), yescarta(DAY0)], Some(YESCARTA_DAY14)),
        ("record order does not matter", vec![yescarta(DAY0), administered("Q2042", "2025-01-01")], Some(YESCARTA_DAY14)),
    ];
    for (case, resources, says) in rows {
        let r = rule("t", "{hook: [patient-view]}")
            .summary("{{product}} | {{target}} | day {{day}} | {{day0}}");
        let pack = compile(&[r], &[codes("m", &["M"])]);
        let summary = At::default().summary(&pack, &record(&resources), "t");
        assert_eq!(summary.as_deref(), says, "{case}");
    }
}

#[test]
fn the_cohort_requirement_decides_who_sees_a_rule() {
    #[rustfmt::skip]
    let rows: Vec<(&str, bool, Vec<Value>, bool)> = vec![
        // (case, the rule is for any patient, record, it fires)
        ("a rule for recipients fires for a recipient", false, vec![yescarta(DAY0)], true),
        ("a rule for recipients is silent for anyone else", false, vec![], false),
        ("a rule for any patient fires for anyone", true, vec![], true),
        ("a rule for any patient fires for a recipient", true, vec![yescarta(DAY0)], true),
    ];
    for (case, any, resources, fires) in rows {
        let r = rule("t", "{hook: [patient-view]}");
        let r = if any { r.any_patient() } else { r };
        let pack = compile(&[r], &[]);
        assert_eq!(
            At::default().fires(&pack, &record(&resources), "t"),
            fires,
            "{case}"
        );
    }
}
