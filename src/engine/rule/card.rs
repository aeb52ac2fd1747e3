//! The card a rule shows: summary and detail templates, variants, suggestions, links and the
//! evidence it cites.

use serde::{Deserialize, Serialize};

use super::Cond;

/// The card a rule shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardTemplate {
    /// `info`, `warning` or `critical`.
    pub indicator: String,
    /// One sentence, under 140 characters once placeholders are filled.
    pub summary: String,
    /// GitHub-flavoured markdown with placeholders.
    pub detail: String,
    /// The first variant whose condition holds replaces indicator, summary and/or detail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<CardVariant>,
    /// `any` (default) or `at-most-one`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection_behavior: Option<String>,
    /// Suggestions (each shown when its condition holds, or always).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suggestions: Vec<SuggestionTemplate>,
    /// Links.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<LinkTemplate>,
    /// Override reasons offered to the clinician.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub override_reasons: Vec<CodingTemplate>,
    /// Which override reasons mean "already handled", and for how many days they keep the
    /// rule quiet for that patient (none: no reason snoozes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snooze: Option<SnoozeSetting>,
}

/// `snooze: {days: N, reasons: [code, ...]}`: a card overridden with one of these reasons
/// (codes of `override_reasons`) keeps the rule quiet for the patient through day N after the
/// override, as does a worklist snooze for its own number of days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnoozeSetting {
    /// Calendar days the rule stays quiet after the day of the override.
    pub days: u32,
    /// Codes of the card's override reasons that snooze.
    pub reasons: Vec<String>,
}

/// A conditional replacement of parts of the card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardVariant {
    /// When this variant applies.
    pub when: Cond,
    /// Replacement indicator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indicator: Option<String>,
    /// Replacement summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Replacement detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A suggestion template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuggestionTemplate {
    /// Label shown to the clinician.
    pub label: String,
    /// Only offered when this holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Cond>,
    /// `isRecommended`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommended: Option<bool>,
    /// Actions (AND-ed).
    pub actions: Vec<ActionTemplate>,
}

/// An action template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionTemplate {
    /// `create`, `update` or `delete`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Description.
    pub description: String,
    /// FHIR R4 resource template (create/update); string values may hold placeholders; a
    /// string that is exactly one structured placeholder (e.g. `{{malignancy.code}}`) is
    /// replaced by that JSON value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<serde_yaml::Value>,
    /// `Type/id` of the resource to delete, usually `{{order.ref}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
}

/// A link template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkTemplate {
    /// Label.
    pub label: String,
    /// Absolute URL.
    pub url: String,
    /// `absolute` or `smart`.
    #[serde(rename = "type", default = "absolute")]
    pub kind: String,
}

fn absolute() -> String {
    "absolute".to_owned()
}

/// A coding (override reasons).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodingTemplate {
    /// Code system.
    pub system: String,
    /// Code.
    pub code: String,
    /// Display (required for override reasons).
    pub display: String,
}

/// A citation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// Short label used as the card's `source.label` (first evidence only).
    pub label: String,
    /// Full citation.
    pub citation: String,
    /// URL (the first one is the card's `source.url`).
    pub url: String,
    /// `V` verified in source, `V2` secondary source, `M` from memory (unverified).
    pub status: String,
}
