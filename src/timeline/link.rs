//! The link each card carries to its patient's timeline, so that a
//! clinician who sees a card reaches the whole history in one click.

use url::Url;

use crate::cds::response::{Card, Link, LinkType};

/// The label the EHR shows.
pub const LABEL: &str = "Monitoring timeline";

/// `{base}/ui/patients/{id}`, the id percent-encoded as one path segment; `None` when `base`
/// cannot carry a path (it is checked at start).
pub fn timeline_url(base: &Url, patient_id: &str) -> Option<Url> {
    let mut url = base.clone();
    url.path_segments_mut()
        .ok()?
        .pop_if_empty()
        .extend(["ui", "patients", patient_id]);
    Some(url)
}

/// Adds the timeline link of `patient_id` to every card.
pub fn card_link(cards: &mut [Card], base: &Url, patient_id: &str) {
    let Some(url) = timeline_url(base, patient_id) else {
        return;
    };
    for card in cards {
        card.links.push(Link {
            label: LABEL.to_owned(),
            url: url.to_string(),
            r#type: LinkType::Absolute,
            app_context: None,
            autolaunchable: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_patient_id_is_one_path_segment_under_the_public_base() {
        let base = Url::parse("https://cds.example.org/sentinel/").unwrap();
        assert_eq!(
            timeline_url(&base, "abc-1.2").unwrap().as_str(),
            "https://cds.example.org/sentinel/ui/patients/abc-1.2"
        );
        let bare = Url::parse("https://cds.example.org").unwrap();
        assert_eq!(
            timeline_url(&bare, "a/b?c").unwrap().as_str(),
            "https://cds.example.org/ui/patients/a%2Fb%3Fc"
        );
    }
}
