//! The worklist from the command line (`population findings`) as the API shows it: each
//! finding with its latest action, snoozed findings hidden until the snooze ends unless asked
//! for.

use serde_json::json;

use crate::population_cli::cli;
use crate::snooze::{act, finding_id, two_due, RULE};
use crate::worklist::get_json;

/// (patient, latest action, its reason, its end) of each row of `population findings --csv`.
fn rows(dir: &std::path::Path, extra: &[&str]) -> Vec<[String; 4]> {
    let mut args = vec!["population", "findings", "--csv", "--rule", RULE];
    args.extend_from_slice(extra);
    let out = cli(dir, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let header = reader.headers().unwrap().clone();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let columns = [
        at("patient"),
        at("latest_action"),
        at("action_reason"),
        at("action_until"),
    ];
    let mut rows: Vec<[String; 4]> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            columns.map(|i| r[i].to_owned())
        })
        .collect();
    rows.sort();
    rows
}

#[tokio::test]
async fn the_command_lists_latest_actions_and_hides_snoozed_findings_until_they_end() {
    let two = two_due().await;
    let (app, writer) = (&two.app, &two.writer);
    let (p1, p2) = two.patients.clone();
    let dir = app.data_dir.path();
    let all = get_json(app, "/worklist/findings", writer).await;
    let snoozed = finding_id(&all, &p1, RULE).expect("p1's review");
    let acknowledged = finding_id(&all, &p2, RULE).expect("p2's review");
    let body = json!({"action": "snooze", "reason": "review booked", "days": 3});
    assert_eq!(act(app, writer, snoozed, body).await.status(), 201);
    let body = json!({"action": "acknowledge", "reason": "will call"});
    assert_eq!(act(app, writer, acknowledged, body).await.status(), 201);

    let during = rows(dir, &["--now", "2026-06-16T00:00:00Z"]);
    let acknowledged_row = [
        p2.clone(),
        "acknowledge".into(),
        "will call".into(),
        String::new(),
    ];
    assert_eq!(during, [acknowledged_row.clone()], "the snoozed one hidden");
    let snoozed_row = [
        p1.clone(),
        "snooze".into(),
        "review booked".into(),
        "2026-06-19T00:00:00+00:00".into(),
    ];
    assert_eq!(
        rows(dir, &["--now", "2026-06-16T00:00:00Z", "--include-snoozed"]),
        [snoozed_row.clone(), acknowledged_row.clone()]
    );
    assert_eq!(
        rows(dir, &["--now", "2026-06-19T00:00:00Z"]),
        [snoozed_row, acknowledged_row],
        "back once the snooze ends"
    );
}
