//! Each card links to its patient's monitoring timeline; the timeline page draws the record a
//! patient-view call reads, and lists the cards returned for the patient with their feedback.

mod card_link;
pub(crate) mod page;
mod past_cards;
