//! Acting on findings from the worklist page in headless Chromium: a snooze removes the row
//! and is audited, an acknowledgement shows on the row, a form without a reason is refused.

use fantoccini::Locator;
use serde_json::Value;

use super::browser::Browser;
use super::seed::{patient, seed};
use super::worklist_page::{audit_entries, row_patients, run_at};
use crate::helpers::{admin_token, spawn_app};

/// The row of `patient` (`Patient/…`), when the page lists it.
async fn row_of(b: &Browser, patient: &str) -> Option<fantoccini::elements::Element> {
    let xpath = format!("//table[@id='findings']/tbody/tr[td/span[text()='{patient}']]");
    b.client.find(Locator::XPath(&xpath)).await.ok()
}

/// Opens the action `label` of `patient`'s row, types `reason` and sends it.
async fn act(b: &Browser, patient: &str, label: &str, reason: &str) {
    let row = row_of(b, patient).await.expect("the patient's row");
    let details = row
        .find(Locator::XPath(&format!(
            ".//details[summary[text()='{label}']]"
        )))
        .await
        .unwrap();
    details
        .find(Locator::Css("summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let reason_box = details
        .find(Locator::Css("input[name=reason]"))
        .await
        .unwrap();
    reason_box.send_keys(reason).await.unwrap();
    b.mark_page().await;
    details
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_new_page().await;
}

#[tokio::test]
async fn a_snooze_removes_the_row_is_audited_and_an_acknowledgement_shows_on_the_row() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.set_now(run_at());
    seed(&app, 3, run_at(), |_| vec![0]).await;
    b.sign_in(
        &app.address,
        &["worklist:read", "worklist:write"],
        "/ui/worklist",
    )
    .await;
    let (snoozed, acknowledged) = (patient(1), patient(2));
    assert!(row_of(&b, &snoozed).await.is_some());

    act(
        &b,
        &snoozed,
        "Snooze",
        "seen in clinic last week, CBC ordered",
    )
    .await;
    assert_eq!(b.client.current_url().await.unwrap().path(), "/ui/worklist");
    assert!(
        row_of(&b, &snoozed).await.is_none(),
        "a snoozed finding leaves the list"
    );
    assert_eq!(row_patients(&b).await.len(), 2);

    act(&b, &acknowledged, "Acknowledge", "pharmacist reviewing").await;
    let row = row_of(&b, &acknowledged).await.expect("still listed");
    let text = row.text().await.unwrap();
    assert!(
        text.contains("acknowledge by developer on 2026-06-15: pharmacist reviewing"),
        "{text}"
    );

    // Shown again on request, with who snoozed it, until when and why.
    b.open(&format!("{}/ui/worklist?includeSnoozed=true", app.address))
        .await;
    let text = row_of(&b, &snoozed).await.unwrap().text().await.unwrap();
    assert!(
        text.contains("snooze by developer on 2026-06-15 until 2026-07-16: seen in clinic last week, CBC ordered"),
        "{text}"
    );
    b.assert_accessible("worklist with actions").await;

    // Audited: who, which patient, what and why.
    let actions: Vec<Value> = audit_entries(&app, "developer")
        .await
        .into_iter()
        .filter(|e| e["action"] == "worklist.finding.action")
        .collect();
    assert_eq!(actions.len(), 2, "{actions:?}");
    let snooze = actions
        .iter()
        .find(|e| e["after"]["action"] == "snooze")
        .unwrap();
    assert_eq!(snooze["after"]["patient"], snoozed.as_str());
    assert_eq!(
        snooze["after"]["reason"],
        "seen in clinic last week, CBC ordered"
    );

    // A reason is required: the form's own check, and the server's if it is bypassed.
    let resp = app
        .client
        .post(format!("{}/ui/worklist/findings/1/actions", app.address))
        .header("Origin", &app.address)
        .bearer_auth(admin_token(
            app.data_dir.path(),
            "x",
            &["worklist:write"],
            60,
        ))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("action=snooze&days=30&reason=")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("reason: a reason is required"));
    b.close().await;
}
