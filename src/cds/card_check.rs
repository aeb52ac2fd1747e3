//! Conformance checks for outgoing cards: [`check_card`] lists every violated CDS Hooks 2.0 rule or
//! invariant (`cds-resp-1`..`6`, summary length, conditional members) plus this service's own
//! contract (uuids for feedback, http(s)-only URLs). The tests run it on every card of every rule
//! fixture and assert it is empty; the service does not run it per call. This module must not import actix-web, `SQLx` or reqwest.

use super::response::{Action, ActionType, Card, Coding, LinkType, SelectionBehavior};

/// Lists every 2.0 rule or invariant `card` violates, each message prefixed with the member's
/// path inside the card (`suggestions[0].actions[1].resourceId: …`); empty when conformant.
///
/// Beyond the spec's own rules this enforces the service's feedback contract (card and
/// suggestion `uuid` present, bare UUIDs) and restricts URLs to `http`/`https` so that a rule
/// file can never smuggle a `javascript:` link onto a clinician's screen.
pub fn check_card(card: &Card) -> Vec<String> {
    let mut out = Vec::new();
    let mut bad = |path: &str, msg: &str| out.push(format!("{path}: {msg}"));

    let chars = card.summary.chars().count();
    if card.summary.trim().is_empty() || chars >= 140 {
        bad(
            "summary",
            &format!("must have 1 to 139 characters (has {chars})"),
        );
    }
    match &card.uuid {
        None => bad("uuid", "is required for feedback"),
        Some(u) if !is_bare_uuid(u) => bad("uuid", "must be a bare UUID"),
        Some(_) => {}
    }
    if card.detail.as_deref().is_some_and(|d| d.trim().is_empty()) {
        bad("detail", "must be omitted rather than empty");
    }
    if card.source.label.trim().is_empty() {
        bad("source.label", "must not be empty");
    }
    for (name, url) in [
        ("source.url", &card.source.url),
        ("source.icon", &card.source.icon),
    ] {
        if url.as_deref().is_some_and(|u| !is_absolute_http(u)) {
            bad(name, "must be an absolute http(s) URL");
        }
    }
    if let Some(topic) = &card.source.topic {
        check_coding(topic, "source.topic", false, &mut bad);
    }
    match (card.suggestions.is_empty(), card.selection_behavior) {
        (false, None) => bad(
            "selectionBehavior",
            "is required when suggestions are present",
        ),
        (true, Some(_)) => bad("selectionBehavior", "must be omitted without suggestions"),
        _ => {}
    }
    let recommended = card
        .suggestions
        .iter()
        .filter(|s| s.is_recommended == Some(true))
        .count();
    if card.selection_behavior == Some(SelectionBehavior::AtMostOne) && recommended > 1 {
        bad(
            "suggestions",
            "at most one may be isRecommended with at-most-one",
        );
    }
    for (i, s) in card.suggestions.iter().enumerate() {
        let path = format!("suggestions[{i}]");
        if s.label.trim().is_empty() {
            bad(&format!("{path}.label"), "must not be empty");
        }
        match &s.uuid {
            None => bad(&format!("{path}.uuid"), "is required for feedback"),
            Some(u) if !is_bare_uuid(u) => bad(&format!("{path}.uuid"), "must be a bare UUID"),
            Some(u)
                if card.suggestions[..i]
                    .iter()
                    .any(|o| o.uuid.as_ref() == Some(u)) =>
            {
                bad(
                    &format!("{path}.uuid"),
                    "duplicates an earlier suggestion's uuid",
                )
            }
            Some(_) => {}
        }
        for (j, action) in s.actions.iter().enumerate() {
            for problem in check_action(action) {
                bad(&format!("{path}.actions[{j}].{}", problem.0), problem.1);
            }
        }
    }
    for (i, coding) in card.override_reasons.iter().enumerate() {
        check_coding(coding, &format!("overrideReasons[{i}]"), true, &mut bad);
    }
    for (i, link) in card.links.iter().enumerate() {
        let path = format!("links[{i}]");
        if link.label.trim().is_empty() {
            bad(&format!("{path}.label"), "must not be empty");
        }
        if !is_absolute_http(&link.url) {
            bad(&format!("{path}.url"), "must be an absolute http(s) URL");
        }
        if link.r#type == LinkType::Absolute && link.app_context.is_some() {
            bad(
                &format!("{path}.appContext"),
                "is only valid on smart links",
            );
        }
    }
    out
}

/// Lists the violations of one action as (member, message) pairs (`cds-resp-2`, `cds-resp-5`).
pub fn check_action(action: &Action) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    if action.description.trim().is_empty() {
        out.push(("description", "must not be empty"));
    }
    match action.r#type {
        ActionType::Delete if action.resource_id.is_none() => {
            out.push(("resourceId", "is required for delete"))
        }
        ActionType::Create | ActionType::Update if action.resource.is_none() => {
            out.push(("resource", "is required for create and update"))
        }
        _ => {}
    }
    if action.r#type == ActionType::Delete && action.resource.is_some() {
        out.push(("resource", "must be omitted for delete (use resourceId)"));
    }
    out
}

fn check_coding(
    coding: &Coding,
    path: &str,
    display_required: bool,
    bad: &mut impl FnMut(&str, &str),
) {
    if coding.code.trim().is_empty() {
        bad(&format!("{path}.code"), "must not be empty");
    }
    if coding.system.trim().is_empty() {
        bad(&format!("{path}.system"), "must not be empty");
    }
    match coding.display.as_deref() {
        None if display_required => {
            bad(&format!("{path}.display"), "is required in overrideReasons")
        }
        Some(d) if d.trim().is_empty() => bad(&format!("{path}.display"), "must not be empty"),
        _ => {}
    }
}

/// The hyphenated 36-character form only: `uuid` also parses `urn:uuid:…`, braces and simple.
fn is_bare_uuid(u: &str) -> bool {
    u.len() == 36 && uuid::Uuid::try_parse(u).is_ok()
}

fn is_absolute_http(url: &str) -> bool {
    super::request::check_absolute_http_url(url).is_ok()
}

#[cfg(test)]
#[path = "card_check_tests.rs"]
mod tests;
