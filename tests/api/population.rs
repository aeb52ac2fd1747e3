//! A population run gives each CAR-T recipient the findings a `patient-view` hook call with
//! the same resources gives as cards: the `patient-view` fixtures are turned into one NDJSON
//! export (one file per resource type, every fixture's patient in it), run, and compared with
//! the service's answer to each fixture request.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use cart_sentinel::engine::load;
use cart_sentinel::population::{self, Progress, RunInput};
use cart_sentinel::record::refers_to_patient;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::fixtures::cases;
use crate::helpers::{load_json, root, spawn_app};

/// (rule id, indicator, summary) of each card or finding, in the order given.
type Seen = Vec<(String, String, String)>;

/// The resources of a request's prefetch that are the request's patient's: what the hook
/// path keeps of them (another patient's resource is dropped there, and would belong to that
/// patient in an export).
pub(crate) fn own_resources(request: &Value) -> Vec<Value> {
    let patient = request["context"]["patientId"].as_str().unwrap_or_default();
    let mine = |r: &Value| match r["resourceType"].as_str() {
        Some("Patient") => r["id"] == patient,
        _ => ["subject", "patient"].iter().any(|k| {
            r[k]["reference"]
                .as_str()
                .is_some_and(|s| refers_to_patient(s, patient))
        }),
    };
    let mut out = Vec::new();
    for value in request["prefetch"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
    {
        match value["resourceType"].as_str() {
            Some("Bundle") => out.extend(
                value["entry"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|e| e["resource"].clone()),
            ),
            Some(_) => out.push(value.clone()),
            None => {}
        }
    }
    out.retain(mine);
    out
}

/// Writes resources as an export: one `<type>.ndjson` per resource type.
pub(crate) fn write_export(dir: &Path, resources: &[Value]) {
    let mut by_type: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for r in resources {
        let t = r["resourceType"].as_str().unwrap_or("Unknown").to_owned();
        by_type.entry(t).or_default().push(r);
    }
    for (t, rs) in by_type {
        let mut f = std::fs::File::create(dir.join(format!("{t}.ndjson"))).unwrap();
        // Newest fixture first: an export is in no particular order.
        for r in rs.iter().rev() {
            writeln!(f, "{}", serde_json::to_string(r).unwrap()).unwrap();
        }
    }
}

#[tokio::test]
async fn population_findings_equal_the_patient_view_cards_of_each_recipient() {
    let app = spawn_app().await;
    let mut requests = Vec::new();
    let mut resources = Vec::new();
    let mut now: Option<DateTime<Utc>> = None;
    let mut ids = std::collections::HashSet::new();
    for (request, expect) in cases() {
        let request = load_json(&request);
        let expect = load_json(&expect);
        if request["hook"] != "patient-view" {
            continue;
        }
        let at: DateTime<Utc> = expect["now"].as_str().unwrap().parse().unwrap();
        assert_eq!(*now.get_or_insert(at), at, "one run has one now");
        let patient = request["context"]["patientId"].as_str().unwrap().to_owned();
        assert!(ids.insert(patient), "one fixture per patient in the export");
        resources.extend(own_resources(&request));
        requests.push((request, expect["service"].as_str().unwrap().to_owned()));
    }
    let now = now.expect("patient-view fixtures");
    app.set_now(now);

    let export = tempfile::tempdir().unwrap();
    write_export(export.path(), &resources);
    let pack = load::compile_dir(&root().join("cds-hooks")).expect("the shipped pack");
    let progress = Progress::default();
    let input = RunInput {
        pack: &pack,
        now,
        tz: chrono_tz::Tz::UTC,
        spool_dir: export.path(),
        progress: &progress,
    };
    let files = population::ndjson_files(export.path()).unwrap();
    let mut found: HashMap<String, Seen> = HashMap::new();
    let (counts, _) = population::run(&files, &input, &mut |p| {
        let seen = p
            .findings
            .iter()
            .map(|f| (f.rule_id.clone(), f.indicator.clone(), f.summary.clone()));
        found.insert(p.patient, seen.collect());
        Ok(())
    })
    .expect("the run finishes");
    assert_eq!(counts.skipped.total(), 0, "{counts:?}");

    let mut compared = 0;
    for (request, service) in &requests {
        let patient = request["context"]["patientId"].as_str().unwrap();
        let response = app.call(service, request).await;
        assert_eq!(response.status(), 200, "{patient}");
        let body: Value = response.json().await.unwrap();
        let cards: Seen = body["cards"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let text = |v: &Value| v.as_str().unwrap().to_owned();
                (
                    text(&c["source"]["topic"]["code"]),
                    text(&c["indicator"]),
                    text(&c["summary"]),
                )
            })
            .collect();
        let population = found
            .remove(&format!("Patient/{patient}"))
            .unwrap_or_default();
        assert_eq!(population, cards, "{patient}");
        compared += usize::from(!cards.is_empty());
    }
    assert!(found.is_empty(), "findings of no fixture: {found:?}");
    assert!(
        compared >= 100 && counts.cohort_size >= 100,
        "{compared} recipients with cards compared, {counts:?}"
    );
}
