//! cart-sentinel: a CDS Hooks 2.0 service that watches over patients who received CAR-T cell
//! therapy. Layers, outermost first: `api` (HTTP, actix only) → `cds` (wire types) →
//! `record` + `engine` (pure domain) ← `fhir` (outbound FHIR access) and `storage` (persistence).
//! `startup` is the only module that sees all of them.

pub mod admin;
pub mod api;
pub mod auth;
pub mod bulk;
pub mod cds;
pub mod cli;
pub mod config;
pub mod engine;
pub mod fhir;
pub mod hook;
pub mod issued;
pub mod metrics;
pub mod population;
pub mod privacy;
pub mod record;
pub mod startup;
pub mod storage;
pub mod telemetry;
pub mod timeline;
pub mod ui;
pub mod worklist;
