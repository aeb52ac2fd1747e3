//! The integration test binary: the real service over HTTP.
#![allow(
    clippy::type_complexity,
    reason = "tables of cases are typed where their rows are"
)]
mod admin;
mod admin_behind;
mod auth;
mod bulk_export;
mod call;
mod card_snapshots;
mod cds_hooks_3;
mod discovery;
mod error_outcomes;
mod fault_proxy;
mod feedback;
mod fhir_faults;
mod fhir_stub;
mod fhir_tls;
mod fixtures;
mod helpers;
mod hostile;
mod issued_queue;
mod listen_reconnect;
mod logs;
mod malformed;
mod metrics;
mod new_source;
mod pack_mutations;
mod pack_schema;
mod population;
mod population_bulk;
mod population_cli;
mod prefetch;
mod process;
mod replicas;
mod rules_check;
mod shared_parameters;
mod signer;
mod snooze;
mod store_contract;
mod store_down;
mod store_outage;
mod summaries;
mod timeline;
mod ui;
mod worklist;
mod worklist_actions;
mod worklist_bulk;
mod worklist_filters;
