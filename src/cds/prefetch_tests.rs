//! Unit tests of `prefetch.rs`: token parsing, per-hook validation, rendering with percent-encoding
//! and `user*Id` tokens, and unsatisfied-key detection.

use super::*;
use serde_json::json;

fn ctx(value: Value) -> HookContext {
    HookContext::new(value.as_object().expect("object").clone())
}

#[test]
fn tokens_are_parsed_in_order() {
    let tokens = template_tokens(
        "Observation?patient={{context.patientId}}&performer={{userPractitionerId}}",
    )
    .unwrap();
    assert_eq!(
        tokens,
        vec![
            Token::Context("patientId".into()),
            Token::UserPractitionerId
        ]
    );
    assert_eq!(template_tokens("Patient?_count=1").unwrap(), vec![]);
    let all = "{{userPractitionerRoleId}}{{userPatientId}}{{userRelatedPersonId}}";
    assert_eq!(template_tokens(all).unwrap().len(), 3);
    assert_eq!(
        Token::Context("patientId".into()).to_string(),
        "{{context.patientId}}"
    );
}

#[test]
fn non_2_0_tokens_are_rejected() {
    for bad in [
        "Observation?date=ge{{today() - 90 days}}",
        "{{Patient.id}}",
        "{{ context.patientId }}",
        "{{context.}}",
        "{{context.patient-id}}",
        "{{%medications}}",
        "{{userId}}",
    ] {
        let err = template_tokens(bad).unwrap_err();
        assert!(
            err.contains("is not a CDS Hooks 2.0 prefetch token"),
            "{bad}: {err}"
        );
    }
    let err = template_tokens("MedicationRequest?_id={{context.draftOrders.entry.resource.id}}")
        .unwrap_err();
    assert!(err.contains("only root-level"), "{err}");
    assert!(template_tokens("Patient/{{context.patientId")
        .unwrap_err()
        .contains("without a closing"));
    assert!(template_tokens("Patient/context.patientId}}")
        .unwrap_err()
        .contains("without a matching"));
    assert!(template_tokens("{{context.patientId}}}}").is_err());
}

#[test]
fn validation_limits_context_tokens_to_the_hook() {
    assert!(validate_template("Encounter/{{context.encounterId}}", "patient-view").is_ok());
    assert!(validate_template("{{context.userId}}", "order-sign").is_ok());
    let err = validate_template("Bundle/{{context.draftOrders}}", "order-sign").unwrap_err();
    assert_eq!(
        err,
        "{{context.draftOrders}} is not a prefetch token of the order-sign hook"
    );
    assert!(validate_template("{{context.selections}}", "order-select").is_err());
    assert!(validate_template("Patient/{{context.patientId}}", "no-such-hook").is_err());
    assert!(validate_template(
        "https://ehr.example.org/Patient/{{context.patientId}}",
        "patient-view"
    )
    .is_err());
    assert!(validate_template("/Patient/{{context.patientId}}", "patient-view").is_err());
    assert!(validate_template(" ", "patient-view").is_err());
}

#[test]
fn render_substitutes_and_percent_encodes() {
    let c = ctx(json!({"userId": "Practitioner/123", "patientId": "a&b=c d/é"}));
    let user = UserIds::from_context(&c);
    let out = render(
        "Observation?patient={{context.patientId}}&code=http://loinc.org|718-7",
        &c,
        &user,
    )
    .unwrap();
    assert_eq!(
        out,
        "Observation?patient=a%26b%3Dc%20d%2F%C3%A9&code=http://loinc.org|718-7"
    );
    let out = render(
        "Patient/{{context.patientId}}",
        &ctx(json!({"patientId": "p-1.2"})),
        &user,
    )
    .unwrap();
    assert_eq!(out, "Patient/p-1.2", "valid FHIR ids pass unchanged");
}

#[test]
fn render_keeps_the_slash_of_a_whole_user_reference() {
    let c = ctx(json!({"userId": "PractitionerRole/r1", "patientId": "p"}));
    assert_eq!(
        render("{{context.userId}}", &c, &UserIds::default()).unwrap(),
        "PractitionerRole/r1"
    );
    let odd = ctx(json!({"userId": "Practitioner/../Patient/x"}));
    assert!(render("{{context.userId}}", &odd, &UserIds::default()).is_err());
    let odd = ctx(json!({"userId": "x y"}));
    assert_eq!(
        render("{{context.userId}}", &odd, &UserIds::default()).unwrap(),
        "x%20y"
    );
}

#[test]
fn dot_segments_are_refused() {
    for id in [".", ".."] {
        let err = render(
            "Patient/{{context.patientId}}",
            &ctx(json!({"patientId": id})),
            &UserIds::default(),
        );
        assert_eq!(
            err.unwrap_err(),
            "{{context.patientId}} has a value that is not a FHIR id"
        );
    }
}

#[test]
fn user_ids_follow_the_user_type() {
    let c = ctx(json!({"userId": "Practitioner/123", "patientId": "p"}));
    let user = UserIds::from_context(&c);
    assert_eq!(
        user,
        UserIds {
            practitioner_id: Some("123".into()),
            ..UserIds::default()
        }
    );
    let template = "PractitionerRole?practitioner={{userPractitionerId}}";
    assert_eq!(
        render(template, &c, &user).unwrap(),
        "PractitionerRole?practitioner=123"
    );
    let err = render("PractitionerRole/{{userPractitionerRoleId}}", &c, &user).unwrap_err();
    assert_eq!(
        err,
        "{{userPractitionerRoleId}} has no value in this request"
    );
    assert!(render("{{userPatientId}}", &c, &user).is_err());
    assert!(render("{{userRelatedPersonId}}", &c, &user).is_err());

    assert_eq!(
        UserIds::from_user_id("PractitionerRole/r")
            .practitioner_role_id
            .as_deref(),
        Some("r")
    );
    assert_eq!(
        UserIds::from_user_id("Patient/me").patient_id.as_deref(),
        Some("me")
    );
    assert_eq!(
        UserIds::from_user_id("RelatedPerson/rp")
            .related_person_id
            .as_deref(),
        Some("rp")
    );
    assert_eq!(UserIds::from_user_id("Device/d"), UserIds::default());
    assert_eq!(UserIds::from_user_id("123"), UserIds::default());
}

#[test]
fn render_fails_on_a_missing_context_value() {
    let c = ctx(json!({"patientId": "p", "encounterId": ""}));
    let err = render("Encounter/{{context.encounterId}}", &c, &UserIds::default()).unwrap_err();
    assert_eq!(err, "{{context.encounterId}} has no value in this request");
    assert!(render("{{today()}}", &c, &UserIds::default()).is_err());
}

#[test]
fn unsatisfied_keys_treat_null_as_satisfied() {
    let wanted: BTreeMap<String, String> = ["patient", "conditions", "observations", "procedures"]
        .iter()
        .map(|k| (k.to_string(), format!("{k}?x")))
        .collect();
    let prefetch = json!({
        "patient": {"resourceType": "Patient", "id": "p"},
        "conditions": null,
        "observations": {"resourceType": "OperationOutcome", "issue": []}
    });
    let got = unsatisfied_keys(&wanted, prefetch.as_object());
    assert_eq!(got, vec!["observations", "procedures"]);
    assert_eq!(unsatisfied_keys(&wanted, None).len(), 4);
}

#[test]
fn encode_leaves_unreserved_bytes_alone() {
    assert_eq!(encode("AZaz09-._~"), "AZaz09-._~");
    assert_eq!(encode("a+b|c,d"), "a%2Bb%7Cc%2Cd");
}
