//! A worklist put straight into the application's store (a run started, its findings staged,
//! the run ended), so that page tests do not wait for a population run over an export; the
//! run itself is tested in `population.rs` and `worklist.rs`.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use cart_sentinel::storage::{
    CardIndicator, Facets, NewPopulationFinding, NewPopulationRun, PopulationCounts,
    PopulationRunEnd, Prevention,
};

use crate::helpers::TestApp;

/// The rules the seeded findings come from, with their indicator and summary (`{day}`: the
/// recipient's day since infusion).
pub const RULES: [(&str, CardIndicator, &str); 3] = [
    (
        "cbc-surveillance-overdue",
        CardIndicator::Warning,
        "CBC overdue on day {day} after axi-cel: last CBC none on record, due every 28 days",
    ),
    (
        "annual-survivorship-screening",
        CardIndicator::Info,
        "Annual survivorship review due (day {day} after axi-cel): skin exam and cancer screening",
    ),
    (
        "pjp-prophylaxis-missing",
        CardIndicator::Critical,
        "No PJP prophylaxis on day {day} after axi-cel",
    ),
];

/// The shipped rule's title, as a run stores it with the finding.
fn title_of(rule: &str) -> &'static str {
    match rule {
        "cbc-surveillance-overdue" => "CBC surveillance overdue after CAR-T",
        "annual-survivorship-screening" => "Annual survivorship review and cancer screening",
        _ => "Pneumocystis (PJP) prophylaxis missing",
    }
}

/// Recipient `i`'s reference.
pub fn patient(i: usize) -> String {
    format!("Patient/r{i:05}")
}

/// One successful run at `run_at` finding, for each of `recipients` patients, the rules of
/// [`RULES`] whose index `rules_of(i)` gives; returns the run id.
pub async fn seed(
    app: &TestApp,
    recipients: usize,
    run_at: DateTime<Utc>,
    rules_of: impl Fn(usize) -> Vec<usize>,
) -> i64 {
    let store = cart_sentinel::storage::connect(&app.database_url(), 1)
        .await
        .expect("the application's store");
    let run = store
        .start_population_run(&NewPopulationRun {
            pack_version: 1,
            run_at,
            started_at: run_at,
            abandon_silent_since: None,
        })
        .await
        .expect("run starts");
    let mut findings = Vec::new();
    for i in 0..recipients {
        let day = 30 + i % 400;
        for r in rules_of(i) {
            let (rule, indicator, summary) = RULES[r];
            findings.push(NewPopulationFinding {
                patient: patient(i),
                display_name: Some(format!("Recipient {i:05}")),
                rule_id: rule.to_owned(),
                indicator,
                summary: summary.replace("{day}", &day.to_string()),
                facets: Facets {
                    product: Some("axi-cel".to_owned()),
                    prevention: Some(Prevention::Secondary),
                    due_on: Some(run_at.date_naive() - Duration::days(i64::try_from(i % 90).unwrap())),
                    day0: Some(run_at.date_naive() - Duration::days(i64::try_from(day).unwrap())),
                },
                fired_with: json!({"title": title_of(rule), "detail": format!("Day **{}** after CAR-T therapy; last result none on record.", day),
                    "source": {"label": "catalogue", "url": "https://example.org"}}),
            });
        }
    }
    for chunk in findings.chunks(500) {
        store
            .stage_population_findings(run, chunk)
            .await
            .expect("findings staged");
    }
    let counts = PopulationCounts {
        patients_read: i64::try_from(recipients).unwrap(),
        cohort_size: i64::try_from(recipients).unwrap(),
        resources_read: 0,
        resources_skipped: 0,
        findings: i64::try_from(findings.len()).unwrap(),
        detail: json!({}),
    };
    store
        .finish_population_run(
            run,
            &PopulationRunEnd::Succeeded(counts),
            run_at + Duration::minutes(1),
            None,
        )
        .await
        .expect("run ends");
    run
}

/// Cards of `rule` issued at `at`, `accepted` of them accepted and `overridden` overridden with
/// the reason `reason`; the rest get no feedback.
pub async fn seed_cards(
    app: &TestApp,
    (rule, at): (&str, DateTime<Utc>),
    issued: usize,
    (accepted, overridden): (usize, usize),
    reason: &str,
) {
    use cart_sentinel::storage::{FeedbackOutcome, IssuedCard, NewFeedback, ReasonCoding};
    let store = cart_sentinel::storage::connect(&app.database_url(), 1)
        .await
        .expect("the application's store");
    let uuids: Vec<String> = (0..issued)
        .map(|i| format!("{rule}-{}-{i}", at.timestamp()))
        .collect();
    let cards: Vec<IssuedCard> = uuids
        .iter()
        .map(|u| IssuedCard {
            card_uuid: u.clone(),
            rule_id: rule.to_owned(),
            service_id: "cart-monitoring".to_owned(),
            hook: "patient-view".to_owned(),
            indicator: CardIndicator::Warning,
            pack_version: 1,
            issued_at: at,
            patient_key: None,
        })
        .collect();
    store.record_issued_cards(&cards).await.expect("cards");
    let feedback: Vec<NewFeedback> = uuids
        .iter()
        .take(accepted + overridden)
        .enumerate()
        .map(|(i, u)| {
            let over = i >= accepted;
            NewFeedback {
                service_id: "cart-monitoring".to_owned(),
                card_uuid: u.clone(),
                outcome: if over {
                    FeedbackOutcome::Overridden
                } else {
                    FeedbackOutcome::Accepted
                },
                outcome_timestamp: at + Duration::hours(1),
                accepted_suggestions: Vec::new(),
                override_reason: over.then(|| ReasonCoding {
                    system: None,
                    code: reason.to_owned(),
                    display: Some(reason.to_owned()),
                }),
                override_comment: None,
            }
        })
        .collect();
    store.record_feedback(&feedback).await.expect("feedback");
}
