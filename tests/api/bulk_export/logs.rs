//! The bulk client's log lines, at its most verbose level, hold no access token, no client
//! assertion, no URL and no file content, through an export that retries a poll and a file.

use std::io::Write;
use std::sync::{Arc, Mutex};

use wiremock::ResponseTemplate;

use super::*;

/// What the subscriber wrote.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_hold_no_token_assertion_url_or_content() {
    let m = server().await;
    let (files, url, settings) = cut_file(&m).await;
    let errors = [(
        "OperationOutcome".into(),
        format!("{}/files/err", m.server.uri()),
    )];
    let done = manifest_of(&[("Observation".into(), url)], &errors);
    let failing = ResponseTemplate::new(500).set_body_json(outcome("exception", "db down"));
    m.job(GROUP, vec![failing, in_progress("3 of 7"), done])
        .await;
    m.serve("GET", "/files/err", ok(ERRORS)).await;
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("cart_sentinel=trace")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let dir = tempfile::tempdir().unwrap();

    let summary = {
        let _guard = tracing::subscriber::set_default(subscriber);
        export(&settings, dir.path())
            .await
            .expect("export succeeds")
    };

    assert_eq!(count(&files.connections), 2, "the file was retried");
    assert_eq!(summary.polls, 3);
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("bulk export downloaded"), "{text}");
    assert!(
        text.contains("bulk export: a file download failed"),
        "{text}"
    );
    assert!(text.contains("bulk export: status URL failed"), "{text}");
    let tokens = m.seen.issued();
    assert!(!tokens.is_empty());
    for secret in tokens
        .iter()
        .map(String::as_str)
        .chain(["eyJ", "127.0.0.1", "o1", "processing"])
    {
        assert!(!text.contains(secret), "`{secret}` in the log:\n{text}");
    }
}
