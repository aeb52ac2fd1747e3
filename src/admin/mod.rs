//! Rule administration: every change to the pack is validated as a whole, committed as a new
//! immutable version together with its audit entry (one transaction), then swapped into memory
//! and announced to the other replicas. Hook calls only ever read the in-memory pack.
//! Must not import `actix_web`.

pub mod diff;
pub mod keys;

use std::sync::{Arc, RwLock};

use chrono::Utc;
use serde_json::Value;

use crate::engine::{self, load, CompiledPack, Pack, Problem};
use crate::storage::{NewAudit, NewPackVersion, PackVersion, Store, StoreError};

/// The active pack of this replica and its version.
pub struct ActivePack {
    inner: RwLock<(Arc<CompiledPack>, i64)>,
    observer: Option<Box<dyn Fn(i64) + Send + Sync>>,
}

impl ActivePack {
    /// Holds `pack` as version `version`.
    pub fn new(pack: CompiledPack, version: i64) -> ActivePack {
        ActivePack {
            inner: RwLock::new((Arc::new(pack), version)),
            observer: None,
        }
    }

    /// Calls `observer` with each newly activated version (e.g. the metrics gauge).
    pub fn observed(mut self, observer: impl Fn(i64) + Send + Sync + 'static) -> ActivePack {
        observer(self.get().1);
        self.observer = Some(Box::new(observer));
        self
    }

    /// The pack and its version (cheap: an `Arc` clone).
    pub fn get(&self) -> (Arc<CompiledPack>, i64) {
        let guard = self.inner.read().unwrap_or_else(|p| p.into_inner());
        (guard.0.clone(), guard.1)
    }

    /// Replaces the pack if `version` is newer than the one held.
    pub fn set(&self, pack: Arc<CompiledPack>, version: i64) {
        let mut guard = self.inner.write().unwrap_or_else(|p| p.into_inner());
        if version > guard.1 {
            *guard = (pack, version);
            if let Some(observe) = &self.observer {
                observe(version);
            }
        }
    }
}

/// Why an administrative change was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The proposed pack is invalid; nothing changed.
    #[error("the change is invalid")]
    Invalid(Vec<Problem>),
    /// Someone changed the pack (or the rule) first.
    #[error("stale version: the pack is now at version {current}")]
    Stale {
        /// Version now active.
        current: i64,
    },
    /// `If-Match` names a version of the target that is no longer current.
    #[error("{0}")]
    Modified(String),
    /// The target does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The target already exists.
    #[error("{0}")]
    Exists(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an administrator asks for, for the audit log.
pub struct ChangeMeta<'a> {
    /// Who (the token's `sub`).
    pub actor: &'a str,
    /// What, e.g. `rule.update`.
    pub action: &'a str,
    /// Which rule, if one.
    pub rule_id: Option<&'a str>,
    /// Why, if given.
    pub reason: Option<String>,
}

/// Administration of the rule pack on top of a store.
pub struct Admin {
    /// The store.
    pub store: Arc<dyn Store>,
    /// This replica's active pack.
    pub active: Arc<ActivePack>,
}

impl Admin {
    /// Applies `edit` to a copy of the active pack, validates the result as a whole, and commits
    /// it as a new version. `before`/`after` select what the audit entry records.
    pub async fn change(
        &self,
        meta: ChangeMeta<'_>,
        edit: impl FnOnce(&mut Pack) -> Result<(), AdminError>,
        audit_view: impl Fn(&Pack) -> Option<Value>,
    ) -> Result<PackVersion, AdminError> {
        let (current, version) = self.active.get();
        let mut proposed = current.pack().clone();
        edit(&mut proposed)?;
        let compiled = engine::compile(proposed.clone()).map_err(AdminError::Invalid)?;
        let audit = NewAudit {
            actor: meta.actor.to_owned(),
            action: meta.action.to_owned(),
            rule_id: meta.rule_id.map(str::to_owned),
            before: audit_view(current.pack()),
            after: audit_view(&proposed),
            reason: meta.reason.clone(),
        };
        let committed = self
            .store
            .commit_pack(NewPackVersion {
                expected_active: Some(version),
                document: load::pack_to_json(&proposed),
                author: meta.actor.to_owned(),
                reason: meta.reason,
                created_at: Utc::now(),
                audit,
            })
            .await;
        let committed = match committed {
            Ok(committed) => committed,
            Err(StoreError::Conflict { current }) => {
                // This replica is behind: a change it was never told of (no notification on
                // SQLite, a lost one on PostgreSQL, or its own commit whose answer a partition
                // cut off). It takes the active version now, so that the caller's retry,
                // made against what it then reads, succeeds instead of failing forever.
                if let Some(active) = current {
                    if let Err(e) = self.adopt(active).await {
                        tracing::warn!(error = %e, pack.version = active, "could not adopt the active rule pack after a conflict");
                    }
                }
                return Err(AdminError::Stale {
                    current: current.unwrap_or(version),
                });
            }
            Err(other) => return Err(AdminError::Store(other)),
        };
        self.active.set(Arc::new(compiled), committed.version);
        if let Err(e) = self.store.notify_pack_changed(committed.version).await {
            tracing::warn!(error = %e, pack.version = committed.version, "could not notify other replicas; they will catch up on their next notification");
        }
        Ok(committed)
    }

    /// Loads and activates a stored version (used when another replica announces a change).
    pub async fn adopt(&self, version: i64) -> Result<(), AdminError> {
        if version <= self.active.get().1 {
            return Ok(());
        }
        let stored = self.store.get_pack(version).await?;
        let pack =
            load::pack_from_json(&stored.document).map_err(|p| AdminError::Invalid(vec![p]))?;
        let compiled = engine::compile(pack).map_err(AdminError::Invalid)?;
        self.active.set(Arc::new(compiled), version);
        tracing::info!(
            pack.version = version,
            "adopted rule pack from another replica"
        );
        Ok(())
    }
}

/// Keeps this replica's pack in step with the others (PostgreSQL LISTEN/NOTIFY; nothing on
/// SQLite, where there is one process). Hook calls never query the database for this.
///
/// Returns once this replica is listening, after adopting any version committed between loading
/// the pack and subscribing (so no announcement can fall into that gap); the listening itself
/// runs in a background task.
pub async fn follow_changes(admin: Arc<Admin>) -> Result<(), StoreError> {
    let Some(mut rx) = admin.store.subscribe_pack_changes().await? else {
        return Ok(());
    };
    if let Some(active) = admin.store.active_pack().await? {
        if let Err(e) = admin.adopt(active.version).await {
            tracing::error!(error = %e, pack.version = active.version, "could not adopt the active rule pack");
        }
    }
    tokio::spawn(async move {
        while let Some(version) = rx.recv().await {
            if let Err(e) = admin.adopt(version).await {
                tracing::error!(error = %e, pack.version = version, "could not adopt announced rule pack");
            }
        }
    });
    Ok(())
}

/// A stable content tag of a JSON value (ETag of a rule or value set).
pub fn etag(value: &Value) -> String {
    // SHA-256 of its serialisation, shortened to 128 bits: a tag, not a signature.
    let hex = crate::storage::sha256_hex(value.to_string().as_bytes());
    format!("\"{}\"", &hex[..32])
}
