//! The CDS Hooks 2.0 service response: `CdsResponse`, `Card`, `Suggestion`, `Action`, `Link`,
//! `Source` and `Coding` (spec §CDS Service Response); `card_check::check_card` lists every
//! violated 2.0 rule or invariant of a card before it is sent. Optional members are omitted when
//! empty, never `null` or `[]`; only `cards` is always present. Wire types only: this module must
//! not import actix-web, `SQLx` or reqwest.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The response body of a hook call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CdsResponse {
    /// The cards to show; `[]` means "no guidance" and is always serialised.
    #[serde(default)]
    pub cards: Vec<Card>,
    /// Actions the client should apply without user interaction; omitted when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub system_actions: Vec<Action>,
}

/// One card of guidance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Card {
    /// Bare UUID echoed by feedback; without it the client sends no feedback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// One sentence, at most 139 characters.
    pub summary: String,
    /// GitHub-Flavored Markdown detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Urgency of the card.
    pub indicator: Indicator,
    /// Where the guidance comes from.
    pub source: Source,
    /// Proposed actions the user may accept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suggestions: Vec<Suggestion>,
    /// How many suggestions may be chosen; required exactly when `suggestions` is non-empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection_behavior: Option<SelectionBehavior>,
    /// Reasons the user may pick when overriding the card; each needs a `display`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub override_reasons: Vec<Coding>,
    /// Links to references or SMART apps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
}

/// Card urgency, ordered so that `Critical > Warning > Info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Indicator {
    /// Informational.
    Info,
    /// The user should take note.
    Warning,
    /// Urgent; the user must act or override.
    Critical,
}

/// The source of a card's guidance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    /// Short, human-readable source name (the citation).
    pub label: String,
    /// Absolute URL where the user can learn more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Absolute URL of a 100×100 PNG icon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// Topic of the card; this service puts the rule id in `topic.code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<Coding>,
}

/// A suggestion: a labelled set of actions applied together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Suggestion {
    /// Human-readable label.
    pub label: String,
    /// UUID echoed in feedback `acceptedSuggestions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Marks the preferred suggestion(s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_recommended: Option<bool>,
    /// Actions, AND-ed together.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Action>,
}

/// How many suggestions of a card the user may accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SelectionBehavior {
    /// `at-most-one`.
    AtMostOne,
    /// `any`.
    Any,
}

/// A change to the client's FHIR data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    /// `create`, `update` or `delete` (wire name `type`).
    pub r#type: ActionType,
    /// Human-readable description of the change.
    pub description: String,
    /// The resource to create, or the whole resource after update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<Value>,
    /// Relative reference (`Type/id`) of the resource to delete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
}

/// Kind of an [`Action`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionType {
    /// Create `resource`.
    Create,
    /// Replace with `resource`.
    Update,
    /// Delete `resourceId`.
    Delete,
}

/// A link shown on a card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    /// Human-readable label.
    pub label: String,
    /// Absolute URL (for `smart`, the app's launch URL).
    pub url: String,
    /// `absolute` or `smart` (wire name `type`).
    pub r#type: LinkType,
    /// Opaque context passed to a SMART app; not valid on `absolute` links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_context: Option<String>,
    /// Hint that the client may launch the app without showing the card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autolaunchable: Option<bool>,
}

/// Kind of a [`Link`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkType {
    /// A plain web page.
    Absolute,
    /// A SMART app launch.
    Smart,
}

/// A code from a code system (the CDS Hooks Coding, a subset of FHIR's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Coding {
    /// The code.
    pub code: String,
    /// The code system URI.
    pub system: String,
    /// Human-readable text; required in `overrideReasons`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

#[cfg(test)]
#[path = "response_tests.rs"]
pub(crate) mod tests;
