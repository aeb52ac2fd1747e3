//! Issue #20 items 2 and 3: each card links to its patient's monitoring timeline, and the
//! timeline page draws the record a patient-view call reads.

mod card_link;
pub(crate) mod page;
