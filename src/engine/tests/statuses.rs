//! Statuses: which resources count is the shipped `sources.yaml`'s (the catalogue's
//! "Definitions every rule uses"): each row is one resource in one status, read through one
//! source, and whether a query finds it.

use serde_json::Value;

use crate::engine::test_support::*;

fn obs(status: &str) -> Value {
    with(
        result("M", "2026-03-10", qty(1.0, "1")),
        "status",
        status.into(),
    )
}
fn admin(status: &str) -> Value {
    medication("MedicationAdministration", status, "M", "2026-03-10")
}
fn request(status: &str) -> Value {
    medication("MedicationRequest", status, "M", "2026-03-10")
}
fn statement(status: &str) -> Value {
    medication("MedicationStatement", status, "M", "2026-03-10")
}
fn cond(clinical: &str, verification: &str) -> Value {
    condition("M", clinical, verification, "2026-03-10")
}
fn proc(status: &str) -> Value {
    procedure(concept("M"), status, "2026-03-10")
}

#[test]
fn each_source_counts_the_statuses_of_sources_yaml() {
    const PV: &str = "patient-view";
    const SIGN: &str = "order-sign";
    #[rustfmt::skip]
    let rows: Vec<(&str, &str, Value, &str, bool)> = vec![
        // (case, query, resource, hook, found)
        ("results: a final Observation counts", "results: m", obs("final"), PV, true),
        ("results: an amended Observation counts", "results: m", obs("amended"), PV, true),
        ("results: a corrected Observation counts", "results: m", obs("corrected"), PV, true),
        ("results: a preliminary Observation does not", "results: m", obs("preliminary"), PV, false),
        ("results: a registered Observation does not", "results: m", obs("registered"), PV, false),
        ("results: a cancelled Observation does not", "results: m", obs("cancelled"), PV, false),
        ("results: an Observation entered in error does not", "results: m", obs("entered-in-error"), PV, false),
        ("medications: a completed administration counts", "medications: m", admin("completed"), PV, true),
        ("medications: an administration in progress counts", "medications: m", admin("in-progress"), PV, true),
        ("medications: an administration not done does not", "medications: m", admin("not-done"), PV, false),
        ("medications: a stopped administration does not", "medications: m", admin("stopped"), PV, false),
        ("medications: an administration entered in error does not", "medications: m", admin("entered-in-error"), PV, false),
        ("medications: an active request counts", "medications: m", request("active"), PV, true),
        ("medications: a completed request counts", "medications: m", request("completed"), PV, true),
        ("medications: a stopped request counts (it was ordered)", "medications: m", request("stopped"), PV, true),
        ("medications: a request on hold counts", "medications: m", request("on-hold"), PV, true),
        ("medications: a cancelled request does not", "medications: m", request("cancelled"), PV, false),
        ("medications: a draft request on record does not", "medications: m", request("draft"), PV, false),
        ("medications: a request entered in error does not", "medications: m", request("entered-in-error"), PV, false),
        ("medications: an active statement counts", "medications: m", statement("active"), PV, true),
        ("medications: a completed statement counts", "medications: m", statement("completed"), PV, true),
        ("medications: an intended statement does not", "medications: m", statement("intended"), PV, false),
        ("medications: a statement not taken does not", "medications: m", statement("not-taken"), PV, false),
        ("medications: a stopped statement does not", "medications: m", statement("stopped"), PV, false),
        ("active: an active request counts", "medications: m, active: true", request("active"), PV, true),
        ("active: a completed request does not", "medications: m, active: true", request("completed"), PV, false),
        ("active: a request on hold does not", "medications: m, active: true", request("on-hold"), PV, false),
        ("active: an active statement counts", "medications: m, active: true", statement("active"), PV, true),
        ("active: an administration (given, not ongoing) does not", "medications: m, active: true", admin("in-progress"), PV, false),
        ("given_or_ordered: an administration in progress counts", "source: given_or_ordered, codes: m", admin("in-progress"), PV, true),
        ("given_or_ordered: an active request counts", "source: given_or_ordered, codes: m", request("active"), PV, true),
        ("given_or_ordered: a stopped request does not", "source: given_or_ordered, codes: m", request("stopped"), PV, false),
        ("given_or_ordered: a request on hold does not", "source: given_or_ordered, codes: m", request("on-hold"), PV, false),
        ("given_or_ordered: an active statement does not", "source: given_or_ordered, codes: m", statement("active"), PV, false),
        ("administered: a completed administration counts", "source: administered, codes: m", admin("completed"), PV, true),
        ("administered: an administration in progress does not", "source: administered, codes: m", admin("in-progress"), PV, false),
        ("administered: a completed request counts", "source: administered, codes: m", request("completed"), PV, true),
        ("administered: an active request does not", "source: administered, codes: m", request("active"), PV, false),
        ("administered: an active statement counts", "source: administered, codes: m", statement("active"), PV, true),
        ("ended_medications: a stopped request counts", "source: ended_medications, codes: m", request("stopped"), PV, true),
        ("ended_medications: a completed request counts", "source: ended_medications, codes: m", request("completed"), PV, true),
        ("ended_medications: an active request does not", "source: ended_medications, codes: m", request("active"), PV, false),
        ("ended_medications: a request on hold does not", "source: ended_medications, codes: m", request("on-hold"), PV, false),
        ("ended_medications: a stopped statement counts", "source: ended_medications, codes: m", statement("stopped"), PV, true),
        ("ended_medications: a completed statement counts", "source: ended_medications, codes: m", statement("completed"), PV, true),
        ("ended_medications: an active statement does not", "source: ended_medications, codes: m", statement("active"), PV, false),
        ("ended_medications: a completed administration does not", "source: ended_medications, codes: m", admin("completed"), PV, false),
        ("conditions: an active condition counts", "conditions: m", cond("active", "confirmed"), PV, true),
        ("conditions: a recurrence counts", "conditions: m", cond("recurrence", "confirmed"), PV, true),
        ("conditions: a relapse counts", "conditions: m", cond("relapse", "confirmed"), PV, true),
        ("conditions: an unconfirmed active condition counts", "conditions: m", cond("active", "unconfirmed"), PV, true),
        ("conditions: a resolved condition does not", "conditions: m", cond("resolved", "confirmed"), PV, false),
        ("conditions: a condition in remission does not", "conditions: m", cond("remission", "confirmed"), PV, false),
        ("conditions: an inactive condition does not", "conditions: m", cond("inactive", "confirmed"), PV, false),
        ("conditions: a refuted condition does not", "conditions: m", cond("active", "refuted"), PV, false),
        ("conditions: a condition entered in error does not", "conditions: m", cond("active", "entered-in-error"), PV, false),
        ("include_inactive: a resolved condition counts", "conditions: m, include_inactive: true", cond("resolved", "confirmed"), PV, true),
        ("include_inactive: a refuted condition still does not", "conditions: m, include_inactive: true", cond("resolved", "refuted"), PV, false),
        ("procedures: a completed procedure counts", "procedures: m", proc("completed"), PV, true),
        ("procedures: a procedure in progress does not", "procedures: m", proc("in-progress"), PV, false),
        ("procedures: a procedure not done does not", "procedures: m", proc("not-done"), PV, false),
        ("encounters: any status counts without a status filter", "encounters: m", encounter("M", "in-progress", "2026-03-10"), PV, true),
        ("encounters: status finished counts a finished encounter", "encounters: m, status: finished", encounter("M", "finished", "2026-03-10"), PV, true),
        ("encounters: status finished ignores one in progress", "encounters: m, status: finished", encounter("M", "in-progress", "2026-03-10"), PV, false),
        ("allergies: an active allergy counts", "source: allergies, codes: m", allergy("M", "active", "confirmed"), PV, true),
        ("allergies: an allergy without statuses counts", "source: allergies, codes: m", allergy("M", "", ""), PV, true),
        ("allergies: a resolved allergy does not", "source: allergies, codes: m", allergy("M", "resolved", "confirmed"), PV, false),
        ("allergies: a refuted allergy does not", "source: allergies, codes: m", allergy("M", "active", "refuted"), PV, false),
        ("draft orders: an order being signed counts as active", "medications: m, active: true", draft(request("draft")), SIGN, true),
        ("draft orders: not on patient-view", "medications: m, active: true", draft(request("draft")), PV, false),
        ("draft orders: not without active: true", "medications: m", draft(request("draft")), SIGN, false),
        ("draft_orders: a service request being ordered counts", "draft_orders: m", draft(service_request("M", "draft")), SIGN, true),
        ("draft_orders: a cancelled order does not", "draft_orders: m", draft(service_request("M", "cancelled")), SIGN, false),
        ("draft_orders: an order on record is not being ordered", "draft_orders: m", service_request("M", "active"), SIGN, false),
    ];
    for (case, query, resource, hook, found) in rows {
        let r = rule("t", "{exists: found}")
            .hooks("[patient-view, order-sign]")
            .bind(&format!("{{found: {{latest: {{{query}}}}}}}"));
        let pack = compile(&[r], &[codes("m", &["M"])]);
        let record = match resource.get("draft") {
            Some(order) => record_with_drafts(&[yescarta(DAY0)], std::slice::from_ref(order)),
            None => record(&[yescarta(DAY0), resource]),
        };
        let fires = At::default().hook(hook).fires(&pack, &record, "t");
        assert_eq!(fires, found, "{case}");
    }
}

/// An order of `context.draftOrders` (marked for the loop above).
fn draft(order: Value) -> Value {
    serde_json::json!({ "draft": order })
}
