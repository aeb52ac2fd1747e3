//! SQL shared by both backends. Every statement here is valid in `SQLite` and in `PostgreSQL`:
//! numbered `$n` parameters (`SQLite` accepts them too), `ON CONFLICT`, and `($n IS NULL OR …)`
//! for optional filters. Statements that differ (locking, `NOTIFY`) live in their backend.

/// Readiness probe.
pub(crate) const PING: &str = "SELECT 1";

/// Binds: key, service, card, outcome, outcome time, accepted ids (JSON), reason system,
/// code, display, comment, received time. Affects 0 rows for a duplicate.
pub(crate) const INSERT_FEEDBACK: &str = "\
INSERT INTO feedback (idempotency_key, service_id, card_uuid, outcome, outcome_timestamp,
    accepted_suggestions, override_reason_system, override_reason_code,
    override_reason_display, override_comment, received_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (idempotency_key) DO NOTHING";

/// Binds: service, rule, from, to (each optional), limit.
pub(crate) const LIST_FEEDBACK: &str = "\
SELECT f.id, f.service_id, f.card_uuid, c.rule_id, f.outcome, f.outcome_timestamp,
    f.accepted_suggestions, f.override_reason_system, f.override_reason_code,
    f.override_reason_display, f.override_comment, f.received_at
FROM feedback f
LEFT JOIN issued_cards c ON c.card_uuid = f.card_uuid
WHERE ($1 IS NULL OR f.service_id = $1)
  AND ($2 IS NULL OR c.rule_id = $2)
  AND ($3 IS NULL OR f.outcome_timestamp >= $3)
  AND ($4 IS NULL OR f.outcome_timestamp < $4)
ORDER BY f.outcome_timestamp DESC, f.id DESC
LIMIT $5";

/// Binds: card, rule, service, hook, indicator, pack version, issued time, patient key.
pub(crate) const INSERT_ISSUED_CARD: &str = "\
INSERT INTO issued_cards (card_uuid, rule_id, service_id, hook, indicator, pack_version,
    issued_at, patient_key)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (card_uuid) DO NOTHING";

/// Binds: card uuid. A row when that card was issued.
pub(crate) const ISSUED_CARD_EXISTS: &str = "SELECT 1 FROM issued_cards WHERE card_uuid = $1";

/// Binds: from, to. Cards issued in the window, per rule and indicator.
pub(crate) const QUALITY_ISSUED: &str = "\
SELECT rule_id, indicator, COUNT(*) AS n
FROM issued_cards
WHERE issued_at >= $1 AND issued_at < $2
GROUP BY rule_id, indicator";

/// Binds: from, to. Feedback on the cards issued in the window, per rule, outcome and reason.
pub(crate) const QUALITY_FEEDBACK: &str = "\
SELECT c.rule_id, f.outcome, f.override_reason_code AS reason_code,
    f.override_reason_display AS reason_display, f.override_comment AS comment,
    COUNT(*) AS n
FROM feedback f
JOIN issued_cards c ON c.card_uuid = f.card_uuid
WHERE c.issued_at >= $1 AND c.issued_at < $2
GROUP BY c.rule_id, f.outcome, f.override_reason_code, f.override_reason_display,
    f.override_comment";

/// No binds.
pub(crate) const ACTIVE_PACK: &str = "\
SELECT p.version, p.document, p.author, p.reason, p.created_at, TRUE AS active
FROM active_pack a
JOIN pack_versions p ON p.version = a.version
WHERE a.id = 1";

/// Binds: version.
pub(crate) const GET_PACK: &str = "\
SELECT p.version, p.document, p.author, p.reason, p.created_at, (a.id IS NOT NULL) AS active
FROM pack_versions p
LEFT JOIN active_pack a ON a.version = p.version
WHERE p.version = $1";

/// Binds: limit.
pub(crate) const LIST_PACKS: &str = "\
SELECT p.version, p.author, p.reason, p.created_at, (a.id IS NOT NULL) AS active
FROM pack_versions p
LEFT JOIN active_pack a ON a.version = p.version
ORDER BY p.version DESC
LIMIT $1";

/// No binds. The active version (NULL before the first commit); `PostgreSQL` adds `FOR UPDATE`.
pub(crate) const ACTIVE_VERSION: &str = "SELECT version FROM active_pack WHERE id = 1";

/// No binds. Only correct inside a transaction that keeps other writers out.
pub(crate) const NEXT_PACK_VERSION: &str =
    "SELECT COALESCE(MAX(version), 0) + 1 FROM pack_versions";

/// Binds: version, document (JSON), author, reason, created time.
pub(crate) const INSERT_PACK: &str = "\
INSERT INTO pack_versions (version, document, author, reason, created_at)
VALUES ($1, $2, $3, $4, $5)";

/// Binds: version, time.
pub(crate) const SET_ACTIVE_PACK: &str =
    "UPDATE active_pack SET version = $1, updated_at = $2 WHERE id = 1";

/// Binds: time, actor, action, rule, pack version, before, after (JSON), reason.
pub(crate) const INSERT_AUDIT: &str = "\
INSERT INTO audit_log (at, actor, action, rule_id, pack_version, before, after, reason)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// Binds: rule, actor, from, to (each optional), limit.
pub(crate) const LIST_AUDIT: &str = "\
SELECT id, at, actor, action, rule_id, pack_version, before, after, reason
FROM audit_log
WHERE ($1 IS NULL OR rule_id = $1)
  AND ($2 IS NULL OR actor = $2)
  AND ($3 IS NULL OR at >= $3)
  AND ($4 IS NULL OR at < $4)
ORDER BY at DESC, id DESC
LIMIT $5";

/// Binds: iss, jti, expiry, now. Affects 1 row if the id is new or its old record expired,
/// 0 rows for a replay; a single statement, so concurrent callers cannot both see "new".
pub(crate) const REMEMBER_JTI: &str = "\
INSERT INTO seen_jti (iss, jti, expires_at)
VALUES ($1, $2, $3)
ON CONFLICT (iss, jti) DO UPDATE SET expires_at = excluded.expires_at
WHERE seen_jti.expires_at <= $4";

/// Binds: now.
pub(crate) const PURGE_JTI: &str = "DELETE FROM seen_jti WHERE expires_at <= $1";
