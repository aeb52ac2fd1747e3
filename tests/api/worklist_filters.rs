//! The worklist's filters by product, prevention level and overdue days, over HTTP and in the
//! CSV: a run over three fixture recipients whose product, rules and due dates differ, then
//! each filter checked for what it includes and what it leaves out.

use serde_json::Value;

use crate::helpers::{admin_token, spawn_with};
use crate::population::{own_resources, write_export};
use crate::worklist::{assert_refused, call, get_json, patients_and_rules, start, until_ended};

const NOW: &str = "2026-06-15T12:00:00Z";
/// Last CBC on 2026-03-16, every 90 days in phase 2: due 2026-06-14, one day before the run.
const CBC_91_DAYS: &str = "cbc-surveillance-overdue/fires-phase2-day-200-cbc-91-days";
/// Infused 2026-05-26, no CBC on record: due on day 0, 20 days before the run.
const NO_CBC: &str = "cbc-surveillance-overdue/fires-no-cbc-on-record";
/// Carvykti (cilta-cel) for myeloma, then a DLBCL: a tertiary-prevention finding.
const CARVYKTI: &str = "new-malignancy-after-cart/fires-dlbcl-after-carvykti-for-myeloma";

fn patient(fixture: &str) -> (Vec<Value>, String) {
    let request = crate::helpers::load_json(format!("fixtures/patients/{fixture}.request.json"));
    let id = request["context"]["patientId"].as_str().unwrap();
    (own_resources(&request), format!("Patient/{id}"))
}

fn finding<'a>(page: &'a Value, patient: &str, rule: &str) -> Option<&'a Value> {
    page["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["patient"] == patient && f["ruleId"] == rule)
}

#[tokio::test]
async fn product_prevention_and_overdue_days_each_include_and_exclude_the_right_findings() {
    let exports = tempfile::tempdir().unwrap();
    let export = exports.path().join("run");
    std::fs::create_dir(&export).unwrap();
    let mut resources = Vec::new();
    let mut refs = Vec::new();
    for fixture in [CBC_91_DAYS, NO_CBC, CARVYKTI] {
        let (mine, reference) = patient(fixture);
        resources.extend(mine);
        refs.push(reference);
    }
    write_export(&export, &resources);
    let (due_yesterday, due_day0, carvykti) = (&refs[0], &refs[1], &refs[2]);
    let root = exports.path().to_path_buf();
    let app = spawn_with(move |s| s.population.ndjson_dir = Some(root)).await;
    app.set_now(NOW.parse().unwrap());
    let dir = app.data_dir.path();
    let writer = admin_token(dir, "coordinator-1", &["worklist:write"], 600);
    let reader = admin_token(dir, "pharmacist-1", &["worklist:read"], 600);
    let started = start(&app, &writer, serde_json::json!({"directory": "run"})).await;
    assert_eq!(started.status(), 202);
    let id = started.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let (run, _) = until_ended(&app, id, &reader).await;
    assert_eq!(run["status"], "succeeded", "{run}");

    let cbc = "cbc-surveillance-overdue";
    let all = get_json(&app, "/worklist/findings", &reader).await;
    let yesterday = finding(&all, due_yesterday, cbc).expect("the 91-day CBC finding");
    assert_eq!(yesterday["dueOn"], "2026-06-14", "{yesterday}");
    assert_eq!(yesterday["prevention"], "secondary");
    assert_eq!(
        yesterday["day0"], "2025-11-27",
        "the day of the CAR-T infusion"
    );
    assert_eq!(finding(&all, due_day0, cbc).unwrap()["dueOn"], "2026-05-26");
    let malignancy = finding(&all, carvykti, "new-malignancy-after-cart").expect("tertiary");
    assert_eq!(malignancy["product"], "cilta-cel", "{malignancy}");
    assert_eq!(malignancy["prevention"], "tertiary");
    assert!(malignancy["dueOn"].is_null(), "the rule has no due date");

    let cilta = get_json(&app, "/worklist/findings?product=cilta-cel", &reader).await;
    let rows = patients_and_rules(&cilta);
    assert!(rows.contains(&(carvykti.clone(), "new-malignancy-after-cart".into())));
    assert!(rows.iter().all(|(p, _)| p == carvykti), "{rows:?}");
    let none = get_json(&app, "/worklist/findings?product=obe-cel", &reader).await;
    assert!(patients_and_rules(&none).is_empty());

    let tertiary = get_json(&app, "/worklist/findings?prevention=tertiary", &reader).await;
    let rows = patients_and_rules(&tertiary);
    assert!(rows.contains(&(carvykti.clone(), "new-malignancy-after-cart".into())));
    assert!(!rows.iter().any(|(_, r)| r == cbc), "{rows:?}");
    let secondary = get_json(&app, "/worklist/findings?prevention=secondary", &reader).await;
    let rows = patients_and_rules(&secondary);
    assert!(rows.contains(&(due_yesterday.clone(), cbc.into())));
    assert!(!rows.iter().any(|(_, r)| r == "new-malignancy-after-cart"));

    // Overdue by more than N days: due before the run's date minus N. Findings without a
    // due date never match.
    let overdue = |days: u32| {
        let (app, reader) = (&app, &reader);
        async move {
            let path = format!("/worklist/findings?overdueDays={days}&rule={cbc}");
            let page = get_json(app, &path, reader).await;
            let mut patients: Vec<String> = patients_and_rules(&page)
                .into_iter()
                .map(|(p, _)| p)
                .collect();
            patients.retain(|p| p != carvykti);
            patients
        }
    };
    let mut both = vec![due_yesterday.clone(), due_day0.clone()];
    both.sort();
    assert_eq!(overdue(0).await, both);
    assert_eq!(
        overdue(1).await,
        std::slice::from_ref(due_day0),
        "due yesterday: 1 day, not more"
    );
    assert_eq!(overdue(19).await, std::slice::from_ref(due_day0));
    assert!(
        overdue(20).await.is_empty(),
        "due 20 days ago: not more than 20"
    );
    let any_overdue = get_json(&app, "/worklist/findings?overdueDays=0", &reader).await;
    let rows = patients_and_rules(&any_overdue);
    assert!(
        !rows.iter().any(|(_, r)| r == "new-malignancy-after-cart"),
        "{rows:?}"
    );

    for (query, field) in [
        ("prevention=quaternary", "prevention"),
        ("overdueDays=-1", "overdueDays"),
        ("overdueDays=36501", "overdueDays"),
    ] {
        let path = format!("/worklist/findings?{query}");
        let resp = call(&app, reqwest::Method::GET, &path, &reader).await;
        assert_refused(resp.send().await.unwrap(), field).await;
    }

    let csv = call(
        &app,
        reqwest::Method::GET,
        "/worklist/findings.csv?product=cilta-cel",
        &reader,
    )
    .await
    .send()
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (product, prevention) = (column("product"), column("prevention"));
    let rows: Vec<Vec<String>> = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r[product] == "cilta-cel"), "{csv}");
    assert!(rows.iter().any(|r| r[prevention] == "tertiary"), "{csv}");
    assert!(header.contains(&"due_on"));
    assert!(header.contains(&"day0"));
}
