//! The service as a process: what SIGTERM, SIGKILL, a torn write-ahead log and a full disk do
//! to it. Each test runs the built binary with its own data directory.

mod crash;
mod disk;
mod drain;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use serde_json::Value;

/// A fixture that fires `pjp-prophylaxis-missing`.
pub const PJP: &str = "fixtures/patients/pjp-prophylaxis-missing/fires-day-30";

/// A running service binary; killed when dropped, so a failed test leaves no process behind.
pub struct Server {
    pub child: Child,
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Sends `signal` (a `kill` name: `TERM`, `KILL`) to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits up to `within` for the process to exit; its exit status.
    pub async fn exited_within(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(exit) = self.child.try_wait().unwrap() {
                return exit;
            }
            assert!(Instant::now() < deadline, "still running after {within:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The service binary.
pub const BIN: &str = env!("CARGO_BIN_EXE_cart-sentinel");

/// Starts `cart-sentinel serve` on a free port with the shipped pack, data in `data_dir`, and
/// the extra settings `env` (`SENTINEL__…` variables).
pub fn start_binary(data_dir: &Path, env: &[(&str, String)]) -> Server {
    let mut command = Command::new(BIN);
    command.arg("serve");
    launch(command, data_dir, env)
}

/// Runs `command` (which must end up running `cart-sentinel serve`, e.g. through `exec`) as
/// [`start_binary`] does.
pub fn launch(mut command: Command, data_dir: &Path, env: &[(&str, String)]) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    command
        .env("SENTINEL__SERVER__PORT", port.to_string())
        .env("SENTINEL__STORAGE__DATA_DIR", data_dir)
        .env(
            "SENTINEL__RULES__DIR",
            crate::helpers::root().join("cds-hooks"),
        )
        .env("SENTINEL__LOG__FILTER", "warn")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = command.spawn().expect("start the service");
    Server { child, port }
}

/// Waits until `/readyz` answers 200.
pub async fn wait_ready(client: &reqwest::Client, server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(r) = client.get(server.url("/readyz")).send().await {
            if r.status() == 200 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the service did not become ready");
}

/// A development admin token for the data directory's key, allowed to read and change rules
/// and read the audit log.
pub fn dev_token(data_dir: &Path) -> String {
    crate::helpers::admin_token(
        data_dir,
        "test-admin",
        &["rules:read", "rules:write", "audit:read"],
        600,
    )
}

/// The request of `fixture` with every date moved so that its `now` is today: the binary
/// reads the real clock.
pub fn fixture_request_today(fixture: &str) -> Value {
    let expect: Value = crate::helpers::load_json(format!("{fixture}.expect.json"));
    let then: chrono::DateTime<Utc> = expect["now"].as_str().unwrap().parse().unwrap();
    let days = (Utc::now().date_naive() - then.date_naive()).num_days();
    let path = crate::helpers::root().join(format!("{fixture}.request.json"));
    serde_json::from_str(&shift_dates(&std::fs::read_to_string(path).unwrap(), days)).unwrap()
}

/// Moves every calendar date (`YYYY-MM-DD`, also inside date-times) in `text` by `days`.
fn shift_dates(text: &str, days: i64) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let candidate = text.get(i..i + 10).filter(|s| {
            s.bytes().enumerate().all(|(k, b)| {
                if matches!(k, 4 | 7) {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            })
        });
        let date = candidate.and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
        match date {
            Some(d) if i == 0 || !bytes[i - 1].is_ascii_digit() => {
                out.push_str(&(d + chrono::Duration::days(days)).to_string());
                i += 10;
            }
            _ => {
                let c = text[i..].chars().next().unwrap();
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

#[test]
fn dates_are_shifted_wherever_they_appear() {
    assert_eq!(
        shift_dates(
            r#"{"d":"2026-01-30","t":"2026-01-31T10:00:00Z","n":"12026-01-01"}"#,
            2
        ),
        r#"{"d":"2026-02-01","t":"2026-02-02T10:00:00Z","n":"12026-01-01"}"#
    );
}
