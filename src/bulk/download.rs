//! Downloading the manifest's files: streamed to disk chunk by chunk (never whole in memory),
//! written under a temporary name and renamed once complete, retried from the start when the
//! connection drops or the body is cut short, bounded in size.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use tokio::io::AsyncWriteExt;
use url::Url;

use super::session::{transport_kind, Session};
use super::wire::{self, LineCounter, Manifest, ManifestFile};
use super::{BulkError, ExportedFile, Progress};

/// Error files go here, so that a reader of the directory's NDJSON never takes them for data.
const ERRORS_DIR: &str = "errors";

/// Creates `dir` when missing and refuses one that holds anything: two exports in one directory
/// would be read as one.
pub(super) async fn prepare_dir(dir: &Path) -> Result<(), BulkError> {
    let shown = dir.display();
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| BulkError::Disk(format!("{shown} cannot be created: {e}")))?;
    let mut entries = tokio::fs::read_dir(dir)
        .await
        .map_err(|e| BulkError::Disk(format!("{shown} cannot be read: {e}")))?;
    while let Some(entry) = entries
        .next_entry()
        .await
        .map_err(|e| BulkError::Disk(format!("{shown} cannot be read: {e}")))?
    {
        let name = entry.file_name();
        let empty_errors = name == ERRORS_DIR
            && std::fs::read_dir(entry.path()).is_ok_and(|mut d| d.next().is_none());
        if !empty_errors {
            return Err(BulkError::Disk(format!(
                "{shown} is not empty; give a new or empty directory for each export"
            )));
        }
    }
    tokio::fs::create_dir_all(dir.join(ERRORS_DIR))
        .await
        .map_err(|e| BulkError::Disk(format!("{shown} cannot be written: {e}")))
}

/// Why one attempt failed, and whether another may succeed.
enum Attempt {
    Retry(String),
    Fatal(BulkError),
}

/// Downloads every output file, then every error file.
pub(super) async fn all(
    session: &Session<'_>,
    manifest: &Manifest,
    dir: &Path,
) -> Result<(Vec<ExportedFile>, Vec<ExportedFile>), BulkError> {
    let total = manifest.output.len() + manifest.error.len();
    session.report(&Progress::Manifest { files: total });
    // Every URL is checked before the first download: a manifest that names a server off the
    // allowlist is refused whole, and nothing at all is sent to that server.
    let mut planned = Vec::with_capacity(total);
    let mut numbers: HashMap<&str, usize> = HashMap::new();
    for (entry, is_error) in manifest
        .output
        .iter()
        .map(|e| (e, false))
        .chain(manifest.error.iter().map(|e| (e, true)))
    {
        if !wire::is_resource_type(&entry.resource_type) {
            return Err(BulkError::Protocol(
                "a manifest entry's type is not a resource type name".into(),
            ));
        }
        let url = Url::parse(&entry.url)
            .map_err(|_| BulkError::Protocol("a manifest entry's url is not a URL".into()))?;
        let what = if is_error {
            "error file URL"
        } else {
            "output file URL"
        };
        if !session.allowed(&url) {
            return Err(BulkError::NotAllowed(what));
        }
        let n = numbers.entry(&entry.resource_type).or_default();
        *n += 1;
        let name = format!("{}-{n}.ndjson", entry.resource_type);
        let path = if is_error {
            dir.join(ERRORS_DIR).join(name)
        } else {
            dir.join(name)
        };
        planned.push((entry, url, path, is_error));
    }
    let (mut files, mut errors) = (Vec::new(), Vec::new());
    for (done, (entry, url, path, is_error)) in planned.into_iter().enumerate() {
        let file = one(session, entry, &url, &path, manifest.requires_access_token).await?;
        session.report(&Progress::Downloaded {
            file: file_name(&path),
            done: done + 1,
            of: total,
        });
        if is_error { &mut errors } else { &mut files }.push(file);
    }
    Ok((files, errors))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// One file, with its attempts.
async fn one(
    session: &Session<'_>,
    entry: &ManifestFile,
    url: &Url,
    path: &Path,
    with_token: bool,
) -> Result<ExportedFile, BulkError> {
    let name = file_name(path);
    let part = path.with_file_name(format!(".{name}.part"));
    let attempts = session.settings.download_attempts.max(1);
    let mut last = String::new();
    for attempt in 1..=attempts {
        if session.remaining().is_zero() {
            break;
        }
        // A download is not cut by a request timeout (files are large), only by the deadline.
        let Ok(fetched) = tokio::time::timeout(
            session.remaining(),
            fetch(session, url, &part, &name, with_token),
        )
        .await
        else {
            break;
        };
        match fetched {
            Ok((bytes, lines)) => {
                tokio::fs::rename(&part, path)
                    .await
                    .map_err(|e| BulkError::Disk(format!("{name} cannot be renamed: {e}")))?;
                return Ok(ExportedFile {
                    resource_type: entry.resource_type.clone(),
                    path: path.to_path_buf(),
                    bytes,
                    lines,
                    manifest_count: entry.count,
                });
            }
            Err(Attempt::Fatal(e)) => {
                let _ = tokio::fs::remove_file(&part).await;
                return Err(e);
            }
            Err(Attempt::Retry(reason)) => {
                tracing::warn!(attempt, attempts, %reason, "bulk export: a file download failed");
                last = reason;
                if attempt < attempts {
                    let wait = Duration::from_millis(250 * u64::from(attempt));
                    tokio::time::sleep(wait.min(session.remaining())).await;
                }
            }
        }
    }
    let _ = tokio::fs::remove_file(&part).await;
    if session.remaining().is_zero() {
        return Err(BulkError::Deadline(session.settings.deadline.as_secs()));
    }
    Err(BulkError::Download {
        file: name,
        attempts,
        reason: last,
    })
}

/// One attempt: the whole file into `part`. Returns its bytes and lines.
async fn fetch(
    session: &Session<'_>,
    url: &Url,
    part: &PathBuf,
    name: &str,
    with_token: bool,
) -> Result<(u64, u64), Attempt> {
    let limit = session.settings.max_file_bytes;
    let sent = session
        .send(
            Method::GET,
            url,
            &[("Accept", "application/fhir+ndjson")],
            with_token,
            None,
            "output file URL",
        )
        .await;
    let mut resp = match sent {
        Ok(resp) => resp,
        Err(BulkError::Unreachable { kind, .. }) => return Err(Attempt::Retry(kind.to_owned())),
        Err(e) => return Err(Attempt::Fatal(e)),
    };
    let status = resp.status();
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        return Err(Attempt::Retry(format!("HTTP {}", status.as_u16())));
    }
    if !status.is_success() {
        return Err(Attempt::Fatal(BulkError::Download {
            file: name.to_owned(),
            attempts: 1,
            reason: format!("HTTP {}", status.as_u16()),
        }));
    }
    let too_large = || {
        Attempt::Fatal(BulkError::TooLarge {
            file: name.to_owned(),
            limit,
        })
    };
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let disk = |e: std::io::Error| Attempt::Fatal(BulkError::Disk(format!("{name}: {e}")));
    let mut out = tokio::fs::File::create(part).await.map_err(disk)?;
    let (mut bytes, mut lines) = (0u64, LineCounter::default());
    loop {
        let chunk = match resp.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => return Err(Attempt::Retry(transport_kind(&e).to_owned())),
        };
        bytes += chunk.len() as u64;
        if bytes > limit {
            return Err(too_large());
        }
        lines.feed(&chunk);
        out.write_all(&chunk).await.map_err(disk)?;
    }
    out.flush().await.map_err(disk)?;
    out.sync_all().await.map_err(disk)?;
    Ok((bytes, lines.finish()))
}
