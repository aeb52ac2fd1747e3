//! Table-driven tests of the engine's operators, one test function per operator, on small
//! packs and records built in Rust (`engine::test_support`). Each row names the behaviour a
//! clinician or a rule author would notice; the case name is in every assertion message.

#![allow(
    clippy::type_complexity,
    reason = "each table's row type is written where its rows are"
)]

mod bindings;
mod cohort;
mod comparisons;
mod counts;
mod day;
mod due;
mod logic;
mod params;
mod placeholders;
mod rule_refs;
mod statuses;
mod units;
mod validation;
mod valuesets;
mod windows;
