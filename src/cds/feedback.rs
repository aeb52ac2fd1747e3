//! The CDS Hooks 2.0 feedback body (`POST {base}/cds-services/{id}/feedback`, spec §Feedback) and
//! [`parse_feedback`], which validates it by hand with paths such as `feedback[2].outcomeTimestamp`
//! (invariants `cds-fb-1`..`3`). Feedback may repeat and may batch several hook instances, so
//! storage must be idempotent; this module only parses. Wire types only: this module must not
//! import actix-web, `SQLx` or reqwest.

use super::error::{parse_body, Obj, RequestError};
use super::response::Coding;
use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

/// A validated feedback body: one or more feedback items.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedbackRequest {
    /// The items, in the order received; never empty.
    pub feedback: Vec<FeedbackItem>,
}

/// What the user did with one card.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackItem {
    /// The `uuid` of the card.
    pub card: String,
    /// Accepted or overridden.
    pub outcome: Outcome,
    /// The `uuid`s of the accepted suggestions (serialised as `[{"id": …}]`); non-empty
    /// exactly when `outcome` is `accepted`.
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "ids_as_objects"
    )]
    pub accepted_suggestions: Vec<String>,
    /// Why the card was overridden, when the user said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<OverrideReason>,
    /// When the user acted, normalised to UTC.
    pub outcome_timestamp: DateTime<Utc>,
}

/// The user's response to a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// One or more suggestions were accepted.
    Accepted,
    /// The card was overridden (dismissed with or without a reason).
    Overridden,
}

impl Outcome {
    /// The wire name, `accepted` or `overridden`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Overridden => "overridden",
        }
    }
}

/// The reason given for an override: a coded reason, a comment, or both.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OverrideReason {
    /// One of the card's `overrideReasons`, when the user picked one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Coding>,
    /// Free text from the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_comment: Option<String>,
}

fn ids_as_objects<S: Serializer>(ids: &[String], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(ids.iter().map(|id| serde_json::json!({ "id": id })))
}

/// Parses and validates a feedback body; the first violation found is returned, naming the
/// offending element (`feedback[0].acceptedSuggestions[1].id`).
pub fn parse_feedback(body: &[u8]) -> Result<FeedbackRequest, RequestError> {
    let value = parse_body(body)?;
    let root = Obj::of(&value, "")?;
    let items = root.req_array("feedback")?;
    let feedback = items
        .iter()
        .enumerate()
        .map(|(i, item)| parse_item(&Obj::of(item, format!("feedback[{i}]"))?))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(FeedbackRequest { feedback })
}

fn parse_item(item: &Obj<'_>) -> Result<FeedbackItem, RequestError> {
    let card = item.req_str("card")?.to_owned();
    let outcome = match item.req_str("outcome")? {
        "accepted" => Outcome::Accepted,
        "overridden" => Outcome::Overridden,
        _ => {
            return Err(RequestError::new(
                item.at("outcome"),
                "must be \"accepted\" or \"overridden\"",
            ))
        }
    };

    let accepted_suggestions = match (outcome, item.get("acceptedSuggestions")) {
        (Outcome::Accepted, _) => item
            .req_array("acceptedSuggestions")?
            .iter()
            .enumerate()
            .map(|(j, s)| {
                let path = format!("{}[{j}]", item.at("acceptedSuggestions"));
                Ok(Obj::of(s, path)?.req_str("id")?.to_owned())
            })
            .collect::<Result<Vec<_>, RequestError>>()?,
        (Outcome::Overridden, None) => Vec::new(),
        (Outcome::Overridden, Some(_)) => {
            let msg = "is only allowed when outcome is \"accepted\"";
            return Err(RequestError::new(item.at("acceptedSuggestions"), msg));
        }
    };

    let override_reason = item
        .opt_obj("overrideReason")?
        .map(|o| parse_override(&o))
        .transpose()?;
    if outcome == Outcome::Accepted && override_reason.is_some() {
        let msg = "is only allowed when outcome is \"overridden\"";
        return Err(RequestError::new(item.at("overrideReason"), msg));
    }

    let stamp = item.req_str("outcomeTimestamp")?;
    let outcome_timestamp = DateTime::parse_from_rfc3339(stamp)
        .map_err(|_| {
            let msg = "must be an RFC 3339 date-time with a time zone, e.g. 2021-12-11T10:05:31Z";
            RequestError::new(item.at("outcomeTimestamp"), msg)
        })?
        .with_timezone(&Utc);

    Ok(FeedbackItem {
        card,
        outcome,
        accepted_suggestions,
        override_reason,
        outcome_timestamp,
    })
}

fn parse_override(o: &Obj<'_>) -> Result<OverrideReason, RequestError> {
    let reason = match o.opt_obj("reason")? {
        Some(r) => Some(Coding {
            code: r.req_str("code")?.to_owned(),
            system: r.req_str("system")?.to_owned(),
            display: r.opt_str("display")?.map(str::to_owned),
        }),
        None => None,
    };
    let user_comment = o.opt_str("userComment")?.map(str::to_owned);
    if reason.is_none() && user_comment.is_none() {
        return Err(RequestError::new(
            o.path.clone(),
            "must have a reason or a userComment",
        ));
    }
    Ok(OverrideReason {
        reason,
        user_comment,
    })
}

#[cfg(test)]
#[path = "feedback_tests.rs"]
mod tests;
