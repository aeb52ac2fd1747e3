//! What the Bulk Data server sends: the completion manifest, `Retry-After`, OperationOutcome
//! bodies; and the line count of NDJSON as it streams past.

use std::time::{Duration, SystemTime};

use serde::Deserialize;

/// The complete-status manifest (Bulk Data Access IG, "Response - Complete Status").
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// When the server ran the export's query; the `_since` of the next incremental export.
    pub transaction_time: String,
    /// The kick-off URL, as the server understood it.
    #[serde(default)]
    pub request: String,
    /// Whether the file URLs need the access token.
    pub requires_access_token: bool,
    pub output: Vec<ManifestFile>,
    #[serde(default)]
    pub error: Vec<ManifestFile>,
}

/// One entry of `output` or `error`.
#[derive(Debug, Clone, Deserialize)]
pub struct ManifestFile {
    #[serde(rename = "type")]
    pub resource_type: String,
    pub url: String,
    #[serde(default)]
    pub count: Option<u64>,
}

/// The longest diagnostics text quoted in an error: enough for a server's reason, short enough
/// for a log line.
const MAX_DIAGNOSTICS: usize = 300;

/// Issue codes below `transient` in FHIR R4's `IssueType`: the server says to try again later.
const TRANSIENT_CODES: [&str; 7] = [
    "transient",
    "lock-error",
    "no-store",
    "exception",
    "timeout",
    "incomplete",
    "throttled",
];

/// What an error body says: the diagnostics (or details text) of its issues, and whether every
/// issue is transient. A body that is not an OperationOutcome says nothing (`None`).
pub(super) struct Outcome {
    pub text: String,
    pub transient: bool,
}

pub(super) fn read_outcome(body: &[u8]) -> Option<Outcome> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    if value.get("resourceType")?.as_str()? != "OperationOutcome" {
        return None;
    }
    let issues = value.get("issue")?.as_array()?;
    let mut parts = Vec::new();
    let mut transient = !issues.is_empty();
    for issue in issues {
        let code = issue.get("code").and_then(|c| c.as_str()).unwrap_or("");
        transient &= TRANSIENT_CODES.contains(&code);
        let text = issue
            .get("diagnostics")
            .and_then(|d| d.as_str())
            .or_else(|| issue.pointer("/details/text").and_then(|d| d.as_str()));
        parts.push(match text {
            Some(t) => format!("{code}: {t}"),
            None => code.to_owned(),
        });
    }
    Some(Outcome {
        text: clean(&parts.join("; ")),
        transient,
    })
}

/// The diagnostics of an error body, or a note that it had none.
pub(super) fn diagnostics(body: &[u8]) -> String {
    read_outcome(body)
        .map(|o| o.text)
        .unwrap_or_else(|| "no OperationOutcome in the answer".to_owned())
}

/// Control characters removed (a log line stays one line) and the length bounded.
fn clean(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_DIAGNOSTICS)
        .collect();
    if text.chars().count() > MAX_DIAGNOSTICS {
        out.push('…');
    }
    out
}

/// `Retry-After` as a wait from `now`: delay-seconds or an HTTP date (RFC 9110 §10.2.3). A date
/// in the past is no wait; anything else unreadable is `None`.
pub(super) fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Counts the non-empty lines of a stream of chunks.
#[derive(Debug, Default)]
pub(super) struct LineCounter {
    lines: u64,
    open: bool,
}

impl LineCounter {
    pub fn feed(&mut self, chunk: &[u8]) {
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', chunk) {
            if self.open || nl > start {
                self.lines += 1;
            }
            self.open = false;
            start = nl + 1;
        }
        if start < chunk.len() {
            self.open = true;
        }
    }

    pub fn finish(self) -> u64 {
        self.lines + u64::from(self.open)
    }
}

/// A manifest `type` usable in a file name: a FHIR resource type name (letters only, starting
/// upper case), so that no manifest can name a path outside the target directory.
pub(super) fn is_resource_type(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_alphabetic())
        && name.len() <= 64
}
