//! What an EHR needs to apply a suggested order: a coded medication or service beside its
//! text. A client applies a suggested medication only when it has a code, so a text-only
//! suggestion would send "accepted" feedback and leave the order unchanged.

use serde_json::Value;

/// The element of a suggested resource that must be coded, and why it is refused, when it is
/// not: `medicationCodeableConcept` of a MedicationRequest, `code` of a ServiceRequest.
pub(super) fn missing_code(resource: &Value) -> Option<(&'static str, String)> {
    let (kind, field) = match resource.get("resourceType")?.as_str()? {
        "MedicationRequest" => ("MedicationRequest", "medicationCodeableConcept"),
        "ServiceRequest" => ("ServiceRequest", "code"),
        _ => return None,
    };
    let coded = resource[field]["coding"].as_array().is_some_and(|codings| {
        codings.iter().any(|c| {
            c["system"].as_str().is_some_and(|s| !s.is_empty())
                && c["code"].as_str().is_some_and(|s| !s.is_empty())
        })
    });
    (!coded).then(|| {
        (
            field,
            format!("a suggested {kind} needs a coding (system and code) beside its text, so that an EHR can apply it"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_only_orders_are_refused_and_coded_ones_pass() {
        let text_only = json!({"resourceType": "MedicationRequest", "medicationCodeableConcept": {"text": "valacyclovir"}});
        assert_eq!(
            missing_code(&text_only).map(|m| m.0),
            Some("medicationCodeableConcept")
        );
        let coded = json!({"resourceType": "MedicationRequest", "medicationCodeableConcept": {"text": "valacyclovir",
            "coding": [{"system": "http://www.whocc.no/atc", "code": "J05AB11"}]}});
        assert_eq!(missing_code(&coded), None);
        let service = json!({"resourceType": "ServiceRequest", "code": {"coding": [{"system": "http://loinc.org"}]}});
        assert_eq!(
            missing_code(&service).map(|m| m.0),
            Some("code"),
            "a coding without a code"
        );
        assert_eq!(
            missing_code(&json!({"resourceType": "Communication"})),
            None
        );
    }
}
