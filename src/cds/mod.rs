//! The CDS Hooks 2.0 protocol vocabulary: discovery descriptors, hook requests and their contexts,
//! cards and responses, feedback, prefetch templates and `OperationOutcome` error bodies.
//! Everything here is serde types plus hand-written validation that names the offending field; the
//! only I/O is [`load_services`] reading the descriptor directory. This layer must not import
//! actix-web, `SQLx` or reqwest (house style rule 5).

pub mod card_check;
pub mod discovery;
pub mod error;
pub mod feedback;
pub mod hook_limits;
pub mod limits;
pub mod outcome;
pub mod prefetch;
pub mod request;
pub mod response;

pub use card_check::{check_action, check_card};
pub use discovery::{load_services, DiscoveryResponse, ServiceDescriptor};
pub use error::RequestError;
pub use feedback::{parse_feedback, FeedbackItem, FeedbackRequest, Outcome, OverrideReason};
pub use outcome::operation_outcome;
pub use prefetch::{render, template_tokens, unsatisfied_keys, Token, UserIds};
pub use request::{parse_hook_request, FhirAuthorization, HookContext, HookRequest, KNOWN_HOOKS};
pub use response::{
    Action, ActionType, Card, CdsResponse, Coding, Indicator, Link, LinkType, SelectionBehavior,
    Source, Suggestion,
};
