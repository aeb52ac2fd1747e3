//! SQL of finding actions and snoozes, valid in `SQLite` and `PostgreSQL`.

/// Binds: finding id.
pub(super) const FINDING_EXISTS: &str = "SELECT 1 FROM population_findings WHERE id = $1";

/// Binds: finding, action, reason, until, actor, at.
pub(super) const INSERT_ACTION: &str = "\
INSERT INTO finding_actions (finding_id, action, reason, until, actor, at)
VALUES ($1, $2, $3, $4, $5, $6)";

/// Binds: patient key, rule, until, origin, reason code, reason text, actor, at.
pub(super) const INSERT_SNOOZE: &str = "\
INSERT INTO snoozes (patient_key, rule_id, until, origin, reason_code, reason_text, actor, at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// Binds: now. Snoozes that ended (they quiet nothing any more).
pub(super) const PURGE_ENDED: &str = "DELETE FROM snoozes WHERE until <= $1";

/// Binds: patient key, now. The rules quiet for that patient.
pub(super) const ACTIVE: &str = "\
SELECT DISTINCT rule_id FROM snoozes WHERE patient_key = $1 AND until > $2 ORDER BY rule_id";

/// Binds: card uuid.
pub(super) const ISSUED_CARD_KEY: &str =
    "SELECT rule_id, patient_key FROM issued_cards WHERE card_uuid = $1";

/// Binds: patient key, limit. Newest first, each with its latest feedback.
pub(super) const PATIENT_CARDS: &str = "\
SELECT c.rule_id, c.hook, c.indicator, c.issued_at, f.outcome,
    COALESCE(f.override_reason_display, f.override_reason_code) AS override_reason
FROM issued_cards c
LEFT JOIN feedback f ON f.id = (
    SELECT MAX(x.id) FROM feedback x WHERE x.card_uuid = c.card_uuid)
WHERE c.patient_key = $1
ORDER BY c.issued_at DESC, c.card_uuid
LIMIT $2";
