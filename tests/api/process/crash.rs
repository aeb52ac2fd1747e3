//! SIGKILL in the middle of admin writes loses no acknowledged change and leaves no
//! half-applied pack; a write-ahead log left torn by a crash (a frame half written, or the log
//! cut short) is recovered at the next start to a consistent pack.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use cart_sentinel::storage::{connect, AuditFilter, Store};

use super::{dev_token, start_binary, wait_ready, Server};

const RULE: &str = "/admin/rules/cbc-surveillance-overdue";
/// Size of one WAL frame: a 24-byte header and a page (`SQLite`'s default 4,096 bytes).
const FRAME: u64 = 24 + 4096;
const WAL_HEADER: u64 = 32;
/// Acknowledged changes before the kill.
const KILL_AFTER: usize = 8;

async fn patch(client: &reqwest::Client, server: &Server, token: &str, days: u32) -> Value {
    let resp = client
        .patch(server.url(&format!("{RULE}/parameters")))
        .bearer_auth(token)
        .json(&json!({"interval_phase1_days": days}))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

/// Starts the service in `dir`, changes a parameter as fast as it answers, and kills the
/// process with SIGKILL in the middle: the (version, value) pairs it acknowledged.
async fn write_until_killed(dir: &Path) -> Vec<(i64, u32)> {
    let client = reqwest::Client::new();
    let mut server = start_binary(dir, &[]);
    wait_ready(&client, &server).await;
    let token = dev_token(dir);
    let url = server.url(&format!("{RULE}/parameters"));
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let writer = tokio::spawn(async move {
        let mut acknowledged = Vec::new();
        for i in 0..10_000 {
            let value = 20 + (i % 40);
            match client
                .patch(&url)
                .bearer_auth(&token)
                .json(&json!({"interval_phase1_days": value}))
                .send()
                .await
            {
                Ok(r) if r.status() == 200 => {
                    let v: Value = r.json().await.unwrap_or(Value::Null);
                    if let Some(version) = v["packVersion"].as_i64() {
                        acknowledged.push((version, value));
                        seen.store(acknowledged.len(), Ordering::Relaxed);
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        acknowledged
    });
    // Killed once writes are flowing (a loaded machine is slow to get there), mid-stream.
    let deadline = Instant::now() + Duration::from_secs(30);
    while count.load(Ordering::Relaxed) < KILL_AFTER && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    server.signal("KILL");
    server.child.wait().unwrap();
    let acknowledged = writer.await.unwrap();
    assert!(
        acknowledged.len() >= KILL_AFTER,
        "the writer got going before the kill ({} acknowledged)",
        acknowledged.len()
    );
    acknowledged
}

async fn open_store(dir: &Path) -> std::sync::Arc<dyn Store> {
    let url = format!("sqlite:{}", dir.join("cart-sentinel.db").display());
    connect(&url, 1).await.unwrap()
}

/// Restarts the service on `dir` and checks that it starts clean: every version up to the
/// active one is stored whole with its audit entry, the service serves the active version's
/// value, and a new change is accepted. Returns the active version.
async fn restarts_consistent(dir: &Path) -> i64 {
    let client = reqwest::Client::new();
    let restarted = start_binary(dir, &[]);
    wait_ready(&client, &restarted).await;
    let store = open_store(dir).await;
    let active = store.active_pack().await.unwrap().expect("an active pack");
    for version in 1..=active.version {
        let stored = store.get_pack(version).await.expect("no version missing");
        assert!(stored.document["rules"].is_object(), "version {version}");
    }
    let audit = store
        .audit_log(&AuditFilter {
            limit: Some(1000),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        audit.len() as i64,
        active.version,
        "one audit entry per version (seed included): nothing half-applied"
    );
    let token = dev_token(dir);
    let served: Value = client
        .get(restarted.url(RULE))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let value = &active.document["rules"]["cbc-surveillance-overdue"]["parameters"]
        ["interval_phase1_days"]["value"];
    assert_eq!(
        &served["parameters"]["interval_phase1_days"]["value"],
        value
    );
    let next = patch(&client, &restarted, &token, 77).await;
    assert_eq!(next["packVersion"], json!(active.version + 1));
    active.version
}

#[tokio::test]
async fn killing_the_service_mid_write_loses_no_acknowledged_change_and_no_pack_is_half_applied() {
    let dir = tempfile::tempdir().unwrap();
    let acknowledged = write_until_killed(dir.path()).await;

    let store = open_store(dir.path()).await;
    let active = store.active_pack().await.unwrap().expect("an active pack");
    let (last_version, _) = *acknowledged.last().unwrap();
    assert!(
        active.version >= last_version,
        "acknowledged version {last_version} lost (active {})",
        active.version
    );
    for (version, value) in &acknowledged {
        let stored = store
            .get_pack(*version)
            .await
            .expect("every acknowledged version is stored");
        assert_eq!(
            stored.document["rules"]["cbc-surveillance-overdue"]["parameters"]
                ["interval_phase1_days"]["value"],
            json!(*value as f64)
        );
    }
    drop(store);
    restarts_consistent(dir.path()).await;
}

fn copy_data(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[tokio::test]
async fn a_torn_write_ahead_log_is_recovered_at_the_next_start() {
    let killed = tempfile::tempdir().unwrap();
    let acknowledged = write_until_killed(killed.path()).await;
    let wal = killed.path().join("cart-sentinel.db-wal");
    let wal_len = std::fs::metadata(&wal).expect("a write-ahead log").len();
    let frames = (wal_len.saturating_sub(WAL_HEADER)) / FRAME;
    assert!(
        frames >= 4,
        "{wal_len} bytes of log: too few frames to tear"
    );
    let (last_version, _) = *acknowledged.last().unwrap();

    // A frame half written after the last commit: every acknowledged change is still there.
    let half_frame = tempfile::tempdir().unwrap();
    copy_data(killed.path(), half_frame.path());
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(half_frame.path().join("cart-sentinel.db-wal"))
        .unwrap();
    let torn: Vec<u8> = (0..FRAME / 2).map(|i| (i * 31 % 251) as u8).collect();
    log.write_all(&torn).unwrap();
    drop(log);
    let active = restarts_consistent(half_frame.path()).await;
    assert!(active >= last_version, "version {last_version} lost");

    // The log cut in the middle of a frame: what followed the cut is gone, and the service
    // starts on the last whole commit before it, never on a half-applied pack.
    let cut = tempfile::tempdir().unwrap();
    copy_data(killed.path(), cut.path());
    let log = std::fs::OpenOptions::new()
        .write(true)
        .open(cut.path().join("cart-sentinel.db-wal"))
        .unwrap();
    log.set_len(WAL_HEADER + (frames / 2) * FRAME + FRAME / 2)
        .unwrap();
    drop(log);
    let active = restarts_consistent(cut.path()).await;
    assert!(active <= last_version + 1, "version {active} from nowhere");
}
