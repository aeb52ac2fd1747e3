//! What a site adds to the pack shows on the timeline: the shipped pack has no value set of
//! infection diagnoses (no code for one is verified), and a site's own `infection` value set
//! draws its conditions as infection events.

use sonic_rs::json;

use super::tests::{infusion, record, shipped, subject, timeline};
use crate::engine::{compile, load, ValueSet};

#[test]
fn a_sites_infection_value_set_draws_its_conditions_as_infection_events() {
    let mut pack = shipped();
    let site: ValueSet = load::parse(
        "valuesets/infection.yaml",
        br#"
id: infection
title: Infections (site list)
description: A site's local infection codes.
codes:
  - {system: "urn:example:local-dx", code: "INF-17", display: "Bacteraemia", status: M}
"#,
    )
    .expect("a site value set");
    pack.valuesets.insert(site.id.clone(), site);
    let compiled = compile(pack).unwrap();
    let condition = |id: &str, code: &str, onset: &str| {
        json!({"resourceType": "Condition", "id": id,
            "clinicalStatus": {"coding": [{"code": "active"}]},
            "code": {"coding": [{"system": "urn:example:local-dx", "code": code,
                "display": "Bacteraemia"}]},
            "subject": subject(), "onsetDateTime": onset})
    };
    let rec = record(vec![
        infusion("2026-01-10"),
        condition("bsi", "INF-17", "2026-02-20"),
        condition("other", "INF-99", "2026-02-21"),
    ]);
    let t = timeline(&compiled, &rec, &[]);
    let lane = &t
        .events
        .iter()
        .find(|e| e.key == "infection")
        .unwrap()
        .events;
    assert_eq!(
        lane.iter()
            .map(|e| (e.date.to_string(), e.label.as_str()))
            .collect::<Vec<_>>(),
        [("2026-02-20".to_owned(), "Bacteraemia")],
        "only the site's code"
    );
    assert!(t.missing.is_empty(), "{:?}", t.missing);
}
