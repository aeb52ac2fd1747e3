//! No room left for the `SQLite` files (simulated with a file size limit on the running process,
//! which `SQLite` meets exactly as it meets a full disk: a write that fails part-way): hook calls
//! keep answering, admin writes answer 503 with `Retry-After` and an OperationOutcome, nothing is
//! half-written, and writes work again once there is room, without a restart.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use cart_sentinel::storage::{connect, AuditFilter};

use super::{dev_token, fixture_request_today, launch, wait_ready, BIN, PJP};

const RULE: &str = "/admin/rules/cbc-surveillance-overdue";

/// Sets the soft limit on the size of any file the process `pid` writes (`None`: no limit),
/// with util-linux's `prlimit`.
fn limit_file_size(pid: u32, bytes: Option<u64>) {
    let soft = bytes.map_or_else(|| "unlimited".to_owned(), |b| b.to_string());
    let status = Command::new("prlimit")
        .args([
            "--pid".to_owned(),
            pid.to_string(),
            format!("--fsize={soft}:unlimited"),
        ])
        .status()
        .expect("prlimit (util-linux)");
    assert!(status.success());
}

fn largest_file(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .max()
        .unwrap()
}

#[tokio::test]
async fn a_full_disk_makes_writes_answer_503_and_they_work_again_once_there_is_room() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("SENTINEL__STORAGE__TIMEOUT_MS", "500".to_owned())];
    // A process over its file size limit gets SIGXFSZ, which kills it unless ignored; ignored
    // (and an ignored signal stays ignored across exec), the write fails with EFBIG, as it
    // fails with ENOSPC on a full disk.
    let mut command = Command::new("sh");
    command.args(["-c", "trap '' XFSZ; exec \"$0\" serve", BIN]);
    let server = launch(command, dir.path(), &env);
    let client = reqwest::Client::new();
    wait_ready(&client, &server).await;
    let token = dev_token(dir.path());
    let patch = |days: u32| {
        client
            .patch(server.url(&format!("{RULE}/parameters")))
            .bearer_auth(&token)
            .json(&json!({"interval_phase1_days": days}))
            .send()
    };

    limit_file_size(
        server.child.id(),
        Some(largest_file(dir.path()) + 16 * 1024),
    );
    let mut acknowledged = Vec::new();
    let refused = loop {
        assert!(acknowledged.len() < 500, "the disk never filled");
        let days = 20 + (acknowledged.len() as u32 % 40);
        let started = Instant::now();
        let resp = patch(days).await.expect("an answer");
        if resp.status() == 200 {
            let body: Value = resp.json().await.unwrap();
            acknowledged.push((body["packVersion"].as_i64().unwrap(), days));
            continue;
        }
        assert!(started.elapsed() < Duration::from_secs(2));
        break resp;
    };
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    let outcome: Value = refused.json().await.unwrap();
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert_eq!(outcome["issue"][0]["code"], "transient");

    // The point of care does not need the disk.
    let resp = client
        .post(server.url("/cds-services/cart-monitoring"))
        .json(&fixture_request_today(PJP))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.unwrap();
    assert!(
        answer["cards"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["source"]["topic"]["code"] == "pjp-prophylaxis-missing"),
        "{answer}"
    );

    // Room again: the next write succeeds without a restart, right after the last acknowledged.
    limit_file_size(server.child.id(), None);
    let resp = patch(77).await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let last = acknowledged.last().map_or(1, |(v, _)| *v);
    assert_eq!(body["packVersion"], json!(last + 1), "nothing half-written");

    let url = format!("sqlite:{}", dir.path().join("cart-sentinel.db").display());
    let store = connect(&url, 1).await.unwrap();
    for (version, days) in &acknowledged {
        let stored = store.get_pack(*version).await.unwrap();
        assert_eq!(
            stored.document["rules"]["cbc-surveillance-overdue"]["parameters"]
                ["interval_phase1_days"]["value"],
            json!(*days as f64)
        );
    }
    let audit = store
        .audit_log(&AuditFilter {
            limit: Some(1000),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.len() as i64, last + 1, "one audit entry per version");
}
