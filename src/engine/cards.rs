//! Findings become CDS Hooks cards here, and only here. Uuids come from the caller's
//! generator so that the engine stays deterministic under test.

use super::Finding;
use crate::cds::response::{
    Action, ActionType, Card, Coding, Indicator, Link, LinkType, SelectionBehavior, Source,
    Suggestion,
};

/// Code system of `card.source.topic`: the code is the rule id.
pub const RULE_SYSTEM: &str = "urn:cart-sentinel:rule";

fn indicator(s: &str) -> Indicator {
    match s {
        "critical" => Indicator::Critical,
        "warning" => Indicator::Warning,
        _ => Indicator::Info,
    }
}

/// Converts findings (already ordered by the engine) into cards.
pub fn to_cards(findings: Vec<Finding>, uuid: &mut dyn FnMut() -> String) -> Vec<Card> {
    findings
        .into_iter()
        .map(|f| {
            let suggestions: Vec<Suggestion> = f
                .suggestions
                .into_iter()
                .map(|s| Suggestion {
                    label: s.label,
                    uuid: Some(uuid()),
                    is_recommended: s.recommended,
                    actions: s
                        .actions
                        .into_iter()
                        .map(|a| Action {
                            r#type: match a.kind.as_str() {
                                "delete" => ActionType::Delete,
                                "update" => ActionType::Update,
                                _ => ActionType::Create,
                            },
                            description: a.description,
                            resource: a.resource,
                            resource_id: a.resource_id,
                        })
                        .collect(),
                })
                .collect();
            let selection_behavior = (!suggestions.is_empty()).then(|| {
                if f.selection_behavior == "at-most-one" {
                    SelectionBehavior::AtMostOne
                } else {
                    SelectionBehavior::Any
                }
            });
            Card {
                uuid: Some(uuid()),
                summary: f.summary,
                detail: Some(f.detail),
                indicator: indicator(&f.indicator),
                source: Source {
                    label: f.source_label,
                    url: (!f.source_url.is_empty()).then_some(f.source_url),
                    icon: None,
                    topic: Some(Coding {
                        code: f.rule_id,
                        system: RULE_SYSTEM.to_owned(),
                        display: Some(f.title),
                    }),
                },
                suggestions,
                selection_behavior,
                override_reasons: f
                    .override_reasons
                    .into_iter()
                    .map(|(system, code, display)| Coding {
                        code,
                        system,
                        display: Some(display),
                    })
                    .collect(),
                links: f
                    .links
                    .into_iter()
                    .map(|(label, url, kind)| Link {
                        label,
                        url,
                        r#type: if kind == "smart" {
                            LinkType::Smart
                        } else {
                            LinkType::Absolute
                        },
                        app_context: None,
                        autolaunchable: None,
                    })
                    .collect(),
            }
        })
        .collect()
}
