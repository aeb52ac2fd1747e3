use super::*;
use fhirpath::Item;

#[test]
fn a_pack_stored_before_sources_were_data_reads_the_shipped_ones() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("cds-hooks");
    let pack = super::super::load::load_dir(&dir).expect("shipped pack");
    let mut stored = serde_json::to_value(&pack).unwrap();
    stored.as_object_mut().unwrap().remove("sources");
    let read = super::super::load::pack_from_json(&stored).unwrap();
    assert_eq!(read.sources, super::super::load::shipped_sources());
    assert_eq!(read.sources, pack.sources);
    assert!(read.sources.contains_key("allergies"));
}

#[test]
fn a_value_reads_as_an_observation_value_or_not_at_all() {
    let obs = sonic_rs::json!({"resourceType": "Observation",
        "valueQuantity": {"value": 3.50, "unit": "g/L", "code": "g/L"},
        "component": [{"code": {"text": "gene"}, "valueRange": {"low": {"value": 1}}},
                      {"code": {"text": "vaf"}, "valueQuantity": {"unit": "%"}},
                      {"code": {"text": "n"}, "valueInteger": 4}]});
    let value = |v: &Value, choice| obs_value(&Item::Node { value: v, choice });
    match value(&obs["valueQuantity"], Some("Quantity")) {
        Some(ObsValue::Quantity(q)) => assert_eq!((q.value, q.unit.as_deref()), (3.5, Some("g/L"))),
        other => panic!("{other:?}"),
    }
    let parts = components(&obs);
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[0].value, None, "a Range is not read");
    assert_eq!(
        parts[1].value, None,
        "a Quantity without a value is not read"
    );
    assert!(
        matches!(&parts[2].value, Some(ObsValue::Quantity(q)) if q.value == 4.0 && q.unit.is_none())
    );
}

/// A reading copies each distinct concept once: equal codes share one number and one copy,
/// and a code that differs in any part (here the display) is another.
#[test]
fn equal_codes_share_one_number_and_one_copy() {
    let codes = [
        sonic_rs::json!({"coding": [{"system": "http://loinc.org", "code": "26499-4",
            "display": "Neutrophils"}], "text": "ANC"}),
        sonic_rs::json!({"coding": [{"system": "http://loinc.org", "code": "26499-4",
            "display": "Neutrophils"}], "text": "ANC"}),
        sonic_rs::json!({"coding": [{"system": "http://loinc.org", "code": "26499-4",
            "display": "ANC"}], "text": "ANC"}),
        sonic_rs::json!({"system": "http://loinc.org", "code": "26499-4"}),
        sonic_rs::json!("ANC"),
    ];
    let mut distinct = Distinct::default();
    let read: Vec<(usize, Rc<Concept>)> = codes
        .iter()
        .map(|v| distinct.id(&concept_ref(&Item::node(v)).unwrap()))
        .collect();
    let ids: Vec<usize> = read.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [0, 0, 1, 2, 3]);
    assert!(Rc::ptr_eq(&read[0].1, &read[1].1));
    for ((_, copy), v) in read.iter().zip(&codes) {
        assert_eq!(Some(&**copy), concept(&Item::node(v)).as_ref());
    }
    assert_eq!(read[3].1.codings[0].display, None);
    assert_eq!(read[4].1.text.as_deref(), Some("ANC"));
}
