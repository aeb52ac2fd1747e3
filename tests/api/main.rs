//! The integration test binary: the real service over HTTP.
mod admin;
mod auth;
mod call;
mod discovery;
mod feedback;
mod fixtures;
mod helpers;
mod hostile;
mod logs;
mod malformed;
mod metrics;
mod prefetch;
mod replicas;
mod rules_check;
mod signer;
mod store_contract;
mod summaries;
