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
